// Which unit a command's times and memory are in, and how people see them. A problem built from a measured profile
// (--profile, or a training config's problem.profile) is in microseconds and bytes; any other problem is in the
// abstract time and memory units of its costs. JSON output keeps the raw values and says the unit (`timeUnit`).
import type { TrainConfig } from '@pprl/rl';
import { displayScales, type ReportUnits } from './report/html.js';

export type { ReportUnits };

/** The units of a problem given by command-line options. */
export function unitsOfOptions(opts: { profile?: string | undefined }): ReportUnits {
  return opts.profile ? { time: 'us', memory: 'bytes' } : { time: null, memory: null };
}

/** The units of a training config's problem (a profile problem is measured; ranges and plain problems are not). */
export function unitsOfConfig(config: TrainConfig): ReportUnits {
  return config.problem && 'profile' in config.problem ? { time: 'us', memory: 'bytes' } : { time: null, memory: null };
}

/** The label of a time column or value: "ms" for measured problems (shown in milliseconds), else "time units". */
export function timeScale(units: ReportUnits): { label: string; factor: number } {
  return displayScales(units).time;
}

/** A time for people: the value in display units with its unit, e.g. "12.35 ms" or "57 time units". */
export function formatTime(raw: number, units: ReportUnits, fmt: (x: number) => string): string {
  const t = timeScale(units);
  return `${fmt(raw * t.factor)} ${t.label}`;
}
