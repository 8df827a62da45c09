// The room a schedule leaves, over many episodes: per-episode lower bounds (cheap, for every episode) and the
// clairvoyant oracle (costly, for as many episodes as the budget allows), as arrays paired by episode index.
import type { Problem } from '@pprl/core-wasm';
import { lowerBound } from './bounds.js';
import { episodeInstance } from './instance.js';
import { clairvoyantOracle, type OracleOptions, type OracleResult } from './oracle.js';

/** The lower bound of episodes [start, start + count) of the problem (its own noise settings). */
export function lowerBounds(problem: Problem, count: number, start = 0): Float64Array {
  const out = new Float64Array(count);
  for (let e = 0; e < count; e++) out[e] = lowerBound(episodeInstance(problem, start + e)).value;
  return out;
}

export interface RoomResult {
  /** Per episode: the best lower bound (combinatorial, or the MILP's when it proved more). */
  lowerBound: Float64Array;
  /** Per episode: the oracle's makespan. */
  oracle: Float64Array;
  /** Episodes whose oracle is proven optimal. */
  proven: number;
  results: OracleResult[];
}

export interface RoomOptions extends OracleOptions {
  /** Called after each episode (for progress bars). */
  onEpisode?: (episode: number) => void;
}

/** The oracle and bound of episodes 0 .. count - 1. */
export async function measureRoom(problem: Problem, count: number, opts: RoomOptions = {}): Promise<RoomResult> {
  const lowerBound = new Float64Array(count);
  const oracle = new Float64Array(count);
  const results: OracleResult[] = [];
  let proven = 0;
  for (let e = 0; e < count; e++) {
    const r = await clairvoyantOracle(problem, e, opts);
    results.push(r);
    lowerBound[e] = r.lowerBound;
    oracle[e] = r.makespan;
    if (r.proven) proven++;
    opts.onEpisode?.(e);
  }
  return { lowerBound, oracle, proven, results };
}
