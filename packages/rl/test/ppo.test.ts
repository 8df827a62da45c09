// Training runs end to end on a tiny problem: determinism, exact resume, checkpoints, config errors, evaluation.
import { ConfigError, resolveProblem, UserError, WasmEnv } from '@pprl/core-wasm';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../src/checkpoint.js';
import { parseTrainConfig, type TrainConfigInput } from '../src/config.js';
import { BUNDLED_POLICIES, bundledPolicyDir } from '../src/bundled.js';
import { configProblemSet, envOptionsOf } from '../src/config.js';
import { checkPlan, chunksOfLayout, evaluatePolicy, loadPolicy } from '../src/evaluate.js';
import { train, type UpdateLog } from '../src/ppo.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'pprl-ppo-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const tiny: TrainConfigInput = {
  problem: {
    stages: 3,
    microBatches: 6,
    cost: { F: 1, B: 1.2, W: 0.8 },
    comm: { time: 0.05 },
    noise: { cv: 0.2, seed: 7 },
  },
  envs: 8,
  stepsPerRollout: 16,
  totalSteps: 8 * 16 * 6,
  minibatches: 2,
  epochs: 2,
  network: { hidden: [16, 16] },
  evalInterval: 2,
  evalEpisodes: 24,
  checkpointInterval: 2,
  seed: 3,
};

/** The deterministic fields of a log line (timings vary run to run). */
function learned(line: UpdateLog) {
  const { stepsPerSec, rolloutSeconds, updateSeconds, ...rest } = line;
  void stepsPerSec;
  void rolloutSeconds;
  void updateSeconds;
  return rest;
}

function logOf(dir: string): UpdateLog[] {
  return readFileSync(path.join(dir, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as UpdateLog);
}

function finalParams(dir: string): number[] {
  return Array.from(loadCheckpoint(dir, false).params);
}

describe('train', async () => {
  const reference = path.join(root, 'reference');
  const result = await train(tiny, { outDir: reference });

  it('runs every update, logs one line per update and writes the result', () => {
    expect(result.finished).toBe(true);
    expect(result.updates).toBe(6);
    expect(result.globalStep).toBe(6 * 128);
    expect(['wasm', 'cpu', 'tensorflow']).toContain(result.backend);
    const log = logOf(reference);
    expect(log.map((l) => l.update)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(log.filter((l) => l.eval).map((l) => l.update)).toEqual([2, 4, 6]);
    for (const l of log) {
      expect(Number.isFinite(l.entropy) && l.entropy > 0).toBe(true);
      expect(l.clipFraction).toBeGreaterThanOrEqual(0);
      expect(l.learningRate).toBeCloseTo(1e-3 * (1 - (l.update - 1) / 6), 12);
    }
    // the first minibatch's ratio is exactly 1 up to float32 rounding: TF.js and WebAssembly agree on log-probs
    expect(log[0]!.approxKl).toBeLessThan(0.01);
    const eval6 = log[5]!.eval!;
    expect(Object.keys(eval6.baselines)).toEqual(['greedy-zb']);
    expect(JSON.parse(readFileSync(path.join(reference, 'result.json'), 'utf8')).updates).toBe(6);
    expect(readdirSync(reference).filter((f) => f.startsWith('ckpt-'))).toEqual(['ckpt-000004', 'ckpt-000006']);
  });

  it('is deterministic: the same config gives the same weights and log', async () => {
    const again = path.join(root, 'again');
    await train(tiny, { outDir: again });
    expect(finalParams(again)).toEqual(finalParams(reference));
    expect(logOf(again).map(learned)).toEqual(logOf(reference).map(learned));
  });

  it('resumes a run stopped part-way to exactly the weights of an uninterrupted run', async () => {
    const dir = path.join(root, 'resumed');
    const partial = await train(tiny, { outDir: dir, stopAfter: 3 });
    expect(partial.finished).toBe(false);
    expect(partial.updates).toBe(3);
    expect(existsSync(path.join(dir, 'result.json'))).toBe(false);
    // what a kill during the next update leaves behind: a half-written log line and a temporary checkpoint
    appendFileSync(path.join(dir, 'log.jsonl'), '{"update": 4, "glob');
    mkdirSync(path.join(dir, 'ckpt-000004.tmp-99999'));
    writeFileSync(path.join(dir, '.result.json.host.99999.abcd1234.tmp'), '{"half');
    const rest = await train(tiny, { outDir: dir, resume: true });
    expect(rest.finished).toBe(true);
    expect(finalParams(dir)).toEqual(finalParams(reference));
    expect(logOf(dir).map(learned)).toEqual(logOf(reference).map(learned));
    expect(readdirSync(dir).some((f) => f.includes('.tmp-') || f.endsWith('.tmp'))).toBe(false);
  });

  it('a finished run resumed without its result.json writes it again with the final evaluation', async () => {
    const dir = path.join(root, 'no-result');
    await train(tiny, { outDir: dir });
    const before = JSON.parse(readFileSync(path.join(dir, 'result.json'), 'utf8'));
    rmSync(path.join(dir, 'result.json'));
    const again = await train(tiny, { outDir: dir, resume: true });
    expect(again.eval).toEqual(before.eval);
    expect(logOf(dir)).toHaveLength(6);
  });

  it('trains on several noise levels at once, resumably', async () => {
    const mixed = { ...tiny, noiseLevels: [0, 0.3] };
    const whole = path.join(root, 'levels-whole');
    const split = path.join(root, 'levels-split');
    const a = await train(mixed, { outDir: whole });
    await train(mixed, { outDir: split, stopAfter: 2 });
    await train(mixed, { outDir: split, resume: true });
    expect(finalParams(split)).toEqual(finalParams(whole));
    // the baselines are evaluated at the problem's own cv (0.2), as without levels
    expect(a.eval!.baselines).toEqual(result.eval!.baselines);
    expect(finalParams(whole)).not.toEqual(finalParams(reference));
  });

  it(
    'trains on a problem set ' + '(one vector per problem, scored against greedy-zb without a teacher), resumably',
    async () => {
      const { problem: _, ...rest } = tiny;
      void _;
      const set = {
        ...rest,
        problemSet: {
          count: 4,
          seed: 5,
          stages: [2, 3] as [number, number],
          microBatchesPerStage: [2, 3] as [number, number],
        },
        memoryRule: 'lowest' as const,
      };
      const whole = path.join(root, 'set-whole');
      const split = path.join(root, 'set-split');
      const a = await train(set, { outDir: whole });
      await train(set, { outDir: split, stopAfter: 3 });
      await train(set, { outDir: split, resume: true });
      expect(finalParams(split)).toEqual(finalParams(whole));
      expect(logOf(split).map(learned)).toEqual(logOf(whole).map(learned));
      // relative scores: greedy-zb is the reference (1), 6 episodes per problem (ceil(24 / 4))
      expect(a.eval!.baselines).toEqual({ 'greedy-zb': 1 });
      expect(a.eval!.episodes).toBe(24);
      expect(a.eval!.policy).toBeGreaterThan(0.5);
      // a teacher needs one schedule per problem of the set
      await expect(
        train({ ...set, teacher: { schedule: 'zb-h1', cloneSteps: 128 } }, { outDir: path.join(root, 'set-teacher') }),
      ).rejects.toThrow(/needs one schedule per problem of the set/);
    },
  );

  it('refuses to overwrite a run, and to resume with another config', async () => {
    await expect(train(tiny, { outDir: reference })).rejects.toThrow(UserError);
    await expect(train({ ...tiny, seed: 4 }, { outDir: reference, resume: true })).rejects.toThrow(/another config/);
  });

  it('loads a policy and evaluates it paired against baselines', async () => {
    const policy = loadPolicy(reference);
    expect(policy.meta.iteration).toBe(6);
    const problem = resolveProblem({
      ...policy.problem!.config,
      noise: { ...policy.problem!.config.noise, cv: 0.3, seed: 0 },
    });
    const report = await evaluatePolicy(policy, {
      problem,
      episodes: 50,
      baselines: { 'greedy-zb': 'greedy-zb', 'greedy-ffirst': 'greedy-ffirst' },
    });
    expect(report.episodes).toBe(50);
    expect(report.noise).toBe(0.3);
    const d = report.baselines['greedy-zb']!;
    expect(d.diffToPolicy.mean).toBeCloseTo(d.makespan.mean - report.policy.makespan.mean, 9);
    expect(d.diffToPolicy.ci95[0]).toBeLessThanOrEqual(d.diffToPolicy.mean);
    // a policy compared with itself differs by exactly zero
    const self = await evaluatePolicy(policy, { problem, episodes: 50, baselines: {} });
    expect(self.policy.makespan).toEqual(report.policy.makespan);
  });
});

describe('config and checkpoint errors', () => {
  it('names unknown keys and out-of-range values', () => {
    expect(() => parseTrainConfig({ ...tiny, learningRat: 0.1 })).toThrow(/learningRat/);
    expect(() => parseTrainConfig({ ...tiny, gamma: 1.5 })).toThrow(/^gamma: /);
    expect(() => parseTrainConfig({ ...tiny, network: { hidden: [0] } })).toThrow(/^network\.hidden\[0\]: /);
    expect(() => parseTrainConfig({ ...tiny, problem: undefined })).toThrow(
      /^problem: give exactly one of problem, ranges and problemSet/,
    );
    expect(() => parseTrainConfig({ ...tiny, problem: { ...(tiny.problem as object), stages: 0 } })).toThrow(
      ConfigError,
    );
    expect(() => parseTrainConfig({ ...tiny, minibatches: 1000 })).toThrow(/^minibatches: must not exceed the batch/);
    expect(() => parseTrainConfig({ ...tiny, noiseLevels: [0, 0.1, 0.2] })).toThrow(
      /^noiseLevels: envs \(8\) must be a multiple/,
    );
    expect(() => parseTrainConfig({ ...tiny, noiseLevels: [4] })).toThrow(/^noiseLevels\[0\]: /);
  });

  it('refuses a problem with more chunks per device than the network reads (fuzz case of seed 99)', () => {
    const policy = loadPolicy(bundledPolicyDir('h200-6.2b-p4-m16-v1'));
    expect(chunksOfLayout(policy.layout)).toBe(1);
    expect(() => checkPlan(policy, { chunks: 3 })).toThrow(
      /reads observations of at most 1 chunk per device .*; the problem has 3 \(--chunks\)/,
    );
    expect(() => checkPlan(policy, { chunks: 1 })).toThrow(
      /observes the plan of its teacher zb-h1: give that schedule/,
    );
  });

  it('says what is wrong with a missing or corrupt checkpoint', () => {
    expect(() => loadPolicy(path.join(root, 'nowhere'))).toThrow(/does not exist/);
    const empty = path.join(root, 'empty');
    mkdirSync(empty);
    expect(() => loadPolicy(empty)).toThrow(/neither meta.json/);
    const broken = path.join(root, 'broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'meta.json'), '{"format": "pprl-ppo-checkpoint"');
    expect(() => loadPolicy(broken)).toThrow(/corrupt checkpoint .*meta.json is not valid JSON/);
    const truncated = path.join(root, 'truncated');
    mkdirSync(truncated);
    const src = path.join(root, 'reference', 'ckpt-000006');
    writeFileSync(path.join(truncated, 'meta.json'), readFileSync(path.join(src, 'meta.json')));
    writeFileSync(path.join(truncated, 'params.bin'), readFileSync(path.join(src, 'params.bin')).subarray(0, 40));
    expect(() => loadPolicy(truncated)).toThrow(/params.bin holds 10 values/);
    expect(() => loadCheckpoint(truncated, true)).toThrow(UserError);
  });
});

describe('bundled policies', () => {
  it.each(BUNDLED_POLICIES)(
    '%s: loads, fits the current environment, and is the best evaluation of its run',
    async (name) => {
      const dir = bundledPolicyDir(name);
      const policy = loadPolicy(dir);
      const result = JSON.parse(readFileSync(path.join(dir, 'result.json'), 'utf8'));
      expect(result.finished).toBe(true);
      expect(policy.meta.evalMakespan).toBe(result.best.policy);
      expect(policy.meta.iteration).toBe(result.best.update);
      // the observation layout of today's environment, with the options it was trained with
      // (a generalist has no problem of its own: the first of its set)
      const problem = policy.problem ?? configProblemSet(policy.config)![0]!.problem;
      const env = await WasmEnv.create({
        ...envOptionsOf(policy.config),
        numEnvs: 1,
        problem,
        maxChunks: chunksOfLayout(policy.layout),
      });
      expect(env.obsDim).toBe(policy.layout.obsDim);
      expect(env.numActions).toBe(policy.layout.actions);
      env.dispose();
    },
  );
});
