// The outcome classes on hand-made results: what the fuzz calls a failure.
import { describe, expect, it } from 'vitest';
import { classify, commandOf, normalize } from '../src/classify.mjs';
import { Capture } from '../src/capture.mjs';

const stream = (text) => {
  const c = new Capture();
  c.add(text);
  return c.result();
};
const result = (o) => ({
  code: 0,
  ms: 1,
  stdout: stream(o.stdout ?? ''),
  stderr: stream(o.stderr ?? ''),
  uncaught: [],
  polluted: [],
  tmp: [],
  partial: [],
  ...o,
  ...(o.stdout !== undefined ? { stdout: stream(o.stdout) } : {}),
  ...(o.stderr !== undefined ? { stderr: stream(o.stderr) } : {}),
});
const c = (argv = ['simulate', '1f1b'], extra = {}) => ({
  kind: 'flags',
  argv,
  files: [],
  env: {},
  huge: null,
  ...extra,
});

describe('classify', () => {
  it('passes: ok, help, user errors with one line (and commander hints)', () => {
    expect(classify(c(), result({ stdout: 'table\n' })).cls).toBe('ok');
    expect(classify(c(['--help']), result({ stdout: 'Usage: pprl [options]\n' })).cls).toBe('help');
    expect(classify(c([]), result({ stderr: 'Usage: pprl [options] [command]\n' })).cls).toBe('help');
    expect(classify(c(['-V']), result({ stdout: '0.1.0\n' })).cls).toBe('help');
    expect(classify(c(), result({ code: 2, stderr: 'pprl: error: --stages: expected a number (got "x")\n' })).cls).toBe(
      'user-error',
    );
    expect(
      classify(c(), result({ code: 2, stderr: "pprl: error: unknown option '--stage'\n(Did you mean --stages?)\n" }))
        .cls,
    ).toBe('user-error');
  });

  it('crashes: internal errors, uncaught errors, out of memory, prototype pollution', () => {
    expect(classify(c(), result({ code: 1, stderr: 'pprl: internal error: boom\nThis is a bug in pprl.\n' })).cls).toBe(
      'crash',
    );
    expect(classify(c(), result({ uncaught: ['uncaughtException: TypeError: x'] })).cls).toBe('crash');
    expect(classify(c(), { workerError: { code: 'ERR_WORKER_OUT_OF_MEMORY', message: 'oom' }, ms: 5 }).cls).toBe(
      'crash',
    );
    expect(classify(c(), result({ polluted: ['polluted'] })).cls).toBe('crash');
  });

  it('bad messages: several lines, stack traces, long lines, no prefix, control characters', () => {
    const bad = (stderr, o = {}) => classify(c(), result({ code: 2, stderr, ...o }));
    expect(bad('pprl: error: a\nmore\n').cls).toBe('bad-message');
    expect(bad('pprl: error: a\n    at f (/x/y.js:10:5)\n').cls).toBe('bad-message');
    expect(bad(`pprl: error: ${'x'.repeat(400)}\n`).cls).toBe('bad-message');
    expect(bad('error: no prefix\n').cls).toBe('bad-message');
    expect(bad('').cls).toBe('bad-message');
    expect(bad('pprl: error: unknown command \x1b[2J\n').cls).toBe('bad-message');
    expect(classify(c(), result({ stdout: 'wrote a\rb\n' })).cls).toBe('bad-message');
  });

  it('hangs, half-written files, other exits', () => {
    expect(classify(c(), { hang: true, ms: 60000 }).cls).toBe('hang');
    expect(classify(c(), result({ code: 2, stderr: 'pprl: error: x\n', tmp: ['.out.json.host.1.abcd.tmp'] })).cls).toBe(
      'half-written',
    );
    expect(
      classify(
        c(),
        result({ code: 2, stderr: 'pprl: error: x\n', partial: ['run/config.json (not valid JSON, 10 bytes)'] }),
      ).cls,
    ).toBe('half-written');
    // a partial file after a success is the command's output, not a leftover
    expect(classify(c(), result({ partial: ['out.json (empty)'] })).cls).toBe('ok');
    expect(classify(c(), result({ code: 130 })).cls).toBe('exit-other');
    expect(classify(c(), result({ code: 1, stderr: 'failed: run-1\n' })).cls).toBe('exit-other');
    expect(classify(c(), { workerExit: 3, ms: 1 }).cls).toBe('exit-other');
  });

  it('groups messages that differ only in numbers, quoted input and flags', () => {
    expect(normalize('pprl: error: --stages: expected a number (got "abc")')).toBe(
      normalize('pprl: error: --seed: expected a number (got "1e")'),
    );
    expect(commandOf(['bench', 'env', '--quick'])).toBe('bench env');
    expect(commandOf(['sweep', 'report', '--out', 'x'])).toBe('sweep report');
  });
});
