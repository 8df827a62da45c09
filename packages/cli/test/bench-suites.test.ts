// A suite registered from another package (the train suite): its `bench <name>` subcommand, and `bench all` writing
// its JSON beside the others and rendering it into the markdown. In process, with a stand-in suite.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { benchCommand, type ExternalBenchSuite } from '../src/commands/bench.js';

const calls: unknown[] = [];
const train: ExternalBenchSuite = {
  name: 'train',
  description: 'stand-in for the train suite',
  run: async (opts) => {
    calls.push(opts);
    return {
      suite: 'train',
      options: { quick: opts.quick },
      backend: 'cpu',
      stepsPerSec: 1234,
      rolloutShare: 0.25,
      updateShare: 0.75,
    };
  },
};

function parse(...args: string[]) {
  const bench = benchCommand([train]).exitOverride();
  bench.commands.forEach((c) => c.exitOverride());
  return bench.parseAsync(args, { from: 'user' });
}

afterEach(() => {
  vi.restoreAllMocks();
  calls.length = 0;
});

describe('an external bench suite', () => {
  it('gets a subcommand that writes its JSON, with --quick and --threads passed through', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pprl-train-'));
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => out.push(String(s)) > 0);
    await parse('train', '--quick', '--threads', '2', '--out', join(dir, 'train.json'));
    expect(calls).toEqual([{ quick: true, threads: 2 }]);
    expect(JSON.parse(readFileSync(join(dir, 'train.json'), 'utf8'))).toMatchObject({
      suite: 'train',
      stepsPerSec: 1234,
    });
    expect(JSON.parse(out.join(''))).toMatchObject({ backend: 'cpu' });
    await expect(parse('train', '--threads', '0')).rejects.toThrow(/--threads: expected an integer in \[1, 64\]/);
  });

  it('runs in `bench all` and appears in the report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pprl-train-'));
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    await parse('all', '--quick', '--out-dir', dir);
    expect(calls).toEqual([{ quick: true }]);
    expect(readdirSync(dir).sort()).toEqual([
      'BENCHMARKS.md',
      'env.json',
      'quality.json',
      'replay.json',
      'scale.json',
      'train.json',
    ]);
    const markdown = readFileSync(join(dir, 'BENCHMARKS.md'), 'utf8');
    expect(markdown).toContain('## Training: PPO steps per second');
    expect(markdown).toContain('| run | 1234 | 25.0% | 75.0% | cpu |');
  }, 120_000);

  it('a `train` subcommand added to the bench command directly also runs in `bench all`, ' +
    'with --quick and --out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pprl-train-'));
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const bench = benchCommand().exitOverride();
    const seen: unknown[] = [];
    bench
      .command('train')
      .option('--quick')
      .option('--threads <n>')
      .option('--out <file>')
      .action(async (opts: { quick?: boolean; threads?: string; out?: string }) => {
        seen.push(opts);
        writeFileSync(opts.out!, JSON.stringify({ suite: 'train', stepsPerSec: 99 }));
      });
    bench.commands.forEach((c) => c.exitOverride());
    await bench.parseAsync(['all', '--quick', '--out-dir', dir], { from: 'user' });
    expect(seen).toEqual([{ quick: true, out: join(dir, 'train.json') }]);
    expect(readFileSync(join(dir, 'BENCHMARKS.md'), 'utf8')).toContain('| run | 99.0 |');
  }, 120_000);
});
