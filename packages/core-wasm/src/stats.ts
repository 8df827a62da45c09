// Summary statistics of replay results (docs/SEMANTICS.md section 3 metrics, section 5 JSON fields).
import type { Problem } from './problem.js';
import type { ReplayResult } from './result.js';

export interface Summary {
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
}

/** Quantile with linear interpolation between order statistics (numpy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
  return {
    mean: sum / sorted.length,
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
  };
}

/** Per episode: 1 - (sum of busy time) / (P * denominator[e]). */
export function bubbleRates(result: ReplayResult, P: number, denominator: Float64Array): Float64Array {
  const out = new Float64Array(result.episodes);
  for (let e = 0; e < result.episodes; e++) {
    let busy = 0;
    for (let d = 0; d < P; d++) busy += result.busy[e * P + d]!;
    out[e] = 1 - busy / (P * denominator[e]!);
  }
  return out;
}

export interface ReplaySummary {
  makespan: Summary;
  span: Summary;
  bubbleRate: { mean: number };
  spanBubbleRate: { mean: number };
  peakMemory: number[];
}

export function summarizeReplay(problem: Problem, result: ReplayResult): ReplaySummary {
  const mean = (a: Float64Array) => a.reduce((s, x) => s + x, 0) / a.length;
  return {
    makespan: summarize(result.makespan),
    span: summarize(result.span),
    bubbleRate: { mean: mean(bubbleRates(result, problem.stages, result.makespan)) },
    spanBubbleRate: { mean: mean(bubbleRates(result, problem.stages, result.span)) },
    peakMemory: Array.from(result.peakMemory),
  };
}

export interface PairedDifference {
  /** Mean of a[e] - b[e] over paired episodes. */
  mean: number;
  /** 95% confidence interval of that mean (normal approximation, n >= 30 recommended). */
  ci95: [number, number];
  n: number;
}

/** Mean of a sample with its 95% confidence interval (normal approximation; Infinity half-width for n = 1). */
export function meanWithCi95(values: ArrayLike<number>): PairedDifference {
  const n = values.length;
  if (n === 0) throw new RangeError('a mean needs at least one value');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (values[i]! - mean) ** 2;
  const half = n > 1 ? 1.959963984540054 * Math.sqrt(sq / (n - 1) / n) : Infinity;
  return { mean, ci95: [mean - half, mean + half], n };
}

/** Paired difference a - b on common random numbers (episode e of both met the same noise). */
export function pairedDifference(a: ArrayLike<number>, b: ArrayLike<number>): PairedDifference {
  const n = a.length;
  if (n !== b.length || n === 0)
    throw new RangeError(`paired samples need equal, non-zero lengths (got ${a.length} and ${b.length})`);
  return meanWithCi95(Float64Array.from({ length: n }, (_, i) => a[i]! - b[i]!));
}
