// Problems that cannot be trained on are refused before training, naming the config field and what is allowed:
// a memory limit below one micro-batch's forwards (every episode deadlocks), a problem without any decision (every
// op forced), and the `plain` memory rule trapping itself with several chunks.
import { ConfigError, UserError } from '@pprl/core-wasm';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTrainConfig, type TrainConfigInput } from '../src/config.js';
import { checkTrainable } from '../src/feasibility.js';
import { train } from '../src/ppo.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'pprl-feasibility-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const problem = { stages: 2, microBatches: 4, cost: { F: 1, B: 1.2, W: 0.8 }, noise: { cv: 0.2, seed: 7 } };
const tiny: TrainConfigInput = {
  problem,
  envs: 8,
  stepsPerRollout: 16,
  totalSteps: 8 * 16 * 2,
  minibatches: 2,
  network: { hidden: [8] },
  evalInterval: 0,
  evalEpisodes: 8,
};
const withProblem = (patch: object, rest: Partial<TrainConfigInput> = {}): TrainConfigInput => ({
  ...tiny,
  ...rest,
  problem: { ...problem, ...patch },
});

async function refusal(config: TrainConfigInput): Promise<string> {
  const e = await checkTrainable(parseTrainConfig(config)).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(ConfigError);
  const message = (e as Error).message;
  expect(message.split('\n')).toHaveLength(1);
  return message;
}

describe('checkTrainable', () => {
  it('passes the problems the environment can train on', async () => {
    await checkTrainable(parseTrainConfig(tiny));
    await checkTrainable(parseTrainConfig(withProblem({ memory: { limit: 2 } })));
    // with the wait action a lone eligible op is a decision too (start it or wait)
    await checkTrainable(parseTrainConfig(withProblem({ microBatches: 1 }, { allowWait: true })));
    await checkTrainable(parseTrainConfig(withProblem({ microBatches: 4, chunks: 2, memory: { limit: 3 } })));
  });

  it('one micro-batch leaves no decision: names microBatches and the fewest that work', async () => {
    expect(await refusal(withProblem({ microBatches: 1 }))).toBe(
      'problem.microBatches: 1 micro-batch on 2 devices leaves a policy nothing to decide (every op is forced); ' +
        'allowed: at least 2 for this problem',
    );
  });

  it('a memory limit of one activation leaves no decision: names the limit and the smallest that works', async () => {
    expect(await refusal(withProblem({ memory: { limit: 1 } }))).toMatch(
      /^problem\.memory\.limit: 1 leaves a policy nothing to decide .*; allowed: at least 2, or null for none$/,
    );
    expect(await refusal(withProblem({ memory: { limit: 1.5 } }))).toMatch(
      /^problem\.memory\.limit: 1\.5 leaves a policy nothing to decide .*; allowed: at least 2, or null for none$/,
    );
    // two chunks: a limit of one micro-batch's forwards on both lets nothing overlap
    expect(await refusal(withProblem({ chunks: 2, memory: { limit: 2 } }))).toMatch(
      /^problem\.memory\.limit: 2 leaves a policy nothing to decide .*; allowed: at least 3, or null for none$/,
    );
  });

  it(
    'a memory limit below one micro-batch of forwards deadlocks: ' + 'names the limit and the smallest feasible one',
    async () => {
      expect(await refusal(withProblem({ memory: { F: 2, B: 0, W: -2, limit: 1 } }))).toMatch(
        new RegExp(
          String.raw`^problem\.memory\.limit: 1 deadlocks every episode: device 0 must hold .*; ` +
            'allowed: at least 2, or null for none$',
        ),
      );
      // with two chunks a device holds both chunks' forwards of micro-batch 0 before any backward
      expect(await refusal(withProblem({ chunks: 2, memory: { limit: 1 } }))).toMatch(
        /^problem\.memory\.limit: 1 deadlocks every episode: .*on its 2 chunks.*allowed: at least 2/,
      );
      // a profile problem's limit is `memLimit`
      const profile = {
        profile: { model: '6.2B' },
        stages: 4,
        microBatches: 16,
        memLimit: 1,
        noise: { cv: 0.3, seed: 1 },
      };
      expect(await refusal({ ...tiny, problem: profile })).toMatch(
        /^problem\.memLimit: 1 deadlocks every episode: .*allowed: at least \d+/,
      );
    },
  );

  it('the plain memory rule that traps itself with two chunks names memoryRule', async () => {
    const trapped = withProblem({ chunks: 2, memory: { limit: 2 } }, { memoryRule: 'plain' });
    expect(await refusal(trapped)).toMatch(
      /^memoryRule: 'plain' deadlocks on this problem before its first decision .*use 'reserve' or 'lowest'/,
    );
  });
});

describe('train refuses before writing anything', () => {
  it('an untrainable problem: UserError, and no output directory', async () => {
    const out = path.join(root, 'never');
    await expect(train(withProblem({ microBatches: 1 }), { outDir: out })).rejects.toThrow(
      /^problem\.microBatches: 1 micro-batch/,
    );
    await expect(train(withProblem({ memory: { limit: 1 } }), { outDir: out })).rejects.toThrow(
      /^problem\.memory\.limit: 1 /,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('an output directory below a file: UserError naming the path', async () => {
    const file = path.join(root, 'file');
    writeFileSync(file, 'x');
    const error = await train(tiny, { outDir: path.join(file, 'run') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe(
      `cannot create directory ${path.join(file, 'run')}: ENOTDIR: ${file} is not a directory`,
    );
  });
});
