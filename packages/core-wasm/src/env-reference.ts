// The RL environment (docs/SEMANTICS.md section 4) in plain TypeScript: one environment, stepped decision by decision.
// It is the oracle of the WebAssembly environment (assembly/env.ts, driven by src/env.ts): the event core
// (src/engine/core.ts, the loop src/dynamic.ts runs) made resumable at each decision, plus the wait action, the
// observation, the reward, auto-reset and the counter-based problem generator. Every quantity is computed with the
// same f64 operations in the same order as the WebAssembly side, so both agree bit for bit.
import { z } from 'zod';
import {
  CLS_COST,
  CLS_ELIGIBLE,
  CLS_ETA,
  CLS_PATH,
  CLS_PLAN,
  CLS_READY,
  CLS_REMAINING,
  DEFAULT_ANOMALY_FACTOR,
  DEFAULT_ANOMALY_PROB,
  DEFAULT_MEM_B,
  DEFAULT_MEM_F,
  DEFAULT_MEM_W,
  DEFAULT_NOISE_FLOOR,
  DRAW_CHUNKS,
  DRAW_COMM,
  DRAW_COST_B,
  DRAW_COST_W,
  DRAW_CV,
  DRAW_HAS_LIMIT,
  DRAW_LIMIT,
  DRAW_MICRO_BATCHES,
  DRAW_STAGE_SPREAD,
  DRAW_STAGES,
  DRAW_VSHAPE,
  KIND_B,
  KIND_F,
  KIND_W,
  MAX_CHUNKS,
  MAX_SILENT_EPISODES,
  OBS_CHUNKS,
  OBS_FIRST,
  OBS_GLOBAL,
  OBS_HAS_LIMIT,
  OBS_HEADROOM,
  OBS_HEADROOM_NEXT,
  OBS_HEADROOM_PREV,
  OBS_IDLE,
  OBS_IDLE_SINCE,
  OBS_IN_FLIGHT,
  OBS_LAST,
  OBS_MB_PER_DEVICE,
  OBS_MEMORY,
  OBS_NEXT_IDLE,
  OBS_NEXT_STARTED,
  OBS_OWN_PROGRESS,
  OBS_PER_CLASS,
  OBS_POSITION,
  OBS_PREV_IDLE,
  OBS_PREV_STARTED,
  OBS_PROGRESS,
  OBS_SOONEST,
  OBS_TIME,
  OBS_WAIT,
  R_ANOMALY_K,
  R_ANOMALY_P,
  R_CHUNKS,
  R_COMM,
  R_COST_B,
  R_COST_W,
  R_CV,
  R_FLOOR,
  R_LIMIT,
  R_LIMIT_PROB,
  R_MICRO_BATCHES,
  R_NOISE_SEED,
  R_SEED,
  R_STAGE_SPREAD,
  R_STAGES,
  R_VSHAPE_PROB,
  RANGE_FIELDS,
  RANGES_SALT,
} from './contract.js';
import { EventCore } from './engine/core.js';
import type { MemoryRule } from './engine/memory.js';
import { ConfigError, ScheduleError } from './errors.js';
import { mix32, uniform } from './noise.js';
import { configErrorFrom, resolveProblem, type Problem, type ProblemConfig } from './problem.js';
import { compileSchedule, decodeOp, formatAction, KIND_OF_CODE, type Op, type Schedule } from './schedule.js';

/** Observation length for `maxChunks` (Vmax) chunks: 22 + 21 Vmax (43 for Vmax = 1, 64 for Vmax = 2). */
export function envObsDim(maxChunks: number): number {
  return OBS_GLOBAL + 3 * maxChunks * OBS_PER_CLASS;
}

/** Action count: 3 Vmax classes (index c * 3 + kind) plus wait (index 3 Vmax). */
export function envNumActions(maxChunks: number): number {
  return 3 * maxChunks + 1;
}

/**
 * A schedule as the environment's replay and teacher read it: per device the classes (c * 3 + kind, fused BW as B
 * then W) of its ops in list order with their micro-batches. The environment runs a class's micro-batches in
 * ascending order, so a list that breaks that order cannot be expressed: ScheduleError.
 */
export function scheduleClassLists(
  problem: Problem,
  schedule: Schedule,
  maxChunks: number,
): { classes: Int32Array; mbs: Int32Array; devStart: Int32Array } {
  const compiled = compileSchedule(problem, schedule);
  const { stages: P, numStages: S } = problem;
  const classes: number[] = [];
  const mbs: number[] = [];
  const devStart = new Int32Array(P + 1);
  for (let d = 0; d < P; d++) {
    devStart[d] = classes.length;
    const next = new Int32Array(3 * maxChunks);
    for (let h = compiled.devStart[d]!; h < compiled.devStart[d + 1]!; h++) {
      const op = decodeOp(compiled.ops[h]!, S);
      const c = Math.floor(op.stage / P);
      const kinds = op.kind === 'BW' ? [KIND_B, KIND_W] : [{ F: KIND_F, B: KIND_B, W: KIND_W }[op.kind]];
      for (const kind of kinds) {
        const k = c * 3 + kind!;
        if (next[k] !== op.mb) {
          const name = formatAction({ kind: KIND_OF_CODE[kind!]!, stage: op.stage, mb: op.mb });
          const want = formatAction({ kind: KIND_OF_CODE[kind!]!, stage: op.stage, mb: next[k]! });
          throw new ScheduleError(
            `device ${d} runs ${name} before ${want}: the environment runs each op class's micro-batches in ` +
              'ascending order, so this schedule cannot be replayed in it',
            [name],
          );
        }
        next[k] = next[k]! + 1;
        classes.push(k);
        mbs.push(op.mb);
      }
    }
  }
  devStart[P] = classes.length;
  return { classes: Int32Array.from(classes), mbs: Int32Array.from(mbs), devStart };
}

/**
 * Ranges of freshly drawn problems (one problem per episode index, for generalization). Costs are relative to
 * F = 1; memory per stage is F = 1, B = 0, W = -1. All ranges are inclusive [lo, hi]; integer ranges draw
 * uniformly among the integers, real ranges uniformly in [lo, hi).
 */
export interface ProblemRanges {
  /** Generator seed (unsigned 32-bit). Default 0. */
  seed?: number;
  /** P: devices (integers). */
  stages: readonly [number, number];
  /** V: chunks per device (integers). Default [1, 1]. */
  chunks?: readonly [number, number];
  /** Probability of the `v` placement when V > 1 (else `loop`). Default 0. */
  vShapeProb?: number;
  /** M: micro-batches (integers). */
  microBatches: readonly [number, number];
  /** B cost / F cost. Default [1, 1]. */
  costB?: readonly [number, number];
  /** W cost / F cost. Default [1, 1]. */
  costW?: readonly [number, number];
  /** Transfer time / F cost (the same on every link). Default [0, 0]. */
  comm?: readonly [number, number];
  /** Noise cv of compute and transfers. Default [0, 0]. */
  cv?: readonly [number, number];
  /** Per-stage cost multiplier 1 + spread * (2u - 1), u uniform, applied to F, B and W of the stage. Default 0. */
  stageSpread?: number;
  /** Probability that the problem has a memory limit. Default 0. */
  limitProb?: number;
  /** Limit factor f: limit = max(1, floor(f * P)) * V, in units of one stage's activation (F = 1). Default [1, 1]. */
  limit?: readonly [number, number];
  /** Fixed noise parameters of every drawn problem (seed is the noise seed). */
  noise?: { floor?: number; anomalyProb?: number; anomalyFactor?: number; seed?: number };
}

/** The ranges with defaults filled in, as the flat f64 block (slots R_*) the WebAssembly generator reads. */
export function rangesToArray(r: ProblemRanges): Float64Array {
  const n = r.noise ?? {};
  const out = new Float64Array(RANGE_FIELDS);
  const pair = (slot: number, range: readonly [number, number]) => {
    out[slot] = range[0];
    out[slot + 1] = range[1];
  };
  out[R_SEED] = r.seed ?? 0;
  pair(R_STAGES, r.stages);
  pair(R_CHUNKS, r.chunks ?? [1, 1]);
  out[R_VSHAPE_PROB] = r.vShapeProb ?? 0;
  pair(R_MICRO_BATCHES, r.microBatches);
  pair(R_COST_B, r.costB ?? [1, 1]);
  pair(R_COST_W, r.costW ?? [1, 1]);
  pair(R_COMM, r.comm ?? [0, 0]);
  pair(R_CV, r.cv ?? [0, 0]);
  out[R_STAGE_SPREAD] = r.stageSpread ?? 0;
  out[R_LIMIT_PROB] = r.limitProb ?? 0;
  pair(R_LIMIT, r.limit ?? [1, 1]);
  out[R_FLOOR] = n.floor ?? DEFAULT_NOISE_FLOOR;
  out[R_ANOMALY_P] = n.anomalyProb ?? DEFAULT_ANOMALY_PROB;
  out[R_ANOMALY_K] = n.anomalyFactor ?? DEFAULT_ANOMALY_FACTOR;
  out[R_NOISE_SEED] = n.seed ?? 0;
  return out;
}

/** [lo, hi] with lo <= hi, every entry in [min, max] (integers when `integer`). */
const interval = (min: number, max: number, integer = false) => {
  const item = integer ? z.number().int().min(min).max(max) : z.number().finite().min(min).max(max);
  return z.tuple([item, item]).refine(([lo, hi]) => lo <= hi, 'lo must not exceed hi');
};
const probability = (max = 1) => z.number().finite().min(0).max(max);

/** The schema of ProblemRanges (zod), used by checkRanges and by configs that embed ranges. */
export const problemRangesSchema = z.strictObject({
  seed: z.number().int().min(0).max(0xffffffff).optional(),
  stages: interval(1, 1024, true),
  chunks: interval(1, MAX_CHUNKS, true).optional(),
  vShapeProb: probability().optional(),
  microBatches: interval(1, 65536, true),
  costB: interval(0, 1e6).optional(),
  costW: interval(0, 1e6).optional(),
  comm: interval(0, 1e6).optional(),
  cv: interval(0, 3).optional(),
  stageSpread: probability(0.99).optional(),
  limitProb: probability().optional(),
  limit: interval(0, 1e6).optional(),
  noise: z
    .strictObject({
      floor: probability().optional(),
      anomalyProb: probability().optional(),
      anomalyFactor: z.number().finite().min(1).max(1000).optional(),
      seed: z.number().int().min(0).max(0xffffffff).optional(),
    })
    .optional(),
});

/** Validates ranges; throws ConfigError naming the field (`ranges.<field>`). */
export function checkRanges(r: ProblemRanges): void {
  const parsed = problemRangesSchema.safeParse(r, { reportInput: true });
  if (!parsed.success) throw configErrorFrom(parsed.error, 'ranges');
}

/**
 * The problem of episode `index` under `ranges` (counter-based: a pure function of (seed, index)). Draw j (DRAW_*)
 * of key = mix32(mix32(seed ^ RANGES_SALT) ^ index): 0 P, 1 V, 2 M, 3 placement, 4 B ratio, 5 W ratio, 6 comm,
 * 7 cv, 8 limit present, 9 limit factor, 16 + s stage s's cost multiplier.
 */
export function drawProblemConfig(ranges: ProblemRanges, index: number): ProblemConfig {
  const r = rangesToArray(ranges);
  const at = (i: number) => r[i]!;
  const key = mix32(mix32((at(R_SEED) >>> 0) ^ RANGES_SALT) ^ index);
  const int = (slot: number, j: number) => {
    const lo = at(slot);
    const hi = at(slot + 1);
    return Math.min(hi, lo + Math.floor(uniform(key, j) * (hi - lo + 1)));
  };
  const real = (slot: number, j: number) => at(slot) + uniform(key, j) * (at(slot + 1) - at(slot));
  const P = int(R_STAGES, DRAW_STAGES);
  const V = int(R_CHUNKS, DRAW_CHUNKS);
  const M = int(R_MICRO_BATCHES, DRAW_MICRO_BATCHES);
  const v = V > 1 && uniform(key, DRAW_VSHAPE) < at(R_VSHAPE_PROB);
  const rB = real(R_COST_B, DRAW_COST_B);
  const rW = real(R_COST_W, DRAW_COST_W);
  const c = real(R_COMM, DRAW_COMM);
  const cv = real(R_CV, DRAW_CV);
  const hasLimit = uniform(key, DRAW_HAS_LIMIT) < at(R_LIMIT_PROB);
  const f = real(R_LIMIT, DRAW_LIMIT);
  const S = P * V;
  const F: number[] = [];
  const B: number[] = [];
  const W: number[] = [];
  for (let s = 0; s < S; s++) {
    const mult = 1 + at(R_STAGE_SPREAD) * (2 * uniform(key, DRAW_STAGE_SPREAD + s) - 1);
    F.push(mult);
    B.push(rB * mult);
    W.push(rW * mult);
  }
  return {
    stages: P,
    chunks: V,
    placement: v ? 'v' : 'loop',
    microBatches: M,
    cost: { F, B, W },
    comm: { time: [c] },
    memory: {
      F: [DEFAULT_MEM_F],
      B: [DEFAULT_MEM_B],
      W: [DEFAULT_MEM_W],
      limit: hasLimit ? Math.max(1, Math.floor(f * P)) * V : null,
    },
    noise: {
      cv,
      floor: at(R_FLOOR),
      anomalyProb: at(R_ANOMALY_P),
      anomalyFactor: at(R_ANOMALY_K),
      seed: at(R_NOISE_SEED),
    },
  };
}

/** The resolved problem of episode `index` under `ranges`. */
export function drawProblem(ranges: ProblemRanges, index: number): Problem {
  return resolveProblem(drawProblemConfig(ranges, index));
}

/**
 * Longest base-cost path from the start of op (kind, stage) to the end of its micro-batch (the table of
 * greedy-cp, identical to `remainingPath` of @pprl/schedulers), indexed kind * S + stage.
 */
export function envRemainingPath(problem: Problem): Float64Array {
  const { numStages: S, costF, costB, costW, comm, stageDevice } = problem;
  const hop = (s: number) => (stageDevice[s] !== stageDevice[s + 1] ? comm[s]! : 0);
  const path = new Float64Array(3 * S);
  for (let s = 0; s < S; s++) {
    path[KIND_W * S + s] = costW[s]!;
    const down = s > 0 ? hop(s - 1) + path[KIND_B * S + s - 1]! : 0;
    path[KIND_B * S + s] = costB[s]! + Math.max(costW[s]!, down);
  }
  for (let s = S - 1; s >= 0; s--)
    path[KIND_F * S + s] = costF[s]! + (s < S - 1 ? hop(s) + path[KIND_F * S + s + 1]! : path[KIND_B * S + s]!);
  return path;
}

/** Sum over stages of (F + B) + W base costs (in stage order). */
function stageCostSum(problem: Problem): number {
  let sum = 0;
  for (let s = 0; s < problem.numStages; s++) sum += problem.costF[s]! + problem.costB[s]! + problem.costW[s]!;
  return sum;
}

/** The default reward scale: the ideal time (sum over all ops of base cost) / P; 1 when that is 0. */
export function idealTime(problem: Problem): number {
  const ideal = (stageCostSum(problem) * problem.microBatches) / problem.stages;
  return ideal > 0 ? ideal : 1;
}

/** Per-environment episode log (what `WasmEnv.readLog` aggregates). */
export interface EnvLogEntry {
  /** Episodes finished (including silent ones, which had no decision). */
  episodes: number;
  lastMakespan: number;
  sumMakespan: number;
  /** Sum of makespan / scale (= minus the episode return). */
  sumScaledMakespan: number;
  /** Decisions in finished episodes. */
  decisions: number;
  /** Episodes that finished without any decision (run through internally, no step). */
  silentEpisodes: number;
}

function emptyLog(): EnvLogEntry {
  return { episodes: 0, lastMakespan: 0, sumMakespan: 0, sumScaledMakespan: 0, decisions: 0, silentEpisodes: 0 };
}

export interface ReferenceEnvOptions {
  /** A fixed problem (give this or `ranges`). */
  problem?: Problem;
  /** Draw a fresh problem for every episode index. */
  ranges?: ProblemRanges;
  /** Vmax. Default: the problem's chunks, or the upper end of `ranges.chunks`. */
  maxChunks?: number;
  /** First episode index. Default 0. */
  episodeStart?: number;
  /** Distance between successive episode indices (N in a vector of N environments). Default 1. */
  episodeStride?: number;
  /** Reward scale; default the ideal time of each episode's problem. */
  scale?: number;
  /** Default `reserve` (src/engine/memory.ts). */
  memoryRule?: MemoryRule;
  /** Record the ops each episode starts, per device in start order (`finishedEpisodeOrder`). */
  recordOrder?: boolean;
  /** The wait action (WasmEnvOptions.wait). Default false. */
  wait?: boolean;
  /** Feature groups written as zeros when false (WasmEnvOptions.features). */
  features?: { arrival?: boolean; memory?: boolean; plan?: boolean };
}

/** An operation of the environment that cannot continue (deadlock, an action the mask forbids, no decisions). */
export class EnvError extends Error {
  override name = 'EnvError';
}

/**
 * One environment, stepped by `step(action)`; see the README section "Environment" for the observation, the
 * reward and the episode indices. The state after `reset()` / `step()` is a decision: `device` is idle with two or
 * more eligible classes.
 */
export class ReferenceEnv {
  readonly maxChunks: number;
  readonly obsDim: number;
  readonly numActions: number;
  readonly episodeStart: number;
  readonly episodeStride: number;
  private readonly fixedScale: number | undefined;
  private readonly memoryRule: MemoryRule;
  private readonly ranges: ProblemRanges | undefined;
  private readonly fixedProblem: Problem | undefined;
  private readonly recordOrder: boolean;
  private readonly waitOn: boolean;
  private readonly arrivalOn: boolean;
  private readonly memoryOn: boolean;
  private readonly planOn: boolean;
  private teacher: { classes: Int32Array; mbs: Int32Array; devStart: Int32Array } | undefined;
  private teacherHead = new Int32Array(0);
  private finishedOrder: Op[][] = [];
  readonly log: EnvLogEntry = emptyLog();

  /** The last episode that ended by a step (silent episodes excluded): its index, makespan and scale. */
  lastStepped = { episode: -1, makespan: 0, scale: 1 };
  /** Current problem and episode index. */
  problem!: Problem;
  episode = 0;
  /** The current problem's event core: the episode's state. */
  private core!: EventCore;
  private path: Float64Array = new Float64Array(0);
  private scaleValue = 1;
  private meanCost = 0;
  private pathF0 = 0;
  private asleep = new Uint8Array(0);
  /** Mask of each sleeping device when it chose to wait (P x A). */
  private waitMask = new Uint8Array(0);
  private canWait = false;
  /** The deciding device's mask (classes, then wait at 3 Vmax), and room to keep it while others are probed. */
  private readonly mask: Uint8Array;
  private readonly savedMask: Uint8Array;
  private cursor = 0;
  private anchor = 0;
  private decisions = 0;

  constructor(opts: ReferenceEnvOptions) {
    if ((opts.problem === undefined) === (opts.ranges === undefined))
      throw new ConfigError('', 'give either a problem or problem ranges');
    if (opts.ranges) checkRanges(opts.ranges);
    this.ranges = opts.ranges;
    this.fixedProblem = opts.problem;
    const needed = opts.problem ? opts.problem.chunks : (opts.ranges!.chunks ?? [1, 1])[1];
    this.maxChunks = opts.maxChunks ?? needed;
    if (!(Number.isInteger(this.maxChunks) && this.maxChunks >= needed && this.maxChunks <= MAX_CHUNKS))
      throw new ConfigError('maxChunks', `must be an integer in [${needed}, ${MAX_CHUNKS}] (got ${opts.maxChunks})`);
    this.obsDim = envObsDim(this.maxChunks);
    this.numActions = envNumActions(this.maxChunks);
    this.episodeStart = opts.episodeStart ?? 0;
    this.episodeStride = opts.episodeStride ?? 1;
    this.recordOrder = opts.recordOrder ?? false;
    if (opts.scale !== undefined && !(Number.isFinite(opts.scale) && opts.scale > 0))
      throw new ConfigError('scale', `must be a positive number (got ${opts.scale})`);
    this.fixedScale = opts.scale;
    this.memoryRule = opts.memoryRule ?? 'reserve';
    this.waitOn = opts.wait ?? false;
    this.arrivalOn = opts.features?.arrival ?? true;
    this.memoryOn = opts.features?.memory ?? true;
    this.planOn = opts.features?.plan ?? true;
    this.mask = new Uint8Array(this.numActions);
    this.savedMask = new Uint8Array(this.numActions);
  }

  /**
   * Sets the teacher (a schedule of the fixed problem): `teacherAction()` then gives its decision at the current
   * state. Its heads restart at the list starts (labels skip the ops that have started).
   */
  setTeacher(schedule: Schedule): void {
    if (!this.fixedProblem) throw new ConfigError('problem', 'a teacher needs a fixed problem, not ranges');
    this.teacher = scheduleClassLists(this.fixedProblem, schedule, this.maxChunks);
    this.teacherHead = this.teacher.devStart.slice(0, this.fixedProblem.stages);
  }

  /**
   * The teacher's action at the current decision: the class of the deciding device's first op of its list that has
   * not started, if eligible; else wait if waiting is possible; else -1 (also without a teacher).
   */
  teacherAction(): number {
    const k = this.teacherNext();
    if (k < 0) return -1;
    if (this.mask[k] === 1) return k;
    return this.canWait ? 3 * this.maxChunks : -1;
  }

  /** The class of the deciding device's first op of the teacher's list that has not started (-1: none). */
  private teacherNext(): number {
    const t = this.teacher;
    if (!t) return -1;
    const { V, S, devStages, nextMb } = this.core;
    const d = this.cursor;
    const end = t.devStart[d + 1]!;
    let h = this.teacherHead[d]!;
    while (h < end) {
      const k = t.classes[h]!;
      const c = Math.floor(k / 3);
      if (nextMb[(k - 3 * c) * S + devStages[d * V + c]!]! <= t.mbs[h]!) break;
      h++;
    }
    this.teacherHead[d] = h;
    return h < end ? t.classes[h]! : -1;
  }

  /** Restarts at the first episode index (logs cleared) and runs to the first decision. */
  reset(): void {
    Object.assign(this.log, emptyLog());
    this.beginEpisode(this.episodeStart);
    this.toFirstDecision();
  }

  /** The idle device that decides now. */
  get device(): number {
    return this.cursor;
  }

  get time(): number {
    return this.core.time;
  }

  get scale(): number {
    return this.scaleValue;
  }

  /** Memory of device d now. */
  memory(d: number): number {
    return this.core.curMem[d]!;
  }

  /** Class k of the deciding device: its next op (kind, stage, micro-batch), or null when exhausted / absent. */
  classOp(k: number): { kind: number; stage: number; mb: number } | null {
    const { V, S, M, devStages, nextMb } = this.core;
    const c = Math.floor(k / 3);
    if (c >= V) return null;
    const kind = k - 3 * c;
    const stage = devStages[this.cursor * V + c]!;
    const mb = nextMb[kind * S + stage]!;
    return mb < M ? { kind, stage, mb } : null;
  }

  /** Whether op (kind, stage, mb)'s dependencies are done and their data has arrived by now. */
  depsDone(kind: number, stage: number, mb: number): boolean {
    return this.core.inputsAt(kind, stage, mb) <= this.core.time;
  }

  /** Memory delta of op (kind, stage). */
  memDeltaOf(kind: number, stage: number): number {
    return this.core.memDelta[kind * this.core.S + stage]!;
  }

  /** Ops of the current episode already started on device d. */
  startedOn(d: number): number {
    return this.core.started[d]!;
  }

  /** Writes the observation (offsets OBS_* and CLS_* of src/contract.ts) and the action mask of the decision. */
  observe(obs: Float32Array, mask: Uint8Array, obsOffset = 0, maskOffset = 0): void {
    const { maxChunks, meanCost } = this;
    const core = this.core;
    const { P, V, M, S, time: t, runKind, started, devStages, nextMb } = core;
    const d = this.cursor;
    const o = obsOffset;
    const total3 = 3 * V * M;
    const limited = this.problem.memLimit < Infinity;
    let idle = 0;
    for (let e = 0; e < P; e++) if (runKind[e]! < 0) idle++;
    const cur = core.curMem[d]!;
    let mem = 0;
    if (limited) mem = cur / this.problem.memLimit;
    else if (core.fullF[d]! > 0) mem = cur / (P * core.fullF[d]!);
    if (mem > 2) mem = 2;
    if (mem < -2) mem = -2;
    // the last op of idle device d has ended, so lastEnd[d] is the end of its last finished op
    const since = meanCost > 0 ? (t - core.lastEnd[d]!) / meanCost : 0;
    obs[o + OBS_POSITION] = P > 1 ? d / (P - 1) : 0;
    obs[o + OBS_FIRST] = d === 0 ? 1 : 0;
    obs[o + OBS_LAST] = d === P - 1 ? 1 : 0;
    obs[o + OBS_PROGRESS] = core.done / core.total;
    obs[o + OBS_OWN_PROGRESS] = started[d]! / total3;
    obs[o + OBS_TIME] = 0.5 * Math.min(t / this.scaleValue, 4);
    obs[o + OBS_MEMORY] = mem;
    obs[o + OBS_HAS_LIMIT] = limited ? 1 : 0;
    obs[o + OBS_IN_FLIGHT] = 0.5 * Math.min(core.events.size / P, 2);
    obs[o + OBS_IDLE] = idle / P;
    obs[o + OBS_WAIT] = this.mask[3 * maxChunks]!;
    obs[o + OBS_PREV_IDLE] = d > 0 && runKind[d - 1]! < 0 ? 1 : 0;
    obs[o + OBS_PREV_STARTED] = d > 0 ? started[d - 1]! / total3 : 0;
    obs[o + OBS_NEXT_IDLE] = d < P - 1 && runKind[d + 1]! < 0 ? 1 : 0;
    obs[o + OBS_NEXT_STARTED] = d < P - 1 ? started[d + 1]! / total3 : 0;
    obs[o + OBS_IDLE_SINCE] = since / (1 + since);
    obs[o + OBS_MB_PER_DEVICE] = 0.25 * Math.min(M / P, 4);
    obs[o + OBS_CHUNKS] = V / maxChunks;
    obs[o + OBS_HEADROOM] = this.memoryOn ? this.headroom(d) : 0;
    obs[o + OBS_HEADROOM_PREV] = this.memoryOn && d > 0 ? this.headroom(d - 1) : 0;
    obs[o + OBS_HEADROOM_NEXT] = this.memoryOn && d < P - 1 ? this.headroom(d + 1) : 0;
    let soonest = Infinity;
    const planned = this.planOn ? this.teacherNext() : -1;
    for (let k = 0; k < 3 * maxChunks; k++) {
      const b = o + OBS_GLOBAL + k * OBS_PER_CLASS;
      const c = Math.floor(k / 3);
      if (c >= V) {
        for (let j = 0; j < OBS_PER_CLASS; j++) obs[b + j] = 0;
        continue;
      }
      const kind = k - 3 * c;
      const s = devStages[d * V + c]!;
      const m = nextMb[kind * S + s]!;
      obs[b + CLS_ELIGIBLE] = this.mask[k]!;
      obs[b + CLS_REMAINING] = (M - m) / M;
      let x = 0;
      if (m < M && meanCost > 0) {
        const r = core.cost[kind * S + s]! / meanCost;
        x = r / (1 + r);
      }
      obs[b + CLS_COST] = x;
      let ready = 0;
      while (ready < P && m + ready < M && this.depsDone(kind, s, m + ready)) ready++;
      obs[b + CLS_READY] = ready / P;
      obs[b + CLS_PATH] = m < M && this.pathF0 > 0 ? this.path[kind * S + s]! / this.pathF0 : 0;
      let eta = 0;
      if (this.arrivalOn && m < M) {
        const x = this.inputEta(d, kind, s, m);
        if (x < 0) eta = 1;
        else if (meanCost > 0) {
          const r = x / meanCost;
          eta = r / (1 + r);
          if (x > 0 && r < soonest) soonest = r;
        }
      }
      obs[b + CLS_ETA] = eta;
      obs[b + CLS_PLAN] = k === planned ? 1 : 0;
    }
    obs[o + OBS_SOONEST] = this.arrivalOn ? (soonest < Infinity ? soonest / (1 + soonest) : 1) : 0;
    mask.set(this.mask, maskOffset);
  }

  /** Memory headroom of device x in units of P of its forward activations, in [0, 2] (README "Observation"). */
  private headroom(x: number): number {
    const full = this.core.fullF[x]!;
    if (!(this.problem.memLimit < Infinity) || !(full > 0)) return 2;
    const h = (this.problem.memLimit - this.core.curMem[x]!) / (this.core.P * full);
    // biome-ignore lint/complexity/useMathMinMax: the WebAssembly side's comparisons (bit for bit, -0 included)
    return h < 0 ? 0 : h > 2 ? 2 : h;
  }

  /**
   * Expected time until the inputs of op (kind, s, m) of idle device d are there, from what has happened and base
   * costs only (README "Observation"); -1 when it waits for an op of d itself.
   */
  private inputEta(d: number, kind: number, s: number, m: number): number {
    const core = this.core;
    const { S, M, time: t, endF, endB, arrF, arrB, runKind, runStage, runMb, runStart, cost } = core;
    const i = s * M + m;
    let q: number;
    let producerEnd: number;
    if (kind === KIND_W) return endB[i]! < Infinity ? 0 : -1;
    if (kind === KIND_F) {
      if (s === 0 || arrF[i - M]! <= t) return 0;
      q = s - 1;
      producerEnd = endF[i - M]!;
    } else {
      if (!(endF[i]! < Infinity)) return -1;
      if (s === S - 1 || arrB[i + M]! <= t) return 0;
      q = S + s + 1;
      producerEnd = endB[i + M]!;
    }
    const ps = q >= S ? q - S : q;
    const dp = this.problem.stageDevice[ps]!;
    const hop = dp !== d ? this.problem.comm[kind === KIND_F ? ps : ps - 1]! : 0;
    if (producerEnd < Infinity) return Math.max(0, core.lastDone[q]! + hop - t);
    const base = cost[q]!;
    const rk = runKind[dp]!;
    if (rk === (q >= S ? KIND_B : KIND_F) && runStage[dp] === ps && runMb[dp] === m)
      return Math.max(0, runStart[dp]! + base + hop - t);
    let free = t;
    if (rk >= 0) free = Math.max(t, runStart[dp]! + cost[rk * S + runStage[dp]!]!);
    return free - t + base + hop;
  }

  /**
   * Takes `action` at the current decision; returns the reward and whether the episode ended (then the env has
   * already moved on to the next episode's first decision).
   */
  step(action: number): { reward: number; done: boolean } {
    const A = this.numActions;
    if (!(Number.isInteger(action) && action >= 0 && action < A && this.mask[action] === 1))
      throw new EnvError(
        `action ${action} is not allowed on device ${this.cursor} at time ${this.core.time} ` +
          `(episode ${this.episode}; mask ${Array.from(this.mask).join('')})`,
      );
    this.decisions++;
    const d = this.cursor;
    if (action !== 3 * this.maxChunks) this.core.start(d, action);
    else {
      // sleep until the eligible classes change (or nothing is left running or in flight)
      this.asleep[d] = 1;
      this.waitMask.set(this.mask, d * A);
    }
    this.cursor = d + 1;
    if (this.advance()) {
      const reward = -(this.core.time - this.anchor) / this.scaleValue;
      this.anchor = this.core.time;
      return { reward, done: false };
    }
    const makespan = this.core.makespan();
    const reward = -(makespan - this.anchor) / this.scaleValue;
    this.lastStepped = { episode: this.episode, makespan, scale: this.scaleValue };
    this.finishEpisode();
    this.beginEpisode(this.episode + this.episodeStride);
    this.toFirstDecision();
    return { reward, done: true };
  }

  /** Runs silent episodes (no decision) through, logging them, until an episode reaches a decision. */
  private toFirstDecision(): void {
    let silent = 0;
    while (!this.advance()) {
      this.log.silentEpisodes++;
      this.finishEpisode();
      if (++silent >= MAX_SILENT_EPISODES)
        throw new EnvError(
          `${MAX_SILENT_EPISODES} consecutive episodes without a decision (up to episode ${this.episode}): ` +
            'the problem offers no choices',
        );
      this.beginEpisode(this.episode + this.episodeStride);
    }
  }

  /**
   * With `recordOrder`: the ops of the last finished episode per device in start order, a static schedule whose
   * replay on that episode's noise reproduces the episode (exactly when the policy never chose to wait).
   */
  get finishedEpisodeOrder(): Op[][] {
    return this.finishedOrder;
  }

  private finishEpisode(): void {
    const { P, S, perDevice, order } = this.core;
    const makespan = this.core.makespan();
    if (order) {
      this.finishedOrder = [];
      for (let d = 0; d < P; d++) {
        const ops: Op[] = [];
        for (let h = d * perDevice; h < (d + 1) * perDevice; h++) ops.push(decodeOp(order[h]!, S));
        this.finishedOrder.push(ops);
      }
    }
    const log = this.log;
    log.episodes++;
    log.lastMakespan = makespan;
    log.sumMakespan += makespan;
    log.sumScaledMakespan += makespan / this.scaleValue;
    log.decisions += this.decisions;
  }

  private loadProblem(problem: Problem): void {
    this.problem = problem;
    const core = new EventCore(problem);
    this.core = core;
    if (this.recordOrder) core.order = new Int32Array(core.P * core.perDevice);
    this.path = envRemainingPath(problem);
    this.pathF0 = this.path[0]!;
    this.meanCost = stageCostSum(problem) / (3 * core.S);
    this.scaleValue = this.fixedScale ?? idealTime(problem);
    this.asleep = new Uint8Array(core.P);
    this.waitMask = new Uint8Array(core.P * this.numActions);
  }

  private beginEpisode(episode: number): void {
    this.episode = episode;
    if (this.ranges) this.loadProblem(drawProblem(this.ranges, episode));
    else if (this.problem !== this.fixedProblem) this.loadProblem(this.fixedProblem!);
    this.core.beginDynamic(episode, this.memoryRule);
    this.asleep.fill(0);
    this.canWait = false;
    if (this.teacher) this.teacherHead = this.teacher.devStart.slice(0, this.core.P);
    this.mask.fill(0);
    this.cursor = 0;
    this.anchor = 0;
    this.decisions = 0;
  }

  /**
   * Runs forced steps (single eligible classes, events) until a decision (true: `cursor` is the deciding device
   * and `mask` holds its classes) or the end of the episode (false). src/dynamic.ts's loop, resumable.
   */
  private advance(): boolean {
    const { core, mask, maxChunks } = this;
    const { P, runKind } = core;
    for (;;) {
      for (let d = this.cursor; d < P; d++) {
        if (runKind[d]! >= 0) continue;
        const count = core.fillMask(d, mask);
        if (count === 0) continue;
        const canWait = this.waitOn && (core.events.size > 0 || this.otherCanStart(d));
        if (this.asleep[d] === 1) {
          if (canWait && this.sameClasses(d)) continue;
          this.asleep[d] = 0;
        }
        if (count === 1 && !canWait) {
          let k = 0;
          while (mask[k] !== 1) k++;
          core.start(d, k);
          continue;
        }
        mask[3 * maxChunks] = canWait ? 1 : 0;
        this.canWait = canWait;
        this.cursor = d;
        return true;
      }
      if (!core.advance())
        throw new EnvError(
          `episode ${this.episode} deadlocks at time ${core.time}: nothing runs and no device can start ` +
            `(memory rule ${this.memoryRule})`,
        );
      if (core.done === core.total) return false;
      this.cursor = 0;
    }
  }

  /**
   * Whether an idle device other than d can start an op now (eligible classes, not asleep over the same ones):
   * waiting is possible while anything runs or is in flight or another device can start (README "Decisions").
   */
  private otherCanStart(d: number): boolean {
    const { core, mask, savedMask } = this;
    savedMask.set(mask);
    let found = false;
    for (let x = 0; x < core.P && !found; x++) {
      if (x === d || core.runKind[x]! >= 0) continue;
      if (core.fillMask(x, mask) === 0) continue;
      if (this.asleep[x] !== 1 || !this.sameClasses(x)) found = true;
    }
    mask.set(savedMask);
    return found;
  }

  /** Whether device d's eligible classes are those it had when it chose to wait. */
  private sameClasses(d: number): boolean {
    const o = d * this.numActions;
    for (let k = 0; k < 3 * this.core.V; k++) if (this.mask[k] !== this.waitMask[o + k]) return false;
    return true;
  }
}
