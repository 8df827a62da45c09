import { describe, expect, it } from 'vitest';
import {
  compileSchedule,
  createSimulator,
  DeadlockError,
  deviceOfStage,
  referenceReplay,
  resolveProblem,
  runDynamic,
  type DynamicPolicy,
  type DynamicView,
  type ProblemConfig,
} from '../src/index.js';
import { rng } from './helpers.js';

const sim = await createSimulator();

/** The lowest eligible class index: never waits. */
const lowestIndex: DynamicPolicy = (view) => view.mask.indexOf(1);

/** A seeded policy: waits with probability `pWait` when allowed, else a uniformly random eligible class. */
function randomPolicy(seed: number, pWait = 0): DynamicPolicy {
  const random = rng(seed);
  return (view) => {
    if (view.mask[view.classes] === 1 && random() < pWait) return view.classes;
    let pick = Math.floor(random() * view.eligible);
    for (let k = 0; k < view.classes; k++) if (view.mask[k] === 1 && pick-- === 0) return k;
    throw new Error('unreachable');
  };
}

/** Random problems: V = 1 or 2, both placements, per-stage costs and comm, compute and comm noise cv 0.2. */
function randomConfig(random: () => number, limitFactor: number | null = null): ProblemConfig {
  const P = 1 + Math.floor(random() * 6);
  const V = random() < 0.5 ? 1 : 2;
  const S = P * V;
  const M = 1 + Math.floor(random() * 12);
  const list = (lo: number, hi: number) => Array.from({ length: S }, () => lo + (hi - lo) * random());
  const memF = Math.floor(1 + random() * 4);
  return {
    stages: P,
    chunks: V,
    placement: random() < 0.5 ? 'loop' : 'v',
    microBatches: M,
    cost: { F: list(0.2, 3), B: list(0.2, 3), W: list(0.2, 3) },
    comm: { time: list(0, 1) },
    // limit: a multiple of 1F1B's P activations, at least one micro-batch's V activations
    memory: { F: memF, B: -1, W: 1 - memF, limit: limitFactor === null ? null : Math.max(V, limitFactor * P) * memF },
    noise: { cv: 0.2, seed: Math.floor(random() * 2 ** 32) },
  };
}

describe('dynamic execution replays exactly as its realized order', () => {
  // Without waits, an op starts at max(device free, dependencies arrived): a device that is idle at an event with
  // an eligible class starts one, and its memory (and the reserve rule's state) only changes through its own ops,
  // so memory cannot make a class eligible while it idles. The static replay of the realized order computes the
  // same maximum with the same realized durations (same noise keys), so times, busy and peak memory agree bit for
  // bit. (The claim also holds when a memory limit binds; with waits it does not: the replay can only be earlier.)
  it('lowest-index policy, no noise, no memory limit', () => {
    const problem = resolveProblem({
      stages: 4,
      chunks: 2,
      placement: 'v',
      microBatches: 8,
      cost: { F: 1, B: 2, W: 1 },
      comm: { time: 0.25 },
    });
    const run = runDynamic(problem, lowestIndex, { timeline: true });
    const replay = referenceReplay(problem, run.order, { timelineEpisode: 0 });
    expect(run.makespan).toBe(replay.makespan[0]);
    expect(run.span).toBe(replay.span[0]);
    expect(Array.from(run.busy)).toEqual(Array.from(replay.busy));
    expect(Array.from(run.peakMemory)).toEqual(Array.from(replay.peakMemory));
    expect(run.timeline).toEqual(replay.timeline);
    expect(run.waits).toBe(0);
  });

  it('random problems with noise cv 0.2, with and without a memory limit, both engines', () => {
    const random = rng(11);
    let binding = 0;
    for (let trial = 0; trial < 150; trial++) {
      const problem = resolveProblem(randomConfig(random, trial % 2 === 0 ? null : 1));
      const episode = Math.floor(random() * 1000);
      const policy = trial % 3 === 0 ? lowestIndex : randomPolicy(trial);
      const run = runDynamic(problem, policy, { episode, timeline: true });
      if (run.peakMemory.some((p) => p === problem.memLimit)) binding++;
      compileSchedule(problem, run.schedule); // complete, every op once, right devices
      for (const replay of [
        referenceReplay(problem, run.order, { episodeStart: episode, timelineEpisode: episode }),
        sim.replay(problem, run.schedule, { episodeStart: episode, timelineEpisode: episode }),
      ]) {
        expect(run.makespan).toBe(replay.makespan[0]);
        expect(run.span).toBe(replay.span[0]);
        expect(Array.from(run.busy)).toEqual(Array.from(replay.busy));
        expect(Array.from(run.peakMemory)).toEqual(Array.from(replay.peakMemory));
        expect(replay.memoryViolations).toEqual([]);
        expect(run.timeline!.ops).toEqual(replay.timeline!.ops);
        expect(run.timeline!.transfers).toEqual(replay.timeline!.transfers);
      }
    }
    expect(binding).toBeGreaterThan(30);
  });

  it('with waits the realized order replays no later (the replay starts every op as early as possible)', () => {
    const random = rng(5);
    let slower = 0;
    for (let trial = 0; trial < 60; trial++) {
      const problem = resolveProblem(randomConfig(random));
      const run = runDynamic(problem, randomPolicy(trial, 0.3), { episode: trial });
      const replay = referenceReplay(problem, run.order, { episodeStart: trial });
      expect(replay.makespan[0]).toBeLessThanOrEqual(run.makespan);
      expect(Array.from(replay.busy)).toEqual(Array.from(run.busy));
      if (run.makespan > replay.makespan[0]!) slower++;
    }
    expect(slower).toBeGreaterThan(0);
  });
});

describe('decisions', () => {
  it('one device, M = 2: decisions only where F and B, then B and W, are both eligible', () => {
    // t=0 F0 alone; t=1 {F1, B0} -> decision; t=2 B0 alone; t=3 {B1, W0} -> decision; then W0, W1 alone
    const problem = resolveProblem({ stages: 1, microBatches: 2 });
    const seen: number[] = [];
    const run = runDynamic(problem, (view) => {
      seen.push(view.time, view.mask.indexOf(1));
      return lowestIndex(view);
    });
    expect(run.decisions).toBe(2);
    expect(seen).toEqual([1, 0, 3, 1]);
    expect(run.schedule.devices[0]!.map((op) => `${op.kind}${op.mb}`)).toEqual(['F0', 'F1', 'B0', 'B1', 'W0', 'W1']);
    expect(run.makespan).toBe(6);
  });

  it('the policy is called only with at least two eligible classes, and the view is consistent', () => {
    const random = rng(3);
    for (let trial = 0; trial < 40; trial++) {
      const problem = resolveProblem(randomConfig(random));
      let calls = 0;
      const run = runDynamic(problem, (view: DynamicView) => {
        calls++;
        let count = 0;
        for (let k = 0; k < view.classes; k++) {
          count += view.mask[k]!;
          expect(view.remaining[k]).toBe(problem.microBatches - view.nextMb[k]!);
          if (view.mask[k]) expect(view.remaining[k]).toBeGreaterThan(0);
        }
        expect(count).toBe(view.eligible);
        expect(count).toBeGreaterThanOrEqual(2);
        // waiting is allowed exactly when something is running or in flight
        expect(view.mask[view.classes]).toBe(view.inFlight > 0 ? 1 : 0);
        for (let c = 0; c < view.chunks; c++) expect(problem.stageDevice[view.stage[c]!]).toBe(view.device);
        return lowestIndex(view);
      });
      expect(run.decisions).toBe(calls);
    }
  });

  it('rejects an action that is not eligible', () => {
    const problem = resolveProblem({ stages: 1, microBatches: 2 });
    expect(() => runDynamic(problem, () => 2)).toThrow(RangeError); // W at t=1, before any B
    expect(() => runDynamic(problem, (view) => view.classes)).toThrow(/not allowed/); // wait with nothing in flight
  });
});

describe('memory', () => {
  /**
   * Random problems with per-stage memory (memF >= 0, memB <= 0, memW <= 0) and a limit of at least one
   * micro-batch's forwards per device.
   */
  function limitedConfig(random: () => number): ProblemConfig {
    const config = randomConfig(random);
    const { stages: P, chunks: V = 1, placement = 'loop' } = config;
    const S = P * V;
    const F = Array.from({ length: S }, () => 1 + Math.floor(random() * 4));
    const B = F.map((f) => -Math.floor(random() * (f + 1)));
    const W = F.map((f, s) => -f - B[s]!);
    const full = new Array<number>(P).fill(0);
    F.forEach((f, s) => (full[deviceOfStage(s, P, placement)]! += f));
    const limit = Math.max(...full) + Math.floor(random() * P * 3);
    return { ...config, memory: { F, B, W, limit } };
  }

  it('reserve rule (default): never exceeds the limit and never deadlocks, V = 1 and 2, with waits', () => {
    const random = rng(7);
    let binding = 0;
    for (let trial = 0; trial < 300; trial++) {
      const problem = resolveProblem(limitedConfig(random));
      const run = runDynamic(problem, randomPolicy(trial, 0.1), { episode: trial });
      for (const p of run.peakMemory) expect(p).toBeLessThanOrEqual(problem.memLimit);
      if (run.peakMemory.some((p) => p === problem.memLimit)) binding++;
    }
    expect(binding).toBeGreaterThan(50);
  });

  it('plain rule: never exceeds the limit, but V = 2 runs can trap themselves', () => {
    const random = rng(8);
    let deadlocked = 0;
    for (let trial = 0; trial < 300; trial++) {
      const problem = resolveProblem(limitedConfig(random));
      try {
        const run = runDynamic(problem, randomPolicy(trial, 0.1), { episode: trial, memoryRule: 'plain' });
        for (const p of run.peakMemory) expect(p).toBeLessThanOrEqual(problem.memLimit);
      } catch (e) {
        expect(e).toBeInstanceOf(DeadlockError);
        expect(problem.chunks).toBe(2); // with V = 1 both rules are the same, and deadlock-free
        deadlocked++;
      }
    }
    expect(deadlocked).toBeGreaterThan(0);
  });

  it('one device, stages 0 and 1, room for 2 activations: plain traps itself, reserve does not', () => {
    // t=1: F(0,0) done, memory 1; both F(1,0) and F(0,1) fit (2 <= 2); lowest index picks F(1,0) under plain,
    // and then F(0,1) never fits. Under reserve, F(1,0) must leave the 1 unit micro-batch 0 still owes: 1+1+1 > 2.
    const problem = resolveProblem({ stages: 1, chunks: 2, microBatches: 2, memory: { F: 1, B: 0, W: -1, limit: 2 } });
    expect(() => runDynamic(problem, lowestIndex, { memoryRule: 'plain' })).toThrow(
      /1F0 \(waits for memory: 2 \+ 1 exceeds the limit 2/,
    );
    // reserve, unit costs: 0F0 [0,1]; 1F0 alone (0F1 would leave no room) [1,2]; 1B0 [2,3]; {0B0, 1W0} -> 0B0;
    // {0W0, 1W0} -> 0W0; 1W0 alone (memory 1: 0F1 needs 1 + 1 reserved more); then micro-batch 1 the same way
    const run = runDynamic(problem, lowestIndex);
    expect(run.schedule.devices[0]!.map((op) => `${op.stage}${op.kind}${op.mb}`)).toEqual([
      '0F0',
      '1F0',
      '1B0',
      '0B0',
      '0W0',
      '1W0',
      '0F1',
      '1F1',
      '1B1',
      '0B1',
      '0W1',
      '1W1',
    ]);
    expect(run.decisions).toBe(4);
    expect(Array.from(run.peakMemory)).toEqual([2]);
    expect(run.makespan).toBe(12);
  });

  it('lowest rule: never exceeds the limit and never deadlocks, V = 1, 2 and 3, tight limits, with waits', () => {
    const random = rng(11);
    let binding = 0;
    let chunked = 0;
    for (let trial = 0; trial < 600; trial++) {
      const config = limitedConfig(random);
      // V = 3 on a third of the trials (loop placement), the limit down to one micro-batch's forwards
      if (trial % 3 === 2) {
        const P = config.stages;
        const F = Array.from({ length: 3 * P }, () => 1 + Math.floor(random() * 3));
        const B = F.map((f) => -Math.floor(random() * (f + 1)));
        const W = F.map((f, s) => -f - B[s]!);
        const full = new Array<number>(P).fill(0);
        F.forEach((f, s) => (full[s % P]! += f));
        const list = (lo: number, hi: number) => Array.from({ length: 3 * P }, () => lo + (hi - lo) * random());
        Object.assign(config, {
          chunks: 3,
          placement: 'loop',
          cost: { F: list(0.2, 3), B: list(0.2, 3), W: list(0.2, 3) },
          comm: { time: list(0, 1) },
          memory: { F, B, W, limit: Math.max(...full) + Math.floor(random() * 2 * P) },
        });
      }
      const problem = resolveProblem(config);
      const run = runDynamic(problem, randomPolicy(trial, 0.2), { episode: trial, memoryRule: 'lowest' });
      for (const p of run.peakMemory) expect(p).toBeLessThanOrEqual(problem.memLimit);
      if (run.peakMemory.some((p) => p === problem.memLimit)) binding++;
      if (problem.chunks > 1) chunked++;
    }
    expect(binding).toBeGreaterThan(100);
    expect(chunked).toBeGreaterThan(300);
  });

  it('lowest rule admits what ZB-V runs where reserve blocks it: one device, stages 0 and 1, room for 2', () => {
    // under lowest, F(1, 0) at t = 1 must leave room for micro-batch 0's F(0, 1) (m0 = 0): 1 + 1 + 1 > 2, so the
    // pipeline cannot trap itself; F(0, 1) fits (held 1 + 1 = 2)
    const problem = resolveProblem({ stages: 1, chunks: 2, microBatches: 2, memory: { F: 1, B: 0, W: -1, limit: 2 } });
    const run = runDynamic(problem, lowestIndex, { memoryRule: 'lowest' });
    expect(run.schedule.devices[0]!.slice(0, 2).map((op) => `${op.stage}${op.kind}${op.mb}`)).toEqual(['0F0', '1F0']);
    expect(Array.from(run.peakMemory)).toEqual([2]);
  });

  it('a limit below one micro-batch of forwards is reported as a deadlock naming the blocked op', () => {
    const problem = resolveProblem({ stages: 1, chunks: 2, microBatches: 2, memory: { F: 1, B: 0, W: -1, limit: 1 } });
    expect(() => runDynamic(problem, lowestIndex)).toThrow(DeadlockError);
    expect(() => runDynamic(problem, lowestIndex)).toThrow(
      /0F0 \(waits for memory: 0 \+ 1 \+ 1 reserved exceeds the limit 1 at time 0\)/,
    );
    expect(() => runDynamic(problem, lowestIndex, { memoryRule: 'plain' })).toThrow(
      /1F0 \(waits for memory: 1 \+ 1 exceeds the limit 1/,
    );
  });
});

describe('determinism and common random numbers', () => {
  it('same problem, seed and episode give identical results; another episode another draw', () => {
    const config: ProblemConfig = {
      stages: 4,
      chunks: 2,
      placement: 'v',
      microBatches: 8,
      cost: { F: 1, B: 2, W: 1 },
      comm: { time: 0.1 },
      noise: { cv: 0.2, seed: 42 },
    };
    const problem = resolveProblem(config);
    const a = runDynamic(problem, randomPolicy(1, 0.2), { episode: 5, timeline: true });
    const b = runDynamic(resolveProblem(config), randomPolicy(1, 0.2), { episode: 5, timeline: true });
    expect(b).toEqual(a);
    const c = runDynamic(problem, randomPolicy(1, 0.2), { episode: 6 });
    expect(c.makespan).not.toBe(a.makespan);
  });

  it('the noise is the static replay noise: a one-device chain of F, B, W per micro-batch', () => {
    // with one device and lowest-index choices the order is F0 F1 .. then B's, W's; busy = sum of realized costs,
    // identical to the replay of the same order in the same episode and different in another episode
    const problem = resolveProblem({ stages: 1, microBatches: 4, noise: { cv: 0.3, seed: 9 } });
    const run = runDynamic(problem, lowestIndex, { episode: 3 });
    expect(run.busy[0]).toBe(referenceReplay(problem, run.order, { episodeStart: 3 }).busy[0]);
    expect(run.busy[0]).not.toBe(referenceReplay(problem, run.order, { episodeStart: 4 }).busy[0]);
  });
});
