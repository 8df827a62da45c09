// @pprl/rl: PPO that learns to schedule pipeline-parallel training, on TensorFlow.js with rollouts inside the
// @pprl/core-wasm environment.
export { train, type TrainOptions, type TrainResult, type UpdateLog } from './ppo.js';
export {
  trainConfigSchema,
  parseTrainConfig,
  readTrainConfig,
  configProblem,
  configRanges,
  configProblemSet,
  teacherScheduleName,
  teacherLabel,
  modelProblem,
  updateCount,
  ppoUpdateCount,
  cloneUpdateCount,
  envOptionsOf,
  type TrainConfig,
  type TrainConfigInput,
} from './config.js';
export {
  evaluatePolicy,
  policyMakespans,
  baselineMakespans,
  loadPolicy,
  chunksOfLayout,
  policyEnvOptions,
  planName,
  EVAL_EPISODE_START,
  type PolicyLike,
  type Baseline,
  type EvaluateOptions,
  type EvaluationReport,
  type LoadedPolicy,
} from './evaluate.js';
export { policySchedules } from './trace.js';
export { drawProblemSet, problemSetSchema, type ProblemSetConfig, type DrawnProblem } from './problem-set.js';
export { BUNDLED_POLICIES, bundledPolicyDir, type BundledPolicy } from './bundled.js';
export {
  loadCheckpoint,
  saveCheckpoint,
  resolveCheckpointDir,
  CHECKPOINT_FORMAT,
  type Checkpoint,
  type CheckpointMeta,
} from './checkpoint.js';
export { BACKENDS, type BackendName } from './backends.js';
export {
  makeDirectory,
  missingDirectories,
  pathText,
  fileErrorText,
  isFileError,
  withFileErrors,
  writeFileAtomic,
  readRegularFile,
  readUserFile,
  type FileError,
  MAX_INPUT_MIB,
  MAX_INPUT_BYTES,
} from './files.js';
export { checkTrainable, checkProblemRunnable, trainConfigFields, type ProblemFields } from './feasibility.js';
