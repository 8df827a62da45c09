// Test helpers shared by the MLP tests.
import { afterAll } from 'vitest';
import { WasmMlp, mlpLayers, mlpParamCount, type MlpLayout } from '../src/mlp.js';

/** WasmMlp.create, disposing every network after the calling test file. */
export function policyFactory(): (layout: MlpLayout, params?: Float32Array) => Promise<WasmMlp> {
  const created: WasmMlp[] = [];
  afterAll(() => created.forEach((m) => m.dispose()));
  return async (layout, params) => {
    const mlp = await WasmMlp.create(layout, params);
    created.push(mlp);
    return mlp;
  };
}

/**
 * Weights with standard deviation `scale / sqrt(fan in)` (pre-activations around `scale`: with scale 3 some tanh
 * inputs pass the +-8 clamp), biases uniform in +-0.5.
 */
export function randomParams(layout: MlpLayout, random: () => number, scale: number): Float32Array {
  const params = new Float32Array(mlpParamCount(layout.obsDim, layout.hidden, layout.actions, layout.shared));
  for (const l of mlpLayers(layout)) {
    const s = (scale * Math.sqrt(3)) / Math.sqrt(l.fanIn);
    for (let k = 0; k < l.fanIn * l.fanOut; k++) params[l.weightOffset + k] = (2 * random() - 1) * s;
    for (let k = 0; k < l.fanOut; k++) params[l.biasOffset + k] = (2 * random() - 1) * 0.5;
  }
  return params;
}
