// Rates measured as repetitions of timed batches; figures are medians with min and max.

export interface Rate {
  median: number;
  min: number;
  max: number;
  /** Every repetition's rate, in measurement order. */
  samples: number[];
}

export function rateOf(samples: number[]): Rate {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, samples };
}

/**
 * Runs `batch` (which returns how many units it processed) repeatedly for about `seconds` and returns units per second.
 */
export function timeRate(batch: () => number, seconds: number): number {
  let units = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    units += batch();
    elapsed = (performance.now() - start) / 1000;
  } while (elapsed < seconds);
  return units / elapsed;
}

/** A unit of work to time (`run` returns how many units it processed) and how to free what it holds. */
export interface TimedBatch {
  run: () => number;
  dispose: () => void;
}
