// The memory rules of dynamic execution (docs/SEMANTICS.md section 1, Memory): how a forward is checked against
// the per-device limit when V > 1. Pure functions of the core's tables and counters; assembly/env.ts has the same
// functions with the same f64 operations.

/**
 * How a forward is checked against the memory limit (all three are the same as `plain` when V = 1).
 * - `plain`: current + memF <= limit. With V > 1 a device can fill its memory with first-chunk forwards and trap
 *   the pipeline (a deadlock).
 * - `reserve` (default): also keep room for the forwards still owed on later chunks by the lowest micro-batch
 *   already started on this device, or, when none is open, for the rest of this micro-batch's forwards (a
 *   per-device banker's rule). Deadlock-free, but it blocks forwards that ZB-V and V-Half run.
 * - `lowest`: let m0 be the lowest micro-batch whose forward has not started on every stage (the last stage's next
 *   forward). Memory a device holds for micro-batches below m0 will be freed whatever happens (their forwards have
 *   all started, and backward ops need no memory), so only the rest counts: F(m, s) on device d also needs
 *   held(d, >= m0) + memF(s) + (m0's other forwards still owed on d) <= limit. Deadlock-free (see
 *   `heldFromLowest`) and it admits every forward of ZB-V, V-Half and V-Min at their own peak memory.
 */
export type MemoryRule = 'reserve' | 'plain' | 'lowest';
export const MEMORY_RULES: readonly MemoryRule[] = ['reserve', 'plain', 'lowest'];

/** What the rules read: the core's tables and counters (EventCore is one). Indices as in src/engine/tables.ts. */
export interface RuleState {
  readonly S: number;
  readonly V: number;
  readonly devStages: Int32Array;
  readonly memDelta: Float64Array;
  readonly fullF: Float64Array;
  /** [kind * S + s]: the class's next micro-batch. */
  readonly nextMb: Int32Array;
  /** [kind * S + s]: finished ops of the class (they finish in micro-batch order). */
  readonly doneCnt: Int32Array;
}

/** The reserve rule's state for one device (see MemoryRule), filled by `scanOpenForwards`. */
export interface OpenForwards {
  /** The lowest micro-batch whose forwards are started on some but not all of the device's chunks; -1 if none. */
  lowestOpen: number;
  /** The forward memory it still owes (its chunks not yet started). */
  owed: number;
}

/**
 * Reserve rule: finds device d's lowest open micro-batch and what it still owes. Forwards start in chunk order, so
 * it is the last chunk's next one.
 */
export function scanOpenForwards(out: OpenForwards, state: RuleState, d: number): void {
  const { V, devStages, nextMb, memDelta } = state;
  out.lowestOpen = -1;
  out.owed = 0;
  const first = nextMb[devStages[d * V]!]!;
  const last = nextMb[devStages[d * V + V - 1]!]!;
  if (last >= first) return;
  out.lowestOpen = last;
  for (let c = 1; c < V; c++) {
    const s = devStages[d * V + c]!;
    if (nextMb[s] === last) out.owed += memDelta[s]!;
  }
}

/** Memory that must stay free beyond F(m, s) on device d under the reserve rule (after scanOpenForwards for d). */
export function reservedBeyond(open: OpenForwards, state: RuleState, d: number, s: number, m: number): number {
  if (m === open.lowestOpen) return 0;
  return open.lowestOpen >= 0 ? open.owed : state.fullF[d]! - state.memDelta[s]!;
}

/**
 * Rule `lowest` for F(m, s) about to start on device d: the memory d holds for micro-batches >= m0 plus the forwards
 * m0 still owes on d other than this one (add memF(s) and compare with the limit); m0 = nextMb of the last stage's F.
 *
 * Why no deadlock (memF >= 0, memB <= 0, memW <= 0, limit >= every device's summed memF): let freeable(d) be the
 * memory d holds for micro-batches < m0 and owed(d) what m0's unstarted forwards on d need. The rule keeps
 * cur - freeable + owed <= limit on every device: forwards of m0 move memory from owed to cur, other forwards are
 * admitted only within it, backward ops lower cur (and freeable alike), and when m0 advances, the finished forwards
 * of the old m0 (a full micro-batch's forward memory on each device, none freed yet since its last stage has just
 * started) join freeable while owed becomes at most that much. In a state where nothing runs or is in flight:
 * if a micro-batch below m0 has backward work left, its next backward op is eligible; otherwise freeable = 0, so
 * cur + owed <= limit and m0's next forward fits. Either way some op can start.
 */
export function heldFromLowest(state: RuleState, d: number, s: number, m: number): number {
  const { S, V, devStages, nextMb, doneCnt, memDelta } = state;
  const m0 = nextMb[S - 1]!;
  let held = 0;
  for (let c = 0; c < V; c++) {
    const st = devStages[d * V + c]!;
    const f = nextMb[st]!;
    const doneB = Math.max(0, doneCnt[S + st]! - m0);
    const doneW = Math.max(0, doneCnt[2 * S + st]! - m0);
    held += (f - m0) * memDelta[st]! + doneB * memDelta[S + st]! + doneW * memDelta[2 * S + st]!;
    if (f === m0 && !(m === m0 && st === s)) held += memDelta[st]!;
  }
  return held;
}
