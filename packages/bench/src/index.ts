export { runReplayBench, type ReplayBenchOptions, type ReplayBenchResult } from './suites/replay.js';
export { machineInfo, type MachineInfo } from './machine.js';
export { rateOf, timeRate, type Rate } from './measure.js';
export { runEnvBench, type EnvBenchOptions, type EnvBenchResult, type EnvBenchPoint } from './suites/env.js';
export { runQualityBench, qualityRows, loadUpstreamCases, QUALITY_SCHEDULES, type QualityBenchOptions, type QualityBenchResult, type QualityCaseResult, type QualityRow, type NoisyRow, type QualityScheduleId, type UpstreamCase } from './suites/quality.js';
export { runScaleBench, fitPowerLaw, scaleGrid, type ScaleBenchOptions, type ScaleBenchResult, type ScalePoint, type PowerLawFit } from './suites/scale.js';
