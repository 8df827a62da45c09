// The training environments: one WebAssembly environment vector per noise level or per problem of a problem set (one
// vector when the config gives neither), rolled out with the same policy and presented as a single [T][N] rollout,
// environment i of the whole batch being environment i mod n of vector floor(i / n) of each row. With one vector the
// rollout fields are the module's own views (no copies); with several, each row's slices are copied side by side.
import {
  ConfigError,
  WasmEnv,
  withNoise,
  type EnvLog,
  type Problem,
  type ProblemRanges,
  type RolloutBuffers,
  type Schedule,
  type WasmEnvOptions,
  type WasmMlp,
} from '@pprl/core-wasm';

/** Options every training vector is created with (the wait action, the memory rule, the feature groups). */
export type TrainingEnvOptions = Pick<WasmEnvOptions, 'wait' | 'memoryRule' | 'features'>;

export interface RolloutFields {
  obs: Float32Array;
  mask: Uint8Array;
  actions: Int32Array;
  logProb: Float32Array;
  value: Float32Array;
  reward: Float32Array;
  done: Uint8Array;
  /** The teacher's action per row (-1: none, or no teacher). */
  teacher: Int32Array;
  /** [N][D]: the observation after the last step, and its value (MLP rollouts; 0 otherwise). */
  finalObs: Float32Array;
  finalValue: Float32Array;
}

export class TrainingEnvs {
  readonly obsDim: number;
  readonly numActions: number;
  private readonly buffers: RolloutBuffers[];
  private readonly combined: RolloutFields | undefined;
  private teachers: Schedule[] | undefined;

  private constructor(
    private readonly vectors: WasmEnv[],
    readonly numEnvs: number,
    readonly steps: number,
  ) {
    this.obsDim = vectors[0]!.obsDim;
    this.numActions = vectors[0]!.numActions;
    this.buffers = vectors.map((v) => v.createRolloutBuffers(steps));
    const TN = steps * numEnvs;
    this.combined =
      vectors.length === 1
        ? undefined
        : {
            obs: new Float32Array(TN * this.obsDim),
            mask: new Uint8Array(TN * this.numActions),
            actions: new Int32Array(TN),
            logProb: new Float32Array(TN),
            value: new Float32Array(TN),
            reward: new Float32Array(TN),
            done: new Uint8Array(TN),
            teacher: new Int32Array(TN),
            finalObs: new Float32Array(numEnvs * this.obsDim),
            finalValue: new Float32Array(numEnvs),
          };
  }

  /**
   * N environments of `problem` (split evenly over `noiseLevels` when given), of fresh problems from `ranges`, or
   * split evenly over the fixed `problems` of a problem set (all observed with the same number of chunk slots).
   */
  static async create(
    numEnvs: number,
    steps: number,
    source:
      | { problem: Problem; noiseLevels?: readonly number[] }
      | { ranges: ProblemRanges }
      | { problems: readonly Problem[] },
    options: TrainingEnvOptions = {},
  ): Promise<TrainingEnvs> {
    let vectors: WasmEnv[];
    if ('ranges' in source) vectors = [await WasmEnv.create({ ...options, numEnvs, ranges: source.ranges })];
    else if ('problems' in source) {
      const n = numEnvs / source.problems.length;
      if (!Number.isInteger(n))
        throw new ConfigError(
          'envs',
          `${numEnvs} environments cannot be split evenly among ${source.problems.length} problems`,
        );
      const maxChunks = Math.max(...source.problems.map((p) => p.chunks));
      // each problem has its own noise seed, so every vector can start at episode 0
      vectors = [];
      for (const problem of source.problems)
        vectors.push(await WasmEnv.create({ ...options, numEnvs: n, problem, maxChunks }));
    } else {
      const levels = source.noiseLevels;
      if (!levels || levels.length === 0)
        vectors = [await WasmEnv.create({ ...options, numEnvs, problem: source.problem })];
      else {
        const n = numEnvs / levels.length;
        // disjoint episode indices per vector: every level meets its own noise draws
        vectors = await Promise.all(
          levels.map((cv, g) =>
            WasmEnv.create({ ...options, numEnvs: n, problem: withNoise(source.problem, cv), episodeStart: g * n }),
          ),
        );
      }
    }
    return new TrainingEnvs(vectors, numEnvs, steps);
  }

  /** The teacher whose decisions label every rollout row (and whom `rollout('teacher')` follows). */
  setTeacher(schedule: Schedule): void {
    this.setTeachers(this.vectors.map(() => schedule));
  }

  /** One teacher per vector (a problem set: each problem's schedule, in the order of the problems). */
  setTeachers(schedules: readonly Schedule[]): void {
    if (schedules.length !== this.vectors.length)
      throw new ConfigError(
        'teachers',
        `expected ${this.vectors.length} schedules (one per vector), got ${schedules.length}`,
      );
    this.teachers = [...schedules];
    this.vectors.forEach((v, g) => v.setReplaySchedule(schedules[g]!));
  }

  /** The vectors, in batch order (a problem set: one per problem). */
  get all(): readonly WasmEnv[] {
    return this.vectors;
  }

  /**
   * T steps of every environment under the MLP policy (sampling) or the teacher; then `fields()` holds the
   * rollout (with the teacher's labels when one is set).
   */
  rollout(policy: WasmMlp | 'teacher', seed: number): void {
    this.vectors.forEach((v, g) =>
      v.rollout(policy === 'teacher' ? 'teacher' : { mlp: policy, seed }, this.steps, this.buffers[g]!),
    );
    if (!this.combined) return;
    const { obsDim: D, numActions: A, steps: T } = this;
    const c = this.combined;
    let at = 0;
    this.vectors.forEach((v, g) => {
      const b = this.buffers[g]!;
      const n = v.numEnvs;
      const [obs, mask, actions, logProb, value, reward, done, teacher] = [
        b.obs,
        b.mask,
        b.actions,
        b.logProb,
        b.value,
        b.reward,
        b.done,
        b.teacher,
      ];
      for (let t = 0; t < T; t++) {
        const from = t * n;
        const to = t * this.numEnvs + at;
        c.obs.set(obs.subarray(from * D, (from + n) * D), to * D);
        c.mask.set(mask.subarray(from * A, (from + n) * A), to * A);
        c.actions.set(actions.subarray(from, from + n), to);
        c.logProb.set(logProb.subarray(from, from + n), to);
        c.value.set(value.subarray(from, from + n), to);
        c.reward.set(reward.subarray(from, from + n), to);
        c.done.set(done.subarray(from, from + n), to);
        c.teacher.set(teacher.subarray(from, from + n), to);
      }
      c.finalObs.set(b.finalObs, at * D);
      c.finalValue.set(b.finalValue, at);
      at += n;
    });
  }

  /** The last rollout, [T][N] step-major (views into WebAssembly memory with one vector: valid until the next call). */
  fields(): RolloutFields {
    if (this.combined) return this.combined;
    const b = this.buffers[0]!;
    return {
      obs: b.obs,
      mask: b.mask,
      actions: b.actions,
      logProb: b.logProb,
      value: b.value,
      reward: b.reward,
      done: b.done,
      teacher: b.teacher,
      finalObs: b.finalObs,
      finalValue: b.finalValue,
    };
  }

  /** Episodes finished since the last call, over all vectors. */
  readLog(): Pick<EnvLog, 'episodes' | 'meanMakespan' | 'meanScaledMakespan'> {
    let episodes = 0;
    let sum = 0;
    let scaled = 0;
    for (const v of this.vectors) {
      const log = v.readLog();
      episodes += log.episodes;
      if (log.episodes > 0) {
        sum += log.meanMakespan * log.episodes;
        scaled += log.meanScaledMakespan * log.episodes;
      }
    }
    return { episodes, meanMakespan: sum / episodes, meanScaledMakespan: scaled / episodes };
  }

  /** The states of all vectors, one after another (each vector's size is fixed by its options). */
  saveState(): Uint8Array {
    const states = this.vectors.map((v) => v.saveState());
    const out = new Uint8Array(states.reduce((n, s) => n + s.length, 0));
    let at = 0;
    for (const s of states) {
      out.set(s, at);
      at += s.length;
    }
    return out;
  }

  restoreState(state: Uint8Array): void {
    let at = 0;
    for (const v of this.vectors) {
      v.restoreState(state.subarray(at, at + v.stateBytes));
      at += v.stateBytes;
    }
    if (at !== state.length)
      throw new ConfigError('state', `holds ${state.length} bytes; these environments have ${at}`);
    // restoring unloads a vector's schedule (its memory is not part of the state): load the teacher again
    if (this.teachers) this.setTeachers(this.teachers);
  }

  /** The first vector (built-in evaluation when there is one vector). */
  get first(): WasmEnv {
    return this.vectors[0]!;
  }

  get count(): number {
    return this.vectors.length;
  }

  dispose(): void {
    for (const b of this.buffers) b.dispose();
    for (const v of this.vectors) v.dispose();
  }
}
