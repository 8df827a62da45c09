// Classic schedules with fused backward (BW): GPipe, 1F1B, interleaved 1F1B and looped BFS (PyTorch's orders).
import { ScheduleError, type Op, type Problem, type Schedule } from '@pprl/core-wasm';
import { checkMemoryLimit } from '../memory.js';
import type { Generator } from '../types.js';

/** Wraps per-device orders into a schedule and rejects it if it breaks the problem's memory limit. */
export function finishSchedule(problem: Problem, devices: Op[][], name: string): Schedule {
  const schedule: Schedule = {
    stages: problem.stages,
    chunksPerDevice: problem.chunks,
    placement: problem.placement,
    microBatches: problem.microBatches,
    devices,
    name,
  };
  checkMemoryLimit(problem, schedule, name);
  return schedule;
}

/** Throws unless the problem has one chunk per device (one model stage per device). */
export function requireOneChunk(problem: Problem, name: string): void {
  if (problem.chunks !== 1)
    throw new ScheduleError(
      `${name} runs one chunk per device, but the problem has chunks = ${problem.chunks}; ` +
        'use interleaved-1f1b or looped-bfs for chunks > 1',
    );
}

function requireLoop(problem: Problem, name: string): void {
  if (problem.chunks > 1 && problem.placement !== 'loop')
    throw new ScheduleError(
      `${name} needs loop placement (stage s on device s mod P), but the problem has placement = ${problem.placement}`,
    );
}

/**
 * The 1F1B skeleton shared by 1F1B and interleaved 1F1B: `warmup` forwards, then for each backward j one
 * forward (while any are left) followed by backward j. Forward i runs on model stage forwardStage(i) and
 * backward j on backwardStage(j); micro-batches advance per stage in order.
 */
function oneFOneBOrder(
  problem: Problem,
  warmup: number,
  forwardStage: (i: number) => number,
  backwardStage: (j: number) => number,
): Op[] {
  const total = problem.microBatches * problem.chunks;
  const nextF = new Map<number, number>();
  const nextB = new Map<number, number>();
  const take = (next: Map<number, number>, stage: number) => {
    const mb = next.get(stage) ?? 0;
    next.set(stage, mb + 1);
    return mb;
  };
  const forward = (i: number): Op => {
    const stage = forwardStage(i);
    return { kind: 'F', mb: take(nextF, stage), stage };
  };
  const ops: Op[] = [];
  for (let i = 0; i < warmup; i++) ops.push(forward(i));
  for (let j = 0; j < total; j++) {
    if (warmup + j < total) ops.push(forward(warmup + j));
    const stage = backwardStage(j);
    ops.push({ kind: 'BW', mb: take(nextB, stage), stage });
  }
  return ops;
}

/** GPipe: every forward, then every fused backward, in micro-batch order (V = 1). Holds M activations. */
export const gpipe: Generator = (problem) => {
  requireOneChunk(problem, 'gpipe');
  const M = problem.microBatches;
  const devices = Array.from({ length: problem.stages }, (_, d) => [
    ...Array.from({ length: M }, (_, mb): Op => ({ kind: 'F', mb, stage: d })),
    ...Array.from({ length: M }, (_, mb): Op => ({ kind: 'BW', mb, stage: d })),
  ]);
  return finishSchedule(problem, devices, 'gpipe');
};

/**
 * 1F1B (PipeDream-flush, Megatron): device d warms up with min(P-1-d, M) forwards, then alternates one forward
 * and one fused backward, then drains the backwards. Works for any M >= 1 (with M < P the warm-up is capped).
 */
export const oneFOneB: Generator = (problem) => {
  requireOneChunk(problem, '1f1b');
  const { stages: P, microBatches: M } = problem;
  const devices = Array.from({ length: P }, (_, d) =>
    oneFOneBOrder(
      problem,
      Math.min(P - 1 - d, M),
      () => d,
      () => d,
    ),
  );
  return finishSchedule(problem, devices, '1f1b');
};

/**
 * 1F1B with the backward split: each W runs right after its B, so the order is 1F1B's and so is the memory
 * (the replay benchmark's workload; a baseline for schedules that move W elsewhere).
 */
export const oneFOneBSplit: Generator = (problem) => {
  requireOneChunk(problem, '1f1b-split');
  const fused = oneFOneB(problem);
  const split = (op: Op): Op[] =>
    op.kind === 'BW'
      ? [
          { ...op, kind: 'B' },
          { ...op, kind: 'W' },
        ]
      : [op];
  const devices = fused.devices.map((ops) => ops.flatMap(split));
  return finishSchedule(problem, devices, '1f1b-split');
};

/** Rounds and micro-batches per round of interleaved 1F1B (PyTorch / Megatron); throws when M does not split. */
export function interleavedRounds(P: number, M: number): { rounds: number; perRound: number } {
  const rounds = Math.max(1, Math.floor(M / P));
  if (M % rounds !== 0)
    throw new ScheduleError(
      `interleaved-1f1b splits the ${M} micro-batches into max(1, floor(M / P)) = ${rounds} rounds, which must ` +
        `divide M; choose M < ${2 * P} or a multiple of P (e.g. ${P * Math.ceil(M / P)})`,
    );
  return { rounds, perRound: M / rounds };
}

/**
 * Interleaved 1F1B (loop placement, V >= 2), as PyTorch's ScheduleInterleaved1F1B and Megatron build it:
 * micro-batches go in rounds of `perRound`; forwards walk the local chunks upwards one round-slice at a time
 * (depth first), backwards walk them downwards. Rank r warms up with (V-1) * perRound + 2(P-1-r) forwards
 * (at most M * V), then alternates one forward and one fused backward.
 */
export const interleaved1F1B: Generator = (problem) => {
  const { stages: P, chunks: V, microBatches: M } = problem;
  if (V < 2)
    throw new ScheduleError(
      `interleaved-1f1b needs chunks >= 2 (V model chunks per device), but the problem has chunks = ${V}; ` +
        'use 1f1b for one chunk',
    );
  requireLoop(problem, 'interleaved-1f1b');
  const { perRound } = interleavedRounds(P, M);
  const devices = Array.from({ length: P }, (_, r) => {
    const warmup = Math.min((V - 1) * perRound + 2 * (P - 1 - r), M * V);
    const chunkOf = (i: number) => Math.floor(i / perRound) % V;
    return oneFOneBOrder(
      problem,
      warmup,
      (i) => chunkOf(i) * P + r,
      (j) => (V - 1 - chunkOf(j)) * P + r,
    );
  });
  return finishSchedule(problem, devices, 'interleaved-1f1b');
};

/**
 * Looped BFS (PyTorch's ScheduleLoopedBFS, loop placement, any V): every forward of local chunk 0, then of
 * chunk 1, ...; then the fused backwards from the last chunk down, each chunk's micro-batches in reverse.
 * Holds M * V activations.
 */
export const loopedBfs: Generator = (problem) => {
  requireLoop(problem, 'looped-bfs');
  const { stages: P, chunks: V, microBatches: M } = problem;
  const devices = Array.from({ length: P }, (_, r) => {
    const ops: Op[] = [];
    for (let v = 0; v < V; v++) for (let mb = 0; mb < M; mb++) ops.push({ kind: 'F', mb, stage: v * P + r });
    for (let v = V - 1; v >= 0; v--) for (let mb = M - 1; mb >= 0; mb--) ops.push({ kind: 'BW', mb, stage: v * P + r });
    return ops;
  });
  return finishSchedule(problem, devices, 'looped-bfs');
};
