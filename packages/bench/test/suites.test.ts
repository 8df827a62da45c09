// The quality and scale suites: upstream figures reproduced, the log-log fit exact on synthetic data, report shapes.
import { describe, expect, it } from 'vitest';
import { createSimulator } from '@pprl/core-wasm';
import { fitPowerLaw, loadUpstreamCases, qualityRows, runQualityBench, runScaleBench } from '../src/index.js';

describe('quality suite', () => {
  it('reproduces the zero-bubble reference: 1F1B, H1, H2 to 5e-5, zb-auto no higher than upstream + 5e-4', async () => {
    const sim = await createSimulator();
    const { cases } = loadUpstreamCases();
    expect(cases).toHaveLength(6);
    for (const c of cases) {
      const rows = Object.fromEntries(qualityRows(sim, c).map((r) => [r.schedule, r]));
      for (const id of ['1f1b', 'zb-h1', 'zb-h2'] as const) expect(Math.abs(rows[id]!.difference)).toBeLessThan(5e-5);
      for (const id of ['zb-auto-1p', 'zb-auto-2p'] as const) expect(rows[id]!.difference).toBeLessThanOrEqual(5e-4);
      // interleaved: upstream's timing lets most micro-batches cross chunks for free (see schedulers' tests)
      expect(rows['interleaved-1f1b']!.difference).toBeGreaterThan(5e-4);
      expect(rows['interleaved-1f1b']!.difference).toBeLessThan(4e-3);
      expect(rows['zb-h2']!.timedBy).toBe('span');
    }
  });

  it('--quick reports every case at three noise levels, paired against zb-h1', async () => {
    const r = await runQualityBench({ quick: true });
    expect(r.cases).toHaveLength(6);
    for (const c of r.cases) {
      expect(c.noisy.map((n) => n.cv)).toEqual([0.1, 0.2, 0.3]);
      for (const n of c.noisy) {
        const h1 = n.rows.find((row) => row.schedule === 'zb-h1')!;
        expect(h1.vsZbH1).toEqual({ mean: 0, ci95: [0, 0] });
        for (const row of n.rows) {
          expect(row.meanMakespan).toBeGreaterThan(0);
          expect(row.vsZbH1.ci95[0]).toBeLessThanOrEqual(row.vsZbH1.mean);
          expect(row.vsZbH1.ci95[1]).toBeGreaterThanOrEqual(row.vsZbH1.mean);
        }
      }
    }
  }, 120_000);
});

describe('scale suite', () => {
  it('recovers a known exponent and intercept exactly', () => {
    const points = [10, 100, 1000, 5000].map((x) => ({ x, y: 3e-7 * x ** 1.25 }));
    const fit = fitPowerLaw(points);
    expect(fit.k).toBeCloseTo(1.25, 12);
    expect(fit.a).toBeCloseTo(Math.log(3e-7), 10);
    expect(fit.r2).toBeCloseTo(1, 12);
    expect(() =>
      fitPowerLaw([
        { x: 5, y: 1 },
        { x: 5, y: 2 },
      ]),
    ).toThrow(RangeError);
  });

  it('--quick returns a finite exponent and its grid points', async () => {
    const r = await runScaleBench({ quick: true });
    expect(Number.isFinite(r.fit.k)).toBe(true);
    expect(r.points.map((p) => [p.stages, p.microBatches, p.opsPerEpisode])).toEqual([
      [4, 8, 96],
      [8, 32, 768],
      [16, 64, 3072],
    ]);
    for (const p of r.points) expect(p.secondsPerEpisode).toBeGreaterThan(0);
  });
});
