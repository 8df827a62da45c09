// What a new user met: the V = 2 model in simulate against compare, units, confirmations, "did you mean",
// overflowing costs, and size guards for valid but huge problems.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveProblem } from '@pprl/core-wasm';
import { estimateWork, guardWork, LIMIT_SECONDS } from '../src/size-guard.js';
import { didYouMean, editDistance, nearestNames } from '../src/suggest.js';
import { expectUserError, pprl } from './helpers.js';

const PROFILE = fileURLToPath(new URL('../../core-wasm/profiles/h200-fbw-profiles.json', import.meta.url));
const json = (...args: string[]) => {
  const r = pprl(...args, '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
};

describe('a V = 2 schedule runs the same model in simulate, schedule and compare', () => {
  it('simulate zb-v halves each chunk as compare does (unit costs and a profile)', () => {
    for (const problem of [
      ['--stages', '8', '--micro-batches', '16'],
      ['--profile', PROFILE, '--model', '6.2B', '--stages', '4', '--micro-batches', '8'],
    ]) {
      const simulated = json('simulate', 'zb-v', ...problem).makespan.mean;
      const compared = json('compare', ...problem, '--schedulers', 'zb-v', '--oracle-episodes', '0').schedulers['zb-v']
        .points[0].makespan.mean;
      // the same model; compare resolves the swept problem again, which may round the last bit differently
      expect(Math.abs(simulated / compared - 1)).toBeLessThan(1e-12);
    }
    // unit costs, P = 8, M = 16: ZB-V with half-cost chunks is exactly 51.5 (12 ops per micro-batch of 1/2 each)
    expect(json('simulate', 'zb-v', '--stages', '8', '--micro-batches', '16').makespan.mean).toBe(51.5);
  });

  it('with --chunks the costs given are per chunk', () => {
    const perChunk = json('simulate', 'zb-v', '--stages', '8', '--micro-batches', '16', '--chunks', '2').makespan.mean;
    expect(perChunk).toBe(2 * 51.5);
  });
});

describe('units', () => {
  it('a profile problem is in microseconds (shown in ms), a unit-cost one in time units', () => {
    const measured = [
      'simulate',
      'zb-h1',
      '--profile',
      PROFILE,
      '--model',
      '6.2B',
      '--stages',
      '4',
      '--micro-batches',
      '8',
    ];
    expect(json(...measured).timeUnit).toBe('us');
    expect(json('simulate', 'zb-h1').timeUnit).toBeNull();
    const text = pprl(...measured).stdout;
    expect(text).toMatch(/makespan \(ms\)/);
    expect(text).toMatch(/peak memory per device \(GiB\)/);
    expect(pprl('simulate', 'zb-h1').stdout).toMatch(/makespan \(time units\)/);
  });

  it('evaluate and bound say their units too', () => {
    const policy = fileURLToPath(new URL('../../rl/checkpoints/h200-6.2b-p4-m16-v2', import.meta.url));
    const args = ['evaluate', '--policy', policy, '--episodes', '4', '--oracle-episodes', '0', '--schedulers', 'zb-h1'];
    expect(json(...args).timeUnit).toBe('us');
    expect(pprl(...args).stdout).toMatch(/mean makespan \(ms\).*peak GiB/);
    const unitless = [
      'evaluate',
      '--policy',
      policy,
      '--stages',
      '4',
      '--micro-batches',
      '8',
      '--episodes',
      '4',
      '--oracle-episodes',
      '0',
      '--schedulers',
      'zb-h1',
    ];
    expect(json(...unitless).timeUnit).toBeNull();
    expect(pprl(...unitless).stdout).toMatch(/mean makespan \(time units\).*peak memory units/);
    expect(json('bound', '--episodes', '2').timeUnit).toBeNull();
  });

  it('the Gantt chart of a profile problem names microseconds on its axis', () => {
    const svg = pprl('schedule', 'zb-h1', '--profile', PROFILE, '--model', '6.2B', '--format', 'svg').stdout;
    expect(svg).toContain('time (µs)');
    expect(pprl('schedule', 'zb-h1', '--format', 'svg').stdout).not.toContain('time (µs)');
  });
});

describe('pprl schedule --out', () => {
  it('says what it wrote', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pprl-out-')), 'zbv.csv');
    const r = pprl('schedule', 'zb-v', '--stages', '4', '--micro-batches', '8', '--format', 'torch-csv', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`wrote ${out} (zb-v, torch-csv, P=4 V=2 M=8)`);
    expect(readFileSync(out, 'utf8')).toMatch(/^0F0,/m);
  });
});

describe('did you mean', () => {
  it('suggests the nearest schedule and scheduler names', () => {
    expectUserError(pprl('simulate', 'zb-h3'), /unknown schedule "zb-h3" \(did you mean "zb-h1" or "zb-h2"/);
    expectUserError(
      pprl('compare', '--schedulers', '1fb1'),
      /--schedulers: unknown scheduler "1fb1" \(did you mean "1f1b"\?\)/,
    );
    expectUserError(pprl('simulate', 'nothing-like-it'), /unknown schedule "nothing-like-it"; give/);
  });

  it('nearestNames ranks by edit distance and knows prefixes', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(nearestNames('zbv', ['zb-v', 'zb-h1', 'gpipe'])).toEqual(['zb-v']);
    expect(nearestNames('greedy', ['greedy-zb', 'greedy-cp', 'gpipe'])).toEqual(['greedy-zb', 'greedy-cp']);
    expect(didYouMean('xyzzy', ['gpipe', '1f1b'])).toBe('');
  });
});

describe('costs that would overflow', () => {
  it('are rejected with the field and the range', () => {
    expectUserError(pprl('simulate', '1f1b', '--cost-f', '1e308'), /--cost-f: .*<=1000000000000 \(got 1e\+308\)/);
    expectUserError(pprl('simulate', '1f1b', '--comm', '1e308'), /--comm: .*<=1000000000000/);
    expectUserError(
      pprl('simulate', '1f1b', '--mem-f', '1e300', '--mem-w', '-1e300'),
      /--mem-f: .*<=1000000000000000000/,
    );
  });

  it('the largest allowed costs give a finite makespan', () => {
    const out = json(
      'simulate',
      '1f1b',
      '--cost-f',
      '1e12',
      '--cost-b',
      '1e12',
      '--cost-w',
      '1e12',
      '--comm',
      '1e12',
      '--noise',
      '3',
      '--anomaly-prob',
      '1',
      '--anomaly-factor',
      '1000',
      '--episodes',
      '3',
    );
    expect(Number.isFinite(out.makespan.max)).toBe(true);
  });
});

describe('size guards', () => {
  it('valid but huge problems stop at once with an estimate, naming the flag to lower', () => {
    expectUserError(
      pprl('simulate', '1f1b', '--stages', '1024', '--micro-batches', '65536'),
      new RegExp(
        /--micro-batches: P=1024 x V=1 x M=65536 is 201,326,592 ops: /.source +
          /about \d+ min and [\d.]+ GiB \(limits 60 s, 4 GiB\); lower the size or pass --force/.source,
      ),
    );
    expectUserError(
      pprl('schedule', 'zb-h1', '--stages', '256', '--micro-batches', '4096', '--format', 'svg'),
      /--micro-batches: .*pass --force/,
    );
    expectUserError(
      pprl('simulate', 'zb-h1', '--stages', '64', '--micro-batches', '512', '--noise', '0.1', '--episodes', '100000'),
      /--episodes: .*pass --force/,
    );
    // a million episodes of three heuristics (fuzz: it ran for minutes)
    expectUserError(
      pprl(
        'compare',
        '--stages',
        '2',
        '--micro-batches',
        '9',
        '--episodes',
        '1000000',
        '--schedulers',
        'greedy-ffirst,greedy-cp,looped-bfs',
        '--oracle-episodes',
        '0',
      ),
      /^pprl: error: --episodes: 3 scheduler\(s\) x 1,000,000 episode\(s\) on P=2 x V=1 x M=9 .*pass --force$/m,
    );
  });

  it('--force lets the work through; long work is announced', () => {
    const problem = resolveProblem({ stages: 256, microBatches: 4096 });
    const notes: string[] = [];
    const work = { scheduler: 'static', generator: 'zb-h1', episodes: 1, output: 'drawing' } as const;
    expect(() => guardWork(problem, work, { note: (l) => notes.push(l) })).toThrow(/pass --force/);
    const e = guardWork(problem, work, { force: true, note: (l) => notes.push(l) });
    expect(e.ops).toBe(3 * 256 * 4096);
    expect(e.seconds).toBeGreaterThan(LIMIT_SECONDS / 2);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^pprl: P=256 x V=1 x M=4096 is 3,145,728 ops: about/);
  });

  it('estimates grow with the work: episodes, drawings, zb-auto', () => {
    const p = resolveProblem({ stages: 64, microBatches: 256 });
    const base = estimateWork(p, { scheduler: 'static', generator: 'zb-h1', episodes: 1 });
    expect(estimateWork(p, { scheduler: 'static', generator: 'zb-h1', episodes: 1000 }).seconds).toBeGreaterThan(
      base.seconds,
    );
    expect(
      estimateWork(p, { scheduler: 'static', generator: 'zb-h1', episodes: 1, output: 'drawing' }).bytes,
    ).toBeGreaterThan(base.bytes);
    expect(estimateWork(p, { scheduler: 'static', generator: 'zb-auto', episodes: 1 }).seconds).toBeGreaterThan(
      base.seconds,
    );
  });
});

describe('what the fuzz campaign found', () => {
  const short = (r: { stderr: string }) => expect(r.stderr.trim().length).toBeLessThanOrEqual(300);

  it('a size of 2^53 is refused at once rather than looped over', () => {
    expectUserError(pprl('simulate', '1f1b', '--stages', '9007199254740993'), /--stages: Too big/);
    expectUserError(
      pprl('schedule', 'looped-bfs', '--stages', '8', '--chunks', '9007199254740993', '--format', 'svg'),
      /--chunks: Too big/,
    );
    expectUserError(
      pprl('schedule', '1f1b', '--format', 'chrome-trace', '--episode', '9007199254740993'),
      /^pprl: error: --episode: must be an integer in \[0, 2147483646\] \(got "9007199254740993"\)$/m,
    );
  });

  it('a memory limit nothing fits is a user error in bound', () => {
    expectUserError(
      pprl(
        'bound',
        '--micro-batches',
        '20',
        '--episodes',
        '3',
        '--time-limit',
        '0.3',
        '--mem-limit',
        '0.1',
        '--schedulers',
        'greedy-cp',
      ),
      /no known schedule or heuristic runs within the memory limit 0\.1 per device .*raise the limit/,
    );
  });

  it('long inputs and long deadlocks stay one short line', () => {
    const deadlock = pprl(
      'simulate',
      'greedy-ffirst',
      '--stages',
      '4',
      '--chunks',
      '4',
      '--mem-limit',
      '1.881',
      '--cost-f',
      '1.437',
      '--episodes',
      '22',
    );
    expectUserError(deadlock, /schedule deadlocks: device \d+ is blocked at .*; and \d+ more blocked op\(s\)$/m);
    short(deadlock);
    const nines = pprl('simulate', '1f1b', `--stages=${'9'.repeat(400)}`);
    expectUserError(nines, /--stages: /);
    short(nines);
    const letters = pprl('simulate', '1f1b', '--cost-f', 'a'.repeat(2000));
    expectUserError(
      letters,
      /--cost-f: expected a number or a comma-separated list of numbers \(got "a{80}"\.\.\. \(2000 characters\)\)/,
    );
    short(letters);
  });

  it('an unknown sweep field lists a few fields, not all', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pprl-sweep-field-'));
    const file = join(dir, 'sweep.yaml');
    writeFileSync(file, 'base:\n  problem: { stages: 2, microBatches: 4 }\ngrid:\n  nope: [1]\n');
    const r = pprl('sweep', '--config', file, '--out', join(dir, 'out'), '--dry-run');
    expectUserError(
      r,
      new RegExp(
        /grid\.nope: unknown field; the training config has problem, .*, /.source +
          /\.\.\. \(\d+ fields; packages\/rl\/README\.md lists them\)/.source,
      ),
    );
    short(r);
  });
});
