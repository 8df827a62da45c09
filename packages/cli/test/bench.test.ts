// pprl bench all / report / --threads, spawned as a user runs them (the built CLI). No timing thresholds.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectUserError, pprl } from './helpers.js';

describe('pprl bench all and report', () => {
  it("all --quick --threads 2 writes every suite's JSON and the markdown rendered from them; " +
    'report renders it again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pprl-bench-'));
    const out = join(dir, 'results');
    const report = join(dir, 'BENCHMARKS.md');
    const r = pprl('bench', 'all', '--quick', '--threads', '2', '--out-dir', out, '--report', report);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['env.json', 'quality.json', 'replay.json', 'scale.json', 'train.json']);
    expect(r.stdout.trim().split('\n')).toEqual([
      ...['replay', 'env', 'quality', 'scale', 'train'].map((s) => `wrote ${join(out, `${s}.json`)}`),
      `wrote ${report}`,
    ]);
    const json = (suite: string) => JSON.parse(readFileSync(join(out, `${suite}.json`), 'utf8'));
    expect(json('replay').threads.map((p: { threads: number }) => p.threads)).toEqual([1, 2]);
    expect(json('env').threads.greedy).toHaveLength(2);
    expect(json('env').byEnvs.every((p: { ratio: number }) => p.ratio > 0)).toBe(true);
    expect(json('quality').threads).toMatchObject({ identicalResults: true });
    expect(json('scale').options).toEqual({ quick: true });

    const markdown = readFileSync(report, 'utf8');
    expect(markdown).toContain(`npx pprl bench all --out-dir ${out} --quick --threads 2 --report ${report}`);
    expect(markdown.match(/^## .*/gm)).toHaveLength(5);
    expect(json('train')).toMatchObject({ suite: 'train', options: { quick: true } });
    expect(markdown).toMatch(/^\| 64x64 shared trunk \| [\d.]+/m);
    expect(markdown).toContain('npx pprl bench replay --quick --threads 2 --json');
    expect(markdown).toMatch(/^Ratio WebAssembly \/ TypeScript reference: \*\*\d+\.\d\d\*\*\.$/m);
    expect(markdown).toMatch(
      /^\| WebAssembly replay \| 2 \| [\d.]+ \([\d.]+-[\d.]+\) \| \d+\.\d\d \| \d+% \| \d+% \|$/m,
    );
    expect(markdown).toMatch(/^\| greedy \| 2 \| /m);
    expect(markdown).not.toMatch(/NaN|undefined/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // `report` alone: the same sections, printed or written
    const printed = pprl('bench', 'report', '--in', out);
    expect(printed.code).toBe(0);
    expect(printed.stdout.replace(/^npx pprl bench all .*$/m, '')).toBe(
      markdown.replace(/^npx pprl bench all .*$/m, ''),
    );
    const again = join(dir, 'again.md');
    expect(pprl('bench', 'report', '--in', out, '--out', again).code).toBe(0);
    expect(readFileSync(again, 'utf8')).toBe(printed.stdout);
  }, 240_000);

  it('report from a directory without results is a user error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pprl-bench-'));
    expectUserError(pprl('bench', 'report', '--in', dir), /--in: no suite results .* in /);
    expect(existsSync(join(dir, 'BENCHMARKS.md'))).toBe(false);
  });
});

describe('--threads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pprl-bench-'));
  it.each([
    ['replay', '0'],
    ['env', 'x'],
    ['quality', '65'],
    ['all', '0'],
    ['all', '2.5'],
  ])('bench %s --threads %s: one line naming --threads, exit code 2', (suite, value) => {
    const extra = suite === 'all' ? ['--out-dir', join(dir, 'never')] : [];
    expectUserError(
      pprl('bench', suite, '--threads', value, ...extra),
      new RegExp(
        `^pprl: error: --threads: expected an integer in \\[1, 64\\] \\(got "${value.replace('.', '\\.')}"\\)`,
      ),
    );
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });
});
