// Lower bounds on the makespan of one episode (realized durations known), valid for every order of every device:
// - the critical path of the dependency graph (no device conflicts);
// - per device, the optimum of a one-machine relaxation: its ops with heads and tails, preemption allowed
//   (Jackson's preemptive rule solves it exactly), which counts the warm-up a device cannot avoid;
// - per device, a memory-aware count: at most k forwards can be open at once, and an open forward is freed no
//   earlier than its micro-batch's round trip allows, so the device is forced idle early on.
import { headsAndTails, type Instance } from './instance.js';

export interface LowerBound {
  /** The largest of the bounds below. */
  value: number;
  criticalPath: number;
  /** Max over devices of the one-machine (preemptive, heads and tails) bound. */
  device: number;
  /** Max over devices of the memory-aware bound; -Infinity when there is no limit or it does not apply. */
  memory: number;
  /** Device that gives `device` (or `memory` when that is larger). */
  binding: number;
}

/** Ops of each device, by op id. */
export function opsByDevice(inst: Instance): Int32Array[] {
  const lists: number[][] = Array.from({ length: inst.P }, () => []);
  for (let id = 0; id < inst.N; id++) lists[inst.device[id]!]!.push(id);
  return lists.map((l) => Int32Array.from(l));
}

/**
 * min over preemptive one-machine schedules of max(completion + tail), heads as release times: run the released
 * op with the longest tail, switching when a new op is released. Exact for the relaxation, so a valid bound.
 */
export function jacksonBound(ops: Int32Array, dur: Float64Array, head: Float64Array, tail: Float64Array): number {
  const n = ops.length;
  const byRelease = Array.from(ops).sort((a, b) => head[a]! - head[b]! || a - b);
  const left = new Float64Array(n);
  const released: number[] = []; // indices into byRelease
  for (let i = 0; i < n; i++) left[i] = dur[byRelease[i]!]!;
  let next = 0;
  let t = 0;
  let bound = 0;
  let finished = 0;
  while (finished < n) {
    if (released.length === 0 && next < n && head[byRelease[next]!]! > t) t = head[byRelease[next]!]!;
    while (next < n && head[byRelease[next]!]! <= t) released.push(next++);
    let pick = 0;
    for (let r = 1; r < released.length; r++)
      if (tail[byRelease[released[r]!]!]! > tail[byRelease[released[pick]!]!]!) pick = r;
    const i = released[pick]!;
    const untilRelease = next < n ? head[byRelease[next]!]! - t : Infinity;
    const run = Math.min(left[i]!, untilRelease);
    t += run;
    left[i] = left[i]! - run;
    if (left[i]! <= 0) {
      released.splice(pick, 1);
      finished++;
      const q = t + tail[byRelease[i]!]!;
      if (q > bound) bound = q;
    }
  }
  return bound;
}

/**
 * The memory-aware bound of device d (none without a limit, or unless forwards allocate and B and W only free).
 * Forward j holds a = memF from its start, a + memB after its B and nothing after its W. Before time t at most
 * b(t) B's and w(t) W's of the device can have ended, and a forward starting then needs
 * (n - b) a + (b - w)(a + memB) <= limit with n the forwards started so far: n(t) <= (limit + b(t) (-memB) +
 * w(t) (a + memB)) / a. (With stages of different sizes on one device, the smallest forward and no credit for B
 * are used: weaker, still valid.) The j-th earliest B (or W) end is bounded by the heads, by the j-th forward's
 * earliest start plus the shortest forward-to-backward path, and by B's (W's) running one at a time. A B or W can
 * only run for a (stage, micro-batch) whose forward started, so the work done by t is at most n(t) items (F, B
 * and W of one stage and micro-batch, counted for the part released before t), and at most what a work-conserving
 * device could do. t minus that work is idle time the device cannot avoid, on top of all of its work.
 */
export function memoryBound(inst: Instance, ops: Int32Array, head: Float64Array): number {
  if (!Number.isFinite(inst.memLimit)) return -Infinity;
  const { S, M, dur, memDelta } = inst;
  const SM = S * M;
  const forwards: number[] = [];
  for (const id of ops) {
    if (id < SM) {
      if (!(memDelta[id]! > 0)) return -Infinity;
      forwards.push(id);
    } else if (memDelta[id]! > 0) return -Infinity;
  }
  const n = forwards.length;
  const alloc = forwards.map((f) => memDelta[f]!);
  const afterB = forwards.map((f) => memDelta[f]! + memDelta[f + SM]!);
  const same = (xs: number[]) => xs.every((x) => Math.abs(x - xs[0]!) <= 1e-12 * alloc[0]!);
  const uniform = same(alloc) && same(afterB);
  const a = uniform ? alloc[0]! : Math.min(...alloc);
  const residual = uniform ? afterB[0]! : a; // without credit for B, a B frees nothing
  const limit = inst.memLimit * (1 + 1e-9);
  if (Math.floor(limit / a) >= n) return -Infinity;

  const minOf = (f: (id: number) => number) => forwards.reduce((m, id) => Math.min(m, f(id)), Infinity);
  const maxOf = (f: (id: number) => number) => forwards.reduce((m, id) => Math.max(m, f(id)), 0);
  const [minF, minB, minW] = [minOf((f) => dur[f]!), minOf((f) => dur[f + SM]!), minOf((f) => dur[f + 2 * SM]!)];
  const [maxF, maxB, maxW] = [maxOf((f) => dur[f]!), maxOf((f) => dur[f + SM]!), maxOf((f) => dur[f + 2 * SM]!)];
  // every path into B(s, mb) runs through F(s, mb): head(B) - head(F) is the shortest F-start-to-B-start gap
  const toB = minOf((f) => head[f + SM]! - head[f]!);
  const toW = minOf((f) => head[f + 2 * SM]! - head[f]!);
  // rankStart[j]: earliest start of the j-th forward to start on this device (heads; forwards one at a time)
  const headsF = forwards.map((f) => head[f]!).sort((x, y) => x - y);
  const rankStart = new Float64Array(n);
  for (let j = 0; j < n; j++) rankStart[j] = Math.max(headsF[j]!, j > 0 ? rankStart[j - 1]! + minF : 0);
  const endB = forwards.map((f) => head[f + SM]! + dur[f + SM]!).sort((x, y) => x - y);
  const endW = forwards.map((f) => head[f + 2 * SM]! + dur[f + 2 * SM]!).sort((x, y) => x - y);
  for (let j = 0; j < n; j++) {
    endB[j] = Math.max(endB[j]!, rankStart[j]! + toB + minB, j > 0 ? endB[j - 1]! + minB : 0);
    endW[j] = Math.max(endW[j]!, endB[j]! + minW, j > 0 ? endW[j - 1]! + minW : 0);
  }
  const times = [...new Set([...endB, ...endW])].sort((x, y) => x - y);
  const byRelease = Array.from(ops).sort((x, y) => head[x]! - head[y]!);
  let total = 0;
  for (const id of ops) total += dur[id]!;
  const released = (id: number, t: number) => Math.min(dur[id]!, Math.max(0, t - head[id]!));
  const countBelow = (sorted: number[], t: number) => {
    let c = 0;
    while (c < sorted.length && sorted[c]! < t) c++;
    return c;
  };
  const amounts = new Float64Array(n);
  let best = -Infinity;
  for (const t of times) {
    const b = countBelow(endB, t);
    const w = countBelow(endW, t);
    const started = Math.floor((limit + b * (a - residual) + w * residual) / a);
    if (started >= n) break;
    forwards.forEach((f, j) => (amounts[j] = released(f, t) + released(f + SM, t) + released(f + 2 * SM, t)));
    amounts.sort().reverse();
    let itemWork = 0;
    let rankWork = 0;
    for (let j = 0; j < started; j++) {
      itemWork += amounts[j]!;
      const r = rankStart[j]!;
      rankWork +=
        Math.min(maxF, Math.max(0, t - r)) +
        Math.min(maxB, Math.max(0, t - r - toB)) +
        Math.min(maxW, Math.max(0, t - r - toW));
    }
    // what a device that never idles while work is released could do by t
    let free = 0;
    let conserving = 0;
    for (const id of byRelease) {
      const begin = Math.max(free, head[id]!);
      if (begin >= t) break;
      conserving += Math.min(dur[id]!, t - begin);
      free = begin + dur[id]!;
    }
    best = Math.max(best, t - Math.min(itemWork, rankWork, conserving) + total);
  }
  return best;
}

export function lowerBound(inst: Instance): LowerBound {
  const { head, tail } = headsAndTails(inst);
  let criticalPath = 0;
  for (let id = 0; id < inst.N; id++) criticalPath = Math.max(criticalPath, head[id]! + inst.dur[id]! + tail[id]!);
  let device = 0;
  let memory = -Infinity;
  let binding = 0;
  let bindingValue = -Infinity;
  opsByDevice(inst).forEach((ops, d) => {
    const one = jacksonBound(ops, inst.dur, head, tail);
    const mem = memoryBound(inst, ops, head);
    device = Math.max(device, one);
    memory = Math.max(memory, mem);
    if (Math.max(one, mem) > bindingValue) {
      bindingValue = Math.max(one, mem);
      binding = d;
    }
  });
  return { value: Math.max(criticalPath, device, memory), criticalPath, device, memory, binding };
}
