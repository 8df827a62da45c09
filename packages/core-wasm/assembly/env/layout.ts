// Memory layout of an environment vector (docs/SEMANTICS.md section 4): the header (Ctx), the problem tables (Prob)
// and the per-environment episode state (Env), all in one block the TypeScript side allocates (src/env.ts). Every
// table is a fixed-size array addressed by a pointer field; layoutProb and layoutEnv are the one place that places
// them (the size functions run them dry), and envRelocate re-derives every pointer after a saved state is copied in.
import { align8, bitWords } from '../memory';
import { CLASSES_PER_CHUNK, LAYOUT_VERSION, OBS_GLOBAL, OBS_PER_CLASS, RANGE_FIELDS } from '../contract';

/** Header of an environment vector. */
@unmanaged export class Ctx {
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
@unmanaged export class Prob {
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
@unmanaged export class Env {
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
  lowest: i32; // memory rule 'lowest' (heldFromLowest of src/engine/memory.ts)
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

/** Bytes of the flag bits of S M micro-batches (2 S M bits, and a spare byte: a read one past the end is masked). */
// @ts-ignore: decorator
@inline export function flagBytes(SM: usize): usize { return align8((SM >> 2) + 2); }

/** Devices rounded up to a multiple of 8: runEnd's length (popEvents scans it 8 devices at a time). */
// @ts-ignore: decorator
@inline export function paddedP(Pmax: i32): usize { return (<usize>Pmax + 7) & ~(<usize>7); }

// Where the size functions run layoutProb and layoutEnv dry: room for the pointer fields they write.
const DRY_PROB: usize = memory.data(<i32>offsetof<Prob>(), 16);
const DRY_ENV: usize = memory.data(<i32>offsetof<Env>(), 16);

/** Bytes of a problem's tables (Prob header included) for up to Pmax devices and Smax stages. */
function probBytes(Pmax: i32, Smax: i32): usize {
  return layoutProb(DRY_PROB, Pmax, Smax) - DRY_PROB;
}

/** Bytes of one environment's episode state (Env header included). */
function envArraysBytes(Pmax: i32, Smax: i32, Mmax: i32, A: i32): usize {
  return layoutEnv(DRY_ENV, Pmax, Smax, Mmax, A) - DRY_ENV;
}

/** Points the fields of the Prob at ptr at its tables, which follow it; returns the end. */
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

/** Points the fields of the Env at ptr at its arrays, which follow it; returns the end. */
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
  e.dirty = at; at += 8 * <usize>bitWords(Pmax);
  e.waited = at; at += 8 * <usize>bitWords(Pmax);
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
  return OBS_GLOBAL + CLASSES_PER_CHUNK * Vmax * OBS_PER_CLASS;
}

/** Action count for Vmax chunks: 3 Vmax classes + wait. */
export function envNumActions(Vmax: i32): i32 {
  return CLASSES_PER_CHUNK * Vmax + 1;
}

/** Bytes of the header: Ctx, the ranges block and the scratch of one observation (obs, logits, logp, mask). */
function headerBytes(Vmax: i32): usize {
  const D = <usize>envObsDim(Vmax);
  const A = <usize>envNumActions(Vmax);
  return align8(offsetof<Ctx>()) + align8(8 * <usize>RANGE_FIELDS) + align8(4 * D + 4 * A + 4 + A);
}

/** Bytes between consecutive environments: the episode state, and a problem of its own when fresh. */
function strideOf(Pmax: i32, Vmax: i32, Mmax: i32, fresh: i32): usize {
  const Smax = Pmax * Vmax;
  let s = envArraysBytes(Pmax, Smax, Mmax, envNumActions(Vmax));
  if (fresh) s += probBytes(Pmax, Smax);
  return align8(s);
}

/** Bytes of one environment vector (header, shared problem, N environment blocks and one for envRunEpisodes). */
export function envBytes(N: i32, Pmax: i32, Vmax: i32, Mmax: i32, fresh: i32): f64 {
  const fixed = <f64>headerBytes(Vmax) + <f64>probBytes(Pmax, Pmax * Vmax);
  return fixed + <f64>(N + 1) * <f64>strideOf(Pmax, Vmax, Mmax, fresh);
}

/**
 * Lays out a vector of N environments in the block at ctx (envBytes long). `fresh`: every environment draws its
 * problem per episode from the f64[RANGE_FIELDS] ranges (copied); else envSetProblem must load the shared problem.
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

/** Lays out environment i's block (its own problem after its state when fresh). */
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

/** Environment i of the vector (i = N: the evaluation block of envRunEpisodes). */
// @ts-ignore: decorator
@inline export function envAt(c: Ctx, i: i32): Env {
  return changetype<Env>(c.envs + <usize>i * c.stride);
}
