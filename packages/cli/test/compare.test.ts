// End-to-end: `pprl compare` spawned as a user would, checked against `pprl simulate` on the same episodes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createProgress, progressWanted } from '../src/progress.js';

const bin = fileURLToPath(new URL('../bin/pprl.js', import.meta.url));
const profile = fileURLToPath(new URL('../../core-wasm/profiles/h200-fbw-profiles.json', import.meta.url));

function pprl(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(...args: string[]) {
  const r = pprl(...args, '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

function expectUserError(r: ReturnType<typeof pprl>, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
}

interface Point {
  value: number;
  noise: number;
  comm: number;
  makespan: { mean: number; p50: number; p95: number; p99: number; min: number; max: number; ci95: [number, number] };
  throughput: { mean: number; ci95: [number, number] };
  bubbleRate: { mean: number };
  peakMemory: number[];
  diffToBaseline: { mean: number; ci95: [number, number]; n: number } | null;
}

describe('pprl compare --sweep noise', () => {
  const problem = ['--stages', '4', '--micro-batches', '8', '--cost-b', '1.2', '--cost-w', '0.9', '--comm', '0.1'];
  const out = json(
    'compare',
    ...problem,
    '--schedulers',
    '1f1b,zb-h1,zb-v,greedy-zb',
    '--sweep',
    'noise=0.3,0,0.2,0.1',
    '--episodes',
    '60',
  );

  it('prints one object: problem, sweep (sorted), baseline and per scheduler one point per value', () => {
    expect(Object.keys(out)).toEqual(['problem', 'episodes', 'sweep', 'baseline', 'schedulers']);
    expect(out.problem).toMatchObject({
      stages: 4,
      microBatches: 8,
      chunks: 1,
      placement: 'loop',
      cost: { F: [1], B: [1.2], W: [0.9] },
      timeUnit: null,
    });
    expect(out.episodes).toBe(60);
    expect(out.sweep).toEqual({ factor: 'noise', values: [0, 0.1, 0.2, 0.3] });
    expect(out.baseline).toBe('1f1b');
    expect(Object.keys(out.schedulers)).toEqual(['1f1b', 'zb-h1', 'zb-v', 'greedy-zb']);
    expect(out.schedulers['1f1b']).toMatchObject({ kind: 'static', chunks: 1, placement: 'loop' });
    expect(out.schedulers['zb-v']).toMatchObject({ kind: 'static', chunks: 2, placement: 'v' });
    expect(out.schedulers['greedy-zb']).toMatchObject({ kind: 'heuristic', chunks: 1 });
    for (const s of Object.values(out.schedulers) as { points: Point[]; peakMemory: number[] }[]) {
      expect(s.points.map((p) => p.value)).toEqual([0, 0.1, 0.2, 0.3]);
      expect(s.points.map((p) => p.noise)).toEqual([0, 0.1, 0.2, 0.3]);
      expect(s.peakMemory).toHaveLength(4);
      for (const p of s.points) {
        expect(Object.keys(p.makespan)).toEqual(['mean', 'p50', 'p95', 'p99', 'min', 'max', 'ci95']);
        expect(p.makespan.ci95[0]).toBeLessThanOrEqual(p.makespan.mean);
        expect(p.makespan.ci95[1]).toBeGreaterThanOrEqual(p.makespan.mean);
        expect(p.throughput.mean).toBeCloseTo(8 / p.makespan.mean, 12);
        expect(p.throughput.ci95).toEqual([8 / p.makespan.ci95[1], 8 / p.makespan.ci95[0]]);
        expect(p.comm).toBeCloseTo(0.1, 12);
      }
    }
    expect(out.schedulers['1f1b'].points.every((p: Point) => p.diffToBaseline === null)).toBe(true);
  });

  it('without noise every episode is the same: zero-width intervals, exact paired differences', () => {
    const p0: Point = out.schedulers['1f1b'].points[0];
    expect(p0.makespan.mean).toBeCloseTo(json('simulate', '1f1b', ...problem).makespan.mean, 9);
    expect(p0.makespan.min).toBe(p0.makespan.max);
    expect(p0.makespan.ci95[1] - p0.makespan.ci95[0]).toBeCloseTo(0, 9);
    expect(p0.bubbleRate.mean).toBeCloseTo(1 - (8 * 3.1 * 4) / (4 * p0.makespan.mean), 9);
    const z0: Point = out.schedulers['zb-h1'].points[0];
    expect(z0.diffToBaseline!.mean).toBeCloseTo(z0.makespan.mean - p0.makespan.mean, 9);
    expect(z0.diffToBaseline!.ci95[0]).toBeCloseTo(z0.diffToBaseline!.mean, 9);
    expect(z0.diffToBaseline!.n).toBe(60);
  });

  it('matches pprl simulate on the same episodes (common random numbers), static and heuristic', () => {
    for (const name of ['zb-h1', 'greedy-zb']) {
      const sim = json('simulate', name, ...problem, '--noise', '0.2', '--episodes', '60');
      const p: Point = out.schedulers[name].points[2];
      expect(p.makespan.mean).toBeCloseTo(sim.makespan.mean, 9);
      expect(p.makespan.p95).toBeCloseTo(sim.makespan.p95, 9);
      expect(p.bubbleRate.mean).toBeCloseTo(sim.bubbleRate.mean, 9);
    }
  });

  it(
    'pairs episodes: the difference to the baseline is tighter than the two means apart, ' +
      'and grows with noise here',
    () => {
      const zb: Point[] = out.schedulers['zb-h1'].points;
      const base: Point[] = out.schedulers['1f1b'].points;
      const last = zb[3]!;
      const pairedHalf = (last.diffToBaseline!.ci95[1] - last.diffToBaseline!.ci95[0]) / 2;
      const unpairedHalf = Math.hypot(
        (last.makespan.ci95[1] - last.makespan.ci95[0]) / 2,
        (base[3]!.makespan.ci95[1] - base[3]!.makespan.ci95[0]) / 2,
      );
      expect(pairedHalf).toBeGreaterThan(0);
      expect(pairedHalf).toBeLessThan(unpairedHalf);
      expect(last.diffToBaseline!.ci95[1]).toBeLessThan(0);
      expect(base[3]!.makespan.mean).toBeGreaterThan(base[0]!.makespan.mean);
    },
  );
});

describe('pprl compare --sweep comm', () => {
  const problem = ['--stages', '4', '--micro-batches', '8', '--comm', '0.5'];
  const out = json(
    'compare',
    ...problem,
    '--schedulers',
    '1f1b,zb-h1,zb-auto',
    '--sweep',
    'comm=0.5,1,2,4,8',
    '--episodes',
    '4',
  );

  it('scales the transfer time: each point is pprl simulate at that comm; without noise 1F1B is linear in it', () => {
    expect(out.sweep).toEqual({ factor: 'comm', values: [0.5, 1, 2, 4, 8] });
    const points: Point[] = out.schedulers['1f1b'].points;
    expect(points.map((p) => p.comm)).toEqual([0.25, 0.5, 1, 2, 4]);
    for (const p of points)
      expect(p.makespan.mean).toBeCloseTo(
        json('simulate', '1f1b', '--stages', '4', '--micro-batches', '8', '--comm', String(p.comm)).makespan.mean,
        9,
      );
    // 33 = (M + P - 1)(F + B + W) without comm; the slope is the same between every pair of points
    const slope = (points[4]!.makespan.mean - 33) / points[4]!.comm;
    for (const p of points) expect(p.makespan.mean).toBeCloseTo(33 + slope * p.comm, 9);
    // every scheduler slows down as the transfers get longer
    for (const s of Object.values(out.schedulers) as { points: Point[] }[])
      for (let i = 1; i < s.points.length; i++)
        expect(s.points[i]!.makespan.mean).toBeGreaterThanOrEqual(s.points[i - 1]!.makespan.mean - 1e-9);
  });

  it('matches pprl simulate at a scaled comm (zb-auto is planned for the comm it runs with)', () => {
    const sim = json('simulate', 'zb-auto', '--stages', '4', '--micro-batches', '8', '--comm', '2', '--episodes', '4');
    expect(out.schedulers['zb-auto'].points[3].makespan.mean).toBeCloseTo(sim.makespan.mean, 9);
  });

  it(
    'runs a profiled problem in microseconds, V schedules on the same model in 2 chunks, ' + 'and writes the report',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'pprl-compare-'));
      const r = pprl(
        'compare',
        '--profile',
        profile,
        '--model',
        '6.2B',
        '--micro-batches',
        '16',
        '--noise',
        '0.2',
        '--sweep',
        'comm=1,4',
        '--schedulers',
        'zb-h1,zb-v,greedy-zb',
        '--episodes',
        '20',
        '--out',
        dir,
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/zb-v/);
      expect(r.stdout).toMatch(/mean \(ms\)/);
      expect(r.stdout).toContain(`Report: ${join(dir, 'report.html')}`);
      expect(readdirSync(dir).sort()).toEqual(['report.html', 'results.json']);
      const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
      expect(results.problem).toMatchObject({ timeUnit: 'us', memoryUnit: 'bytes', stages: 4, microBatches: 16 });
      expect(results.schedulers['zb-v']).toMatchObject({ chunks: 2, placement: 'v' });
      // V placement holds two half-size chunks: every device peaks at P activations of a full stage, as device 0 of
      // zb-h1
      const memF = results.problem.memory.F[0];
      expect(results.schedulers['zb-v'].peakMemory).toEqual([4 * memF, 4 * memF, 4 * memF, 4 * memF]);
      expect(results.schedulers['zb-h1'].peakMemory[0]).toBe(4 * memF);
      const html = readFileSync(join(dir, 'report.html'), 'utf8');
      expect(html.match(/<figure class="gantt"/g)).toHaveLength(3);
      expect(html).not.toMatch(/<script|<link|src="http|href="http/);
    },
  );

  it('without --sweep runs once at the given noise, and prints a table', () => {
    const r = pprl('compare', '--schedulers', '1f1b,zb-h1', '--noise', '0.1', '--episodes', '10');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/2 schedulers, P=4 M=8, 10 episodes per point, common random numbers; noise cv 0\.1/);
    expect(r.stdout).toMatch(/│ zb-h1 +│ 0\.1 +│/);
  });
});

describe('pprl compare: bad input gives one line naming the flag and exit code 2', () => {
  it.each([
    [
      ['--schedulers', '1f1b,zb-h9'],
      new RegExp(
        /--schedulers: unknown scheduler "zb-h9" \(did you mean "zb-h1" or "zb-h2"[^)]*\); /.source +
          /valid names: gpipe, 1f1b, .*greedy-zb/.source,
      ),
    ],
    [['--schedulers', '1f1b,,zb-h1'], /--schedulers: expected a comma-separated list of names/],
    [['--schedulers', 'zb-h1,zb-h1'], /--schedulers: "zb-h1" is named twice/],
    [
      ['--schedulers', '1f1b,zb-h2', '--micro-batches', '5'],
      /--schedulers: zb-h2: zb-h2 needs microBatches >= 2P-1 = 7/,
    ],
    [['--sweep', 'noise'], /--sweep: expected factor=v1,v2,\.\.\. with factor noise or comm \(got "noise"\)/],
    [['--sweep', 'speed=1,2'], /--sweep: unknown factor "speed"; sweep one of: noise, comm/],
    [['--sweep', 'noise=0,a'], /--sweep: noise: expected a comma-separated list of numbers \(got "0,a"\)/],
    [['--sweep', 'noise=0,,0.2'], /--sweep: noise: expected a comma-separated list of numbers/],
    [['--sweep', 'noise=0,5'], /--sweep: noise values must be in \[0, 3\] \(got 5\)/],
    [['--sweep', 'comm=-1,2', '--comm', '0.1'], /--sweep: comm values must be in \[0, 1000\] \(got -1\)/],
    [['--sweep', 'noise=0.1,0.1'], /--sweep: noise values must be distinct/],
    [
      ['--sweep', 'comm=1,2'],
      /--sweep: comm scales the base communication time, which is 0 for this problem; set --comm or --profile/,
    ],
    [['--episodes', '1'], /--episodes: must be an integer in \[2, 1000000\] \(got "1"\)/],
    [['--stages', '0'], /--stages: Too small/],
  ])('%j', (args, pattern) => {
    expectUserError(pprl('compare', ...args), pattern);
  });

  it('writes nothing when the input is bad', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pprl-compare-')), 'out');
    expectUserError(pprl('compare', '--sweep', 'noise=9', '--out', dir), /--sweep/);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('progress bars', () => {
  const fakeTty = () => {
    const written: string[] = [];
    const stream = {
      isTTY: true,
      columns: 100,
      write: (s: string) => written.push(s) > 0,
    } as unknown as NodeJS.WriteStream;
    return { stream, written };
  };

  it('only for a terminal and never with --json', () => {
    expect(progressWanted(false, fakeTty().stream)).toBe(true);
    expect(progressWanted(true, fakeTty().stream)).toBe(false);
    expect(progressWanted(false, { isTTY: false } as NodeJS.WriteStream)).toBe(false);
  });

  it('stays silent for work under a second, then draws and clears', () => {
    let clock = 0;
    const { stream, written } = fakeTty();
    const p = createProgress({ label: 'compare', total: 4, enabled: true, stream, now: () => clock });
    p.tick('1f1b');
    clock = 500;
    p.tick('zb-h1');
    expect(written.join('')).toBe('');
    clock = 1200;
    p.tick('zb-v');
    expect(written.join('')).toMatch(/compare \[.*\] 3\/4 zb-v/);
    p.done();
  });
});
