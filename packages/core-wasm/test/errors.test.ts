import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DeadlockError,
  ScheduleError,
  compileSchedule,
  createSimulator,
  referenceReplay,
  resolveProblem,
  type ProblemConfig,
  type Schedule,
} from '../src/index.js';
import { oneFOneB } from './helpers.js';

const sim = await createSimulator();

function configError(config: unknown): ConfigError {
  try {
    resolveProblem(config as ProblemConfig);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('bad problem configs name the field', () => {
  it.each([
    [{ stages: 0, microBatches: 4 }, 'stages', />=1/],
    [{ stages: 2, microBatches: 0 }, 'microBatches', />=1/],
    [{ stages: 2.5, microBatches: 4 }, 'stages', /int/i],
    [{ stages: 2, microBatches: 4, cost: { F: -1 } }, 'cost.F[0]', />=0/],
    [{ stages: 2, microBatches: 4, cost: { B: 'fast' } }, 'cost.B', /expected a number or a list of numbers/],
    [{ stages: 2, microBatches: 4, cost: { W: [1, 2, 3] } }, 'cost.W', /1 number or 2 numbers/],
    [{ stages: 2, microBatches: 4, memory: { F: 2, B: -1, W: -0.5 } }, 'memory', /F \+ B \+ W must be 0/],
    [{ stages: 2, microBatches: 4, placement: 'zigzag' }, 'placement', /loop|v/],
    [{ stages: 2, microBatches: 4, noise: { cv: 5 } }, 'noise.cv', /<=3/],
    [{ stages: 2, microBatches: 4, colour: 'red' }, '', /colour/],
    [{ stages: 2, microBatches: 4, comm: { latency: 1 } }, 'comm', /bytes and bandwidth/],
    // sizes that would overflow a makespan or a memory sum to Infinity
    [{ stages: 2, microBatches: 4, cost: { F: 1e308 } }, 'cost.F[0]', /<=1000000000000/],
    [{ stages: 2, microBatches: 4, comm: { time: 2e12 } }, 'comm.time[0]', /<=1000000000000/],
    [
      { stages: 2, microBatches: 4, comm: { bytes: 1e18, bandwidth: 1e-3 } },
      'comm',
      /latency \+ bytes \/ bandwidth must be at most 1000000000000/,
    ],
    [{ stages: 2, microBatches: 4, memory: { F: 1e300, B: 0, W: -1e300 } }, 'memory.F[0]', /<=1000000000000000000/],
    [{ stages: 2, microBatches: 4, memory: { limit: 1e300 } }, 'memory.limit', /<=1000000000000000000/],
  ])('%j -> %s', (config, field, message) => {
    const e = configError(config);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('\n');
  });
});

describe('bad schedules name the ops', () => {
  const problem = resolveProblem({ stages: 2, microBatches: 2 });
  const base = () => oneFOneB(2, 2, true);

  it('a missing op', () => {
    const s = base();
    s.devices[1] = s.devices[1]!.filter((o) => !(o.kind === 'W' && o.mb === 1));
    expect(() => compileSchedule(problem, s)).toThrow(/missing ops: 1W1/);
  });

  it('a duplicated op', () => {
    const s = base();
    s.devices[0]!.push({ kind: 'F', mb: 0, stage: 0 });
    expect(() => compileSchedule(problem, s)).toThrow(/duplicated ops: 0F0/);
  });

  it('a fused BW next to its own B', () => {
    const s = base();
    s.devices[0]!.push({ kind: 'BW', mb: 0, stage: 0 });
    expect(() => compileSchedule(problem, s)).toThrow(ScheduleError);
  });

  it('an op on the wrong device', () => {
    const s = base();
    const op = s.devices[0]!.pop()!;
    s.devices[1]!.push(op);
    expect(() => compileSchedule(problem, s)).toThrow(/wrong device: 0W1 on device 1/);
  });

  it('a deadlock names the blocked ops in both engines, without hanging', () => {
    // device 1 wants B of mb 1 before F of mb 0 has arrived... build a cycle: device 0 runs B0 before F1,
    // device 1 runs F1 before B0 (B0 of stage 1 needs nothing from F1, so make device 1 need F1 first).
    const s: Schedule = {
      stages: 2,
      chunksPerDevice: 1,
      placement: 'loop',
      microBatches: 2,
      devices: [
        [
          { kind: 'F', mb: 0, stage: 0 },
          { kind: 'BW', mb: 0, stage: 0 },
          { kind: 'F', mb: 1, stage: 0 },
          { kind: 'BW', mb: 1, stage: 0 },
        ],
        [
          { kind: 'F', mb: 1, stage: 1 },
          { kind: 'F', mb: 0, stage: 1 },
          { kind: 'BW', mb: 0, stage: 1 },
          { kind: 'BW', mb: 1, stage: 1 },
        ],
      ],
    };
    const compiled = compileSchedule(problem, s);
    for (const run of [() => sim.replay(problem, compiled), () => referenceReplay(problem, compiled)]) {
      try {
        run();
        throw new Error('expected a deadlock');
      } catch (e) {
        expect(e).toBeInstanceOf(DeadlockError);
        expect((e as Error).message).toBe(
          'schedule deadlocks: device 0 is blocked at 0B0 (waits for 1B0 on device 1); ' +
            'device 1 is blocked at 1F1 (waits for 0F1 on device 0)',
        );
      }
    }
  });

  it('a memory limit violation is reported with the device and the excess', () => {
    const limited = resolveProblem({ stages: 4, microBatches: 8, memory: { F: 2, B: -1, W: -1, limit: 6 } });
    const r = sim.replay(limited, oneFOneB(4, 8));
    // 1F1B peaks: 8, 6, 4, 2 (2 per in-flight micro-batch)
    expect(r.memoryViolations).toEqual([{ device: 0, peak: 8, limit: 6, excess: 2 }]);
  });
});
