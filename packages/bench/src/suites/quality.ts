// Schedule quality: our bubble rates next to the zero-bubble reference's published ones (sail-sg, branch arxiv,
// efficiency.py iclr_bubble_rates), then mean makespans under noise on common random numbers, paired against zb-h1.
import { readFileSync } from 'node:fs';
import { createSimulator, pairedDifference, resolveProblem, type Problem, type Simulator } from '@pprl/core-wasm';
import { findSchedule } from '@pprl/schedulers';
import { machineInfo, type MachineInfo } from '../machine.js';

export interface QualityBenchOptions {
  quick?: boolean;
  /** Noisy episodes per schedule and noise level; default 200, 20 with quick. */
  episodes?: number;
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
  chunks: number;
  rows: QualityRow[];
  noisy: { cv: number; episodes: number; rows: NoisyRow[] }[];
}

export interface QualityBenchResult {
  suite: 'quality';
  workload: { data: string; /** Where the upstream figures come from and how they were produced. */ source: string; cases: number; noise: number[]; episodes: number; seed: number };
  cases: QualityCaseResult[];
  machine: MachineInfo;
}

export function loadUpstreamCases(): { source: string; cases: UpstreamCase[] } {
  return JSON.parse(readFileSync(new URL('../../data/zb-upstream-bubbles.json', import.meta.url), 'utf8')) as { source: string; cases: UpstreamCase[] };
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
    { id: 'zb-auto-1p', problem: resolveProblem({ ...base, cost: { F, B, W }, memory: memory(c.memory.limit1p) }), build: build('zb-auto'), timedBy: 'span' },
    { id: 'zb-auto-2p', problem: resolveProblem({ ...base, cost: { F, B, W }, memory: memory(c.memory.limit2p) }), build: build('zb-auto'), timedBy: 'span' },
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

export async function runQualityBench(opts: QualityBenchOptions = {}): Promise<QualityBenchResult> {
  const { source, cases } = loadUpstreamCases();
  const noiseLevels = [0.1, 0.2, 0.3];
  const episodes = opts.episodes ?? (opts.quick ? 20 : 200);
  const seed = 1;
  const sim = await createSimulator();
  const results: QualityCaseResult[] = cases.map((c) => {
    const rows = qualityRows(sim, c);
    const noisy = noiseLevels.map((cv) => {
      // the schedules are built on the noiseless problem (generators see costs, not draws) and replayed under noise
      const built = variantsOf(c).map((v) => v.build(v.problem));
      const makespans = variantsOf(c, { cv, seed }).map((v, i) => sim.replay(v.problem, built[i]!, { episodes }).makespan);
      const h1 = makespans[QUALITY_SCHEDULES.findIndex((s) => s.id === 'zb-h1')]!;
      const noisyRows: NoisyRow[] = QUALITY_SCHEDULES.map(({ id }, i) => {
        const m = makespans[i]!;
        const d = pairedDifference(m, h1);
        return {
          schedule: id,
          meanMakespan: m.reduce((s, x) => s + x, 0) / m.length,
          vsZbH1: { mean: d.mean, ci95: d.ci95 },
          commonRandomNumbers: id !== 'interleaved-1f1b',
        };
      });
      return { cv, episodes, rows: noisyRows };
    });
    return { stages: c.stages, microBatches: c.microBatches, cost: c.cost, chunks: c.model.layers / c.stages, rows, noisy };
  });
  return {
    suite: 'quality',
    workload: { data: 'data/zb-upstream-bubbles.json', source, cases: cases.length, noise: noiseLevels, episodes, seed },
    cases: results,
    machine: machineInfo(),
  };
}
