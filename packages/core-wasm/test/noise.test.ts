import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileSchedule, createSimulator, noiseFactor, referenceReplay, resolveProblem } from '../src/index.js';
import { normalQuantile } from '../src/noise.js';
import { oneFOneB, randomSchedule, rng } from './helpers.js';

const sim = await createSimulator();

describe('noise stream', () => {
  it('WebAssembly and TypeScript give bit-identical factors', () => {
    const random = rng(3);
    for (let i = 0; i < 20000; i++) {
      const args = [
        Math.floor(random() * 2 ** 32),
        Math.floor(random() * 2 ** 31),
        Math.floor(random() * 5),
        Math.floor(random() * 1000),
        Math.floor(random() * 5000),
        [0, 0.1, 0.3, 1][i % 4]!,
        0.05,
        i % 3 === 0 ? 0.1 : 0,
        4,
      ] as const;
      expect(sim.core.exports.noiseFactor(...args)).toBe(noiseFactor(...args));
    }
  });

  it('has the configured mean and spread (cv 0.2, floor far away)', () => {
    const n = 200_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const f = noiseFactor(11, i >>> 8, 0, i & 7, (i >>> 3) & 31, 0.2, 0.05, 0, 1);
      sum += f;
      sq += f * f;
    }
    const mean = sum / n;
    const std = Math.sqrt(sq / n - mean * mean);
    // standard errors: 0.2 / sqrt(n) = 4.5e-4 for the mean; about 0.2 / sqrt(2n) = 3.2e-4 for the std
    expect(Math.abs(mean - 1)).toBeLessThan(4 * 4.5e-4);
    expect(Math.abs(std - 0.2)).toBeLessThan(4 * 3.2e-4);
  });

  it('has normal tails: P(z < -2) and P(z < -3) match the normal law', () => {
    const n = 400_000;
    let below2 = 0;
    let below3 = 0;
    for (let i = 0; i < n; i++) {
      const z = noiseFactor(5, i, 1, 2, 3, 1, -100, 0, 1) - 1; // cv 1, floor out of the way: f - 1 = z
      if (z < -2) below2++;
      if (z < -3) below3++;
    }
    const p2 = 0.022750131948179195;
    const p3 = 0.0013498980316301;
    expect(Math.abs(below2 / n - p2)).toBeLessThan(4 * Math.sqrt((p2 * (1 - p2)) / n));
    expect(Math.abs(below3 / n - p3)).toBeLessThan(4 * Math.sqrt((p3 * (1 - p3)) / n));
    expect(normalQuantile(0.5)).toBe(0);
  });

  it('applies the floor and the anomaly probability', () => {
    let anomalies = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const f = noiseFactor(1, i, 2, 0, 0, 3, 0.25, 0.01, 10);
      expect(f).toBeGreaterThanOrEqual(0.25);
      if (f >= 10 * 0.25) anomalies++;
    }
    // anomaly ~ 1%; factors >= 2.5 also arise from 1 + 3z > 2.5 (z > 0.5: 30.9%) without an anomaly, so count exactly:
    let exact = 0;
    for (let i = 0; i < n; i++) if (noiseFactor(1, i, 2, 0, 0, 0, 0.25, 0.01, 10) === 10) exact++;
    expect(Math.abs(exact / n - 0.01)).toBeLessThan(4 * Math.sqrt(0.0099 / n));
    expect(anomalies).toBeGreaterThan(exact);
  });
});

describe('determinism and common random numbers', () => {
  const problem = resolveProblem({
    stages: 4,
    microBatches: 12,
    cost: { F: 1, B: 2, W: 1 },
    comm: { time: 0.2 },
    noise: { cv: 0.25, seed: 123 },
  });

  it('the same seed gives the same numbers across calls and episode chunking', () => {
    const schedule = compileSchedule(problem, oneFOneB(4, 12, true));
    const all = sim.replay(problem, schedule, { episodes: 100 });
    const again = sim.replay(problem, schedule, { episodes: 100 });
    const tail = sim.replay(problem, schedule, { episodes: 50, episodeStart: 50 });
    expect(Array.from(again.makespan)).toEqual(Array.from(all.makespan));
    expect(Array.from(tail.makespan)).toEqual(Array.from(all.makespan.slice(50)));
    const other = sim.replay(
      resolveProblem({ ...problem.config, noise: { ...problem.config.noise, seed: 124 } }),
      oneFOneB(4, 12, true),
      { episodes: 100 },
    );
    expect(Array.from(other.makespan)).not.toEqual(Array.from(all.makespan));
  });

  it('the same seed gives the same numbers in another process', () => {
    const script = `
      const c = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
      const p = c.resolveProblem(${JSON.stringify(problem.config)});
      const ops = [];
      const s = { stages: 4, chunksPerDevice: 1, placement: 'loop', microBatches: 12,
        devices: ${JSON.stringify(oneFOneB(4, 12, true).devices)} };
      const sim = await c.createSimulator();
      console.log(JSON.stringify(Array.from(sim.replay(p, s, { episodes: 20 }).makespan)));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    }).toString();
    const here = sim.replay(problem, oneFOneB(4, 12, true), { episodes: 20 });
    expect(JSON.parse(out)).toEqual(Array.from(here.makespan));
  });

  it('two different schedules meet the same realized durations in the same episode', () => {
    const a = sim.replay(problem, oneFOneB(4, 12, true), { episodes: 8, timelineEpisode: 5 });
    const b = referenceReplay(problem, compileSchedule(problem, randomSchedule(problem, rng(77))), {
      episodes: 8,
      timelineEpisode: 5,
    });
    const durations = (r: typeof a) =>
      new Map(
        r
          .timeline!.ops.filter((o) => o.op.kind !== 'BW')
          .map((o) => [`${o.op.kind}${o.op.stage}:${o.op.mb}`, o.end - o.start]),
      );
    const da = durations(a);
    const db = durations(b);
    let compared = 0;
    for (const [k, v] of da)
      if (db.has(k)) {
        expect(db.get(k)).toBeCloseTo(v, 12);
        compared++;
      }
    expect(compared).toBeGreaterThan(50);
    const xa = new Map(a.timeline!.transfers.map((t) => [`${t.kind}${t.fromStage}:${t.mb}`, t.end - t.start]));
    for (const t of b.timeline!.transfers)
      expect(t.end - t.start).toBeCloseTo(xa.get(`${t.kind}${t.fromStage}:${t.mb}`)!, 12);
  });

  it('a fused BW meets the noise of its B and its W', () => {
    const fused = sim.replay(problem, oneFOneB(4, 12, false), { episodes: 3, timelineEpisode: 2 });
    const split = sim.replay(problem, oneFOneB(4, 12, true), { episodes: 3, timelineEpisode: 2 });
    const bw = fused.timeline!.ops.find((o) => o.op.kind === 'BW' && o.op.stage === 2 && o.op.mb === 4)!;
    const b = split.timeline!.ops.find((o) => o.op.kind === 'B' && o.op.stage === 2 && o.op.mb === 4)!;
    const w = split.timeline!.ops.find((o) => o.op.kind === 'W' && o.op.stage === 2 && o.op.mb === 4)!;
    expect(bw.end - bw.start).toBeCloseTo(b.end - b.start + (w.end - w.start), 12);
  });
});
