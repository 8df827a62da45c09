// The harness's arithmetic and the report's shape; speed figures themselves live in BENCHMARKS.md, not in tests.
import { describe, expect, it } from 'vitest';
import { rateOf, runReplayBench, timeRate } from '../src/index.js';

describe('measurement', () => {
  it('reports the median with min and max, keeping the samples in order', () => {
    expect(rateOf([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, samples: [5, 1, 3] });
    expect(rateOf([4, 1, 3, 2]).median).toBe(2.5);
  });

  it('counts units per second over at least the requested time', () => {
    let calls = 0;
    const rate = timeRate(() => {
      calls++;
      return 10;
    }, 0.01);
    expect(calls).toBeGreaterThan(0);
    expect(rate).toBeGreaterThan(0);
  });
});

describe('replay suite', () => {
  it('runs both engines on the issue workload and reports their ratio', async () => {
    const r = await runReplayBench({ quick: true });
    expect(r.workload).toMatchObject({
      stages: 8,
      microBatches: 32,
      cost: { F: 1, B: 1.2, W: 0.9 },
      comm: 0.1,
      noise: 0.2,
      opsPerEpisode: 8 * 32 * 3,
    });
    expect(r.wasm.rate.samples).toHaveLength(r.workload.repetitions);
    expect(r.ratio).toBeCloseTo(r.wasm.opEventsPerSec / r.reference.opEventsPerSec, 12);
    expect(r.machine.cores).toBeGreaterThan(0);
  });
});
