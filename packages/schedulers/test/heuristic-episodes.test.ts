// heuristicEpisodes (the WebAssembly environment's built-in heuristics with episode statistics) against runHeuristic
// (the TypeScript executor, the oracle), episode by episode and bit for bit: makespan, span, busy time summed over
// the devices, and the peak memory per device over the episodes (docs/SEMANTICS.md section 3); deadlocks surface
// as runHeuristic's DeadlockError.
import {
  DeadlockError,
  resolveProblem,
  WasmEnv,
  type MemoryRule,
  type Problem,
  type ProblemConfig,
} from '@pprl/core-wasm';
import { describe, expect, it } from 'vitest';
import { HEURISTICS, heuristicEpisodes, runHeuristic } from '../src/heuristics.js';
import { rng } from './helpers.js';

const NAMES = HEURISTICS.map((h) => h.name);
const RULES: readonly MemoryRule[] = ['reserve', 'lowest', 'plain'];

/**
 * Random problems: P 1-5, V = 1 or 2, both placements, per-stage costs and comm, compute and transfer noise with
 * anomalies, memory with B freeing or holding memory, with or without a limit.
 */
function randomConfig(random: () => number, V: number, limitFactor: number | null): ProblemConfig {
  const P = 1 + Math.floor(random() * 5);
  const S = P * V;
  const M = 1 + Math.floor(random() * 10);
  const list = (lo: number, hi: number) => Array.from({ length: S }, () => lo + (hi - lo) * random());
  const memF = Math.floor(1 + random() * 4);
  const memB = random() < 0.5 ? -1 : 0.5;
  return {
    stages: P,
    chunks: V,
    placement: random() < 0.5 ? 'loop' : 'v',
    microBatches: M,
    cost: { F: list(0.2, 3), B: list(0.2, 3), W: list(0.2, 3) },
    comm: { time: list(0, 1) },
    memory: {
      F: memF,
      B: memB,
      W: -memF - memB,
      limit: limitFactor === null ? null : Math.max(V, Math.floor(limitFactor * P)) * memF + Math.max(0, memB),
    },
    noise: {
      cv: 0.25,
      commCv: random() < 0.5 ? 0.3 : 0,
      anomalyProb: random() < 0.5 ? 0.05 : 0,
      seed: Math.floor(random() * 2 ** 32),
    },
  };
}

/** What a loop over runHeuristic gives for episodes start .. start + K - 1 (how the CLI computed it before). */
function oracle(problem: Problem, name: string, start: number, K: number, memoryRule?: MemoryRule) {
  const makespan = new Float64Array(K);
  const span = new Float64Array(K);
  const busy = new Float64Array(K);
  const peakMemory = new Array<number>(problem.stages).fill(0);
  for (let j = 0; j < K; j++) {
    const r = runHeuristic(problem, name, { episode: start + j, ...(memoryRule ? { memoryRule } : {}) });
    makespan[j] = r.makespan;
    span[j] = r.span;
    busy[j] = r.busy.reduce((a, b) => a + b, 0);
    r.peakMemory.forEach((x, d) => (peakMemory[d] = Math.max(peakMemory[d]!, x)));
  }
  return { makespan, span, busy, peakMemory };
}

/** Bit for bit (Object.is per entry), with the entry named on failure. */
function expectSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let j = 0; j < want.length; j++)
    expect(Object.is(got[j], want[j]), `${what}[${j}]: ${got[j]} vs ${want[j]}`).toBe(true);
}

async function expectOracle(problem: Problem, name: string, start: number, K: number, memoryRule?: MemoryRule) {
  const got = await heuristicEpisodes(problem, name, {
    episodes: K,
    episodeStart: start,
    ...(memoryRule ? { memoryRule } : {}),
  });
  const want = oracle(problem, name, start, K, memoryRule);
  const { stages: P, chunks: V, placement, microBatches: M } = problem;
  const what = `${name} P=${P} V=${V} ${placement} M=${M} ${memoryRule}`;
  expectSame(got.makespan, want.makespan, `${what} makespan`);
  expectSame(got.span, want.span, `${what} span`);
  expectSame(got.busy, want.busy, `${what} busy`);
  expectSame(got.peakMemory, want.peakMemory, `${what} peakMemory`);
}

/** The error f's promise rejects with (fails when it resolves). */
async function rejection(f: () => Promise<unknown>): Promise<Error> {
  try {
    await f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** V = 2 in loop placement under a limit of `limit` forwards: 'plain' traps itself in some episodes. */
function tightProblem(seed: number, limit: number): Problem {
  return resolveProblem({
    stages: 3,
    chunks: 2,
    placement: 'loop',
    microBatches: 6,
    cost: { F: 1, B: 1.4, W: 0.7 },
    comm: { time: 0.2 },
    memory: { F: 1, B: -0.5, W: -0.5, limit },
    noise: { cv: 0.4, seed },
  });
}

describe('heuristicEpisodes = runHeuristic per episode, bit for bit', () => {
  it('random problems: V = 1 and 2, both placements, limits or none, every memory rule, noise, comm', async () => {
    const random = rng(17);
    let trials = 0;
    for (let trial = 0; trial < 36; trial++) {
      const V = 1 + (trial % 2);
      const limit = trial % 3 === 0 ? null : trial % 3 === 1 ? 1 : 0.5;
      const problem = resolveProblem(randomConfig(random, V, limit));
      const memoryRule = trial % 4 === 3 ? undefined : RULES[trial % 3]!;
      const start = Math.floor(random() * 1000);
      for (const name of NAMES) {
        // 'plain' may deadlock: those cases are the deadlock test's
        try {
          oracle(problem, name, start, 5, memoryRule);
        } catch (e) {
          if (e instanceof DeadlockError && memoryRule === 'plain') continue;
          throw e;
        }
        await expectOracle(problem, name, start, 5, memoryRule);
        trials++;
      }
    }
    expect(trials).toBeGreaterThan(90);
  });

  it('problems without a single decision (P = 1, M = 1; M = 1 on several devices)', async () => {
    const silent = [
      resolveProblem({ stages: 1, microBatches: 1, noise: { cv: 0.2, seed: 3 } }),
      resolveProblem({ stages: 4, microBatches: 1, comm: { time: 0.3 }, noise: { cv: 0.3, seed: 5 } }),
      resolveProblem({ stages: 3, chunks: 2, placement: 'loop', microBatches: 1, noise: { cv: 0.2, seed: 8 } }),
    ];
    for (const problem of silent)
      for (const name of NAMES) {
        expect(runHeuristic(problem, name).decisions).toBe(0);
        // more than MAX_SILENT_EPISODES (100) in a row: an error for stepping, not for evaluation
        await expectOracle(problem, name, 0, 150);
      }
  });

  it('a deadlock (plain, V = 2, tight limit) surfaces as the same DeadlockError as runHeuristic', async () => {
    // episode 6 and 9 deadlock; the episodes before them are fine
    const problem = tightProblem(4, 5);
    for (const name of ['greedy-zb', 'greedy-ffirst']) {
      expect(() => runHeuristic(problem, name, { episode: 5, memoryRule: 'plain' })).not.toThrow();
      const want = await rejection(async () => oracle(problem, name, 0, 12, 'plain'));
      expect(want).toBeInstanceOf(DeadlockError);
      const got = await rejection(() => heuristicEpisodes(problem, name, { episodes: 12, memoryRule: 'plain' }));
      expect(got).toBeInstanceOf(DeadlockError);
      expect(got.message).toBe(want.message);
      // the episodes before the first deadlock run in WebAssembly as usual
      await expectOracle(problem, name, 0, 6, 'plain');
    }
    // a limit below two forwards: the first episode deadlocks before any decision (the environment refuses the
    // problem at creation; runHeuristic runs it and raises its DeadlockError)
    const stuck = tightProblem(4, 1.5);
    const want = await rejection(async () => oracle(stuck, 'greedy-cp', 0, 3, 'plain'));
    expect(want).toBeInstanceOf(DeadlockError);
    const got = await rejection(() => heuristicEpisodes(stuck, 'greedy-cp', { episodes: 3, memoryRule: 'plain' }));
    expect(got).toBeInstanceOf(DeadlockError);
    expect(got.message).toBe(want.message);
  });

  it('unknown names and empty runs', async () => {
    const problem = resolveProblem({ stages: 2, microBatches: 4 });
    await expect(heuristicEpisodes(problem, 'greedy-xx', { episodes: 2 })).rejects.toThrow(/unknown heuristic/);
    const none = await heuristicEpisodes(problem, 'greedy-zb', { episodes: 0 });
    expect([none.makespan.length, none.peakMemory]).toEqual([0, [0, 0]]);
  });
});

describe('WasmEnv.runEpisodeStats', () => {
  it('several environments: results in episode-index order, deadlocked episodes listed and left out', async () => {
    const problem = tightProblem(4, 5);
    const env = await WasmEnv.create({ problem, numEnvs: 3, memoryRule: 'plain' });
    const stats = env.runEpisodeStats('greedy-zb', 4, 2);
    expect(stats.makespan.length).toBe(12);
    expect(stats.deadlocked).toEqual([6, 9]);
    const peak = [0, 0, 0];
    for (let j = 0; j < 12; j++) {
      const episode = 2 + j;
      if (stats.deadlocked.includes(episode)) {
        expect([stats.makespan[j], stats.span[j], stats.busy[j]]).toEqual([NaN, NaN, NaN]);
        continue;
      }
      const r = runHeuristic(problem, 'greedy-zb', { episode, memoryRule: 'plain' });
      expect(stats.makespan[j]).toBe(r.makespan);
      expect(stats.span[j]).toBe(r.span);
      expect(stats.busy[j]).toBe(r.busy.reduce((a, b) => a + b, 0));
      r.peakMemory.forEach((x, d) => (peak[d] = Math.max(peak[d]!, x)));
    }
    expect(stats.peakMemory).toEqual(peak);
    env.dispose();
    // the same makespans as runEpisodes (env-major there), and the stepped environments untouched
    const free = await WasmEnv.create({ problem, numEnvs: 3 });
    const obs = Float32Array.from(free.obs);
    const { makespan } = free.runEpisodes('greedy-cp', 4, 5);
    const cp = free.runEpisodeStats('greedy-cp', 4, 5);
    expect(cp.deadlocked).toEqual([]);
    for (let i = 0; i < 3; i++) for (let k = 0; k < 4; k++) expect(cp.makespan[i + 3 * k]).toBe(makespan[i * 4 + k]);
    expect(free.obs).toEqual(obs);
    free.dispose();
  });
});
