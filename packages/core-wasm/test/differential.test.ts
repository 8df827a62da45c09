import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSchedule, createSimulator, referenceReplay, resolveProblem } from '../src/index.js';
import { randomSchedule, rng } from './helpers.js';

const sim = await createSimulator();

function close(a: ArrayLike<number>, b: ArrayLike<number>) {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    const scale = Math.max(Math.abs(a[i]!), Math.abs(b[i]!), 1e-300);
    if (Math.abs(a[i]! - b[i]!) / scale > 1e-9) expect(a[i]).toBe(b[i]);
  }
}

const perStage = (S: number, lo: number, hi: number) =>
  fc.oneof(
    fc.double({ min: lo, max: hi, noNaN: true }),
    fc.array(fc.double({ min: lo, max: hi, noNaN: true }), { minLength: S, maxLength: S }),
  );

const instance = fc
  .record({
    P: fc.integer({ min: 1, max: 16 }),
    V: fc.constantFrom(1, 2),
    M: fc.integer({ min: 1, max: 64 }),
    placement: fc.constantFrom('loop' as const, 'v' as const),
  })
  .chain(({ P, V, M, placement }) => {
    const S = P * V;
    return fc.record({
      config: fc.record({
        stages: fc.constant(P),
        chunks: fc.constant(V),
        placement: fc.constant(placement),
        microBatches: fc.constant(M),
        cost: fc.record({ F: perStage(S, 0, 5), B: perStage(S, 0, 5), W: perStage(S, 0, 5) }),
        comm: fc.record({ time: perStage(S, 0, 2) }),
        memory: fc
          .tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 100 }))
          .map(([f, b]) => ({ F: f, B: -Math.min(b, f), W: Math.min(b, f) - f, limit: null })),
        noise: fc.record({
          cv: fc.constantFrom(0, 0.1, 0.3, 0.7),
          commCv: fc.constantFrom(0, 0.2),
          floor: fc.constantFrom(0.05, 0.5),
          anomalyProb: fc.constantFrom(0, 0.02),
          anomalyFactor: fc.constantFrom(1, 5),
          seed: fc.integer({ min: 0, max: 0xffffffff }),
        }),
      }),
      orderSeed: fc.integer(),
      episodeStart: fc.integer({ min: 0, max: 1_000_000 }),
    });
  });

describe('WebAssembly engine against the TypeScript reference', () => {
  it('agrees on makespan, span, busy time and peak memory on 1000 random instances', () => {
    fc.assert(
      fc.property(instance, ({ config, orderSeed, episodeStart }) => {
        const problem = resolveProblem(config);
        const schedule = compileSchedule(problem, randomSchedule(problem, rng(orderSeed)));
        const opts = { episodes: 3, episodeStart, timelineEpisode: episodeStart + 1 };
        const a = sim.replay(problem, schedule, opts);
        const b = referenceReplay(problem, schedule, opts);
        close(a.makespan, b.makespan);
        close(a.span, b.span);
        close(a.busy, b.busy);
        close(a.peakMemory, b.peakMemory);
        close(
          a.timeline!.ops.map((o) => o.end),
          b.timeline!.ops.map((o) => o.end),
        );
      }),
      { numRuns: 1000, seed: 20261127 },
    );
  });

  it('is bit-identical, not only close, on a noisy interleaved instance', () => {
    const problem = resolveProblem({
      stages: 8,
      chunks: 2,
      microBatches: 32,
      cost: { F: 1, B: 1.2, W: 0.9 },
      comm: { time: 0.1 },
      noise: { cv: 0.3, anomalyProb: 0.01, seed: 9 },
    });
    const schedule = compileSchedule(problem, randomSchedule(problem, rng(5)));
    const a = sim.replay(problem, schedule, { episodes: 50 });
    const b = referenceReplay(problem, schedule, { episodes: 50 });
    expect(Array.from(a.makespan)).toEqual(Array.from(b.makespan));
    expect(Array.from(a.busy)).toEqual(Array.from(b.busy));
  });

  it('releases its WebAssembly memory after each replay', () => {
    const problem = resolveProblem({ stages: 4, microBatches: 8 });
    const schedule = randomSchedule(problem, rng(1));
    sim.replay(problem, schedule);
    const before = sim.core.reservedBytes;
    for (let i = 0; i < 20; i++) sim.replay(problem, schedule, { episodes: 10 });
    expect(sim.core.reservedBytes).toBe(before);
  });
});
