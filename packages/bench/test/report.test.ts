// BENCHMARKS.md from fixture JSON (test/fixtures): the rows a reader relies on, the commands, train only when present.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UserError } from '@pprl/core-wasm';
import { para, readBenchResults, renderBenchmarks, sig, suiteCommand } from '../src/index.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const results = readBenchResults(join(fixtures, 'results'));
const markdown = renderBenchmarks(results, {
  command: 'npx pprl bench all --out-dir bench-results --threads 2 --report BENCHMARKS.md',
});
const lines = markdown.split('\n');
/** The text with every run of whitespace as one space, for sentences that wrap across lines. */
const prose = markdown.replace(/\s+/g, ' ');

describe('report', () => {
  it('reads the suites present in a directory', () => {
    expect(Object.keys(results)).toEqual(['replay', 'env', 'quality', 'scale']);
    expect(Object.keys(readBenchResults(join(fixtures, 'with-train')))).toEqual(['scale', 'train']);
  });

  it('opens with the one command that regenerates everything, then one section per suite', () => {
    expect(markdown).toContain(
      '```sh\nnpx pprl bench all --out-dir bench-results --threads 2 --report BENCHMARKS.md\n```',
    );
    expect(lines.filter((l) => l.startsWith('## '))).toEqual([
      '## Static replay: WebAssembly against the TypeScript reference',
      '## Environment: decisions per second of whole rollouts in WebAssembly',
      '## Schedule quality against the zero-bubble reference',
      '## Scale: time per episode against the number of ops',
    ]);
  });

  it('gives each suite the command that reproduces it and its machine', () => {
    expect(lines).toContain('npx pprl bench replay --threads 2 --json');
    expect(lines).toContain('npx pprl bench env --envs 64,4096 --threads 2 --json');
    expect(lines).toContain('npx pprl bench quality --episodes 200 --threads 2 --json');
    expect(lines).toContain('npx pprl bench scale --json');
    expect(
      lines.filter(
        (l) =>
          l ===
          'Machine: AMD EPYC 7B13, 2 cores, Node v20.20.2, linux-x64, load average 1.38 at the end of the suite; run ' +
            '2026-11-27.',
      ),
    ).toHaveLength(4);
  });

  it('replay: medians (min-max), the ratio and the threads scaling', () => {
    expect(lines).toContain('| WebAssembly | 24.1 (21.1-24.6) | 31380 |');
    expect(lines).toContain('| TypeScript reference | 19.5 (15.3-20.6) | 25391 |');
    expect(lines).toContain('Ratio WebAssembly / TypeScript reference: **1.24**.');
    expect(lines).toContain('| WebAssembly replay | 2 | 46.0 (44.0-47.0) | 1.92 | 96% | 97% |');
    expect(prose).toContain(
      'Without noise the WebAssembly loop runs 96.4 M op-events/s, so drawing the noise (one hash and one table ' +
        'lookup per op and per transfer) takes about 75% of the time here.',
    );
  });

  it('env: every policy per vector size with the WASM / TS reference ratio, and threads per policy', () => {
    expect(lines).toContain(
      '| 4096 | 4.32 (4.14-4.42) | 3.00 (2.90-3.10) | 1.00 (0.950-1.05) | **3.00** | 0.740 (0.690-0.750) | 1.07 ' +
        '(1.04-1.11) |',
    );
    expect(lines).toContain(
      '| 64 | 4.45 (3.96-4.80) | 3.20 (3.10-3.40) | 1.28 (1.20-1.30) | **2.50** | 0.590 (0.520-0.680) | 1.00 ' +
        '(0.790-1.08) |',
    );
    expect(lines).toContain(
      '| workload | threads | M decisions/s, sum over threads | speedup | efficiency | CPU per thread |',
    );
    expect(lines).toContain('| greedy | 1 | 4.30 (4.20-4.40) | 1.00 | 100% | 99% |');
    expect(lines).toContain('| greedy | 2 | 8.20 (8.00-8.40) | 1.91 | 95% | 98% |');
    expect(lines).toContain('| MLP 64x64 separate | 2 | 1.40 (1.30-1.45) | 1.89 | 95% | 96% |');
    expect(lines).toContain('| MLP 64x64 shared trunk | 2 | 2.00 (1.90-2.10) | 1.87 | 93% | 95% |');
    expect(prose).toContain(
      'At N = 4096 the WebAssembly environment runs the recorded greedy rollout 3.00 times as fast as the TypeScript ' +
        'reference.',
    );
    expect(prose).toContain(
      'greedy 4.45 M (below the target of 5.00 M), MLP separate 0.740 M (below the target of 1.00 M), shared trunk ' +
        '1.07 M (meets the target of 1.00 M)',
    );
  });

  it('quality: ours / upstream per case, the noisy differences to zb-h1, and the wall time per thread count', () => {
    expect(lines).toContain(
      '| P 8, M 24, hidden 2304 | 0.2431 / 0.2431 | 0.1585 / 0.1585 | 0.1083 / 0.1083 | 0.1585 / 0.1585 | 0.0433 / ' +
        '0.0433 | 0.1090 / 0.1055 |',
    );
    expect(lines).toContain(
      '| P 8, M 24, hidden 2304 | 1459k | +176k [174k, 179k] | -148k [-152k, -144k] | +3700 [3000, 4500] | -164k ' +
        '[-170k, -158k] | -140k [-150k, -130k] |',
    );
    expect(lines).toContain('| 2 | 0.650 (0.600-0.700) | 1.85 | 52% |');
    expect(prose).toContain('the results were identical at every thread count');
    expect(prose).toContain('zb-auto at the 1p memory limit is slower than ZB-H1 on the makespan in 1 of 1 cases');
  });

  it('scale: the exponent and every grid point', () => {
    expect(lines).toContain('| 1.034 | 0.9999 | 37.0 to 47.0 |');
    expect(lines).toContain('| 64 | 512 | 98304 | 4620 (4400-4863) | 47.0 |');
  });

  it('renders train only when its file is there, from whichever known fields it holds', () => {
    expect(markdown).not.toContain('## Training');
    const withTrain = renderBenchmarks(readBenchResults(join(fixtures, 'with-train'))).split('\n');
    expect(withTrain).toContain('## Training: PPO steps per second');
    expect(withTrain).toContain('npx pprl bench train --quick --json');
    expect(withTrain).toContain('|  | stepsPerSec | rolloutShare | updateShare | backend |');
    expect(withTrain).toContain('| run | 12345 (12000-12500) | 62.0% | 38.0% | tensorflow-wasm |');
    expect(withTrain).toContain('| byEnvs: 256 envs | 15000 | 70.0% | 30.0% | - |');
    expect(withTrain.some((l) => l.includes('TensorFlow.js backend tensorflow-wasm'))).toBe(true);
  });

  it('keeps prose lines short and never prints NaN or undefined', () => {
    for (const line of lines) if (!/^(\||<!--)/.test(line)) expect(line.length).toBeLessThanOrEqual(118);
    expect(markdown).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('rejects a file that is not JSON or holds another suite, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pprl-report-'));
    writeFileSync(join(dir, 'env.json'), '{"suite": "replay"}');
    expect(() => readBenchResults(dir)).toThrow(/env\.json: holds the results of suite "replay", not "env"/);
    writeFileSync(join(dir, 'env.json'), '{');
    expect(() => readBenchResults(dir)).toThrow(UserError);
    expect(() => readBenchResults(dir)).toThrow(/cannot read .*env\.json/);
  });
});

describe('formatting', () => {
  it('three significant digits without exponents', () => {
    expect([sig(24.1e6 / 1e6), sig(0.59), sig(1234.5), sig(96.44), sig(0), sig(0.000123456)]).toEqual([
      '24.1',
      '0.590',
      '1235',
      '96.4',
      '0',
      '0.000123',
    ]);
  });

  it('flags from recorded options, camelCase as kebab-case', () => {
    expect(suiteCommand('env', { quick: true, envs: [64, 256], threads: 2 })).toBe(
      'npx pprl bench env --quick --envs 64,256 --threads 2 --json',
    );
    expect(suiteCommand('x', { quick: false, maxSteps: 10 })).toBe('npx pprl bench x --max-steps 10 --json');
    expect(suiteCommand('scale', undefined)).toBe('npx pprl bench scale --json');
  });

  it('wraps prose at the width without breaking words', () => {
    expect(para('aaa bbb ccc ddd', 7)).toBe('aaa bbb\nccc ddd');
    expect(para('a  b\n c')).toBe('a b c');
  });
});
