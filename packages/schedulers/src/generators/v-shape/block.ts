// The controllable-memory building block (arXiv 2405.15362) that V-Half and V-Min repeat: a device's F and B
// lanes at fixed slot offsets, one micro-batch every 6 slots; W's go into empty slots, then ops are squeezed into
// earlier free slots where that keeps the peak memory. The orders do not depend on costs (every slot is one unit).
import type { Op, Problem, Schedule } from '@pprl/core-wasm';
import { B0, B1, F0, F1, laneOp, makeSchedule, neighbour, requireVShape } from './lanes.js';

/** Slot times per device: times[d][lane][mb] for lanes F0, F1, B1, B0 and then the W lane(s). */
type SlotTimes = number[][][];

function lastSlot(lists: number[][]): number {
  let last = -1;
  for (const l of lists) for (const t of l) last = Math.max(last, t);
  return last;
}

/** Lane occupying each slot of one device (-1 when empty). */
function slotLanes(lists: number[][], size: number): Int8Array {
  const slots = new Int8Array(size).fill(-1);
  lists.forEach((l, lane) => {
    for (const t of l) {
      if (slots[t] !== -1) throw new Error(`slot ${t} is used twice`);
      slots[t] = lane;
    }
  });
  return slots;
}

/**
 * Adds W's to one device's F/B slots: each empty slot takes a W whose B has already run (chunk 1's first
 * when split); the rest follow the last op. Without `split`, one W lane in B order (its memory is what counts).
 */
function withW(lists: number[][], split: boolean): number[][] {
  const fb = lists.slice(0, 4);
  const bound = lastSlot(fb);
  const slots = slotLanes(fb, bound + 1);
  const ws: number[][] = split ? [[], []] : [[]];
  const owed = [0, 0];
  for (let t = 0; t <= bound; t++) {
    const lane = slots[t]!;
    if (lane >= B1) owed[split ? lane - B1 : 0]!++;
    else if (lane < 0) {
      const w = owed[0]! > 0 ? 0 : owed[1]! > 0 ? 1 : -1;
      if (w >= 0) {
        ws[w]!.push(t);
        owed[w]!--;
      }
    }
  }
  let t = bound;
  for (let w = 0; w < 2; w++) for (; owed[w]! > 0; owed[w]!--) ws[w]!.push(++t);
  return [...fb.map((l) => [...l]), ...ws];
}

/**
 * Peak activation of one device in chunk units (F +1, B 0, W -1). Without a W lane, W's are assumed to run
 * in the first empty slots after their B's.
 */
function peakOfDevice(lists: number[][]): number {
  const hasW = lists.length > 4;
  const bound = lastSlot(lists);
  const slots = slotLanes(lists, bound + 1);
  let owed = 0;
  let cur = 0;
  let peak = 0;
  for (let t = 0; t <= bound; t++) {
    const lane = slots[t]!;
    if (lane === F0 || lane === F1) cur++;
    else if (lane === B1 || lane === B0) owed++;
    else if (lane >= 4) cur--;
    else if (!hasW && owed > 0) {
      cur--;
      owed--;
    }
    peak = Math.max(peak, cur);
  }
  return peak;
}

/**
 * Start times when every device runs its ops in slot order as soon as possible, at unit cost and no comm
 * (the lanes' dependencies: F0/B1 on the previous device, F1/B0 on the next, and the lane before on this one).
 */
function eagerUnitTimes(times: SlotTimes): SlotTimes {
  const P = times.length;
  const ops: [number, number, number, number][] = [];
  times.forEach((lists, d) => lists.forEach((l, lane) => l.forEach((t, mb) => ops.push([t, d, lane, mb]))));
  ops.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3]);
  const endAt: number[][][] = times.map((lists) => lists.map((l) => l.map(() => -1)));
  const deviceFree = new Array<number>(P).fill(0);
  const start: SlotTimes = times.map((lists) => lists.map((l) => l.map(() => 0)));
  for (const [, d, lane, mb] of ops) {
    let ready = deviceFree[d]!;
    if (lane < 4) {
      const from = neighbour(P, d, lane);
      if (from >= 0) ready = Math.max(ready, endAt[from]![lane]![mb]!);
      if (lane > F0) ready = Math.max(ready, endAt[d]![lane - 1]![mb]!);
    }
    start[d]![lane]![mb] = ready;
    endAt[d]![lane]![mb] = ready + 1;
    deviceFree[d] = ready + 1;
  }
  return start;
}

/**
 * Moves ops to earlier free slots (in slot order, after their dependencies) when that does not raise the
 * peak memory over all devices. The steady state (from device 0's first chunk-0 B to the last chunk-0 F) is
 * kept; with `considerW` the warm-up is squeezed too, with W's placed explicitly.
 */
function squeeze(input: SlotTimes, considerW: boolean): SlotTimes {
  const times: SlotTimes = input.map((lists) => (considerW ? withW(lists, false) : lists.map((l) => [...l])));
  const P = times.length;
  const lanes = times[0]!.length;
  const M = times[0]![F0]!.length;
  const budget = Math.max(...times.map(peakOfDevice));
  const occupied = times.map((lists) => new Uint8Array(lastSlot(lists) + 1));
  const next = times.map(() => new Array<number>(lanes).fill(0));
  const total = times.reduce((n, lists) => n + lists.reduce((k, l) => k + l.length, 0), 0);
  let phase = 0;
  let lastForwardSeen = false;
  for (let k = 0; k < total; k++) {
    let best: [number, number, number] | null = null; // time, device, lane
    for (let d = 0; d < P; d++)
      for (let lane = 0; lane < lanes; lane++) {
        const i = next[d]![lane]!;
        const l = times[d]![lane]!;
        if (i >= l.length) continue;
        const t = l[i]!;
        const earlier = !best || t < best[0] || (t === best[0] && (d < best[1] || (d === best[1] && lane < best[2])));
        if (earlier) best = [t, d, lane];
      }
    const [slot, d, lane] = best!;
    const mb = next[d]![lane]!++;
    const own = times[d]!;
    if (lane === F0 && mb === M - 1) lastForwardSeen = true;
    // With too few micro-batches for a steady state the last F comes before device 0's first chunk-0 B; the
    // upstream then never leaves the steady phase (the cool-down stays unsqueezed), so go straight past it.
    if (lane === B0 && d === 0 && phase === 0) phase = lastForwardSeen ? 2 : 1;
    if (phase === 1 || (phase === 0 && !considerW)) {
      if (phase === 1 && lane === F0 && mb === M - 1) phase = 2;
      occupied[d]![slot] = 1;
      continue;
    }
    let after = -1;
    if (lane < 4) {
      const from = neighbour(P, d, lane);
      if (from >= 0) after = Math.max(after, times[from]![lane]![mb]!);
      if (lane > F0) after = Math.max(after, own[lane - 1]![mb]!);
    } else {
      // W number mb belongs to the mb-th B on this device.
      const bs = [...own[B1]!, ...own[B0]!].sort((a, b) => a - b);
      after = Math.max(after, bs[mb]!);
    }
    if (mb > 0) after = Math.max(after, own[lane]![mb - 1]!);
    let placed = slot;
    for (let t = after + 1; t < slot; t++) {
      if (occupied[d]![t]) continue;
      own[lane]![mb] = t;
      if (peakOfDevice(own) <= budget) {
        placed = t;
        break;
      }
    }
    own[lane]![mb] = placed;
    occupied[d]![placed] = 1;
  }
  return eagerUnitTimes(considerW ? times : times.map((lists) => withW(lists, false)));
}

/**
 * Builds the per-device orders of a building-block schedule (V-Half, V-Min): `firstSlots(P)[i]` are the first
 * slots of (F0, F1, B1, B0) on device i of the stable pattern.
 */
export function buildFromBlock(problem: Problem, firstSlots: (P: number) => number[][], name: string): Schedule {
  requireVShape(problem, name);
  const { stages: P, microBatches: M } = problem;
  const pattern: SlotTimes = firstSlots(P).map((offsets) =>
    offsets.map((first) => Array.from({ length: M }, (_, mb) => first + 6 * mb)),
  );
  const firstPass = squeeze(pattern, true).map((lists) => lists.slice(0, 4));
  const secondPass = squeeze(firstPass, false).map((lists) => lists.slice(0, 4));
  const devices = secondPass.map((lists, d) => {
    const slots: [number, Op][] = [];
    withW(lists, true).forEach((l, lane) => l.forEach((t, mb) => slots.push([t, laneOp(P, d, lane, mb)])));
    return slots.sort((a, b) => a[0] - b[0]).map(([, op]) => op);
  });
  return makeSchedule(problem, devices, name);
}
