export {
  UserError,
  ConfigError,
  ScheduleError,
  DeadlockError,
  quoteInput,
  escapeControl,
  QUOTE_LIMIT,
} from './errors.js';
export {
  problemSchema,
  MAX_TIME,
  MAX_MEMORY,
  resolveProblem,
  withProblem,
  withNoise,
  withLimit,
  withCommScale,
  splitIntoChunks,
  deviceOfStage,
  configErrorFrom,
  type ProblemConfig,
  type ParsedProblemConfig,
  type Problem,
  type Placement,
  type NoiseParams,
} from './problem.js';
export {
  problemFromProfile,
  problemConfigFromProfile,
  findProfile,
  H200_PROFILES_URL,
  profileEntrySchema,
  profileFileSchema,
  type ProfileEntry,
  type Link,
  type FromProfileOptions,
} from './profile.js';
export {
  formatAction,
  parseAction,
  compileSchedule,
  encodeOp,
  decodeOp,
  KIND_CODE,
  type Op,
  type OpKind,
  type Schedule,
  type CompiledSchedule,
} from './schedule.js';
export { noiseFactor, NOISE_F, NOISE_B, NOISE_W, NOISE_COMM_F, NOISE_COMM_B } from './noise.js';
/** The observation layout (README "Environment"): global features, then features per op class (src/contract.ts). */
export { OBS_GLOBAL, OBS_PER_CLASS } from './contract.js';
export type { ReplayOptions, ReplayResult, Timeline, TimelineOp, Transfer, MemoryViolation } from './result.js';
export { referenceReplay } from './reference.js';
export { Simulator, PreparedReplay, createSimulator } from './simulator.js';
export { loadCore, WasmCore, type CoreExports, type WasmExports } from './wasm.js';
export {
  summarize,
  summarizeReplay,
  bubbleRates,
  quantile,
  pairedDifference,
  meanWithCi95,
  type Summary,
  type ReplaySummary,
  type PairedDifference,
} from './stats.js';
export {
  runDynamic,
  DynamicExecutor,
  MEMORY_RULES,
  type DynamicPolicy,
  type DynamicView,
  type DynamicOptions,
  type DynamicResult,
  type MemoryRule,
} from './dynamic.js';
export {
  WasmEnv,
  RolloutBuffers,
  BUILTIN_POLICIES,
  FEATURE_GROUPS,
  featureOffBits,
  type WasmEnvOptions,
  type BuiltinPolicy,
  type SchedulePolicy,
  type FeatureGroup,
  type MlpPolicy,
  type MlpPolicyHandle,
  type EnvLog,
  type EpisodeStats,
  type EnvExports,
} from './env.js';
export {
  ReferenceEnv,
  EnvError,
  drawProblem,
  drawProblemConfig,
  checkRanges,
  problemRangesSchema,
  envRemainingPath,
  idealTime,
  envObsDim,
  envNumActions,
  scheduleClassLists,
  type ProblemRanges,
  type ReferenceEnvOptions,
  type EnvLogEntry,
} from './env-reference.js';
export {
  WasmMlp,
  mlpParamCount,
  mlpLayers,
  orthogonalInit,
  activationCode,
  type MlpLayout,
  type MlpLayer,
  type MlpExports,
  type MaskedSample,
} from './mlp.js';
