// The zero-bubble paper's handcrafted schedules ZB-H1 and ZB-H2 (arXiv 2401.10241): split backward, W deferred.
import { ScheduleError, type Op, type Problem, type Schedule } from '@pprl/core-wasm';
import type { Generator } from '../types.js';
import { finishSchedule, requireOneChunk } from './classic.js';

/**
 * Stage r of P warms up with c(P-1-r) forwards; then for each micro-batch i: a forward (while any are left),
 * B_i, and a W once i >= c*r (so W lags B by c*r on stage r and fills the cool-down); then the c*r W's left.
 * c = 1 is ZB-H1 (1F1B's memory), c = 2 is ZB-H2 (about twice that).
 */
function handcrafted(problem: Problem, c: 1 | 2, name: string): Schedule {
  requireOneChunk(problem, name);
  const { stages: P, microBatches: M } = problem;
  const devices = Array.from({ length: P }, (_, r) => {
    const warmup = Math.min(c * (P - 1 - r), M);
    const lag = c * r;
    const ops: Op[] = [];
    let f = 0;
    let w = 0;
    for (; f < warmup; f++) ops.push({ kind: 'F', mb: f, stage: r });
    for (let i = 0; i < M; i++) {
      if (f < M) ops.push({ kind: 'F', mb: f++, stage: r });
      ops.push({ kind: 'B', mb: i, stage: r });
      if (i >= lag) ops.push({ kind: 'W', mb: w++, stage: r });
    }
    while (w < M) ops.push({ kind: 'W', mb: w++, stage: r });
    return ops;
  });
  return finishSchedule(problem, devices, name);
}

/**
 * ZB-H1: 1F1B's memory (P activations), W's deferred into the cool-down. With zero comm, W <= min(F, B) and
 * M >= P its makespan is M(F+B+W) + (P-1)(F+B-W). Any M >= 1 runs; with M < P the bubble is larger (still
 * below 1F1B's).
 */
export const zbH1: Generator = (problem) => handcrafted(problem, 1, 'zb-h1');

/**
 * ZB-H2: 2(P-1-r) warm-up forwards on device r (peak 2P-1 activations). Its span (last end - first start per
 * device, the zero-bubble paper's metric) is M(F+B+W) + (P-1)(F+B+2c-2W) when M >= 2P-1, W <= F,
 * 2W <= F+B+2c and 2c <= F+B; zero bubble at F = B = W and c = 0. Needs M >= 2P-1: device 0 must have one
 * forward beyond its 2(P-1) warm-up ones to cover the wait for its first backward.
 */
export const zbH2: Generator = (problem) => {
  const { stages: P, microBatches: M } = problem;
  requireOneChunk(problem, 'zb-h2');
  if (M < 2 * P - 1)
    throw new ScheduleError(
      `zb-h2 needs microBatches >= 2P-1 = ${2 * P - 1} for ${P} stages (got ${M}): device 0 runs 2(P-1) warm-up ` +
        'forwards and one more before its first backward; use zb-h1 (bubble-optimal from M >= P) or 1f1b',
    );
  return handcrafted(problem, 2, 'zb-h2');
};
