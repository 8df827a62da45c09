// Input files the user names, and what error messages quote of them: a named pipe, a directory, a device or a huge
// file is refused at once in one line; input nested 100,000 levels deep is one line, not a stack overflow; a
// cross-field error names its field without echoing the whole config; quoted input never carries control characters
// to the terminal; a YAML tag is an error, not a multi-line warning.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { quoteInput } from '@pprl/core-wasm';
import { lastLine, readJsonIfValid, readJsonLines } from '../src/sweep/files.js';
import { nestsDeeperThan, readRegularFile } from '../src/input-files.js';
import { expectUserError, pprl, type PprlRun } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pprl-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mkfifo = (name: string): string => {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  return path;
};
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const base = {
  problem: { stages: 2, microBatches: 4 },
  envs: 8,
  stepsPerRollout: 16,
  totalSteps: 1024,
  minibatches: 2,
};
const DEEP = 100_000;

/** One line of at most `max` characters, without a raw control character. */
function expectShortSafeLine(r: PprlRun, max = 300): void {
  const line = r.stderr.trim();
  expect(line.length).toBeLessThanOrEqual(max);
  expect(r.stderr.trimEnd()).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
}

describe.skipIf(process.platform === 'win32')('files that are not regular files are refused at once', () => {
  /** The end of the error for a named pipe given as an input file. */
  const NAMED_PIPE = /: it is a named pipe \(FIFO\); give a regular file$/.source;
  it.each(['pipe.json', 'pipe.csv'])('a named pipe called %s given as a schedule file', (name) => {
    const r = pprl('simulate', mkfifo(name));
    expectUserError(
      r,
      /^pprl: error: cannot read schedule file .*pipe\.(json|csv): it is a named pipe \(FIFO\); give a regular file$/m,
    );
  });

  it("a named pipe as a training config, a profile, or a training config's profile file", () => {
    expectUserError(
      pprl('train', '--config', mkfifo('config-pipe.json'), '--out', join(dir, 'never')),
      new RegExp(/^pprl: error: --config: cannot read training config .*config-pipe\.json/.source + NAMED_PIPE, 'm'),
    );
    expectUserError(
      pprl('simulate', '1f1b', '--profile', mkfifo('profile-pipe.json')),
      new RegExp(/^pprl: error: --profile: cannot read profile .*profile-pipe\.json/.source + NAMED_PIPE, 'm'),
    );
    const config = file(
      'profile-config.json',
      JSON.stringify({
        ...base,
        problem: { profile: { model: '6.2B', file: mkfifo('inner-pipe.json') }, stages: 2, microBatches: 4 },
      }),
    );
    expectUserError(
      pprl('train', '--config', config, '--out', join(dir, 'never')),
      /problem\.profile\.file: cannot read profile file .*inner-pipe\.json: it is a named pipe/,
    );
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('a directory, a character device and /dev/stdin as schedule files', () => {
    const folder = join(dir, 'folder.json');
    mkdirSync(folder);
    expectUserError(
      pprl('simulate', folder),
      /cannot read schedule file .*folder\.json: it is a directory; give a regular file$/m,
    );
    const zero = join(dir, 'zero.csv');
    symlinkSync('/dev/zero', zero);
    expectUserError(
      pprl('simulate', zero),
      /cannot read schedule file .*zero\.csv: it is a character device; give a regular file$/m,
    );
    const stdin = join(dir, 'stdin.csv');
    symlinkSync('/dev/stdin', stdin);
    // spawnSync gives the child a pipe as its stdin
    expectUserError(
      pprl('simulate', stdin),
      new RegExp(
        /cannot read schedule file .*stdin\.csv: /.source +
          /it is (a named pipe \(FIFO\)|a character device|a socket); give a regular file$/.source,
        'm',
      ),
    );
  });

  it('a schedule file over 64 MiB', () => {
    const huge = join(dir, 'huge.csv');
    writeFileSync(huge, '');
    truncateSync(huge, 64 * 1024 * 1024 + 1); // sparse: takes no space
    expectUserError(
      pprl('simulate', huge),
      /cannot read schedule file .*huge\.csv: it is larger than 64 MiB \(the limit for an input file\)$/m,
    );
  });

  it('a named pipe given as a sweep file', () => {
    const out = join(dir, 'never-created');
    expectUserError(
      pprl('sweep', '--config', mkfifo('sweep.yaml'), '--out', out, '--dry-run'),
      new RegExp(/^pprl: error: --config: cannot read sweep file .*sweep\.yaml/.source + NAMED_PIPE, 'm'),
    );
  });

  it("a sweep directory's files: a named pipe reads as missing, without waiting", () => {
    const pipe = mkfifo('log.jsonl');
    expect(readJsonIfValid(pipe)).toBeUndefined();
    expect(readJsonLines(pipe)).toEqual([]);
    expect(lastLine(pipe)).toBeUndefined();
    expect(readRegularFile(dir)).toEqual({ reason: 'it is a directory; give a regular file' });
    expect(readRegularFile(join(dir, 'missing'))).toEqual({ reason: 'ENOENT: no such file or directory' });
    expect(readRegularFile(file('small.json', '{"a":1}'))).toEqual({ text: '{"a":1}' });
  });
});

describe('input nested 100,000 levels deep', () => {
  const deepArray = '['.repeat(DEEP) + ']'.repeat(DEEP);
  const deepObject = `${'{"a":'.repeat(DEEP)}1${'}'.repeat(DEEP)}`;
  const sweepJson = (body: string) => `{"base":${JSON.stringify(base)},${body}}`;
  it.each([
    ['a JSON grid value', 'deep-grid.json', sweepJson(`"grid":{"seed":[${deepArray}]}`)],
    ['a JSON object at an unknown key', 'deep-key.json', sweepJson(`"grid":{"seed":[1]},"x":${deepObject}`)],
    ['a JSON base field', 'deep-base.json', `{"base":${deepObject},"grid":{"seed":[1]}}`],
    ['a whole JSON file', 'deep-all.json', deepArray],
    ['a YAML flow value', 'deep-flow.yaml', `base: {}\ngrid:\n  seed: [${deepArray}]\n`],
    ['a YAML flow mapping', 'deep-map.yaml', `base: ${deepObject.replaceAll('"a":', 'a: ')}\ngrid:\n  seed: [1]\n`],
  ])('in a sweep file: %s', (_, name, text) => {
    const r = pprl('sweep', '--config', file(name, text), '--out', join(dir, 'never-created'), '--dry-run');
    expectUserError(
      r,
      new RegExp(
        `^pprl: error: --config: sweep file .*${name.replace('.', '\\.')} nests deeper than 64 levels of ` +
          `lists and objects$`,
        'm',
      ),
    );
  });

  it('a sweep file 65 levels deep is refused, 20 levels deep goes on to validation', () => {
    const nested = (levels: number) => `${'['.repeat(levels - 3)}1${']'.repeat(levels - 3)}`;
    expectUserError(
      pprl(
        'sweep',
        '--config',
        file('d65.json', sweepJson(`"grid":{"seed":[${nested(65)}]}`)),
        '--out',
        join(dir, 'never-created'),
        '--dry-run',
      ),
      /nests deeper than 64 levels/,
    );
    expectUserError(
      pprl(
        'sweep',
        '--config',
        file('d20.json', sweepJson(`"grid":{"seed":[${nested(20)}]}`)),
        '--out',
        join(dir, 'never-created'),
        '--dry-run',
      ),
      /^pprl: error: grid\.seed\[0\]: Invalid input: expected number, received array \(got \[\[\[\[\.\.\.\]\]\]\]\)$/m,
    );
    expect(nestsDeeperThan([[1]], 2)).toBe(false);
    expect(nestsDeeperThan([[[1]]], 2)).toBe(true);
    expect(nestsDeeperThan({ a: { b: {} } }, 2)).toBe(true);
  });

  it('in a schedule JSON file and a training config: one short line', () => {
    const schedule = pprl(
      'simulate',
      file('deep-schedule.json', `{"stages":1,"microBatches":1,"devices":[${deepArray}]}`),
    );
    expectUserError(
      schedule,
      new RegExp(
        [
          /^pprl: error: schedule JSON: device 0: expected a list of ops/.source,
          /^pprl: error: schedule JSON: device 0, op 0: expected an action string/.source,
        ].join('|'),
      ),
    );
    expectShortSafeLine(schedule);
    const config = file(
      'deep-train.json',
      JSON.stringify(base).replace('"minibatches":2', `"minibatches":2,"network":{"hidden":${deepArray}}`),
    );
    const train = pprl('train', '--config', config, '--out', join(dir, 'never-trained'));
    expectUserError(
      train,
      new RegExp(
        /^pprl: error: network\.hidden\[0\]: Invalid input: expected number, /.source +
          /received array \(got \[\[\[\[\.\.\.\]\]\]\]\)$/.source,
        'm',
      ),
    );
  });
});

describe('cross-field errors name the field, not the whole config', () => {
  it('a sweep whose base has more minibatches than the batch', () => {
    const sweep = file('cross.json', JSON.stringify({ base: { ...base, minibatches: 2000 }, grid: { seed: [1] } }));
    const r = pprl('sweep', '--config', sweep, '--out', join(dir, 'never-created'), '--dry-run');
    expectUserError(
      r,
      /^pprl: error: base\.minibatches: must not exceed the batch envs \* stepsPerRollout = 128 \(got 2000\)$/m,
    );
  });

  it('a training config with noise levels that do not divide envs, and with both problem and ranges', () => {
    const levels = pprl(
      'train',
      '--config',
      file('levels.json', JSON.stringify({ ...base, noiseLevels: [0, 0.1, 0.2] })),
      '--out',
      join(dir, 'never-trained'),
    );
    expectUserError(levels, /^pprl: error: noiseLevels: envs \(8\) must be a multiple of the number of levels \(3\)$/m);
    const both = { ...base, ranges: { stages: [2, 4], microBatches: [4, 8] } };
    const r = pprl('train', '--config', file('both.json', JSON.stringify(both)), '--out', join(dir, 'never-trained'));
    expect(r.code).toBe(2);
    expectShortSafeLine(r, 160);
    expect(r.stderr).not.toMatch(/stepsPerRollout|"envs"/);
  });

  it('a long bad value is cut short', () => {
    const sweep = file(
      'long.json',
      JSON.stringify({ base: { ...base, memoryRule: 'x'.repeat(5000) }, grid: { seed: [1] } }),
    );
    const r = pprl('sweep', '--config', sweep, '--out', join(dir, 'never-created'), '--dry-run');
    expectUserError(
      r,
      new RegExp(
        /^pprl: error: base\.memoryRule: Invalid option: expected one of "reserve"\|"plain"\|"lowest" /.source +
          /\(got "x{80}"\.\.\. \(5000 characters\)\)$/.source,
        'm',
      ),
    );
  });
});

describe('quoted input cannot drive the terminal', () => {
  it('an unknown command or option, and a path printed after writing', () => {
    expectUserError(pprl('\u001b[2J'), /^pprl: error: unknown command '\\u001b\[2J'$/m);
    expectUserError(
      pprl('simulate', '1f1b', `--${'a'.repeat(2000)}`),
      /^pprl: error: unknown option '--a+\.\.\. \(cut\)$/m,
    );
    const out = join(dir, 'a\bb.csv');
    const r = pprl('schedule', '1f1b', '--format', 'torch-csv', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\b');
    expect(r.stdout).toContain('a\\u0008b.csv');
  });

  it('a missing profile model lists each model once, briefly', () => {
    const profile = fileURLToPath(new URL('../../core-wasm/profiles/h200-fbw-profiles.json', import.meta.url));
    const r = pprl('simulate', '1f1b', '--profile', profile, '--model', '6', '--micro-batch-size', '2');
    expectUserError(
      r,
      /no entry for model "6" at micro-batch size 2; available: "1\.5B-stage\(3 of 24 layers\)" \(mb 1, 2, 4\), /,
    );
    expectShortSafeLine(r);
  });

  it("a schedule file's name is printed escaped in the table header", () => {
    const schedule = JSON.parse(pprl('schedule', '1f1b', '--stages', '2', '--micro-batches', '2').stdout);
    const r = pprl('simulate', file('named.json', JSON.stringify({ ...schedule, name: '\u001b[2Jevil\r' })));
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/[\u001b\r]/);
    expect(r.stdout).toContain('\\u001b[2Jevil\\r: P=2');
  });

  it('a torch CSV cell holding ESC and CR', () => {
    const r = pprl('simulate', file('evil.csv', '0F0,\u001b[2J\u001b[31mRED\rok,1F0\n'));
    expectUserError(r, /row 1, column 2 .*: "\\u001b\[2J\\u001b\[31mRED\\rok" is not an action/);
    expectShortSafeLine(r, 400);
  });

  it('a long CSV cell, a schedule JSON action and a schedule name', () => {
    const long = pprl('simulate', file('long.csv', `0F0,${'9'.repeat(100_000)}X\n`));
    expectUserError(long, /"9{80}"\.\.\. \(100001 characters\) is not an action/);
    expectShortSafeLine(long);
    const action = pprl(
      'simulate',
      file('action.json', JSON.stringify({ stages: 1, microBatches: 1, devices: [['\u001b]0;pwned\u00070F0']] })),
    );
    expectUserError(action, /device 0, op 0: not an action: "\\u001b\]0;pwned\\u00070F0"/);
    expectShortSafeLine(action);
    const name = pprl('simulate', 'zb-h1\u001b[2J\u009b');
    expectUserError(name, /^pprl: error: unknown schedule "zb-h1\\u001b\[2J\\u009b"/);
    expectShortSafeLine(name, 1000);
  });

  it('an unknown key of a sweep base, and a grid field name', () => {
    const key = pprl(
      'sweep',
      '--config',
      file('key.json', JSON.stringify({ base: { ...base, [`\u001b[2J${'k'.repeat(500)}`]: 1 }, grid: { seed: [1] } })),
      '--out',
      join(dir, 'never-created'),
      '--dry-run',
    );
    expectUserError(key, /^pprl: error: base: Unrecognized key: "\\u001b\[2Jk+"\.\.\. \(504 characters\)$/m);
    const field = pprl(
      'sweep',
      '--config',
      file('field.json', JSON.stringify({ base, grid: { '\u001b[2J': [1] } })),
      '--out',
      join(dir, 'never-created'),
      '--dry-run',
    );
    expectUserError(field, /^pprl: error: grid\."\\u001b\[2J": unknown field/);
    expectShortSafeLine(field, 1000);
  });

  it('quoteInput escapes, cuts and previews', () => {
    expect(quoteInput('zb-h9')).toBe('"zb-h9"');
    expect(quoteInput('a\u001bb\rc\u0000d\u009be\u202ef\u2028')).toBe('"a\\u001bb\\rc\\u0000d\\u009be\\u202ef\\u2028"');
    expect(quoteInput('y'.repeat(100))).toBe(`"${'y'.repeat(80)}"... (100 characters)`);
    // a surrogate pair is not split
    expect(quoteInput(`${'y'.repeat(79)}😀z`)).toBe(`"${'y'.repeat(79)}"... (82 characters)`);
    expect(quoteInput(2)).toBe('2');
    expect(quoteInput(null)).toBe('null');
    expect(quoteInput([1, 'a', { b: [2] }])).toBe('[1,"a",{"b":[2]}]');
    expect(quoteInput([[[[[1]]]]])).toBe('[[[[...]]]]');
    expect(quoteInput([[[1]]])).toBe('[[[1]]]');
    const big = quoteInput(Array.from({ length: 10_000 }, (_, i) => i));
    expect(big.length).toBeLessThanOrEqual(84);
    expect(big.endsWith('...')).toBe(true);
    let deep: unknown = 1;
    for (let i = 0; i < DEEP; i++) deep = [deep];
    expect(quoteInput(deep)).toBe('[[[[...]]]]');
  });
});

describe('YAML sweep files are parsed strictly, silently', () => {
  it.each([
    [
      'a Python object tag',
      'base: !!python/object foo\ngrid:\n  seed: [1]\n',
      /unknown tag "!!python\/object" at line 1, column 7; a sweep file takes plain values, without tags\)$/m,
    ],
    [
      'a custom tag',
      `base: ${JSON.stringify(base)}\ngrid:\n  seed: [!custom 1]\n`,
      /unknown tag "!custom" at line 3, column 10; a sweep file takes plain values, without tags\)$/m,
    ],
    [
      'a duplicate key',
      `base: ${JSON.stringify(base)}\ngrid:\n  seed: [1]\ngrid:\n  seed: [2]\n`,
      /is not valid YAML \(Map keys must be unique at line 4, column 1\)$/m,
    ],
    [
      'two documents',
      `base: ${JSON.stringify(base)}\ngrid:\n  seed: [1]\n---\nbase: {}\n`,
      /is not valid YAML \(Source contains multiple documents.* at line 4, column 1\)$/m,
    ],
  ])('%s: one line, no warning', (_, text, pattern) => {
    const r = pprl(
      'sweep',
      '--config',
      file(`yaml-${_.replaceAll(' ', '-')}.yaml`, text),
      '--out',
      join(dir, 'never-created'),
      '--dry-run',
    );
    expectUserError(r, pattern);
    expect(r.stderr).not.toMatch(/YAMLWarning|Warning|\^\^\^/);
  });

  it('standard tags and collection keys are still fine or rejected without a warning', () => {
    const ok = pprl(
      'sweep',
      '--config',
      file('std-tags.yaml', `base: ${JSON.stringify(base)}\ngrid:\n  seed: [!!int 1, 2]\n`),
      '--out',
      join(dir, 'std'),
      '--dry-run',
      '--json',
    );
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const key = pprl(
      'sweep',
      '--config',
      file('map-key.yaml', `base: ${JSON.stringify(base)}\ngrid:\n  ? [1, 2]\n  : [1]\n`),
      '--out',
      join(dir, 'never-created'),
      '--dry-run',
    );
    expect(key.code).toBe(2);
    expect(key.stderr.trim().split('\n')).toHaveLength(1);
    expect(key.stderr).not.toMatch(/Warning/);
  });
});
