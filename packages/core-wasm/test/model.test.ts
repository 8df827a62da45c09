// The problem model's building blocks: the action text form and the profile builder.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ConfigError,
  H200_PROFILES_URL,
  ScheduleError,
  findProfile,
  formatAction,
  parseAction,
  problemFromProfile,
  type Op,
} from '../src/index.js';

describe('torch action text form', () => {
  it('formats our kinds as torch letters: B is I, fused BW is B', () => {
    expect([
      formatAction({ kind: 'F', stage: 3, mb: 0 }),
      formatAction({ kind: 'B', stage: 3, mb: 0 }),
      formatAction({ kind: 'W', stage: 3, mb: 0 }),
      formatAction({ kind: 'BW', stage: 3, mb: 0 }),
    ]).toEqual(['3F0', '3I0', '3W0', '3B0']);
  });

  it('parse inverts format for every op', () => {
    const op = fc.record({
      kind: fc.constantFrom<Op['kind']>('F', 'B', 'W', 'BW'),
      stage: fc.nat(10_000),
      mb: fc.nat(100_000),
    });
    fc.assert(
      fc.property(op, (o) => {
        expect(parseAction(formatAction(o))).toEqual(o);
      }),
      { seed: 1 },
    );
  });

  it('rejects anything else', () => {
    for (const bad of ['', '3X0', 'F0', '3F', '-1F0', '3F0x']) expect(() => parseAction(bad)).toThrow(ScheduleError);
  });
});

describe('problems from the bundled H200 profile', () => {
  const file = JSON.parse(readFileSync(H200_PROFILES_URL, 'utf8'));

  it('6.2B at micro-batch size 1 over a 50 GB/s link', () => {
    const entry = findProfile(file, '6.2B', 1);
    const p = problemFromProfile(entry, { stages: 4, microBatches: 16, link: { bandwidthGBps: 50, latencyUs: 2 } });
    expect(p.stages).toBe(4);
    expect(p.costF[0]).toBeCloseTo(2646.1, 1);
    expect(p.costB[0]).toBeCloseTo(3616.73, 1);
    expect(p.costW[0]).toBeCloseTo(2821.66, 1);
    // 8388608 bytes / (50e9 B/s) = 167.77216 us, plus 2 us latency
    expect(p.comm[0]).toBeCloseTo(2 + 8388608 / 50e3, 9);
    // F holds the measured activations; W frees 32h / (34h + 5as) of them (h 4096, a 32, s 1024)
    expect(p.memF[0]).toBe(529076224);
    expect(p.memW[0]).toBe(-Math.round((529076224 * 32 * 4096) / (34 * 4096 + 5 * 32 * 1024)));
    expect(p.memF[0]! + p.memB[0]! + p.memW[0]!).toBe(0);
    expect(p.memLimit).toBe(Infinity);
  });

  it('names what is missing', () => {
    expect(() => findProfile(file, '70B', 1)).toThrow(
      /no entry for model "70B" at micro-batch size 1; available: "1\.5B-stage/,
    );
    const entry = findProfile(file, '1.5B', 2);
    expect(() => problemFromProfile(entry, { stages: 2, microBatches: 4, link: { bandwidthGBps: 0 } })).toThrow(
      ConfigError,
    );
    expect(() =>
      problemFromProfile({ ...entry, F: { mean_us: -1 } }, { stages: 2, microBatches: 4, link: { bandwidthGBps: 50 } }),
    ).toThrow(/profile\.F\.mean_us/);
  });
});
