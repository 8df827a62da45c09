// Episode mechanics (docs/SEMANTICS.md section 4, src/engine/core.ts): beginning an episode, starting ops, the visit of
// idle devices at each event time (forced starts until a decision), replay mode, and one step of the agent with its
// reward and the auto-reset into the next episode.
import {
  f64At, setF64, i32At, setI32, u8At, setU8, u64At, setU64, ptr32, setBit, clearBit, bitAt, bitWords, setFlag,
  takeLowest,
} from '../memory';
import { episodeKey, stageKey, mbKey, factor } from '../noise';
import {
  NOISE_COMM_F, NOISE_KINDS, MEMORY_RESERVE, MEMORY_LOWEST, ERR_ACTION, ERR_DEADLOCK, ERR_SILENT,
  ERR_REPLAY_DEADLOCK, MAX_SILENT_EPISODES,
} from '../contract';
import { Ctx, Prob, Env, flagBytes, paddedP } from './layout';
import { drawInto } from './draw';
import { drawNext, popEvents } from './events';
import { eligibleBits, writeMask, depsReady } from './eligible';
import { Untracked, tracks, statsStart, statsMemory } from './stats';

/** Starts episode `episode` on e: its problem (when fresh), noise keys, counters, flags and queues. */
export function beginEpisode(c: Ctx, e: Env, episode: i32): void {
  e.episode = episode;
  const p = changetype<Prob>(e.prob);
  if (c.fresh) drawInto(c, p, episode);
  const P = p.P;
  const S = p.S;
  const M = p.M;
  if (p.computeNoisy || p.commNoisy) {
    const epKey = episodeKey(p.seed, <u32>episode);
    for (let kind = 0; kind < NOISE_KINDS; kind++)
      for (let s = 0; s < S; s++) {
        const slot = kind * S + s;
        const key = stageKey(epKey, <u32>kind, <u32>s);
        store<u32>(ptr32(e.keys, slot), key);
        const compute = kind < NOISE_COMM_F;
        if (compute ? p.computeNoisy : p.commNoisy)
          setF64(e.nextFactor, slot, factor(mbKey(key, 0), compute ? p.cv : p.commCv, p.floor, p.aP, p.aK));
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
  const words = bitWords(P);
  for (let w = 0; w < words; w++) {
    const n = P - 64 * w;
    setU64(e.dirty, w, n >= 64 ? <u64>-1 : (<u64>1 << <u64>n) - 1);
    setU64(e.waited, w, 0);
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
  // the rules differ only with several chunks and a limit
  e.reserve = c.reserveRule == MEMORY_RESERVE && p.V > 1 && p.memCap < Infinity ? 1 : 0;
  e.lowest = c.reserveRule == MEMORY_LOWEST && p.V > 1 && p.memCap < Infinity ? 1 : 0;
}

/** Device d starts class k's next micro-batch at t (T Tracked: also the statistics of env/stats.ts). */
// @ts-ignore: decorator
@inline export function startOp<T = Untracked>(e: Env, p: Prob, d: i32, k: i32, t: f64): void {
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
  const mem = f64At(curMem, d) + f64At(p.memStart, slot);
  setF64(curMem, d, mem);
  setI32(e.runSlot, d, slot);
  setI32(e.runMb, d, m);
  setF64(e.runEnd, d, end);
  setF64(e.runStart, d, t);
  const started = e.started;
  const n = i32At(started, d);
  if (tracks<T>()) {
    statsStart(d, t, dur, n);
    statsMemory(d, mem);
  }
  setI32(started, d, n + 1);
  e.busy++;
}

/**
 * Device d waits: it sleeps until its eligible classes change (an arrival addressed to it) or until nothing is
 * running or in flight any more, whichever comes first. Sleeping devices are evaluated again after every event.
 * An arrival to an idle device is always an event (transfers are absorbed only by busy receivers), so no event that
 * can wake a sleeper is ever skipped.
 */
export function waitDevice(e: Env, d: i32): void {
  setBit(e.waited, d);
  e.waitedCount++;
  setU64(e.waitBits, d, e.bits);
}

/** Records the details of a failure (envError reads them) and returns -code. */
export function fail(c: Ctx, e: Env, code: i32, device: i32, action: i32): i32 {
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
    if (bitAt(e.waited, x) == 0 || bits != u64At(e.waitBits, x)) return true;
  }
  return false;
}

/**
 * Takes the events of the next event time; true when they ended the episode (then maxEnd holds the makespan: events
 * go in time order, so no op ended later than these last ones).
 */
// @ts-ignore: decorator
@inline function nextEventsEnd<T = Untracked>(e: Env, p: Prob): bool {
  popEvents<T>(e, p);
  if (e.done != e.total) return false;
  e.maxEnd = e.t;
  return true;
}

/**
 * Runs forced steps until a decision (returns 1: `cursor` decides, `mask` holds its classes and the wait flag) or
 * the end of the episode (0); negative on deadlock. T Tracked: also the statistics of env/stats.ts.
 */
export function advance<T = Untracked>(c: Ctx, e: Env, writeOut: bool, waitOn: bool): i32 {
  const p = changetype<Prob>(e.prob);
  const words = bitWords(p.P);
  const dirty = e.dirty;
  for (;;) {
    const t = e.t;
    // idle devices to evaluate, in ascending order (those below the cursor are done: their bits are clear)
    for (let w = e.cursor >> 6; w < words; w++) {
      const a = dirty + (<usize>w << 3);
      for (let j = takeLowest(a); j >= 0; j = takeLowest(a)) {
        const d = (w << 6) + j;
        const bits = eligibleBits(e, p, d);
        if (bits == 0) continue;
        const canWait = waitOn && (e.busy + e.arrSize > 0 || otherCanStart(e, p, d));
        if (waitOn && e.waitedCount > 0 && bitAt(e.waited, d) != 0) {
          // asleep: it stays so while waiting is possible and its classes have not changed
          if (canWait && bits == u64At(e.waitBits, d)) continue;
          clearBit(e.waited, d);
          e.waitedCount--;
        }
        if ((bits & (bits - 1)) == 0 && !canWait) {
          startOp<T>(e, p, d, <i32>ctz(bits), t);
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
    if (nextEventsEnd<T>(e, p)) return 0;
    e.cursor = 0;
  }
  return 0; // unreachable
}

/** Replay mode: each device starts its list's next class when that op's dependencies are done (no memory check). */
export function advanceReplay(c: Ctx, e: Env): i32 {
  const p = changetype<Prob>(e.prob);
  const P = p.P;
  const words = bitWords(P);
  const dirty = e.dirty;
  const ops = c.replayOps;
  const starts = c.replayStart;
  for (;;) {
    const t = e.t;
    for (let w = 0; w < words; w++) {
      const a = dirty + (<usize>w << 3);
      for (let j = takeLowest(a); j >= 0; j = takeLowest(a)) {
        const d = (w << 6) + j;
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
    if (nextEventsEnd(e, p)) return 0;
  }
  return 0; // unreachable
}

/** Logs the episode that just ended. */
export function finishEpisode(e: Env): void {
  const p = changetype<Prob>(e.prob);
  e.logEpisodes += 1;
  e.logLast = e.maxEnd;
  e.logSum += e.maxEnd;
  e.logScaled += e.maxEnd / p.scale;
  e.logDecisions += <f64>e.decisions;
}

/** From the start of an episode: runs silent episodes (no decision) through until one reaches a decision. */
export function toFirstDecision(c: Ctx, e: Env): i32 {
  let silent = 0;
  for (;;) {
    const r = advance(c, e, true, c.waitOn != 0);
    if (r != 0) return r;
    e.logSilent += 1;
    finishEpisode(e);
    if (++silent >= MAX_SILENT_EPISODES) return fail(c, e, ERR_SILENT, -1, -1);
    beginEpisode(c, e, e.episode + c.N);
  }
  return 0; // unreachable
}

/** Runs a begun episode (envReset, envRunEpisodes) to its first decision; 1, or a negative error code. */
export function ensure(c: Ctx, e: Env): i32 {
  if (!e.pending) return 1;
  const r = toFirstDecision(c, e);
  if (r > 0) e.pending = 0;
  return r;
}

/** The deciding device starts class `action` (or waits); the next device is visited next. */
// @ts-ignore: decorator
@inline export function takeAction<T = Untracked>(c: Ctx, e: Env, action: i32): void {
  e.decisions++;
  const d = e.cursor;
  if (action != 3 * c.Vmax) startOp<T>(e, changetype<Prob>(e.prob), d, action, e.t);
  else waitDevice(e, d);
  e.cursor = d + 1;
}

/**
 * Takes `action` at e's decision; writes the reward and done flag; on done the env is at the next episode's first
 * decision. `trusted`: the action comes from a built-in policy (a class of e.bits, no check) and the next
 * decision's mask bytes are written only when `writeOut` (a built-in rollout writes them when the next step
 * observes, and at its last step, so that e.mask is current whenever anyone reads it).
 */
export function stepOne(
  c: Ctx, e: Env, action: i32, rewardOut: usize, doneOut: usize, trusted: bool = false, writeOut: bool = true,
): i32 {
  if (!trusted && (action < 0 || action >= c.A || !u8At(e.mask, action))) {
    return fail(c, e, ERR_ACTION, e.cursor, action);
  }
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
