// WebAssembly entry: the exports of the module, in the order of its export section. The TS loader (src/wasm.ts)
// owns the linear memory layout above `heapBase`; asc writes the exports' declarations to build/pprl.d.ts (bindings
// raw, asconfig.json), which is where src/ takes their types from. The numbers both sides share are the contract
// (contract/contract.mjs, generated into assembly/contract.ts and src/contract.ts).
export { replay, replayScratchBytes } from './replay';
export { noiseFactor, setNormalTable } from './noise';

export const heapBase: usize = __heap_base;
export { mlpParamCount, mlpScratchBytes, mlpForward, sampleMasked, argmaxMasked } from './mlp';
export {
  envObsDim, envNumActions, envBytes, envInit, envSetProblem, envSetReplay, envReset, envObserve, envStep,
  envRunEpisodes, envRunEpisodesMlp, envRelocate, envRollout, envRolloutScratchBytes, envSampleUniform, envLogRead,
  envState, envError, envProblemDump,
} from './env';
export { envRunEpisodeStats } from './env';
export { mlpForwardBatch, mlpBatchScratchBytes } from './mlp';
export { mlpParamCountShared, mlpForwardShared, mlpForwardBatchShared } from './mlp';
