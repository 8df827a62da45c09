// Schedule quality: our bubble rates next to the zero-bubble reference's published ones (sail-sg, branch arxiv,
// efficiency.py iclr_bubble_rates), then mean makespans under noise on common random numbers, paired against zb-h1.
// The work is a list of independent jobs, so worker threads can share it out without changing any result.
import { readFileSync } from 'node:fs';
import { createSimulator, pairedDifference, resolveProblem, type Problem, type Simulator } from '@pprl/core-wasm';
import { findSchedule } from '@pprl/schedulers';
import { machineInfo, type MachineInfo } from '../machine.js';
import { rateOf } from '../measure.js';
import { checkThreads, cpuMeter, WorkerPool, type ThreadTiming } from '../threads.js';

export interface QualityBenchOptions {
  quick?: boolean;
  /** Noisy episodes per schedule and noise level; default 200, 20 with quick. */
  episodes?: number;
  /** Split the work across worker threads and time it at 1..threads (the results do not depend on the split). */
  threads?: number;
}

/** One case of data/zb-upstream-bubbles.json (profiled microseconds per stage, memory units of the paper). */
export interface UpstreamCase {
  stages: number;
  microBatches: number;
  cost: { F: number; B: number; W: number; comm: number };
  model: { hidden: number; heads: number; layers: number; seq: number };
  memory: { F: number; B: number; W: number; limit1p: number; limit2p: number };
  upstreamBubbleRate: Record<string, number>;
}

/** The schedules compared, with the upstream column each one is set against. */
export const QUALITY_SCHEDULES = [
  { id: '1f1b', upstream: '1F1B' },
  { id: 'zb-h1', upstream: 'ZB-H1' },
  { id: 'zb-h2', upstream: 'ZB-H2' },
  { id: 'zb-auto-1p', upstream: 'ZB-1p(greedy, limit p*memF)' },
  { id: 'zb-auto-2p', upstream: 'ZB-2p(greedy, limit 2p*memF)' },
  { id: 'interleaved-1f1b', upstream: '1F1B-interleaved(layers/p chunks)' },
] as const;
export type QualityScheduleId = (typeof QUALITY_SCHEDULES)[number]['id'];

export interface QualityRow {
  schedule: QualityScheduleId;
  /** Bubble rate (T - M(F+B+W)) / T as upstream; T is the span for zb-h2 and zb-auto, the makespan otherwise. */
  ours: number;
  upstream: number;
  /** ours - upstream. */
  difference: number;
  timedBy: 'makespan' | 'span';
}

export interface NoisyRow {
  schedule: QualityScheduleId;
  meanMakespan: number;
  /** Episode by episode, this schedule's makespan minus zb-h1's, with its 95% confidence interval. */
  vsZbH1: { mean: number; ci95: [number, number] };
  /**
   * False for interleaved-1f1b: its model stages (P*V) differ, so its noise draws are not those of the others and
   * the pairing is by episode only.
   */
  commonRandomNumbers: boolean;
}

export interface QualityCaseResult {
  stages: number;
  microBatches: number;
  cost: UpstreamCase['cost'];
  /** The profiled model (hidden size, heads, layers, sequence length). */
  model?: UpstreamCase['model'];
  chunks: number;
  rows: QualityRow[];
  noisy: { cv: number; episodes: number; rows: NoisyRow[] }[];
}

export interface QualityBenchResult {
  suite: 'quality';
  /** The options that reproduce this result (`pprl bench quality` flags). */
  options: { quick: boolean; episodes: number; threads?: number };
  workload: {
    data: string /** Where the upstream figures come from and how they were produced. */;
    source: string;
    cases: number;
    noise: number[];
    episodes: number;
    seed: number;
  };
  cases: QualityCaseResult[];
  /**
   * Wall time of the whole suite's jobs (a case's rows, or its makespans at one noise level) split across 1..N
   * worker threads; the results were identical at every thread count.
   */
  threads?: { jobs: number; identicalResults: true; timings: ThreadTiming[] };
  machine: MachineInfo;
}

export function loadUpstreamCases(): { source: string; cases: UpstreamCase[] } {
  return JSON.parse(readFileSync(new URL('../../data/zb-upstream-bubbles.json', import.meta.url), 'utf8')) as {
    source: string;
    cases: UpstreamCase[];
  };
}

interface Variant {
  id: QualityScheduleId;
  problem: Problem;
  build: (problem: Problem) => ReturnType<ReturnType<typeof findSchedule>['build']>;
  timedBy: 'makespan' | 'span';
}

/** The problems of one case (at a noise level): one per memory limit, and the chunked one of interleaved 1F1B. */
function variantsOf(c: UpstreamCase, noise?: { cv: number; seed: number }): Variant[] {
  const { F, B, W, comm } = c.cost;
  const base = { stages: c.stages, microBatches: c.microBatches, comm: { time: comm }, ...(noise ? { noise } : {}) };
  const memory = (limit: number | null) => ({ F: c.memory.F, B: c.memory.B, W: c.memory.W, limit });
  const plain = resolveProblem({ ...base, cost: { F, B, W }, memory: memory(null) });
  const V = c.model.layers / c.stages;
  const chunked = resolveProblem({ ...base, chunks: V, cost: { F: F / V, B: B / V, W: W / V } });
  const build = (name: string) => findSchedule(name).build;
  return [
    { id: '1f1b', problem: plain, build: build('1f1b'), timedBy: 'makespan' },
    { id: 'zb-h1', problem: plain, build: build('zb-h1'), timedBy: 'makespan' },
    { id: 'zb-h2', problem: plain, build: build('zb-h2'), timedBy: 'span' },
    {
      id: 'zb-auto-1p',
      problem: resolveProblem({ ...base, cost: { F, B, W }, memory: memory(c.memory.limit1p) }),
      build: build('zb-auto'),
      timedBy: 'span',
    },
    {
      id: 'zb-auto-2p',
      problem: resolveProblem({ ...base, cost: { F, B, W }, memory: memory(c.memory.limit2p) }),
      build: build('zb-auto'),
      timedBy: 'span',
    },
    { id: 'interleaved-1f1b', problem: chunked, build: build('interleaved-1f1b'), timedBy: 'makespan' },
  ];
}

function upstreamKey(id: QualityScheduleId): string {
  return QUALITY_SCHEDULES.find((s) => s.id === id)!.upstream;
}

/** Our deterministic bubble rates for one case, each next to upstream's. */
export function qualityRows(sim: Simulator, c: UpstreamCase): QualityRow[] {
  const ideal = c.microBatches * (c.cost.F + c.cost.B + c.cost.W);
  return variantsOf(c).map(({ id, problem, build, timedBy }) => {
    const r = sim.replay(problem, build(problem), { episodes: 1 });
    const T = timedBy === 'span' ? r.span[0]! : r.makespan[0]!;
    const ours = (T - ideal) / T;
    const upstream = c.upstreamBubbleRate[upstreamKey(id)]!;
    return { schedule: id, ours, upstream, difference: ours - upstream, timedBy };
  });
}

/** One unit of the suite's work: a case's deterministic rows (cv null) or its makespans at one noise level. */
export interface QualityJob {
  caseIndex: number;
  cv: number | null;
  episodes: number;
  seed: number;
}

export type QualityJobResult = { rows: QualityRow[] } | { noisy: QualityCaseResult['noisy'][number] };

/** Mean makespans of every schedule of case `c` at noise `cv`, each paired episode by episode against zb-h1. */
export function qualityNoisy(
  sim: Simulator,
  c: UpstreamCase,
  cv: number,
  episodes: number,
  seed: number,
): QualityCaseResult['noisy'][number] {
  // the schedules are built on the noiseless problem (generators see costs, not draws) and replayed under noise
  const built = variantsOf(c).map((v) => v.build(v.problem));
  const makespans = variantsOf(c, { cv, seed }).map((v, i) => sim.replay(v.problem, built[i]!, { episodes }).makespan);
  const h1 = makespans[QUALITY_SCHEDULES.findIndex((s) => s.id === 'zb-h1')]!;
  const rows: NoisyRow[] = QUALITY_SCHEDULES.map(({ id }, i) => {
    const m = makespans[i]!;
    const d = pairedDifference(m, h1);
    return {
      schedule: id,
      meanMakespan: m.reduce((s, x) => s + x, 0) / m.length,
      vsZbH1: { mean: d.mean, ci95: d.ci95 },
      commonRandomNumbers: id !== 'interleaved-1f1b',
    };
  });
  return { cv, episodes, rows };
}

/** Runs one job; a pure function of the job (and the data file), so any split across threads gives the same results. */
export function runQualityJob(sim: Simulator, cases: readonly UpstreamCase[], job: QualityJob): QualityJobResult {
  const c = cases[job.caseIndex]!;
  return job.cv === null
    ? { rows: qualityRows(sim, c) }
    : { noisy: qualityNoisy(sim, c, job.cv, job.episodes, job.seed) };
}

function qualityJobs(cases: number, noiseLevels: readonly number[], episodes: number, seed: number): QualityJob[] {
  return Array.from({ length: cases }, (_, caseIndex) =>
    [null, ...noiseLevels].map((cv) => ({ caseIndex, cv, episodes, seed })),
  ).flat();
}

/** The cases from the jobs' results (in job order, as qualityJobs lists them). */
function assemble(
  cases: readonly UpstreamCase[],
  noiseLevels: readonly number[],
  results: readonly QualityJobResult[],
): QualityCaseResult[] {
  const perCase = noiseLevels.length + 1;
  return cases.map((c, i) => {
    const mine = results.slice(i * perCase, (i + 1) * perCase);
    const rows = mine.flatMap((r) => ('rows' in r ? r.rows : []));
    const noisy = mine.flatMap((r) => ('noisy' in r ? [r.noisy] : []));
    return {
      stages: c.stages,
      microBatches: c.microBatches,
      cost: c.cost,
      model: c.model,
      chunks: c.model.layers / c.stages,
      rows,
      noisy,
    };
  });
}

export async function runQualityBench(opts: QualityBenchOptions = {}): Promise<QualityBenchResult> {
  const quick = opts.quick ?? false;
  if (opts.threads !== undefined) checkThreads(opts.threads);
  const { source, cases } = loadUpstreamCases();
  const noiseLevels = [0.1, 0.2, 0.3];
  const episodes = opts.episodes ?? (quick ? 20 : 200);
  const seed = 1;
  const jobs = qualityJobs(cases.length, noiseLevels, episodes, seed);
  let results: QualityJobResult[];
  let threads: QualityBenchResult['threads'];
  if (opts.threads === undefined) {
    const sim = await createSimulator();
    results = jobs.map((job) => runQualityJob(sim, cases, job));
  } else {
    ({ results, threads } = await timeQualityThreads(jobs, opts.threads, quick ? 2 : 3));
  }
  return {
    suite: 'quality',
    options: { quick, episodes, ...(opts.threads !== undefined ? { threads: opts.threads } : {}) },
    workload: {
      data: 'data/zb-upstream-bubbles.json',
      source,
      cases: cases.length,
      noise: noiseLevels,
      episodes,
      seed,
    },
    cases: assemble(cases, noiseLevels, results),
    ...(threads ? { threads } : {}),
    machine: machineInfo(),
  };
}

/**
 * Wall time of every job split across 1..maxThreads workers (started and warmed up beforehand), repetitions
 * alternating the thread counts; throws if any split changes a result.
 */
async function timeQualityThreads(
  jobs: QualityJob[],
  maxThreads: number,
  repetitions: number,
): Promise<{ results: QualityJobResult[]; threads: NonNullable<QualityBenchResult['threads']> }> {
  const pool = WorkerPool.start(maxThreads);
  try {
    const results = await pool.run(jobs, maxThreads);
    const expected = JSON.stringify(results);
    const samples: number[][] = Array.from({ length: maxThreads }, () => []);
    const shares: number[][] = Array.from({ length: maxThreads }, () => []);
    for (let r = 0; r < repetitions; r++)
      for (let t = 1; t <= maxThreads; t++) {
        const start = performance.now();
        const share = cpuMeter(t);
        const out = await pool.run(jobs, t);
        shares[t - 1]!.push(share());
        samples[t - 1]!.push((performance.now() - start) / 1000);
        if (JSON.stringify(out) !== expected)
          throw new Error(`quality results differ between ${maxThreads} and ${t} threads`);
      }
    const times = samples.map((s) => rateOf(s));
    const base = times[0]!.median;
    const timings = times.map((seconds, i) => ({
      threads: i + 1,
      seconds,
      speedup: base / seconds.median,
      cpuShare: rateOf(shares[i]!).median,
    }));
    return { results, threads: { jobs: jobs.length, identicalResults: true, timings } };
  } finally {
    await pool.close();
  }
}
