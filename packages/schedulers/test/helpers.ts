// Shared by the schedulers' tests.
import { resolveProblem, ScheduleError, type Schedule } from '@pprl/core-wasm';
import { expect } from 'vitest';
import { oneFOneB as oneFOneBFused, oneFOneBSplit } from '../src/generators/classic.js';

/** A seeded 32-bit generator for test data (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 1F1B (V = 1) at unit costs, fused or with each W right after its B. */
export function oneFOneB(P: number, M: number, split = false): Schedule {
  const problem = resolveProblem({ stages: P, microBatches: M });
  return split ? oneFOneBSplit(problem) : oneFOneBFused(problem);
}

/** The ScheduleError that f throws; fails the test if it throws something else or nothing. */
export function scheduleErrorOf(f: () => unknown): ScheduleError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ScheduleError);
    return e as ScheduleError;
  }
  throw new Error('expected a ScheduleError');
}
