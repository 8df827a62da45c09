import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  createSimulator,
  findProfile,
  H200_PROFILES_URL,
  problemFromProfile,
  resolveProblem,
  splitIntoChunks,
  withLimit,
  withNoise,
  type Problem,
  type Schedule,
  type Simulator,
} from '@pprl/core-wasm';
import { findSchedule, runHeuristic, zbAuto } from '@pprl/schedulers';
import { jacksonBound, lowerBound } from '../src/bounds.js';
import { episodeInstance, headsAndTails, type Instance } from '../src/instance.js';
import { clairvoyantOracle } from '../src/oracle.js';
import { compileOrders, evaluateOrders, ordersOfSchedule, withinMemory, type Orders } from '../src/order.js';
import { optimalSchedule, robustSchedule, SCENARIO_EPISODE_START } from '../src/static.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await createSimulator();
});

const TOL = 1e-9;

/** Small random problems: P 2..4, V 1 or 2 (V placement), M 1..6, costs, comm, noise and a memory limit. */
const smallProblem = fc
  .record({
    P: fc.integer({ min: 2, max: 4 }),
    V: fc.constantFrom(1, 2),
    M: fc.integer({ min: 1, max: 6 }),
    F: fc.double({ min: 0.5, max: 2, noNaN: true }),
    B: fc.double({ min: 0.5, max: 2, noNaN: true }),
    W: fc.double({ min: 0.2, max: 2, noNaN: true }),
    comm: fc.double({ min: 0, max: 0.5, noNaN: true }),
    cv: fc.constantFrom(0, 0.1, 0.3),
    limit: fc.constantFrom(null, 1, 2),
    seed: fc.integer({ min: 0, max: 1000 }),
  })
  .map(({ P, V, M, F, B, W, comm, cv, limit, seed }) =>
    resolveProblem({
      stages: P,
      chunks: V,
      placement: 'v',
      microBatches: M,
      cost: { F: F / V, B: B / V, W: W / V },
      comm: { time: comm },
      // an activation of 1 per micro-batch and device, split over the chunks; B frees 60% of it
      memory: { F: 1 / V, B: -0.6 / V, W: -0.4 / V, limit: limit === null ? null : limit * P },
      noise: { cv, seed },
    }),
  );

/** Every per-device order of a tiny problem that runs, by brute force; the optimum is the least makespan. */
function bruteForceOptimum(inst: Instance): number {
  const perDevice: number[][][] = [];
  const byDevice: number[][] = Array.from({ length: inst.P }, () => []);
  for (let id = 0; id < inst.N; id++) byDevice[inst.device[id]!]!.push(id);
  for (const ops of byDevice) {
    const all: number[][] = [];
    const permute = (rest: number[], acc: number[]) => {
      if (rest.length === 0) return void all.push([...acc]);
      for (let i = 0; i < rest.length; i++) permute([...rest.slice(0, i), ...rest.slice(i + 1)], [...acc, rest[i]!]);
    };
    permute(ops, []);
    perDevice.push(all);
  }
  let best = Infinity;
  const pick = (d: number, chosen: Orders) => {
    if (d === inst.P) {
      if (!withinMemory(inst, chosen)) return;
      const r = evaluateOrders(inst, chosen);
      if (r && r.makespan < best) best = r.makespan;
      return;
    }
    for (const o of perDevice[d]!) pick(d + 1, [...chosen, Int32Array.from(o)]);
  };
  pick(0, []);
  return best;
}

describe('episode instance and evaluation', () => {
  it('the TypeScript evaluation of an order equals the WebAssembly replay, bit for bit', () => {
    fc.assert(
      fc.property(smallProblem, fc.integer({ min: 0, max: 50 }), (problem, episode) => {
        const inst = episodeInstance(problem, episode);
        const orders = ordersOfSchedule(
          inst,
          runHeuristic(problem, 'greedy-zb', { episode, memoryRule: 'lowest' }).order,
        );
        const ts = evaluateOrders(inst, orders)!;
        const wasm = sim.replay(problem, compileOrders(inst, orders), { episodes: 1, episodeStart: episode });
        expect(ts.makespan).toBe(wasm.makespan[0]);
      }),
      { numRuns: 60 },
    );
  });

  it('Jackson’s preemptive bound: all ops free is their sum; heads and tails add the unavoidable wait', () => {
    const ops = Int32Array.from([0, 1, 2]);
    const dur = Float64Array.from([1, 2, 3]);
    expect(jacksonBound(ops, dur, new Float64Array(3), new Float64Array(3))).toBe(6);
    // op 2 is released at 5: the other two fit before it, so 5 + 3 = 8; with a tail of 1 on it, 9
    expect(jacksonBound(ops, dur, Float64Array.from([0, 0, 5]), new Float64Array(3))).toBe(8);
    expect(jacksonBound(ops, dur, Float64Array.from([0, 0, 5]), Float64Array.from([0, 0, 1]))).toBe(9);
    // a long tail goes first even if released later: op 1 (tail 10) preempts op 0 at time 1
    expect(
      jacksonBound(
        Int32Array.from([0, 1]),
        Float64Array.from([4, 2]),
        Float64Array.from([0, 1]),
        Float64Array.from([0, 10]),
      ),
    ).toBe(13);
  });

  it(
    'heads and tails: with unit costs and no comm the critical path is 2S + 1 ' + '(S forwards, S backwards, one W)',
    () => {
      const problem = resolveProblem({ stages: 3, microBatches: 2 });
      const inst = episodeInstance(problem, 0);
      const { head, tail } = headsAndTails(inst);
      let cp = 0;
      for (let id = 0; id < inst.N; id++) cp = Math.max(cp, head[id]! + inst.dur[id]! + tail[id]!);
      expect(cp).toBe(7);
      expect(lowerBound(inst).criticalPath).toBe(7);
    },
  );
});

describe('lower bound <= brute-force optimum <= oracle', () => {
  it('on tiny problems the bound holds, and the oracle finds the exact optimum', async () => {
    const cases: Problem[] = [
      resolveProblem({
        stages: 2,
        microBatches: 2,
        cost: { F: 1, B: 1.5, W: 0.7 },
        comm: { time: 0.2 },
        noise: { cv: 0.3, seed: 3 },
      }),
      resolveProblem({ stages: 2, microBatches: 2, cost: { F: 1, B: 1, W: 1 }, memory: { limit: 1 } }),
      resolveProblem({
        stages: 2,
        microBatches: 2,
        cost: { F: 1.2, B: 1, W: 0.5 },
        memory: { F: 1, B: -0.6, W: -0.4, limit: 1.5 },
        noise: { cv: 0.2, seed: 9 },
      }),
      resolveProblem({
        stages: 2,
        chunks: 2,
        placement: 'v',
        microBatches: 1,
        cost: { F: 0.5, B: 0.6, W: 0.3 },
        comm: { time: 0.1 },
        noise: { cv: 0.3 },
      }),
    ];
    for (const problem of cases)
      for (const episode of [0, 1]) {
        const inst = episodeInstance(problem, episode);
        const optimum = bruteForceOptimum(inst);
        const lb = lowerBound(inst);
        const oracle = await clairvoyantOracle(problem, episode, { evaluations: 3000, timeLimit: 10 });
        expect(lb.value).toBeLessThanOrEqual(optimum * (1 + TOL));
        expect(oracle.makespan).toBeCloseTo(optimum, 9);
        // A proof is a bound that meets the makespan: the combinatorial one, or the MILP's dual bound.
        expect(oracle.lowerBound).toBeGreaterThanOrEqual(lb.value * (1 - TOL));
        if (oracle.proven) expect(oracle.makespan).toBeLessThanOrEqual(oracle.lowerBound * (1 + TOL));
        if (oracle.provenBy === 'bound') expect(oracle.makespan).toBeLessThanOrEqual(lb.value * (1 + TOL));
      }
  }, 120_000);
});

describe('lower bound <= oracle <= every scheduler, on every episode', () => {
  it('holds on random problems against every heuristic and every static schedule within the limit', async () => {
    await fc.assert(
      fc.asyncProperty(smallProblem, fc.integer({ min: 0, max: 20 }), async (problem, episode) => {
        const inst = episodeInstance(problem, episode);
        const oracle = await clairvoyantOracle(problem, episode, { evaluations: 400 });
        expect(oracle.lowerBound).toBeLessThanOrEqual(oracle.makespan * (1 + TOL));
        expect(withinMemory(inst, oracle.orders)).toBe(true);
        expect(evaluateOrders(inst, oracle.orders)!.makespan).toBe(oracle.makespan);
        const rules = problem.chunks > 1 ? (['reserve', 'lowest'] as const) : (['reserve'] as const);
        for (const name of ['greedy-zb', 'greedy-ffirst', 'greedy-cp'])
          for (const memoryRule of rules) {
            const r = runHeuristic(problem, name, { episode, memoryRule });
            expect(oracle.makespan).toBeLessThanOrEqual(r.makespan * (1 + TOL));
          }
        for (const name of problem.chunks === 1 ? ['1f1b', 'zb-h1', 'zb-auto'] : ['zb-v']) {
          let schedule: Schedule;
          try {
            schedule = findSchedule(name).build(problem);
          } catch {
            continue; // not buildable for this shape or limit
          }
          const r = sim.replay(problem, schedule, { episodes: 1, episodeStart: episode });
          if (r.memoryViolations.length > 0) continue; // the oracle only compares at equal memory
          expect(oracle.makespan).toBeLessThanOrEqual(r.makespan[0]! * (1 + TOL));
        }
      }),
      { numRuns: 40 },
    );
  }, 180_000);

  it('is deterministic: the same seed gives the same oracle', async () => {
    const problem = resolveProblem({
      stages: 3,
      microBatches: 6,
      cost: { F: 1, B: 1.3, W: 0.8 },
      comm: { time: 0.1 },
      memory: { limit: 3 },
      noise: { cv: 0.3, seed: 5 },
    });
    const a = await clairvoyantOracle(problem, 4, { evaluations: 3000, seed: 7 });
    const b = await clairvoyantOracle(problem, 4, { evaluations: 3000, seed: 7 });
    expect(b.makespan).toBe(a.makespan);
    expect(b.orders.map((o) => Array.from(o))).toEqual(a.orders.map((o) => Array.from(o)));
  });
});

describe('the 6.2B profile, P = 4', () => {
  const profiles = JSON.parse(readFileSync(H200_PROFILES_URL, 'utf8'));
  const model = (M: number) =>
    problemFromProfile(findProfile(profiles, '6.2B', 1), { stages: 4, microBatches: M, link: { bandwidthGBps: 50 } });

  it('at cv 0 with 2P activations the oracle equals greedy-zb, and the bound proves it', async () => {
    for (const M of [8, 16]) {
      const base = model(M);
      const problem = withLimit(base, 2 * 4 * base.memF[0]!);
      const oracle = await clairvoyantOracle(problem, 0, { evaluations: 2000 });
      const greedy = runHeuristic(problem, 'greedy-zb', { episode: 0 });
      expect(oracle.proven).toBe(true);
      expect(oracle.provenBy).toBe('bound');
      expect(oracle.makespan).toBeCloseTo(greedy.makespan, 6);
      expect(greedy.makespan).toBeLessThanOrEqual(oracle.bound.value * (1 + TOL));
    }
  });

  it('at memory P, cv 0.3, M = 8 the oracle is at least 3% below ZB-H1 on average', async () => {
    const base = model(8);
    const problem = withNoise(withLimit(base, 4 * base.memF[0]!), 0.3);
    const zbH1 = sim.replay(problem, findSchedule('zb-h1').build(problem), { episodes: 8 });
    let gap = 0;
    for (let e = 0; e < 8; e++) {
      const oracle = await clairvoyantOracle(problem, e, { evaluations: 20000 });
      gap += oracle.makespan / zbH1.makespan[e]! - 1;
    }
    expect(gap / 8).toBeLessThan(-0.03);
  }, 60_000);

  it('V = 2: the bound and oracle bracket zb-v at memory P', async () => {
    const base = model(8);
    const problem = withNoise(withLimit(splitIntoChunks(base, 2, 'v'), 4 * base.memF[0]!), 0.1);
    const zbV = sim.replay(problem, findSchedule('zb-v').build(problem), { episodes: 3 });
    for (let e = 0; e < 3; e++) {
      const oracle = await clairvoyantOracle(problem, e, { evaluations: 2000 });
      expect(oracle.lowerBound).toBeLessThanOrEqual(oracle.makespan);
      expect(oracle.makespan).toBeLessThanOrEqual(zbV.makespan[e]!);
    }
  }, 60_000);
});

interface UpstreamCase {
  stages: number;
  microBatches: number;
  cost: { F: number; B: number; W: number; comm: number };
  memory: { F: number; B: number; W: number; limit1p: number; limit2p: number };
}

describe('optimal (the best static schedule without noise)', () => {
  const upstream = JSON.parse(
    readFileSync(new URL('../../schedulers/test/fixtures/zb-upstream-bubbles.json', import.meta.url), 'utf8'),
  ) as { cases: UpstreamCase[] };

  it('is never worse than zb-auto on the six zero-bubble cases, at both limits, and within them', async () => {
    for (const c of upstream.cases)
      for (const limit of [c.memory.limit1p, c.memory.limit2p]) {
        const problem = resolveProblem({
          stages: c.stages,
          microBatches: c.microBatches,
          cost: { F: c.cost.F, B: c.cost.B, W: c.cost.W },
          comm: { time: c.cost.comm },
          memory: { F: c.memory.F, B: c.memory.B, W: c.memory.W, limit },
        });
        const auto = sim.replay(problem, zbAuto(problem), { episodes: 1 }).makespan[0]!;
        const optimal = await optimalSchedule(problem, { evaluations: 1500 });
        const replayed = sim.replay(problem, optimal.schedule, { episodes: 1 });
        expect(replayed.memoryViolations).toEqual([]);
        expect(replayed.makespan[0]).toBe(optimal.makespan);
        expect(optimal.makespan).toBeLessThanOrEqual(auto);
        expect(optimal.lowerBound).toBeLessThanOrEqual(optimal.makespan);
      }
  }, 180_000);
});

describe('robust (sample average approximation)', () => {
  it('is a valid schedule within the limit, no worse on its scenarios than where it started', async () => {
    const problem = resolveProblem({
      stages: 3,
      microBatches: 6,
      cost: { F: 1, B: 1.2, W: 0.9 },
      comm: { time: 0.1 },
      memory: { limit: 3 },
      noise: { cv: 0.3, seed: 2 },
    });
    const robust = await robustSchedule(problem, { scenarios: 8, evaluations: 600 });
    expect(robust.scenarios.start).toBe(SCENARIO_EPISODE_START);
    expect(robust.scenarioMean).toBeLessThanOrEqual(robust.start.scenarioMean);
    const onScenarios = sim.replay(problem, robust.schedule, { episodes: 8, episodeStart: SCENARIO_EPISODE_START });
    expect(onScenarios.memoryViolations).toEqual([]);
    expect(onScenarios.makespan.reduce((a, b) => a + b, 0) / 8).toBeCloseTo(robust.scenarioMean, 9);
  }, 60_000);
});
