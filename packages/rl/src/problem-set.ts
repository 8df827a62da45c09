// A problem set: `count` fixed problems drawn once from ranges that span the measured profiles (cost ratios,
// transfer times, memory limits between P and 2P activations, noise), each trained with its own teacher schedule.
// Training on many fixed problems rather than a fresh one per episode keeps what makes the bundled specialists
// good: every problem has a static schedule built for it, whose next op the policy observes (the `plan` features),
// so the policy learns where to leave a strong plan instead of rediscovering the plan itself.
import { resolveProblem, splitIntoChunks, type Problem } from '@pprl/core-wasm';
import seedrandom from 'seedrandom';
import { z } from 'zod';

/** [lo, hi] with lo <= hi. */
const interval = (min: number, max: number, integer = false) => {
  const n = integer ? z.number().int().min(min).max(max) : z.number().finite().min(min).max(max);
  return z.tuple([n, n]).refine(([lo, hi]) => lo <= hi, { message: 'must be [lo, hi] with lo <= hi' });
};

export const problemSetSchema = z.strictObject({
  /** Problems in the set; the environments are split evenly among them (envs must be a multiple). */
  count: z.number().int().min(1).max(1024).default(64),
  /** Seeds the draw of the problems (not their noise). */
  seed: z.number().int().min(0).max(0xffffffff).default(1),
  /** P: devices. */
  stages: interval(1, 64, true).default([2, 8]),
  /** M / P: M is drawn uniformly among the integers in [ceil(lo P), floor(hi P)]. */
  microBatchesPerStage: interval(1, 64).default([1, 4]),
  /** V: chunks per device (V > 1 in V placement, the model cut as ZB-V runs it). */
  chunks: interval(1, 2, true).default([1, 2]),
  /** Backward-for-input time over forward time (the H200 profiles: 1.22 to 2.73). */
  backwardRatio: interval(0.01, 100).default([1.2, 2.8]),
  /** Backward-for-weights time over forward time (profiles: 0.92 to 1.07). */
  weightRatio: interval(0.01, 100).default([0.9, 1.1]),
  /** One transfer's time over forward time (profiles at 50 GB/s: 0.06 to 0.14). */
  commRatio: interval(0, 100).default([0.02, 0.15]),
  /** Share of an activation freed by W, the rest by B (profiles: 0.28 to 0.43). */
  weightMemoryShare: interval(0, 1).default([0.25, 0.45]),
  /** Memory limit per device in activations of one micro-batch on one device, over P (1: 1F1B's peak). */
  memoryFactor: interval(0.5, 64).default([1, 2]),
  /** Noise cv of compute and transfers. */
  cv: interval(0, 3).default([0, 0.3]),
  /** Problem k's noise seed is noiseSeed + k (keep it away from 0, the seed `pprl evaluate` holds out). */
  noiseSeed: z
    .number()
    .int()
    .min(0)
    .max(0xffffffff - 1024)
    .default(1000),
});

export type ProblemSetConfig = z.output<typeof problemSetSchema>;

/** Forward time of a drawn problem (the observations and rewards are scale-free; this only sets the units). */
const FORWARD_TIME = 1000;
/** Bytes of one micro-batch's activations on one device (memory is counted in these). */
const ACTIVATION = 1 << 20;

/** One problem of a set, with what it was drawn from (for reports). */
export interface DrawnProblem {
  problem: Problem;
  draw: {
    stages: number;
    chunks: number;
    microBatches: number;
    backwardRatio: number;
    weightRatio: number;
    commRatio: number;
    weightMemoryShare: number;
    memoryFactor: number;
    cv: number;
  };
}

/** The problems of a set, in order (the same set for the same config, on every machine). */
export function drawProblemSet(set: ProblemSetConfig): DrawnProblem[] {
  const random = seedrandom(`pprl-problem-set-${set.seed}`);
  const real = ([lo, hi]: readonly [number, number]) => lo + random() * (hi - lo);
  const int = (lo: number, hi: number) => Math.min(hi, lo + Math.floor(random() * (hi - lo + 1)));
  const out: DrawnProblem[] = [];
  for (let k = 0; k < set.count; k++) {
    const P = int(set.stages[0], set.stages[1]);
    const chunks = int(set.chunks[0], set.chunks[1]);
    const mLo = Math.max(1, Math.ceil(set.microBatchesPerStage[0] * P - 1e-9));
    const mHi = Math.max(mLo, Math.floor(set.microBatchesPerStage[1] * P + 1e-9));
    const M = int(mLo, mHi);
    const draw = {
      stages: P,
      chunks,
      microBatches: M,
      backwardRatio: real(set.backwardRatio),
      weightRatio: real(set.weightRatio),
      commRatio: real(set.commRatio),
      weightMemoryShare: real(set.weightMemoryShare),
      memoryFactor: real(set.memoryFactor),
      cv: real(set.cv),
    };
    const freedByW = Math.round(ACTIVATION * draw.weightMemoryShare);
    const model = resolveProblem({
      stages: P,
      chunks: 1,
      placement: 'loop',
      microBatches: M,
      cost: { F: [FORWARD_TIME], B: [FORWARD_TIME * draw.backwardRatio], W: [FORWARD_TIME * draw.weightRatio] },
      comm: { time: [FORWARD_TIME * draw.commRatio] },
      memory: {
        F: [ACTIVATION],
        B: [-(ACTIVATION - freedByW)],
        W: [-freedByW],
        limit: Math.max(1, Math.round(draw.memoryFactor * P)) * ACTIVATION,
      },
      noise: { cv: draw.cv, seed: set.noiseSeed + k },
    });
    out.push({ problem: chunks > 1 ? splitIntoChunks(model, chunks, 'v') : model, draw });
  }
  return out;
}
