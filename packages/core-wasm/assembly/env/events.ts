// Events of an episode (docs/SEMANTICS.md section 4, src/engine/core.ts). An op end is the runEnd of its device (at
// most one op runs per device; Infinity when idle): the earliest is a SIMD scan over the devices. Transfers in flight
// sit in a binary heap of 16-byte entries (f64 arrival time, i32 offset of the flag the arrival sets, i32 destination
// device). Events at one time commute (each op end writes its own device's state and every arrival only sets a flag and
// marks its idle destination), so the order in which the events of one time are taken changes no result.
import { f64At, setF64, i32At, setI32, ptr64, ptr32, setBit, bitWords, setFlag } from '../memory';
import { factor, mbKey } from '../noise';
import { KIND_F, NOISE_COMM_F } from '../contract';
import { Env, Prob } from './layout';
import { Untracked, tracks, statsMemory } from './stats';

/** Entry i of the arrival heap. */
// @ts-ignore: decorator
@inline function heapAt(h: usize, i: i32): usize { return h + (<usize>i << 4); }

/** Pushes an arrival at t (setting flag at device `to`) onto the heap. */
// @ts-ignore: decorator
@inline export function arrPush(e: Env, t: f64, flag: i32, to: i32): void {
  const h = e.arr;
  let i = e.arrSize;
  e.arrSize = i + 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const pp = heapAt(h, parent);
    if (load<f64>(pp) <= t) break;
    v128.store(heapAt(h, i), v128.load(pp));
    i = parent;
  }
  const q = heapAt(h, i);
  store<f64>(q, t);
  store<i32>(q, flag, 8);
  store<i32>(q, to, 12);
}

/** Removes the heap's top (the earliest arrival). */
// @ts-ignore: decorator
@inline function arrRemoveTop(e: Env): void {
  const h = e.arr;
  const n = e.arrSize - 1;
  e.arrSize = n;
  const lastP = heapAt(h, n);
  const last = load<f64>(lastP);
  const lastV = v128.load(lastP);
  let i = 0;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) break;
    let cp = heapAt(h, child);
    let ct = load<f64>(cp);
    if (child + 1 < n) {
      const ct2 = load<f64>(cp, 16);
      if (ct2 < ct) {
        child++;
        cp += 16;
        ct = ct2;
      }
    }
    if (ct >= last) break;
    v128.store(heapAt(h, i), v128.load(cp));
    i = child;
  }
  v128.store(heapAt(h, i), lastV);
  store<f64>(heapAt(h, n), Infinity); // the vacated slot (slot 0 of an empty heap reads Infinity)
}

/**
 * The noise factor of micro-batch m of key `slot` (the pure function of noise.ts), taken from nextFactor, which
 * then receives the factor of m + 1: the draws of one key are used in micro-batch order (a class runs its
 * micro-batches in order, and so does its transfer), and each is computed one use ahead, off the chain of
 * dependent operations that leads to the next event (a draw for M is computed and never used).
 */
// @ts-ignore: decorator
@inline export function drawNext(e: Env, slot: i32, m: i32, cv: f64, p: Prob): f64 {
  const f = f64At(e.nextFactor, slot);
  const key = load<u32>(ptr32(e.keys, slot));
  setF64(e.nextFactor, slot, factor(mbKey(key, <u32>(m + 1)), cv, p.floor, p.aP, p.aK));
  return f;
}

/** Marks device d to be evaluated at the next visit when it is idle (a running device is marked when it ends). */
// @ts-ignore: decorator
@inline export function touch(e: Env, d: i32): void {
  if (i32At(e.runSlot, d) < 0) setBit(e.dirty, d);
}

/**
 * A transfer that arrives at `arrival` (sent at `end`) to device `to`, setting the flag at offset `flag`. One that
 * arrives while `to` is still running its op (it ends at or after the arrival) changes nothing before that op
 * ends: nobody reads the flags of a running device, and the event would only mark a running device. Such a
 * transfer is absorbed: its flag is set now and its time kept (for the in-flight count of the observation) until
 * the op ends, instead of being an event. Only a device that waits needs every event: waitDevice turns the
 * absorbed transfers still in flight back into events.
 */
// @ts-ignore: decorator
@inline export function transfer(e: Env, flag: i32, to: i32, arrival: f64, end: f64): void {
  if (arrival > end) {
    if (i32At(e.runSlot, to) >= 0 && f64At(e.runEnd, to) >= arrival) {
      setFlag(e.flags, flag);
      const n = i32At(e.absCnt, to);
      setF64(e.absorbed, n * changetype<Prob>(e.prob).P + to, arrival);
      setI32(e.absCnt, to, n + 1);
      e.absTotal++;
    } else arrPush(e, arrival, flag, to);
  } else {
    setFlag(e.flags, flag);
    touch(e, to);
  }
}

/** Transfers in flight at time t (arrival after t). */
export function inFlight(e: Env, P: i32, t: f64): i32 {
  let n = e.arrSize;
  if (e.absTotal == 0) return n;
  for (let x = 0; x < P; x++) {
    const k = i32At(e.absCnt, x);
    for (let j = 0; j < k; j++) if (f64At(e.absorbed, j * P + x) > t) n++;
  }
  return n;
}

/**
 * Device d's op ends at `end`: the device is idle again, memory is given back and the output sent (T Tracked: the
 * peak memory of env/stats.ts too).
 */
// @ts-ignore: decorator
@inline export function complete<T = Untracked>(e: Env, p: Prob, d: i32, end: f64): void {
  const runSlot = e.runSlot;
  const slot = i32At(runSlot, d);
  const m = i32At(e.runMb, d);
  setI32(runSlot, d, -1);
  setF64(e.runEnd, d, Infinity);
  e.busy--;
  // the transfers it absorbed have all arrived
  e.absTotal -= i32At(e.absCnt, d);
  setI32(e.absCnt, d, 0);
  setF64(e.lastEnd, d, end);
  setBit(e.dirty, d);
  e.done++;
  setI32(e.doneCnt, slot, m + 1);
  setF64(e.lastDone, slot, end);
  // B and W give memory back (memEnd is 0 for F)
  const curMem = e.curMem;
  const mem = f64At(curMem, d) + f64At(p.memEnd, slot);
  setF64(curMem, d, mem);
  if (tracks<T>()) statsMemory(d, mem);
  // F's activation goes to F(m, s + 1), B's gradient to B(m, s - 1)
  const to = i32At(p.xferTo, slot);
  if (to < 0) return;
  let arrival = end;
  if (to != d) {
    let cm = f64At(p.xferTime, slot);
    // transfer noise keys: NOISE_COMM_F * S + s after F, NOISE_COMM_B * S + s after B, i.e. slot + 3S
    if (p.commNoisy) cm *= drawNext(e, slot + (NOISE_COMM_F - KIND_F) * p.S, m, p.commCv, p);
    arrival = end + cm;
  }
  transfer(e, i32At(p.xferFlag, slot) + m, to, arrival, end);
}

/** The lane-wise minimum of v and the 8 f64 at a (two lanes left to combine). */
// @ts-ignore: decorator
@inline function min8(v: v128, a: usize): v128 {
  const lo = f64x2.pmin(v128.load(a), v128.load(a, 16));
  return f64x2.pmin(v, f64x2.pmin(lo, f64x2.pmin(v128.load(a, 32), v128.load(a, 48))));
}

/** Bit 2j set when runEnd[j] == t, j < 8 (the other bits are noise to mask out with 0x5555). */
// @ts-ignore: decorator
@inline function eq8(tt: v128, a: usize): i32 {
  // each 64-bit lane of a comparison is 0 or -1: narrowing twice keeps 2 bytes per device
  const lo = i16x8.narrow_i32x4_s(f64x2.eq(v128.load(a), tt), f64x2.eq(v128.load(a, 16), tt));
  const hi = i16x8.narrow_i32x4_s(f64x2.eq(v128.load(a, 32), tt), f64x2.eq(v128.load(a, 48), tt));
  return i8x16.bitmask(i8x16.narrow_i16x8_s(lo, hi)) & 0x5555;
}

/** Pops every event at the earliest time, completing ops and marking the devices transfers reach. */
// @ts-ignore: decorator
@inline export function popEvents<T = Untracked>(e: Env, p: Prob): void {
  const P = p.P;
  const runEnd = e.runEnd;
  const h = e.arr;
  // the earliest event: the heap's top (Infinity when empty) or an op end (idle devices and the padding of runEnd
  // to a multiple of 8 hold Infinity), without branches
  let v = min8(f64x2.splat(load<f64>(h)), runEnd);
  for (let d = 8; d < P; d += 8) v = min8(v, ptr64(runEnd, d));
  v = f64x2.pmin(v, v128.shuffle<f64>(v, v, 1, 0));
  const t = f64x2.extract_lane(v, 0);
  // every op that ends at t
  for (let d = 0; d < P; d += 8) {
    let hits = eq8(v, ptr64(runEnd, d));
    while (hits != 0) {
      const j = ctz(hits) >> 1;
      hits &= hits - 1;
      complete<T>(e, p, d + j, t);
    }
  }
  // every arrival at t
  while (load<f64>(h) <= t) {
    const flag = load<i32>(h, 8);
    const to = load<i32>(h, 12);
    arrRemoveTop(e);
    setFlag(e.flags, flag);
    touch(e, to);
  }
  e.t = t;
  if (e.waitedCount > 0) {
    // sleeping devices look again (they stay asleep while nothing they can do has changed)
    const words = bitWords(P);
    for (let w = 0; w < words; w++) {
      const o = <usize>w << 3;
      store<u64>(e.dirty + o, load<u64>(e.dirty + o) | load<u64>(e.waited + o));
    }
  }
}
