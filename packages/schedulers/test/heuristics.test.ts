import {
  compileSchedule,
  deviceOfStage,
  referenceReplay,
  resolveProblem,
  UserError,
  type ProblemConfig,
} from '@pprl/core-wasm';
import { describe, expect, it } from 'vitest';
import { rng } from './helpers.js';
import { HEURISTICS, remainingPath, runHeuristic } from '../src/heuristics.js';

const NAMES = HEURISTICS.map((h) => h.name);

const order = (ops: { kind: string; mb: number }[]) => ops.map((op) => `${op.kind}${op.mb}`).join(' ');

describe('unit costs, zero comm, no noise, P = 4, M = 8', () => {
  const problem = resolveProblem({ stages: 4, microBatches: 8 });

  it('greedy-ffirst takes 30 = M(F+B+W) + (P-1)(F+B)', () => {
    // F first: device d runs F0..F7 in [d, d+8]. Device 3 then runs B0..B7 in [11, 19] (B before W); B(m) reaches
    // device d at 11 + (3-d) + m, so device d runs its B's back to back in [14-d, 22-d] and its W's after them.
    // Device 0 ends last: 8 F's, idle [8, 14], 8 B's, 8 W's: 30.
    const run = runHeuristic(problem, 'greedy-ffirst');
    expect(run.makespan).toBe(30);
    expect(order(run.schedule.devices[0]!)).toBe(
      'F0 F1 F2 F3 F4 F5 F6 F7 B0 B1 B2 B3 B4 B5 B6 B7 W0 W1 W2 W3 W4 W5 W6 W7',
    );
    expect(Array.from(run.peakMemory)).toEqual([8, 8, 8, 8]);
  });

  it('greedy-zb takes 27 = (P-1)F + M(F+B+W), like ZB-H1', () => {
    // B first: the last device gets F0 at t=3 and from then on always has an F or a B ready (F(m) has arrived by
    // the time B(m-1) ends, B(m) is ready when F(m) ends), so it alternates F B from 3 to 19 and then runs its 8
    // W's, which never win against an F or a B: 3 + 24 = 27. The other devices end earlier (device 0 at 24).
    const run = runHeuristic(problem, 'greedy-zb');
    expect(run.makespan).toBe(27);
    expect(order(run.schedule.devices[3]!)).toBe(
      'F0 B0 F1 B1 F2 B2 F3 B3 F4 B4 F5 B5 F6 B6 F7 B7 W0 W1 W2 W3 W4 W5 W6 W7',
    );
    expect(run.span).toBe(24); // the last device runs 24 unit ops without a gap
  });

  it('greedy-cp equals greedy-ffirst here: at uniform costs an F always has the longer path', () => {
    // remaining path of F(s) = (S-s) F + S B + W > that of any B(s') = (s'+1) B + W
    const cp = runHeuristic(problem, 'greedy-cp');
    const ffirst = runHeuristic(problem, 'greedy-ffirst');
    expect(cp.schedule.devices).toEqual(ffirst.schedule.devices);
  });

  it('with room for one activation every heuristic serializes the micro-batches: M(PF + PB + W) = 72', () => {
    // device 0 can start F(m+1) only after W(m, 0), which follows the whole chain F(m) x 4, B(m) x 4: 9 per micro-batch
    const tight = resolveProblem({ stages: 4, microBatches: 8, memory: { F: 1, B: 0, W: -1, limit: 1 } });
    for (const name of NAMES) {
      const run = runHeuristic(tight, name);
      expect(run.makespan).toBe(72);
      expect(run.decisions).toBe(0);
    }
  });

  it('greedy-zb under 1F1B memory (limit P memF) never exceeds it', () => {
    const units = resolveProblem({ stages: 4, microBatches: 8, memory: { F: 1, B: 0, W: -1, limit: 4 } });
    const run = runHeuristic(units, 'greedy-zb');
    expect(Array.from(run.peakMemory)).toEqual([4, 4, 4, 4]); // W's wait for bubbles, so the limit binds everywhere
    expect(run.makespan).toBe(29); // computed, not derived: 2 above the unlimited 27, under 1F1B's 33
    // the zero-bubble paper's units (h = 4, a s = 1: memF = 34h + 5as, memW = -32h, memB = -memF - memW)
    const zb = resolveProblem({ stages: 4, microBatches: 8, memory: { F: 141, B: -13, W: -128, limit: 4 * 141 } });
    const zbRun = runHeuristic(zb, 'greedy-zb');
    for (const p of zbRun.peakMemory) expect(p).toBeLessThanOrEqual(4 * 141);
    expect(zbRun.peakMemory[0]).toBe(4 * 141);
  });
});

describe('all heuristics on random problems', () => {
  function config(random: () => number, V: number, placement: 'loop' | 'v', limited: boolean): ProblemConfig {
    const P = 1 + Math.floor(random() * 6);
    const S = P * V;
    const list = (lo: number, hi: number) => Array.from({ length: S }, () => lo + (hi - lo) * random());
    const F = Array.from({ length: S }, () => 1 + Math.floor(random() * 3));
    const B = F.map((f) => -Math.floor(random() * (f + 1)));
    const full = new Array<number>(P).fill(0);
    F.forEach((f, s) => (full[deviceOfStage(s, P, placement)]! += f));
    return {
      stages: P,
      chunks: V,
      placement,
      microBatches: 1 + Math.floor(random() * 16),
      cost: { F: list(0.3, 2), B: list(0.3, 3), W: list(0.2, 2) },
      comm: { time: list(0, 0.5) },
      // at least one micro-batch's forwards per device, so the reserve rule cannot deadlock
      memory: {
        F,
        B,
        W: F.map((f, s) => -f - B[s]!),
        limit: limited ? Math.max(...full) + Math.floor(random() * 2 * P) : null,
      },
      noise: { cv: 0.2, seed: Math.floor(random() * 2 ** 32) },
    };
  }

  it.each([
    [1, 'loop'],
    [2, 'loop'],
    [2, 'v'],
  ] as const)('V = %i, %s placement: complete, within memory, replaying to the same times', (V, placement) => {
    const random = rng(V * 10 + placement.length);
    for (let trial = 0; trial < 40; trial++) {
      const problem = resolveProblem(config(random, V, placement, trial % 2 === 1));
      for (const name of NAMES) {
        const run = runHeuristic(problem, name, { episode: trial });
        compileSchedule(problem, run.schedule);
        expect(run.schedule.name).toBe(name);
        expect(run.waits).toBe(0);
        for (const p of run.peakMemory) expect(p).toBeLessThanOrEqual(problem.memLimit);
        // no waits: the realized order replayed statically gives the same times (same noise, same episode)
        const replay = referenceReplay(problem, run.order, { episodeStart: trial });
        expect(replay.makespan[0]).toBe(run.makespan);
        expect(Array.from(replay.busy)).toEqual(Array.from(run.busy));
      }
    }
  });
});

describe('registry', () => {
  it('names the three rules, and rejects an unknown name', () => {
    expect(NAMES).toEqual(['greedy-zb', 'greedy-ffirst', 'greedy-cp']);
    const problem = resolveProblem({ stages: 2, microBatches: 2 });
    expect(() => runHeuristic(problem, 'greedy-nope')).toThrow(UserError);
    expect(() => runHeuristic(problem, 'greedy-nope')).toThrow(
      /unknown heuristic "greedy-nope" \(known: greedy-zb, greedy-ffirst, greedy-cp\)/,
    );
  });

  it('remaining paths by hand: P = 2, F = 1, B = 2, W = 1, comm 0.5', () => {
    // W(s) = 1; B(0) = 2 + 1 = 3; B(1) = 2 + max(1, 0.5 + 3) = 5.5; F(1) = 1 + B(1) = 6.5; F(0) = 1 + 0.5 + 6.5 = 8
    const problem = resolveProblem({ stages: 2, microBatches: 1, cost: { F: 1, B: 2, W: 1 }, comm: { time: 0.5 } });
    expect(Array.from(remainingPath(problem))).toEqual([8, 6.5, 3, 5.5, 1, 1]);
  });

  it('greedy-cp runs a heavy W before a B with a shorter path', () => {
    // one device holding stages 0 and 1, W(1) = 10: at t=3 both B(0,0) (path B + W = 2) and W(0,1) (path 10) are
    // eligible; greedy-cp takes W(0,1), greedy-zb and greedy-ffirst take B(0,0)
    const problem = resolveProblem({ stages: 1, chunks: 2, microBatches: 1, cost: { F: 1, B: 1, W: [1, 10] } });
    const text = (name: string) =>
      runHeuristic(problem, name)
        .schedule.devices[0]!.map((op) => `${op.stage}${op.kind}${op.mb}`)
        .join(' ');
    expect(text('greedy-cp')).toBe('0F0 1F0 1B0 1W0 0B0 0W0');
    expect(text('greedy-zb')).toBe('0F0 1F0 1B0 0B0 0W0 1W0');
    expect(text('greedy-ffirst')).toBe('0F0 1F0 1B0 0B0 0W0 1W0');
  });
});
