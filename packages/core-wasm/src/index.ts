export { UserError, ConfigError, ScheduleError, DeadlockError } from './errors.js';
export {
  problemSchema,
  resolveProblem,
  withProblem,
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
export type { ReplayOptions, ReplayResult, Timeline, TimelineOp, Transfer, MemoryViolation } from './result.js';
export { referenceReplay } from './reference.js';
export { Simulator, PreparedReplay, createSimulator } from './simulator.js';
export { loadCore, WasmCore, type CoreExports } from './wasm.js';
export { summarize, summarizeReplay, bubbleRates, quantile, type Summary, type ReplaySummary } from './stats.js';
