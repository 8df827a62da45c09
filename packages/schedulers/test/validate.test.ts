import { describe, expect, it } from 'vitest';
import { DeadlockError, resolveProblem, type Schedule, type ScheduleError } from '@pprl/core-wasm';
import { assertValid, validateSchedule } from '../src/validate.js';
import { oneFOneB, scheduleErrorOf } from './helpers.js';

const problem = resolveProblem({ stages: 4, microBatches: 8 });

/** The ScheduleError assertValid throws. */
const firstError = (p: typeof problem, s: Schedule): ScheduleError => scheduleErrorOf(() => assertValid(p, s));

describe('validateSchedule', () => {
  it('accepts 1F1B and reports its nominal makespan and peak memory', () => {
    const report = validateSchedule(problem, oneFOneB(4, 8));
    // 1F1B at F = B = W = 1: (M + P - 1)(F + B + W) = 11 * 3; device d holds P - d activations at most
    expect(report).toEqual({
      ok: true,
      errors: [],
      peakMemory: [4, 3, 2, 1],
      memoryViolations: [],
      deadlock: null,
      makespan: 33,
      span: 33,
    });
    expect(() => assertValid(problem, oneFOneB(4, 8, true))).not.toThrow();
  });

  it('replays at zero noise whatever the problem fluctuation', () => {
    const noisy = resolveProblem({ stages: 4, microBatches: 8, noise: { cv: 0.3, anomalyProb: 0.1, seed: 5 } });
    expect(validateSchedule(noisy, oneFOneB(4, 8)).makespan).toBe(33);
  });

  it('reports a missing op', () => {
    const s = oneFOneB(4, 8, true);
    s.devices[2] = s.devices[2]!.filter((o) => !(o.kind === 'W' && o.mb === 5));
    const report = validateSchedule(problem, s);
    expect(report.ok).toBe(false);
    expect(report.errors).toEqual(['missing ops: 2W5']);
    expect(report.makespan).toBeNull();
    expect(firstError(problem, s).message).toBe('missing ops: 2W5');
  });

  it('reports a duplicated op (a fused BW also counts as B and W)', () => {
    const s = oneFOneB(4, 8, true);
    s.devices[1]!.push({ kind: 'BW', mb: 3, stage: 1 });
    expect(validateSchedule(problem, s).errors).toEqual(['duplicated ops: 1B3']);
  });

  it('reports an op on the wrong device', () => {
    const s = oneFOneB(4, 8);
    const op = s.devices[3]!.pop()!;
    s.devices[0]!.push(op);
    expect(validateSchedule(problem, s).errors[0]).toMatch(
      /ops on the wrong device: 3B7 on device 0 \(stage 3 is on device 3\)/,
    );
  });

  it('reports a placement or shape that does not match the problem', () => {
    const v = resolveProblem({ stages: 2, chunks: 2, placement: 'v', microBatches: 2 });
    const loopSchedule: Schedule = {
      stages: 2,
      chunksPerDevice: 2,
      placement: 'loop',
      microBatches: 2,
      devices: [[], []],
    };
    expect(validateSchedule(v, loopSchedule).errors).toEqual(['schedule uses loop placement but the problem has v']);
    expect(validateSchedule(problem, oneFOneB(4, 6)).errors).toEqual([
      'schedule has 6 micro-batches but the problem has 8',
    ]);
    expect(validateSchedule(problem, oneFOneB(3, 8)).errors).toEqual([
      'schedule has 3 stages (devices) but the problem has 4',
    ]);
    const broken = { ...oneFOneB(4, 8), devices: [[], [], [], 'x'] } as unknown as Schedule;
    expect(validateSchedule(problem, broken).errors).toEqual([
      'schedule.devices must be a list with one list of ops per device',
    ]);
  });

  it('reports a deadlock with the blocked ops, and assertValid throws the DeadlockError', () => {
    // device 1 wants micro-batch 1 first, but device 0 sends it only after micro-batch 0's backward came back
    const p = resolveProblem({ stages: 2, microBatches: 2 });
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
    const report = validateSchedule(p, s);
    expect(report.ok).toBe(false);
    // core-wasm names the awaited input gradient in torch's I form even where the schedule fuses it (1B0)
    expect(report.deadlock).toEqual([
      { device: 0, op: '0B0', waitsFor: '1B0 on device 1' },
      { device: 1, op: '1F1', waitsFor: '0F1 on device 0' },
    ]);
    expect(report.errors).toEqual([
      'schedule deadlocks: device 0 is blocked at 0B0 (waits for 1B0 on device 1); ' +
        'device 1 is blocked at 1F1 (waits for 0F1 on device 0)',
    ]);
    expect(report.makespan).toBeNull();
    // memory is still checked: the orders themselves are complete
    expect(report.peakMemory).toEqual([1, 2]);
    const e = firstError(p, s);
    expect(e).toBeInstanceOf(DeadlockError);
    expect((e as DeadlockError).blocked).toHaveLength(2);
  });

  it('reports a memory limit overrun naming the device and the excess', () => {
    const limited = resolveProblem({ stages: 4, microBatches: 8, memory: { limit: 3 } });
    const report = validateSchedule(limited, oneFOneB(4, 8));
    expect(report.ok).toBe(false);
    expect(report.memoryViolations).toEqual([{ device: 0, peak: 4, limit: 3, excess: 1 }]);
    expect(report.errors).toEqual(['device 0 needs 4 memory but the limit is 3 (over by 1)']);
    // the orders still run: the makespan is reported
    expect(report.makespan).toBe(33);
    expect(firstError(limited, oneFOneB(4, 8)).message).toBe('device 0 needs 4 memory but the limit is 3 (over by 1)');
  });

  it('lists every device over the limit, after a deadlock', () => {
    const limited = resolveProblem({ stages: 4, microBatches: 8, memory: { limit: 2 } });
    const s = oneFOneB(4, 8);
    // device 3 starts with a backward it cannot run yet: its forward comes later
    const [f0, bw0] = s.devices[3]!.splice(0, 2);
    s.devices[3]!.splice(0, 0, bw0!, f0!);
    const report = validateSchedule(limited, s);
    expect(report.errors).toHaveLength(3);
    expect(report.errors[0]).toMatch(/^schedule deadlocks: .*device 3 is blocked at 3B0 \(waits for 3F0 on device 3\)/);
    expect(report.errors.slice(1)).toEqual([
      'device 0 needs 4 memory but the limit is 2 (over by 2)',
      'device 1 needs 3 memory but the limit is 2 (over by 1)',
    ]);
    expect(firstError(limited, s)).toBeInstanceOf(DeadlockError);
  });
});
