// The generators: cases are pure functions of (seed, index), every path stays in its case directory, and the
// mutations produce what they promise.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyByteGenes, applyTreeGenes, expandDeep, jsonText } from '../src/mutate.mjs';
import { tameConfig } from '../src/files.mjs';
import { caseSeed } from '../src/generators.mjs';
import { flagsCase, COMMANDS } from '../src/commands.mjs';

describe('generators', () => {
  it('case seeds are stable and spread', () => {
    expect(caseSeed(1, 0)).toBe(caseSeed(1, 0));
    expect(new Set(Array.from({ length: 1000 }, (_, i) => caseSeed(7, i))).size).toBe(1000);
  });

  it('flags cases name only paths in the case directory, the fixtures, the repository or relative ones', () => {
    for (const cmd of Object.keys(COMMANDS)) {
      for (const k of fc.sample(fc.noBias(flagsCase(cmd)), { seed: 3, numRuns: 200 })) {
        expect(k.argv.slice(0, cmd.split(' ').length).join(' ')).toBe(cmd);
        for (const a of k.argv) if (a.startsWith('/')) expect(a === '/dev/null' || a.startsWith('/..')).toBe(true);
        for (const f of k.files) expect(f.path.startsWith('/') || f.path.includes('..')).toBe(false);
        expect(k.argv.some((a) => a.includes('\0'))).toBe(false);
      }
    }
  });

  it('tree mutations never touch the original and deep nesting is written into the text', () => {
    const original = { a: { b: [1, 2, 3] } };
    const frozen = JSON.stringify(original);
    for (let n = 0; n < 200; n++)
      applyTreeGenes(original, [
        { at: n, op: ['delete', 'set', 'dupItem', 'deepNest', 'proto'][n % 5], value: n % 10, n },
      ]);
    expect(JSON.stringify(original)).toBe(frozen);
    const deep = applyTreeGenes({ x: 1 }, [{ at: 1, op: 'deepNest', value: 0, n: 3 }]);
    expect(jsonText(deep)).toContain(`${'['.repeat(20000)}1`);
    expect(expandDeep('"@@DEEP:3:array@@"')).toBe('[[[1]]]');
  });

  it('byte mutations and budget caps', () => {
    expect(applyByteGenes('abc', [{ op: 'truncate', at: 2, byte: 0 }]).toString()).toBe('ab');
    expect(applyByteGenes('a\nb', [{ op: 'crlf', at: 0, byte: 0 }]).toString()).toBe('a\r\nb');
    const c = tameConfig({
      totalSteps: 1e9,
      envs: 4096,
      network: { hidden: [1024, 1024, 1024, 1024] },
      problem: { stages: 1000 },
    });
    expect(c).toMatchObject({ totalSteps: 256, envs: 4, network: { hidden: [16, 16, 16] }, problem: { stages: 4 } });
  });
});
