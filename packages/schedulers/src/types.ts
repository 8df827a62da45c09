// What every schedule generator looks like, and the registry entry the CLI reads.
import type { Placement, Problem, Schedule } from '@pprl/core-wasm';

/**
 * A generator builds per-device op lists for a problem (its P, V, placement, M, per-stage costs, comm and
 * memory limit). It throws a ScheduleError (from @pprl/core-wasm) with a clear message when it cannot: wrong
 * chunks or placement, M too small, or a memory limit it cannot meet (naming the device and by how much).
 */
export type Generator = (problem: Problem) => Schedule;

export interface ScheduleInfo {
  /** Lowercase with hyphens, e.g. `zb-h1`. */
  name: string;
  description: string;
  /** Chunks per device the schedule needs (V), when it is fixed. */
  chunks?: number;
  /** Placement the schedule needs when V > 1. */
  placement?: Placement;
  build: Generator;
}
