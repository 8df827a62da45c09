// The gradients registered in src/tf.ts against central finite differences, and the TensorFlow.js policy against
// the WebAssembly forward of the same weights.
import { orthogonalInit, WasmMlp, type MlpLayout } from '@pprl/core-wasm';
import { describe, expect, it } from 'vitest';
import { TfPolicy, Adam, clipByGlobalNorm } from '../src/network.js';
import { initTf, tf } from '../src/tf.js';

// the CPU backend computes in float32 like the others; these tests check maths, not a backend
await initTf('cpu');

/** A deterministic pseudo-random array in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2 ** 31 - 1;
  });
}

/** max |analytic - numeric| / (1 + |numeric|) over every input element, computed in float64 finite differences. */
function gradientError(f: (x: tf.Tensor) => tf.Scalar, x0: Float32Array, shape: number[]): number {
  const analytic = tf.tidy(() => tf.grad(f)(tf.tensor(x0, shape)).dataSync() as Float32Array);
  let worst = 0;
  const h = 1e-2;
  for (let k = 0; k < x0.length; k++) {
    const at = (d: number) => {
      const x = Float32Array.from(x0);
      x[k] = x[k]! + d;
      return tf.tidy(() => f(tf.tensor(x, shape)).dataSync()[0]!);
    };
    const numeric = (at(h) - at(-h)) / (2 * h);
    worst = Math.max(worst, Math.abs(analytic[k]! - numeric) / (1 + Math.abs(numeric)));
  }
  return worst;
}

describe('registered gradients', () => {
  const shape = [3, 4];
  const x0 = values(12, 1);
  const other = tf.tensor(values(12, 2), shape);
  const row = tf.tensor(values(4, 3), [4]);
  const cases: [string, (x: tf.Tensor) => tf.Scalar][] = [
    ['add with broadcast', (x) => tf.sum(tf.square(tf.add(x, row)))],
    ['sub', (x) => tf.sum(tf.square(tf.sub(row, x)))],
    ['mul', (x) => tf.sum(tf.mul(tf.mul(x, other), x))],
    ['div', (x) => tf.sum(tf.div(other, tf.add(tf.square(x), 1)))],
    ['neg, exp', (x) => tf.sum(tf.exp(tf.neg(x)))],
    ['log', (x) => tf.sum(tf.log(tf.add(tf.square(x), 0.5)))],
    ['tanh', (x) => tf.sum(tf.mul(tf.tanh(x), other))],
    ['relu', (x) => tf.sum(tf.mul(tf.relu(tf.add(x, 0.05)), other))],
    // piecewise: x0 stays at least 0.02 from every kink (other, and the clip bounds), further than the step h
    [
      'maximum, minimum',
      (x) => tf.sum(tf.add(tf.maximum(tf.mul(x, 0.9), other), tf.mul(tf.minimum(tf.mul(x, 0.9), other), 2))),
    ],
    ['clipByValue', (x) => tf.sum(tf.mul(tf.clipByValue(x, -0.55, 0.45), other))],
    ['sum over an axis', (x) => tf.sum(tf.square(tf.sum(x, 1)))],
    ['mean', (x) => tf.mean(tf.square(tf.mean(x, 0)))],
    ['reshape', (x) => tf.sum(tf.mul(tf.reshape(x, [12]), tf.reshape(other, [12])))],
    ['matMul, both sides', (x) => tf.sum(tf.square(tf.matMul(tf.matMul(x, tf.reshape(other, [4, 3])), x)))],
    [
      'logSoftmax with a masked entry',
      (x) => tf.sum(tf.mul(tf.logSoftmax(tf.add(x, tf.tensor([0, 0, -1e9, 0], [4]))), tf.tensor([1, 0, 0, 0], [4]))),
    ],
  ];
  it('the piecewise cases keep their inputs away from the kinks', () => {
    const o = other.dataSync();
    for (let k = 0; k < 12; k++) {
      expect(Math.abs(0.9 * x0[k]! - o[k]!)).toBeGreaterThan(0.02);
      expect(Math.min(Math.abs(x0[k]! + 0.55), Math.abs(x0[k]! - 0.45))).toBeGreaterThan(0.02);
    }
  });
  for (const [name, f] of cases) {
    it(name, () => {
      expect(gradientError(f, x0, shape)).toBeLessThan(2e-3);
    });
  }
});

describe('TfPolicy', () => {
  for (const shared of [false, true]) {
    it(
      'matches the WebAssembly forward of the same weights ' + `(${shared ? 'shared trunk' : 'separate networks'})`,
      async () => {
        const layout: MlpLayout = { obsDim: 33, hidden: [32, 16], actions: 4, activation: 'tanh', shared };
        const params = orthogonalInit(layout, 5);
        for (let k = 0; k < params.length; k++) params[k] = params[k]! + 0.05 * values(1, k + 1)[0]!;
        const policy = new TfPolicy(layout, params);
        const mlp = await WasmMlp.create(layout, params);
        const obs = values(8 * 33, 9);
        const { logits, value } = tf.tidy(() => policy.forward(tf.tensor2d(obs, [8, 33])));
        const wasm = mlp.forwardMany(obs, 8);
        const tfLogits = logits.dataSync();
        const tfValue = value.dataSync();
        for (let k = 0; k < 8 * 4; k++) expect(Math.abs(tfLogits[k]! - wasm.logits[k]!)).toBeLessThan(1e-5);
        for (let k = 0; k < 8; k++) expect(Math.abs(tfValue[k]! - wasm.values[k]!)).toBeLessThan(1e-5);
        expect(Array.from(policy.flatParams())).toEqual(Array.from(params));
        tf.dispose([logits, value]);
        policy.dispose();
        mlp.dispose();
      },
    );
  }
});

describe('Adam and gradient clipping', () => {
  it('takes torch.optim.Adam steps (eps outside the square root, bias corrections)', () => {
    const p = tf.variable(tf.tensor1d([1, -2]));
    const adam = new Adam([p], 0.9, 0.999, 1e-5);
    const g1 = [0.5, -0.25];
    const g2 = [-0.1, 0.3];
    adam.apply([tf.tensor1d(g1)], 0.01);
    adam.apply([tf.tensor1d(g2)], 0.01);
    // by hand, step 2
    const expected = [1, -2].map((p0, i) => {
      let m = 0;
      let v = 0;
      let x = p0;
      [g1[i]!, g2[i]!].forEach((g, t) => {
        m = 0.9 * m + 0.1 * g;
        v = 0.999 * v + 0.001 * g * g;
        const bc1 = 1 - 0.9 ** (t + 1);
        const bc2 = 1 - 0.999 ** (t + 1);
        x -= (0.01 / bc1) * (m / (Math.sqrt(v) / Math.sqrt(bc2) + 1e-5));
      });
      return x;
    });
    const got = p.dataSync();
    expect(got[0]).toBeCloseTo(expected[0]!, 6);
    expect(got[1]).toBeCloseTo(expected[1]!, 6);
    const state = adam.state();
    expect(state.step).toBe(2);
    const again = new Adam([tf.variable(tf.tensor1d([0, 0]))]);
    again.setState(state);
    expect(Array.from(again.state().m)).toEqual(Array.from(state.m));
  });

  it('clips by the global norm only when it exceeds the limit', () => {
    const grads = [tf.tensor1d([3, 0]), tf.tensor1d([0, 4])];
    const { clipped, norm } = clipByGlobalNorm(grads, 1);
    expect(norm.dataSync()[0]).toBeCloseTo(5, 5);
    expect(Array.from(clipped[0]!.dataSync())[0]).toBeCloseTo(0.6, 5);
    expect(Array.from(clipped[1]!.dataSync())[1]).toBeCloseTo(0.8, 5);
    const small = clipByGlobalNorm(grads, 10).clipped;
    expect(Array.from(small[1]!.dataSync())).toEqual([0, 4]);
  });
});
