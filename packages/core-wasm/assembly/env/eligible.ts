// Eligibility of an idle device's classes (docs/SEMANTICS.md sections 1 and 4, src/engine/core.ts): a class is eligible
// when its next micro-batch exists, its dependencies are done and delivered (counters and flag bits) and its memory
// delta fits the limit under the memory rule: plain, reserve (room for the forwards the lowest open micro-batch
// still owes) or lowest (only memory held for micro-batches at or above m0 counts).
import { f64At, i32At, ptr32, setU8, flagAt } from '../memory';
import { KIND_F, KIND_B } from '../contract';
import { Env, Prob } from './layout';

/**
 * The reserve rule's lowest open micro-batch of device d and the forward memory it still owes
 * (src/engine/memory.ts).
 */
function scanOpen(e: Env, p: Prob, d: i32): void {
  e.lowestOpen = -1;
  e.owed = 0;
  if (!e.reserve) return;
  const V = p.V;
  const first = i32At(e.nextMb, i32At(p.devStages, d * V));
  const last = i32At(e.nextMb, i32At(p.devStages, d * V + V - 1));
  if (last >= first) return;
  e.lowestOpen = last;
  let owed: f64 = 0;
  for (let c = 1; c < V; c++) {
    const s = i32At(p.devStages, d * V + c);
    if (i32At(e.nextMb, s) == last) owed += f64At(p.memDelta, s);
  }
  e.owed = owed;
}

/** Rule 'reserve': the memory F(m, s) must leave free on device d (reservedBeyond of src/engine/memory.ts). */
// @ts-ignore: decorator
@inline function reservedBeyond(e: Env, p: Prob, d: i32, s: i32, m: i32): f64 {
  if (!e.reserve || m == e.lowestOpen) return 0;
  return e.lowestOpen >= 0 ? e.owed : f64At(p.fullF, d) - f64At(p.memDelta, s);
}

/**
 * Rule 'lowest' for F(m, s) about to start on device d (heldFromLowest of src/engine/memory.ts, the same f64
 * operations): the memory d holds for micro-batches >= m0 (the last stage's next forward) plus m0's other forwards
 * owed on d.
 */
function heldFromLowest(e: Env, p: Prob, d: i32, s: i32, m: i32): f64 {
  const S = p.S;
  const V = p.V;
  const nextMb = e.nextMb;
  const doneCnt = e.doneCnt;
  const memDelta = p.memDelta;
  const m0 = i32At(nextMb, S - 1);
  let held: f64 = 0;
  for (let c = 0; c < V; c++) {
    const st = i32At(p.devStages, d * V + c);
    const f = i32At(nextMb, st);
    const doneB = max<i32>(0, i32At(doneCnt, S + st) - m0);
    const doneW = max<i32>(0, i32At(doneCnt, 2 * S + st) - m0);
    held += <f64>(f - m0) * f64At(memDelta, st) + <f64>doneB * f64At(memDelta, S + st)
      + <f64>doneW * f64At(memDelta, 2 * S + st);
    if (f == m0 && !(m == m0 && st == s)) held += f64At(memDelta, st);
  }
  return held;
}

/**
 * The eligible classes of idle device d at time t as bits (bit c * 3 + kind; V <= 16 so 3V <= 48 bits). Only a
 * decision writes them out as the mask bytes.
 */
// @ts-ignore: decorator
@inline export function eligibleBits(e: Env, p: Prob, d: i32): u64 {
  const V = p.V;
  const S = p.S;
  const M = p.M;
  const nextMb = e.nextMb;
  const doneCnt = e.doneCnt;
  const devStages = ptr32(p.devStages, d * V);
  const memDelta = p.memDelta;
  const flags = e.flags;
  const SM = S * M;
  const memCap = p.memCap;
  const cur = f64At(e.curMem, d);
  if (V == 1) {
    // one chunk (no reserve rule): the three classes of stage s without the loop
    const s = i32At(devStages, 0);
    const row = s * M;
    const mF = i32At(nextMb, s);
    const mB = i32At(nextMb, S + s);
    const mW = i32At(nextMb, 2 * S + s);
    const okF = <i32>(mF < M) & <i32>(cur + f64At(memDelta, s) <= memCap) & flagAt(flags, row + mF);
    const okB = <i32>(mB < i32At(doneCnt, s)) & <i32>(cur + f64At(memDelta, S + s) <= memCap)
      & flagAt(flags, SM + row + mB);
    const okW = <i32>(mW < i32At(doneCnt, S + s)) & <i32>(cur + f64At(memDelta, 2 * S + s) <= memCap);
    return <u64>(okF | (okB << 1) | (okW << 2));
  }
  const reserve = e.reserve;
  if (reserve) scanOpen(e, p, d);
  let bits: u64 = 0;
  for (let c = 0; c < V; c++) {
    const s = i32At(devStages, c);
    const row = s * M;
    // F: its input is there (stage 0: always)
    let m = i32At(nextMb, s);
    let ok = <i32>(m < M) & <i32>(cur + f64At(memDelta, s) <= memCap) & flagAt(flags, row + m);
    if (reserve && ok) {
      if (!(cur + f64At(memDelta, s) + reservedBeyond(e, p, d, s, m) <= memCap)) ok = 0;
    }
    if (e.lowest && ok) {
      if (!(heldFromLowest(e, p, d, s, m) + f64At(memDelta, s) <= memCap)) ok = 0;
    }
    bits |= <u64>ok << <u64>(c * 3);
    // B: F(m, s) finished and the gradient is there (last stage: always)
    m = i32At(nextMb, S + s);
    ok = <i32>(m < i32At(doneCnt, s)) & <i32>(cur + f64At(memDelta, S + s) <= memCap)
      & flagAt(flags, SM + row + m);
    bits |= <u64>ok << <u64>(c * 3 + 1);
    // W: B(m, s) finished
    m = i32At(nextMb, 2 * S + s);
    ok = <i32>(m < i32At(doneCnt, S + s)) & <i32>(cur + f64At(memDelta, 2 * S + s) <= memCap);
    bits |= <u64>ok << <u64>(c * 3 + 2);
  }
  return bits;
}

/** Writes bits as the mask bytes of classes 0 .. 3V - 1 (the rest of the mask stays 0). */
export function writeMask(e: Env, p: Prob, bits: u64): void {
  const mask = e.mask;
  const n = 3 * p.V;
  for (let k = 0; k < n; k++) setU8(mask, k, <i32>((bits >> <u64>k) & 1));
}

/** Whether class k's next op on device d has its dependencies done (no memory check: replay mode). */
export function depsReady(e: Env, p: Prob, d: i32, k: i32): bool {
  const c = k / 3;
  const kind = k - 3 * c;
  const S = p.S;
  const M = p.M;
  const s = i32At(p.devStages, d * p.V + c);
  const m = i32At(e.nextMb, kind * S + s);
  if (m >= M) return false;
  const i = s * M + m;
  if (kind == KIND_F) return flagAt(e.flags, i) != 0;
  if (kind == KIND_B) return m < i32At(e.doneCnt, s) && flagAt(e.flags, S * M + i) != 0;
  return m < i32At(e.doneCnt, S + s);
}
