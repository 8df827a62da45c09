// Replay throughput: the WebAssembly engine against the TypeScript reference, side by side in one run; optionally
// the WebAssembly engine in 1..N worker threads at once.
import {
  compileSchedule,
  createSimulator,
  referenceReplay,
  resolveProblem,
  type CompiledSchedule,
  type Problem,
} from '@pprl/core-wasm';
import { oneFOneBSplit } from '@pprl/schedulers';
import { machineInfo, type MachineInfo } from '../machine.js';
import { rateOf, timeRate, type Rate, type TimedBatch } from '../measure.js';
import { checkThreads, measureThreadScaling, type ThreadPoint } from '../threads.js';
import { THROUGHPUT_PROBLEM } from '../workload.js';

export interface ReplayBenchOptions {
  quick?: boolean;
  /** Also measure the WebAssembly replay in 1..threads worker threads at once. */
  threads?: number;
}

export interface ReplayBenchResult {
  suite: 'replay';
  /** The options that reproduce this result (`pprl bench replay` flags). */
  options: { quick: boolean; threads?: number };
  workload: {
    stages: number;
    microBatches: number;
    schedule: string;
    cost: { F: number; B: number; W: number };
    comm: number;
    noise: number;
    opsPerEpisode: number;
    episodesPerBatch: number;
    seconds: number;
    repetitions: number;
  };
  wasm: { opEventsPerSec: number; episodesPerSec: number; rate: Rate };
  reference: { opEventsPerSec: number; episodesPerSec: number; rate: Rate };
  /** The WebAssembly engine on the same schedule without noise (what drawing the noise costs). */
  wasmNoiseFree?: { opEventsPerSec: number; rate: Rate };
  /** wasm.opEventsPerSec / reference.opEventsPerSec (medians of alternating repetitions). */
  ratio: number;
  /** Aggregate WebAssembly op-events/s of 1..N threads, each replaying the same workload in its own instance. */
  threads?: ThreadPoint[];
  machine: MachineInfo;
}

const { stages: P, microBatches: M, cost: COST, comm: COMM, noise: NOISE } = THROUGHPUT_PROBLEM;
const WASM_BATCH = 1000;
const REFERENCE_BATCH = 100;

function replayProblem(noise: number): { problem: Problem; schedule: CompiledSchedule } {
  const problem = resolveProblem({
    stages: P,
    microBatches: M,
    cost: COST,
    comm: { time: COMM },
    noise: { cv: noise, seed: 1 },
  });
  return { problem, schedule: compileSchedule(problem, oneFOneBSplit(problem)) };
}

/** The WebAssembly replay of the suite's workload as a timed batch (returns op-events); also run by the workers. */
export async function wasmReplayBatch(noise = NOISE): Promise<TimedBatch> {
  const { problem, schedule } = replayProblem(noise);
  const sim = await createSimulator();
  const prepared = sim.prepare(problem, schedule, WASM_BATCH);
  let nextEpisode = 0;
  return {
    run: () => {
      prepared.run(nextEpisode, WASM_BATCH);
      nextEpisode += WASM_BATCH;
      return WASM_BATCH * schedule.ops.length;
    },
    dispose: () => prepared.dispose(),
  };
}

export async function runReplayBench(opts: ReplayBenchOptions = {}): Promise<ReplayBenchResult> {
  const quick = opts.quick ?? false;
  if (opts.threads !== undefined) checkThreads(opts.threads);
  const { problem, schedule } = replayProblem(NOISE);
  const opsPerEpisode = schedule.ops.length;
  const seconds = quick ? 0.15 : 1;
  const repetitions = quick ? 3 : 5;
  const wasmBatch = await wasmReplayBatch(NOISE);
  const noiseFreeBatch = await wasmReplayBatch(0);
  let nextEpisode = 0;
  const refBatch = () => {
    referenceReplay(problem, schedule, { episodes: REFERENCE_BATCH, episodeStart: nextEpisode });
    nextEpisode += REFERENCE_BATCH;
    return REFERENCE_BATCH * opsPerEpisode;
  };
  // warm-up every engine (JIT tiers), then alternate them so that machine noise hits all alike
  timeRate(wasmBatch.run, seconds / 2);
  timeRate(refBatch, seconds / 2);
  timeRate(noiseFreeBatch.run, seconds / 4);
  const wasm: number[] = [];
  const ref: number[] = [];
  const noiseFree: number[] = [];
  for (let r = 0; r < repetitions; r++) {
    wasm.push(timeRate(wasmBatch.run, seconds));
    ref.push(timeRate(refBatch, seconds));
    noiseFree.push(timeRate(noiseFreeBatch.run, seconds / 2));
  }
  wasmBatch.dispose();
  noiseFreeBatch.dispose();
  const wasmRate = rateOf(wasm);
  const refRate = rateOf(ref);
  const noiseFreeRate = rateOf(noiseFree);
  const threads =
    opts.threads === undefined
      ? undefined
      : await measureThreadScaling({ suite: 'replay' }, opts.threads, seconds, repetitions);
  return {
    suite: 'replay',
    options: { quick, ...(opts.threads !== undefined ? { threads: opts.threads } : {}) },
    workload: {
      stages: P,
      microBatches: M,
      schedule: '1f1b-split',
      cost: COST,
      comm: COMM,
      noise: NOISE,
      opsPerEpisode,
      episodesPerBatch: WASM_BATCH,
      seconds,
      repetitions,
    },
    wasm: { opEventsPerSec: wasmRate.median, episodesPerSec: wasmRate.median / opsPerEpisode, rate: wasmRate },
    reference: { opEventsPerSec: refRate.median, episodesPerSec: refRate.median / opsPerEpisode, rate: refRate },
    wasmNoiseFree: { opEventsPerSec: noiseFreeRate.median, rate: noiseFreeRate },
    ratio: wasmRate.median / refRate.median,
    ...(threads ? { threads } : {}),
    machine: machineInfo(),
  };
}
