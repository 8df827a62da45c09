// The RL environment (docs/SEMANTICS.md section 4): N scheduling environments in one module instance, all state in flat
// memory that the TypeScript side allocates (src/env.ts). Semantics mirror src/dynamic.ts exactly and the
// TypeScript reference src/env-reference.ts bit for bit (same noise keys, f64 operations in the same order):
// - a class (F, B or W of one local chunk, index c * 3 + kind) is eligible on an idle device when its next
//   micro-batch exists, its dependencies are done and arrived, and its memory delta fits (with the 'reserve' rule
//   for V > 1); within a class micro-batches run in ascending order;
// - at each event time, after every op end and arrival at that time, idle devices are visited in ascending order:
//   none eligible -> idle, one -> it starts (a forced step), more -> a decision (the action picks a class, or waits
//   while something is in flight);
// - the reward of a step is minus the time to the next decision (or to the makespan), over the scale, the first
//   step also carrying the time from 0, so an episode's return is -makespan / scale.
// Speed-ups that do not change results: only devices whose eligibility can have changed are re-evaluated at an
// event (a device's classes change only through its own op ends and the arrivals addressed to it; events carry
// their device), and built-in policies run inside the module without observations. Dependencies are counters
// and bits, not times: a class finishes its micro-batches in order (doneCnt), and an arrival sets its receiver's
// flag bit when it happens. Op ends are each device's runEnd (found by a SIMD scan), transfers sit in a small heap,
// and a transfer that arrives while its receiver is still busy is no event at all (see transfer). Noise factors
// are drawn one use ahead (drawNext) and the V = 1 case has branch-free eligibility and greedy picks.
import { episodeKey, stageKey, mbKey, factor, mix32 } from './noise';
import { mlpForward, mlpForwardShared, mlpForwardBatch, mlpForwardBatchShared, mlpBatchScratchBytes, sampleMasked, argmaxMasked } from './mlp';

const KIND_F: i32 = 0;
const KIND_B: i32 = 1;
const KIND_W: i32 = 2;
const NOISE_COMM_F: i32 = 3;
const NOISE_COMM_B: i32 = 4;

// policies
const POLICY_ZB: i32 = 0;
const POLICY_FFIRST: i32 = 1;
const POLICY_CP: i32 = 2;
const POLICY_REPLAY: i32 = 3;
const POLICY_MLP: i32 = 4;
const POLICY_MLP_GREEDY: i32 = 5;
const POLICY_TEACHER: i32 = 6;

// error codes (returned negated; details in the context header)
const ERR_ACTION: i32 = 1;
const ERR_DEADLOCK: i32 = 2;
const ERR_SILENT: i32 = 3;
const ERR_REPLAY_DEADLOCK: i32 = 4;
const ERR_CONFIG: i32 = 5;
const ERR_PENDING: i32 = 6;

const OBS_GLOBAL: i32 = 22;
const OBS_PER_CLASS: i32 = 7;
// feature groups that can be switched off (observations keep their length; the group's entries are 0)
const FEATURES_ARRIVAL: i32 = 1;
const FEATURES_MEMORY: i32 = 2;
const FEATURES_PLAN: i32 = 4;
const LOG_FIELDS: i32 = 6;
const MAX_SILENT: i32 = 100;
const RANGE_FIELDS: i32 = 24;

/**
 * Version of the memory layout of a vector, the first word of its state: WasmEnv.restoreState compares the first
 * eight words with its own vector's, so a state saved under another layout is refused instead of misread.
 */
const LAYOUT_VERSION: i32 = 0x4c505033; // 3: + op starts, class ends, wait-until-change, teacher, features

/** Header of an environment vector. */
@unmanaged class Ctx {
  layout: i32;
  N: i32;
  Pmax: i32;
  Vmax: i32;
  Mmax: i32;
  Smax: i32;
  D: i32;
  A: i32;
  fresh: i32;
  reserveRule: i32;
  episodeStart: i32;
  hasScale: i32;
  waitOn: i32; // the wait action exists (sleep until the device's eligible classes change)
  featureOff: i32; // FEATURES_* groups written as 0
  errCode: i32;
  errEnv: i32;
  errDevice: i32;
  errAction: i32;
  errEpisode: i32;
  stride: usize;
  envs: usize;
  shared: usize;
  replayOps: usize;
  replayStart: usize;
  replayMb: usize; // i32 per replay op: its micro-batch (the teacher's labels compare it with nextMb)
  ranges: usize;
  scratch: usize; // f32[D] obs | f32[A] logits | f32 logp | u8[A] mask
  scale: f64;
  errTime: f64;
}

/** A problem, with the derived tables the environment needs. */
@unmanaged class Prob {
  P: i32;
  V: i32;
  M: i32;
  S: i32;
  hasLimit: i32;
  computeNoisy: i32;
  commNoisy: i32;
  seed: u32;
  memLimit: f64;
  memCap: f64;
  scale: f64;
  meanCost: f64;
  pathF0: f64;
  cv: f64;
  commCv: f64;
  floor: f64;
  aP: f64;
  aK: f64;
  stageDevice: usize; // i32[S]
  devStages: usize; // i32[P * V]: stage of local chunk c on device d
  cost: usize; // f64[3S], kind * S + s
  comm: usize; // f64[S]
  memDelta: usize; // f64[3S]
  fullF: usize; // f64[P]
  path: usize; // f64[3S]: remaining base-cost path (greedy-cp)
  // per op class slot = kind * S + s, what the start and the end of its ops do (derive):
  xferTo: usize; // i32[3S]: device its output goes to (F: stage s + 1's, B: stage s - 1's), -1 for none
  xferFlag: usize; // i32[3S]: offset of the flag of micro-batch 0's output at the receiver (+ m for m)
  xferTime: usize; // f64[3S]: transfer time when the receiver is another device
  memStart: usize; // f64[3S]: memory taken at the start (F: memDelta, else 0)
  memEnd: usize; // f64[3S]: memory given at the end (B, W: memDelta, F: 0)
}

/** One environment's episode state. */
@unmanaged class Env {
  prob: usize;
  index: i32;
  episode: i32;
  cursor: i32; // the deciding device, or the next device to visit
  done: i32;
  total: i32;
  decisions: i32;
  arrSize: i32; // transfers in flight (entries of the arrival heap)
  busy: i32; // devices running an op (their end times are runEnd)
  absTotal: i32; // absorbed transfers (see complete)
  absCap: i32; // absorbed transfers a device can hold: 2 V M (entry j of device x at j P + x)
  waitedCount: i32;
  reserve: i32;
  lowest: i32; // memory rule 'lowest' (src/dynamic.ts heldFromLowest)
  lowestOpen: i32;
  counter: u32; // sampling counter of the MLP policy
  pending: i32; // an episode has begun but not been run to its first decision yet
  canWait: i32; // the current decision may wait
  bits: u64; // the current decision's eligible classes (bit c * 3 + kind)
  t: f64;
  anchor: f64;
  maxEnd: f64; // the makespan, set when the episode ends
  owed: f64;
  logEpisodes: f64;
  logLast: f64;
  logSum: f64;
  logScaled: f64;
  logDecisions: f64;
  logSilent: f64;
  keys: usize; // u32[5S]: noise key of (kind, stage), kinds F, B, W, transfer after F, transfer after B
  nextFactor: usize; // f64[5S]: noise factor of the next micro-batch of each key (see drawNext)
  nextMb: usize; // i32[3S]
  doneCnt: usize; // i32[3S]: ops finished per class slot kind * S + s (they finish in micro-batch order)
  runEnd: usize; // f64[P rounded up to a multiple of 8]: end of the running op, Infinity when idle (and padding)
  lastEnd: usize; // f64[P]
  curMem: usize; // f64[P]
  runSlot: usize; // i32[P]: class slot kind * S + s of the running op, -1 when idle
  runMb: usize;
  started: usize; // i32[P]
  dirty: usize; // u64[ceil(P / 64)]: devices to evaluate at the next visit (idle ones only)
  waited: usize; // u64[ceil(P / 64)]: devices that chose to wait (evaluated again after the next event)
  mask: usize; // u8[A]
  replayHead: usize; // i32[P]
  flags: usize; // bits [2SM]: the input of F(m, s) is there (bit s M + m), then that of B(m, s) (SM + s M + m)
  arr: usize; // arrival heap, 16-byte entries: f64 time, i32 flag offset, i32 destination device
  absCnt: usize; // i32[P]: transfers absorbed by device d's running op
  absorbed: usize; // f64[absCap * P]: their arrival times, entry j of device x at j P + x
  runStart: usize; // f64[P]: start of the running op
  lastDone: usize; // f64[3S]: end of the latest finished op of each class slot
  waitBits: usize; // u64[P]: eligible classes of a sleeping device when it chose to wait
}

// @ts-ignore: decorator
@inline function f64At(base: usize, i: i32): f64 { return load<f64>(base + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline function setF64(base: usize, i: i32, v: f64): void { store<f64>(base + (<usize>i << 3), v); }
// @ts-ignore: decorator
@inline function i32At(base: usize, i: i32): i32 { return load<i32>(base + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function setI32(base: usize, i: i32, v: i32): void { store<i32>(base + (<usize>i << 2), v); }
// @ts-ignore: decorator
@inline function u8At(base: usize, i: i32): i32 { return <i32>load<u8>(base + <usize>i); }
// @ts-ignore: decorator
@inline function setU8(base: usize, i: i32, v: i32): void { store<u8>(base + <usize>i, <u8>v); }
// @ts-ignore: decorator
@inline function align8(n: usize): usize { return (n + 7) & ~(<usize>7); }

// ---------------------------------------------------------------------------------------------------------------
// Layout

function probBytes(Pmax: i32, Smax: i32): usize {
  const S = <usize>Smax;
  return align8(offsetof<Prob>()) + align8(4 * S) * 2 + 24 * S + 8 * S + 24 * S + align8(8 * <usize>Pmax) + 24 * S
    + align8(12 * S) * 2 + 24 * S * 3;
}

/** Bytes of the flag bits of S M micro-batches (2 S M bits, and a spare byte: a read one past the end is masked). */
// @ts-ignore: decorator
@inline function flagBytes(SM: usize): usize { return align8((SM >> 2) + 2); }

// @ts-ignore: decorator
@inline function flagAt(flags: usize, f: i32): i32 { return (<i32>load<u8>(flags + <usize>(f >> 3)) >> (f & 7)) & 1; }

// @ts-ignore: decorator
@inline function setFlag(flags: usize, f: i32): void {
  const a = flags + <usize>(f >> 3);
  store<u8>(a, <u8>(<i32>load<u8>(a) | (1 << (f & 7))));
}

// @ts-ignore: decorator
@inline function paddedP(Pmax: i32): usize { return (<usize>Pmax + 7) & ~(<usize>7); }

function envArraysBytes(Pmax: i32, Smax: i32, Mmax: i32, A: i32): usize {
  const S = <usize>Smax;
  const P = <usize>Pmax;
  const SM = S * <usize>Mmax;
  return align8(offsetof<Env>()) + align8(20 * S) + 40 * S + align8(12 * S) + align8(12 * S) + 8 * paddedP(Pmax) + 16 * P
    + align8(4 * P) * 3 + 16 * ((P + 63) >> 6) + align8(<usize>A) + align8(4 * P) + flagBytes(SM) + 16 * 2 * SM
    + align8(4 * P) + 8 * 2 * SM + 8 * P + 24 * S + 8 * P;
}

function layoutProb(ptr: usize, Pmax: i32, Smax: i32): usize {
  const p = changetype<Prob>(ptr);
  const S = <usize>Smax;
  let at = ptr + align8(offsetof<Prob>());
  p.stageDevice = at; at += align8(4 * S);
  p.devStages = at; at += align8(4 * S);
  p.cost = at; at += 24 * S;
  p.comm = at; at += 8 * S;
  p.memDelta = at; at += 24 * S;
  p.fullF = at; at += align8(8 * <usize>Pmax);
  p.path = at; at += 24 * S;
  p.xferTo = at; at += align8(12 * S);
  p.xferFlag = at; at += align8(12 * S);
  p.xferTime = at; at += 24 * S;
  p.memStart = at; at += 24 * S;
  p.memEnd = at; at += 24 * S;
  return at;
}

function layoutEnv(ptr: usize, Pmax: i32, Smax: i32, Mmax: i32, A: i32): usize {
  const e = changetype<Env>(ptr);
  const S = <usize>Smax;
  const P = <usize>Pmax;
  const SM = S * <usize>Mmax;
  let at = ptr + align8(offsetof<Env>());
  e.keys = at; at += align8(20 * S);
  e.nextFactor = at; at += 40 * S;
  e.nextMb = at; at += align8(12 * S);
  e.doneCnt = at; at += align8(12 * S);
  e.runEnd = at; at += 8 * paddedP(Pmax);
  e.lastEnd = at; at += 8 * P;
  e.curMem = at; at += 8 * P;
  e.runSlot = at; at += align8(4 * P);
  e.runMb = at; at += align8(4 * P);
  e.started = at; at += align8(4 * P);
  e.dirty = at; at += 8 * ((P + 63) >> 6);
  e.waited = at; at += 8 * ((P + 63) >> 6);
  e.mask = at; at += align8(<usize>A);
  e.replayHead = at; at += align8(4 * P);
  e.flags = at; at += flagBytes(SM);
  e.arr = at; at += 16 * 2 * SM;
  e.absCnt = at; at += align8(4 * P);
  e.absorbed = at; at += 8 * 2 * SM;
  e.runStart = at; at += 8 * P;
  e.lastDone = at; at += 24 * S;
  e.waitBits = at; at += 8 * P;
  return at;
}

/** Observation length for Vmax chunks: 22 + 21 Vmax. */
export function envObsDim(Vmax: i32): i32 {
  return OBS_GLOBAL + 3 * Vmax * OBS_PER_CLASS;
}

/** Action count for Vmax chunks: 3 Vmax classes + wait. */
export function envNumActions(Vmax: i32): i32 {
  return 3 * Vmax + 1;
}

function headerBytes(Vmax: i32): usize {
  const D = <usize>envObsDim(Vmax);
  const A = <usize>envNumActions(Vmax);
  return align8(offsetof<Ctx>()) + align8(8 * <usize>RANGE_FIELDS) + align8(4 * D + 4 * A + 4 + A);
}

function strideOf(Pmax: i32, Vmax: i32, Mmax: i32, fresh: i32): usize {
  const Smax = Pmax * Vmax;
  let s = envArraysBytes(Pmax, Smax, Mmax, envNumActions(Vmax));
  if (fresh) s += probBytes(Pmax, Smax);
  return align8(s);
}

/** Bytes of one environment vector (header, shared problem, N environment blocks and one for envRunEpisodes). */
export function envBytes(N: i32, Pmax: i32, Vmax: i32, Mmax: i32, fresh: i32): f64 {
  return <f64>headerBytes(Vmax) + <f64>probBytes(Pmax, Pmax * Vmax) + <f64>(N + 1) * <f64>strideOf(Pmax, Vmax, Mmax, fresh);
}

/**
 * Lays out a vector of N environments in the block at ctx (envBytes long). `fresh`: every environment draws its
 * problem per episode from the f64[24] ranges (copied); else envSetProblem must load the shared problem.
 * `scale` > 0 fixes the reward scale, 0 uses each problem's ideal time.
 */
export function envInit(
  ctx: usize, N: i32, Pmax: i32, Vmax: i32, Mmax: i32, fresh: i32, reserveRule: i32, episodeStart: i32,
  scale: f64, ranges: usize, waitOn: i32, featureOff: i32,
): i32 {
  const c = changetype<Ctx>(ctx);
  memory.fill(ctx, 0, headerBytes(Vmax));
  c.layout = LAYOUT_VERSION;
  c.N = N;
  c.Pmax = Pmax;
  c.Vmax = Vmax;
  c.Mmax = Mmax;
  c.Smax = Pmax * Vmax;
  c.D = envObsDim(Vmax);
  c.A = envNumActions(Vmax);
  c.fresh = fresh;
  c.reserveRule = reserveRule;
  c.episodeStart = episodeStart;
  c.hasScale = scale > 0 ? 1 : 0;
  c.scale = scale;
  c.waitOn = waitOn;
  c.featureOff = featureOff;
  layoutCtx(c, ctx);
  if (ranges != 0) memory.copy(c.ranges, ranges, 8 * <usize>RANGE_FIELDS);
  changetype<Prob>(c.shared).P = 0;
  for (let i = 0; i <= N; i++) {
    const e = envAt(c, i);
    memory.fill(changetype<usize>(e), 0, offsetof<Env>());
    layoutEnvBlock(c, i);
    e.index = i;
  }
  return 0;
}

/** Sets every pointer of the vector at ctx from its sizes (fields N, Pmax, Vmax, Mmax, Smax, fresh set). */
function layoutCtx(c: Ctx, ctx: usize): void {
  let at = ctx + align8(offsetof<Ctx>());
  c.ranges = at;
  at += align8(8 * <usize>RANGE_FIELDS);
  c.scratch = at;
  at = ctx + headerBytes(c.Vmax);
  c.shared = at;
  layoutProb(at, c.Pmax, c.Smax);
  at += probBytes(c.Pmax, c.Smax);
  c.envs = at;
  c.stride = strideOf(c.Pmax, c.Vmax, c.Mmax, c.fresh);
  for (let i = 0; i <= c.N; i++) layoutEnvBlock(c, i);
}

function layoutEnvBlock(c: Ctx, i: i32): void {
  const ptr = c.envs + <usize>i * c.stride;
  const end = layoutEnv(ptr, c.Pmax, c.Smax, c.Mmax, c.A);
  const e = changetype<Env>(ptr);
  if (c.fresh) {
    e.prob = end;
    layoutProb(end, c.Pmax, c.Smax);
  } else e.prob = c.shared;
}

/**
 * After the bytes of a vector (envBytes long) were copied to ctx from another address (a saved state restored):
 * points every internal pointer at the new place. The replay schedule is unloaded (its memory is the caller's).
 */
export function envRelocate(ctx: usize): void {
  const c = changetype<Ctx>(ctx);
  layoutCtx(c, ctx);
  c.replayOps = 0;
  c.replayStart = 0;
  c.replayMb = 0;
}

// @ts-ignore: decorator
@inline function envAt(c: Ctx, i: i32): Env {
  return changetype<Env>(c.envs + <usize>i * c.stride);
}

// ---------------------------------------------------------------------------------------------------------------
// Problems

/** Derived tables: chunk stages per device, summed forward memory, remaining paths, scale, noise flags. */
function derive(c: Ctx, p: Prob): void {
  const P = p.P;
  const V = p.V;
  const S = p.S;
  const M = p.M;
  for (let d = 0; d < P; d++) setF64(p.fullF, d, 0);
  // devStages: stages of each device in increasing order (a scan per device)
  for (let d = 0; d < P; d++) {
    let filled = 0;
    for (let s = 0; s < S; s++) {
      if (i32At(p.stageDevice, s) != d) continue;
      setI32(p.devStages, d * V + filled, s);
      filled++;
      setF64(p.fullF, d, f64At(p.fullF, d) + f64At(p.memDelta, s));
    }
  }
  // remaining path (envRemainingPath / remainingPath of @pprl/schedulers)
  const costF = p.cost;
  const costB = p.cost + (<usize>S << 3);
  const costW = p.cost + (<usize>(2 * S) << 3);
  const path = p.path;
  for (let s = 0; s < S; s++) {
    setF64(path, KIND_W * S + s, f64At(costW, s));
    let down: f64 = 0;
    if (s > 0) {
      const hop = i32At(p.stageDevice, s - 1) != i32At(p.stageDevice, s) ? f64At(p.comm, s - 1) : 0;
      down = hop + f64At(path, KIND_B * S + s - 1);
    }
    setF64(path, KIND_B * S + s, f64At(costB, s) + max<f64>(f64At(costW, s), down));
  }
  for (let s = S - 1; s >= 0; s--) {
    let rest: f64;
    if (s < S - 1) {
      const hop = i32At(p.stageDevice, s) != i32At(p.stageDevice, s + 1) ? f64At(p.comm, s) : 0;
      rest = hop + f64At(path, KIND_F * S + s + 1);
    } else rest = f64At(path, KIND_B * S + s);
    setF64(path, KIND_F * S + s, f64At(costF, s) + rest);
  }
  p.pathF0 = f64At(path, 0);
  for (let s = 0; s < S; s++) {
    // F: the activation goes to F(m, s + 1), whose input flags are row s + 1 of the first half
    setI32(p.xferTo, s, s + 1 < S ? i32At(p.stageDevice, s + 1) : -1);
    setI32(p.xferFlag, s, (s + 1) * M);
    setF64(p.xferTime, s, f64At(p.comm, s));
    setF64(p.memStart, s, f64At(p.memDelta, s));
    setF64(p.memEnd, s, 0);
    // B: the gradient goes to B(m, s - 1), row s - 1 of the second half
    setI32(p.xferTo, S + s, s > 0 ? i32At(p.stageDevice, s - 1) : -1);
    setI32(p.xferFlag, S + s, S * M + (s - 1) * M);
    setF64(p.xferTime, S + s, s > 0 ? f64At(p.comm, s - 1) : 0);
    setF64(p.memStart, S + s, 0);
    setF64(p.memEnd, S + s, f64At(p.memDelta, S + s));
    // W: nothing to send
    setI32(p.xferTo, 2 * S + s, -1);
    setI32(p.xferFlag, 2 * S + s, 0);
    setF64(p.xferTime, 2 * S + s, 0);
    setF64(p.memStart, 2 * S + s, 0);
    setF64(p.memEnd, 2 * S + s, f64At(p.memDelta, 2 * S + s));
  }
  let sum: f64 = 0;
  for (let s = 0; s < S; s++) sum += f64At(costF, s) + f64At(costB, s) + f64At(costW, s);
  p.meanCost = sum / <f64>(3 * S);
  if (c.hasScale) p.scale = c.scale;
  else {
    const ideal = (sum * <f64>M) / <f64>P;
    p.scale = ideal > 0 ? ideal : 1;
  }
  p.memCap = p.hasLimit ? p.memLimit * (1 + 1e-9) : Infinity;
  p.computeNoisy = p.cv > 0 || p.aP > 0 ? 1 : 0;
  p.commNoisy = p.commCv > 0 || p.aP > 0 ? 1 : 0;
}

/**
 * Loads the shared problem of a fixed-problem vector: stageDevice i32[S], cost f64[3S] (F, B, W), comm f64[S],
 * mem f64[3S], noise f64[6] (cv, commCv, floor, anomalyProb, anomalyFactor, seed), memLimit (Infinity = none).
 */
export function envSetProblem(
  ctx: usize, P: i32, V: i32, M: i32, stageDevice: usize, cost: usize, comm: usize, mem: usize, noise: usize, memLimit: f64,
): i32 {
  const c = changetype<Ctx>(ctx);
  if (P > c.Pmax || V > c.Vmax || M > c.Mmax || P < 1 || V < 1 || M < 1) return -ERR_CONFIG;
  const p = changetype<Prob>(c.shared);
  const S = P * V;
  p.P = P;
  p.V = V;
  p.M = M;
  p.S = S;
  memory.copy(p.stageDevice, stageDevice, 4 * <usize>S);
  memory.copy(p.cost, cost, 24 * <usize>S);
  memory.copy(p.comm, comm, 8 * <usize>S);
  memory.copy(p.memDelta, mem, 24 * <usize>S);
  p.cv = f64At(noise, 0);
  p.commCv = f64At(noise, 1);
  p.floor = f64At(noise, 2);
  p.aP = f64At(noise, 3);
  p.aK = f64At(noise, 4);
  p.seed = <u32>f64At(noise, 5);
  p.hasLimit = memLimit < Infinity ? 1 : 0;
  p.memLimit = memLimit;
  derive(c, p);
  return 0;
}

// @ts-ignore: decorator
@inline function drawU(key: u32, j: i32): f64 {
  return <f64>mix32(key + <u32>(j + 1) * 0x9e3779b9) * 2.3283064365386963e-10 + 1.1641532182693481e-10;
}

// @ts-ignore: decorator
@inline function drawInt(key: u32, j: i32, lo: f64, hi: f64): i32 {
  return <i32>min<f64>(hi, lo + Math.floor(drawU(key, j) * (hi - lo + 1)));
}

// @ts-ignore: decorator
@inline function drawReal(key: u32, j: i32, lo: f64, hi: f64): f64 {
  return lo + drawU(key, j) * (hi - lo);
}

/** The problem of episode `index` (drawProblemConfig in src/env-reference.ts, resolved). */
function drawInto(c: Ctx, p: Prob, index: i32): void {
  const r = c.ranges;
  const key = mix32(mix32(<u32>f64At(r, 0) ^ 0x2545f491) ^ <u32>index);
  const P = drawInt(key, 0, f64At(r, 1), f64At(r, 2));
  const V = drawInt(key, 1, f64At(r, 3), f64At(r, 4));
  const M = drawInt(key, 2, f64At(r, 6), f64At(r, 7));
  const vShape = V > 1 && drawU(key, 3) < f64At(r, 5);
  const rB = drawReal(key, 4, f64At(r, 8), f64At(r, 9));
  const rW = drawReal(key, 5, f64At(r, 10), f64At(r, 11));
  const cm = drawReal(key, 6, f64At(r, 12), f64At(r, 13));
  const cv = drawReal(key, 7, f64At(r, 14), f64At(r, 15));
  const hasLimit = drawU(key, 8) < f64At(r, 17);
  const f = drawReal(key, 9, f64At(r, 18), f64At(r, 19));
  const spread = f64At(r, 16);
  const S = P * V;
  p.P = P;
  p.V = V;
  p.M = M;
  p.S = S;
  const costF = p.cost;
  const costB = p.cost + (<usize>S << 3);
  const costW = p.cost + (<usize>(2 * S) << 3);
  for (let s = 0; s < S; s++) {
    const mult = 1 + spread * (2 * drawU(key, 16 + s) - 1);
    setF64(costF, s, mult);
    setF64(costB, s, rB * mult);
    setF64(costW, s, rW * mult);
    setF64(p.comm, s, cm);
    setF64(p.memDelta, s, 1);
    setF64(p.memDelta, S + s, 0);
    setF64(p.memDelta, 2 * S + s, -1);
    // deviceOfStage
    const chunk = s / P;
    const rem = s % P;
    setI32(p.stageDevice, s, vShape && (chunk & 1) == 1 ? P - 1 - rem : rem);
  }
  p.hasLimit = hasLimit ? 1 : 0;
  p.memLimit = hasLimit ? max<f64>(1, Math.floor(f * <f64>P)) * <f64>V : Infinity;
  p.cv = cv;
  p.commCv = cv;
  p.floor = f64At(r, 20);
  p.aP = f64At(r, 21);
  p.aK = f64At(r, 22);
  p.seed = <u32>f64At(r, 23);
  derive(c, p);
}

// ---------------------------------------------------------------------------------------------------------------
// Events. An op end is the runEnd of its device (at most one op runs per device; Infinity when idle): the earliest is a
// scan over the devices. Transfers in flight sit in a binary heap of 16-byte entries (f64 arrival time, i32 offset of
// the flag the arrival sets, i32 destination device). Events at one time commute (each op end writes its own
// device's state and every arrival only sets a flag and marks its idle destination), so the order in which the
// events of one time are taken changes no result.

// @ts-ignore: decorator
@inline function arrPush(e: Env, t: f64, flag: i32, to: i32): void {
  const h = e.arr;
  let i = e.arrSize;
  e.arrSize = i + 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const pp = h + (<usize>parent << 4);
    if (load<f64>(pp) <= t) break;
    v128.store(h + (<usize>i << 4), v128.load(pp));
    i = parent;
  }
  const q = h + (<usize>i << 4);
  store<f64>(q, t);
  store<i32>(q, flag, 8);
  store<i32>(q, to, 12);
}

// @ts-ignore: decorator
@inline function arrRemoveTop(e: Env): void {
  const h = e.arr;
  const n = e.arrSize - 1;
  e.arrSize = n;
  const lastP = h + (<usize>n << 4);
  const last = load<f64>(lastP);
  const lastV = v128.load(lastP);
  let i = 0;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) break;
    let cp = h + (<usize>child << 4);
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
    v128.store(h + (<usize>i << 4), v128.load(cp));
    i = child;
  }
  v128.store(h + (<usize>i << 4), lastV);
  store<f64>(h + (<usize>n << 4), Infinity); // the vacated slot (slot 0 of an empty heap reads Infinity)
}

// ---------------------------------------------------------------------------------------------------------------
// Episode mechanics (src/dynamic.ts)

function beginEpisode(c: Ctx, e: Env, episode: i32): void {
  e.episode = episode;
  const p = changetype<Prob>(e.prob);
  if (c.fresh) drawInto(c, p, episode);
  const P = p.P;
  const S = p.S;
  const M = p.M;
  if (p.computeNoisy || p.commNoisy) {
    const epKey = episodeKey(p.seed, <u32>episode);
    for (let kind = 0; kind < 5; kind++)
      for (let s = 0; s < S; s++) {
        const slot = kind * S + s;
        const key = stageKey(epKey, <u32>kind, <u32>s);
        store<u32>(e.keys + (<usize>slot << 2), key);
        const noisy = kind < NOISE_COMM_F ? p.computeNoisy : p.commNoisy;
        if (noisy) setF64(e.nextFactor, slot, factor(mbKey(key, 0), kind < NOISE_COMM_F ? p.cv : p.commCv, p.floor, p.aP, p.aK));
      }
  }
  memory.fill(e.nextMb, 0, 12 * <usize>S);
  memory.fill(e.doneCnt, 0, 12 * <usize>S);
  for (let j = 0; j < 3 * S; j++) setF64(e.lastDone, j, 0);
  const SM = S * M;
  // the inputs of stage 0's forwards and of the last stage's backwards are always there
  memory.fill(e.flags, 0, flagBytes(<usize>SM));
  for (let m = 0; m < M; m++) {
    setFlag(e.flags, m);
    setFlag(e.flags, SM + (S - 1) * M + m);
  }
  const P2 = <i32>paddedP(P);
  for (let d = 0; d < P2; d++) setF64(e.runEnd, d, Infinity);
  for (let d = 0; d < P; d++) {
    setI32(e.runSlot, d, -1);
    setF64(e.lastEnd, d, 0);
    setF64(e.curMem, d, 0);
    setI32(e.started, d, 0);
  }
  memory.fill(e.mask, 0, <usize>c.A);
  if (c.replayOps != 0) for (let d = 0; d < P; d++) setI32(e.replayHead, d, i32At(c.replayStart, d));
  e.arrSize = 0;
  store<f64>(e.arr, Infinity);
  e.busy = 0;
  e.absTotal = 0;
  e.absCap = 2 * p.V * M;
  memory.fill(e.absCnt, 0, 4 * <usize>P);
  const words = (P + 63) >> 6;
  for (let w = 0; w < words; w++) {
    const n = P - 64 * w;
    store<u64>(e.dirty + (<usize>w << 3), n >= 64 ? <u64>-1 : (<u64>1 << <u64>n) - 1);
    store<u64>(e.waited + (<usize>w << 3), 0);
  }
  e.waitedCount = 0;
  e.canWait = 0;
  e.t = 0;
  e.cursor = 0;
  e.anchor = 0;
  e.maxEnd = 0;
  e.done = 0;
  e.total = 3 * SM;
  e.decisions = 0;
  // memory rule codes: 0 plain, 1 reserve, 2 lowest
  e.reserve = c.reserveRule == 1 && p.V > 1 && p.memCap < Infinity ? 1 : 0;
  e.lowest = c.reserveRule == 2 && p.V > 1 && p.memCap < Infinity ? 1 : 0;
}

/** The reserve rule's lowest open micro-batch of device d and the forward memory it still owes (src/dynamic.ts). */
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

// @ts-ignore: decorator
@inline function reservedBeyond(e: Env, p: Prob, d: i32, s: i32, m: i32): f64 {
  if (!e.reserve || m == e.lowestOpen) return 0;
  return e.lowestOpen >= 0 ? e.owed : f64At(p.fullF, d) - f64At(p.memDelta, s);
}

/**
 * Rule 'lowest' for F(m, s) about to start on device d (heldFromLowest of src/dynamic.ts, the same f64 operations):
 * the memory d holds for micro-batches >= m0 (the last stage's next forward) plus m0's other forwards owed on d.
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
    held += <f64>(f - m0) * f64At(memDelta, st) + <f64>doneB * f64At(memDelta, S + st) + <f64>doneW * f64At(memDelta, 2 * S + st);
    if (f == m0 && !(m == m0 && st == s)) held += f64At(memDelta, st);
  }
  return held;
}

/**
 * The eligible classes of idle device d at time t as bits (bit c * 3 + kind; V <= 16 so 3V <= 48 bits). Only a
 * decision writes them out as the mask bytes.
 */
// @ts-ignore: decorator
@inline function eligibleBits(e: Env, p: Prob, d: i32): u64 {
  const V = p.V;
  const S = p.S;
  const M = p.M;
  const nextMb = e.nextMb;
  const doneCnt = e.doneCnt;
  const devStages = p.devStages + (<usize>(d * V) << 2);
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
    const okB = <i32>(mB < i32At(doneCnt, s)) & <i32>(cur + f64At(memDelta, S + s) <= memCap) & flagAt(flags, SM + row + mB);
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
    ok = <i32>(m < i32At(doneCnt, s)) & <i32>(cur + f64At(memDelta, S + s) <= memCap) & flagAt(flags, SM + row + m);
    bits |= <u64>ok << <u64>(c * 3 + 1);
    // W: B(m, s) finished
    m = i32At(nextMb, 2 * S + s);
    ok = <i32>(m < i32At(doneCnt, S + s)) & <i32>(cur + f64At(memDelta, 2 * S + s) <= memCap);
    bits |= <u64>ok << <u64>(c * 3 + 2);
  }
  return bits;
}

/** Writes bits as the mask bytes of classes 0 .. 3V - 1 (the rest of the mask stays 0). */
function writeMask(e: Env, p: Prob, bits: u64): void {
  const mask = e.mask;
  const n = 3 * p.V;
  for (let k = 0; k < n; k++) setU8(mask, k, <i32>((bits >> <u64>k) & 1));
}

/** Whether class k's next op on device d has its dependencies done (no memory check: replay mode). */
function depsReady(e: Env, p: Prob, d: i32, k: i32): bool {
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

/**
 * The noise factor of micro-batch m of key `slot` (the pure function of noise.ts), taken from nextFactor, which
 * then receives the factor of m + 1: the draws of one key are used in micro-batch order (a class runs its
 * micro-batches in order, and so does its transfer), and each is computed one use ahead, off the chain of
 * dependent operations that leads to the next event (a draw for M is computed and never used).
 */
// @ts-ignore: decorator
@inline function drawNext(e: Env, slot: i32, m: i32, cv: f64, p: Prob): f64 {
  const f = f64At(e.nextFactor, slot);
  setF64(e.nextFactor, slot, factor(mbKey(load<u32>(e.keys + (<usize>slot << 2)), <u32>(m + 1)), cv, p.floor, p.aP, p.aK));
  return f;
}

// @ts-ignore: decorator
@inline function startOp(e: Env, p: Prob, d: i32, k: i32, t: f64): void {
  const c = k / 3;
  const kind = k - 3 * c;
  const S = p.S;
  const s = i32At(p.devStages, d * p.V + c);
  const slot = kind * S + s;
  const nextMb = e.nextMb;
  const m = i32At(nextMb, slot);
  setI32(nextMb, slot, m + 1);
  let dur = f64At(p.cost, slot);
  if (p.computeNoisy) dur *= drawNext(e, slot, m, p.cv, p);
  const end = t + dur;
  // F takes its memory (memStart is 0 for B and W; memory never holds -0, so adding 0 changes nothing)
  const curMem = e.curMem;
  setF64(curMem, d, f64At(curMem, d) + f64At(p.memStart, slot));
  setI32(e.runSlot, d, slot);
  setI32(e.runMb, d, m);
  setF64(e.runEnd, d, end);
  setF64(e.runStart, d, t);
  const started = e.started;
  setI32(started, d, i32At(started, d) + 1);
  e.busy++;
}

// @ts-ignore: decorator
@inline function setBit(words: usize, d: i32): void {
  const a = words + (<usize>(d >> 6) << 3);
  store<u64>(a, load<u64>(a) | (<u64>1 << <u64>(d & 63)));
}

// @ts-ignore: decorator
@inline function touch(e: Env, d: i32): void {
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
@inline function transfer(e: Env, flag: i32, to: i32, arrival: f64, end: f64): void {
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

/**
 * Device d waits: it sleeps until its eligible classes change (an arrival addressed to it) or until nothing is
 * running or in flight any more, whichever comes first. Sleeping devices are evaluated again after every event.
 * An arrival to an idle device is always an event (transfers are absorbed only by busy receivers), so no event that
 * can wake a sleeper is ever skipped.
 */
function waitDevice(e: Env, d: i32): void {
  setBit(e.waited, d);
  e.waitedCount++;
  store<u64>(e.waitBits + (<usize>d << 3), e.bits);
}

/** Transfers in flight at time t (arrival after t). */
function inFlight(e: Env, P: i32, t: f64): i32 {
  let n = e.arrSize;
  if (e.absTotal == 0) return n;
  for (let x = 0; x < P; x++) {
    const k = i32At(e.absCnt, x);
    for (let j = 0; j < k; j++) if (f64At(e.absorbed, j * P + x) > t) n++;
  }
  return n;
}

// @ts-ignore: decorator
@inline function complete(e: Env, p: Prob, d: i32, end: f64): void {
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
  setF64(curMem, d, f64At(curMem, d) + f64At(p.memEnd, slot));
  // F's activation goes to F(m, s + 1), B's gradient to B(m, s - 1)
  const to = i32At(p.xferTo, slot);
  if (to < 0) return;
  let arrival = end;
  if (to != d) {
    let cm = f64At(p.xferTime, slot);
    // transfer noise keys: NOISE_COMM_F * S + s after F, NOISE_COMM_B * S + s after B, i.e. slot + 3S
    if (p.commNoisy) cm *= drawNext(e, slot + 3 * p.S, m, p.commCv, p);
    arrival = end + cm;
  }
  transfer(e, i32At(p.xferFlag, slot) + m, to, arrival, end);
}

// @ts-ignore: decorator
@inline function min8(v: v128, a: usize): v128 {
  return f64x2.pmin(v, f64x2.pmin(f64x2.pmin(v128.load(a), v128.load(a, 16)), f64x2.pmin(v128.load(a, 32), v128.load(a, 48))));
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
@inline function popEvents(e: Env, p: Prob): void {
  const P = p.P;
  const runEnd = e.runEnd;
  const h = e.arr;
  // the earliest event: the heap's top (Infinity when empty) or an op end (idle devices and the padding of runEnd
  // to a multiple of 8 hold Infinity), without branches
  let v = min8(f64x2.splat(load<f64>(h)), runEnd);
  for (let d = 8; d < P; d += 8) v = min8(v, runEnd + (<usize>d << 3));
  v = f64x2.pmin(v, v128.shuffle<f64>(v, v, 1, 0));
  const t = f64x2.extract_lane(v, 0);
  // every op that ends at t
  for (let d = 0; d < P; d += 8) {
    let hits = eq8(v, runEnd + (<usize>d << 3));
    while (hits != 0) {
      const j = ctz(hits) >> 1;
      hits &= hits - 1;
      complete(e, p, d + j, t);
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
    const words = (P + 63) >> 6;
    for (let w = 0; w < words; w++) {
      const o = <usize>w << 3;
      store<u64>(e.dirty + o, load<u64>(e.dirty + o) | load<u64>(e.waited + o));
    }
  }
}

function fail(c: Ctx, e: Env, code: i32, device: i32, action: i32): i32 {
  c.errCode = code;
  c.errEnv = e.index;
  c.errDevice = device;
  c.errAction = action;
  c.errEpisode = e.episode;
  c.errTime = e.t;
  return -code;
}

/**
 * Whether an idle device other than d can start an op now (it has eligible classes and is not asleep over the same
 * ones). Waiting is possible while anything runs or is in flight (a transfer absorbed by a busy receiver counts
 * through that receiver) or while another device can start: the last device that could start never may wait, so a
 * waiting device is always woken again and waits cannot stall an episode. Only called when nothing runs or is in
 * flight (at the start of an episode, or in a drained pipeline), so its scan over the devices is rare.
 */
function otherCanStart(e: Env, p: Prob, d: i32): bool {
  const P = p.P;
  for (let x = 0; x < P; x++) {
    if (x == d || i32At(e.runSlot, x) >= 0) continue;
    const bits = eligibleBits(e, p, x);
    if (bits == 0) continue;
    const asleep = (load<u64>(e.waited + (<usize>(x >> 6) << 3)) >> <u64>(x & 63)) & 1;
    if (asleep == 0 || bits != load<u64>(e.waitBits + (<usize>x << 3))) return true;
  }
  return false;
}

/**
 * Runs forced steps until a decision (returns 1: `cursor` decides, `mask` holds its classes and the wait flag) or
 * the end of the episode (0); negative on deadlock.
 */
function advance(c: Ctx, e: Env, writeOut: bool, waitOn: bool): i32 {
  const p = changetype<Prob>(e.prob);
  const words = (p.P + 63) >> 6;
  const dirty = e.dirty;
  for (;;) {
    const t = e.t;
    // idle devices to evaluate, in ascending order (those below the cursor are done: their bits are clear)
    for (let w = e.cursor >> 6; w < words; w++) {
      const a = dirty + (<usize>w << 3);
      for (;;) {
      const pending = load<u64>(a);
      if (pending == 0) break;
      const d = (w << 6) + <i32>ctz(pending);
      store<u64>(a, pending & (pending - 1));
      const bits = eligibleBits(e, p, d);
      if (bits == 0) continue;
      const canWait = waitOn && (e.busy + e.arrSize > 0 || otherCanStart(e, p, d));
      if (waitOn && e.waitedCount > 0) {
        const a = e.waited + (<usize>(d >> 6) << 3);
        const bit = <u64>1 << <u64>(d & 63);
        if ((load<u64>(a) & bit) != 0) {
          if (canWait && bits == load<u64>(e.waitBits + (<usize>d << 3))) continue;
          store<u64>(a, load<u64>(a) & ~bit);
          e.waitedCount--;
        }
      }
      if ((bits & (bits - 1)) == 0 && !canWait) {
        startOp(e, p, d, <i32>ctz(bits), t);
        continue;
      }
      e.bits = bits;
      e.canWait = canWait ? 1 : 0;
      if (writeOut) {
        writeMask(e, p, bits);
        setU8(e.mask, 3 * c.Vmax, canWait ? 1 : 0);
      }
      e.cursor = d;
      return 1;
      }
    }
    if (e.busy + e.arrSize == 0) return fail(c, e, ERR_DEADLOCK, -1, -1);
    popEvents(e, p);
    if (e.done == e.total) {
      // the last ops ended at t: events go in time order, so no op ended later (the makespan)
      e.maxEnd = e.t;
      return 0;
    }
    e.cursor = 0;
  }
  return 0; // unreachable
}

/** Replay mode: each device starts its list's next class when that op's dependencies are done (no memory check). */
function advanceReplay(c: Ctx, e: Env): i32 {
  const p = changetype<Prob>(e.prob);
  const P = p.P;
  const words = (P + 63) >> 6;
  const dirty = e.dirty;
  const ops = c.replayOps;
  const starts = c.replayStart;
  for (;;) {
    const t = e.t;
    for (let w = 0; w < words; w++) {
      const a = dirty + (<usize>w << 3);
      for (;;) {
      const pending = load<u64>(a);
      if (pending == 0) break;
      const d = (w << 6) + <i32>ctz(pending);
      store<u64>(a, pending & (pending - 1));
      const h = i32At(e.replayHead, d);
      if (h >= i32At(starts, d + 1)) continue;
      const k = i32At(ops, h);
      if (!depsReady(e, p, d, k)) continue;
      startOp(e, p, d, k, t);
      setI32(e.replayHead, d, h + 1);
      }
    }
    if (e.busy + e.arrSize == 0) {
      let blocked = -1;
      for (let d = 0; d < P && blocked < 0; d++) if (i32At(e.replayHead, d) < i32At(starts, d + 1)) blocked = d;
      return fail(c, e, ERR_REPLAY_DEADLOCK, blocked, blocked >= 0 ? i32At(ops, i32At(e.replayHead, blocked)) : -1);
    }
    popEvents(e, p);
    if (e.done == e.total) {
      // the last ops ended at t: events go in time order, so no op ended later (the makespan)
      e.maxEnd = e.t;
      return 0;
    }
  }
  return 0; // unreachable
}

function finishEpisode(e: Env): void {
  const p = changetype<Prob>(e.prob);
  e.logEpisodes += 1;
  e.logLast = e.maxEnd;
  e.logSum += e.maxEnd;
  e.logScaled += e.maxEnd / p.scale;
  e.logDecisions += <f64>e.decisions;
}

/** From the start of an episode: runs silent episodes (no decision) through until one reaches a decision. */
function toFirstDecision(c: Ctx, e: Env): i32 {
  let silent = 0;
  for (;;) {
    const r = advance(c, e, true, c.waitOn != 0);
    if (r != 0) return r;
    e.logSilent += 1;
    finishEpisode(e);
    if (++silent >= MAX_SILENT) return fail(c, e, ERR_SILENT, -1, -1);
    beginEpisode(c, e, e.episode + c.N);
  }
  return 0; // unreachable
}

/** Runs a begun episode (envReset, envRunEpisodes) to its first decision; 1, or a negative error code. */
function ensure(c: Ctx, e: Env): i32 {
  if (!e.pending) return 1;
  const r = toFirstDecision(c, e);
  if (r > 0) e.pending = 0;
  return r;
}

/** The deciding device starts class `action` (or waits); the next device is visited next. */
// @ts-ignore: decorator
@inline function takeAction(c: Ctx, e: Env, action: i32): void {
  e.decisions++;
  const d = e.cursor;
  if (action != 3 * c.Vmax) startOp(e, changetype<Prob>(e.prob), d, action, e.t);
  else waitDevice(e, d);
  e.cursor = d + 1;
}

/**
 * Takes `action` at e's decision; writes the reward and done flag; on done the env is at the next episode's first
 * decision. `trusted`: the action comes from a built-in policy (a class of e.bits, no check) and the next
 * decision's mask bytes are written only when `writeOut` (a built-in rollout writes them when the next step
 * observes, and at its last step, so that e.mask is current whenever anyone reads it).
 */
function stepOne(c: Ctx, e: Env, action: i32, rewardOut: usize, doneOut: usize, trusted: bool = false, writeOut: bool = true): i32 {
  if (!trusted && (action < 0 || action >= c.A || !u8At(e.mask, action))) return fail(c, e, ERR_ACTION, e.cursor, action);
  const p = changetype<Prob>(e.prob);
  takeAction(c, e, action);
  const r = advance(c, e, writeOut, c.waitOn != 0);
  if (r < 0) return r;
  let reward: f64 = 0;
  let done = 0;
  if (r == 1) {
    if (rewardOut) reward = -(e.t - e.anchor) / p.scale;
    e.anchor = e.t;
  } else {
    reward = -(e.maxEnd - e.anchor) / p.scale;
    finishEpisode(e);
    beginEpisode(c, e, e.episode + c.N);
    const r2 = toFirstDecision(c, e);
    if (r2 < 0) return r2;
    done = 1;
  }
  if (rewardOut) store<f32>(rewardOut, <f32>reward);
  if (doneOut) store<u8>(doneOut, <u8>done);
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Built-in heuristics (packages/schedulers/src/heuristics.ts)

// bits of every chunk's class of one kind: kind F at bits 0, 3, 6, ...
const KIND_BITS: u64 = 0x249249249249; // 16 chunks

/** The eligible class of the first kind in (k0, k1, k2) that has one; within a kind the lowest next micro-batch, then the lower chunk. */
// The class that byKindOrder picks from eligible bits b < 8 of one chunk, two bits per b: B, F, W order (greedy-zb:
// b = 1 -> 0, 2 -> 1, 3 -> 1, 4 -> 2, 5 -> 0, 6 -> 1, 7 -> 1) and F, B, W order (greedy-ffirst).
const ZB_PICK: u32 = (0 << 2) | (1 << 4) | (1 << 6) | (2 << 8) | (0 << 10) | (1 << 12) | (1 << 14);
const FFIRST_PICK: u32 = (0 << 2) | (1 << 4) | (0 << 6) | (2 << 8) | (0 << 10) | (1 << 12) | (0 << 14);

function byKindOrder(e: Env, p: Prob, k0: i32, k1: i32, k2: i32): i32 {
  const bits = e.bits;
  if (p.V == 1) return <i32>(((k0 == KIND_B ? ZB_PICK : FFIRST_PICK) >> (<u32>bits << 1)) & 3);
  for (let j = 0; j < 3; j++) {
    const kind = j == 0 ? k0 : j == 1 ? k1 : k2;
    let sel = bits & (KIND_BITS << <u64>kind);
    if (sel == 0) continue;
    let best = <i32>ctz(sel);
    sel &= sel - 1;
    if (sel == 0) return best;
    // several chunks: the lowest next micro-batch, ties to the lower chunk
    const S = p.S;
    const row = p.devStages + (<usize>(e.cursor * p.V) << 2);
    const nextMb = e.nextMb + (<usize>(kind * S) << 2);
    let bestMb = i32At(nextMb, i32At(row, best / 3));
    while (sel != 0) {
      const k = <i32>ctz(sel);
      sel &= sel - 1;
      const m = i32At(nextMb, i32At(row, k / 3));
      if (m < bestMb) {
        best = k;
        bestMb = m;
      }
    }
    return best;
  }
  return -1;
}

// @ts-ignore: decorator
@inline function cpRank(kind: i32): i32 { return kind == KIND_B ? 2 : kind == KIND_F ? 1 : 0; }

/** greedy-cp: the longest remaining path; ties B > F > W, then the lowest micro-batch, then the lowest chunk. */
function criticalPath(e: Env, p: Prob): i32 {
  const V = p.V;
  const S = p.S;
  const d = e.cursor;
  let best = -1;
  let bestLen: f64 = -Infinity;
  let bestKind = 0;
  let bestMb = 0;
  let sel = e.bits;
  while (sel != 0) {
    const k = <i32>ctz(sel);
    sel &= sel - 1;
    const c = k / 3;
    const kind = k - 3 * c;
    const s = i32At(p.devStages, d * V + c);
    const len = f64At(p.path, kind * S + s);
    const m = i32At(e.nextMb, kind * S + s);
    if (best < 0 || len > bestLen) {
      best = k; bestLen = len; bestKind = kind; bestMb = m;
      continue;
    }
    if (len < bestLen) continue;
    if (cpRank(kind) != cpRank(bestKind)) {
      if (cpRank(kind) > cpRank(bestKind)) { best = k; bestKind = kind; bestMb = m; }
    } else if (m < bestMb) { best = k; bestKind = kind; bestMb = m; }
  }
  return best;
}

/**
 * The teacher's action at e's decision: the class of the first op of the deciding device's list (the loaded replay
 * schedule) that has not started yet, when it is eligible; wait when it is not and waiting is possible; else -1 (no
 * label). Any state has a label, also one the teacher would never reach (a student's), which is what cloning with
 * the student's own rollouts (DAgger) needs. Within a class micro-batches start in ascending order, so op h of the
 * list has started exactly when its class's next micro-batch is past it.
 */
function teacherAction(c: Ctx, e: Env): i32 {
  const k = teacherNext(c, e);
  if (k < 0) return -1;
  if (((e.bits >> <u64>k) & 1) != 0) return k;
  return e.canWait ? 3 * c.Vmax : -1;
}

/** The class of the deciding device's first op of the loaded schedule that has not started (-1: none, or no schedule). */
function teacherNext(c: Ctx, e: Env): i32 {
  if (c.replayOps == 0) return -1;
  const p = changetype<Prob>(e.prob);
  const d = e.cursor;
  const V = p.V;
  const S = p.S;
  const end = i32At(c.replayStart, d + 1);
  let h = i32At(e.replayHead, d);
  while (h < end) {
    const k = i32At(c.replayOps, h);
    const ch = k / 3;
    const slot = (k - 3 * ch) * S + i32At(p.devStages, d * V + ch);
    if (i32At(e.nextMb, slot) <= i32At(c.replayMb, h)) break;
    h++;
  }
  setI32(e.replayHead, d, h);
  return h < end ? i32At(c.replayOps, h) : -1;
}

function builtinAction(c: Ctx, e: Env, policy: i32): i32 {
  const p = changetype<Prob>(e.prob);
  if (policy == POLICY_TEACHER) {
    // no label (the teacher's next op cannot start and waiting is impossible): greedy-zb's choice
    const a = teacherAction(c, e);
    return a >= 0 ? a : byKindOrder(e, p, KIND_B, KIND_F, KIND_W);
  }
  if (policy == POLICY_ZB) return byKindOrder(e, p, KIND_B, KIND_F, KIND_W);
  if (policy == POLICY_FFIRST) return byKindOrder(e, p, KIND_F, KIND_B, KIND_W);
  return criticalPath(e, p);
}

// ---------------------------------------------------------------------------------------------------------------
// Observation (README "Environment"; ReferenceEnv.observe)

function readyDepth(e: Env, p: Prob, kind: i32, s: i32, m: i32, t: f64): i32 {
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

// @ts-ignore: decorator
@inline function put(out: usize, i: i32, v: f64): void { store<f32>(out + (<usize>i << 2), <f32>v); }

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

function observe(c: Ctx, e: Env, out: usize): void {
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
  put(out, 0, P > 1 ? <f64>d / <f64>(P - 1) : 0);
  put(out, 1, d == 0 ? 1 : 0);
  put(out, 2, d == P - 1 ? 1 : 0);
  put(out, 3, <f64>e.done / <f64>e.total);
  put(out, 4, <f64>i32At(e.started, d) / total3);
  put(out, 5, 0.5 * min<f64>(t / p.scale, 4));
  put(out, 6, mem);
  put(out, 7, p.hasLimit ? 1 : 0);
  put(out, 8, 0.5 * min<f64>(<f64>(e.busy + inFlight(e, P, t)) / <f64>P, 2));
  put(out, 9, <f64>idle / <f64>P);
  put(out, 10, <f64>u8At(e.mask, 3 * Vmax));
  put(out, 11, d > 0 && i32At(e.runSlot, d - 1) < 0 ? 1 : 0);
  put(out, 12, d > 0 ? <f64>i32At(e.started, d - 1) / total3 : 0);
  put(out, 13, d < P - 1 && i32At(e.runSlot, d + 1) < 0 ? 1 : 0);
  put(out, 14, d < P - 1 ? <f64>i32At(e.started, d + 1) / total3 : 0);
  put(out, 15, since / (1 + since));
  put(out, 16, 0.25 * min<f64>(<f64>M / <f64>P, 4));
  put(out, 17, <f64>V / <f64>Vmax);
  const memoryOn = (c.featureOff & FEATURES_MEMORY) == 0;
  const arrivalOn = (c.featureOff & FEATURES_ARRIVAL) == 0;
  put(out, 18, memoryOn ? headroom(e, p, d) : 0);
  put(out, 19, memoryOn && d > 0 ? headroom(e, p, d - 1) : 0);
  put(out, 20, memoryOn && d < P - 1 ? headroom(e, p, d + 1) : 0);
  let soonest: f64 = Infinity; // the nearest arrival among the classes still waiting for theirs
  const planned = (c.featureOff & FEATURES_PLAN) == 0 ? teacherNext(c, e) : -1;
  for (let k = 0; k < 3 * Vmax; k++) {
    const b = OBS_GLOBAL + k * OBS_PER_CLASS;
    const ch = k / 3;
    if (ch >= V) {
      for (let j = 0; j < OBS_PER_CLASS; j++) put(out, b + j, 0);
      continue;
    }
    const kind = k - 3 * ch;
    const s = i32At(p.devStages, d * V + ch);
    const m = i32At(e.nextMb, kind * S + s);
    put(out, b, <f64>u8At(e.mask, k));
    put(out, b + 1, <f64>(M - m) / <f64>M);
    let x: f64 = 0;
    if (m < M && p.meanCost > 0) {
      const r = f64At(p.cost, kind * S + s) / p.meanCost;
      x = r / (1 + r);
    }
    put(out, b + 2, x);
    put(out, b + 3, <f64>readyDepth(e, p, kind, s, m, t) / <f64>P);
    put(out, b + 4, m < M && p.pathF0 > 0 ? f64At(p.path, kind * S + s) / p.pathF0 : 0);
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
    put(out, b + 5, eta);
    put(out, b + 6, k == planned ? 1 : 0);
  }
  put(out, 21, arrivalOn ? (soonest < Infinity ? soonest / (1 + soonest) : 1) : 0);
}

function observeAll(c: Ctx, obs: usize, mask: usize): i32 {
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

// ---------------------------------------------------------------------------------------------------------------
// Exported driver

/**
 * Restarts every environment at its first episode (env i: episodeStart + i; logs and sampling counters cleared).
 * With obs or mask != 0, runs each to its first decision and writes observations f32[N][D] and masks u8[N][A];
 * with both 0 that happens lazily at the next envObserve / envStep / envRollout.
 */
export function envReset(ctx: usize, obs: usize, mask: usize): i32 {
  const c = changetype<Ctx>(ctx);
  c.errCode = 0;
  if (!c.fresh && changetype<Prob>(c.shared).P == 0) return -ERR_CONFIG;
  for (let i = 0; i < c.N; i++) {
    const e = envAt(c, i);
    e.logEpisodes = 0; e.logLast = 0; e.logSum = 0; e.logScaled = 0; e.logDecisions = 0; e.logSilent = 0;
    e.counter = 0;
    beginEpisode(c, e, c.episodeStart + i);
    e.pending = 1;
  }
  if (obs == 0 && mask == 0) return 0;
  return observeAll(c, obs, mask);
}

/** Writes the current observations and masks (either pointer may be 0); 0 or a negative error code. */
export function envObserve(ctx: usize, obs: usize, mask: usize): i32 {
  const c = changetype<Ctx>(ctx);
  c.errCode = 0;
  return observeAll(c, obs, mask);
}

/**
 * One step of every environment: actions i32[N]; writes rewards f32[N], dones u8[N] and the next observations
 * and masks (pointers may be 0 to skip). Returns 0, or a negative error code (details: envError).
 */
export function envStep(ctx: usize, actions: usize, obs: usize, mask: usize, reward: usize, done: usize): i32 {
  const c = changetype<Ctx>(ctx);
  c.errCode = 0;
  for (let i = 0; i < c.N; i++) {
    const e = envAt(c, i);
    if (e.pending) return fail(c, e, ERR_PENDING, -1, -1);
    const r = stepOne(c, e, i32At(actions, i), reward ? reward + (<usize>i << 2) : 0, done ? done + <usize>i : 0);
    if (r < 0) return r;
  }
  return observeAll(c, obs, mask);
}

/**
 * Runs `episodes` whole episodes per environment under a built-in policy (0 greedy-zb, 1 greedy-ffirst,
 * 2 greedy-cp, 3 replay of the loaded schedule) in a separate evaluation block, so the stepped environments are
 * untouched: "env" i runs episode indices start + i + k N, k < episodes (drawing each index's problem when fresh).
 * Makespans go to out f64[N][episodes] (0 to skip). Not logged. Returns the decisions taken (replay: ops
 * started), or a negative error code.
 */
export function envRunEpisodes(ctx: usize, policy: i32, episodes: i32, start: i32, out: usize): f64 {
  const c = changetype<Ctx>(ctx);
  c.errCode = 0;
  const teacher = policy == POLICY_TEACHER;
  if (policy < 0 || (policy > POLICY_REPLAY && !teacher) || ((policy == POLICY_REPLAY || teacher) && (c.replayOps == 0 || c.fresh))) return -ERR_CONFIG;
  const e = envAt(c, c.N);
  let decisions: f64 = 0;
  for (let i = 0; i < c.N; i++) {
    e.index = i;
    for (let k = 0; k < episodes; k++) {
      beginEpisode(c, e, start + i + k * c.N);
      if (policy == POLICY_REPLAY) {
        const r = advanceReplay(c, e);
        if (r < 0) return <f64>r;
        decisions += <f64>e.total;
      } else {
        // heuristics never wait; the teacher does when the environment offers waiting
        for (;;) {
          const r = advance(c, e, false, teacher && c.waitOn != 0);
          if (r < 0) return <f64>r;
          if (r == 0) break;
          takeAction(c, e, builtinAction(c, e, policy));
        }
        decisions += <f64>e.decisions;
      }
      if (out) setF64(out, i * episodes + k, e.maxEnd);
    }
  }
  return decisions;
}

/**
 * envRunEpisodes under an MLP policy (policy 4 sampling, 5 argmax; params, hidden, nHidden, act and mlpScratch as
 * for envRollout, mlpScratch holding mlpScratchBytes): whole episodes in the evaluation block, the stepped
 * environments untouched. Sampling draws u = envSampleUniform(seed, episode index, decision number), so an
 * episode's draws depend only on its index. Makespans to out f64[N][episodes]; returns the decisions taken.
 */
export function envRunEpisodesMlp(
  ctx: usize, policy: i32, episodes: i32, start: i32, out: usize,
  params: usize, hidden: usize, nHidden: i32, act: i32, mlpScratch: usize, seed: u32,
): f64 {
  const c = changetype<Ctx>(ctx);
  c.errCode = 0;
  if (policy != POLICY_MLP && policy != POLICY_MLP_GREEDY) return -ERR_CONFIG;
  const shared = (act & 2) != 0;
  act &= 1;
  const D = c.D;
  const A = c.A;
  const obs = c.scratch;
  const logits = obs + (<usize>D << 2);
  const logp = logits + (<usize>A << 2);
  const e = envAt(c, c.N);
  let decisions: f64 = 0;
  for (let i = 0; i < c.N; i++) {
    e.index = i;
    for (let k = 0; k < episodes; k++) {
      const episode = start + i + k * c.N;
      beginEpisode(c, e, episode);
      for (;;) {
        const r = advance(c, e, true, c.waitOn != 0);
        if (r < 0) return <f64>r;
        if (r == 0) break;
        observe(c, e, obs);
        if (shared) mlpForwardShared(params, D, hidden, nHidden, A, act, obs, mlpScratch, logits);
        else mlpForward(params, D, hidden, nHidden, A, act, obs, mlpScratch, logits);
        const action = policy == POLICY_MLP
          ? sampleMasked(logits, e.mask, A, sampleUniform(seed, <u32>episode, <u32>e.decisions), logp, 0)
          : argmaxMasked(logits, e.mask, A);
        takeAction(c, e, action);
      }
      decisions += <f64>e.decisions;
      if (out) setF64(out, i * episodes + k, e.maxEnd);
    }
  }
  return decisions;
}

// @ts-ignore: decorator
@inline function sampleUniform(seed: u32, env: u32, counter: u32): f64 {
  return <f64>mix32(mix32(mix32(seed ^ 0x68e31da4) ^ ((env + 1) * 0x85ebca6b)) ^ counter) * 2.3283064365386963e-10 + 1.1641532182693481e-10;
}

/** The uniform of the MLP policy's draw for (seed, env, counter) (for tests). */
export function envSampleUniform(seed: u32, env: u32, counter: u32): f64 {
  return sampleUniform(seed, env, counter);
}

/** Environments whose observations go through one batched MLP forward (weights loaded once per group). */
const MLP_GROUP: i32 = 32;

/** Bytes of `mlpScratch` that envRollout's MLP policies need for this hidden shape (separate or shared trunk alike). */
export function envRolloutScratchBytes(ctx: usize, hidden: usize, nHidden: i32): i32 {
  const c = changetype<Ctx>(ctx);
  return mlpBatchScratchBytes(hidden, nHidden, MLP_GROUP) + MLP_GROUP * (c.D + c.A + 1) * 4;
}

/**
 * The MLP part of envRollout, group by group: a group of environments runs all T steps before the next group starts
 * (its state stays in cache however large N is); at each step the group's observations are written next to each
 * other and go through one batched forward (bit for bit what one forward per environment gives), then each
 * environment samples and steps. Environments are independent, so the order changes no result.
 */
function mlpRollout(
  c: Ctx, policy: i32, T: i32,
  params: usize, hidden: usize, nHidden: i32, act: i32, mlpScratch: usize, seed: u32,
  bufObs: usize, bufMask: usize, bufAct: usize, bufLogp: usize, bufVal: usize, bufRew: usize, bufDone: usize,
  bufTeacher: usize, finalObs: usize, finalMask: usize, finalVal: usize,
): i32 {
  const N = c.N;
  const D = c.D;
  const A = c.A;
  const shared = (act & 2) != 0;
  act &= 1;
  const groupObs = mlpScratch; // f32[G][D] when observations are not stored
  const groupLogits = groupObs + (<usize>(MLP_GROUP * D) << 2);
  const groupValues = groupLogits + (<usize>(MLP_GROUP * A) << 2);
  const batchScratch = groupValues + (<usize>MLP_GROUP << 2);
  const logpScratch = c.scratch + (<usize>(D + A) << 2);
  for (let i = 0; i < N; i++) {
    const r0 = ensure(c, envAt(c, i));
    if (r0 < 0) return r0;
  }
  for (let g0 = 0; g0 < N; g0 += MLP_GROUP) {
    const gN = min(MLP_GROUP, N - g0);
    for (let t = 0; t <= T; t++) {
      const last = t == T; // the extra pass observes and values the state to bootstrap from
      if (last && !finalObs && !finalMask && !finalVal) break;
      let obsBase: usize;
      if (last) obsBase = finalObs ? finalObs + (<usize>g0 * <usize>D << 2) : groupObs;
      else obsBase = bufObs ? bufObs + (<usize>(t * N + g0) * <usize>D << 2) : groupObs;
      for (let j = 0; j < gN; j++) {
        const e = envAt(c, g0 + j);
        observe(c, e, obsBase + (<usize>(j * D) << 2));
        const maskOut = last ? finalMask : bufMask;
        if (maskOut) memory.copy(maskOut + <usize>(last ? g0 + j : t * N + g0 + j) * <usize>A, e.mask, <usize>A);
      }
      if (last && !finalVal) continue;
      if (shared) mlpForwardBatchShared(params, D, hidden, nHidden, A, act, obsBase, gN, batchScratch, groupLogits, groupValues);
      else mlpForwardBatch(params, D, hidden, nHidden, A, act, obsBase, gN, batchScratch, groupLogits, groupValues);
      if (last) {
        memory.copy(finalVal + (<usize>g0 << 2), groupValues, <usize>gN << 2);
        continue;
      }
      for (let j = 0; j < gN; j++) {
        const i = g0 + j;
        const e = envAt(c, i);
        const row = t * N + i;
        const logits = groupLogits + (<usize>(j * A) << 2);
        const logpP = bufLogp ? bufLogp + (<usize>row << 2) : logpScratch;
        let action: i32;
        if (policy == POLICY_MLP) {
          action = sampleMasked(logits, e.mask, A, sampleUniform(seed, <u32>i, e.counter), logpP, 0);
          e.counter++;
        } else {
          action = argmaxMasked(logits, e.mask, A);
          store<f32>(logpP, 0);
        }
        if (bufAct) setI32(bufAct, row, action);
        if (bufTeacher) setI32(bufTeacher, row, teacherAction(c, e));
        if (bufVal) store<f32>(bufVal + (<usize>row << 2), load<f32>(groupValues + (<usize>j << 2)));
        const r = stepOne(c, e, action, bufRew ? bufRew + (<usize>row << 2) : 0, bufDone ? bufDone + <usize>row : 0);
        if (r < 0) return r;
      }
    }
  }
  return 0;
}

/**
 * A rollout of T steps of every environment, stored [T][N] (step-major): the observation and mask the action was
 * chosen from, the action, its log-probability and the value (MLP policies; 0 for built-ins), the reward and the
 * done flag of the step (1: the step ended an episode; the next row's observation starts a new one). Any storage
 * pointer may be 0. Afterwards finalObs / finalMask / finalValue (may be 0) hold the observation, mask and value
 * to bootstrap from; bufTeacher (may be 0) gets the teacher's action of each row (teacherAction; -1 without a
 * label or a loaded teacher). Policies: 0-2 built-in heuristics, 4 MLP sampling with u = envSampleUniform(seed,
 * env, counter++) (a per-env counter), 5 MLP argmax, 6 the teacher (greedy-zb where it has no label). MLP: params, hidden i32[nHidden], act, mlpScratch as in
 * assembly/mlp.ts, except that act's bit 1 selects the layout: act = activation (0 tanh, 1 relu) for separate
 * actor and critic networks, act | 2 for the shared trunk (mlpForwardBatchShared's parameters). mlpScratch holds
 * envRolloutScratchBytes bytes either way. Returns 0 or a negative error code.
 */
export function envRollout(
  ctx: usize, policy: i32, T: i32,
  params: usize, hidden: usize, nHidden: i32, act: i32, mlpScratch: usize, seed: u32,
  bufObs: usize, bufMask: usize, bufAct: usize, bufLogp: usize, bufVal: usize, bufRew: usize, bufDone: usize,
  bufTeacher: usize, finalObs: usize, finalMask: usize, finalVal: usize,
): i32 {
  const c = changetype<Ctx>(ctx);
  c.errCode = 0;
  const mlp = policy == POLICY_MLP || policy == POLICY_MLP_GREEDY;
  if (policy < 0 || policy == POLICY_REPLAY || policy > POLICY_TEACHER || (policy == POLICY_TEACHER && c.replayOps == 0)) return -ERR_CONFIG;
  const N = c.N;
  const D = c.D;
  const A = c.A;
  if (mlp) {
    return mlpRollout(
      c, policy, T, params, hidden, nHidden, act, mlpScratch, seed,
      bufObs, bufMask, bufAct, bufLogp, bufVal, bufRew, bufDone, bufTeacher, finalObs, finalMask, finalVal,
    );
  }
  const obsScratch = c.scratch;
  const logpScratch = obsScratch + (<usize>(D + A) << 2);
  for (let i = 0; i < N; i++) {
    const e = envAt(c, i);
    const r0 = ensure(c, e);
    if (r0 < 0) return r0;
    for (let t = 0; t < T; t++) {
      const row = t * N + i;
      if (bufObs) observe(c, e, bufObs + (<usize>row * <usize>D << 2));
      if (bufMask) memory.copy(bufMask + <usize>row * <usize>A, e.mask, <usize>A);
      const action = builtinAction(c, e, policy);
      if (bufLogp) store<f32>(bufLogp + (<usize>row << 2), 0);
      if (bufAct) setI32(bufAct, row, action);
      if (bufTeacher) setI32(bufTeacher, row, teacherAction(c, e));
      if (bufVal) store<f32>(bufVal + (<usize>row << 2), 0);
      const writeOut = bufObs != 0 || bufMask != 0 || t == T - 1;
      const r = stepOne(c, e, action, bufRew ? bufRew + (<usize>row << 2) : 0, bufDone ? bufDone + <usize>row : 0, true, writeOut);
      if (r < 0) return r;
    }
    if (finalObs) observe(c, e, finalObs + (<usize>i * <usize>D << 2));
    if (finalMask) memory.copy(finalMask + <usize>i * <usize>A, e.mask, <usize>A);
  }
  void logpScratch;
  return 0;
}

/**
 * Loads the schedule of replay mode and of the teacher: per device d the class indices ops[devStart[d] ..
 * devStart[d+1]) (i32, each c * 3 + kind, fused BW already split into B then W) and each op's micro-batch mbs[h].
 * Pass 0, 0, 0 to unload. The caller keeps the memory alive.
 */
export function envSetReplay(ctx: usize, ops: usize, devStart: usize, mbs: usize): void {
  const c = changetype<Ctx>(ctx);
  c.replayOps = ops;
  c.replayStart = devStart;
  c.replayMb = mbs;
  if (ops == 0) return;
  // every environment's teacher head back to the start of its lists (labels skip the ops that have started)
  const P = changetype<Prob>(c.shared).P;
  for (let i = 0; i <= c.N; i++) {
    const e = envAt(c, i);
    for (let d = 0; d < P; d++) setI32(e.replayHead, d, i32At(devStart, d));
  }
}

/**
 * Copies the per-env log to out f64[N][6] (episodes, last makespan, sum of makespans, sum of makespan / scale,
 * decisions, silent episodes) and clears it when `clear`.
 */
export function envLogRead(ctx: usize, out: usize, clear: i32): void {
  const c = changetype<Ctx>(ctx);
  for (let i = 0; i < c.N; i++) {
    const e = envAt(c, i);
    const o = out + (<usize>(i * LOG_FIELDS) << 3);
    setF64(o, 0, e.logEpisodes);
    setF64(o, 1, e.logLast);
    setF64(o, 2, e.logSum);
    setF64(o, 3, e.logScaled);
    setF64(o, 4, e.logDecisions);
    setF64(o, 5, e.logSilent);
    if (clear) {
      e.logEpisodes = 0; e.logSum = 0; e.logScaled = 0; e.logDecisions = 0; e.logSilent = 0;
    }
  }
}

/** Env i's current episode index, deciding device and time (field 0, 1, 2). */
export function envState(ctx: usize, i: i32, field: i32): f64 {
  const e = envAt(changetype<Ctx>(ctx), i);
  if (field == 0) return <f64>e.episode;
  if (field == 1) return <f64>e.cursor;
  return e.t;
}

/** Error details of the last failed call: 0 code, 1 env, 2 device, 3 action, 4 episode, 5 time. */
export function envError(ctx: usize, field: i32): f64 {
  const c = changetype<Ctx>(ctx);
  if (field == 0) return <f64>c.errCode;
  if (field == 1) return <f64>c.errEnv;
  if (field == 2) return <f64>c.errDevice;
  if (field == 3) return <f64>c.errAction;
  if (field == 4) return <f64>c.errEpisode;
  return c.errTime;
}

/**
 * Env i's current problem (for tests): out f64 [P, V, M, memLimit, scale, meanCost, cv, seed, then stageDevice[S],
 * cost[3S], comm[S], path[3S]]; returns the number of values written.
 */
export function envProblemDump(ctx: usize, i: i32, out: usize): i32 {
  const p = changetype<Prob>(envAt(changetype<Ctx>(ctx), i).prob);
  const S = p.S;
  setF64(out, 0, <f64>p.P);
  setF64(out, 1, <f64>p.V);
  setF64(out, 2, <f64>p.M);
  setF64(out, 3, p.memLimit);
  setF64(out, 4, p.scale);
  setF64(out, 5, p.meanCost);
  setF64(out, 6, p.cv);
  setF64(out, 7, <f64>p.seed);
  let o = 8;
  for (let s = 0; s < S; s++) setF64(out, o++, <f64>i32At(p.stageDevice, s));
  for (let j = 0; j < 3 * S; j++) setF64(out, o++, f64At(p.cost, j));
  for (let s = 0; s < S; s++) setF64(out, o++, f64At(p.comm, s));
  for (let j = 0; j < 3 * S; j++) setF64(out, o++, f64At(p.path, j));
  return o;
}
