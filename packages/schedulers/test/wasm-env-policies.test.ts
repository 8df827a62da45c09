// The WebAssembly environment of @pprl/core-wasm against this package's TypeScript policies and schedules: its
// built-in heuristics against runHeuristic, its remaining-path table against remainingPath, and every generator
// replayed or taught inside it. These tests moved here from core-wasm's test/env.test.ts, which must not import
// this package (core-wasm depends on none of the others, docs/SEMANTICS.md section 4); they run against
// core-wasm's built package. randomConfig, RANGES and checkAgainstReference are copies of env.test.ts's, so that
// the instances stay the same.
import {
  createSimulator,
  drawProblem,
  envRemainingPath,
  idealTime,
  orthogonalInit,
  ReferenceEnv,
  resolveProblem,
  ScheduleError,
  WasmEnv,
  WasmMlp,
  type Op,
  type ProblemConfig,
  type ProblemRanges,
  type Schedule,
} from '@pprl/core-wasm';
import { describe, expect, it } from 'vitest';
import { HEURISTICS, remainingPath, runHeuristic } from '../src/heuristics.js';
import { SCHEDULES } from '../src/registry.js';
import { rng } from './helpers.js';

const sim = await createSimulator();

/** Random problems: V = 1 or 2, both placements, per-stage costs and comm, noise; optional memory limit. */
function randomConfig(random: () => number, limitFactor: number | null, V?: number): ProblemConfig {
  const P = 1 + Math.floor(random() * 6);
  const chunks = V ?? (random() < 0.5 ? 1 : 2);
  const S = P * chunks;
  const M = 1 + Math.floor(random() * 12);
  const list = (lo: number, hi: number) => Array.from({ length: S }, () => lo + (hi - lo) * random());
  const memF = Math.floor(1 + random() * 4);
  return {
    stages: P,
    chunks,
    placement: random() < 0.5 ? 'loop' : 'v',
    microBatches: M,
    cost: { F: list(0.2, 3), B: list(0.2, 3), W: list(0.2, 3) },
    comm: { time: list(0, 1) },
    memory: {
      F: memF,
      B: -1,
      W: 1 - memF,
      limit: limitFactor === null ? null : Math.max(chunks, Math.floor(limitFactor * P)) * memF,
    },
    noise: { cv: 0.2, anomalyProb: random() < 0.3 ? 0.05 : 0, seed: Math.floor(random() * 2 ** 32) },
  };
}

const RANGES: ProblemRanges = {
  seed: 7,
  stages: [1, 6],
  chunks: [1, 2],
  vShapeProb: 0.5,
  microBatches: [1, 10],
  costB: [0.8, 2.5],
  costW: [0.3, 1.5],
  comm: [0, 0.4],
  cv: [0, 0.3],
  stageSpread: 0.3,
  limitProb: 0.5,
  limit: [0.5, 1.5],
  noise: { anomalyProb: 0.02, seed: 99 },
};

/** Two problems (P = 4, M = 8, uneven costs, comm) that the static-schedule tests run at several noise settings. */
const ONE_CHUNK: ProblemConfig = { stages: 4, microBatches: 8, cost: { F: 1, B: 1.3, W: 0.8 }, comm: { time: 0.1 } };
const TWO_CHUNKS: ProblemConfig = {
  stages: 4,
  chunks: 2,
  placement: 'v',
  microBatches: 8,
  cost: { F: 1, B: 1.5, W: 0.7 },
  comm: { time: 0.05 },
};

/** The schedule with every fused BW split into B then W. */
function splitBW(schedule: Schedule): Schedule {
  return {
    ...schedule,
    devices: schedule.devices.map((ops) =>
      ops.flatMap((op): Op[] =>
        op.kind === 'BW'
          ? [
              { ...op, kind: 'B' },
              { ...op, kind: 'W' },
            ]
          : [op],
      ),
    ),
  };
}

describe('built-in heuristics in WebAssembly = runHeuristic (TypeScript)', () => {
  it('fixed random problems: V = 1 and 2, both placements, with and without memory limits, noise', async () => {
    const random = rng(21);
    let compared = 0;
    for (let trial = 0; trial < 60; trial++) {
      const limit = trial % 3 === 0 ? null : trial % 3 === 1 ? 1 : 0.5;
      const problem = resolveProblem(randomConfig(random, limit, 1 + (trial % 2)));
      const N = 3;
      const E = 2;
      const episodeStart = trial * 7;
      const memoryRule = (['reserve', 'lowest', 'plain'] as const)[trial % 3 === 1 ? trial % 2 : 0]!;
      const env = await WasmEnv.create({ problem, numEnvs: N, episodeStart, memoryRule });
      for (const h of HEURISTICS) {
        const { makespan } = env.runEpisodes(h.name as 'greedy-zb', E);
        for (let i = 0; i < N; i++)
          for (let k = 0; k < E; k++) {
            const episode = episodeStart + i + k * N;
            expect(makespan[i * E + k]).toBe(runHeuristic(problem, h.name, { episode, memoryRule }).makespan);
            compared++;
          }
      }
      env.dispose();
    }
    expect(compared).toBe(60 * 3 * 6);
  });

  it('fresh problems: each episode index draws its problem', async () => {
    const N = 5;
    const E = 4;
    const env = await WasmEnv.create({ ranges: RANGES, numEnvs: N, episodeStart: 100 });
    for (const h of HEURISTICS) {
      const { makespan } = env.runEpisodes(h.name as 'greedy-zb', E);
      for (let i = 0; i < N; i++)
        for (let k = 0; k < E; k++) {
          const index = 100 + i + k * N;
          const expected = runHeuristic(drawProblem(RANGES, index), h.name, { episode: index }).makespan;
          expect(makespan[i * E + k]).toBe(expected);
        }
    }
    env.dispose();
  });

  it('the drawn problems and the remaining-path table are the TypeScript ones', async () => {
    const N = 8;
    const env = await WasmEnv.create({ ranges: RANGES, numEnvs: N });
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < N; i++) {
        const p = drawProblem(RANGES, env.episodeOf(i));
        const dump = env.problemDump(i);
        const S = p.numStages;
        expect([dump.P, dump.V, dump.M, dump.memLimit, dump.cv, dump.seed]).toEqual([
          p.stages,
          p.chunks,
          p.microBatches,
          p.memLimit,
          p.noise.cv,
          p.noise.seed,
        ]);
        expect(dump.stageDevice).toEqual(Array.from(p.stageDevice));
        expect(dump.cost).toEqual([...p.costF, ...p.costB, ...p.costW]);
        expect(dump.comm).toEqual(Array.from(p.comm));
        expect(dump.path).toEqual(Array.from(remainingPath(p)));
        expect(dump.path).toEqual(Array.from(envRemainingPath(p)));
        expect(dump.scale).toBe(idealTime(p));
        expect(dump.path.length).toBe(3 * S);
      }
      env.rollout('greedy-zb', 30);
    }
    env.dispose();
  });
});

describe('replaying a static schedule inside the environment', () => {
  it('every generator of @pprl/schedulers that the environment can express: exactly the simulator', async () => {
    const configs: ProblemConfig[] = [
      { ...ONE_CHUNK, noise: { cv: 0.2, seed: 4 } },
      {
        stages: 3,
        chunks: 2,
        placement: 'loop',
        microBatches: 6,
        cost: { F: 1, B: 2, W: 1 },
        comm: { time: 0.2 },
        noise: { cv: 0.3, seed: 5 },
      },
      { ...TWO_CHUNKS, noise: { cv: 0.2, anomalyProb: 0.05, seed: 6 } },
      { stages: 4, microBatches: 8, memory: { limit: 4 }, noise: { cv: 0.1, seed: 9 } },
    ];
    const replayed: string[] = [];
    const rejected: string[] = [];
    for (const config of configs) {
      const problem = resolveProblem(config);
      for (const info of SCHEDULES) {
        if (info.chunks !== undefined && info.chunks !== problem.chunks) continue;
        if (info.placement !== undefined && info.placement !== problem.placement) continue;
        let schedule: Schedule;
        try {
          schedule = info.build(problem);
        } catch {
          continue; // the generator does not support this problem
        }
        const N = 3;
        const E = 4;
        const env = await WasmEnv.create({ problem, numEnvs: N, episodeStart: 50 });
        try {
          env.setReplaySchedule(schedule);
        } catch (e) {
          expect(e).toBeInstanceOf(ScheduleError);
          expect((e as Error).message).toMatch(/ascending order/);
          rejected.push(info.name);
          env.dispose();
          continue;
        }
        const { makespan } = env.runEpisodes('replay', E);
        const split = sim.replay(problem, splitBW(schedule), { episodes: 50 + N * E, episodeStart: 0 });
        const fused = sim.replay(problem, schedule, { episodes: 50 + N * E, episodeStart: 0 });
        const hasBW = schedule.devices.some((ops) => ops.some((op) => op.kind === 'BW'));
        for (let i = 0; i < N; i++)
          for (let k = 0; k < E; k++) {
            const index = 50 + i + k * N;
            expect(makespan[i * E + k]).toBe(split.makespan[index]);
            if (!hasBW) expect(makespan[i * E + k]).toBe(fused.makespan[index]);
            // B then W sends the gradient after B instead of after the fused op: never later
            else expect(makespan[i * E + k]).toBeLessThanOrEqual(fused.makespan[index]!);
          }
        // the same schedule as a teacher in decision mode with waiting: its decisions are exactly the replay
        const taught = await WasmEnv.create({ problem, numEnvs: N, episodeStart: 50, wait: true });
        taught.setReplaySchedule(schedule);
        expect(taught.runEpisodes('teacher', E).makespan).toEqual(makespan);
        taught.dispose();
        replayed.push(info.name);
        env.dispose();
      }
    }
    expect(replayed).toEqual(
      expect.arrayContaining(['gpipe', '1f1b', '1f1b-split', 'zb-h1', 'zb-h2', 'interleaved-1f1b', 'zb-v']),
    );
    const notExpressible = [...new Set(rejected)].join(', ') || 'none';
    console.log(`replayed exactly: ${[...new Set(replayed)].join(', ')}; not expressible: ${notExpressible}`);
  });

  it('V-shape schedules as teachers at their own peak memory: exactly the replay under the lowest rule', async () => {
    const base: ProblemConfig = {
      stages: 4,
      chunks: 2,
      placement: 'v',
      microBatches: 12,
      cost: { F: 1, B: 1.4, W: 0.9 },
      comm: { time: 0.1 },
      memory: { F: 2, B: -1.2, W: -0.8 },
      noise: { cv: 0.3, anomalyProb: 0.02, seed: 3 },
    };
    let taught = 0;
    const blockedByReserve: string[] = [];
    for (const name of ['zb-v', 'v-half', 'v-min']) {
      const free = resolveProblem(base);
      const schedule = SCHEDULES.find((s) => s.name === name)!.build(free);
      const peak = Math.max(...sim.replay(free, schedule).peakMemory);
      const problem = resolveProblem({ ...base, memory: { ...base.memory, limit: peak } });
      const N = 4;
      const E = 3;
      const replayEnv = await WasmEnv.create({ problem, numEnvs: N });
      replayEnv.setReplaySchedule(schedule);
      const expected = replayEnv.runEpisodes('replay', E).makespan;
      for (const memoryRule of ['lowest', 'reserve'] as const) {
        const env = await WasmEnv.create({ problem, numEnvs: N, wait: true, memoryRule });
        env.setReplaySchedule(schedule);
        const got = env.runEpisodes('teacher', E).makespan;
        if (memoryRule === 'lowest') {
          expect(got).toEqual(expected);
          taught++;
        } else if (got.some((x, i) => x !== expected[i])) blockedByReserve.push(name);
        env.dispose();
      }
      replayEnv.dispose();
    }
    expect(taught).toBe(3);
    // the per-device reserve rule blocks some of ZB-V's forwards (why `lowest` exists)
    expect(blockedByReserve).toContain('zb-v');
  });
});

describe('rollouts inside WebAssembly', () => {
  it(
    'teacher labels (the decisions of the loaded schedule) in built-in and MLP rollouts equal the reference, ' +
      'waits included',
    async () => {
      const cases: [ProblemConfig, string][] = [
        [{ ...ONE_CHUNK, memory: { limit: 4 }, noise: { cv: 0.3, seed: 4 } }, 'zb-h1'],
        [{ ...TWO_CHUNKS, noise: { cv: 0.2, seed: 6 } }, 'zb-v'],
      ];
      let labelled = 0;
      let waits = 0;
      for (const [config, name] of cases) {
        const problem = resolveProblem(config);
        const schedule = SCHEDULES.find((s) => s.name === name)!.build(problem);
        const N = 3;
        const T = 160;
        const env = await WasmEnv.create({ problem, numEnvs: N, wait: true });
        env.setReplaySchedule(schedule);
        const makeRef = (i: number) => {
          const ref = new ReferenceEnv({ problem, episodeStart: i, episodeStride: N, wait: true });
          ref.setTeacher(schedule);
          return ref;
        };
        const buf = env.createRolloutBuffers(T);
        // the teacher itself: its labels are its actions wherever it has one
        env.rollout('teacher', T, buf);
        for (let r = 0; r < N * T; r++) if (buf.teacher[r]! >= 0) expect(buf.actions[r]).toBe(buf.teacher[r]);
        checkAgainstReference(env, buf, T, makeRef);
        for (let r = 0; r < N * T; r++) if (buf.actions[r] === env.numActions - 1) waits++;
        // a random MLP student: labels of states the teacher would not reach (DAgger)
        const student = await WasmEnv.create({ problem, numEnvs: N, wait: true });
        student.setReplaySchedule(schedule);
        const layout = {
          obsDim: student.obsDim,
          hidden: [16],
          actions: student.numActions,
          activation: 'tanh' as const,
          shared: true,
        };
        const mlp = await WasmMlp.create(layout, orthogonalInit(layout, 9));
        student.rollout({ mlp, seed: 2 }, T, buf);
        checkAgainstReference(student, buf, T, makeRef);
        for (let r = 0; r < N * T; r++) if (buf.teacher[r]! >= 0) labelled++;
        mlp.dispose();
        student.dispose();
        buf.dispose();
        env.dispose();
      }
      expect(labelled).toBeGreaterThan(600);
      expect(waits).toBeGreaterThan(20);
    },
  );
});

/** The rollout's rows replayed through reference envs: same observations, masks, rewards and dones. */
function checkAgainstReference(
  env: WasmEnv,
  buf: ReturnType<WasmEnv['createRolloutBuffers']>,
  T: number,
  makeRef: (i: number) => ReferenceEnv,
) {
  const N = env.numEnvs;
  const D = env.obsDim;
  const A = env.numActions;
  const obs = new Float32Array(D);
  const mask = new Uint8Array(A);
  for (let i = 0; i < N; i++) {
    const ref = makeRef(i);
    ref.reset();
    for (let t = 0; t < T; t++) {
      const row = t * N + i;
      ref.observe(obs, mask);
      expect(buf.obs.subarray(row * D, row * D + D)).toEqual(obs);
      expect(buf.mask.subarray(row * A, row * A + A)).toEqual(mask);
      expect(buf.teacher[row]).toBe(ref.teacherAction());
      const { reward, done } = ref.step(buf.actions[row]!);
      expect(buf.reward[row]).toBe(Math.fround(reward));
      expect(buf.done[row]).toBe(done ? 1 : 0);
    }
    ref.observe(obs, mask);
    expect(buf.finalObs.subarray(i * D, i * D + D)).toEqual(obs);
    expect(buf.finalMask.subarray(i * A, i * A + A)).toEqual(mask);
    expect(env.obs.subarray(i * D, i * D + D)).toEqual(obs);
  }
}
