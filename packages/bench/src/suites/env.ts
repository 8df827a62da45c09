// Environment throughput: policy decisions per second of whole rollouts inside WebAssembly, for the built-in
// greedy heuristic and for a 2x64 MLP policy (forward, masked sampling, storage of every rollout field), both with
// separate actor and critic networks and with a shared trunk (half the multiply-adds). The TypeScript reference
// environment runs the same greedy rollout beside the WebAssembly one; optionally every policy also runs in 1..N
// worker threads at once.
import {
  mlpLayers,
  orthogonalInit,
  ReferenceEnv,
  resolveProblem,
  WasmEnv,
  WasmMlp,
  type MlpLayout,
  type Problem,
} from '@pprl/core-wasm';
import { machineInfo, type MachineInfo } from '../machine.js';
import { rateOf, timeRate, type Rate, type TimedBatch } from '../measure.js';
import { checkThreads, measureThreadScaling, type ThreadPoint } from '../threads.js';
import { THROUGHPUT_PROBLEM } from '../workload.js';

export interface EnvBenchOptions {
  quick?: boolean;
  /** Vector sizes to measure; default 64, 256, 1024, 4096 (64, 256 with quick). */
  envs?: number[];
  /** Also measure every policy in 1..threads worker threads at once, at the largest vector size. */
  threads?: number;
}

/** The policies timed (`greedy` without storage; `greedyRecorded` stores obs, mask, action, reward, done). */
export type EnvPolicyName = 'greedy' | 'greedyRecorded' | 'mlp' | 'mlpShared';

export interface EnvBenchPoint {
  envs: number;
  greedy: Rate;
  mlp: Rate;
  /** The shared-trunk MLP (same hidden widths). */
  mlpShared: Rate;
  /** The greedy rollout storing obs, mask, action, reward and done, as the TypeScript reference does. */
  greedyRecorded?: Rate;
  /** The TypeScript ReferenceEnv stepped by the same greedy rule, storing the same fields. */
  reference?: Rate;
  /** greedyRecorded.median / reference.median. */
  ratio?: number;
}

export interface EnvBenchResult {
  suite: 'env';
  /** The options that reproduce this result (`pprl bench env` flags). */
  options: { quick: boolean; envs: number[]; threads?: number };
  workload: {
    stages: number;
    microBatches: number;
    cost: { F: number; B: number; W: number };
    comm: number;
    noise: number;
    memLimit: number;
    stepsPerCall: number;
    seconds: number;
    repetitions: number;
    obsDim?: number;
    actions?: number;
  };
  /** The headline figures, at `envs` environments (the largest measured). */
  greedy: { decisionsPerSec: number };
  mlp: { decisionsPerSec: number; hidden: number[]; activation: 'tanh'; multiplyAdds?: number };
  /** The same MLP with one trunk shared by actor and critic (two heads). */
  mlpShared: { decisionsPerSec: number; hidden: number[]; activation: 'tanh'; shared: true; multiplyAdds?: number };
  /** The TypeScript reference's greedy rollout and the WebAssembly one recording the same fields, at `envs`. */
  reference?: { decisionsPerSec: number; greedyRecordedPerSec: number; ratio: number };
  envs: number;
  byEnvs: EnvBenchPoint[];
  /** Aggregate decisions/s of 1..N threads, each running `envs` environments of its own. */
  threads?: { envs: number } & Record<'greedy' | 'mlp' | 'mlpShared', ThreadPoint[]>;
  machine: MachineInfo;
}

const { stages: P, microBatches: M, cost: COST, comm: COMM, noise: NOISE } = THROUGHPUT_PROBLEM;
const MEM_LIMIT = 2 * P;
const STEPS_PER_CALL = 64;
const HIDDEN = [64, 64];

function envProblem(): Problem {
  return resolveProblem({
    stages: P,
    microBatches: M,
    cost: COST,
    comm: { time: COMM },
    memory: { F: 1, B: 0, W: -1, limit: MEM_LIMIT },
    noise: { cv: NOISE, seed: 1 },
  });
}

function mlpLayout(env: WasmEnv, shared: boolean): MlpLayout {
  return {
    obsDim: env.obsDim,
    hidden: HIDDEN,
    actions: env.numActions,
    activation: 'tanh',
    ...(shared ? { shared: true } : {}),
  };
}

function multiplyAdds(layout: MlpLayout): number {
  return mlpLayers(layout).reduce((sum, l) => sum + l.fanIn * l.fanOut, 0);
}

/**
 * One policy's rollout of `envs` WebAssembly environments as a timed batch (returns decisions); also run by the
 * workers, each on its own instance.
 */
export async function envRolloutBatch(policy: EnvPolicyName, envs: number): Promise<TimedBatch> {
  const env = await WasmEnv.create({ numEnvs: envs, problem: envProblem() });
  const disposers: (() => void)[] = [];
  let run: () => number;
  if (policy === 'greedy') {
    run = () => {
      env.rollout('greedy-zb', STEPS_PER_CALL);
      return envs * STEPS_PER_CALL;
    };
  } else {
    const buffers = env.createRolloutBuffers(STEPS_PER_CALL);
    disposers.push(() => buffers.dispose());
    if (policy === 'greedyRecorded') {
      run = () => {
        env.rollout('greedy-zb', STEPS_PER_CALL, buffers);
        return envs * STEPS_PER_CALL;
      };
    } else {
      const layout = mlpLayout(env, policy === 'mlpShared');
      const mlp = await WasmMlp.create(layout, orthogonalInit(layout, 1));
      disposers.push(() => mlp.dispose());
      run = () => {
        env.rollout({ mlp, seed: 7 }, STEPS_PER_CALL, buffers);
        return envs * STEPS_PER_CALL;
      };
    }
  }
  env.reset();
  return {
    run,
    dispose: () => {
      for (const d of disposers.reverse()) d();
      env.dispose();
    },
  };
}

/**
 * The TypeScript reference of the recorded greedy rollout: `envs` ReferenceEnvs on the WebAssembly vector's
 * episode indices, each step observing (obs and mask into [T][N] rows), choosing by greedy-zb and storing the
 * action, reward and done. It takes exactly the WebAssembly rollout's decisions (checked in the tests).
 */
export class ReferenceGreedyRollout {
  readonly refs: ReferenceEnv[];
  readonly obs: Float32Array;
  readonly mask: Uint8Array;
  readonly actions: Int32Array;
  readonly reward: Float32Array;
  readonly done: Uint8Array;
  private readonly chunks: number;

  constructor(
    problem: Problem,
    readonly envs: number,
    readonly steps: number,
  ) {
    this.refs = Array.from(
      { length: envs },
      (_, i) => new ReferenceEnv({ problem, episodeStart: i, episodeStride: envs }),
    );
    for (const r of this.refs) r.reset();
    const first = this.refs[0]!;
    this.chunks = problem.chunks;
    this.obs = new Float32Array(steps * envs * first.obsDim);
    this.mask = new Uint8Array(steps * envs * first.numActions);
    this.actions = new Int32Array(steps * envs);
    this.reward = new Float32Array(steps * envs);
    this.done = new Uint8Array(steps * envs);
  }

  /** `steps` steps of every environment, env by env as the WebAssembly rollout goes; returns the decisions. */
  run(): number {
    const { envs, steps, obs, mask } = this;
    for (let i = 0; i < envs; i++) {
      const ref = this.refs[i]!;
      const D = ref.obsDim;
      const A = ref.numActions;
      for (let t = 0; t < steps; t++) {
        const row = t * envs + i;
        ref.observe(obs, mask, row * D, row * A);
        const action = this.greedyZb(ref, mask, row * A);
        this.actions[row] = action;
        const { reward, done } = ref.step(action);
        this.reward[row] = reward;
        this.done[row] = done ? 1 : 0;
      }
    }
    return envs * steps;
  }

  /** greedy-zb (@pprl/schedulers' heuristics): B, else F, else W; within a kind the lowest micro-batch, then chunk. */
  private greedyZb(ref: ReferenceEnv, mask: Uint8Array, offset: number): number {
    for (const kind of [1, 0, 2]) {
      let best = -1;
      let bestMb = Infinity;
      for (let c = 0; c < this.chunks; c++) {
        const k = 3 * c + kind;
        if (mask[offset + k] !== 1) continue;
        // with one chunk per kind there is nothing to compare
        const mb = this.chunks === 1 ? 0 : ref.classOp(k)!.mb;
        if (mb < bestMb) {
          best = k;
          bestMb = mb;
        }
      }
      if (best >= 0) return best;
    }
    throw new Error(`no eligible class on device ${ref.device} at time ${ref.time}`);
  }
}

/** The suite's problem and rollout length, for tests that set the reference beside the WebAssembly rollout. */
export function envWorkload(): { problem: Problem; stepsPerCall: number } {
  return { problem: envProblem(), stepsPerCall: STEPS_PER_CALL };
}

export async function runEnvBench(opts: EnvBenchOptions = {}): Promise<EnvBenchResult> {
  const quick = opts.quick ?? false;
  if (opts.threads !== undefined) checkThreads(opts.threads);
  const problem = envProblem();
  const seconds = quick ? 0.1 : 0.6;
  const repetitions = quick ? 2 : 5;
  const sizes = opts.envs ?? (quick ? [64, 256] : [64, 256, 1024, 4096]);
  const byEnvs: EnvBenchPoint[] = [];
  let obsDim = 0;
  let actions = 0;
  for (const N of sizes) {
    const batches = await Promise.all(
      (['greedy', 'greedyRecorded', 'mlp', 'mlpShared'] as const).map((name) => envRolloutBatch(name, N)),
    );
    const [greedy, greedyRecorded, mlp, mlpShared] = batches as [TimedBatch, TimedBatch, TimedBatch, TimedBatch];
    const reference = new ReferenceGreedyRollout(problem, N, STEPS_PER_CALL);
    obsDim = reference.refs[0]!.obsDim;
    actions = reference.refs[0]!.numActions;
    const runs = [greedy.run, greedyRecorded.run, mlp.run, mlpShared.run, () => reference.run()];
    // warm-up every rollout (JIT tiers), then alternate them so that machine noise hits all alike
    for (const run of runs) timeRate(run, seconds / 2);
    const samples = runs.map(() => [] as number[]);
    for (let r = 0; r < repetitions; r++) runs.forEach((run, i) => samples[i]!.push(timeRate(run, seconds)));
    const [greedyRate, recordedRate, mlpRate, sharedRate, referenceRate] = samples.map((s) => rateOf(s)) as [
      Rate,
      Rate,
      Rate,
      Rate,
      Rate,
    ];
    byEnvs.push({
      envs: N,
      greedy: greedyRate,
      mlp: mlpRate,
      mlpShared: sharedRate,
      greedyRecorded: recordedRate,
      reference: referenceRate,
      ratio: recordedRate.median / referenceRate.median,
    });
    for (const b of batches) b.dispose();
  }
  const last = byEnvs[byEnvs.length - 1]!;
  let threads: EnvBenchResult['threads'];
  if (opts.threads !== undefined) {
    const scaling = async (policy: EnvPolicyName) =>
      measureThreadScaling({ suite: 'env', envs: last.envs, policy }, opts.threads!, seconds, repetitions);
    threads = {
      envs: last.envs,
      greedy: await scaling('greedy'),
      mlp: await scaling('mlp'),
      mlpShared: await scaling('mlpShared'),
    };
  }
  const layout: MlpLayout = { obsDim, hidden: HIDDEN, actions, activation: 'tanh' };
  return {
    suite: 'env',
    options: { quick, envs: sizes, ...(opts.threads !== undefined ? { threads: opts.threads } : {}) },
    workload: {
      stages: P,
      microBatches: M,
      cost: COST,
      comm: COMM,
      noise: NOISE,
      memLimit: MEM_LIMIT,
      stepsPerCall: STEPS_PER_CALL,
      seconds,
      repetitions,
      obsDim,
      actions,
    },
    greedy: { decisionsPerSec: last.greedy.median },
    mlp: { decisionsPerSec: last.mlp.median, hidden: HIDDEN, activation: 'tanh', multiplyAdds: multiplyAdds(layout) },
    mlpShared: {
      decisionsPerSec: last.mlpShared.median,
      hidden: HIDDEN,
      activation: 'tanh',
      shared: true,
      multiplyAdds: multiplyAdds({ ...layout, shared: true }),
    },
    reference: {
      decisionsPerSec: last.reference!.median,
      greedyRecordedPerSec: last.greedyRecorded!.median,
      ratio: last.ratio!,
    },
    envs: last.envs,
    byEnvs,
    ...(threads ? { threads } : {}),
    machine: machineInfo(),
  };
}
