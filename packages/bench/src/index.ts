export { runReplayBench, type ReplayBenchOptions, type ReplayBenchResult } from './suites/replay.js';
export { machineInfo, type MachineInfo } from './machine.js';
export { rateOf, timeRate, type Rate } from './measure.js';
export { runEnvBench, type EnvBenchOptions, type EnvBenchResult, type EnvBenchPoint } from './suites/env.js';
