export { runReplayBench, wasmReplayBatch, type ReplayBenchOptions, type ReplayBenchResult } from './suites/replay.js';
export { machineInfo, type MachineInfo } from './machine.js';
export { rateOf, timeRate, type Rate, type TimedBatch } from './measure.js';
export {
  runEnvBench,
  envRolloutBatch,
  envWorkload,
  ReferenceGreedyRollout,
  type EnvBenchOptions,
  type EnvBenchResult,
  type EnvBenchPoint,
  type EnvPolicyName,
} from './suites/env.js';
export {
  runQualityBench,
  runQualityJob,
  qualityRows,
  qualityNoisy,
  loadUpstreamCases,
  QUALITY_SCHEDULES,
  type QualityBenchOptions,
  type QualityBenchResult,
  type QualityCaseResult,
  type QualityRow,
  type NoisyRow,
  type QualityScheduleId,
  type UpstreamCase,
  type QualityJob,
  type QualityJobResult,
} from './suites/quality.js';
export {
  runScaleBench,
  fitPowerLaw,
  scaleGrid,
  type ScaleBenchOptions,
  type ScaleBenchResult,
  type ScalePoint,
  type PowerLawFit,
} from './suites/scale.js';
export {
  WorkerPool,
  measureThreadScaling,
  scalingPoints,
  checkThreads,
  MAX_THREADS,
  type ThreadPoint,
  type ThreadTiming,
  type ThroughputWorkload,
} from './threads.js';
export {
  renderBenchmarks,
  readBenchResults,
  suiteCommand,
  sig,
  para,
  BENCH_SUITES,
  type BenchResults,
  type BenchSuiteName,
  type ReportOptions,
} from './report.js';
export { runTrainBench, type TrainBenchOptions, type TrainBenchResult, type TrainBenchPoint } from './suites/train.js';
