// DualPipeV (DeepSeek's DualPipe folded onto a V: deepseek-ai/DualPipe, PyTorch's ScheduleDualPipeV).
// Rank r holds model stages r (chunk 0) and 2P-1-r (chunk 1), as in the V placement.
import { ScheduleError, type Op, type Schedule } from '@pprl/core-wasm';
import { checkMemoryLimit } from '../memory.js';
import type { Generator } from '../types.js';
import { requireVShape } from './v-shape/lanes.js';

/** Per-rank order of DualPipeV's eight phases. */
function rankOrder(P: number, M: number, r: number): Op[] {
  const stage0 = r;
  const stage1 = 2 * P - 1 - r;
  const nextF = new Map<number, number>();
  const nextB = new Map<number, number>();
  const pendingW: Op[] = [];
  const ops: Op[] = [];
  const take = (next: Map<number, number>, stage: number) => {
    const mb = next.get(stage) ?? 0;
    next.set(stage, mb + 1);
    return mb;
  };
  const forward = (stage: number) => ops.push({ kind: 'F', mb: take(nextF, stage), stage });
  /** Backward of `stage`: fused (BW), or input-gradient only (B) with its W queued for later. */
  const backward = (stage: number, split: boolean) => {
    const mb = take(nextB, stage);
    ops.push({ kind: split ? 'B' : 'BW', mb, stage });
    if (split) pendingW.push({ kind: 'W', mb, stage });
  };
  const weight = () => {
    const w = pendingW.shift();
    if (w) ops.push(w);
  };
  // DualPipeV overlaps one chunk's forward with the other chunk's backward on the same rank. The simulator runs
  // one op at a time, so each overlapped pair becomes two consecutive ops: the forward, then the fused backward.
  const overlapped = (fStage: number, bStage: number) => {
    forward(fStage);
    backward(bStage, false);
  };

  // 1. chunk-0 forwards filling the pipeline.
  for (let i = 0; i < 2 * (P - r - 1); i++) forward(stage0);
  // 2. F0 F1: micro-batches enter chunk 1.
  for (let i = 0; i <= r; i++) {
    forward(stage0);
    forward(stage1);
  }
  // 3. B1 W1 F1: the first chunk-1 backwards, split so the W fills in at once.
  for (let i = 0; i < P - r - 1; i++) {
    backward(stage1, true);
    weight();
    forward(stage1);
  }
  // 4. Main loop: (F0 with B1) and (F1 with B0); the last rank does not overlap its first pair.
  for (let i = 0; i < M - 2 * P + r + 1; i++) {
    if (i === 0 && r === P - 1) {
      forward(stage0);
      backward(stage1, false);
    } else overlapped(stage0, stage1);
    overlapped(stage1, stage0);
  }
  // 5. B1 then (F1 with B0): chunk-0 forwards are done.
  for (let i = 0; i < P - r - 1; i++) {
    backward(stage1, false);
    overlapped(stage1, stage0);
  }
  // 6. B1 B0: from the middle on, backwards are split and their W's deferred to the cool-down.
  let split = false;
  const half = Math.floor((r + 1) / 2);
  for (let i = 0; i <= r; i++) {
    if (i === half && r % 2 === 1) split = true;
    backward(stage1, split);
    if (i === half && r % 2 === 0) split = true;
    backward(stage0, split);
  }
  // 7. W B0, then 8. the W's left.
  for (let i = 0; i < P - r - 1; i++) {
    weight();
    backward(stage0, split);
  }
  for (let i = 0; i <= r; i++) weight();
  return ops;
}

/**
 * DualPipeV: needs M >= 2P micro-batches (each rank's main loop runs M - 2P + r + 1 times). Overlapped
 * forward/backward pairs are written as two consecutive ops (F, then the fused BW).
 */
export const dualPipeV: Generator = (problem) => {
  const name = 'dualpipe-v';
  requireVShape(problem, name);
  const { stages: P, microBatches: M } = problem;
  if (M < 2 * P)
    throw new ScheduleError(
      `${name} needs microBatches >= 2P = ${2 * P} for ${P} devices (got ${M}), as in DeepSeek's and PyTorch's ` +
        'DualPipeV (device 0 warms up with 2P-1 forwards before its main loop); use zb-v or v-half',
    );
  const schedule: Schedule = {
    stages: P,
    chunksPerDevice: 2,
    placement: 'v',
    microBatches: M,
    devices: Array.from({ length: P }, (_, r) => rankOrder(P, M, r)),
    name,
  };
  checkMemoryLimit(problem, schedule, name);
  return schedule;
};
