// WebAssembly entry: the TS loader (src/wasm.ts) owns the linear memory layout above `heapBase`.
export { replay, replayScratchBytes } from './replay';
export { noiseFactor, setNormalTable } from './noise';

export const heapBase: usize = __heap_base;
export { mlpParamCount, mlpScratchBytes, mlpForward, sampleMasked, argmaxMasked } from './mlp';
export {
  envObsDim, envNumActions, envBytes, envInit, envSetProblem, envSetReplay, envReset, envObserve, envStep,
  envRunEpisodes, envRunEpisodesMlp, envRelocate, envRollout, envRolloutScratchBytes, envSampleUniform, envLogRead, envState, envError, envProblemDump,
} from './env';
export { mlpForwardBatch, mlpBatchScratchBytes } from './mlp';
export { mlpParamCountShared, mlpForwardShared, mlpForwardBatchShared } from './mlp';
