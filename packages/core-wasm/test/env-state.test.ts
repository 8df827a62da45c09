// Saved environment states (exact continuation after a restore, at another address) and whole evaluation
// episodes under an MLP policy (the same makespans as stepping the policy through rollouts).
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  createSimulator,
  loadCore,
  ReferenceEnv,
  resolveProblem,
  WasmEnv,
  type MlpLayout,
  type ProblemRanges,
} from '../src/index.js';
import { policyFactory, randomParams } from './mlp-helpers.js';
import { rng } from './helpers.js';

const createPolicy = policyFactory();

const problem = resolveProblem({
  stages: 4,
  microBatches: 8,
  cost: { F: 1, B: 1.3, W: 0.8 },
  comm: { time: 0.1 },
  memory: { F: 1, B: 0, W: -1, limit: 6 },
  noise: { cv: 0.25, seed: 11 },
});

const ranges: ProblemRanges = {
  stages: [2, 6],
  microBatches: [4, 12],
  chunks: [1, 2],
  costB: [0.8, 1.5],
  costW: [0.5, 1.2],
  comm: [0, 0.3],
  cv: [0, 0.3],
  seed: 5,
};

async function policyFor(env: WasmEnv, shared: boolean) {
  const layout: MlpLayout = {
    obsDim: env.obsDim,
    hidden: [16, 16],
    actions: env.numActions,
    activation: 'tanh',
    shared,
  };
  return createPolicy(layout, randomParams(layout, rng(3), 2));
}

/** Every rollout field of T steps under the MLP policy, copied out. */
function rolloutFields(env: WasmEnv, mlp: Awaited<ReturnType<typeof policyFor>>, T: number) {
  const buffers = env.createRolloutBuffers(T);
  env.rollout({ mlp, seed: 9 }, T, buffers);
  const copy = {
    obs: Array.from(buffers.obs),
    actions: Array.from(buffers.actions),
    logProb: Array.from(buffers.logProb),
    reward: Array.from(buffers.reward),
    done: Array.from(buffers.done),
    finalValue: Array.from(buffers.finalValue),
  };
  buffers.dispose();
  return copy;
}

describe('saveState / restoreState', () => {
  for (const [name, opts] of [
    ['fixed problem', { problem }],
    ['fresh problems', { ranges }],
  ] as const) {
    it(`continues exactly after a restore at another address (${name})`, async () => {
      const make = () => WasmEnv.create({ numEnvs: 5, maxChunks: 2, ...opts });
      const first = await make();
      const mlp = await policyFor(first, name === 'fresh problems');
      rolloutFields(first, mlp, 37);
      const state = first.saveState();
      const expected = rolloutFields(first, mlp, 60);
      const expectedLog = first.readLog();
      // a block in between moves the second vector to another address
      const core = await loadCore();
      const spacer = core.alloc(4096 + 8);
      const second = await make();
      second.restoreState(state);
      const obsAfterRestore = Array.from(second.obs);
      expect(obsAfterRestore.length).toBeGreaterThan(0);
      expect(rolloutFields(second, mlp, 60)).toEqual(expected);
      expect(second.readLog()).toEqual(expectedLog);
      core.release(spacer);
      first.dispose();
      second.dispose();
    });
  }

  it('refuses a state of another size', async () => {
    const small = await WasmEnv.create({ numEnvs: 2, problem });
    const large = await WasmEnv.create({ numEnvs: 3, problem });
    expect(() => large.restoreState(small.saveState())).toThrow(ConfigError);
    expect(() => large.restoreState(small.saveState())).toThrow(/state/);
    small.dispose();
    large.dispose();
  });
});

describe('runEpisodes with an MLP policy', () => {
  for (const shared of [false, true]) {
    const networks = shared ? 'shared trunk' : 'separate networks';
    it(`greedy episodes give the makespans of stepping the same policy (${networks})`, async () => {
      const N = 6;
      const env = await WasmEnv.create({ numEnvs: N, problem, episodeStart: 40 });
      const mlp = await policyFor(env, shared);
      // stepped: each env's first episode is index 40 + i
      const stepped = new Array<number>(N).fill(NaN);
      for (let t = 0; t < 10_000 && stepped.some(Number.isNaN); t++) {
        env.rollout({ mlp, greedy: true }, 1);
        const log = env.readLog(false);
        log.perEnv.forEach((entry, i) => {
          if (entry.episodes >= 1 && Number.isNaN(stepped[i]!)) stepped[i] = entry.sumMakespan;
        });
      }
      const evaluated = env.runEpisodes({ mlp, greedy: true }, 1, 40);
      expect(Array.from(evaluated.makespan)).toEqual(stepped);
      // the evaluation block leaves the stepped environments alone
      const before = Array.from(env.obs);
      env.runEpisodes({ mlp, greedy: true }, 2);
      expect(Array.from(env.obs)).toEqual(before);
      env.dispose();
    });
  }

  it('sampled episodes depend only on their index and the seed', async () => {
    const a = await WasmEnv.create({ numEnvs: 4, ranges });
    const b = await WasmEnv.create({ numEnvs: 2, ranges });
    const mlp = await policyFor(a, false);
    const four = a.runEpisodes({ mlp, seed: 3 }, 1, 100).makespan; // indices 100..103
    const two = b.runEpisodes({ mlp, seed: 3 }, 2, 100).makespan; // env 0: 100, 102; env 1: 101, 103
    expect([two[0], two[2], two[1], two[3]]).toEqual(Array.from(four));
    const otherSeed = a.runEpisodes({ mlp, seed: 4 }, 1, 100).makespan;
    expect(Array.from(otherSeed)).not.toEqual(Array.from(four));
    a.dispose();
    b.dispose();
  });
});

describe('ranges validation', () => {
  it('names the bad field', async () => {
    const bad = async (r: unknown) => WasmEnv.create({ numEnvs: 1, ranges: r as ProblemRanges });
    await expect(bad({ ...ranges, stages: [5, 2] })).rejects.toThrow(/^ranges\.stages: lo must not exceed hi/);
    await expect(bad({ ...ranges, cv: [0, 4] })).rejects.toThrow(/^ranges\.cv\[1\]: .*3/);
    await expect(bad({ ...ranges, stagez: [1, 2] })).rejects.toThrow(/stagez/);
    await expect(bad({ ...ranges, microBatches: [1.5, 4] })).rejects.toThrow(/^ranges\.microBatches\[0\]/);
  });
});

describe('ReferenceEnv recordOrder', () => {
  it('gives per-device orders whose static replay reproduces each episode', async () => {
    const sim = await createSimulator();
    for (const episodeStart of [0, 17]) {
      const env = new ReferenceEnv({ problem, episodeStart, recordOrder: true });
      env.reset();
      const obs = new Float32Array(env.obsDim);
      const mask = new Uint8Array(env.numActions);
      const random = rng(episodeStart + 1);
      let done = false;
      while (!done) {
        env.observe(obs, mask);
        // a random policy that never waits (waiting can leave a device idle that a replay would not)
        const allowed = [...mask.keys()].filter((a) => mask[a] && a !== env.numActions - 1);
        done = env.step(allowed[Math.floor(random() * allowed.length)]!).done;
      }
      const order = env.finishedEpisodeOrder;
      expect(order.flat().length).toBe(3 * problem.numStages * problem.microBatches);
      const schedule = {
        stages: problem.stages,
        chunksPerDevice: 1,
        placement: 'loop' as const,
        microBatches: problem.microBatches,
        devices: order,
      };
      const replay = sim.replay(problem, schedule, { episodes: 1, episodeStart });
      expect(replay.makespan[0]).toBe(env.log.lastMakespan);
    }
  });
});
