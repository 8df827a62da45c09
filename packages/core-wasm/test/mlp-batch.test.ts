// mlpForwardBatch (assembly/mlp.ts) against mlpForward: the same floats, bit for bit, for every observation; and
// the shared-trunk pair mlpForwardBatchShared / mlpForwardShared likewise.
import { describe, expect, it } from 'vitest';
import { loadCore } from '../src/wasm.js';
import {
  type WasmMlp,
  activationCode,
  mlpLayers,
  mlpParamCount,
  orthogonalInit,
  type MlpExports,
  type MlpLayout,
} from '../src/mlp.js';
import { rng } from './helpers.js';
import { policyFactory, randomParams } from './mlp-helpers.js';

const core = await loadCore();
const wasm = core.exports as typeof core.exports & MlpExports;

const policy = policyFactory();

/** Index of the first float whose bits differ (so -0 vs +0 and NaN payloads count), or -1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** B forwards through mlpForward (mlpForwardShared for a shared trunk), one observation at a time. */
function perObservation(mlp: WasmMlp, obs: Float32Array, B: number): { logits: Float32Array; values: Float32Array } {
  const { obsDim: D, hidden, actions: A, activation } = mlp.layout;
  const forward = mlp.layout.shared ? wasm.mlpForwardShared : wasm.mlpForward;
  const scratch = core.alloc(wasm.mlpScratchBytes(mlp.hiddenPtr, hidden.length));
  const io = core.alloc(4 * (D + A));
  const logits = new Float32Array(B * A);
  const values = new Float32Array(B);
  try {
    for (let k = 0; k < B; k++) {
      new Float32Array(core.memory.buffer, io, D).set(obs.subarray(k * D, (k + 1) * D));
      values[k] = forward(
        mlp.paramsPtr,
        D,
        mlp.hiddenPtr,
        hidden.length,
        A,
        activationCode(activation),
        io,
        scratch,
        io + 4 * D,
      );
      logits.set(new Float32Array(core.memory.buffer, io + 4 * D, A), k * A);
    }
  } finally {
    core.release(io);
    core.release(scratch);
  }
  return { logits, values };
}

/**
 * mlpForwardBatch (or mlpForwardBatchShared) called directly, with guard bytes around the outputs and the scratch
 * to catch stray writes.
 */
function batchDirect(mlp: WasmMlp, obs: Float32Array, B: number): { logits: Float32Array; values: Float32Array } {
  const { obsDim: D, hidden, actions: A, activation } = mlp.layout;
  const G = 64;
  const scratchBytes = wasm.mlpBatchScratchBytes(mlp.hiddenPtr, hidden.length, B);
  const regions = { obs: 4 * B * D, logits: 4 * B * A, values: 4 * B, scratch: scratchBytes };
  const ptr: Record<string, number> = {};
  const blocks: number[] = [];
  for (const [name, bytes] of Object.entries(regions)) {
    const block = core.alloc(bytes + 2 * G);
    blocks.push(block);
    ptr[name] = block + G;
    const u8 = new Uint8Array(core.memory.buffer, block, bytes + 2 * G);
    u8.fill(0xa5);
  }
  try {
    new Float32Array(core.memory.buffer, ptr.obs!, B * D).set(obs.subarray(0, B * D));
    (mlp.layout.shared ? wasm.mlpForwardBatchShared : wasm.mlpForwardBatch)(
      mlp.paramsPtr,
      D,
      mlp.hiddenPtr,
      hidden.length,
      A,
      activationCode(activation),
      ptr.obs!,
      B,
      ptr.scratch!,
      ptr.logits!,
      ptr.values!,
    );
    for (const [name, bytes] of Object.entries(regions)) {
      const u8 = new Uint8Array(core.memory.buffer, ptr[name]! - G, bytes + 2 * G);
      expect(
        u8.subarray(0, G).every((v) => v === 0xa5),
        `bytes before ${name}`,
      ).toBe(true);
      expect(
        u8.subarray(G + bytes).every((v) => v === 0xa5),
        `bytes after ${name}`,
      ).toBe(true);
    }
    // the observations are read only
    expect(firstDifference(new Float32Array(core.memory.buffer, ptr.obs!, B * D), obs.subarray(0, B * D))).toBe(-1);
    return {
      logits: Float32Array.from(new Float32Array(core.memory.buffer, ptr.logits!, B * A)),
      values: Float32Array.from(new Float32Array(core.memory.buffer, ptr.values!, B)),
    };
  } finally {
    for (const block of blocks) core.release(block);
  }
}

describe('mlpForwardBatch', () => {
  const shapes: [number, number[], number][] = [
    [40, [64, 64], 7],
    [8, [64, 64], 4],
    [40, [32], 7],
    // odd sizes: odd fan-ins, widths below 4, between 4 and 8 and not multiples of 8 (shifted column blocks),
    // single outputs inside the trunk, no hidden layer, a head wider than 8, three hidden layers
    [1, [1], 1],
    [3, [5], 2],
    [5, [7, 3], 3],
    [7, [9, 13, 5], 4],
    [13, [17], 5],
    [2, [4, 4], 9],
    [9, [], 6],
    [11, [1, 8], 8],
    [33, [65, 31], 17],
    [40, [64, 64], 1],
    [6, [12, 2, 20], 13],
    [40, [64, 64, 64], 5],
  ];
  const batches = [1, 3, 4, 5, 64, 1024];
  for (const shared of [false, true])
    for (const activation of ['tanh', 'relu'] as const)
      for (const [D, hidden, A] of shapes) {
        const single = shared ? 'mlpForwardShared' : 'mlpForward';
        const shape = `${activation}, D ${D}, hidden [${hidden}], A ${A}, B ${batches.join('/')}`;
        it(`equals ${single} bit for bit: ${shape}`, async () => {
          const layout: MlpLayout = { obsDim: D, hidden, actions: A, activation, shared };
          const random = rng(D * 7919 + A * 31 + hidden.length + (activation === 'tanh' ? 0 : 1) + (shared ? 5 : 0));
          const Bmax = batches[batches.length - 1]!;
          const obs = Float32Array.from({ length: Bmax * D }, () => (2 * random() - 1) * 3);
          for (const params of [randomParams(layout, random, 3), orthogonalInit(layout, 11)]) {
            const mlp = await policy(layout, params);
            const want = perObservation(mlp, obs, Bmax);
            for (const B of batches) {
              const got = batchDirect(mlp, obs, B);
              expect(firstDifference(got.logits, want.logits.subarray(0, B * A)), `logits, B ${B}`).toBe(-1);
              expect(firstDifference(got.values, want.values.subarray(0, B)), `values, B ${B}`).toBe(-1);
            }
            // through the TypeScript handle as well, for a size that is not a multiple of the chunk
            const many = mlp.forwardMany(obs.subarray(0, 77 * D));
            expect(firstDifference(many.logits, want.logits.subarray(0, 77 * A))).toBe(-1);
            expect(firstDifference(many.values, want.values.subarray(0, 77))).toBe(-1);
            expect(firstDifference(mlp.getParams(), params)).toBe(-1);
          }
        });
      }

  it('saturates tanh exactly like mlpForward (inputs clamped at +-8, signed zeros kept)', async () => {
    // identity hidden layer and head: the logits are the tanh of the observation, through both code paths
    const D = 20;
    const layout: MlpLayout = { obsDim: D, hidden: [D], actions: D, activation: 'tanh' };
    const params = new Float32Array(mlpParamCount(D, [D], D));
    const [hiddenLayer, head] = mlpLayers(layout);
    for (let i = 0; i < D; i++) {
      params[hiddenLayer!.weightOffset + i * (D + 1)] = 1;
      params[head!.weightOffset + i * (D + 1)] = 1;
    }
    const mlp = await policy(layout, params);
    const B = 50;
    const special = [0, -0, 8, -8, 8.5, -100, 1e30, -1e30, 1e-40, -1e-40, 7.999, 1e-8];
    const obs = Float32Array.from({ length: B * D }, (_, k) =>
      k < special.length ? special[k]! : 12 * Math.sin(k * 0.37),
    );
    const want = perObservation(mlp, obs, B);
    const got = mlp.forwardMany(obs, B);
    expect(firstDifference(got.logits, want.logits)).toBe(-1);
    expect(firstDifference(got.values, want.values)).toBe(-1);
    const t8 = Math.fround(Math.tanh(8));
    expect(Array.from(got.logits.subarray(2, 8))).toEqual([t8, -t8, t8, -t8, t8, -t8]);
  });

  it('needs scratch that stops growing with B', () => {
    const hidden = [64, 64];
    const ptr = core.alloc(8);
    core.i32(ptr, 2).set(hidden);
    const bytes = [1, 4, 32, 64, 1024, 100_000].map((B) => wasm.mlpBatchScratchBytes(ptr, 2, B));
    core.release(ptr);
    expect(bytes[0]).toBeGreaterThan(0);
    expect(new Set(bytes.slice(2)).size).toBe(1);
    expect(bytes[5]).toBeLessThanOrEqual(64 * 1024);
  });

  it('WasmMlp.forwardMany checks its input and handles an empty batch', async () => {
    const layout: MlpLayout = { obsDim: 4, hidden: [8], actions: 3, activation: 'relu' };
    const mlp = await policy(layout, orthogonalInit(layout, 1));
    expect(mlp.forwardMany(new Float32Array(0))).toEqual({ logits: new Float32Array(0), values: new Float32Array(0) });
    expect(() => mlp.forwardMany(new Float32Array(7), 2)).toThrow(RangeError);
    expect(() => mlp.forwardMany(new Float32Array(8), 1.5)).toThrow(RangeError);
    const before = core.reservedBytes;
    const obs = Float32Array.from({ length: 40 }, (_, i) => Math.cos(i));
    const got = mlp.forwardMany(obs);
    expect(got.values).toHaveLength(10);
    expect(core.reservedBytes).toBe(before);
    const one = mlp.forward(obs.subarray(36, 40));
    expect(firstDifference(got.logits.subarray(27, 30), one.logits)).toBe(-1);
    expect(Object.is(got.values[9], one.value)).toBe(true);
  });
});
