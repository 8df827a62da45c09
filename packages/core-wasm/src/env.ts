// The vectorized RL environment in WebAssembly (assembly/env.ts), driven from TypeScript: N environments in one
// module instance, observations / masks / rewards / dones written in place into WebAssembly memory and read here
// through typed-array views (no copies). Semantics: src/env-reference.ts (the oracle) and the README section
// "Environment".
import {
  ACT_RELU,
  ACT_SHARED_TRUNK,
  ACT_TANH,
  DUMP_HEADER,
  ERR_ACTION,
  ERR_CONFIG,
  ERR_DEADLOCK,
  ERR_PENDING,
  ERR_REPLAY_DEADLOCK,
  ERR_SILENT,
  ERRF_ACTION,
  ERRF_CODE,
  ERRF_DEVICE,
  ERRF_ENV,
  ERRF_EPISODE,
  ERRF_TIME,
  FEATURES_ARRIVAL,
  FEATURES_MEMORY,
  FEATURES_PLAN,
  LOG_DECISIONS,
  LOG_EPISODES,
  LOG_FIELDS,
  LOG_LAST,
  LOG_SCALED,
  LOG_SILENT,
  LOG_SUM,
  MAX_CHUNKS,
  MAX_SILENT_EPISODES,
  MEMORY_LOWEST,
  MEMORY_PLAIN,
  MEMORY_RESERVE,
  NOISE_FIELDS,
  POLICY_CP,
  POLICY_FFIRST,
  POLICY_MLP,
  POLICY_MLP_GREEDY,
  POLICY_REPLAY,
  POLICY_TEACHER,
  POLICY_ZB,
  RANGE_FIELDS,
  STAT_FIELDS,
  STATE_DEVICE,
  STATE_EPISODE,
  STATE_TIME,
} from './contract.js';
import { MEMORY_RULES, type MemoryRule } from './dynamic.js';
import {
  checkRanges,
  drawProblem,
  envNumActions,
  envObsDim,
  EnvError,
  rangesToArray,
  scheduleClassLists,
  type EnvLogEntry,
  type ProblemRanges,
} from './env-reference.js';
import { ConfigError, ScheduleError } from './errors.js';
import type { Problem } from './problem.js';
import type { Schedule } from './schedule.js';
import { loadCore, writeProblem, type CoreExports, type WasmCore, type WasmExports } from './wasm.js';

/** The module's memory rule codes. */
const MEMORY_RULE_CODE: Record<MemoryRule, number> = {
  plain: MEMORY_PLAIN,
  reserve: MEMORY_RESERVE,
  lowest: MEMORY_LOWEST,
};

/** The exports of assembly/env.ts, as asc declares them (pointers are byte offsets into the module's memory). */
export type EnvExports = Pick<WasmExports, Extract<keyof WasmExports, `env${string}`>>;

/** Built-in heuristics (packages/schedulers/src/heuristics.ts), run inside WebAssembly. */
export type BuiltinPolicy = 'greedy-zb' | 'greedy-ffirst' | 'greedy-cp';
export const BUILTIN_POLICIES: readonly BuiltinPolicy[] = ['greedy-zb', 'greedy-ffirst', 'greedy-cp'];
/**
 * `teacher`: the loaded schedule's decisions (the class of each device's first op of its list that has not started,
 * or wait; greedy-zb where that gives no label): needs `setReplaySchedule`.
 */
export type SchedulePolicy = 'replay' | 'teacher';
const POLICY_CODE: Record<BuiltinPolicy | SchedulePolicy, number> = {
  'greedy-zb': POLICY_ZB,
  'greedy-ffirst': POLICY_FFIRST,
  'greedy-cp': POLICY_CP,
  replay: POLICY_REPLAY,
  teacher: POLICY_TEACHER,
};

/**
 * Observation feature groups that can be switched off (their entries are then 0), for ablations: `arrival` (when
 * inputs are expected), `memory` (headroom of the device and its neighbours), `plan` (the loaded schedule's next op).
 */
export type FeatureGroup = 'arrival' | 'memory' | 'plan';
export const FEATURE_GROUPS: readonly FeatureGroup[] = ['arrival', 'memory', 'plan'];
const FEATURE_BIT: Record<FeatureGroup, number> = {
  arrival: FEATURES_ARRIVAL,
  memory: FEATURES_MEMORY,
  plan: FEATURES_PLAN,
};

/** The module's featureOff bits of a features option (groups absent or true are on). */
export function featureOffBits(features: Partial<Record<FeatureGroup, boolean>> | undefined): number {
  let off = 0;
  for (const g of FEATURE_GROUPS) if (features?.[g] === false) off |= FEATURE_BIT[g];
  return off;
}

/** What the MLP rollout needs of a policy network in WebAssembly memory (`WasmMlp` of src/mlp.ts fits). */
export interface MlpPolicyHandle {
  readonly paramsPtr: number;
  /** i32[hidden.length] */
  readonly hiddenPtr: number;
  /** mlpScratchBytes(hidden) bytes */
  readonly scratchPtr: number;
  /** `shared`: one hidden trunk with actor and critic heads (src/mlp.ts MlpLayout), passed to envRollout as act | 2. */
  readonly layout: {
    readonly obsDim: number;
    readonly hidden: readonly number[];
    readonly actions: number;
    readonly activation: 'tanh' | 'relu';
    readonly shared?: boolean;
  };
}

/** An MLP policy for `rollout`: sample from the masked softmax (default) or take the argmax (`greedy`). */
export interface MlpPolicy {
  mlp: MlpPolicyHandle;
  /** Sampling seed: u = sampleUniform(seed, env, counter), counter per env from 0 at reset. Default 0. */
  seed?: number;
  greedy?: boolean;
}

export interface WasmEnvOptions {
  /** N: environments. */
  numEnvs: number;
  /** A fixed problem (give this or `ranges`). */
  problem?: Problem;
  /** Draw a fresh problem for every episode index (counter-based, see drawProblemConfig). */
  ranges?: ProblemRanges;
  /** Vmax (actions 3 Vmax + 1). Default: the problem's chunks / the upper end of ranges.chunks. */
  maxChunks?: number;
  /** Env i runs episode indices episodeStart + i, + i + N, ... Default 0. */
  episodeStart?: number;
  /** Reward scale; default each problem's ideal time (sum of base op costs / P). */
  scale?: number;
  /** Default `reserve` (src/engine/memory.ts). */
  memoryRule?: MemoryRule;
  /**
   * Offer the wait action: an idle device sleeps until its eligible classes change or nothing runs or is in flight
   * any more; with it, a single eligible class is a decision too (start it or wait). Default false: no wait action,
   * a single eligible class starts by itself.
   */
  wait?: boolean;
  /** Observation feature groups; a group set to false is written as zeros (ablations). Default all on. */
  features?: Partial<Record<FeatureGroup, boolean>>;
}

/** Aggregated episode log (PufferLib style: read in batches, cleared by default). */
export interface EnvLog {
  episodes: number;
  /** Mean makespan of the episodes finished since the last clear (NaN when none). */
  meanMakespan: number;
  /** Mean makespan / scale (= minus the mean return) (NaN when none). */
  meanScaledMakespan: number;
  decisions: number;
  silentEpisodes: number;
  perEnv: EnvLogEntry[];
}

/**
 * Episode statistics of a built-in heuristic (docs/SEMANTICS.md section 3), from `runEpisodeStats`: entry j is
 * episode index start + j.
 */
export interface EpisodeStats {
  makespan: Float64Array;
  /** Max over devices of (end of its last op - start of its first op). */
  span: Float64Array;
  /** Realized op durations summed per device, then over the devices in device order. */
  busy: Float64Array;
  /** Per device (Pmax entries): the largest memory level over the episodes run, deadlocked ones left out. */
  peakMemory: number[];
  /** Episode indices that deadlocked, ascending: their makespan, span and busy are NaN. */
  deadlocked: number[];
  /** Decisions taken (deadlocked episodes left out). */
  decisions: number;
}

/** The module's `act` argument: bit 0 the activation (0 tanh, 1 relu), bit 1 the shared-trunk layout. */
function actCode(mlp: MlpPolicyHandle): number {
  return (mlp.layout.activation === 'tanh' ? ACT_TANH : ACT_RELU) | (mlp.layout.shared ? ACT_SHARED_TRUNK : 0);
}

/** Names of the module's error codes (ERR_*) for messages without a better one. */
const ERROR_NAMES: Record<number, string> = {
  [ERR_ACTION]: 'invalid action',
  [ERR_DEADLOCK]: 'deadlock',
  [ERR_SILENT]: 'no decisions',
  [ERR_REPLAY_DEADLOCK]: 'replay deadlock',
  [ERR_CONFIG]: 'configuration',
  [ERR_PENDING]: 'not observed',
};

/** Storage of a rollout, [T][N] step-major, in WebAssembly memory; read through the views (valid until dispose). */
export class RolloutBuffers {
  private readonly block: number;
  private readonly off: Record<
    | 'obs'
    | 'mask'
    | 'actions'
    | 'logProb'
    | 'value'
    | 'reward'
    | 'done'
    | 'teacher'
    | 'finalObs'
    | 'finalMask'
    | 'finalValue',
    number
  >;
  private disposed = false;

  constructor(
    private readonly core: WasmCore,
    /** Steps. */
    readonly T: number,
    readonly numEnvs: number,
    readonly obsDim: number,
    readonly numActions: number,
  ) {
    const TN = T * numEnvs;
    const sizes = {
      obs: 4 * TN * obsDim,
      mask: TN * numActions,
      actions: 4 * TN,
      logProb: 4 * TN,
      value: 4 * TN,
      reward: 4 * TN,
      done: TN,
      teacher: 4 * TN,
      finalObs: 4 * numEnvs * obsDim,
      finalMask: numEnvs * numActions,
      finalValue: 4 * numEnvs,
    };
    let total = 0;
    const off = {} as Record<keyof typeof sizes, number>;
    for (const [k, v] of Object.entries(sizes) as [keyof typeof sizes, number][]) {
      off[k] = total;
      total += Math.ceil(v / 16) * 16;
    }
    this.block = core.alloc(total);
    this.off = Object.fromEntries(Object.entries(off).map(([k, v]) => [k, v + this.block])) as typeof off;
  }

  /** Pointer of a buffer (for the module). */
  ptr(name: keyof RolloutBuffers['off']): number {
    this.live();
    return this.off[name];
  }

  private live(): void {
    if (this.disposed) throw new Error('RolloutBuffers used after dispose()');
  }

  private get buffer(): ArrayBuffer {
    this.live();
    return this.core.memory.buffer;
  }

  /** f32[T][N][D]: the observation each action was chosen from. */
  get obs(): Float32Array {
    return new Float32Array(this.buffer, this.off.obs, this.T * this.numEnvs * this.obsDim);
  }
  /** u8[T][N][A] */
  get mask(): Uint8Array {
    return new Uint8Array(this.buffer, this.off.mask, this.T * this.numEnvs * this.numActions);
  }
  /** i32[T][N] */
  get actions(): Int32Array {
    return new Int32Array(this.buffer, this.off.actions, this.T * this.numEnvs);
  }
  /** f32[T][N]: log pi(action | obs) (MLP sampling; 0 otherwise). */
  get logProb(): Float32Array {
    return new Float32Array(this.buffer, this.off.logProb, this.T * this.numEnvs);
  }
  /** f32[T][N]: critic value of obs (MLP; 0 otherwise). */
  get value(): Float32Array {
    return new Float32Array(this.buffer, this.off.value, this.T * this.numEnvs);
  }
  /** f32[T][N]: reward of the step. */
  get reward(): Float32Array {
    return new Float32Array(this.buffer, this.off.reward, this.T * this.numEnvs);
  }
  /** u8[T][N]: 1 when the step ended an episode (the next observation is a new episode's first). */
  get done(): Uint8Array {
    return new Uint8Array(this.buffer, this.off.done, this.T * this.numEnvs);
  }
  /** i32[T][N]: the teacher's action of the step (the loaded schedule's; -1 without a label or a schedule). */
  get teacher(): Int32Array {
    return new Int32Array(this.buffer, this.off.teacher, this.T * this.numEnvs);
  }
  /** f32[N][D]: observation after the last step (to bootstrap from). */
  get finalObs(): Float32Array {
    return new Float32Array(this.buffer, this.off.finalObs, this.numEnvs * this.obsDim);
  }
  get finalMask(): Uint8Array {
    return new Uint8Array(this.buffer, this.off.finalMask, this.numEnvs * this.numActions);
  }
  /** f32[N]: critic value of finalObs (MLP rollouts). */
  get finalValue(): Float32Array {
    return new Float32Array(this.buffer, this.off.finalValue, this.numEnvs);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.core.release(this.block);
  }
}

/**
 * N scheduling environments in WebAssembly. After `reset()` and each `step()`, `obs` (f32[N][D]) and `mask`
 * (u8[N][A]) hold every environment's current decision; `step` also fills `reward` (f32[N]) and `done` (u8[N]).
 * Create with `WasmEnv.create(options)`.
 */
export class WasmEnv {
  readonly numEnvs: number;
  readonly maxChunks: number;
  readonly obsDim: number;
  readonly numActions: number;
  readonly episodeStart: number;
  /** Whether the wait action exists (option `wait`). */
  readonly wait: boolean;
  readonly problem: Problem | undefined;
  readonly ranges: ProblemRanges | undefined;
  private readonly wasm: CoreExports;
  private readonly blocks: number[] = [];
  private readonly ctx: number;
  /** Length of `saveState()`: fixed by the options. */
  readonly stateBytes: number;
  /** Pmax: the problem's devices, or the upper end of ranges.stages. */
  private readonly maxStages: number;
  private readonly p: Record<'actions' | 'obs' | 'mask' | 'reward' | 'done' | 'log' | 'dump', number>;
  private replayBlocks: number[] = [];
  private hasReplay = false;
  private disposed = false;
  private views:
    | {
        buffer: ArrayBuffer;
        obs: Float32Array;
        mask: Uint8Array;
        actions: Int32Array;
        reward: Float32Array;
        done: Uint8Array;
      }
    | undefined;

  static async create(opts: WasmEnvOptions): Promise<WasmEnv> {
    return new WasmEnv(await loadCore(), opts);
  }

  constructor(
    private readonly core: WasmCore,
    opts: WasmEnvOptions,
  ) {
    this.wasm = core.exports;
    const N = opts.numEnvs;
    if (!(Number.isInteger(N) && N >= 1 && N <= 1 << 20))
      throw new ConfigError('numEnvs', `must be an integer in [1, 2^20] (got ${N})`);
    if ((opts.problem === undefined) === (opts.ranges === undefined))
      throw new ConfigError('', 'give either a problem or problem ranges');
    if (opts.ranges) checkRanges(opts.ranges);
    const episodeStart = opts.episodeStart ?? 0;
    if (!(Number.isInteger(episodeStart) && episodeStart >= 0 && episodeStart <= 0x7fffffff))
      throw new ConfigError('episodeStart', `must be an integer in [0, 2^31) (got ${episodeStart})`);
    if (opts.scale !== undefined && !(Number.isFinite(opts.scale) && opts.scale > 0))
      throw new ConfigError('scale', `must be a positive number (got ${opts.scale})`);
    const memoryRule = opts.memoryRule ?? 'reserve';
    if (!MEMORY_RULES.includes(memoryRule))
      throw new ConfigError('memoryRule', `must be one of ${MEMORY_RULES.join(', ')} (got ${String(memoryRule)})`);
    if (opts.features)
      for (const g of Object.keys(opts.features))
        if (!FEATURE_GROUPS.includes(g as FeatureGroup))
          throw new ConfigError('features', `unknown feature group "${g}" (known: ${FEATURE_GROUPS.join(', ')})`);
    this.numEnvs = N;
    this.wait = opts.wait ?? false;
    this.problem = opts.problem;
    this.ranges = opts.ranges;
    this.episodeStart = episodeStart;
    const r = opts.ranges;
    const needed = opts.problem ? opts.problem.chunks : (r!.chunks ?? [1, 1])[1];
    this.maxChunks = opts.maxChunks ?? needed;
    if (!(Number.isInteger(this.maxChunks) && this.maxChunks >= needed && this.maxChunks <= MAX_CHUNKS))
      throw new ConfigError('maxChunks', `must be an integer in [${needed}, ${MAX_CHUNKS}] (got ${opts.maxChunks})`);
    const Pmax = opts.problem ? opts.problem.stages : r!.stages[1];
    const Mmax = opts.problem ? opts.problem.microBatches : r!.microBatches[1];
    const Vmax = this.maxChunks;
    this.maxStages = Pmax;
    this.obsDim = envObsDim(Vmax);
    this.numActions = envNumActions(Vmax);
    const bytes = this.wasm.envBytes(N, Pmax, Vmax, Mmax, r ? 1 : 0);
    if (bytes > 2 ** 31)
      throw new ConfigError(
        'numEnvs',
        `${N} environments of up to ${Pmax} devices x ${Vmax} chunks x ${Mmax} micro-batches need ` +
          `${(bytes / 2 ** 30).toFixed(1)} GiB, more than WebAssembly memory allows`,
      );
    const take = (n: number) => {
      const ptr = core.alloc(n);
      this.blocks.push(ptr);
      return ptr;
    };
    const rangesPtr = take(8 * RANGE_FIELDS);
    if (r) core.f64(rangesPtr, RANGE_FIELDS).set(rangesToArray(r));
    this.ctx = take(bytes);
    this.stateBytes = bytes;
    this.p = {
      actions: take(4 * N),
      obs: take(4 * N * this.obsDim),
      mask: take(N * this.numActions),
      reward: take(4 * N),
      done: take(N),
      log: take(8 * N * LOG_FIELDS),
      // envProblemDump: the header, then stageDevice[S], cost[3S], comm[S], path[3S]
      dump: take(8 * (DUMP_HEADER + 8 * Pmax * Vmax)),
    };
    this.wasm.envInit(
      this.ctx,
      N,
      Pmax,
      Vmax,
      Mmax,
      r ? 1 : 0,
      MEMORY_RULE_CODE[memoryRule],
      episodeStart,
      opts.scale ?? 0,
      rangesPtr,
      this.wait ? 1 : 0,
      featureOffBits(opts.features),
    );
    if (opts.problem) this.loadProblem(opts.problem);
    this.check(this.wasm.envReset(this.ctx, 0, 0));
    this.observeQuietly();
  }

  /**
   * Runs pending episodes to their first decisions and refreshes obs / mask. A problem without any decision is
   * not an error here (runEpisodes can still evaluate it); stepping it is.
   */
  private observeQuietly(): void {
    const status = this.wasm.envObserve(this.ctx, this.p.obs, this.p.mask);
    if (status < 0 && this.wasm.envError(this.ctx, ERRF_CODE) !== ERR_SILENT) this.check(status);
  }

  private loadProblem(problem: Problem): void {
    const { stages: P, chunks: V, numStages: S, microBatches: M } = problem;
    const core = this.core;
    const block = core.alloc(4 * S + 8 * (3 * S + S + 3 * S + NOISE_FIELDS) + 16);
    try {
      const sd = block;
      const cost = block + Math.ceil((4 * S) / 8) * 8;
      const comm = cost + 24 * S;
      const mem = comm + 8 * S;
      const noise = mem + 24 * S;
      writeProblem(core, problem, { stageDevice: sd, cost, comm, mem, noise });
      const status = this.wasm.envSetProblem(this.ctx, P, V, M, sd, cost, comm, mem, noise, problem.memLimit);
      if (status !== 0) throw new ConfigError('problem', 'does not fit the environment');
    } finally {
      core.release(block);
    }
  }

  private live(): void {
    if (this.disposed) throw new Error('WasmEnv used after dispose()');
  }

  private check(status: number): void {
    if (status >= 0) return;
    const w = this.wasm;
    const field = (f: number) => w.envError(this.ctx, f);
    const [code, env, device, action] = [field(ERRF_CODE), field(ERRF_ENV), field(ERRF_DEVICE), field(ERRF_ACTION)];
    const where = `environment ${env}, episode ${field(ERRF_EPISODE)}, time ${field(ERRF_TIME)}`;
    if (code === ERR_ACTION) {
      throw new EnvError(`${where}: action ${action} is not allowed on device ${device} (check the mask)`);
    }
    if (code === ERR_DEADLOCK) {
      throw new EnvError(
        `${where}: deadlock, nothing runs and no device can start (memory rule 'plain' with V > 1 can trap itself)`,
      );
    }
    if (code === ERR_SILENT) {
      throw new EnvError(
        `${where}: ${MAX_SILENT_EPISODES} consecutive episodes without a decision: the problem offers no choices`,
      );
    }
    if (code === ERR_PENDING) {
      throw new EnvError(
        `${where}: the environment has no observation yet (call reset(); the problem may offer no decisions)`,
      );
    }
    if (code === ERR_REPLAY_DEADLOCK) {
      const op = this.replayOpName(device, action);
      throw new ScheduleError(
        `replay deadlocks (${where}): device ${device} waits forever for its next op, the next ${op}`,
        [op],
      );
    }
    throw new EnvError(`environment call failed (${ERROR_NAMES[code] ?? `code ${code}`})`);
  }

  /** "F of stage 3" for class k of device d (the blocked head of a replay). */
  private replayOpName(device: number, k: number): string {
    const p = this.problem;
    if (!p || k < 0) return 'an unknown op';
    const c = Math.floor(k / 3);
    const kind = (['F', 'B', 'W'] as const)[k - 3 * c]!;
    const stage = c * p.stages + (p.placement === 'v' && c % 2 === 1 ? p.stages - 1 - device : device);
    return `${kind} of stage ${stage}`;
  }

  private getViews() {
    this.live();
    const buffer = this.core.memory.buffer;
    if (!this.views || this.views.buffer !== buffer) {
      const N = this.numEnvs;
      this.views = {
        buffer,
        obs: new Float32Array(buffer, this.p.obs, N * this.obsDim),
        mask: new Uint8Array(buffer, this.p.mask, N * this.numActions),
        actions: new Int32Array(buffer, this.p.actions, N),
        reward: new Float32Array(buffer, this.p.reward, N),
        done: new Uint8Array(buffer, this.p.done, N),
      };
    }
    return this.views;
  }

  /** f32[N][D]: current observations (a view into WebAssembly memory). */
  get obs(): Float32Array {
    return this.getViews().obs;
  }
  /** u8[N][A]: current action masks (class c * 3 + kind, wait at 3 Vmax). */
  get mask(): Uint8Array {
    return this.getViews().mask;
  }
  /** i32[N]: write actions here and call step() without arguments. */
  get actions(): Int32Array {
    return this.getViews().actions;
  }
  /** f32[N]: rewards of the last step. */
  get reward(): Float32Array {
    return this.getViews().reward;
  }
  /** u8[N]: done flags of the last step. */
  get done(): Uint8Array {
    return this.getViews().done;
  }

  /** Restarts every environment at its first episode index (logs cleared) and writes obs / mask. */
  reset(): void {
    this.live();
    this.check(this.wasm.envReset(this.ctx, this.p.obs, this.p.mask));
  }

  /** Steps every environment with `actions` (default: the `actions` view); writes obs, mask, reward, done. */
  step(actions?: ArrayLike<number>): void {
    this.live();
    if (actions) {
      if (actions.length !== this.numEnvs)
        throw new RangeError(`expected ${this.numEnvs} actions, got ${actions.length}`);
      this.actions.set(actions);
    }
    this.check(this.wasm.envStep(this.ctx, this.p.actions, this.p.obs, this.p.mask, this.p.reward, this.p.done));
  }

  /**
   * Runs `episodes` whole episodes per environment under a built-in policy, an MLP policy, or `replay` of the
   * schedule loaded by `setReplaySchedule`, in a separate evaluation block: the stepped environments, their logs
   * and obs / mask are untouched. Env i runs episode indices start + i + k N (k < episodes; default start: the
   * configured episodeStart), drawing each index's problem when the env draws fresh problems. An MLP policy takes
   * the argmax with `greedy`, else samples with u = sampleUniform(seed, episode index, decision number), so every
   * episode's result depends only on its index. Returns makespans [N][episodes] (env-major, a copy) and the
   * decisions taken (replay: ops started).
   */
  runEpisodes(
    policy: BuiltinPolicy | SchedulePolicy | MlpPolicy,
    episodes: number,
    start = this.episodeStart,
  ): { makespan: Float64Array; decisions: number } {
    this.live();
    if (typeof policy === 'string') {
      if (!(policy in POLICY_CODE))
        throw new ConfigError(
          'policy',
          `unknown policy "${policy}" (known: ${[...BUILTIN_POLICIES, 'replay', 'teacher'].join(', ')})`,
        );
      if ((policy === 'replay' || policy === 'teacher') && !this.hasReplay)
        throw new ConfigError('policy', `${policy} needs a schedule: call setReplaySchedule first`);
    } else this.checkMlp(policy.mlp);
    if (!(Number.isInteger(episodes) && episodes >= 1))
      throw new RangeError(`episodes must be a positive integer (got ${episodes})`);
    const last = start + (episodes - 1) * this.numEnvs + this.numEnvs - 1;
    if (!(Number.isInteger(start) && start >= 0 && last <= 0x7fffffff))
      throw new RangeError(`episode indices must stay in [0, 2^31) (start ${start})`);
    const out = this.core.alloc(8 * this.numEnvs * episodes);
    try {
      let decisions: number;
      if (typeof policy === 'string')
        decisions = this.wasm.envRunEpisodes(this.ctx, POLICY_CODE[policy], episodes, start, out);
      else {
        const { mlp } = policy;
        decisions = this.wasm.envRunEpisodesMlp(
          this.ctx,
          policy.greedy ? POLICY_MLP_GREEDY : POLICY_MLP,
          episodes,
          start,
          out,
          mlp.paramsPtr,
          mlp.hiddenPtr,
          mlp.layout.hidden.length,
          actCode(mlp),
          mlp.scratchPtr,
          (policy.seed ?? 0) >>> 0,
        );
      }
      this.check(decisions);
      return { makespan: Float64Array.from(this.core.f64(out, this.numEnvs * episodes)), decisions };
    } finally {
      this.core.release(out);
    }
  }

  /**
   * Whole episodes under a built-in heuristic as `runEpisodes` runs them (env i: indices start + i + k N, k <
   * episodes; the stepped environments untouched), with the statistics the production paths report: per episode
   * makespan, span and busy time, and the peak memory per device over the episodes run, each bit for bit the
   * TypeScript executor's (`runDynamic`). Results are in episode-index order (entry j: index start + j). A problem
   * without decisions runs like any other. An episode that deadlocks (memory rule `plain`, V > 1) does not throw:
   * it is listed in `deadlocked` so that the caller can rerun it in the TypeScript executor, whose DeadlockError
   * names the blocked ops.
   */
  runEpisodeStats(policy: BuiltinPolicy, episodes: number, start = this.episodeStart): EpisodeStats {
    this.live();
    if (!BUILTIN_POLICIES.includes(policy))
      throw new ConfigError('policy', `unknown policy "${policy}" (known: ${BUILTIN_POLICIES.join(', ')})`);
    if (!(Number.isInteger(episodes) && episodes >= 1))
      throw new RangeError(`episodes must be a positive integer (got ${episodes})`);
    const N = this.numEnvs;
    const total = N * episodes;
    if (!(Number.isInteger(start) && start >= 0 && start + total - 1 <= 0x7fffffff))
      throw new RangeError(`episode indices must stay in [0, 2^31) (start ${start})`);
    const Pmax = this.maxStages;
    // one block: makespan, span, busy [N][episodes], peak [Pmax], the module's scratch [STAT_FIELDS][Pmax]
    const block = this.core.alloc(8 * (3 * total + (1 + STAT_FIELDS) * Pmax));
    const at = (i: number) => block + 8 * i;
    try {
      const decisions = this.wasm.envRunEpisodeStats(
        this.ctx,
        POLICY_CODE[policy],
        episodes,
        start,
        at(0),
        at(total),
        at(2 * total),
        at(3 * total),
        at(3 * total + Pmax),
      );
      this.check(decisions);
      const raw = this.core.f64(block, 3 * total + Pmax);
      const makespan = new Float64Array(total);
      const span = new Float64Array(total);
      const busy = new Float64Array(total);
      const deadlocked: number[] = [];
      // env-major [N][episodes] to episode order: env i's k-th episode is index start + i + k N
      for (let i = 0; i < N; i++)
        for (let k = 0; k < episodes; k++) {
          const j = i + k * N;
          const o = i * episodes + k;
          makespan[j] = raw[o]!;
          span[j] = raw[total + o]!;
          busy[j] = raw[2 * total + o]!;
          if (Number.isNaN(makespan[j])) deadlocked.push(start + j);
        }
      deadlocked.sort((a, b) => a - b);
      return { makespan, span, busy, peakMemory: Array.from(raw.subarray(3 * total)), deadlocked, decisions };
    } finally {
      this.core.release(block);
    }
  }

  private checkMlp(mlp: MlpPolicyHandle): void {
    const l = mlp.layout;
    if (l.obsDim !== this.obsDim || l.actions !== this.numActions)
      throw new ConfigError(
        'mlp',
        `the network maps ${l.obsDim} inputs to ${l.actions} actions; ` +
          `this environment has ${this.obsDim} and ${this.numActions}`,
      );
  }

  /**
   * Loads a static schedule for `runEpisodes('replay', ...)`: each device runs its list's next op as soon as that
   * op's dependencies are done (no memory limit), a fused BW as its B then its W. The environment runs a class's
   * micro-batches in ascending order, so a list whose next op is not its class's next micro-batch cannot be
   * expressed: ScheduleError. Needs a fixed problem. The schedule is also the teacher: `rollout('teacher')`,
   * `runEpisodes('teacher')` and the rollout buffers' `teacher` labels (the class of each deciding device's first
   * op of its list that has not started, when eligible; else wait when the environment offers it; else -1).
   */
  setReplaySchedule(schedule: Schedule): void {
    this.live();
    const problem = this.problem;
    if (!problem) throw new ConfigError('problem', 'replay needs a fixed problem, not ranges');
    const { classes, mbs, devStart } = scheduleClassLists(problem, schedule, this.maxChunks);
    const P = problem.stages;
    this.clearReplay();
    const ops = this.core.alloc(4 * classes.length);
    const starts = this.core.alloc(4 * (P + 1));
    const mbPtr = this.core.alloc(4 * classes.length);
    this.replayBlocks = [ops, starts, mbPtr];
    this.core.i32(ops, classes.length).set(classes);
    this.core.i32(starts, P + 1).set(devStart);
    this.core.i32(mbPtr, mbs.length).set(mbs);
    this.wasm.envSetReplay(this.ctx, ops, starts, mbPtr);
    this.hasReplay = true;
  }

  private clearReplay(): void {
    this.wasm.envSetReplay(this.ctx, 0, 0, 0);
    for (const b of this.replayBlocks) this.core.release(b);
    this.replayBlocks = [];
    this.hasReplay = false;
  }

  /** Storage for `rollout` of up to T steps (dispose when done). */
  createRolloutBuffers(T: number): RolloutBuffers {
    this.live();
    if (!(Number.isInteger(T) && T >= 1)) throw new RangeError(`T must be a positive integer (got ${T})`);
    return new RolloutBuffers(this.core, T, this.numEnvs, this.obsDim, this.numActions);
  }

  /**
   * T steps of every environment in one call, the policy running inside WebAssembly: a built-in heuristic, or an
   * MLP (forward, masked sampling with counter-based uniforms, log-prob, value). With `buffers`, rows [0, T) get
   * obs, mask, action, log-prob, value, reward and done ([T][N]) plus the final obs / mask / value; without, the
   * steps only advance the environments (and their logs). obs / mask views are refreshed afterwards.
   */
  rollout(policy: BuiltinPolicy | 'teacher' | MlpPolicy, T: number, buffers?: RolloutBuffers): void {
    this.live();
    if (!(Number.isInteger(T) && T >= 0)) throw new RangeError(`T must be a non-negative integer (got ${T})`);
    if (buffers && (buffers.T < T || buffers.numEnvs !== this.numEnvs || buffers.obsDim !== this.obsDim))
      throw new RangeError(
        `rollout buffers hold ${buffers.T} steps of ${buffers.numEnvs} environments; need ${T} of ${this.numEnvs}`,
      );
    let code: number;
    let params = 0;
    let hidden = 0;
    let nHidden = 0;
    let act = 0;
    let scratch = 0;
    let seed = 0;
    if (typeof policy === 'string') {
      if (!(policy in POLICY_CODE) || policy === ('replay' as string))
        throw new ConfigError(
          'policy',
          `unknown policy "${policy}" (known: ${[...BUILTIN_POLICIES, 'teacher'].join(', ')})`,
        );
      if (policy === 'teacher' && !this.hasReplay)
        throw new ConfigError('policy', 'teacher needs a schedule: call setReplaySchedule first');
      code = POLICY_CODE[policy];
    } else {
      const { mlp } = policy;
      this.checkMlp(mlp);
      code = policy.greedy ? POLICY_MLP_GREEDY : POLICY_MLP;
      params = mlp.paramsPtr;
      hidden = mlp.hiddenPtr;
      nHidden = mlp.layout.hidden.length;
      act = actCode(mlp);
      // batched forwards over groups of environments need their own scratch (released below)
      scratch = this.core.alloc(this.wasm.envRolloutScratchBytes(this.ctx, hidden, nHidden));
      seed = (policy.seed ?? 0) >>> 0;
    }
    const b = buffers;
    let status: number;
    try {
      status = this.wasm.envRollout(
        this.ctx,
        code,
        T,
        params,
        hidden,
        nHidden,
        act,
        scratch,
        seed,
        b ? b.ptr('obs') : 0,
        b ? b.ptr('mask') : 0,
        b ? b.ptr('actions') : 0,
        b ? b.ptr('logProb') : 0,
        b ? b.ptr('value') : 0,
        b ? b.ptr('reward') : 0,
        b ? b.ptr('done') : 0,
        b ? b.ptr('teacher') : 0,
        b ? b.ptr('finalObs') : 0,
        b ? b.ptr('finalMask') : 0,
        b ? b.ptr('finalValue') : 0,
      );
    } finally {
      if (scratch) this.core.release(scratch);
    }
    this.check(status);
    this.check(this.wasm.envObserve(this.ctx, this.p.obs, this.p.mask));
  }

  /** The uniform in (0, 1) of the MLP policy's draw for (seed, env, counter). */
  sampleUniform(seed: number, env: number, counter: number): number {
    return this.wasm.envSampleUniform(seed >>> 0, env >>> 0, counter >>> 0);
  }

  /** Reads the per-environment episode logs (and clears them unless `clear` is false). */
  readLog(clear = true): EnvLog {
    this.live();
    const N = this.numEnvs;
    this.wasm.envLogRead(this.ctx, this.p.log, clear ? 1 : 0);
    const raw = this.core.f64(this.p.log, N * LOG_FIELDS);
    const perEnv: EnvLogEntry[] = [];
    let episodes = 0;
    let sum = 0;
    let scaled = 0;
    let decisions = 0;
    let silent = 0;
    for (let i = 0; i < N; i++) {
      const o = i * LOG_FIELDS;
      const entry: EnvLogEntry = {
        episodes: raw[o + LOG_EPISODES]!,
        lastMakespan: raw[o + LOG_LAST]!,
        sumMakespan: raw[o + LOG_SUM]!,
        sumScaledMakespan: raw[o + LOG_SCALED]!,
        decisions: raw[o + LOG_DECISIONS]!,
        silentEpisodes: raw[o + LOG_SILENT]!,
      };
      perEnv.push(entry);
      episodes += entry.episodes;
      sum += entry.sumMakespan;
      scaled += entry.sumScaledMakespan;
      decisions += entry.decisions;
      silent += entry.silentEpisodes;
    }
    return {
      episodes,
      meanMakespan: sum / episodes,
      meanScaledMakespan: scaled / episodes,
      decisions,
      silentEpisodes: silent,
      perEnv,
    };
  }

  /** Env i's current episode index. */
  episodeOf(i: number): number {
    this.live();
    return this.wasm.envState(this.ctx, i, STATE_EPISODE);
  }

  /** Env i's deciding device and the decision time. */
  decisionOf(i: number): { device: number; time: number } {
    this.live();
    return { device: this.wasm.envState(this.ctx, i, STATE_DEVICE), time: this.wasm.envState(this.ctx, i, STATE_TIME) };
  }

  /** Env i's current problem (the fixed one, or the one drawn for its episode index). */
  problemOf(i: number): Problem {
    return this.problem ?? drawProblem(this.ranges!, this.episodeOf(i));
  }

  /** Env i's problem as the module holds it (tests): P, V, M, memLimit, scale, meanCost, cv, seed and tables. */
  problemDump(i: number): {
    P: number;
    V: number;
    M: number;
    memLimit: number;
    scale: number;
    meanCost: number;
    cv: number;
    seed: number;
    stageDevice: number[];
    cost: number[];
    comm: number[];
    path: number[];
  } {
    this.live();
    const n = this.wasm.envProblemDump(this.ctx, i, this.p.dump);
    const v = Array.from(this.core.f64(this.p.dump, n));
    const S = v[0]! * v[1]!;
    const h = DUMP_HEADER;
    return {
      P: v[0]!,
      V: v[1]!,
      M: v[2]!,
      memLimit: v[3]!,
      scale: v[4]!,
      meanCost: v[5]!,
      cv: v[6]!,
      seed: v[7]!,
      stageDevice: v.slice(h, h + S),
      cost: v.slice(h + S, h + 4 * S),
      comm: v.slice(h + 4 * S, h + 5 * S),
      path: v.slice(h + 5 * S, h + 8 * S),
    };
  }

  /**
   * A copy of the whole environment state (every env's episode, event queue, sampling counter and log), for
   * checkpoints: `restoreState` on a vector created with the same options continues exactly where this one was.
   * The replay schedule is not part of it.
   */
  saveState(): Uint8Array {
    this.live();
    return Uint8Array.from(new Uint8Array(this.core.memory.buffer, this.ctx, this.stateBytes));
  }

  /**
   * Continues from a `saveState()` of a vector with the same options (sizes are checked); unloads any replay
   * schedule.
   */
  restoreState(state: Uint8Array): void {
    this.live();
    if (state.length !== this.stateBytes)
      throw new ConfigError(
        'state',
        `holds ${state.length} bytes; this environment vector has ${this.stateBytes} ` +
          '(was it saved with other options?)',
      );
    const header = new Int32Array(state.buffer, state.byteOffset, 8);
    const mine = new Int32Array(this.core.memory.buffer, this.ctx, 8);
    for (let k = 0; k < 8; k++)
      if (header[k] !== mine[k]) throw new ConfigError('state', 'was saved by an environment vector with other sizes');
    this.clearReplay();
    new Uint8Array(this.core.memory.buffer, this.ctx, this.stateBytes).set(state);
    this.wasm.envRelocate(this.ctx);
    this.observeQuietly();
  }

  dispose(): void {
    if (this.disposed) return;
    this.clearReplay();
    this.disposed = true;
    for (const ptr of this.blocks) this.core.release(ptr);
  }
}
