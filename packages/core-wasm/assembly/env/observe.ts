// The observation of a decision (docs/SEMANTICS.md section 4; the table of README.md "Environment";
// ReferenceEnv.observe): OBS_GLOBAL global features, then OBS_PER_CLASS per class, f32, written in place. Only base
// costs and what has happened enter it, never a realized duration still to come.
import { f64At, i32At, u8At, setF32, flagAt } from '../memory';
import {
  KIND_F, KIND_B, KIND_W, OBS_GLOBAL, OBS_PER_CLASS, FEATURES_ARRIVAL, FEATURES_MEMORY, FEATURES_PLAN,
  OBS_POSITION, OBS_FIRST, OBS_LAST, OBS_PROGRESS, OBS_OWN_PROGRESS, OBS_TIME, OBS_MEMORY, OBS_HAS_LIMIT,
  OBS_IN_FLIGHT, OBS_IDLE, OBS_WAIT, OBS_PREV_IDLE, OBS_PREV_STARTED, OBS_NEXT_IDLE, OBS_NEXT_STARTED,
  OBS_IDLE_SINCE, OBS_MB_PER_DEVICE, OBS_CHUNKS, OBS_HEADROOM, OBS_HEADROOM_PREV, OBS_HEADROOM_NEXT, OBS_SOONEST,
  CLS_ELIGIBLE, CLS_REMAINING, CLS_COST, CLS_READY, CLS_PATH, CLS_ETA, CLS_PLAN,
} from '../contract';
import { Ctx, Prob, Env, envAt } from './layout';
import { inFlight } from './events';
import { teacherNext } from './policies';
import { ensure } from './step';

/**
 * Consecutive micro-batches of class (kind, s) from m whose inputs are there (activations for F, gradients for B,
 * finished B's for W), capped at P.
 */
function readyDepth(e: Env, p: Prob, kind: i32, s: i32, m: i32): i32 {
  const P = p.P;
  const S = p.S;
  const M = p.M;
  let n = 0;
  while (n < P && m + n < M) {
    const i = s * M + m + n;
    let ok: bool;
    if (kind == KIND_F) ok = flagAt(e.flags, i) != 0;
    else if (kind == KIND_B) ok = m + n < i32At(e.doneCnt, s) && flagAt(e.flags, S * M + i) != 0;
    else ok = m + n < i32At(e.doneCnt, S + s);
    if (!ok) break;
    n++;
  }
  return n;
}

/**
 * Expected time from t until the inputs of op (kind, s, m) of idle device d are there, from what has happened and
 * base costs only (never a realized duration that lies in the future): 0 when they are there; for an input in
 * flight, the end of the producer class's latest finished op + the base transfer time; for a running producer, its
 * start + its base cost + the transfer; for a producer not started yet, as if its device ran it next (after the
 * base cost of what it runs now). -1 when the op waits for an op of d itself (B before its F, W before its B).
 */
function inputEta(e: Env, p: Prob, d: i32, kind: i32, s: i32, m: i32, t: f64): f64 {
  const S = p.S;
  const M = p.M;
  let q: i32; // the producer's class slot
  if (kind == KIND_W) return m < i32At(e.doneCnt, S + s) ? 0 : -1;
  if (kind == KIND_F) {
    if (s == 0 || flagAt(e.flags, s * M + m) != 0) return 0;
    q = s - 1;
  } else {
    if (m >= i32At(e.doneCnt, s)) return -1;
    if (s == S - 1 || flagAt(e.flags, S * M + s * M + m) != 0) return 0;
    q = S + s + 1;
  }
  const dp = i32At(p.stageDevice, q - (q >= S ? S : 0));
  const hop = dp != d ? f64At(p.xferTime, q) : 0;
  if (i32At(e.doneCnt, q) > m) return max<f64>(0, f64At(e.lastDone, q) + hop - t);
  const base = f64At(p.cost, q);
  const rs = i32At(e.runSlot, dp);
  if (rs == q && i32At(e.runMb, dp) == m) return max<f64>(0, f64At(e.runStart, dp) + base + hop - t);
  let free = t;
  if (rs >= 0) free = max<f64>(t, f64At(e.runStart, dp) + f64At(p.cost, rs));
  return free - t + base + hop;
}

/** Memory headroom of device x in units of P of its forward activations ((limit - memory) / (P fullF)), in [0, 2]. */
function headroom(e: Env, p: Prob, x: i32): f64 {
  const full = f64At(p.fullF, x);
  if (!p.hasLimit || !(full > 0)) return 2;
  const h = (p.memLimit - f64At(e.curMem, x)) / (<f64>p.P * full);
  return h < 0 ? 0 : h > 2 ? 2 : h;
}

/** Writes e's observation (the deciding device's view) to out f32[D]. */
export function observe(c: Ctx, e: Env, out: usize): void {
  const p = changetype<Prob>(e.prob);
  const P = p.P;
  const V = p.V;
  const M = p.M;
  const S = p.S;
  const Vmax = c.Vmax;
  const d = e.cursor;
  const t = e.t;
  const total3 = <f64>(3 * V * M);
  let idle = 0;
  for (let x = 0; x < P; x++) if (i32At(e.runSlot, x) < 0) idle++;
  const cur = f64At(e.curMem, d);
  let mem: f64 = 0;
  if (p.hasLimit) mem = cur / p.memLimit;
  else if (f64At(p.fullF, d) > 0) mem = cur / (<f64>P * f64At(p.fullF, d));
  if (mem > 2) mem = 2;
  if (mem < -2) mem = -2;
  const since: f64 = p.meanCost > 0 ? (t - f64At(e.lastEnd, d)) / p.meanCost : 0;
  setF32(out, OBS_POSITION, P > 1 ? <f64>d / <f64>(P - 1) : 0);
  setF32(out, OBS_FIRST, d == 0 ? 1 : 0);
  setF32(out, OBS_LAST, d == P - 1 ? 1 : 0);
  setF32(out, OBS_PROGRESS, <f64>e.done / <f64>e.total);
  setF32(out, OBS_OWN_PROGRESS, <f64>i32At(e.started, d) / total3);
  setF32(out, OBS_TIME, 0.5 * min<f64>(t / p.scale, 4));
  setF32(out, OBS_MEMORY, mem);
  setF32(out, OBS_HAS_LIMIT, p.hasLimit ? 1 : 0);
  setF32(out, OBS_IN_FLIGHT, 0.5 * min<f64>(<f64>(e.busy + inFlight(e, P, t)) / <f64>P, 2));
  setF32(out, OBS_IDLE, <f64>idle / <f64>P);
  setF32(out, OBS_WAIT, <f64>u8At(e.mask, 3 * Vmax));
  setF32(out, OBS_PREV_IDLE, d > 0 && i32At(e.runSlot, d - 1) < 0 ? 1 : 0);
  setF32(out, OBS_PREV_STARTED, d > 0 ? <f64>i32At(e.started, d - 1) / total3 : 0);
  setF32(out, OBS_NEXT_IDLE, d < P - 1 && i32At(e.runSlot, d + 1) < 0 ? 1 : 0);
  setF32(out, OBS_NEXT_STARTED, d < P - 1 ? <f64>i32At(e.started, d + 1) / total3 : 0);
  setF32(out, OBS_IDLE_SINCE, since / (1 + since));
  setF32(out, OBS_MB_PER_DEVICE, 0.25 * min<f64>(<f64>M / <f64>P, 4));
  setF32(out, OBS_CHUNKS, <f64>V / <f64>Vmax);
  const memoryOn = (c.featureOff & FEATURES_MEMORY) == 0;
  const arrivalOn = (c.featureOff & FEATURES_ARRIVAL) == 0;
  setF32(out, OBS_HEADROOM, memoryOn ? headroom(e, p, d) : 0);
  setF32(out, OBS_HEADROOM_PREV, memoryOn && d > 0 ? headroom(e, p, d - 1) : 0);
  setF32(out, OBS_HEADROOM_NEXT, memoryOn && d < P - 1 ? headroom(e, p, d + 1) : 0);
  let soonest: f64 = Infinity; // the nearest arrival among the classes still waiting for theirs
  const planned = (c.featureOff & FEATURES_PLAN) == 0 ? teacherNext(c, e) : -1;
  for (let k = 0; k < 3 * Vmax; k++) {
    const b = OBS_GLOBAL + k * OBS_PER_CLASS;
    const ch = k / 3;
    if (ch >= V) {
      for (let j = 0; j < OBS_PER_CLASS; j++) setF32(out, b + j, 0);
      continue;
    }
    const kind = k - 3 * ch;
    const s = i32At(p.devStages, d * V + ch);
    const m = i32At(e.nextMb, kind * S + s);
    setF32(out, b + CLS_ELIGIBLE, <f64>u8At(e.mask, k));
    setF32(out, b + CLS_REMAINING, <f64>(M - m) / <f64>M);
    let x: f64 = 0;
    if (m < M && p.meanCost > 0) {
      const r = f64At(p.cost, kind * S + s) / p.meanCost;
      x = r / (1 + r);
    }
    setF32(out, b + CLS_COST, x);
    setF32(out, b + CLS_READY, <f64>readyDepth(e, p, kind, s, m) / <f64>P);
    setF32(out, b + CLS_PATH, m < M && p.pathF0 > 0 ? f64At(p.path, kind * S + s) / p.pathF0 : 0);
    let eta: f64 = 0;
    if (arrivalOn && m < M) {
      const x = inputEta(e, p, d, kind, s, m, t);
      if (x < 0) eta = 1;
      else if (p.meanCost > 0) {
        const r = x / p.meanCost;
        eta = r / (1 + r);
        if (x > 0 && r < soonest) soonest = r;
      }
    }
    setF32(out, b + CLS_ETA, eta);
    setF32(out, b + CLS_PLAN, k == planned ? 1 : 0);
  }
  setF32(out, OBS_SOONEST, arrivalOn ? (soonest < Infinity ? soonest / (1 + soonest) : 1) : 0);
}

/** Runs pending episodes to their first decisions and writes every observation and mask (pointers may be 0). */
export function observeAll(c: Ctx, obs: usize, mask: usize): i32 {
  const N = c.N;
  const D = <usize>c.D;
  const A = <usize>c.A;
  for (let i = 0; i < N; i++) {
    const e = envAt(c, i);
    const r = ensure(c, e);
    if (r < 0) return r;
    if (obs) observe(c, e, obs + <usize>i * D * 4);
    if (mask) memory.copy(mask + <usize>i * A, e.mask, A);
  }
  return 0;
}
