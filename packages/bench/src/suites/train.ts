// PPO training throughput end to end: environment steps per second including the updates, and how the time
// splits between rollouts (WebAssembly) and updates (TensorFlow.js), for the shared-trunk network (the default)
// and CleanRL's separate actor and critic networks.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { train, type TrainConfigInput } from '@pprl/rl';
import { machineInfo, type MachineInfo } from '../machine.js';
import { rateOf, type Rate } from '../measure.js';

export interface TrainBenchOptions {
  quick?: boolean;
}

export interface TrainBenchPoint {
  network: 'shared' | 'separate';
  hidden: number[];
  /** Environment steps per second over whole runs (rollouts + updates). */
  stepsPerSec: Rate;
  /** Shares of the run time (medians over the repetitions). */
  rolloutShare: number;
  updateShare: number;
}

export interface TrainBenchResult {
  suite: 'train';
  /** The flags that reproduce it. */
  options: { quick: boolean };
  workload: {
    problem: string;
    envs: number;
    stepsPerRollout: number;
    epochs: number;
    minibatches: number;
    stepsPerRun: number;
    repetitions: number;
  };
  /** The headline: the default (shared-trunk) network. */
  stepsPerSec: number;
  rolloutShare: number;
  updateShare: number;
  backend: string;
  byNetwork: TrainBenchPoint[];
  machine: MachineInfo & { tfBackend: string };
}

const median = (xs: number[]) => rateOf(xs).median;

export async function runTrainBench(opts: TrainBenchOptions = {}): Promise<TrainBenchResult> {
  const envs = 64;
  const stepsPerRollout = 128;
  const batch = envs * stepsPerRollout;
  // whole updates; the first update of a run also pays for start-up (backend, tensors), as a user's run does
  const stepsPerRun = (opts.quick ? 2 : 24) * batch;
  const repetitions = opts.quick ? 1 : 3;
  const problem: TrainConfigInput['problem'] = {
    profile: { model: '6.2B' },
    stages: 4,
    microBatches: 16,
    noise: { cv: 0.3, seed: 1000 },
  };
  const base: TrainConfigInput = {
    problem,
    envs,
    stepsPerRollout,
    totalSteps: stepsPerRun,
    epochs: 2,
    minibatches: 4,
    evalInterval: 0,
    evalEpisodes: 1,
    checkpointInterval: 1_000_000,
  };
  const root = mkdtempSync(path.join(os.tmpdir(), 'pprl-bench-train-'));
  const byNetwork: TrainBenchPoint[] = [];
  let backend = '';
  try {
    for (const shared of [true, false]) {
      const rates: number[] = [];
      const rollout: number[] = [];
      const update: number[] = [];
      for (let r = 0; r < repetitions; r++) {
        const result = await train(
          { ...base, network: { hidden: [64, 64], shared } },
          { outDir: path.join(root, `${shared ? 'shared' : 'separate'}-${r}`) },
        );
        backend = result.backend;
        rates.push(result.stepsPerSec);
        rollout.push(result.rolloutShare);
        update.push(result.updateShare);
      }
      byNetwork.push({
        network: shared ? 'shared' : 'separate',
        hidden: [64, 64],
        stepsPerSec: rateOf(rates),
        rolloutShare: median(rollout),
        updateShare: median(update),
      });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const head = byNetwork[0]!;
  return {
    suite: 'train',
    options: { quick: opts.quick ?? false },
    workload: {
      problem: '6.2B H200 profile, P=4, M=16, noise cv 0.3',
      envs,
      stepsPerRollout,
      epochs: 2,
      minibatches: 4,
      stepsPerRun,
      repetitions,
    },
    stepsPerSec: head.stepsPerSec.median,
    rolloutShare: head.rolloutShare,
    updateShare: head.updateShare,
    backend,
    byNetwork,
    machine: { ...machineInfo(), tfBackend: backend },
  };
}
