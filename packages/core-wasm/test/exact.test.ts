import { describe, expect, it } from 'vitest';
import {
  compileSchedule,
  createSimulator,
  referenceReplay,
  resolveProblem,
  type Problem,
  type ReplayResult,
  type Schedule,
} from '../src/index.js';
import { oneFOneB, randomSchedule, rng } from './helpers.js';

const sim = await createSimulator();

function both(
  problem: Problem,
  schedule: Schedule,
  episodes = 1,
  timelineEpisode?: number,
): [ReplayResult, ReplayResult] {
  const compiled = compileSchedule(problem, schedule);
  const opts = timelineEpisode === undefined ? { episodes } : { episodes, timelineEpisode };
  return [sim.replay(problem, compiled, opts), referenceReplay(problem, compiled, opts)];
}

describe('exact makespans', () => {
  it.each([
    [2, 2],
    [2, 8],
    [4, 4],
    [4, 8],
    [4, 16],
    [8, 8],
    [8, 32],
    [16, 64],
    [3, 7],
  ])('1F1B with unit costs and zero comm takes 3(M+P-1): P=%i M=%i', (P, M) => {
    const problem = resolveProblem({ stages: P, microBatches: M });
    for (const r of both(problem, oneFOneB(P, M))) {
      expect(r.makespan[0]).toBe(3 * (M + P - 1));
      // 1F1B peak: device d holds min(P - d, M) activations
      expect(Array.from(r.peakMemory)).toEqual(Array.from({ length: P }, (_, d) => Math.min(P - d, M)));
    }
  });

  it('2 stages, 2 micro-batches, with communication, by hand', () => {
    // F=2, B=3, W=1, comm=0.5; device 0: F0 F1 B0 W0 B1 W1; device 1: F0 B0 W0 F1 B1 W1
    const problem = resolveProblem({ stages: 2, microBatches: 2, cost: { F: 2, B: 3, W: 1 }, comm: { time: 0.5 } });
    const schedule: Schedule = {
      stages: 2,
      chunksPerDevice: 1,
      placement: 'loop',
      microBatches: 2,
      devices: [
        [
          { kind: 'F', mb: 0, stage: 0 },
          { kind: 'F', mb: 1, stage: 0 },
          { kind: 'B', mb: 0, stage: 0 },
          { kind: 'W', mb: 0, stage: 0 },
          { kind: 'B', mb: 1, stage: 0 },
          { kind: 'W', mb: 1, stage: 0 },
        ],
        [
          { kind: 'F', mb: 0, stage: 1 },
          { kind: 'B', mb: 0, stage: 1 },
          { kind: 'W', mb: 0, stage: 1 },
          { kind: 'F', mb: 1, stage: 1 },
          { kind: 'B', mb: 1, stage: 1 },
          { kind: 'W', mb: 1, stage: 1 },
        ],
      ],
    };
    // dev0: F0 [0,2] F1 [2,4]; dev1: F0 [2.5,4.5] B0 [4.5,7.5] W0 [7.5,8.5] F1 [8.5,10.5] B1 [10.5,13.5] W1 [13.5,14.5]
    // dev0: B0 [8,11] (grad at 7.5 + 0.5) W0 [11,12] B1 [14,17] W1 [17,18]
    for (const r of both(problem, schedule, 1, 0)) {
      expect(r.makespan[0]).toBe(18);
      expect(r.span[0]).toBe(18);
      expect(Array.from(r.busy)).toEqual([12, 12]);
      const starts = r.timeline!.ops.map((o) => o.start);
      expect(starts).toEqual([0, 2, 8, 11, 14, 17, 2.5, 4.5, 7.5, 8.5, 10.5, 13.5]);
      expect(r.timeline!.transfers.map((t) => [t.kind, t.mb, t.start, t.end])).toEqual([
        ['F', 0, 2, 2.5],
        ['F', 1, 4, 4.5],
        ['B', 0, 7.5, 8],
        ['B', 1, 13.5, 14],
      ]);
    }
  });

  it('span differs from makespan when the last device to finish started late', () => {
    // dev0: F [0,1] B [3,4] W [4,5]; dev1: F [1,2] B [2,3] W [3,13]
    const problem = resolveProblem({ stages: 2, microBatches: 1, cost: { F: 1, B: 1, W: [1, 10] } });
    for (const r of both(problem, oneFOneB(2, 1, true))) {
      expect(r.makespan[0]).toBe(13);
      expect(r.span[0]).toBe(12);
      expect(Array.from(r.busy)).toEqual([3, 12]);
    }
  });
});

describe('timelines respect every dependency and one op at a time', () => {
  it('on random instances, in both engines', () => {
    const random = rng(42);
    for (let trial = 0; trial < 60; trial++) {
      const P = 1 + Math.floor(random() * 6);
      const V = random() < 0.5 ? 1 : 2;
      const problem = resolveProblem({
        stages: P,
        chunks: V,
        placement: random() < 0.5 ? 'loop' : 'v',
        microBatches: 1 + Math.floor(random() * 10),
        cost: { F: 0.5 + random(), B: 0.5 + random(), W: 0.1 + random() },
        comm: { time: random() },
        noise: { cv: 0.3 * random(), seed: trial, anomalyProb: 0.05, anomalyFactor: 4 },
      });
      const schedule = randomSchedule(problem, random);
      for (const r of both(problem, schedule, 3, 1)) {
        const tl = r.timeline!;
        const M = problem.microBatches;
        const S = problem.numStages;
        const end = new Map<string, number>();
        for (const o of tl.ops) {
          for (const k of o.op.kind === 'BW' ? ['B', 'W'] : [o.op.kind]) end.set(`${k}${o.op.stage}:${o.op.mb}`, o.end);
          expect(o.end).toBeGreaterThan(o.start);
        }
        const xfer = new Map(tl.transfers.map((t) => [`${t.kind}${t.fromStage}:${t.mb}`, t]));
        for (const o of tl.ops) {
          const { stage, mb, kind } = o.op;
          const startsAfter = (k: string, s: number, viaDevice: boolean) => {
            const t =
              viaDevice && problem.stageDevice[s] !== o.device
                ? xfer.get(`${k}${s}:${mb}`)!.end
                : end.get(`${k}${s}:${mb}`)!;
            expect(o.start).toBeGreaterThanOrEqual(t);
          };
          if (kind === 'F' && stage > 0) startsAfter('F', stage - 1, true);
          if (kind === 'B' || kind === 'BW') {
            startsAfter('F', stage, false);
            if (stage < S - 1) startsAfter('B', stage + 1, true);
          }
          if (kind === 'W') startsAfter('B', stage, false);
        }
        for (let d = 0; d < P; d++) {
          const mine = tl.ops.filter((o) => o.device === d);
          for (let i = 1; i < mine.length; i++) expect(mine[i]!.start).toBeGreaterThanOrEqual(mine[i - 1]!.end);
        }
        expect(Math.max(...tl.ops.map((o) => o.end))).toBe(r.makespan[1]);
        expect(tl.ops.length).toBe(schedule.devices.flat().length);
        void M;
      }
    }
  });
});
