// The training environments: one WebAssembly environment vector per noise level (one vector when the config gives
// none), rolled out with the same policy and presented as a single [T][N] rollout, environment i of the whole batch
// being environment i mod n of vector floor(i / n) of each row. With one vector the rollout fields are the
// module's own views (no copies); with several, each row's slices are copied side by side.
import { ConfigError, WasmEnv, withNoise, type EnvLog, type Problem, type ProblemRanges, type RolloutBuffers, type WasmMlp } from '@pprl/core-wasm';

export interface RolloutFields {
  obs: Float32Array;
  mask: Uint8Array;
  actions: Int32Array;
  logProb: Float32Array;
  value: Float32Array;
  reward: Float32Array;
  done: Uint8Array;
  finalValue: Float32Array;
}

export class TrainingEnvs {
  readonly obsDim: number;
  readonly numActions: number;
  private readonly buffers: RolloutBuffers[];
  private readonly combined: RolloutFields | undefined;

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
            finalValue: new Float32Array(numEnvs),
          };
  }

  /** N environments of `problem` (split evenly over `noiseLevels` when given) or of fresh problems from `ranges`. */
  static async create(numEnvs: number, steps: number, source: { problem: Problem; noiseLevels?: readonly number[] } | { ranges: ProblemRanges }): Promise<TrainingEnvs> {
    let vectors: WasmEnv[];
    if ('ranges' in source) vectors = [await WasmEnv.create({ numEnvs, ranges: source.ranges })];
    else {
      const levels = source.noiseLevels;
      if (!levels || levels.length === 0) vectors = [await WasmEnv.create({ numEnvs, problem: source.problem })];
      else {
        const n = numEnvs / levels.length;
        // disjoint episode indices per vector: every level meets its own noise draws
        vectors = await Promise.all(levels.map((cv, g) => WasmEnv.create({ numEnvs: n, problem: withNoise(source.problem, cv), episodeStart: g * n })));
      }
    }
    return new TrainingEnvs(vectors, numEnvs, steps);
  }

  /** T steps of every environment under the MLP policy (sampling); then `fields()` holds the rollout. */
  rollout(mlp: WasmMlp, seed: number): void {
    this.vectors.forEach((v, g) => v.rollout({ mlp, seed }, this.steps, this.buffers[g]!));
    if (!this.combined) return;
    const { obsDim: D, numActions: A, steps: T } = this;
    const c = this.combined;
    let at = 0;
    this.vectors.forEach((v, g) => {
      const b = this.buffers[g]!;
      const n = v.numEnvs;
      const [obs, mask, actions, logProb, value, reward, done] = [b.obs, b.mask, b.actions, b.logProb, b.value, b.reward, b.done];
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
      }
      c.finalValue.set(b.finalValue, at);
      at += n;
    });
  }

  /** The last rollout, [T][N] step-major (views into WebAssembly memory with one vector: valid until the next call). */
  fields(): RolloutFields {
    if (this.combined) return this.combined;
    const b = this.buffers[0]!;
    return { obs: b.obs, mask: b.mask, actions: b.actions, logProb: b.logProb, value: b.value, reward: b.reward, done: b.done, finalValue: b.finalValue };
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
    if (at !== state.length) throw new ConfigError('state', `holds ${state.length} bytes; these environments have ${at}`);
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
