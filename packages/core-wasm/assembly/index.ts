// WebAssembly entry: the TS loader (src/wasm.ts) owns the linear memory layout above `heapBase`.
export { replay, replayScratchBytes } from './replay';
export { noiseFactor, setNormalTable } from './noise';

export const heapBase: usize = __heap_base;
