// The stepped interface of an environment vector (docs/SEMANTICS.md section 4; src/env.ts drives it): reset,
// observe, step, the schedule of replay mode and of the teacher, and the read-outs (log, state, errors, problem).
import { f64At, setF64, i32At, setI32, ptr32 } from '../memory';
import {
  ERR_CONFIG, ERR_PENDING, ERRF_CODE, ERRF_ENV, ERRF_DEVICE, ERRF_ACTION, ERRF_EPISODE, STATE_EPISODE, STATE_DEVICE,
  LOG_EPISODES, LOG_LAST, LOG_SUM, LOG_SCALED, LOG_DECISIONS, LOG_SILENT, LOG_FIELDS, DUMP_HEADER,
} from '../contract';
import { Ctx, Prob, envAt } from './layout';
import { beginEpisode, fail, stepOne } from './step';
import { observeAll } from './observe';

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
    const r = stepOne(c, e, i32At(actions, i), reward ? ptr32(reward, i) : 0, done ? done + <usize>i : 0);
    if (r < 0) return r;
  }
  return observeAll(c, obs, mask);
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
 * Copies the per-env log to out f64[N][LOG_FIELDS] (episodes, last makespan, sum of makespans, sum of makespan / scale,
 * decisions, silent episodes) and clears it when `clear`.
 */
export function envLogRead(ctx: usize, out: usize, clear: i32): void {
  const c = changetype<Ctx>(ctx);
  for (let i = 0; i < c.N; i++) {
    const e = envAt(c, i);
    const o = out + (<usize>(i * LOG_FIELDS) << 3);
    setF64(o, LOG_EPISODES, e.logEpisodes);
    setF64(o, LOG_LAST, e.logLast);
    setF64(o, LOG_SUM, e.logSum);
    setF64(o, LOG_SCALED, e.logScaled);
    setF64(o, LOG_DECISIONS, e.logDecisions);
    setF64(o, LOG_SILENT, e.logSilent);
    if (clear) {
      e.logEpisodes = 0; e.logSum = 0; e.logScaled = 0; e.logDecisions = 0; e.logSilent = 0;
    }
  }
}

/** Env i's current episode index, deciding device and time (field STATE_EPISODE, STATE_DEVICE, STATE_TIME). */
export function envState(ctx: usize, i: i32, field: i32): f64 {
  const e = envAt(changetype<Ctx>(ctx), i);
  if (field == STATE_EPISODE) return <f64>e.episode;
  if (field == STATE_DEVICE) return <f64>e.cursor;
  return e.t;
}

/** Error details of the last failed call by field ERRF_*: code, env, device, action, episode, time. */
export function envError(ctx: usize, field: i32): f64 {
  const c = changetype<Ctx>(ctx);
  if (field == ERRF_CODE) return <f64>c.errCode;
  if (field == ERRF_ENV) return <f64>c.errEnv;
  if (field == ERRF_DEVICE) return <f64>c.errDevice;
  if (field == ERRF_ACTION) return <f64>c.errAction;
  if (field == ERRF_EPISODE) return <f64>c.errEpisode;
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
  let o = DUMP_HEADER;
  for (let s = 0; s < S; s++) setF64(out, o++, <f64>i32At(p.stageDevice, s));
  for (let j = 0; j < 3 * S; j++) setF64(out, o++, f64At(p.cost, j));
  for (let s = 0; s < S; s++) setF64(out, o++, f64At(p.comm, s));
  for (let j = 0; j < 3 * S; j++) setF64(out, o++, f64At(p.path, j));
  return o;
}
