// The TensorFlow.js backends PPRL can train on, fastest first (the names tf.setBackend takes). A module of its own
// so that the public API's types do not pull in TensorFlow.js's.
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];
