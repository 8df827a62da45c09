// End-to-end: spawn the built command as a user would.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, expectUserError, pprl } from './helpers.js';

describe('pprl simulate', () => {
  it('prints the JSON contract of docs/SEMANTICS.md section 5 for a named schedule', () => {
    const r = pprl('simulate', '1f1b', '--stages', '4', '--micro-batches', '8', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ schedule: '1f1b', stages: 4, microBatches: 8, episodes: 1, noise: 0, engine: 'wasm' });
    expect(out.makespan).toEqual({ mean: 33, p50: 33, p95: 33, p99: 33, min: 33, max: 33 });
    expect(Object.keys(out.span)).toEqual(['mean', 'p50', 'p95', 'p99', 'min', 'max']);
    expect(out.bubbleRate.mean).toBeCloseTo(1 - 24 / 33, 12);
    expect(out.spanBubbleRate.mean).toBeCloseTo(1 - 24 / 33, 12);
    expect(out.peakMemory).toEqual([4, 3, 2, 1]);
  });

  it('replays a schedule file with noise, reproducibly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pprl-'));
    const file = join(dir, 's.json');
    const devices = [
      [
        { kind: 'F', mb: 0, stage: 0 },
        { kind: 'F', mb: 1, stage: 0 },
        { kind: 'BW', mb: 0, stage: 0 },
        { kind: 'BW', mb: 1, stage: 0 },
      ],
      [
        { kind: 'F', mb: 0, stage: 1 },
        { kind: 'BW', mb: 0, stage: 1 },
        { kind: 'F', mb: 1, stage: 1 },
        { kind: 'BW', mb: 1, stage: 1 },
      ],
    ];
    writeFileSync(file, JSON.stringify({ stages: 2, chunksPerDevice: 1, placement: 'loop', microBatches: 2, devices }));
    const args = ['simulate', file, '--noise', '0.2', '--episodes', '200', '--seed', '7', '--comm', '0.1', '--json'];
    const a = pprl(...args);
    expect(a.code).toBe(0);
    const out = JSON.parse(a.stdout);
    expect(out).toMatchObject({ stages: 2, microBatches: 2, episodes: 200, noise: 0.2 });
    expect(out.makespan.min).toBeLessThan(out.makespan.max);
    expect(pprl(...args).stdout).toBe(a.stdout);
  });

  it.each([
    [['--stages', '0'], /--stages: Too small: expected number to be >=1/],
    [['--micro-batches', '0'], /--micro-batches: Too small/],
    [['--cost-f', '-1'], /--cost-f: Too small: expected number to be >=0/],
    [['--cost-b', 'fast'], /--cost-b: expected a number or a comma-separated list of numbers \(got "fast"\)/],
    [['--mem-f', '2', '--mem-b', '-1', '--mem-w', '-0.5'], /--mem-f\/--mem-b\/--mem-w: F \+ B \+ W must be 0/],
    [['--placement', 'zigzag', '--chunks', '2'], /--placement: Invalid option: expected one of "loop"\|"v"/],
    [['--noise', '9'], /--noise: Too big: expected number to be <=3/],
    [['--episodes', '0'], /--episodes: must be an integer/],
  ])('bad input %j: one line, exit code 2', (args, pattern) => {
    expectUserError(pprl('simulate', '1f1b', ...args), pattern);
  });

  it('an unknown schedule lists the valid names', () => {
    expectUserError(
      pprl('simulate', 'zb-h9'),
      new RegExp(
        /unknown schedule "zb-h9" \(did you mean "zb-h1" or "zb-h2" or "zb-v"\?\); /.source +
          /give a \.json or \.csv file or one of: gpipe, 1f1b, .*zb-h1/.source,
      ),
    );
  });

  it('a schedule file that misses an op or deadlocks names the ops', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pprl-'));
    const missing = join(dir, 'missing.json');
    writeFileSync(
      missing,
      JSON.stringify({
        stages: 2,
        chunksPerDevice: 1,
        placement: 'loop',
        microBatches: 1,
        devices: [
          [
            { kind: 'F', mb: 0, stage: 0 },
            { kind: 'BW', mb: 0, stage: 0 },
          ],
          [{ kind: 'F', mb: 0, stage: 1 }],
        ],
      }),
    );
    expectUserError(pprl('simulate', missing), /missing ops: 1I0, 1W0/);
    const deadlock = join(dir, 'deadlock.json');
    writeFileSync(
      deadlock,
      JSON.stringify({
        stages: 2,
        chunksPerDevice: 1,
        placement: 'loop',
        microBatches: 1,
        devices: [
          [
            { kind: 'BW', mb: 0, stage: 0 },
            { kind: 'F', mb: 0, stage: 0 },
          ],
          [
            { kind: 'F', mb: 0, stage: 1 },
            { kind: 'BW', mb: 0, stage: 1 },
          ],
        ],
      }),
    );
    expectUserError(
      pprl('simulate', deadlock),
      new RegExp(
        /schedule deadlocks: device 0 is blocked at 0B0 \(waits for 0F0 on device 0 and 1B0 on device 1\); /.source +
          /device 1 is blocked at 1F0 \(waits for 0F0 on device 0\)/.source,
      ),
    );
    expectUserError(pprl('simulate', join(dir, 'nope.json')), /cannot read schedule file .*nope\.json: ENOENT/);
  });

  it('an unknown option is a usage error with exit code 2', () => {
    const r = pprl('simulate', '1f1b', '--colour', 'red');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--colour'/);
  });
});

describe('pprl schedule', () => {
  it('writes torch CSV, JSON, Chrome trace and SVG, files atomically', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pprl-'));
    const csv = pprl('schedule', 'zb-h1', '--stages', '4', '--micro-batches', '8', '--format', 'torch-csv');
    expect(csv.code).toBe(0);
    const rows = csv.stdout.trim().split('\n');
    expect(rows).toHaveLength(4);
    expect(rows[0]!.split(',')[0]).toBe('0F0');
    const out = join(dir, 'sub', 'zbh1.json');
    expect(pprl('schedule', 'zb-h1', '--stages', '4', '--micro-batches', '8', '--out', out).code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).devices).toHaveLength(4);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['zbh1.json']);
    const trace = pprl('schedule', '1f1b', '--stages', '2', '--micro-batches', '2', '--format', 'chrome-trace');
    const events = JSON.parse(trace.stdout).traceEvents.filter(
      (e: { ph: string; cat?: string }) => e.ph === 'X' && e.cat !== 'comm',
    );
    expect(events).toHaveLength(8);
    const svg = pprl('schedule', 'zb-v', '--stages', '4', '--micro-batches', '8', '--format', 'svg');
    expect(svg.code).toBe(0);
    expect(svg.stdout).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
  });

  it('rejects an unknown format and a file that cannot be written', () => {
    expectUserError(
      pprl('schedule', '1f1b', '--format', 'xml'),
      /--format: must be one of json, torch-csv, chrome-trace, svg/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'pprl-'));
    writeFileSync(join(dir, 'file'), 'not a directory');
    expectUserError(
      pprl('schedule', '1f1b', '--out', join(dir, 'file', 'x.json')),
      /cannot create directory .*file: EEXIST/,
    );
    expect(readdirSync(dir)).toEqual(['file']);
  });
});

describe('pprl bench replay', () => {
  it('--quick --json prints the figures of both engines and their ratio', () => {
    const r = pprl('bench', 'replay', '--quick', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.workload).toMatchObject({
      stages: 8,
      microBatches: 32,
      cost: { F: 1, B: 1.2, W: 0.9 },
      comm: 0.1,
      noise: 0.2,
    });
    expect(out.wasm.opEventsPerSec).toBeGreaterThan(0);
    expect(out.reference.opEventsPerSec).toBeGreaterThan(0);
    expect(out.ratio).toBeCloseTo(out.wasm.opEventsPerSec / out.reference.opEventsPerSec, 9);
  });
});

describe('pprl bench env', () => {
  it('--quick --json prints decisions per second of both policies', () => {
    const r = pprl('bench', 'env', '--quick', '--json', '--envs', '64');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.envs).toBe(64);
    expect(out.greedy.decisionsPerSec).toBeGreaterThan(0);
    expect(out.mlp).toMatchObject({ hidden: [64, 64] });
    expect(out.mlpShared).toMatchObject({ hidden: [64, 64], shared: true });
    expect(out.mlp.decisionsPerSec).toBeGreaterThan(0);
    expect(out.byEnvs.map((p: { envs: number }) => p.envs)).toEqual([64]);
  });

  it('rejects a bad --envs list', () => {
    expectUserError(pprl('bench', 'env', '--envs', '64,x'), /--envs: expected integers in \[1, 65536\]/);
  });
});

describe('pprl demo', () => {
  it('runs on defaults, prints the table and writes charts, traces and results', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pprl-demo-'));
    const r = pprl('demo', '--out', dir, '--episodes', '20');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/zb-h1/);
    expect(r.stdout).toMatch(/greedy-zb/);
    const files = readdirSync(dir);
    expect(files).toContain('results.json');
    expect(files.filter((f) => f.startsWith('gantt-')).length).toBeGreaterThanOrEqual(9);
    expect(existsSync(join(dir, 'trace-zb-h1.json'))).toBe(true);
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(results.results['zb-h1'].byNoise['0'].mean).toBeGreaterThan(0);
  });
});

describe('pipes', () => {
  it('a reader that stops early is not an error', () => {
    const r = spawnSync(
      'bash',
      ['-c', `"${process.execPath}" "${bin}" schedule 1f1b --stages 8 --micro-batches 2048 --format json | head -1`],
      { encoding: 'utf8' },
    );
    expect(r.stdout).toBe('{\n');
    expect(r.stderr).toBe('');
  });
});

describe('pprl bench quality and scale', () => {
  it('quality --quick --json sets our bubble rates next to upstream and pairs noisy makespans against zb-h1', () => {
    const r = pprl('bench', 'quality', '--quick', '--json', '--episodes', '10');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.suite).toBe('quality');
    expect(out.workload).toMatchObject({ cases: 6, noise: [0.1, 0.2, 0.3], episodes: 10 });
    const first = out.cases[0];
    expect(first.rows.map((row: { schedule: string }) => row.schedule)).toEqual([
      '1f1b',
      'zb-h1',
      'zb-h2',
      'zb-auto-1p',
      'zb-auto-2p',
      'interleaved-1f1b',
    ]);
    const h1 = first.rows.find((row: { schedule: string }) => row.schedule === 'zb-h1');
    expect(Math.abs(h1.difference)).toBeLessThan(5e-5);
    expect(first.noisy).toHaveLength(3);
  });

  it('quality prints a table per case', () => {
    const r = pprl('bench', 'quality', '--quick', '--episodes', '5');
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^P=8 M=\d+/gm)).toHaveLength(6);
    expect(r.stdout).toMatch(/zb-auto-2p/);
  });

  it('rejects a bad --episodes', () => {
    expectUserError(pprl('bench', 'quality', '--episodes', '1'), /--episodes: expected an integer in \[2, 100000\]/);
  });

  it('scale --quick --json reports the grid and a finite exponent', () => {
    const r = pprl('bench', 'scale', '--quick', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.suite).toBe('scale');
    expect(out.points.map((p: { stages: number; microBatches: number }) => [p.stages, p.microBatches])).toEqual([
      [4, 8],
      [8, 32],
      [16, 64],
    ]);
    expect(Number.isFinite(out.fit.k)).toBe(true);
  });
});

describe('pprl --version', () => {
  it("prints the cli package's own version", () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = pprl('--version');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});
