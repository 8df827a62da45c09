// A sweep: the named schedulers on one problem at each value of one factor (noise cv, or a scale of the
// communication time), on common random numbers, summarized per scheduler and value. `pprl compare` and the demo
// report are made of these.
import {
  ConfigError,
  pairedDifference,
  resolveProblem,
  summarize,
  withCommScale,
  type PairedDifference,
  type Problem,
  type Summary,
  type Timeline,
  quoteInput,
} from '@pprl/core-wasm';
import type { Contender, ContenderRun } from '../contenders.js';

export const SWEEP_FACTORS = ['noise', 'comm'] as const;
export type SweepFactor = (typeof SWEEP_FACTORS)[number];

/** Allowed values of each factor: noise cv as the problem schema allows; comm as a multiple of the base time. */
export const SWEEP_RANGE: Record<SweepFactor, readonly [number, number]> = { noise: [0, 3], comm: [0, 1000] };
const MAX_SWEEP_VALUES = 50;

export interface Sweep {
  factor: SweepFactor;
  /** Ascending, distinct. */
  values: number[];
}

/**
 * Parses `noise=0,0.1,0.2` or `comm=0.5,1,2`. Without --sweep the problem runs once at its own noise (a sweep
 * of one value). Errors name the --sweep flag.
 */
export function parseSweep(text: string | undefined, base: Problem): Sweep {
  if (text === undefined) return { factor: 'noise', values: [base.noise.cv] };
  const match = /^\s*([a-z-]+)\s*=(.*)$/i.exec(text);
  if (!match)
    throw new ConfigError(
      '--sweep',
      `expected factor=v1,v2,... with factor ${SWEEP_FACTORS.join(' or ')} (got ${quoteInput(text)})`,
    );
  const factor = match[1]!.toLowerCase();
  if (!(SWEEP_FACTORS as readonly string[]).includes(factor))
    throw new ConfigError('--sweep', `unknown factor "${match[1]}"; sweep one of: ${SWEEP_FACTORS.join(', ')}`);
  const f = factor as SweepFactor;
  const parts = match[2]!.split(',').map((s) => s.trim());
  const values = parts.map(Number);
  if (parts.some((p) => p === '') || values.some((v) => !Number.isFinite(v)))
    throw new ConfigError(
      '--sweep',
      `${f}: expected a comma-separated list of numbers (got ${quoteInput(match[2]!.trim())})`,
    );
  const [lo, hi] = SWEEP_RANGE[f];
  const bad = values.find((v) => v < lo || v > hi);
  if (bad !== undefined) throw new ConfigError('--sweep', `${f} values must be in [${lo}, ${hi}] (got ${bad})`);
  if (values.length > MAX_SWEEP_VALUES)
    throw new ConfigError('--sweep', `at most ${MAX_SWEEP_VALUES} values (got ${values.length})`);
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.some((v, i) => i > 0 && v === sorted[i - 1]))
    throw new ConfigError('--sweep', `${f} values must be distinct (got ${quoteInput(match[2]!.trim())})`);
  if (f === 'comm' && !Array.from(base.comm).some((t) => t > 0))
    throw new ConfigError(
      '--sweep',
      'comm scales the base communication time, which is 0 for this problem; set --comm or --profile',
    );
  return { factor: f, values: sorted };
}

/**
 * The problem at one sweep value. Noise sets the cv of compute and, unless --comm-noise fixed it, of
 * communication; comm multiplies every transfer time.
 */
export function sweepVariant(base: Problem, sweep: Sweep, value: number): Problem {
  if (sweep.factor === 'noise') return resolveProblem({ ...base.config, noise: { ...base.config.noise, cv: value } });
  return withCommScale(base, value);
}

/** How a column of sweep values reads, e.g. "noise cv 0.2" or "comm x4". */
export function sweepLabel(factor: SweepFactor, value: number): string {
  return factor === 'noise' ? `noise cv ${value}` : `comm x${value}`;
}

/** A scheduler by name, built on a problem (the sweep variant of the base problem). */
export interface ContenderSpec {
  name: string;
  make(problem: Problem): Contender;
}

export interface MeanWithCi {
  mean: number;
  ci95: [number, number];
}

export interface PointResult {
  /** The sweep value (noise cv, or comm multiple). */
  value: number;
  noise: number;
  /** Mean transfer time between adjacent stages at this point. */
  comm: number;
  makespan: Summary & { ci95: [number, number] };
  /** M / T: micro-batches per time unit over back-to-back iterations (M / mean makespan); CI from the makespan's. */
  throughput: MeanWithCi;
  /** Mean over episodes of 1 - busy / (P T). */
  bubbleRate: { mean: number };
  peakMemory: number[];
  /**
   * This scheduler minus the baseline (SweepResult.baseline), per paired episode: negative = faster than the
   * baseline; null for the baseline itself.
   */
  diffToBaseline: PairedDifference | null;
  /** The same against each further baseline (SweepResult.baselines after the first), when there are any. */
  diffToOtherBaselines?: Record<string, PairedDifference | null>;
  /** How far from optimal, when measured (see room.ts): mean makespan over mean bound or oracle, minus 1. */
  gap?: PointGap;
}

export interface PointGap {
  /** Over all episodes: mean(makespan) / mean(lower bound) - 1. */
  toLowerBound: number;
  /** Over episodes 0..oracleEpisodes-1: mean(makespan) / mean(oracle) - 1 (null when the oracle was not run). */
  toOracle: number | null;
  oracleEpisodes: number;
}

export interface SchedulerResult {
  name: string;
  kind: 'static' | 'heuristic' | 'learned';
  chunks: number;
  placement: string;
  /**
   * The memory limit per device this scheduler ran with, in the problem's memory units (those of peakMemory);
   * null without a limit. Each scheduler has its own: a contender may run a variant of the problem.
   */
  memLimit: number | null;
  /** Per device, the largest over all sweep values and episodes. */
  peakMemory: number[];
  points: PointResult[];
}

export interface SweepResult {
  factor: SweepFactor;
  values: number[];
  episodes: number;
  /** The scheduler of PointResult.diffToBaseline: baselines[0]. */
  baseline: string;
  /** Every scheduler the others are differenced against, in order; the first is `baseline`. */
  baselines: string[];
  schedulers: SchedulerResult[];
}

export interface GanttChart {
  name: string;
  problem: Problem;
  timeline: Timeline;
}

export interface SweepRun {
  result: SweepResult;
  /** Raw per-episode results, [scheduler][value index], for callers that need more than the summary. */
  runs: Map<string, ContenderRun[]>;
  /** The problem each scheduler ran at each value (V schedules run the model split into chunks). */
  problems: Map<string, Problem[]>;
  /** Episode 0 of every scheduler at the value `ganttAt`, when asked. */
  gantts: GanttChart[];
}

export interface SweepOptions {
  base: Problem;
  sweep: Sweep;
  specs: ContenderSpec[];
  episodes: number;
  /**
   * Names of the specs every scheduler is paired against (PointResult.diffToBaseline for the first,
   * diffToOtherBaselines for the rest); default the first spec.
   */
  baselines?: string[];
  /** Index of the sweep value whose episode 0 is drawn as a Gantt chart per scheduler. */
  ganttAt?: number;
  /** Called after each unit of work (one scheduler at one value) with the scheduler's name. */
  onProgress?: (next: string) => void;
}

const Z95 = 1.959963984540054;

function meanCi(values: Float64Array): [number, number] {
  const n = values.length;
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  const half = n > 1 ? Z95 * Math.sqrt(sq / (n - 1) / n) : 0;
  return [mean - half, mean + half];
}

function summarizePoint(value: number, problem: Problem, run: ContenderRun): PointResult {
  const K = run.makespan.length;
  const summary = summarize(run.makespan);
  const ci = meanCi(run.makespan);
  const M = problem.microBatches;
  let bubble = 0;
  for (let e = 0; e < K; e++) bubble += 1 - run.busy[e]! / (problem.stages * run.makespan[e]!);
  return {
    value,
    noise: problem.noise.cv,
    comm: meanTransfer(problem),
    makespan: { ...summary, ci95: ci },
    throughput: { mean: M / summary.mean, ci95: [M / ci[1], M / ci[0]] },
    bubbleRate: { mean: bubble / K },
    peakMemory: run.peakMemory,
    diffToBaseline: null,
  };
}

/**
 * The paired difference of a point to one of its sweep's baselines, wherever it is kept; null for the baseline
 * itself. Tables, charts and JSON read it from here so that they all show the same numbers.
 */
export function diffTo(r: Pick<SweepResult, 'baseline'>, p: PointResult, baseline: string): PairedDifference | null {
  if (baseline === r.baseline) return p.diffToBaseline;
  const d = p.diffToOtherBaselines?.[baseline];
  if (d === undefined) throw new RangeError(`${baseline} is not a baseline of this sweep`);
  return d;
}

/** Mean transfer time over the boundaries between model stages (the last entry is unused). */
function meanTransfer(problem: Problem): number {
  const S = problem.numStages;
  if (S < 2) return 0;
  let sum = 0;
  for (let s = 0; s < S - 1; s++) sum += problem.comm[s]!;
  return sum / (S - 1);
}

/** Runs every scheduler at every sweep value for episodes 0..K-1 (common random numbers). */
export async function runSweep(o: SweepOptions): Promise<SweepRun> {
  const variants = o.sweep.values.map((v) => sweepVariant(o.base, o.sweep, v));
  const runs = new Map<string, ContenderRun[]>();
  const problems = new Map<string, Problem[]>();
  const schedulers: SchedulerResult[] = [];
  const gantts: GanttChart[] = [];
  const baselines = o.baselines ?? [o.specs[0]!.name];
  const missing = baselines.find((b) => !o.specs.some((s) => s.name === b));
  if (baselines.length === 0 || missing !== undefined)
    throw new RangeError(`baseline ${missing ?? '(none)'} is not one of the schedulers`);
  for (const spec of o.specs) {
    const perValue: ContenderRun[] = [];
    const ran: Problem[] = [];
    const points: PointResult[] = [];
    let first: Contender | undefined;
    for (let i = 0; i < variants.length; i++) {
      // built per value: a planner such as zb-auto plans for the comm time it is given
      const contender = spec.make(variants[i]!);
      first ??= contender;
      const run = await contender.run(undefined, o.episodes);
      perValue.push(run);
      ran.push(contender.problem);
      points.push(summarizePoint(o.sweep.values[i]!, contender.problem, run));
      if (i === o.ganttAt)
        gantts.push({ name: spec.name, problem: contender.problem, timeline: await contender.timeline(undefined, 0) });
      o.onProgress?.(spec.name);
    }
    runs.set(spec.name, perValue);
    problems.set(spec.name, ran);
    const peak = perValue[0]!.peakMemory.map((_, d) => Math.max(...perValue.map((r) => r.peakMemory[d]!)));
    // the sweep varies noise or communication, never the limit: one per scheduler
    const limit = first!.problem.memLimit;
    schedulers.push({
      name: spec.name,
      kind: first!.kind,
      chunks: first!.problem.chunks,
      placement: first!.problem.placement,
      memLimit: Number.isFinite(limit) ? limit : null,
      peakMemory: peak,
      points,
    });
  }
  // once every scheduler has run, so that a baseline may come anywhere in the list
  for (const sch of schedulers)
    sch.points.forEach((p, i) => {
      const own = runs.get(sch.name)![i]!.makespan;
      const paired = (b: string) => (b === sch.name ? null : pairedDifference(own, runs.get(b)![i]!.makespan));
      p.diffToBaseline = paired(baselines[0]!);
      if (baselines.length > 1)
        p.diffToOtherBaselines = Object.fromEntries(baselines.slice(1).map((b) => [b, paired(b)]));
    });
  return {
    result: {
      factor: o.sweep.factor,
      values: o.sweep.values,
      episodes: o.episodes,
      baseline: baselines[0]!,
      baselines,
      schedulers,
    },
    runs,
    problems,
    gantts,
  };
}
