// pprl sweep end to end: a sweep of 8 tiny trainings with two workers, uninterrupted (the reference), interrupted
// with SIGINT, killed with SIGKILL (the sweep and its trainings) and rerun, shared by two sweep processes, and run
// as three shards; each must end with every run trained exactly once and results equal to the reference.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname as hostnameOf, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLock, STALE_MS } from '../src/sweep/lock.js';
import { expandSweep, shardOf } from '../src/sweep/plan.js';
import { bin, pprlWithEnv } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'pprl-sweep-'));

/** tiny.json with 16 updates of 128 steps (about a second per training), a checkpoint every 2 updates. */
const SWEEP_YAML = `# 4 seeds x 2 learning rates
base:
  problem: { stages: 2, microBatches: 4, cost: { F: 1, B: 1.2, W: 0.8 }, noise: { cv: 0.2, seed: 7 } }
  envs: 8
  stepsPerRollout: 16
  totalSteps: 2048
  minibatches: 2
  network: { hidden: [16, 16] }
  evalInterval: 4
  evalEpisodes: 32
  checkpointInterval: 2
grid:
  seed: [1, 2, 3, 4]
  learningRate: [3.0e-4, 1.0e-3]
`;
const UPDATES = 16;
const sweepFile = join(root, 'sweep.yaml');
writeFileSync(sweepFile, SWEEP_YAML);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const pprl = pprlWithEnv;

function start(
  args: string[],
  detached = false,
): { child: ChildProcess; exit: Promise<{ code: number | null; signal: string | null }> } {
  const child = spawn(process.execPath, [bin, ...args], { stdio: 'ignore', detached });
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exit };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}

const runsDir = (out: string) => join(out, 'runs');
const runIds = (out: string): string[] =>
  (JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as { runs: { id: string }[] }).runs.map((r) => r.id);
const finishedCount = (out: string) =>
  existsSync(runsDir(out))
    ? readdirSync(runsDir(out)).filter((id) => existsSync(join(runsDir(out), id, 'result.json'))).length
    : 0;
/** A training with a checkpoint but no result yet: killing now interrupts a run part-way. */
const midRun = (out: string) =>
  existsSync(runsDir(out)) &&
  readdirSync(runsDir(out)).some(
    (id) => existsSync(join(runsDir(out), id, 'latest.json')) && !existsSync(join(runsDir(out), id, 'result.json')),
  );

const readLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/**
 * Everything deterministic about a finished sweep: per run the final evaluation, the log without timings, and the
 * final weights.
 */
function results(out: string) {
  return Object.fromEntries(
    runIds(out).map((id) => {
      const dir = join(runsDir(out), id);
      const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
      const latest = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')).checkpoint as string;
      const log = readLines(join(dir, 'log.jsonl')).map(
        ({ stepsPerSec, rolloutSeconds, updateSeconds, ...rest }) => rest,
      );
      const params = createHash('sha256')
        .update(readFileSync(join(dir, latest, 'params.bin')))
        .digest('hex');
      return [
        id,
        {
          finished: result.finished,
          updates: result.updates,
          globalStep: result.globalStep,
          eval: result.eval,
          checkpoint: latest,
          params,
          log,
        },
      ];
    }),
  );
}

/**
 * Every run trained exactly once: its log has one line per update in order (train truncates what follows the
 * checkpoint it resumes from), one session ended with the run finished, and no session started a finished run.
 */
function expectEachRunOnce(out: string) {
  for (const id of runIds(out)) {
    const dir = join(runsDir(out), id);
    expect(readLines(join(dir, 'log.jsonl')).map((l) => l.update)).toEqual(
      Array.from({ length: UPDATES }, (_, i) => i + 1),
    );
    const sessions = readLines(join(dir, 'sweep-sessions.jsonl'));
    const starts = sessions.filter((s) => s.event === 'start');
    expect(starts.every((s) => (s.fromUpdate as number) < UPDATES)).toBe(true);
    expect(sessions.filter((s) => s.event === 'end' && s.finished === true)).toHaveLength(1);
    expect(existsSync(join(dir, 'sweep.lock'))).toBe(false);
  }
}

/** report.csv without the columns that time the machine. */
function reportTable(out: string): string[][] {
  const rows = readFileSync(join(out, 'report.csv'), 'utf8')
    .split('\r\n')
    .filter(Boolean)
    .map((l) => l.split(','));
  const keep = rows[0]!.map((name, i) => (['stepsPerSec', 'seconds'].includes(name) ? -1 : i)).filter((i) => i >= 0);
  return rows.map((r) => keep.map((i) => r[i]!));
}

const reference = join(root, 'reference');
let referenceResults: ReturnType<typeof results>;
let referenceSeconds = 0;

describe('pprl sweep', () => {
  beforeAll(() => {
    const t0 = Date.now();
    const r = pprl(['sweep', '--config', sweepFile, '--out', reference, '--workers', '2', '--json']);
    referenceSeconds = (Date.now() - t0) / 1000;
    expect(r.code, r.stderr).toBe(0);
    referenceResults = results(reference);
  }, 120_000);

  it('runs 8 trainings with 2 workers, each once; a rerun of the finished sweep starts nothing', () => {
    console.log(`uninterrupted sweep of 8 runs with 2 workers: ${referenceSeconds.toFixed(1)} s`);
    expect(Object.keys(referenceResults)).toHaveLength(8);
    for (const r of Object.values(referenceResults))
      expect(r).toMatchObject({ finished: true, updates: UPDATES, globalStep: 2048 });
    expectEachRunOnce(reference);
    for (const id of runIds(reference))
      expect(
        readLines(join(reference, 'runs', id, 'sweep-sessions.jsonl')).filter((s) => s.event === 'start'),
      ).toHaveLength(1);
    // ids: a readable slug of the varied settings and a hash of the whole config
    expect(runIds(reference)[0]).toMatch(/^seed=1_learningRate=0\.0003-[0-9a-f]{12}$/);

    const again = pprl(['sweep', '--config', sweepFile, '--out', reference, '--workers', '2', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      runs: 8,
      alreadyFinished: 8,
      trained: [],
      failed: [],
      interrupted: null,
    });
    for (const id of runIds(reference))
      expect(readLines(join(reference, 'runs', id, 'sweep-sessions.jsonl'))).toHaveLength(2);
  }, 60_000);

  it('interrupted with SIGINT part-way (exit 130), then rerun: ' +
    'complete, each run once, results identical', async () => {
    const out = join(root, 'sigint');
    const t0 = Date.now();
    const { child, exit } = start(['sweep', '--config', sweepFile, '--out', out, '--workers', '2']);
    await waitFor('2 runs have finished and another is part-way', () => finishedCount(out) >= 2 && midRun(out));
    child.kill('SIGINT');
    const stopped = await exit;
    expect(stopped.code).toBe(130);
    const finishedAtStop = finishedCount(out);
    expect(finishedAtStop).toBeLessThan(8);
    const rerun = pprl(['sweep', '--config', sweepFile, '--out', out, '--workers', '2', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(JSON.parse(rerun.stdout)).toMatchObject({ alreadyFinished: finishedAtStop, failed: [], interrupted: null });
    console.log(`SIGINT with ${finishedAtStop}/8 finished, rerun: ${((Date.now() - t0) / 1000).toFixed(1)} s in all`);
    expectEachRunOnce(out);
    expect(results(out)).toEqual(referenceResults);
  }, 90_000);

  it('killed with SIGKILL (the sweep and its trainings) part-way, then rerun: ' +
    'resumes from checkpoints, each run once, results identical', async () => {
    const out = join(root, 'sigkill');
    const t0 = Date.now();
    // its own process group, so that one kill reaches the sweep and every training it started
    const { child, exit } = start(['sweep', '--config', sweepFile, '--out', out, '--workers', '2'], true);
    await waitFor('2 runs have finished and another has a checkpoint', () => finishedCount(out) >= 2 && midRun(out));
    process.kill(-child.pid!, 'SIGKILL');
    expect((await exit).signal).toBe('SIGKILL');
    const finishedAtKill = finishedCount(out);
    expect(finishedAtKill).toBeLessThan(8);
    // the killed sweep left its locks behind; their processes are gone, so the rerun takes them over
    expect(runIds(out).some((id) => existsSync(join(out, 'runs', id, 'sweep.lock')))).toBe(true);
    const rerun = pprl(['sweep', '--config', sweepFile, '--out', out, '--workers', '2', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(JSON.parse(rerun.stdout)).toMatchObject({ alreadyFinished: finishedAtKill, failed: [], interrupted: null });
    console.log(`SIGKILL with ${finishedAtKill}/8 finished, rerun: ${((Date.now() - t0) / 1000).toFixed(1)} s in all`);
    expectEachRunOnce(out);
    const resumed = runIds(out).flatMap((id) =>
      readLines(join(out, 'runs', id, 'sweep-sessions.jsonl')).filter(
        (s) => s.event === 'start' && (s.fromUpdate as number) > 0,
      ),
    );
    expect(resumed.length).toBeGreaterThan(0);
    expect(results(out)).toEqual(referenceResults);
  }, 90_000);

  it('two sweep processes on one directory share the runs: each trained once', async () => {
    const out = join(root, 'shared');
    const t0 = Date.now();
    const a = start(['sweep', '--config', sweepFile, '--out', out, '--workers', '1']);
    const b = start(['sweep', '--config', sweepFile, '--out', out, '--workers', '1']);
    expect(await a.exit).toEqual({ code: 0, signal: null });
    expect(await b.exit).toEqual({ code: 0, signal: null });
    console.log(`two sweep processes of 1 worker each: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expectEachRunOnce(out);
    for (const id of runIds(out))
      expect(readLines(join(out, 'runs', id, 'sweep-sessions.jsonl')).filter((s) => s.event === 'start')).toHaveLength(
        1,
      );
    expect(results(out)).toEqual(referenceResults);
  }, 90_000);

  it('shards 0/3, 1/3 and 2/3 run separately (index from --shard, SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX) ' +
    'merge into the unsharded report', () => {
    const out = join(root, 'sharded');
    const t0 = Date.now();
    const shards: [string[], NodeJS.ProcessEnv][] = [
      [['--shard', '0/3'], {}],
      [['--shards', '3'], { SLURM_ARRAY_TASK_ID: '1' }],
      [['--shards', '3'], { JOB_COMPLETION_INDEX: '2' }],
    ];
    let finished = 0;
    shards.forEach(([flags, env], index) => {
      const r = pprl(['sweep', '--config', sweepFile, '--out', out, '--workers', '2', '--json', ...flags], env);
      expect(r.code, r.stderr).toBe(0);
      const outcome = JSON.parse(r.stdout);
      expect(outcome.shard).toEqual({ index, count: 3 });
      finished += outcome.trained.length;
      expect(finishedCount(out)).toBe(finished);
    });
    expect(finished).toBe(8);
    console.log(`3 shards one after another: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expectEachRunOnce(out);
    expect(results(out)).toEqual(referenceResults);

    const merged = pprl(['sweep', 'report', '--out', out, '--json']);
    expect(merged.code, merged.stderr).toBe(0);
    expect(JSON.parse(merged.stdout).counts).toEqual({ runs: 8, finished: 8, partial: 0, pending: 0 });
    expect(pprl(['sweep', 'report', '--out', reference]).code).toBe(0);
    expect(reportTable(out)).toEqual(reportTable(reference));
    expect(reportTable(out)[0]).toEqual([
      'id',
      'seed',
      'learningRate',
      'status',
      'updates',
      'globalStep',
      'eval.policy',
      'eval.greedy-zb',
      'eval.1f1b',
      'eval.zb-h1',
      'gapToBestBaseline',
    ]);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('| id | seed | learningRate | status |');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('Training: mean makespan');
    expect(html).toContain('learningRate against the final evaluation');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  }, 90_000);
});

describe('pprl sweep: bad sweep files are rejected before anything runs', () => {
  const base = {
    problem: { stages: 2, microBatches: 4 },
    envs: 8,
    stepsPerRollout: 16,
    totalSteps: 1024,
    minibatches: 2,
  };
  it.each([
    [
      'an unknown grid field',
      { base, grid: { learnRate: [0.001] } },
      /^pprl: error: grid\.learnRate: unknown field; did you mean learningRate\?$/,
    ],
    [
      'an unknown nested field',
      { base, grid: { 'network.width': [16] } },
      /^pprl: error: grid\.network\.width: unknown field; network has hidden, activation/,
    ],
    [
      'an unknown key of the sweep file',
      { base, grid: { seed: [1] }, grids: {} },
      /^pprl: error: grids: unknown field; a sweep file has base, grid and random$/,
    ],
    ['an empty grid', { base, grid: {} }, /^pprl: error: grid: empty grid; give at least one field/],
    ['an empty list', { base, grid: { seed: [] } }, /^pprl: error: grid\.seed: empty list; give at least one value/],
    [
      'a value out of range',
      { base, grid: { learningRate: [0.001, 0.01, 2] } },
      /^pprl: error: grid\.learningRate\[2\]: Too big: expected number to be <=1 \(got 2\)$/,
    ],
    [
      'a problem value out of range',
      { base, grid: { 'problem.noise.cv': [0.1, 5] } },
      /^pprl: error: grid\.problem\.noise\.cv\[1\]: Too big: expected number to be <=3/,
    ],
    [
      'a random range out of range',
      { base, random: { samples: 4, params: { learningRate: { logUniform: [1e-4, 3] } } } },
      /^pprl: error: random\.params\.learningRate\.logUniform\[1\]: Too big/,
    ],
    [
      'a bad base field',
      { base: { ...base, envs: 0 }, grid: { seed: [1, 2] } },
      /^pprl: error: base\.envs: Too small: expected number to be >=1 \(got 0\)$/,
    ],
    [
      'a repeated grid value',
      { base, grid: { seed: [1, 2, 1] } },
      /^pprl: error: grid\.seed\[2\]: duplicate of grid\.seed\[0\]/,
    ],
  ])('%s', (_, sweep, pattern) => {
    const file = join(root, `bad-${createHash('sha256').update(JSON.stringify(sweep)).digest('hex').slice(0, 8)}.json`);
    writeFileSync(file, JSON.stringify(sweep));
    const out = join(root, 'never-created');
    const r = pprl(['sweep', '--config', file, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(pattern);
    expect(existsSync(out)).toBe(false);
  });
});

describe('sweep plan and run locks', () => {
  const base = {
    problem: { stages: 2, microBatches: 4 },
    envs: 8,
    stepsPerRollout: 16,
    totalSteps: 1024,
    minibatches: 2,
  };
  it('expands grid x random samples with ids from the settings, the same whatever the key order', () => {
    const sweep = {
      base,
      grid: { seed: [1, 2], 'problem.noise.cv': [0, 0.2] },
      random: {
        samples: 3,
        seed: 5,
        params: { learningRate: { logUniform: [1e-4, 1e-2] }, 'network.hidden': { choice: [[16], [32, 32]] } },
      },
    };
    const { plan } = expandSweep(sweep);
    expect(plan.runs).toHaveLength(12);
    expect(plan.fields).toEqual(['seed', 'problem.noise.cv', 'learningRate', 'network.hidden']);
    expect(plan.runs[0]!.id).toMatch(/^seed=1_cv=0_learningRate=[0-9.e-]+_hidden=(16|32x32)-[0-9a-f]{12}$/);
    for (const r of plan.runs) expect(r.params.learningRate as number).toBeGreaterThanOrEqual(1e-4);
    // the samples are shared by every grid point, and drawn again identically
    expect(plan.runs[0]!.params.learningRate).toBe(plan.runs[3]!.params.learningRate);
    expect(expandSweep(sweep).plan).toEqual(plan);
    const reordered = expandSweep({
      base: { minibatches: 2, totalSteps: 1024, stepsPerRollout: 16, envs: 8, problem: { microBatches: 4, stages: 2 } },
      grid: sweep.grid,
      random: sweep.random,
    }).plan;
    expect(reordered.runs.map((r) => r.id)).toEqual(plan.runs.map((r) => r.id));
    // a shard is a function of the run, not of its place in the plan
    const shards = plan.runs.map((r) => shardOf(r, 3));
    expect([...plan.runs].reverse().map((r) => shardOf(r, 3))).toEqual([...shards].reverse());
    expect(new Set(shards).size).toBeGreaterThan(1);
  });

  it('run locks: a live holder keeps its lock; a dead one on this host, or a silent one elsewhere, loses it', () => {
    const dir = join(root, 'locks');
    mkdirSync(dir, { recursive: true });
    const lock = acquireLock(dir)!;
    expect(lock).toBeDefined();
    expect(acquireLock(dir)).toBeUndefined();
    lock.release();
    const file = join(dir, 'sweep.lock');
    // this host, processes gone (a pid above any pid_max)
    writeFileSync(file, JSON.stringify({ host: hostnameOf(), pid: 2 ** 30, child: 2 ** 30 + 1, since: '' }));
    acquireLock(dir)!.release();
    // another host: alive while its heartbeat is recent, stale after STALE_MS
    writeFileSync(file, JSON.stringify({ host: 'elsewhere', pid: 1, since: '' }));
    expect(acquireLock(dir)).toBeUndefined();
    const old = new Date(Date.now() - STALE_MS - 1000);
    utimesSync(file, old, old);
    acquireLock(dir)!.release();
    expect(existsSync(file)).toBe(false);
  });
});
