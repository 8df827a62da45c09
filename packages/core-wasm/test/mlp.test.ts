import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { loadCore } from '../src/wasm.js';
import { mlpLayers, mlpParamCount, orthogonalInit, type MlpExports, type MlpLayout } from '../src/mlp.js';
import { rng } from './helpers.js';
import { policyFactory, randomParams } from './mlp-helpers.js';

await tf.setBackend('cpu');
const core = await loadCore();
const wasm = core.exports as typeof core.exports & MlpExports;

const policy = policyFactory();

/** The same networks in TensorFlow.js (CPU backend), from the same Float32Array slices. */
function tfForward(
  layout: MlpLayout,
  params: Float32Array,
  obs: Float32Array,
  n: number,
): { logits: Float32Array; values: Float32Array } {
  return tf.tidy(() => {
    const input = tf.tensor2d(obs.subarray(0, n * layout.obsDim), [n, layout.obsDim]);
    const heads: Record<'actor' | 'critic', tf.Tensor2D> = { actor: input, critic: input };
    for (const l of mlpLayers(layout)) {
      const W = tf.tensor2d(params.subarray(l.weightOffset, l.biasOffset), [l.fanIn, l.fanOut]);
      const b = tf.tensor1d(params.subarray(l.biasOffset, l.biasOffset + l.fanOut));
      // a shared trunk layer feeds both heads
      const from = l.network === 'trunk' ? 'actor' : l.network;
      let h: tf.Tensor2D = tf.add(tf.matMul(heads[from], W), b);
      if (l.index < layout.hidden.length) h = layout.activation === 'tanh' ? tf.tanh(h) : tf.relu(h);
      if (l.network === 'trunk') heads.actor = heads.critic = h;
      else heads[l.network] = h;
    }
    return { logits: heads.actor.dataSync() as Float32Array, values: heads.critic.dataSync() as Float32Array };
  });
}

/** Largest |a - b| / max(1, |b|): absolute near zero, relative for large values. */
function maxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return worst;
}

describe('mlpParamCount', () => {
  it('matches the layout arithmetic', () => {
    // 2 * ((40*64 + 64) + (64*64 + 64)) + (64*7 + 7) + (64 + 1)
    expect(mlpParamCount(40, [64, 64], 7)).toBe(14088);
    expect(mlpParamCount(8, [32], 4)).toBe(2 * (8 * 32 + 32) + (32 * 4 + 4) + 33);
    expect(mlpParamCount(5, [], 3)).toBe(5 * 3 + 3 + 5 + 1);
    // shared trunk: the hidden layers once
    expect(mlpParamCount(40, [64, 64], 7, true)).toBe(40 * 64 + 64 + (64 * 64 + 64) + (64 * 7 + 7) + (64 + 1));
    expect(mlpParamCount(40, [64, 64], 7, false)).toBe(14088);
    expect(mlpParamCount(5, [], 3, true)).toBe(5 * 3 + 3 + 5 + 1);
  });

  it(
    'shared layouts: trunk layers, then the actor head, then the critic head, ' +
      'agreeing with the WebAssembly export',
    () => {
      const random = rng(2);
      for (let t = 0; t < 200; t++) {
        const hidden = Array.from({ length: Math.floor(random() * 4) }, () => 1 + Math.floor(random() * 100));
        const layout: MlpLayout = {
          obsDim: 1 + Math.floor(random() * 80),
          hidden,
          actions: 1 + Math.floor(random() * 12),
          activation: 'relu',
          shared: true,
        };
        const count = mlpParamCount(layout.obsDim, hidden, layout.actions, true);
        const ptr = core.alloc(4 * Math.max(1, hidden.length));
        core.i32(ptr, hidden.length).set(hidden);
        expect(wasm.mlpParamCountShared(layout.obsDim, ptr, hidden.length, layout.actions)).toBe(count);
        core.release(ptr);
        const layers = mlpLayers(layout);
        expect(layers.map((l) => l.network)).toEqual([...hidden.map(() => 'trunk'), 'actor', 'critic']);
        const widths = [layout.obsDim, ...hidden];
        let offset = 0;
        layers.forEach((l, k) => {
          expect(l.weightOffset).toBe(offset);
          expect(l.biasOffset).toBe(offset + l.fanIn * l.fanOut);
          expect(l.fanIn).toBe(widths[Math.min(k, hidden.length)]);
          expect(l.fanOut).toBe(k < hidden.length ? hidden[k] : l.network === 'actor' ? layout.actions : 1);
          expect(l.index).toBe(Math.min(k, hidden.length));
          offset = l.biasOffset + l.fanOut;
        });
        expect(offset).toBe(count);
      }
    },
  );

  it('agrees with the WebAssembly export and with the layer offsets', () => {
    const random = rng(1);
    for (let t = 0; t < 200; t++) {
      const hidden = Array.from({ length: Math.floor(random() * 4) }, () => 1 + Math.floor(random() * 100));
      const layout: MlpLayout = {
        obsDim: 1 + Math.floor(random() * 80),
        hidden,
        actions: 1 + Math.floor(random() * 12),
        activation: 'tanh',
      };
      const count = mlpParamCount(layout.obsDim, hidden, layout.actions);
      const ptr = core.alloc(4 * Math.max(1, hidden.length));
      core.i32(ptr, hidden.length).set(hidden);
      expect(wasm.mlpParamCount(layout.obsDim, ptr, hidden.length, layout.actions)).toBe(count);
      core.release(ptr);
      const layers = mlpLayers(layout);
      expect(layers).toHaveLength(2 * (hidden.length + 1));
      let offset = 0;
      for (const l of layers) {
        expect(l.weightOffset).toBe(offset);
        expect(l.biasOffset).toBe(offset + l.fanIn * l.fanOut);
        offset = l.biasOffset + l.fanOut;
      }
      expect(offset).toBe(count);
    }
  });
});

describe('WasmMlp.forward', () => {
  const shapes: [number, number[], number][] = [
    [8, [64, 64], 4],
    [40, [64, 64], 7],
    [8, [32], 4],
    [40, [32], 7],
    // odd sizes reach every code path: odd fan-in, partial blocks of 16 and of 4, widths below 4, no hidden layer
    [7, [18, 5], 9],
    [3, [2, 3], 2],
    [13, [20], 1],
    [5, [], 6],
    [40, [64, 64, 64], 5],
  ];
  for (const shared of [false, true])
    for (const activation of ['tanh', 'relu'] as const)
      for (const [D, hidden, A] of shapes) {
        const shape = `${shared ? 'shared trunk, ' : ''}${activation}, D ${D}, hidden [${hidden}], A ${A}`;
        it(`matches TensorFlow.js to 1e-5: ${shape}`, async () => {
          const layout: MlpLayout = { obsDim: D, hidden, actions: A, activation, shared };
          const random = rng(D * 1000 + A + hidden.length + (shared ? 77 : 0));
          const n = 200;
          const obs = Float32Array.from({ length: n * D }, () => (2 * random() - 1) * 2);
          for (const params of [randomParams(layout, random, 2), orthogonalInit(layout, 7)]) {
            const mlp = await policy(layout, params);
            const got = mlp.forwardBatch(obs, n);
            const want = tfForward(layout, params, obs, n);
            expect(maxError(got.logits, want.logits)).toBeLessThan(1e-5);
            expect(maxError(got.values, want.values)).toBeLessThan(1e-5);
            // single forwards give the very same floats, and the parameters are left untouched
            for (const k of [0, n - 1]) {
              const one = mlp.forward(obs.subarray(k * D, (k + 1) * D));
              expect(one.logits).toEqual(got.logits.subarray(k * A, (k + 1) * A));
              expect(one.value).toBe(got.values[k]);
            }
            expect(mlp.getParams()).toEqual(params);
          }
        });
      }

  it('computes tanh within 3.5e-7 of Math.tanh, odd and bounded by 1', async () => {
    // identity hidden layer and identity head: the logits are the hidden activations, exactly
    const layout: MlpLayout = { obsDim: 4, hidden: [4], actions: 4, activation: 'tanh' };
    const params = new Float32Array(mlpParamCount(4, [4], 4));
    const [hiddenLayer, head] = mlpLayers(layout);
    for (let i = 0; i < 4; i++) {
      params[hiddenLayer!.weightOffset + 5 * i] = 1;
      params[head!.weightOffset + 5 * i] = 1;
    }
    const mlp = await policy(layout, params);
    let worst = 0;
    for (let k = 0; k < 30000; k++) {
      const x = Float32Array.from([k * 4e-4, -k * 4e-4, 2 ** (-k % 40), 12 * Math.sin(k)]);
      const { logits } = mlp.forward(x);
      for (let i = 0; i < 4; i++) {
        worst = Math.max(worst, Math.abs(logits[i]! - Math.tanh(x[i]!)));
        expect(Math.abs(logits[i]!)).toBeLessThanOrEqual(1);
      }
      expect(logits[1] === -logits[0]!).toBe(true); // (== so that tanh(-0) = +0 passes)
    }
    expect(worst).toBeLessThan(3.5e-7);
    expect(mlp.forward(new Float32Array(4)).logits).toEqual(new Float32Array(4));
    // inputs are clamped to [-8, 8]: beyond, the output stays at f32 tanh(8) = 1 - 2.4e-7
    const t8 = Math.fround(Math.tanh(8));
    expect(mlp.forward(Float32Array.from([100, -100, 8, 1e30])).logits).toEqual(Float32Array.from([t8, -t8, t8, t8]));
  });
});

/** log softmax over the allowed logits in f64. */
function reference(logits: Float32Array, mask: Uint8Array) {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) if (mask[i]) m = Math.max(m, logits[i]!);
  let z = 0;
  for (let i = 0; i < logits.length; i++) if (mask[i]) z += Math.exp(logits[i]! - m);
  const probs = Array.from(logits, (l, i) => (mask[i] ? Math.exp(l - m) / z : 0));
  const logp = Array.from(logits, (l, i) => (mask[i] ? l - m - Math.log(z) : -Infinity));
  const entropy = -probs.reduce((s, p, i) => (p > 0 ? s + p * logp[i]! : s), 0);
  return { probs, logp, entropy };
}

function randomCase(random: () => number, A: number, spread: number) {
  const logits = Float32Array.from({ length: A }, () => (2 * random() - 1) * spread);
  const mask = Uint8Array.from({ length: A }, () => (random() < 0.6 ? 1 : 0));
  if (!mask.some((x) => x)) mask[Math.floor(random() * A)] = 1;
  return { logits, mask };
}

describe('sampleMasked', async () => {
  const A = 9;
  const mlp = await policy({ obsDim: 1, hidden: [1], actions: A, activation: 'tanh' });

  it('never picks a masked action, inverts the CDF, and reports log-prob and entropy (f64 reference, 1e-5)', () => {
    const random = rng(5);
    for (let t = 0; t < 20000; t++) {
      const { logits, mask } = randomCase(random, A, [0.1, 3, 30][t % 3]!);
      const u = random();
      const { action, logProb, entropy } = mlp.sample(logits, mask, u);
      expect(mask[action]).toBe(1);
      const ref = reference(logits, mask);
      // inverse CDF in f64: the first allowed action whose cumulative probability exceeds u
      let cum = 0;
      let want = -1;
      for (let i = 0; i < A && want < 0; i++) {
        if (!mask[i]) continue;
        cum += ref.probs[i]!;
        if (u < cum) want = i;
      }
      if (want >= 0 && Math.abs(cum - u) > 1e-9) expect(action).toBe(want);
      expect(Math.abs(logProb - ref.logp[action]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref.logp[action]!)));
      expect(Math.abs(entropy - ref.entropy)).toBeLessThan(1e-5);
    }
  });

  it('has empirical frequencies equal to the probabilities over a grid of u', () => {
    const random = rng(9);
    const K = 100_000;
    for (let t = 0; t < 5; t++) {
      const { logits, mask } = randomCase(random, A, 2);
      const counts = new Array<number>(A).fill(0);
      for (let k = 0; k < K; k++) counts[mlp.sample(logits, mask, (k + 0.5) / K).action]!++;
      const { probs } = reference(logits, mask);
      // the grid puts exactly round(K p) points below each CDF step, up to one point per boundary
      for (let i = 0; i < A; i++) expect(Math.abs(counts[i]! / K - probs[i]!)).toBeLessThanOrEqual(1 / K);
    }
  });

  it('puts all mass on a single allowed action and returns -1 when none is allowed', () => {
    const logits = Float32Array.from({ length: A }, (_, i) => i);
    const only = new Uint8Array(A);
    only[3] = 1;
    for (const u of [1e-9, 0.5, 1 - 1e-9])
      expect(mlp.sample(logits, only, u)).toEqual({ action: 3, logProb: 0, entropy: 0 });
    expect(mlp.sample(logits, new Uint8Array(A), 0.5).action).toBe(-1);
    // uniform over 4 allowed actions
    const uniform = Uint8Array.from({ length: A }, (_, i) => (i % 2 ? 1 : 0));
    const s = mlp.sample(new Float32Array(A).fill(2.5), uniform, 0.6);
    expect(s.action).toBe(5);
    expect(s.logProb).toBeCloseTo(-Math.log(4), 6);
    expect(s.entropy).toBeCloseTo(Math.log(4), 6);
  });
});

describe('argmaxMasked', async () => {
  const A = 7;
  const mlp = await policy({ obsDim: 1, hidden: [1], actions: A, activation: 'relu' });

  it('picks the largest allowed logit, the lowest index on ties', () => {
    const random = rng(13);
    for (let t = 0; t < 5000; t++) {
      // few distinct values, so ties are common
      const logits = Float32Array.from({ length: A }, () => Math.floor(random() * 4) - 2);
      const mask = Uint8Array.from({ length: A }, () => (random() < 0.5 ? 1 : 0));
      let want = -1;
      for (let i = 0; i < A; i++) if (mask[i] && (want < 0 || logits[i]! > logits[want]!)) want = i;
      expect(mlp.argmax(logits, mask)).toBe(want);
    }
    expect(mlp.argmax(Float32Array.from([5, 1, 9, 9, 0, 2, 9]), [true, true, false, true, true, false, true])).toBe(3);
  });
});

describe('orthogonalInit', () => {
  const layouts: MlpLayout[] = [
    { obsDim: 40, hidden: [64, 64], actions: 7, activation: 'tanh' },
    { obsDim: 100, hidden: [32], actions: 3, activation: 'relu' },
    { obsDim: 40, hidden: [64, 64], actions: 7, activation: 'tanh', shared: true },
  ];

  for (const layout of layouts) {
    const shape = `D ${layout.obsDim}, hidden [${layout.hidden}]${layout.shared ? ', shared trunk' : ''}`;
    it(`gives (semi-)orthogonal weights times the CleanRL gains and zero biases: ${shape}`, () => {
      const params = orthogonalInit(layout, 42);
      expect(params).toHaveLength(mlpParamCount(layout.obsDim, layout.hidden, layout.actions, layout.shared));
      expect(mlpLayers(layout).some((l) => l.network === 'trunk')).toBe(layout.shared ?? false);
      for (const l of mlpLayers(layout)) {
        const head = l.index === layout.hidden.length;
        expect(l.gain).toBe(!head ? Math.SQRT2 : l.network === 'actor' ? 0.01 : 1);
        expect(params.subarray(l.biasOffset, l.biasOffset + l.fanOut).every((b) => b === 0)).toBe(true);
        // Gram matrix over the smaller dimension: W^T W (fanIn >= fanOut) or W W^T
        const w = (i: number, j: number) => params[l.weightOffset + i * l.fanOut + j]!;
        const small = Math.min(l.fanIn, l.fanOut);
        const big = Math.max(l.fanIn, l.fanOut);
        const at = l.fanIn >= l.fanOut ? (r: number, c: number) => w(r, c) : (r: number, c: number) => w(c, r);
        let worst = 0;
        for (let a = 0; a < small; a++)
          for (let b = 0; b < small; b++) {
            let dot = 0;
            for (let r = 0; r < big; r++) dot += at(r, a) * at(r, b);
            worst = Math.max(worst, Math.abs(dot - (a === b ? l.gain ** 2 : 0)));
          }
        expect(worst).toBeLessThan(1e-6 * l.gain ** 2);
      }
    });
  }

  it('is deterministic in the seed', () => {
    const layout = layouts[0]!;
    expect(orthogonalInit(layout, 3)).toEqual(orthogonalInit(layout, 3));
    const a = orthogonalInit(layout, 3);
    const b = orthogonalInit(layout, 4);
    expect(a.some((x, i) => x !== b[i])).toBe(true);
    // a spot value pins the generator down across versions and engines
    expect(Array.from(a.subarray(0, 3))).toMatchInlineSnapshot(`
      [
        0.11389683187007904,
        -0.06842710822820663,
        -0.025746963918209076,
      ]
    `);
  });

  it('is not biased in sign or scale: entries of a square orthogonal matrix have mean 0 and variance 1/n', () => {
    const layout: MlpLayout = { obsDim: 64, hidden: [64], actions: 2, activation: 'tanh' };
    const [first] = mlpLayers(layout);
    let sum = 0;
    let sq = 0;
    let diagPositive = 0;
    const seeds = 20;
    for (let s = 0; s < seeds; s++) {
      const w = orthogonalInit(layout, s).subarray(first!.weightOffset, first!.biasOffset);
      for (const x of w) {
        sum += x / Math.SQRT2;
        sq += (x / Math.SQRT2) ** 2;
      }
      for (let i = 0; i < 64; i++) if (w[i * 64 + i]! > 0) diagPositive++;
    }
    const n = seeds * 64 * 64;
    expect(Math.abs(sum / n)).toBeLessThan(4 / Math.sqrt(n * 64));
    expect(sq / n).toBeCloseTo(1 / 64, 8);
    // Haar orthogonal matrices have no sign preference on the diagonal
    expect(Math.abs(diagPositive / (seeds * 64) - 0.5)).toBeLessThan(0.1);
  });
});
