// pprl schedule ppo:<dir>: a trained policy's order as a file PyTorch's pipelining runtime can load, and back.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSimulator } from '@pprl/core-wasm';
import { loadPolicy, policyMakespans } from '@pprl/rl';
import { scheduleFromJson, scheduleFromTorchCsv } from '@pprl/schedulers';
import { describe, expect, it } from 'vitest';
import { problemForPolicy, withPlan } from '../src/contenders.js';
import { policyProblem } from '../src/policy-problem.js';
import { expectUserError, pprl } from './helpers.js';

const checkpoints = fileURLToPath(new URL('../../rl/checkpoints/', import.meta.url));
const profiles = fileURLToPath(new URL('../../core-wasm/profiles/h200-fbw-profiles.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pprl-policy-schedule-'));

/** The policy's own makespan in an episode of its training problem at noise cv (the WebAssembly environment). */
async function policyMakespan(policyDir: string, cv: number, episode: number): Promise<number> {
  const loaded = loadPolicy(policyDir);
  const { problem } = policyProblem(loaded, { noise: String(cv) }, 0);
  return (await policyMakespans(withPlan(loaded, problem), problem, 1, episode))[0]!;
}

/** simulate's mean makespan (one episode) of a schedule file on the 6.2B profile problem at P = 4, M = 16. */
function simulated(file: string, extra: string[] = []): number {
  const r = pprl(
    'simulate',
    file,
    '--profile',
    profiles,
    '--model',
    '6.2B',
    '--stages',
    '4',
    '--micro-batches',
    '16',
    '--json',
    ...extra,
  );
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).makespan.mean;
}

describe('pprl schedule ppo:<dir>', () => {
  for (const name of ['h200-6.2b-p4-m16-v1', 'h200-6.2b-p4-m16-v2']) {
    it(`${name}: the torch CSV and the JSON replay in simulate to the policy's own makespan at cv 0`, async () => {
      const policyDir = join(checkpoints, name);
      const csv = join(dir, `${name}.csv`);
      const json = join(dir, `${name}.json`);
      const wroteCsv = pprl('schedule', `ppo:${policyDir}`, '--format', 'torch-csv', '--out', csv);
      expect(wroteCsv.code, wroteCsv.stderr).toBe(0);
      expect(wroteCsv.stdout).toMatch(/episode 0 at noise cv 0: the order replays to the policy's makespan/);
      expect(pprl('schedule', `ppo:${policyDir}`, '--format', 'json', '--out', json).code).toBe(0);
      // the CSV holds exactly the JSON's per-device order (placement and chunks inferred from the stage numbers)
      const fromCsv = scheduleFromTorchCsv(readFileSync(csv, 'utf8'));
      const fromJson = scheduleFromJson(readFileSync(json, 'utf8'));
      expect(fromCsv.devices).toEqual(fromJson.devices);
      expect([fromCsv.chunksPerDevice, fromCsv.placement]).toEqual([fromJson.chunksPerDevice, fromJson.placement]);
      const own = await policyMakespan(policyDir, 0, 0);
      expect(simulated(csv)).toBe(own);
      expect(simulated(json)).toBe(own);
    });
  }

  it(
    'an episode under noise: the order of episode 7 at cv 0.3 replays that episode to ' + 'the policy makespan',
    async () => {
      const policyDir = join(checkpoints, 'h200-6.2b-p4-m16-v1');
      const csv = join(dir, 'noisy.csv');
      const r = pprl(
        'schedule',
        `ppo:${policyDir}`,
        '--noise',
        '0.3',
        '--episode',
        '7',
        '--format',
        'torch-csv',
        '--out',
        csv,
      );
      expect(r.code, r.stderr).toBe(0);
      const own = await policyMakespan(policyDir, 0.3, 7);
      const { problem } = policyProblem(loadPolicy(policyDir), { noise: '0.3' }, 0);
      const replayed = (await createSimulator()).replay(problem, scheduleFromTorchCsv(readFileSync(csv, 'utf8')), {
        episodes: 1,
        episodeStart: 7,
      });
      expect(replayed.makespan[0]).toBe(own);
      expect(r.stdout).toMatch(/episode 7 at noise cv 0.3: the order replays to the policy's makespan/);
    },
  );

  it('runs the policy on another problem given by options (V = 1 policy on P = 8, M = 32)', () => {
    const policyDir = join(checkpoints, 'h200-6.2b-p4-m16-v1');
    const r = pprl(
      'schedule',
      `ppo:${policyDir}`,
      '--profile',
      profiles,
      '--model',
      '6.2B',
      '--stages',
      '8',
      '--micro-batches',
      '32',
      '--format',
      'json',
    );
    expect(r.code, r.stderr).toBe(0);
    const schedule = scheduleFromJson(r.stdout);
    expect([schedule.stages, schedule.microBatches, schedule.chunksPerDevice]).toEqual([8, 32, 1]);
    expect(schedule.devices.flat()).toHaveLength(3 * 8 * 32);
  });

  it('bad input: an empty directory name, a missing checkpoint', () => {
    expectUserError(pprl('schedule', 'ppo:'), /<name>: ppo: needs a checkpoint or run directory/);
    expectUserError(pprl('schedule', `ppo:${join(dir, 'nope')}`), /nope/);
  });

  it('a V = 2 policy runs its one-chunk model cut into two chunks', () => {
    const loaded = loadPolicy(join(checkpoints, 'h200-6.2b-p4-m16-v2'));
    const { model, problem } = policyProblem(loaded, { noise: '0' }, 0);
    expect([model.chunks, problem.chunks, problemForPolicy(loaded, model).chunks]).toEqual([1, 2, 2]);
  });
});
