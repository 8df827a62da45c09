// Whole episodes and rollouts inside the module (docs/SEMANTICS.md section 4): envRunEpisodes for paired
// evaluation under a built-in or an MLP policy in the separate evaluation block, and envRollout, T steps of every
// environment with the policy (built-in, or the MLP of assembly/mlp.ts) and the storage a PPO update reads. No
// JavaScript call and no allocation per step.
import { setF64, setI32, ptr32 } from '../memory';
import { mix32, toUnit } from '../noise';
import {
  mlpForward, mlpForwardShared, mlpForwardBatch, mlpForwardBatchShared, mlpBatchScratchBytes, sampleMasked,
  argmaxMasked,
} from '../mlp';
import {
  ERR_CONFIG, ERR_DEADLOCK, POLICY_REPLAY, POLICY_MLP, POLICY_MLP_GREEDY, POLICY_TEACHER, ACT_SHARED_TRUNK,
  SAMPLE_SALT, HASH_KIND,
} from '../contract';
import { Ctx, Prob, envAt } from './layout';
import { advance, advanceReplay, beginEpisode, ensure, stepOne, takeAction } from './step';
import { Tracked, statsAt, statsBegin, statsBusy, statsFoldPeak, statsSpan } from './stats';
import { builtinAction, teacherAction } from './policies';
import { observe } from './observe';

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
  const needsSchedule = policy == POLICY_REPLAY || teacher;
  if (policy < 0 || (policy > POLICY_REPLAY && !teacher) || (needsSchedule && (c.replayOps == 0 || c.fresh))) {
    return -ERR_CONFIG;
  }
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
 * envRunEpisodes under a built-in heuristic (0 greedy-zb, 1 greedy-ffirst, 2 greedy-cp) with the statistics of
 * docs/SEMANTICS.md section 3, in the evaluation block ("env" i runs indices start + i + k N): per episode the
 * makespan, the span and the busy time (summed realized op durations) to outMakespan, outSpan, outBusy f64[N][episodes]
 * (any may be 0), and per device the peak memory, the largest over the episodes run, to outPeak f64[Pmax] (0 to skip).
 * scratch holds f64[STAT_FIELDS][Pmax]. An episode without any decision is an episode like any other. One that
 * deadlocks (memory rule plain with V > 1) is no failure here: its makespan, span and busy time are NaN and its
 * memory stays out of the peak, so that the caller can rerun it where the deadlock gets its diagnosis. Returns the
 * decisions taken, or a negative error code. The bookkeeping is the Tracked instance of the episode mechanics
 * (env/stats.ts): rollouts and envRunEpisodes do none of it.
 */
export function envRunEpisodeStats(
  ctx: usize, policy: i32, episodes: i32, start: i32,
  outMakespan: usize, outSpan: usize, outBusy: usize, outPeak: usize, scratch: usize,
): f64 {
  const c = changetype<Ctx>(ctx);
  c.errCode = 0;
  if (policy < 0 || policy >= POLICY_REPLAY || scratch == 0) return -ERR_CONFIG;
  statsAt(scratch, c.Pmax);
  if (outPeak) for (let d = 0; d < c.Pmax; d++) setF64(outPeak, d, 0);
  const e = envAt(c, c.N);
  let decisions: f64 = 0;
  for (let i = 0; i < c.N; i++) {
    e.index = i;
    for (let k = 0; k < episodes; k++) {
      beginEpisode(c, e, start + i + k * c.N);
      const P = changetype<Prob>(e.prob).P;
      statsBegin(P);
      let r: i32;
      for (;;) {
        r = advance<Tracked>(c, e, false, false);
        if (r <= 0) break;
        takeAction<Tracked>(c, e, builtinAction(c, e, policy));
      }
      const o = i * episodes + k;
      if (r < 0) {
        if (c.errCode != ERR_DEADLOCK) return <f64>r;
        c.errCode = 0;
        if (outMakespan) setF64(outMakespan, o, NaN);
        if (outSpan) setF64(outSpan, o, NaN);
        if (outBusy) setF64(outBusy, o, NaN);
        continue;
      }
      decisions += <f64>e.decisions;
      if (outMakespan) setF64(outMakespan, o, e.maxEnd);
      if (outSpan) setF64(outSpan, o, statsSpan(P, e.lastEnd));
      if (outBusy) setF64(outBusy, o, statsBusy(P));
      if (outPeak) statsFoldPeak(P, outPeak);
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
  const shared = (act & ACT_SHARED_TRUNK) != 0;
  act &= 1; // bit 0: the activation
  const D = c.D;
  const A = c.A;
  const obs = c.scratch;
  const logits = ptr32(obs, D);
  const logp = ptr32(logits, A);
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

/** The MLP policy's sampling uniform of (seed, env, counter): counter-based, so rollouts are reproducible. */
// @ts-ignore: decorator
@inline function sampleUniform(seed: u32, env: u32, counter: u32): f64 {
  return toUnit(mix32(mix32(mix32(seed ^ SAMPLE_SALT) ^ ((env + 1) * HASH_KIND)) ^ counter));
}

/** The uniform of the MLP policy's draw for (seed, env, counter) (for tests). */
export function envSampleUniform(seed: u32, env: u32, counter: u32): f64 {
  return sampleUniform(seed, env, counter);
}

/** Environments whose observations go through one batched MLP forward (weights loaded once per group). */
const MLP_GROUP: i32 = 32;

/** Bytes of `mlpScratch` envRollout's MLP policies need for this hidden shape (separate or shared trunk alike). */
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
  const shared = (act & ACT_SHARED_TRUNK) != 0;
  act &= 1; // bit 0: the activation
  const groupObs = mlpScratch; // f32[G][D] when observations are not stored
  const groupLogits = ptr32(groupObs, MLP_GROUP * D);
  const groupValues = ptr32(groupLogits, MLP_GROUP * A);
  const batchScratch = ptr32(groupValues, MLP_GROUP);
  const logpScratch = ptr32(c.scratch, D + A);
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
        observe(c, e, ptr32(obsBase, j * D));
        const maskOut = last ? finalMask : bufMask;
        if (maskOut) memory.copy(maskOut + <usize>(last ? g0 + j : t * N + g0 + j) * <usize>A, e.mask, <usize>A);
      }
      if (last && !finalVal) continue;
      if (shared) {
        mlpForwardBatchShared(params, D, hidden, nHidden, A, act, obsBase, gN, batchScratch, groupLogits, groupValues);
      } else mlpForwardBatch(params, D, hidden, nHidden, A, act, obsBase, gN, batchScratch, groupLogits, groupValues);
      if (last) {
        memory.copy(ptr32(finalVal, g0), groupValues, <usize>gN << 2);
        continue;
      }
      for (let j = 0; j < gN; j++) {
        const i = g0 + j;
        const e = envAt(c, i);
        const row = t * N + i;
        const logits = ptr32(groupLogits, j * A);
        const logpP = bufLogp ? ptr32(bufLogp, row) : logpScratch;
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
        if (bufVal) store<f32>(ptr32(bufVal, row), load<f32>(ptr32(groupValues, j)));
        const r = stepOne(c, e, action, bufRew ? ptr32(bufRew, row) : 0, bufDone ? bufDone + <usize>row : 0);
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
 * label or a loaded teacher). Policies (POLICY_*): 0-2 built-in heuristics, 4 MLP sampling with
 * u = envSampleUniform(seed, env, counter++) (a per-env counter), 5 MLP argmax, 6 the teacher (greedy-zb where it
 * has no label). MLP: params, hidden i32[nHidden], act, mlpScratch as in assembly/mlp.ts, except that act's bit 1
 * (ACT_SHARED_TRUNK) selects the layout: act = activation (0 tanh, 1 relu) for separate actor and critic networks,
 * act | 2 for the shared trunk (mlpForwardBatchShared's parameters). mlpScratch holds envRolloutScratchBytes bytes
 * either way. Returns 0 or a negative error code.
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
  const noTeacher = policy == POLICY_TEACHER && c.replayOps == 0;
  if (policy < 0 || policy == POLICY_REPLAY || policy > POLICY_TEACHER || noTeacher) return -ERR_CONFIG;
  const N = c.N;
  const D = c.D;
  const A = c.A;
  if (mlp) {
    return mlpRollout(
      c, policy, T, params, hidden, nHidden, act, mlpScratch, seed,
      bufObs, bufMask, bufAct, bufLogp, bufVal, bufRew, bufDone, bufTeacher, finalObs, finalMask, finalVal,
    );
  }
  for (let i = 0; i < N; i++) {
    const e = envAt(c, i);
    const r0 = ensure(c, e);
    if (r0 < 0) return r0;
    for (let t = 0; t < T; t++) {
      const row = t * N + i;
      if (bufObs) observe(c, e, bufObs + (<usize>row * <usize>D << 2));
      if (bufMask) memory.copy(bufMask + <usize>row * <usize>A, e.mask, <usize>A);
      const action = builtinAction(c, e, policy);
      if (bufLogp) store<f32>(ptr32(bufLogp, row), 0);
      if (bufAct) setI32(bufAct, row, action);
      if (bufTeacher) setI32(bufTeacher, row, teacherAction(c, e));
      if (bufVal) store<f32>(ptr32(bufVal, row), 0);
      const writeOut = bufObs != 0 || bufMask != 0 || t == T - 1;
      const rewardOut = bufRew ? ptr32(bufRew, row) : 0;
      const r = stepOne(c, e, action, rewardOut, bufDone ? bufDone + <usize>row : 0, true, writeOut);
      if (r < 0) return r;
    }
    if (finalObs) observe(c, e, finalObs + (<usize>i * <usize>D << 2));
    if (finalMask) memory.copy(finalMask + <usize>i * <usize>A, e.mask, <usize>A);
  }
  return 0;
}
