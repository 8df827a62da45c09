// The RL environment (docs/SEMANTICS.md section 4) in plain TypeScript: one environment, stepped decision by decision.
// It is the oracle of the WebAssembly environment (assembly/env.ts, driven by src/env.ts): the same event loop as
// src/dynamic.ts (same noise keys, eligibility, 'reserve' memory rule, event order, idle devices visited in
// ascending order, decisions only when two or more classes are eligible), made resumable at each decision, plus the
// observation, the reward, auto-reset and the counter-based problem generator. Every quantity is computed with the
// same f64 operations in the same order as the WebAssembly side, so both agree bit for bit.
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { episodeKey, factor, mbKey, mix32, stageKey, NOISE_COMM_B, NOISE_COMM_F } from './noise.js';
import { dynamicTables, EventQueue, heldFromLowest, reservedBeyond, scanOpenForwards, type MemoryRule, type OpenForwards } from './dynamic.js';
import { configErrorFrom, resolveProblem, type Problem, type ProblemConfig } from './problem.js';
import { compileSchedule, decodeOp, formatAction, type Op, type Schedule } from './schedule.js';
import { ScheduleError } from './errors.js';

const KIND_F = 0;
const KIND_B = 1;
const KIND_W = 2;
const KIND_NAMES = ['F', 'B', 'W'] as const;

/** Observation features that do not depend on the class (device, neighbours, memory headroom, arrivals). */
export const OBS_GLOBAL = 22;
/** Features per op class (3 per local chunk). */
export const OBS_PER_CLASS = 7;
/** A run of this many consecutive episodes without a single decision is an error (the problem has no choices). */
export const MAX_SILENT_EPISODES = 100;

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
export function scheduleClassLists(problem: Problem, schedule: Schedule, maxChunks: number): { classes: Int32Array; mbs: Int32Array; devStart: Int32Array } {
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
          const name = formatAction({ kind: KIND_NAMES[kind!]!, stage: op.stage, mb: op.mb });
          const want = formatAction({ kind: KIND_NAMES[kind!]!, stage: op.stage, mb: next[k]! });
          throw new ScheduleError(
            `device ${d} runs ${name} before ${want}: the environment runs each op class's micro-batches in ascending order, so this schedule cannot be replayed in it`,
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

/** The ranges with defaults filled in, as the flat f64 block the WebAssembly generator reads. */
export const RANGE_FIELDS = 24;

export function rangesToArray(r: ProblemRanges): Float64Array {
  const n = r.noise ?? {};
  return Float64Array.from([
    r.seed ?? 0,
    r.stages[0], r.stages[1],
    (r.chunks ?? [1, 1])[0], (r.chunks ?? [1, 1])[1],
    r.vShapeProb ?? 0,
    r.microBatches[0], r.microBatches[1],
    (r.costB ?? [1, 1])[0], (r.costB ?? [1, 1])[1],
    (r.costW ?? [1, 1])[0], (r.costW ?? [1, 1])[1],
    (r.comm ?? [0, 0])[0], (r.comm ?? [0, 0])[1],
    (r.cv ?? [0, 0])[0], (r.cv ?? [0, 0])[1],
    r.stageSpread ?? 0,
    r.limitProb ?? 0,
    (r.limit ?? [1, 1])[0], (r.limit ?? [1, 1])[1],
    n.floor ?? 0.05, n.anomalyProb ?? 0, n.anomalyFactor ?? 3, n.seed ?? 0,
  ]);
}

/** Checks a ProblemRanges (throws ConfigError naming the field). */
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
  chunks: interval(1, 16, true).optional(),
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


/** Uniform in (0, 1) of draw j under key (the noise module's construction). */
function uniform(key: number, j: number): number {
  return mix32((key + Math.imul(j + 1, 0x9e3779b9)) | 0) * 2.3283064365386963e-10 + 1.1641532182693481e-10;
}

/**
 * The problem of episode `index` under `ranges` (counter-based: a pure function of (seed, index)). Draw j of
 * key = mix32(mix32(seed ^ 0x2545f491) ^ index): 0 P, 1 V, 2 M, 3 placement, 4 B ratio, 5 W ratio, 6 comm,
 * 7 cv, 8 limit present, 9 limit factor, 16 + s stage s's cost multiplier.
 */
export function drawProblemConfig(ranges: ProblemRanges, index: number): ProblemConfig {
  const r = rangesToArray(ranges);
  const at = (i: number) => r[i]!;
  const key = mix32(mix32((at(0) >>> 0) ^ 0x2545f491) ^ index);
  const int = (lo: number, hi: number, j: number) => Math.min(hi, lo + Math.floor(uniform(key, j) * (hi - lo + 1)));
  const real = (lo: number, hi: number, j: number) => lo + uniform(key, j) * (hi - lo);
  const P = int(at(1), at(2), 0);
  const V = int(at(3), at(4), 1);
  const M = int(at(6), at(7), 2);
  const v = V > 1 && uniform(key, 3) < at(5);
  const rB = real(at(8), at(9), 4);
  const rW = real(at(10), at(11), 5);
  const c = real(at(12), at(13), 6);
  const cv = real(at(14), at(15), 7);
  const hasLimit = uniform(key, 8) < at(17);
  const f = real(at(18), at(19), 9);
  const S = P * V;
  const F: number[] = [];
  const B: number[] = [];
  const W: number[] = [];
  for (let s = 0; s < S; s++) {
    const mult = 1 + at(16) * (2 * uniform(key, 16 + s) - 1);
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
    memory: { F: [1], B: [0], W: [-1], limit: hasLimit ? Math.max(1, Math.floor(f * P)) * V : null },
    noise: { cv, floor: at(20), anomalyProb: at(21), anomalyFactor: at(22), seed: at(23) },
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

export const LOG_FIELDS = 6;

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
  /** Default `reserve` (src/dynamic.ts). */
  memoryRule?: MemoryRule;
  /** Record the ops each episode starts, per device in start order (`finishedEpisodeOrder`): timelines of learned policies. */
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
  private order: Op[][] = [];
  private finishedOrder: Op[][] = [];
  readonly log: EnvLogEntry = { episodes: 0, lastMakespan: 0, sumMakespan: 0, sumScaledMakespan: 0, decisions: 0, silentEpisodes: 0 };

  /** The last episode that ended by a step (silent episodes excluded): its index, makespan and scale. */
  lastStepped = { episode: -1, makespan: 0, scale: 1 };
  /** Current problem and episode index. */
  problem!: Problem;
  episode = 0;
  private P = 0;
  private V = 0;
  private S = 0;
  private M = 0;
  private devStages: Int32Array = new Int32Array(0);
  private cost: Float64Array = new Float64Array(0);
  private memDelta: Float64Array = new Float64Array(0);
  private fullF: Float64Array = new Float64Array(0);
  private path: Float64Array = new Float64Array(0);
  private memCap = Infinity;
  private scaleValue = 1;
  private meanCost = 0;
  private pathF0 = 0;
  private reserve = false;
  private lowest = false;
  private readonly open: OpenForwards = { lowestOpen: -1, owed: 0 };
  private computeNoisy = false;
  private commNoisy = false;
  private keys = new Uint32Array(0);

  private nextMb = new Int32Array(0);
  private endF = new Float64Array(0);
  private endB = new Float64Array(0);
  private arrF = new Float64Array(0);
  private arrB = new Float64Array(0);
  private runKind = new Int32Array(0);
  private runStage = new Int32Array(0);
  private runMb = new Int32Array(0);
  private runEnd = new Float64Array(0);
  private runStart = new Float64Array(0);
  private lastDone = new Float64Array(0);
  /** Ops finished per class slot kind * S + s (they finish in micro-batch order). */
  private doneCnt = new Int32Array(0);
  private asleep = new Uint8Array(0);
  /** Mask of each sleeping device when it chose to wait (P x A). */
  private waitMask = new Uint8Array(0);
  private canWait = false;
  private lastEnd = new Float64Array(0);
  private started = new Int32Array(0);
  private curMem = new Float64Array(0);
  private events = new EventQueue();
  private readonly mask: Uint8Array;
  private t = 0;
  private cursor = 0;
  private anchor = 0;
  private maxEnd = 0;
  private done = 0;
  private total = 0;
  private decisions = 0;

  constructor(opts: ReferenceEnvOptions) {
    if ((opts.problem === undefined) === (opts.ranges === undefined)) throw new ConfigError('', 'give either a problem or problem ranges');
    if (opts.ranges) checkRanges(opts.ranges);
    this.ranges = opts.ranges;
    this.fixedProblem = opts.problem;
    const needed = opts.problem ? opts.problem.chunks : (opts.ranges!.chunks ?? [1, 1])[1];
    this.maxChunks = opts.maxChunks ?? needed;
    if (!(Number.isInteger(this.maxChunks) && this.maxChunks >= needed && this.maxChunks <= 16))
      throw new ConfigError('maxChunks', `must be an integer in [${needed}, 16] (got ${opts.maxChunks})`);
    this.obsDim = envObsDim(this.maxChunks);
    this.numActions = envNumActions(this.maxChunks);
    this.episodeStart = opts.episodeStart ?? 0;
    this.episodeStride = opts.episodeStride ?? 1;
    this.recordOrder = opts.recordOrder ?? false;
    if (opts.scale !== undefined && !(Number.isFinite(opts.scale) && opts.scale > 0)) throw new ConfigError('scale', `must be a positive number (got ${opts.scale})`);
    this.fixedScale = opts.scale;
    this.memoryRule = opts.memoryRule ?? 'reserve';
    this.waitOn = opts.wait ?? false;
    this.arrivalOn = opts.features?.arrival ?? true;
    this.memoryOn = opts.features?.memory ?? true;
    this.planOn = opts.features?.plan ?? true;
    this.mask = new Uint8Array(this.numActions);
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
    const d = this.cursor;
    const end = t.devStart[d + 1]!;
    let h = this.teacherHead[d]!;
    while (h < end) {
      const k = t.classes[h]!;
      const c = Math.floor(k / 3);
      if (this.nextMb[(k - 3 * c) * this.S + this.devStages[d * this.V + c]!]! <= t.mbs[h]!) break;
      h++;
    }
    this.teacherHead[d] = h;
    return h < end ? t.classes[h]! : -1;
  }

  /** Restarts at the first episode index (logs cleared) and runs to the first decision. */
  reset(): void {
    Object.assign(this.log, { episodes: 0, lastMakespan: 0, sumMakespan: 0, sumScaledMakespan: 0, decisions: 0, silentEpisodes: 0 });
    this.beginEpisode(this.episodeStart);
    this.toFirstDecision();
  }

  /** The idle device that decides now. */
  get device(): number {
    return this.cursor;
  }

  get time(): number {
    return this.t;
  }

  get scale(): number {
    return this.scaleValue;
  }

  /** Memory of device d now. */
  memory(d: number): number {
    return this.curMem[d]!;
  }

  /** Class k of the deciding device: its next op (kind, stage, micro-batch), or null when exhausted / absent. */
  classOp(k: number): { kind: number; stage: number; mb: number } | null {
    const c = Math.floor(k / 3);
    if (c >= this.V) return null;
    const kind = k - 3 * c;
    const stage = this.devStages[this.cursor * this.V + c]!;
    const mb = this.nextMb[kind * this.S + stage]!;
    return mb < this.M ? { kind, stage, mb } : null;
  }

  /** Whether op (kind, stage, mb)'s dependencies are done and their data has arrived by now. */
  depsDone(kind: number, stage: number, mb: number): boolean {
    const { S, M, t } = this;
    const i = stage * M + mb;
    if (kind === KIND_F) return stage === 0 || this.arrF[i - M]! <= t;
    if (kind === KIND_B) return this.endF[i]! <= t && (stage === S - 1 || this.arrB[i + M]! <= t);
    return this.endB[i]! <= t;
  }

  /** Memory delta of op (kind, stage). */
  memDeltaOf(kind: number, stage: number): number {
    return this.memDelta[kind * this.S + stage]!;
  }

  /** Ops of the current episode already started on device d. */
  startedOn(d: number): number {
    return this.started[d]!;
  }

  /** Writes the observation and the action mask of the current decision. */
  observe(obs: Float32Array, mask: Uint8Array, obsOffset = 0, maskOffset = 0): void {
    const { P, V, M, S, t, maxChunks } = this;
    const d = this.cursor;
    const o = obsOffset;
    const total3 = 3 * V * M;
    const limited = this.problem.memLimit < Infinity;
    let idle = 0;
    for (let e = 0; e < P; e++) if (this.runKind[e]! < 0) idle++;
    const cur = this.curMem[d]!;
    let mem = 0;
    if (limited) mem = cur / this.problem.memLimit;
    else if (this.fullF[d]! > 0) mem = cur / (P * this.fullF[d]!);
    if (mem > 2) mem = 2;
    if (mem < -2) mem = -2;
    const since = this.meanCost > 0 ? (t - this.lastEnd[d]!) / this.meanCost : 0;
    const g = [
      P > 1 ? d / (P - 1) : 0,
      d === 0 ? 1 : 0,
      d === P - 1 ? 1 : 0,
      this.done / this.total,
      this.started[d]! / total3,
      0.5 * Math.min(t / this.scaleValue, 4),
      mem,
      limited ? 1 : 0,
      0.5 * Math.min(this.events.size / P, 2),
      idle / P,
      this.mask[3 * maxChunks]!,
      d > 0 && this.runKind[d - 1]! < 0 ? 1 : 0,
      d > 0 ? this.started[d - 1]! / total3 : 0,
      d < P - 1 && this.runKind[d + 1]! < 0 ? 1 : 0,
      d < P - 1 ? this.started[d + 1]! / total3 : 0,
      since / (1 + since),
      0.25 * Math.min(M / P, 4),
      V / maxChunks,
      this.memoryOn ? this.headroom(d) : 0,
      this.memoryOn && d > 0 ? this.headroom(d - 1) : 0,
      this.memoryOn && d < P - 1 ? this.headroom(d + 1) : 0,
      0, // 21: the nearest arrival, below
    ];
    for (let i = 0; i < OBS_GLOBAL; i++) obs[o + i] = g[i]!;
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
      const s = this.devStages[d * V + c]!;
      const m = this.nextMb[kind * S + s]!;
      obs[b] = this.mask[k]!;
      obs[b + 1] = (M - m) / M;
      let x = 0;
      if (m < M && this.meanCost > 0) {
        const r = this.cost[kind * S + s]! / this.meanCost;
        x = r / (1 + r);
      }
      obs[b + 2] = x;
      let ready = 0;
      while (ready < P && m + ready < M && this.depsDoneAt(kind, s, m + ready)) ready++;
      obs[b + 3] = ready / P;
      obs[b + 4] = m < M && this.pathF0 > 0 ? this.path[kind * S + s]! / this.pathF0 : 0;
      let eta = 0;
      if (this.arrivalOn && m < M) {
        const x = this.inputEta(d, kind, s, m);
        if (x < 0) eta = 1;
        else if (this.meanCost > 0) {
          const r = x / this.meanCost;
          eta = r / (1 + r);
          if (x > 0 && r < soonest) soonest = r;
        }
      }
      obs[b + 5] = eta;
      obs[b + 6] = k === planned ? 1 : 0;
    }
    obs[o + 21] = this.arrivalOn ? (soonest < Infinity ? soonest / (1 + soonest) : 1) : 0;
    mask.set(this.mask, maskOffset);
  }

  /** Memory headroom of device x in units of P of its forward activations, in [0, 2] (README "Observation"). */
  private headroom(x: number): number {
    const full = this.fullF[x]!;
    if (!(this.problem.memLimit < Infinity) || !(full > 0)) return 2;
    const h = (this.problem.memLimit - this.curMem[x]!) / (this.P * full);
    return h < 0 ? 0 : h > 2 ? 2 : h;
  }

  /**
   * Expected time until the inputs of op (kind, s, m) of idle device d are there, from what has happened and base
   * costs only (README "Observation"); -1 when it waits for an op of d itself.
   */
  private inputEta(d: number, kind: number, s: number, m: number): number {
    const { S, M, t } = this;
    const i = s * M + m;
    let q: number;
    let producerEnd: number;
    if (kind === KIND_W) return this.endB[i]! < Infinity ? 0 : -1;
    if (kind === KIND_F) {
      if (s === 0 || this.arrF[i - M]! <= t) return 0;
      q = s - 1;
      producerEnd = this.endF[i - M]!;
    } else {
      if (!(this.endF[i]! < Infinity)) return -1;
      if (s === S - 1 || this.arrB[i + M]! <= t) return 0;
      q = S + s + 1;
      producerEnd = this.endB[i + M]!;
    }
    const ps = q >= S ? q - S : q;
    const dp = this.problem.stageDevice[ps]!;
    const hop = dp !== d ? this.problem.comm[kind === KIND_F ? ps : ps - 1]! : 0;
    if (producerEnd < Infinity) return Math.max(0, this.lastDone[q]! + hop - t);
    const base = this.cost[q]!;
    const rk = this.runKind[dp]!;
    if (rk === (q >= S ? KIND_B : KIND_F) && this.runStage[dp] === ps && this.runMb[dp] === m) return Math.max(0, this.runStart[dp]! + base + hop - t);
    let free = t;
    if (rk >= 0) free = Math.max(t, this.runStart[dp]! + this.cost[rk * S + this.runStage[dp]!]!);
    return free - t + base + hop;
  }

  private depsDoneAt(kind: number, s: number, m: number): boolean {
    return this.depsDone(kind, s, m);
  }

  /** Takes `action` at the current decision; returns the reward and whether the episode ended (then the env has
   * already moved on to the next episode's first decision). */
  step(action: number): { reward: number; done: boolean } {
    const A = this.numActions;
    if (!(Number.isInteger(action) && action >= 0 && action < A && this.mask[action] === 1))
      throw new EnvError(
        `action ${action} is not allowed on device ${this.cursor} at time ${this.t} (episode ${this.episode}; mask ${Array.from(this.mask).join('')})`,
      );
    this.decisions++;
    const d = this.cursor;
    if (action !== 3 * this.maxChunks) this.start(d, action, this.t);
    else {
      // sleep until the eligible classes change (or nothing is left running or in flight)
      this.asleep[d] = 1;
      this.waitMask.set(this.mask, d * A);
    }
    this.cursor = d + 1;
    if (this.advance()) {
      const reward = -(this.t - this.anchor) / this.scaleValue;
      this.anchor = this.t;
      return { reward, done: false };
    }
    const reward = -(this.maxEnd - this.anchor) / this.scaleValue;
    this.lastStepped = { episode: this.episode, makespan: this.maxEnd, scale: this.scaleValue };
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
        throw new EnvError(`${MAX_SILENT_EPISODES} consecutive episodes without a decision (up to episode ${this.episode}): the problem offers no choices`);
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
    if (this.recordOrder) this.finishedOrder = this.order;
    const log = this.log;
    log.episodes++;
    log.lastMakespan = this.maxEnd;
    log.sumMakespan += this.maxEnd;
    log.sumScaledMakespan += this.maxEnd / this.scaleValue;
    log.decisions += this.decisions;
  }

  private loadProblem(problem: Problem): void {
    this.problem = problem;
    const { stages: P, chunks: V, numStages: S, microBatches: M } = problem;
    this.P = P;
    this.V = V;
    this.S = S;
    this.M = M;
    ({ devStages: this.devStages, cost: this.cost, memDelta: this.memDelta, fullF: this.fullF, memCap: this.memCap } = dynamicTables(problem));
    this.path = envRemainingPath(problem);
    this.pathF0 = this.path[0]!;
    const sum = stageCostSum(problem);
    this.meanCost = sum / (3 * S);
    this.scaleValue = this.fixedScale ?? idealTime(problem);
    this.reserve = this.memoryRule === 'reserve' && V > 1 && this.memCap < Infinity;
    this.lowest = this.memoryRule === 'lowest' && V > 1 && this.memCap < Infinity;
    const { cv, commCv, anomalyProb } = problem.noise;
    this.computeNoisy = cv > 0 || anomalyProb > 0;
    this.commNoisy = commCv > 0 || anomalyProb > 0;
    this.keys = new Uint32Array(5 * S);
    this.nextMb = new Int32Array(3 * S);
    this.endF = new Float64Array(S * M);
    this.endB = new Float64Array(S * M);
    this.arrF = new Float64Array(S * M);
    this.arrB = new Float64Array(S * M);
    this.runKind = new Int32Array(P);
    this.runStage = new Int32Array(P);
    this.runMb = new Int32Array(P);
    this.runEnd = new Float64Array(P);
    this.runStart = new Float64Array(P);
    this.lastDone = new Float64Array(3 * S);
    this.doneCnt = new Int32Array(3 * S);
    this.asleep = new Uint8Array(P);
    this.waitMask = new Uint8Array(P * this.numActions);
    this.lastEnd = new Float64Array(P);
    this.started = new Int32Array(P);
    this.curMem = new Float64Array(P);
    this.total = 3 * S * M;
  }

  private beginEpisode(episode: number): void {
    this.episode = episode;
    if (this.ranges) this.loadProblem(drawProblem(this.ranges, episode));
    else if (this.problem !== this.fixedProblem) this.loadProblem(this.fixedProblem!);
    const { S, keys } = this;
    if (this.computeNoisy || this.commNoisy) {
      const epKey = episodeKey(this.problem.noise.seed, episode);
      for (let kind = 0; kind < 5; kind++) for (let s = 0; s < S; s++) keys[kind * S + s] = stageKey(epKey, kind, s);
    }
    if (this.recordOrder) this.order = Array.from({ length: this.P }, () => []);
    this.nextMb.fill(0);
    this.endF.fill(Infinity);
    this.endB.fill(Infinity);
    this.arrF.fill(Infinity);
    this.arrB.fill(Infinity);
    this.runKind.fill(-1);
    this.lastDone.fill(0);
    this.doneCnt.fill(0);
    this.asleep.fill(0);
    this.canWait = false;
    if (this.teacher) this.teacherHead = this.teacher.devStart.slice(0, this.P);
    this.lastEnd.fill(0);
    this.started.fill(0);
    this.curMem.fill(0);
    this.mask.fill(0);
    this.events = new EventQueue();
    this.t = 0;
    this.cursor = 0;
    this.anchor = 0;
    this.maxEnd = 0;
    this.done = 0;
    this.decisions = 0;
  }

  /**
   * Runs forced steps (single eligible classes, events) until a decision (true: `cursor` is the deciding device
   * and `mask` holds its classes) or the end of the episode (false). src/dynamic.ts's loop, resumable.
   */
  private advance(): boolean {
    const { P, maxChunks } = this;
    for (;;) {
      for (let d = this.cursor; d < P; d++) {
        if (this.runKind[d]! >= 0) continue;
        const count = this.fillMask(d, this.t);
        if (count === 0) continue;
        const canWait = this.waitOn && (this.events.size > 0 || this.otherCanStart(d));
        if (this.asleep[d] === 1) {
          if (canWait && this.sameClasses(d)) continue;
          this.asleep[d] = 0;
        }
        if (count === 1 && !canWait) {
          let k = 0;
          while (this.mask[k] !== 1) k++;
          this.start(d, k, this.t);
          continue;
        }
        this.mask[3 * maxChunks] = canWait ? 1 : 0;
        this.canWait = canWait;
        this.cursor = d;
        return true;
      }
      if (this.events.size === 0) throw new EnvError(`episode ${this.episode} deadlocks at time ${this.t}: nothing runs and no device can start (memory rule ${this.memoryRule})`);
      const t = this.events.pop();
      while (this.events.size > 0 && this.events.peek() <= t) this.events.pop();
      this.t = t;
      for (let d = 0; d < P; d++) if (this.runKind[d]! >= 0 && this.runEnd[d]! <= t) this.complete(d);
      if (this.done === this.total) return false;
      this.cursor = 0;
    }
  }

  /**
   * Whether an idle device other than d can start an op now (eligible classes, not asleep over the same ones):
   * waiting is possible while anything runs or is in flight or another device can start (README "Decisions").
   */
  private otherCanStart(d: number): boolean {
    const saved = this.mask.slice();
    let found = false;
    for (let x = 0; x < this.P && !found; x++) {
      if (x === d || this.runKind[x]! >= 0) continue;
      if (this.fillMask(x, this.t) === 0) continue;
      if (this.asleep[x] !== 1 || !this.sameClasses(x)) found = true;
    }
    this.mask.set(saved);
    return found;
  }

  /** Whether device d's eligible classes are those it had when it chose to wait. */
  private sameClasses(d: number): boolean {
    const o = d * this.numActions;
    for (let k = 0; k < 3 * this.V; k++) if (this.mask[k] !== this.waitMask[o + k]) return false;
    return true;
  }

  private fillMask(d: number, t: number): number {
    const { V, S, M, devStages, nextMb, memDelta, memCap, curMem, mask } = this;
    this.scanOpen(d);
    let count = 0;
    for (let c = 0; c < V; c++) {
      const s = devStages[d * V + c]!;
      for (let kind = 0; kind < 3; kind++) {
        const m = nextMb[kind * S + s]!;
        let ok = false;
        if (m < M && curMem[d]! + memDelta[kind * S + s]! <= memCap) {
          const i = s * M + m;
          if (kind === KIND_F) {
            ok = s === 0 || this.arrF[i - M]! <= t;
            if (ok && this.reserve) ok = curMem[d]! + memDelta[s]! + this.reservedBeyond(d, s, m) <= memCap;
            if (ok && this.lowest) ok = heldFromLowest(devStages, nextMb, this.doneCnt, memDelta, S, V, d, s, m) + memDelta[s]! <= memCap;
          } else if (kind === KIND_B) ok = this.endF[i]! <= t && (s === S - 1 || this.arrB[i + M]! <= t);
          else ok = this.endB[i]! <= t;
        }
        mask[c * 3 + kind] = ok ? 1 : 0;
        if (ok) count++;
      }
    }
    return count;
  }

  private scanOpen(d: number): void {
    scanOpenForwards(this.open, this.reserve, this.devStages, this.nextMb, this.memDelta, this.V, d);
  }

  private reservedBeyond(d: number, s: number, m: number): number {
    return reservedBeyond(this.open, this.reserve, this.fullF, this.memDelta, d, s, m);
  }

  private start(d: number, k: number, t: number): void {
    const { V, S, nextMb } = this;
    const c = (k / 3) | 0;
    const kind = k - 3 * c;
    const s = this.devStages[d * V + c]!;
    const m = nextMb[kind * S + s]!;
    nextMb[kind * S + s] = m + 1;
    if (this.recordOrder) this.order[d]!.push({ kind: KIND_NAMES[kind]!, stage: s, mb: m });
    let dur = this.cost[kind * S + s]!;
    const n = this.problem.noise;
    if (this.computeNoisy) dur *= factor(mbKey(this.keys[kind * S + s]!, m), n.cv, n.floor, n.anomalyProb, n.anomalyFactor);
    const end = t + dur;
    if (kind === KIND_F) this.curMem[d] = this.curMem[d]! + this.memDelta[s]!;
    this.runKind[d] = kind;
    this.runStage[d] = s;
    this.runMb[d] = m;
    this.runEnd[d] = end;
    this.runStart[d] = t;
    this.started[d] = this.started[d]! + 1;
    if (end > this.maxEnd) this.maxEnd = end;
    this.events.push(end);
  }

  private complete(d: number): void {
    const { S, M } = this;
    const kind = this.runKind[d]!;
    const s = this.runStage[d]!;
    const m = this.runMb[d]!;
    const end = this.runEnd[d]!;
    const i = s * M + m;
    const { stageDevice, comm, noise } = this.problem;
    this.runKind[d] = -1;
    this.lastEnd[d] = end;
    this.lastDone[kind * S + s] = end;
    this.doneCnt[kind * S + s] = this.doneCnt[kind * S + s]! + 1;
    this.done++;
    if (kind === KIND_F) {
      this.endF[i] = end;
      if (s + 1 < S) {
        let arrival = end;
        if (stageDevice[s + 1] !== d) {
          let c = comm[s]!;
          if (this.commNoisy) c *= factor(mbKey(this.keys[NOISE_COMM_F * S + s]!, m), noise.commCv, noise.floor, noise.anomalyProb, noise.anomalyFactor);
          arrival = end + c;
          if (arrival > end) this.events.push(arrival);
        }
        this.arrF[i] = arrival;
      }
      return;
    }
    this.curMem[d] = this.curMem[d]! + this.memDelta[kind * S + s]!;
    if (kind === KIND_B) {
      this.endB[i] = end;
      if (s > 0) {
        let arrival = end;
        if (stageDevice[s - 1] !== d) {
          let c = comm[s - 1]!;
          if (this.commNoisy) c *= factor(mbKey(this.keys[NOISE_COMM_B * S + s]!, m), noise.commCv, noise.floor, noise.anomalyProb, noise.anomalyFactor);
          arrival = end + c;
          if (arrival > end) this.events.push(arrival);
        }
        this.arrB[i] = arrival;
      }
    }
  }
}
