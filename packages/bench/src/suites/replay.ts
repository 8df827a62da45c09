// Replay throughput: the WebAssembly engine against the TypeScript reference, side by side in one run.
import { compileSchedule, createSimulator, referenceReplay, resolveProblem } from '@pprl/core-wasm';
import { oneFOneBSplit } from '@pprl/schedulers';
import { machineInfo, type MachineInfo } from '../machine.js';
import { rateOf, timeRate, type Rate } from '../measure.js';

export interface ReplayBenchOptions {
  quick?: boolean;
}

export interface ReplayBenchResult {
  suite: 'replay';
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
  /** wasm.opEventsPerSec / reference.opEventsPerSec (medians of alternating repetitions). */
  ratio: number;
  machine: MachineInfo;
}

export async function runReplayBench(opts: ReplayBenchOptions = {}): Promise<ReplayBenchResult> {
  const P = 8;
  const M = 32;
  const cost = { F: 1, B: 1.2, W: 0.9 };
  const comm = 0.1;
  const noise = 0.2;
  const problem = resolveProblem({ stages: P, microBatches: M, cost, comm: { time: comm }, noise: { cv: noise, seed: 1 } });
  const schedule = compileSchedule(problem, oneFOneBSplit(problem));
  const opsPerEpisode = schedule.ops.length;
  const seconds = opts.quick ? 0.15 : 1;
  const repetitions = opts.quick ? 3 : 5;
  const batch = 1000;
  const sim = await createSimulator();
  const prepared = sim.prepare(problem, schedule, batch);
  let nextEpisode = 0;
  const wasmBatch = () => {
    prepared.run(nextEpisode, batch);
    nextEpisode += batch;
    return batch;
  };
  const refBatchSize = 100;
  const refBatch = () => {
    referenceReplay(problem, schedule, { episodes: refBatchSize, episodeStart: nextEpisode });
    nextEpisode += refBatchSize;
    return refBatchSize;
  };
  // warm-up both engines (JIT tiers), then alternate them so that machine noise hits both alike
  timeRate(wasmBatch, seconds / 2);
  timeRate(refBatch, seconds / 2);
  const wasm: number[] = [];
  const ref: number[] = [];
  for (let r = 0; r < repetitions; r++) {
    const w = timeRate(wasmBatch, seconds) * opsPerEpisode;
    const t = timeRate(refBatch, seconds) * opsPerEpisode;
    wasm.push(w);
    ref.push(t);
  }
  prepared.dispose();
  const wasmRate = rateOf(wasm);
  const refRate = rateOf(ref);
  return {
    suite: 'replay',
    workload: { stages: P, microBatches: M, schedule: '1f1b-split', cost, comm, noise, opsPerEpisode, episodesPerBatch: batch, seconds, repetitions },
    wasm: { opEventsPerSec: wasmRate.median, episodesPerSec: wasmRate.median / opsPerEpisode, rate: wasmRate },
    reference: { opEventsPerSec: refRate.median, episodesPerSec: refRate.median / opsPerEpisode, rate: refRate },
    ratio: wasmRate.median / refRate.median,
    machine: machineInfo(),
  };
}
