// zb-auto's Timing writes the static replay's rule again (for speed inside its local pass): this pins it to
// @pprl/core-wasm's TypeScript reference replay on random orders, starts, spans, deadlocks and the early stop.
import {
  compileSchedule,
  DeadlockError,
  referenceReplay,
  resolveProblem,
  type Op,
  type Problem,
} from '@pprl/core-wasm';
import { describe, expect, it } from 'vitest';
import { rng } from './helpers.js';
import { OP_KINDS, type Orders } from '../src/generators/zb-auto/orders.js';
import { Timing } from '../src/generators/zb-auto/timing.js';

/** Random V = 1 problems without noise: per-stage costs (some zero) and comm, either placement. */
function randomProblem(random: () => number): Problem {
  const P = 1 + Math.floor(random() * 6);
  const M = 1 + Math.floor(random() * 10);
  const list = (hi: number) => Array.from({ length: P }, () => (random() < 0.1 ? 0 : hi * random()));
  return resolveProblem({
    stages: P,
    placement: random() < 0.5 ? 'loop' : 'v',
    microBatches: M,
    cost: { F: list(3), B: list(3), W: list(2) },
    comm: { time: random() < 0.3 ? 0 : list(1) },
  });
}

/** Per-stage words of a random run of the whole pipeline (each kind in micro-batch order): they never deadlock. */
function runnableOrders(problem: Problem, random: () => number): Orders {
  const { stages: P, microBatches: M } = problem;
  const words: number[][] = Array.from({ length: P }, () => []);
  const done = [new Int32Array(P), new Int32Array(P), new Int32Array(P)]; // per kind and stage
  const ready = (kind: number, s: number) => {
    const mb = done[kind]![s]!;
    if (mb >= M) return false;
    if (kind === 0) return s === 0 || done[0]![s - 1]! > mb;
    if (kind === 1) return done[0]![s]! > mb && (s === P - 1 || done[1]![s + 1]! > mb);
    return done[1]![s]! > mb;
  };
  for (let left = 3 * P * M; left > 0; left--) {
    const choices: [number, number][] = [];
    for (let s = 0; s < P; s++) for (let kind = 0; kind < 3; kind++) if (ready(kind, s)) choices.push([kind, s]);
    const [kind, s] = choices[Math.floor(random() * choices.length)]!;
    words[s]!.push(kind);
    done[kind]![s]!++;
  }
  return words.map((w) => Uint8Array.from(w));
}

/** Random words that keep every B behind its F and every W behind its B on the stage; they may deadlock. */
function randomOrders(problem: Problem, random: () => number): Orders {
  const M = problem.microBatches;
  return Array.from({ length: problem.stages }, () => {
    const word: number[] = [];
    const n = [0, 0, 0];
    while (word.length < 3 * M) {
      const kind = Math.floor(random() * 3);
      if (n[kind]! >= M || (kind > 0 && n[kind]! >= n[kind - 1]!)) continue;
      n[kind]!++;
      word.push(kind);
    }
    return Uint8Array.from(word);
  });
}

function replay(problem: Problem, orders: Orders) {
  const devices = orders.map((word, s) => {
    const next = [0, 0, 0];
    return Array.from(word, (kind): Op => ({ kind: OP_KINDS[kind]!, mb: next[kind]!++, stage: s }));
  });
  const { stages, placement, microBatches } = problem;
  const schedule = { stages, chunksPerDevice: 1, placement, microBatches, devices };
  return referenceReplay(problem, compileSchedule(problem, schedule), { timelineEpisode: 0 });
}

describe("zb-auto's Timing = the reference replay (noise-free, V = 1)", () => {
  it('gives every op the same start, the same span and sum of stage spans; Infinity where the replay deadlocks', () => {
    const random = rng(2024);
    let timed = 0;
    let deadlocks = 0;
    for (let trial = 0; trial < 400; trial++) {
      const problem = randomProblem(random);
      const orders = trial % 2 === 0 ? runnableOrders(problem, random) : randomOrders(problem, random);
      const timing = new Timing(problem);
      const span = timing.span(orders);
      let result: ReturnType<typeof replay>;
      try {
        result = replay(problem, orders);
      } catch (e) {
        expect(e).toBeInstanceOf(DeadlockError);
        expect(trial % 2).toBe(1);
        expect(span).toBe(Infinity);
        deadlocks++;
        continue;
      }
      expect(span).toBe(result.span[0]);
      const ops = result.timeline!.ops;
      expect(Array.from(timing.start)).toEqual(ops.map((op) => op.start));
      let sum = 0;
      for (let s = 0; s < problem.stages; s++) {
        const own = ops.filter((op) => op.device === s);
        sum += own[own.length - 1]!.end - own[0]!.start;
      }
      expect(timing.sum).toBe(sum);
      // the early stop: a bound at the span changes nothing, a bound below it gives up
      expect(timing.span(orders, span)).toBe(span);
      if (span > 0) expect(timing.span(orders, span * (1 - 1e-6))).toBe(Infinity);
      timed++;
    }
    expect(timed).toBeGreaterThan(200);
    expect(deadlocks).toBeGreaterThan(50);
  });
});
