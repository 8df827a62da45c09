// Episode statistics of envRunEpisodeStats (docs/SEMANTICS.md section 3): per device the busy time, the start of
// the first op and the peak memory of the running episode, as the TypeScript executor keeps them (src/engine/core.ts
// occupy and addMemory, bit for bit). Only envRunEpisodeStats pays for them: the episode mechanics (advance,
// startOp, complete, popEvents) take a type argument, Untracked by default, and only their Tracked instances contain
// the bookkeeping (a compile-time branch), so rollouts and envRunEpisodes compile to the code they had without it.
import { f64At, setF64 } from '../memory';
import { STAT_BUSY, STAT_FIRST, STAT_PEAK } from '../contract';

/** Type argument of the episode mechanics that also keeps the statistics below. */
export type Tracked = bool;
/** The default type argument: no statistics. */
export type Untracked = i32;

/** Whether T is Tracked (a constant at compile time). */
// @ts-ignore: decorator
@inline export function tracks<T>(): bool { return isBoolean<T>(); }

/**
 * The scratch of the episode envRunEpisodeStats runs, set by it: f64[STAT_FIELDS][Pmax], rows STAT_BUSY (summed op
 * durations), STAT_FIRST (start of the first op, -1 before it) and STAT_PEAK (the largest memory level, from 0).
 * A module global rather than a field of the vector: saved states keep their layout.
 */
let statBase: usize = 0;
let statRow: i32 = 0;

/** Points the statistics at `scratch` (f64[STAT_FIELDS][Pmax]). */
export function statsAt(scratch: usize, Pmax: i32): void {
  statBase = scratch;
  statRow = Pmax;
}

// @ts-ignore: decorator
@inline function row(field: i32): usize { return statBase + (<usize>(field * statRow) << 3); }

/** Clears the statistics of devices [0, P) for a new episode. */
export function statsBegin(P: i32): void {
  const busy = row(STAT_BUSY);
  const first = row(STAT_FIRST);
  const peak = row(STAT_PEAK);
  for (let d = 0; d < P; d++) {
    setF64(busy, d, 0);
    setF64(first, d, -1);
    setF64(peak, d, 0);
  }
}

/** Device d starts an op of realized duration `dur` at t, as its op number `started` (0: its first). */
// @ts-ignore: decorator
@inline export function statsStart(d: i32, t: f64, dur: f64, started: i32): void {
  const busy = row(STAT_BUSY);
  setF64(busy, d, f64At(busy, d) + dur);
  if (started == 0) setF64(row(STAT_FIRST), d, t);
}

/** Device d's memory is now `mem` (after an op's start or end). */
// @ts-ignore: decorator
@inline export function statsMemory(d: i32, mem: f64): void {
  const peak = row(STAT_PEAK);
  if (mem > f64At(peak, d)) setF64(peak, d, mem);
}

/** The episode's busy time: the devices' sums added in device order (as the TypeScript callers add them). */
export function statsBusy(P: i32): f64 {
  const busy = row(STAT_BUSY);
  let sum: f64 = 0;
  for (let d = 0; d < P; d++) sum += f64At(busy, d);
  return sum;
}

/** The episode's span: the largest over devices of (end of its last op - start of its first op). */
export function statsSpan(P: i32, lastEnd: usize): f64 {
  const first = row(STAT_FIRST);
  let span: f64 = 0;
  for (let d = 0; d < P; d++) {
    const s0 = f64At(first, d);
    const f = f64At(lastEnd, d);
    if (s0 >= 0 && f - s0 > span) span = f - s0;
  }
  return span;
}

/** Folds the episode's peak memory of devices [0, P) into out f64[P] (the largest over the episodes run). */
export function statsFoldPeak(P: i32, out: usize): void {
  const peak = row(STAT_PEAK);
  for (let d = 0; d < P; d++) {
    const x = f64At(peak, d);
    if (x > f64At(out, d)) setF64(out, d, x);
  }
}
