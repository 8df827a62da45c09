import os from 'node:os';

export interface MachineInfo {
  cpu: string;
  cores: number;
  node: string;
  platform: string;
  /** 1, 5 and 15 minute load averages when the suite finished (other work on a shared machine shows here). */
  loadAverage?: number[];
  /** When the suite finished (ISO 8601). */
  date?: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    date: new Date().toISOString(),
  };
}
