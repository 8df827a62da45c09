// Test helpers: schedules built by hand and random valid schedules.
import type { Op, Problem, Schedule } from '../src/index.js';

/** 1F1B on P devices, V = 1: warm-up forwards, then one forward / one backward; `split` puts W right after B. */
export function oneFOneB(P: number, M: number, split = false): Schedule {
  const devices: Op[][] = [];
  for (let d = 0; d < P; d++) {
    const ops: Op[] = [];
    let f = 0;
    let b = 0;
    const warm = Math.min(P - 1 - d, M);
    for (let i = 0; i < warm; i++) ops.push({ kind: 'F', mb: f++, stage: d });
    while (b < M) {
      if (f < M) ops.push({ kind: 'F', mb: f++, stage: d });
      if (split) ops.push({ kind: 'B', mb: b, stage: d }, { kind: 'W', mb: b, stage: d });
      else ops.push({ kind: 'BW', mb: b, stage: d });
      b++;
    }
    devices.push(ops);
  }
  return { stages: P, chunksPerDevice: 1, placement: 'loop', microBatches: M, devices };
}

/** A seeded 32-bit generator for test data (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random schedule that can always run: a random topological order of the whole dependency graph
 * (each (stage, mb) fused or split at random), restricted to each device.
 */
export function randomSchedule(problem: Problem, random: () => number): Schedule {
  const { stages: P, numStages: S, microBatches: M, stageDevice } = problem;
  const fused = Array.from({ length: S * M }, () => random() < 0.3);
  const ready: Op[] = [];
  for (let m = 0; m < M; m++) ready.push({ kind: 'F', stage: 0, mb: m });
  const devices: Op[][] = Array.from({ length: P }, () => []);
  while (ready.length) {
    const i = Math.floor(random() * ready.length);
    const op = ready[i]!;
    ready[i] = ready[ready.length - 1]!;
    ready.pop();
    devices[stageDevice[op.stage]!]!.push(op);
    const idx = op.stage * M + op.mb;
    const bwKind = fused[idx] ? 'BW' : 'B';
    if (op.kind === 'F') {
      if (op.stage + 1 < S) ready.push({ kind: 'F', stage: op.stage + 1, mb: op.mb });
      else ready.push({ kind: bwKind, stage: op.stage, mb: op.mb });
    } else if (op.kind === 'B' || op.kind === 'BW') {
      if (op.kind === 'B') ready.push({ kind: 'W', stage: op.stage, mb: op.mb });
      if (op.stage > 0) {
        const prev = (op.stage - 1) * M + op.mb;
        ready.push({ kind: fused[prev] ? 'BW' : 'B', stage: op.stage - 1, mb: op.mb });
      }
    }
  }
  return { stages: P, chunksPerDevice: problem.chunks, placement: problem.placement, microBatches: M, devices };
}
