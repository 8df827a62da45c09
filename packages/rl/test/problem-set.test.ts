// Problem sets: the fixed problems a generalist trains on, drawn once from ranges (src/problem-set.ts).
import { describe, expect, it } from 'vitest';
import { drawProblemSet, parseTrainConfig, problemSetSchema, teacherLabel, teacherScheduleName } from '../src/index.js';

const set = (extra: object = {}) => problemSetSchema.parse({ count: 200, seed: 3, ...extra });

describe('drawProblemSet', () => {
  it(
    'draws every problem inside its ranges: ' + 'P, M from P to 4P, V in V placement, limits from P to 2P activations',
    () => {
      const problems = drawProblemSet(set());
      expect(problems).toHaveLength(200);
      for (const { problem, draw } of problems) {
        const P = problem.stages;
        expect(P).toBeGreaterThanOrEqual(2);
        expect(P).toBeLessThanOrEqual(8);
        expect(problem.microBatches).toBeGreaterThanOrEqual(P);
        expect(problem.microBatches).toBeLessThanOrEqual(4 * P);
        expect(problem.placement).toBe(problem.chunks === 2 ? 'v' : 'loop');
        expect(problem.numStages).toBe(P * problem.chunks);
        // one device's activations of a micro-batch (all its chunks) is the unit of the limit
        const activation = problem.memF[0]! * problem.chunks;
        const limitInActivations = problem.memLimit / activation;
        expect(Number.isInteger(limitInActivations)).toBe(true);
        expect(limitInActivations).toBeGreaterThanOrEqual(P);
        expect(limitInActivations).toBeLessThanOrEqual(2 * P);
        // F + B + W free what F holds; the ratios are the drawn ones
        expect(problem.memF[0]! + problem.memB[0]! + problem.memW[0]!).toBe(0);
        expect(problem.costB[0]! / problem.costF[0]!).toBeCloseTo(draw.backwardRatio, 12);
        expect(draw.backwardRatio).toBeGreaterThanOrEqual(1.2);
        expect(draw.backwardRatio).toBeLessThanOrEqual(2.8);
        expect(problem.noise.cv).toBe(draw.cv);
        expect(draw.cv).toBeLessThanOrEqual(0.3);
      }
      // both chunk counts and the whole range of P occur
      expect(new Set(problems.map((p) => p.problem.chunks))).toEqual(new Set([1, 2]));
      expect(new Set(problems.map((p) => p.problem.stages))).toEqual(new Set([2, 3, 4, 5, 6, 7, 8]));
      // each problem its own noise seed, none of them 0 (the seed pprl evaluate holds out)
      expect(problems.map((p) => p.problem.noise.seed)).toEqual(problems.map((_, k) => 1000 + k));
    },
  );

  it('is deterministic, and the seed changes the set', () => {
    const a = drawProblemSet(set()).map((p) => p.draw);
    expect(drawProblemSet(set()).map((p) => p.draw)).toEqual(a);
    expect(drawProblemSet(set({ seed: 4 })).map((p) => p.draw)).not.toEqual(a);
    // a single-value range gives that value
    const fixed = drawProblemSet(
      set({ count: 3, stages: [5, 5], microBatchesPerStage: [2, 2], chunks: [1, 1], cv: [0.1, 0.1] }),
    );
    expect(fixed.map((p) => [p.problem.stages, p.problem.microBatches, p.problem.chunks, p.problem.noise.cv])).toEqual(
      Array(3).fill([5, 10, 1, 0.1]),
    );
  });

  it('refuses reversed ranges with the field', () => {
    expect(() => parseTrainConfig({ problemSet: { stages: [8, 2] } })).toThrow(
      /^problemSet\.stages: must be \[lo, hi\] with lo <= hi/,
    );
    expect(() => parseTrainConfig({ problemSet: { chunks: [1, 3] } })).toThrow(/^problemSet\.chunks\[1\]: /);
  });
});

describe('problem set configs', () => {
  const teacher = { schedule: { 1: 'zb-h1', 2: 'zb-v' }, cloneSteps: 1000 };
  it('take a teacher per chunk count, and name what is missing', () => {
    const c = parseTrainConfig({ problemSet: { count: 4 }, envs: 8, teacher });
    expect([teacherScheduleName(c.teacher, 1), teacherScheduleName(c.teacher, 2)]).toEqual(['zb-h1', 'zb-v']);
    expect(teacherLabel(c.teacher!)).toBe('zb-h1 (V = 1), zb-v (V = 2)');
    expect(() =>
      parseTrainConfig({ problemSet: { count: 4 }, envs: 8, teacher: { schedule: { 1: 'zb-h1' } } }),
    ).toThrow(/^teacher\.schedule: names no schedule for 2 chunks per device/);
    expect(() => parseTrainConfig({ problemSet: { count: 3 }, envs: 8 })).toThrow(
      /^problemSet\.count: must divide envs \(8\)/,
    );
    expect(() => parseTrainConfig({ problemSet: {}, noiseLevels: [0], envs: 64 })).toThrow(
      /^noiseLevels: needs a fixed problem/,
    );
    expect(() => parseTrainConfig({ problemSet: {}, ranges: { stages: [2, 4], microBatches: [4, 8] } })).toThrow(
      /give exactly one of problem, ranges and problemSet/,
    );
    // a plain name serves every chunk count
    expect(
      teacherScheduleName(
        parseTrainConfig({ problemSet: { count: 4, chunks: [1, 1] }, envs: 8, teacher: { schedule: 'zb-h1' } }).teacher,
        1,
      ),
    ).toBe('zb-h1');
  });
});
