// Environment throughput: policy decisions per second of whole rollouts inside WebAssembly, for the built-in
// greedy heuristic and for a 2x64 MLP policy (forward, masked sampling, storage of every rollout field), both with
// separate actor and critic networks and with a shared trunk (half the multiply-adds).
import { WasmEnv, WasmMlp, orthogonalInit, resolveProblem, type MlpLayout } from '@pprl/core-wasm';
import { machineInfo, type MachineInfo } from '../machine.js';
import { rateOf, timeRate, type Rate } from '../measure.js';

export interface EnvBenchOptions {
  quick?: boolean;
  /** Vector sizes to measure; default 64, 256, 1024. */
  envs?: number[];
}

export interface EnvBenchPoint {
  envs: number;
  greedy: Rate;
  mlp: Rate;
  /** The shared-trunk MLP (same hidden widths). */
  mlpShared: Rate;
}

export interface EnvBenchResult {
  suite: 'env';
  workload: { stages: number; microBatches: number; cost: { F: number; B: number; W: number }; comm: number; noise: number; memLimit: number; stepsPerCall: number; seconds: number; repetitions: number };
  /** The headline figures, at `envs` environments (the largest measured). */
  greedy: { decisionsPerSec: number };
  mlp: { decisionsPerSec: number; hidden: number[]; activation: 'tanh' };
  /** The same MLP with one trunk shared by actor and critic (two heads). */
  mlpShared: { decisionsPerSec: number; hidden: number[]; activation: 'tanh'; shared: true };
  envs: number;
  byEnvs: EnvBenchPoint[];
  machine: MachineInfo;
}

export async function runEnvBench(opts: EnvBenchOptions = {}): Promise<EnvBenchResult> {
  const P = 8;
  const M = 32;
  const cost = { F: 1, B: 1.2, W: 0.9 };
  const comm = 0.1;
  const noise = 0.2;
  const memLimit = 2 * P;
  const problem = resolveProblem({ stages: P, microBatches: M, cost, comm: { time: comm }, memory: { F: 1, B: 0, W: -1, limit: memLimit }, noise: { cv: noise, seed: 1 } });
  const seconds = opts.quick ? 0.1 : 0.6;
  const repetitions = opts.quick ? 2 : 5;
  const stepsPerCall = 64;
  const sizes = opts.envs ?? (opts.quick ? [64, 256] : [64, 256, 1024]);
  const byEnvs: EnvBenchPoint[] = [];
  let hidden: number[] = [64, 64];
  for (const N of sizes) {
    const env = await WasmEnv.create({ numEnvs: N, problem });
    const layout: MlpLayout = { obsDim: env.obsDim, hidden, actions: env.numActions, activation: 'tanh' };
    const mlp = await WasmMlp.create(layout, orthogonalInit(layout, 1));
    const sharedLayout: MlpLayout = { ...layout, shared: true };
    const mlpShared = await WasmMlp.create(sharedLayout, orthogonalInit(sharedLayout, 1));
    const buffers = env.createRolloutBuffers(stepsPerCall);
    env.reset();
    const greedyBatch = () => {
      env.rollout('greedy-zb', stepsPerCall);
      return N * stepsPerCall;
    };
    const mlpBatch = () => {
      env.rollout({ mlp, seed: 7 }, stepsPerCall, buffers);
      return N * stepsPerCall;
    };
    const sharedBatch = () => {
      env.rollout({ mlp: mlpShared, seed: 7 }, stepsPerCall, buffers);
      return N * stepsPerCall;
    };
    timeRate(greedyBatch, seconds / 2);
    timeRate(mlpBatch, seconds / 2);
    timeRate(sharedBatch, seconds / 2);
    const greedy: number[] = [];
    const policy: number[] = [];
    const sharedPolicy: number[] = [];
    for (let r = 0; r < repetitions; r++) {
      greedy.push(timeRate(greedyBatch, seconds));
      policy.push(timeRate(mlpBatch, seconds));
      sharedPolicy.push(timeRate(sharedBatch, seconds));
    }
    byEnvs.push({ envs: N, greedy: rateOf(greedy), mlp: rateOf(policy), mlpShared: rateOf(sharedPolicy) });
    hidden = layout.hidden;
    buffers.dispose();
    mlpShared.dispose();
    mlp.dispose();
    env.dispose();
  }
  const last = byEnvs[byEnvs.length - 1]!;
  return {
    suite: 'env',
    workload: { stages: P, microBatches: M, cost, comm, noise, memLimit, stepsPerCall, seconds, repetitions },
    greedy: { decisionsPerSec: last.greedy.median },
    mlp: { decisionsPerSec: last.mlp.median, hidden, activation: 'tanh' },
    mlpShared: { decisionsPerSec: last.mlpShared.median, hidden, activation: 'tanh', shared: true },
    envs: last.envs,
    byEnvs,
    machine: machineInfo(),
  };
}
