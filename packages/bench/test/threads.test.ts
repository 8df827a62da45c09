// Worker threads: the quality results do not depend on the split, the scaling arithmetic, and the TypeScript
// reference rollout of the env suite takes the WebAssembly rollout's decisions. The workers run the build's
// dist/worker.js (the package is built before its tests); no timing thresholds here.
import { describe, expect, it } from 'vitest';
import { OBS_GLOBAL, OBS_PER_CLASS, WasmEnv } from '@pprl/core-wasm';
import {
  checkThreads,
  envWorkload,
  measureThreadScaling,
  ReferenceGreedyRollout,
  runEnvBench,
  runQualityBench,
  scalingPoints,
} from '../src/index.js';

describe('thread scaling arithmetic', () => {
  it('speedup and efficiency are relative to the median at one thread', () => {
    const points = scalingPoints([
      [10, 12, 11],
      [20, 22, 21],
    ]);
    expect(points.map((p) => p.threads)).toEqual([1, 2]);
    expect(points[0]).toMatchObject({ speedup: 1, efficiency: 1 });
    expect(points[1]!.rate).toMatchObject({ median: 21, min: 20, max: 22 });
    expect(points[1]!.speedup).toBeCloseTo(21 / 11, 12);
    expect(points[1]!.efficiency).toBeCloseTo(21 / 22, 12);
    expect(points[0]!.cpuShare).toBeUndefined();
    expect(
      scalingPoints(
        [[1], [2]],
        [
          [0.9, 1, 0.95],
          [0.5, 0.6, 0.7],
        ],
      ).map((p) => p.cpuShare),
    ).toEqual([0.95, 0.6]);
  });

  it('accepts 1..64 threads only', () => {
    for (const bad of [0, -1, 1.5, 65, Number.NaN]) expect(() => checkThreads(bad)).toThrow(RangeError);
    expect(() => checkThreads(64)).not.toThrow();
  });
});

describe('workers', () => {
  it('time the WebAssembly replay at 1 and 2 threads', async () => {
    const points = await measureThreadScaling({ suite: 'replay' }, 2, 0.02, 1);
    expect(points.map((p) => p.threads)).toEqual([1, 2]);
    for (const p of points) {
      expect(p.rate.samples).toHaveLength(1);
      expect(p.rate.median).toBeGreaterThan(0);
      expect(p.cpuShare).toBeGreaterThan(0);
    }
  }, 60_000);

  it('quality: 1 and 2 threads give exactly the single-threaded results', async () => {
    const threaded = await runQualityBench({ quick: true, episodes: 8, threads: 2 });
    const inProcess = await runQualityBench({ quick: true, episodes: 8 });
    expect(threaded.cases).toEqual(inProcess.cases);
    expect(threaded.threads).toMatchObject({ jobs: 6 * 4, identicalResults: true });
    expect(threaded.threads!.timings.map((t) => t.threads)).toEqual([1, 2]);
    expect(threaded.options).toEqual({ quick: true, episodes: 8, threads: 2 });
    expect(inProcess.threads).toBeUndefined();
  }, 120_000);

  it('env --threads 2 reports every policy at 1 and 2 threads, at the largest vector size', async () => {
    const r = await runEnvBench({ quick: true, envs: [16, 32], threads: 2 });
    expect(r.threads!.envs).toBe(32);
    for (const points of [r.threads!.greedy, r.threads!.mlp, r.threads!.mlpShared])
      expect(points.map((p) => p.threads)).toEqual([1, 2]);
    expect(r.options).toEqual({ quick: true, envs: [16, 32], threads: 2 });
  }, 120_000);
});

describe('env suite: the TypeScript reference beside the WebAssembly rollout', () => {
  it(
    'takes the same decisions and records the same fields as the recorded greedy-zb rollout, across episode ' + 'ends',
    async () => {
      const { problem } = envWorkload();
      const N = 12;
      const T = 64;
      const env = await WasmEnv.create({ numEnvs: N, problem });
      const buffers = env.createRolloutBuffers(T);
      env.reset();
      const reference = new ReferenceGreedyRollout(problem, N, T);
      let episodesEnded = 0;
      for (let round = 0; round < 8; round++) {
        env.rollout('greedy-zb', T, buffers);
        expect(reference.run()).toBe(N * T);
        expect(reference.actions).toEqual(buffers.actions);
        expect(reference.mask).toEqual(buffers.mask);
        expect(reference.obs).toEqual(buffers.obs);
        expect(reference.reward).toEqual(buffers.reward);
        expect(reference.done).toEqual(buffers.done);
        episodesEnded += reference.done.reduce((sum, d) => sum + d, 0);
      }
      expect(episodesEnded).toBeGreaterThan(0);
      expect(env.readLog(false).perEnv).toEqual(reference.refs.map((r) => r.log));
      buffers.dispose();
      env.dispose();
    },
  );

  it('reports the ratio at every vector size', async () => {
    const r = await runEnvBench({ quick: true, envs: [8] });
    const p = r.byEnvs[0]!;
    expect(p.ratio).toBeCloseTo(p.greedyRecorded!.median / p.reference!.median, 12);
    expect(r.reference).toEqual({
      decisionsPerSec: p.reference!.median,
      greedyRecordedPerSec: p.greedyRecorded!.median,
      ratio: p.ratio,
    });
    // one chunk per device: D = OBS_GLOBAL + 3 OBS_PER_CLASS inputs (43), 4 actions (F, B, W, wait) and a value
    const D = OBS_GLOBAL + 3 * OBS_PER_CLASS;
    expect(D).toBe(43);
    expect(r.mlp.multiplyAdds).toBe(2 * (D * 64 + 64 * 64) + 64 * 4 + 64);
    expect(r.mlpShared.multiplyAdds).toBe(D * 64 + 64 * 64 + 64 * 5);
  }, 60_000);
});
