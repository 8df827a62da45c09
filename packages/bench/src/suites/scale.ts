// Replay scaling: seconds per episode of the WebAssembly engine as P and M grow, fitted to time ~ ops^k.
// A replay visits every op once, so k should be close to 1 (linear in the number of ops).
import { compileSchedule, createSimulator, resolveProblem } from '@pprl/core-wasm';
import { oneFOneBSplit } from '@pprl/schedulers';
import { machineInfo, type MachineInfo } from '../machine.js';
import { rateOf, timeRate, type Rate } from '../measure.js';

export interface ScaleBenchOptions {
  quick?: boolean;
}

export interface ScalePoint {
  stages: number;
  microBatches: number;
  opsPerEpisode: number;
  /** Median seconds per episode. */
  secondsPerEpisode: number;
  /** Episodes per second over the repetitions. */
  rate: Rate;
}

export interface PowerLawFit {
  /** Intercept of log(y) = a + k log(x). */
  a: number;
  /** Exponent k. */
  k: number;
  /** Coefficient of determination of the log-log fit. */
  r2: number;
}

export interface ScaleBenchResult {
  suite: 'scale';
  /** The options that reproduce this result (`pprl bench scale` flags). */
  options: { quick: boolean };
  workload: {
    schedule: string;
    cost: { F: number; B: number; W: number };
    comm: number;
    noise: number;
    seconds: number;
    repetitions: number;
  };
  /** Fit of log(seconds per episode) = a + k log(ops per episode) over the grid. */
  fit: PowerLawFit;
  points: ScalePoint[];
  machine: MachineInfo;
}

/** Least squares of log(y) = a + k log(x); needs two distinct positive x. */
export function fitPowerLaw(points: { x: number; y: number }[]): PowerLawFit {
  const n = points.length;
  const lx = points.map((p) => Math.log(p.x));
  const ly = points.map((p) => Math.log(p.y));
  const mx = lx.reduce((s, v) => s + v, 0) / n;
  const my = ly.reduce((s, v) => s + v, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (lx[i]! - mx) ** 2;
    sxy += (lx[i]! - mx) * (ly[i]! - my);
    syy += (ly[i]! - my) ** 2;
  }
  if (!(sxx > 0)) throw new RangeError('a power-law fit needs at least two distinct x values');
  const k = sxy / sxx;
  return { a: my - k * mx, k, r2: syy > 0 ? (sxy * sxy) / (sxx * syy) : 1 };
}

/** (P, M) grid points: the full one spans P 4..64 and M 8..512, so ops per episode span about three decades. */
export function scaleGrid(quick: boolean): [number, number][] {
  if (quick)
    return [
      [4, 8],
      [8, 32],
      [16, 64],
    ];
  return [
    [4, 8],
    [4, 64],
    [8, 32],
    [8, 256],
    [16, 64],
    [16, 512],
    [32, 128],
    [32, 512],
    [64, 64],
    [64, 512],
  ];
}

export async function runScaleBench(opts: ScaleBenchOptions = {}): Promise<ScaleBenchResult> {
  const quick = opts.quick ?? false;
  const cost = { F: 1, B: 1.2, W: 0.9 };
  const comm = 0.1;
  const noise = 0.2;
  const seconds = quick ? 0.05 : 0.4;
  const repetitions = quick ? 2 : 5;
  const sim = await createSimulator();
  const points: ScalePoint[] = [];
  for (const [P, M] of scaleGrid(quick)) {
    const problem = resolveProblem({
      stages: P,
      microBatches: M,
      cost,
      comm: { time: comm },
      noise: { cv: noise, seed: 1 },
    });
    const schedule = compileSchedule(problem, oneFOneBSplit(problem));
    const opsPerEpisode = schedule.ops.length;
    // batches of about 20k op events, so that the per-call overhead is the same small share at every size
    const batch = Math.max(1, Math.round(20_000 / opsPerEpisode));
    const prepared = sim.prepare(problem, schedule, batch);
    let nextEpisode = 0;
    const run = () => {
      prepared.run(nextEpisode, batch);
      nextEpisode += batch;
      return batch;
    };
    timeRate(run, seconds / 2);
    const samples: number[] = [];
    for (let r = 0; r < repetitions; r++) samples.push(timeRate(run, seconds));
    prepared.dispose();
    const rate = rateOf(samples);
    points.push({ stages: P, microBatches: M, opsPerEpisode, secondsPerEpisode: 1 / rate.median, rate });
  }
  return {
    suite: 'scale',
    options: { quick },
    workload: { schedule: '1f1b-split', cost, comm, noise, seconds, repetitions },
    fit: fitPowerLaw(points.map((p) => ({ x: p.opsPerEpisode, y: p.secondsPerEpisode }))),
    points,
    machine: machineInfo(),
  };
}
