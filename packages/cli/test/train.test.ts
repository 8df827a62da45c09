// pprl train and pprl evaluate, spawned as a user would run them.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bin, expectUserError, pprl } from './helpers.js';

const tinyConfig = fileURLToPath(new URL('../../rl/configs/tiny.json', import.meta.url));
const bundled = fileURLToPath(new URL('../../rl/checkpoints/h200-6.2b-p4-m16-v2', import.meta.url));

describe('pprl train', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pprl-train-'));

  it('trains the tiny config and prints the result as JSON', () => {
    const out = join(dir, 'run');
    const r = pprl('train', '--config', tinyConfig, '--out', out, '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ finished: true, updates: 8, globalStep: 1024 });
    expect(['wasm', 'cpu', 'tensorflow']).toContain(result.backend);
    expect(Object.keys(result.eval.baselines)).toEqual(['greedy-zb', '1f1b', 'zb-h1']);
    expect(readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n')).toHaveLength(8);
    // a second run into the same directory needs --resume; with it, a finished run has nothing left to do
    expectUserError(pprl('train', '--config', tinyConfig, '--out', out), /already holds a training run; pass --resume/);
    expect(pprl('train', '--config', tinyConfig, '--out', out, '--resume', '--json').code).toBe(0);
  }, 60_000);

  it('stops at SIGINT with a checkpoint, and --resume finishes the run', async () => {
    const out = join(dir, 'interrupted');
    const config = join(dir, 'longer.json');
    const base = JSON.parse(readFileSync(tinyConfig, 'utf8'));
    writeFileSync(
      config,
      JSON.stringify({ ...base, totalSteps: 200 * 128, evalInterval: 0, checkpointInterval: 1000 }),
    );
    const child = spawn(process.execPath, [bin, 'train', '--config', config, '--out', out], { stdio: 'pipe' });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    // interrupt once a few updates are logged
    while (!existsSync(join(out, 'log.jsonl')) || readFileSync(join(out, 'log.jsonl'), 'utf8').split('\n').length < 4)
      await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(130);
    expect(stdout).toMatch(/stopped early; --resume continues/);
    expect(existsSync(join(out, 'result.json'))).toBe(false);
    expect(readdirSync(out).some((f) => f.endsWith('.tmp'))).toBe(false);
    const done = pprl('train', '--config', config, '--out', out, '--resume', '--json');
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ finished: true, updates: 200, timeUnit: null });
    expect(readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n')).toHaveLength(200);
  }, 120_000);

  it('names the field of a bad config and writes nothing', () => {
    const bad = join(dir, 'bad.json');
    const out = join(dir, 'never');
    writeFileSync(bad, JSON.stringify({ ...JSON.parse(readFileSync(tinyConfig, 'utf8')), entropyCoeff: 0.1 }));
    expectUserError(pprl('train', '--config', bad, '--out', out), /entropyCoeff/);
    writeFileSync(bad, JSON.stringify({ ...JSON.parse(readFileSync(tinyConfig, 'utf8')), clip: -1 }));
    expectUserError(pprl('train', '--config', bad, '--out', out), /^pprl: error: clip: .*0/);
    writeFileSync(bad, '{ not json');
    expectUserError(pprl('train', '--config', bad, '--out', out), /--config: .* is not valid JSON/);
    expectUserError(pprl('train', '--config', join(dir, 'missing.json'), '--out', out), /--config: cannot read/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});

describe('pprl train with a teacher', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pprl-teacher-'));
  const cloneOnly = (name: string, problem: object, teacher: string, extra: object) => {
    const config = join(dir, `${name}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        problem: { ...problem, cost: { F: 1, B: 1.2, W: 0.8 }, comm: { time: 0.05 }, noise: { cv: 0, seed: 5 } },
        envs: 16,
        stepsPerRollout: 32,
        totalSteps: 0,
        minibatches: 4,
        evalInterval: 5,
        evalEpisodes: 8,
        allowWait: true,
        memoryRule: 'lowest',
        teacher: { schedule: teacher, cloneSteps: 60 * 16 * 32, studentShare: 0.3, cloneLearningRate: 3e-3 },
        ...extra,
      }),
    );
    const out = join(dir, name);
    const r = pprl('train', '--config', config, '--out', out, '--json');
    expect(r.code).toBe(0);
    return { out, result: JSON.parse(r.stdout) };
  };

  it.each([
    ['zb-h1', 'zb-h1', { stages: 3, microBatches: 6 }, {}],
    ['zb-v', 'zb-v', { stages: 3, microBatches: 6, chunks: 2, placement: 'v' }, {}],
    // two vectors of environments (noise levels, here both 0): evaluation runs in a vector of its own, with the plan
    [
      'zb-v on two noise levels',
      'zb-v',
      { stages: 3, microBatches: 6, chunks: 2, placement: 'v' },
      { noiseLevels: [0, 0] },
    ],
  ])(
    'cloning %s at cv 0 reproduces its makespan, and the best evaluation is kept in best/',
    (name, teacher, problem, extra) => {
      const { out, result } = cloneOnly(name.replace(/ /g, '-'), problem, teacher, extra);
      expect(result).toMatchObject({ finished: true, updates: 60, cloneUpdates: 60 });
      // every episode is the same at cv 0: the cloned greedy policy takes exactly its teacher's time
      expect(result.eval.policy).toBe(result.eval.baselines[teacher]);
      const log = readFileSync(join(out, 'log.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const evals = log.filter((l) => l.eval).map((l) => l.eval.policy as number);
      expect(result.best.policy).toBe(Math.min(...evals));
      const meta = JSON.parse(readFileSync(join(out, 'best', 'meta.json'), 'utf8'));
      expect(meta.evalMakespan).toBe(result.best.policy);
      expect(existsSync(join(out, 'best', 'params.bin'))).toBe(true);
      // and it evaluates from best/ with its plan rebuilt for the problem: at cv 0 every episode takes the makespan its
      // run recorded (best/ may hold a policy from mid-cloning that is faster than the teacher on this small problem)
      const e = pprl(
        'evaluate',
        '--policy',
        join(out, 'best'),
        '--noise',
        '0',
        '--episodes',
        '4',
        '--schedulers',
        teacher,
        '--json',
      );
      expect(e.code).toBe(0);
      const evaluated = JSON.parse(e.stdout);
      expect(evaluated.policy.makespan.mean).toBeCloseTo(result.best.policy, 9);
      expect(evaluated.baselines[teacher].makespan.mean).toBeCloseTo(result.eval.baselines[teacher], 9);
    },
    300_000,
  );
});

describe('pprl train on a problem set', () => {
  it("clones each problem's own teacher (zb-h1 for V = 1, zb-v for V = 2) " +
    'and evaluates on problems it never saw', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pprl-problem-set-'));
    const config = join(dir, 'set.json');
    writeFileSync(
      config,
      JSON.stringify({
        problemSet: { count: 4, seed: 2, stages: [2, 3], microBatchesPerStage: [2, 3], cv: [0, 0] },
        envs: 8,
        stepsPerRollout: 32,
        totalSteps: 0,
        minibatches: 4,
        evalInterval: 10,
        evalEpisodes: 8,
        allowWait: true,
        memoryRule: 'lowest',
        teacher: {
          schedule: { 1: 'zb-h1', 2: 'zb-v' },
          cloneSteps: 80 * 8 * 32,
          studentShare: 0.3,
          cloneLearningRate: 3e-3,
        },
      }),
    );
    const out = join(dir, 'run');
    const r = pprl('train', '--config', config, '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    // scored against each problem's teacher: 1 is the teacher itself; the clone matches it at cv 0
    expect(result.eval).toMatchObject({ episodes: 8, baselines: { teacher: 1 } });
    expect(result.eval.policy).toBeCloseTo(1, 2);
    // a problem set has no problem of its own: evaluate names the options to give
    expectUserError(
      pprl('evaluate', '--policy', out, '--episodes', '4'),
      /--stages: this policy was trained on a problem set: give the problem/,
    );
    // zero-shot on a larger problem, in both chunk counts (each with its plan rebuilt for that problem)
    for (const [chunks, teacher] of [
      ['1', 'zb-h1'],
      ['2', 'zb-v'],
    ] as const) {
      const e = pprl(
        'evaluate',
        '--policy',
        out,
        '--stages',
        '4',
        '--micro-batches',
        '8',
        '--chunks',
        chunks,
        '--placement',
        chunks === '2' ? 'v' : 'loop',
        '--cost-b',
        '1.5',
        '--episodes',
        '4',
        '--schedulers',
        teacher,
        '--oracle-episodes',
        '0',
        '--json',
      );
      expect(e.code, e.stderr).toBe(0);
      const evaluated = JSON.parse(e.stdout);
      expect(evaluated).toMatchObject({ stages: 4, microBatches: 8, heldOut: true });
      expect(evaluated.policy.makespan.mean).toBeGreaterThan(0);
    }
    // --policy-chunks 2 cuts the model into two half-size chunks as zb-v runs it: at cv 0 the clone of zb-v on the
    // set is compared on the same split problem (the same lower bound)
    const whole = [
      '--stages',
      '4',
      '--micro-batches',
      '8',
      '--cost-b',
      '1.5',
      '--episodes',
      '4',
      '--schedulers',
      'zb-v',
      '--oracle-episodes',
      '0',
      '--json',
    ];
    const split = JSON.parse(pprl('evaluate', '--policy', out, '--policy-chunks', '2', ...whole).stdout);
    const explicit = JSON.parse(
      pprl(
        'evaluate',
        '--policy',
        out,
        '--chunks',
        '2',
        '--placement',
        'v',
        '--cost-f',
        '0.5',
        '--cost-b',
        '0.75',
        '--cost-w',
        '0.5',
        '--mem-f',
        '0.5',
        '--mem-w',
        '-0.5',
        ...whole.slice(6),
      ).stdout,
    );
    expect(split.policy.makespan.mean).toBe(explicit.policy.makespan.mean);
    expect(split.gaps.policy.toLowerBound).toBe(explicit.gaps.policy.toLowerBound);
    expectUserError(
      pprl('evaluate', '--policy', out, '--policy-chunks', '3', ...whole),
      /its teacher names no schedule for 3 chunks per device/,
    );
    expectUserError(
      pprl('evaluate', '--policy', bundled, '--policy-chunks', '1', '--episodes', '4'),
      new RegExp(
        /--policy-chunks: is for policies trained on a problem set or ranges; /.source +
          /this one runs the model as it was trained \(V = 2, not 1\)/.source,
      ),
    );
    expectUserError(
      pprl('compare', '--schedulers', `ppo:${out}`, '--policy-chunks', 'x'),
      /--policy-chunks: must be an integer in \[1, 16\] \(got "x"\)/,
    );
  }, 300_000);
});

describe('pprl evaluate', () => {
  it('prints the JSON contract for the bundled policy', () => {
    const r = pprl(
      'evaluate',
      '--policy',
      bundled,
      '--noise',
      '0.2',
      '--episodes',
      '100',
      '--schedulers',
      'zb-h1,zb-v,greedy-zb',
      '--json',
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ episodes: 100, noise: 0.2, stages: 4, microBatches: 16, seed: 0, heldOut: true });
    expect(Object.keys(out.policy.makespan)).toEqual(['mean', 'p50', 'p95', 'p99', 'min', 'max']);
    expect(Object.keys(out.baselines)).toEqual(['zb-h1', 'zb-v', 'greedy-zb']);
    // every scheduler at the policy's memory limit (P activations of the 6.2B profile), each peak within it
    expect(out.memLimitBytes).toBe(2116304896);
    expect(out.peakMemoryBytes.policy).toBeLessThanOrEqual(out.memLimitBytes);
    for (const name of ['zb-h1', 'zb-v', 'greedy-zb'])
      expect(out.peakMemoryBytes.baselines[name]).toBeLessThanOrEqual(out.memLimitBytes * (1 + 1e-9));
    expect(out.peakMemoryBytes.baselines['zb-h1']).toBeCloseTo(out.memLimitBytes, -3);
    for (const b of Object.values(out.baselines) as {
      makespan: { mean: number };
      diffToPolicy: { mean: number; ci95: [number, number] };
    }[]) {
      expect(b.diffToPolicy.mean).toBeCloseTo(b.makespan.mean - out.policy.makespan.mean, 6);
      expect(b.diffToPolicy.ci95[0]).toBeLessThanOrEqual(b.diffToPolicy.mean);
      expect(b.diffToPolicy.ci95[1]).toBeGreaterThanOrEqual(b.diffToPolicy.mean);
    }
  });

  it('prints a table by default and evaluates on another problem', () => {
    const r = pprl(
      'evaluate',
      '--policy',
      bundled,
      '--stages',
      '6',
      '--micro-batches',
      '12',
      '--cost-b',
      '1.3',
      '--noise',
      '0.1',
      '--episodes',
      '50',
      '--schedulers',
      '1f1b,greedy-zb',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/P=6 M=12, noise cv 0.1, 50 episodes/);
    expect(r.stdout).toMatch(/ppo \(greedy\)/);
  });

  it('explains a missing or corrupt policy and bad options in one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pprl-eval-'));
    expectUserError(pprl('evaluate', '--policy', join(dir, 'nope')), /no checkpoint at .*does not exist/);
    expectUserError(pprl('evaluate', '--policy', dir), /neither meta.json/);
    writeFileSync(join(dir, 'meta.json'), '{}');
    expectUserError(pprl('evaluate', '--policy', dir), /corrupt checkpoint .*meta.json/);
    expectUserError(pprl('evaluate', '--policy', bundled, '--episodes', '0'), /--episodes/);
    expectUserError(
      pprl('evaluate', '--policy', bundled, '--schedulers', 'zb-h9'),
      /--schedulers: unknown scheduler "zb-h9"/,
    );
  }, 60_000);
});

describe('pprl train and evaluate on problems without decisions or that deadlock', () => {
  /** The ends of the errors for one micro-batch on two devices, and for a memory limit of 1 in a config. */
  const ONE_MICRO_BATCH =
    /: 1 micro-batch on 2 devices leaves a policy nothing to decide .*allowed: at least 2 for this problem$/.source;
  const OR_NULL = /allowed: at least 2, or null for none$/.source;
  const dir = mkdtempSync(join(tmpdir(), 'pprl-infeasible-'));
  const tiny = JSON.parse(readFileSync(tinyConfig, 'utf8'));
  /** Trains `config` into a fresh directory: it must be refused in one line naming the field, before --out exists. */
  const refused = (name: string, config: object, pattern: RegExp) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(config));
    const out = join(dir, `${name}-run`);
    expectUserError(pprl('train', '--config', file, '--out', out), pattern);
    expect(existsSync(out)).toBe(false);
  };

  it('one micro-batch: every op is forced, so microBatches is named with the fewest that work', () => {
    refused(
      'm1',
      { ...tiny, problem: { ...tiny.problem, microBatches: 1 } },
      new RegExp(/^pprl: error: problem\.microBatches/.source + ONE_MICRO_BATCH, 'm'),
    );
  }, 60_000);

  it('a memory limit of one activation, or below one micro-batch of forwards: ' +
    'the limit is named with the smallest that works', () => {
    refused(
      'limit1',
      { ...tiny, problem: { ...tiny.problem, memory: { limit: 1 } } },
      new RegExp(/^pprl: error: problem\.memory\.limit: 1 leaves a policy nothing to decide .*/.source + OR_NULL, 'm'),
    );
    refused(
      'limit-below',
      { ...tiny, problem: { ...tiny.problem, memory: { F: 2, W: -2, limit: 1 } } },
      new RegExp(
        /^pprl: error: problem\.memory\.limit: 1 deadlocks every episode: device \d+ must hold .*; /.source + OR_NULL,
        'm',
      ),
    );
    // a profile problem (whose teacher could not be built either): its memLimit, before the teacher is looked at
    const profile = JSON.parse(
      readFileSync(fileURLToPath(new URL('../../rl/configs/h200-6.2b-p4-m16-v1.json', import.meta.url)), 'utf8'),
    );
    refused(
      'profile-limit',
      { ...profile, problem: { ...profile.problem, memLimit: 1 } },
      /^pprl: error: problem\.memLimit: 1 deadlocks every episode: .*allowed: at least \d+/,
    );
  }, 60_000);

  it('the plain memory rule trapping itself with two chunks names memoryRule', () => {
    refused(
      'plain',
      { ...tiny, memoryRule: 'plain', problem: { ...tiny.problem, chunks: 2, memory: { limit: 2 } } },
      new RegExp(
        /^pprl: error: memoryRule: 'plain' deadlocks on this problem before its first decision /.source +
          /.*use 'reserve' or 'lowest'/.source,
      ),
    );
  }, 60_000);

  it('evaluate names its problem option', () => {
    const policy = join(dir, 'policy');
    expect(pprl('train', '--config', tinyConfig, '--out', policy, '--json').code).toBe(0);
    const evaluate = (...args: string[]) =>
      pprl('evaluate', '--policy', policy, '--episodes', '4', '--oracle-episodes', '0', ...args);
    expectUserError(
      evaluate('--stages', '2', '--micro-batches', '1'),
      new RegExp(/^pprl: error: --micro-batches/.source + ONE_MICRO_BATCH, 'm'),
    );
    expectUserError(
      evaluate('--stages', '2', '--micro-batches', '4', '--mem-limit', '1'),
      new RegExp(
        /^pprl: error: --mem-limit: 1 leaves a policy nothing to decide /.source +
          /.*allowed: at least 2, or omit --mem-limit for none$/.source,
        'm',
      ),
    );
    expectUserError(
      evaluate('--stages', '2', '--micro-batches', '4', '--mem-f', '2', '--mem-w', '-2', '--mem-limit', '1'),
      /^pprl: error: --mem-limit: 1 deadlocks every episode: .*allowed: at least 2,/,
    );
    expect(evaluate('--stages', '2', '--micro-batches', '4', '--mem-limit', '2').code).toBe(0);
  }, 120_000);
});
