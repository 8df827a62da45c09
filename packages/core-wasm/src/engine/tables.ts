// Per-problem tables of the TypeScript simulators (docs/SEMANTICS.md sections 1 and 2): the stages of each device,
// base costs and memory deltas indexed [kind * S + stage] as assembly/env.ts indexes them, the memory cap, and the
// duration factors of an episode, drawn once when it begins.
import { KIND_BW, NOISE_COMM_B, NOISE_COMM_F } from '../contract.js';
import { episodeKey, factor, mbKey, stageKey } from '../noise.js';
import type { Problem } from '../problem.js';
import type { EventCore } from './core.js';

/** The per-problem tables, as the event core holds them (their meaning is documented there). */
export type Tables = Pick<
  EventCore,
  'devStages' | 'cost' | 'memDelta' | 'fullF' | 'memCap' | 'computeNoisy' | 'commNoisy'
>;

export function buildTables(problem: Problem): Tables {
  const { stages: P, chunks: V, numStages: S, stageDevice, memB, memW } = problem;
  const devStages = new Int32Array(P * V);
  const filled = new Int32Array(P);
  const fullF = new Float64Array(P);
  for (let s = 0; s < S; s++) {
    const d = stageDevice[s]!;
    devStages[d * V + filled[d]!] = s;
    filled[d] = filled[d]! + 1;
    fullF[d] = fullF[d]! + problem.memF[s]!;
  }
  const cost = new Float64Array(3 * S);
  cost.set(problem.costF, 0);
  cost.set(problem.costB, S);
  cost.set(problem.costW, 2 * S);
  const memDelta = new Float64Array(4 * S);
  memDelta.set(problem.memF, 0);
  memDelta.set(memB, S);
  memDelta.set(memW, 2 * S);
  for (let s = 0; s < S; s++) memDelta[KIND_BW * S + s] = memB[s]! + memW[s]!;
  const memCap = Number.isFinite(problem.memLimit) ? problem.memLimit * (1 + 1e-9) : Infinity;
  const { cv, commCv, anomalyProb } = problem.noise;
  const computeNoisy = cv > 0 || anomalyProb > 0;
  const commNoisy = commCv > 0 || anomalyProb > 0;
  return { devStages, cost, memDelta, fullF, memCap, computeNoisy, commNoisy };
}

/**
 * This episode's duration factors (docs/SEMANTICS.md section 2): fac[(kind * S + s) * M + m] for noise kinds
 * [k0, k1) of every stage and micro-batch, with the compute or the transfer cv. A transfer that stays on its device
 * (or has no receiver) is never read, so its row is not drawn.
 */
export function drawFactors(
  fac: Float64Array,
  problem: Problem,
  episode: number,
  k0: number,
  k1: number,
  cv: number,
): void {
  const { numStages: S, microBatches: M, stageDevice } = problem;
  const { seed, floor, anomalyProb, anomalyFactor } = problem.noise;
  const epKey = episodeKey(seed, episode);
  for (let kind = k0; kind < k1; kind++)
    for (let s = 0; s < S; s++) {
      const to = kind === NOISE_COMM_F ? s + 1 : kind === NOISE_COMM_B ? s - 1 : s;
      if (to !== s && (to < 0 || to === S || stageDevice[to] === stageDevice[s])) continue;
      const key = stageKey(epKey, kind, s);
      const row = (kind * S + s) * M;
      for (let m = 0; m < M; m++) fac[row + m] = factor(mbKey(key, m), cv, floor, anomalyProb, anomalyFactor);
    }
}
