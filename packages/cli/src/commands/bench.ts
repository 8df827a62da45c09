// pprl bench <suite>: throughput measured side by side in one run (packages/bench); `bench all` runs every suite
// into a directory of JSON files and renders BENCHMARKS.md from them, `bench report` renders it again.
import { join } from 'node:path';
import { Command } from 'commander';
import {
  MAX_THREADS,
  readBenchResults,
  renderBenchmarks,
  runEnvBench,
  runQualityBench,
  runReplayBench,
  runScaleBench,
  type EnvBenchResult,
  type QualityBenchResult,
  type ReplayBenchResult,
  type ScaleBenchResult,
  type ThreadPoint,
  type TrainBenchResult,
} from '@pprl/bench';
import { ConfigError, UserError, escapeControl, quoteInput } from '@pprl/core-wasm';
import { printJson, table, writeFileAtomic } from '../output.js';
import { progressWanted } from '../progress.js';

/** What every suite accepts from `bench all`. */
export interface BenchRunOptions {
  quick: boolean;
  threads?: number;
}

/**
 * A suite that lives in another package (the `train` suite of @pprl/rl), registered with `benchCommand([...])`: it
 * gets a `pprl bench <name>` subcommand printing its JSON, and `bench all` runs it into <dir>/<name>.json.
 */
export interface ExternalBenchSuite<T extends object = object> {
  name: string;
  description: string;
  run(opts: BenchRunOptions): Promise<T>;
  /** The human table (printed unless --json); without it the suite prints its JSON. */
  print?(result: T): void;
}

interface CommonOptions {
  quick?: boolean;
  json?: boolean;
  out?: string;
  threads?: string;
}

/** `--threads`: an integer in [1, MAX_THREADS], or a ConfigError naming the flag. */
export function parseThreads(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(n) || n < 1 || n > MAX_THREADS)
    throw new ConfigError('--threads', `expected an integer in [1, ${MAX_THREADS}] (got ${quoteInput(text)})`);
  return n;
}

function parseEnvs(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const envs = text.split(',').map(Number);
  if (envs.some((n) => !Number.isInteger(n) || n < 1 || n > 65536))
    throw new ConfigError('--envs', `expected integers in [1, 65536], comma-separated (got ${quoteInput(text)})`);
  return envs;
}

function parseEpisodes(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const episodes = Number(text);
  if (!Number.isInteger(episodes) || episodes < 2 || episodes > 100_000)
    throw new ConfigError('--episodes', `expected an integer in [2, 100000] (got ${quoteInput(text)})`);
  return episodes;
}

const THREADS_HELP =
  `also run the work in 1..n worker threads at once ` + `and report the scaling (n in [1, ${MAX_THREADS}])`;

/** The JSON to --out, then JSON or the human table to stdout. */
function emit<T>(result: T, opts: CommonOptions, print: (result: T) => void): void {
  if (opts.out) writeFileAtomic(opts.out, `${JSON.stringify(result, null, 2)}\n`);
  if (opts.json) {
    printJson(result);
    return;
  }
  print(result);
}

export function benchCommand(externalSuites: readonly ExternalBenchSuite[] = []): Command {
  const bench = new Command('bench').description('benchmarks (figures in BENCHMARKS.md come from these)');
  bench
    .command('replay')
    .description('static replay throughput: WebAssembly engine against the TypeScript reference, same run')
    .option('--quick', 'short run (smoke test)')
    .option('--json', 'print JSON')
    .option('--out <file>', 'also write the JSON to a file')
    .option('--threads <n>', THREADS_HELP)
    .addHelpText('after', '\nExample:\n  pprl bench replay --threads 2 --json')
    .action(async (opts: CommonOptions) => {
      const threads = parseThreads(opts.threads);
      emit(await runReplayBench({ quick: opts.quick ?? false, ...(threads ? { threads } : {}) }), opts, printReplay);
    });
  bench
    .command('env')
    .description(
      'environment throughput: decisions per second of whole rollouts in WebAssembly (greedy, ' +
        '2x64 MLP and shared-trunk 2x64 MLP policies), and the greedy rollout against the TypeScript reference',
    )
    .option('--quick', 'short run (smoke test)')
    .option('--json', 'print JSON')
    .option('--out <file>', 'also write the JSON to a file')
    .option(
      '--envs <list>',
      'numbers of environments to measure, comma-separated (default 64,256,1024,4096; 64,256 with --quick)',
    )
    .option('--threads <n>', `${THREADS_HELP}, at the largest number of environments`)
    .addHelpText('after', '\nExample:\n  pprl bench env --envs 64,1024 --json')
    .action(async (opts: CommonOptions & { envs?: string }) => {
      const envs = parseEnvs(opts.envs);
      const threads = parseThreads(opts.threads);
      emit(
        await runEnvBench({ quick: opts.quick ?? false, ...(envs ? { envs } : {}), ...(threads ? { threads } : {}) }),
        opts,
        printEnv,
      );
    });
  bench
    .command('quality')
    .description(
      'schedule quality: bubble rates next to the zero-bubble reference, ' +
        'then makespans under noise paired against zb-h1',
    )
    .option('--quick', 'fewer noisy episodes (smoke test)')
    .option('--json', 'print JSON')
    .option('--out <file>', 'also write the JSON to a file')
    .option('--episodes <n>', 'noisy episodes per schedule and noise level (default 200, 20 with --quick)')
    .option(
      '--threads <n>',
      `share the work out across 1..n worker threads and report the wall time of each (n in [1, ${MAX_THREADS}]); ` +
        `the results do not change`,
    )
    .addHelpText('after', '\nExample:\n  pprl bench quality --quick')
    .action(async (opts: CommonOptions & { episodes?: string }) => {
      const episodes = parseEpisodes(opts.episodes);
      const threads = parseThreads(opts.threads);
      emit(
        await runQualityBench({
          quick: opts.quick ?? false,
          ...(episodes !== undefined ? { episodes } : {}),
          ...(threads ? { threads } : {}),
        }),
        opts,
        printQuality,
      );
    });
  bench
    .command('scale')
    .description(
      'replay scaling: seconds per episode of the WebAssembly engine as P and M grow, fitted to time ~ ops^k',
    )
    .option('--quick', 'small grid, short run (smoke test)')
    .option('--json', 'print JSON')
    .option('--out <file>', 'also write the JSON to a file')
    .addHelpText('after', '\nExample:\n  pprl bench scale --json')
    .action(async (opts: CommonOptions) => {
      emit(await runScaleBench({ quick: opts.quick ?? false }), opts, printScale);
    });
  for (const suite of externalSuites) {
    bench
      .command(suite.name)
      .description(suite.description)
      .option('--quick', 'short run (smoke test)')
      .option('--json', 'print JSON')
      .option('--out <file>', 'also write the JSON to a file')
      .option('--threads <n>', THREADS_HELP)
      .action(async (opts: CommonOptions) => {
        const threads = parseThreads(opts.threads);
        emit(await suite.run({ quick: opts.quick ?? false, ...(threads ? { threads } : {}) }), opts, (r) =>
          suite.print ? suite.print(r) : printJson(r),
        );
      });
  }
  bench
    .command('all')
    .description(
      'every suite (train too when it is registered), each into <dir>/<suite>.json, ' +
        'then BENCHMARKS.md rendered from them',
    )
    .requiredOption('--out-dir <dir>', "directory for the suites' JSON files")
    .option('--quick', 'short runs (smoke test)')
    .option('--threads <n>', `thread scaling 1..n for replay, env and quality (n in [1, ${MAX_THREADS}])`)
    .option('--report <file>', 'where to write the markdown (default <out-dir>/BENCHMARKS.md)')
    .addHelpText('after', '\nExample:\n  pprl bench all --out-dir bench-results --threads 2 --report BENCHMARKS.md')
    .action(async (opts: { outDir: string; quick?: boolean; threads?: string; report?: string }) => {
      const threads = parseThreads(opts.threads);
      const run: BenchRunOptions = { quick: opts.quick ?? false, ...(threads ? { threads } : {}) };
      const report = opts.report ?? join(opts.outDir, 'BENCHMARKS.md');
      const suites: { name: string; run: () => Promise<unknown> }[] = [
        { name: 'replay', run: () => runReplayBench(run) },
        { name: 'env', run: () => runEnvBench(run) },
        { name: 'quality', run: () => runQualityBench(run) },
        { name: 'scale', run: () => runScaleBench({ quick: run.quick }) },
        ...externalSuites.map((s) => ({ name: s.name, run: () => s.run(run) })),
      ];
      const written: string[] = [];
      const show = progressWanted(false);
      for (const [i, suite] of suites.entries()) {
        if (show) process.stderr.write(`pprl bench all: ${suite.name} (${i + 1}/${suites.length})\n`);
        const file = join(opts.outDir, `${suite.name}.json`);
        writeFileAtomic(file, `${JSON.stringify(await suite.run(), null, 2)}\n`);
        written.push(file);
      }
      // a `train` subcommand added to this command by its own package, rather than registered above
      const train = bench.commands.find((c) => c.name() === 'train');
      if (train && !externalSuites.some((s) => s.name === 'train')) {
        if (show) process.stderr.write('pprl bench all: train\n');
        const file = join(opts.outDir, 'train.json');
        await train.parseAsync(
          [...(run.quick ? ['--quick'] : []), ...(threads ? ['--threads', String(threads)] : []), '--out', file],
          { from: 'user' },
        );
        written.push(file);
      }
      const command = [
        'npx pprl bench all',
        '--out-dir',
        opts.outDir,
        ...(run.quick ? ['--quick'] : []),
        ...(threads ? ['--threads', String(threads)] : []),
        '--report',
        report,
      ].join(' ');
      writeFileAtomic(report, renderBenchmarks(readBenchResults(opts.outDir), { command }));
      for (const file of [...written, report]) console.log(`wrote ${escapeControl(file)}`);
    });
  bench
    .command('report')
    .description(
      'render BENCHMARKS.md from a directory of suite results (replay.json, env.json, quality.json, scale.json, ' +
        'train.json; missing ones are left out)',
    )
    .requiredOption('--in <dir>', "directory holding the suites' JSON files (as `bench all --out-dir` writes them)")
    .option('--out <file>', 'write the markdown here (default: print it)')
    .addHelpText('after', '\nExample:\n  pprl bench report --in bench-results --out BENCHMARKS.md')
    .action((opts: { in: string; out?: string }) => {
      const results = readBenchResults(opts.in);
      if (Object.keys(results).length === 0)
        throw new UserError(
          `--in: no suite results (replay.json, env.json, quality.json, scale.json, train.json) in ${opts.in}`,
        );
      const markdown = renderBenchmarks(results);
      if (opts.out) writeFileAtomic(opts.out, markdown);
      else process.stdout.write(markdown);
    });
  return bench;
}

// ---------------------------------------------------------------------------------------------------------------
// Human tables

const m = (x: number) => (x / 1e6).toFixed(2);
const percent = (x: number | undefined) => (x === undefined ? '-' : `${Math.round(100 * x)}%`);

function printThreads(unit: string, points: ThreadPoint[]): void {
  console.log(
    table(
      ['threads', `${unit} (median)`, 'min-max', 'speedup', 'CPU per thread'],
      points.map((p) => [
        p.threads,
        m(p.rate.median),
        `${m(p.rate.min)}-${m(p.rate.max)}`,
        p.speedup.toFixed(2),
        percent(p.cpuShare),
      ]),
    ),
  );
}

export function printTrain(result: TrainBenchResult): void {
  const w = result.workload;
  console.log(
    `train: ${w.problem}, ${w.envs} envs x ${w.stepsPerRollout} steps per rollout, ` +
      `${w.epochs} epochs x ${w.minibatches} minibatches, ${w.stepsPerRun} steps per run x ${w.repetitions}; ` +
      `TensorFlow.js backend ${result.backend}; ${result.machine.cpu}, node ${result.machine.node}`,
  );
  const k = (x: number) => `${(x / 1e3).toFixed(1)}`;
  console.log(
    table(
      ['network', 'hidden', 'k steps/s (median)', 'min-max', 'time in rollouts', 'time in updates'],
      result.byNetwork.map((p) => [
        p.network,
        p.hidden.join('x'),
        k(p.stepsPerSec.median),
        `${k(p.stepsPerSec.min)}-${k(p.stepsPerSec.max)}`,
        percent(p.rolloutShare),
        percent(p.updateShare),
      ]),
    ),
  );
  console.log('steps/s: environment steps per second over whole runs, rollouts and PPO updates together');
}

function printReplay(result: ReplayBenchResult): void {
  const w = result.workload;
  console.log(
    `replay: P=${w.stages} M=${w.microBatches} ${w.schedule}, ${w.opsPerEpisode} ops/episode, noise cv ${w.noise}; ` +
      `${result.machine.cpu}, node ${result.machine.node}`,
  );
  const row = (name: string, r: ReplayBenchResult['wasm']) => [
    name,
    m(r.opEventsPerSec),
    m(r.rate.min),
    m(r.rate.max),
    Math.round(r.episodesPerSec),
  ];
  const rows = [row('wasm', result.wasm), row('ts reference', result.reference)];
  if (result.wasmNoiseFree)
    rows.push([
      'wasm, noise cv 0',
      m(result.wasmNoiseFree.opEventsPerSec),
      m(result.wasmNoiseFree.rate.min),
      m(result.wasmNoiseFree.rate.max),
      Math.round(result.wasmNoiseFree.opEventsPerSec / w.opsPerEpisode),
    ]);
  console.log(table(['engine', 'M op-events/s (median)', 'min', 'max', 'episodes/s'], rows));
  console.log(`ratio wasm / reference: ${result.ratio.toFixed(2)}x`);
  if (result.threads) {
    console.log('\nwasm replay in worker threads (sum over threads):');
    printThreads('M op-events/s', result.threads);
  }
}

function printEnv(result: EnvBenchResult): void {
  const w = result.workload;
  console.log(
    `env: P=${w.stages} M=${w.microBatches}, noise cv ${w.noise}, memory limit ${w.memLimit}, ` +
      `${w.stepsPerCall} steps per call; ${result.machine.cpu}, node ${result.machine.node}`,
  );
  const mm = (r: { min: number; max: number } | undefined) => (r ? `${m(r.min)}-${m(r.max)}` : '-');
  console.log(
    table(
      [
        'envs',
        'greedy M decisions/s (median)',
        'min-max',
        'greedy recorded',
        'TS reference recorded',
        'wasm / TS',
        `MLP ${result.mlp.hidden.join('x')} M decisions/s`,
        'min-max',
        `shared-trunk MLP ${result.mlpShared.hidden.join('x')} M decisions/s`,
        'min-max',
      ],
      result.byEnvs.map((p) => [
        p.envs,
        m(p.greedy.median),
        mm(p.greedy),
        p.greedyRecorded ? m(p.greedyRecorded.median) : '-',
        p.reference ? m(p.reference.median) : '-',
        p.ratio !== undefined ? p.ratio.toFixed(2) : '-',
        m(p.mlp.median),
        mm(p.mlp),
        m(p.mlpShared.median),
        mm(p.mlpShared),
      ]),
    ),
  );
  if (result.threads) {
    for (const [name, points] of [
      ['greedy', result.threads.greedy],
      ['MLP', result.threads.mlp],
      ['shared-trunk MLP', result.threads.mlpShared],
    ] as const) {
      console.log(`\n${name} in worker threads, ${result.threads.envs} envs each (sum over threads):`);
      printThreads('M decisions/s', points);
    }
  }
}

function printQuality(result: QualityBenchResult): void {
  const w = result.workload;
  console.log(
    `quality: ${w.cases} cases of the zero-bubble reference; noise cv ${w.noise.join(', ')}, ` +
      `${w.episodes} episodes each (common random numbers, seed ${w.seed})`,
  );
  for (const c of result.cases) {
    console.log(
      `\nP=${c.stages} M=${c.microBatches} F=${c.cost.F} B=${c.cost.B} W=${c.cost.W} comm=${c.cost.comm} ` +
        `(interleaved V=${c.chunks})`,
    );
    const header = [
      'schedule',
      'bubble ours',
      'upstream',
      'diff',
      'timed by',
      ...c.noisy.map((n) => `cv ${n.cv}: mean makespan`),
      ...c.noisy.map((n) => `cv ${n.cv}: vs zb-h1 [95% CI]`),
    ];
    const rows = c.rows.map((r, i) => [
      r.schedule,
      r.ours.toFixed(4),
      r.upstream.toFixed(4),
      signed(r.difference, 4),
      r.timedBy,
      ...c.noisy.map((n) => Math.round(n.rows[i]!.meanMakespan)),
      ...c.noisy.map((n) => {
        const d = n.rows[i]!.vsZbH1;
        const unpaired = n.rows[i]!.commonRandomNumbers ? '' : '*';
        return `${signed(d.mean, 0)} [${Math.round(d.ci95[0])}, ${Math.round(d.ci95[1])}]${unpaired}`;
      }),
    ]);
    console.log(table(header, rows));
  }
  console.log(
    '\n* interleaved 1F1B has P*V model stages, so its noise draws differ from the others (paired by episode only)',
  );
  if (result.threads) {
    const t = result.threads;
    console.log(`\n${t.jobs} jobs shared out across worker threads (results identical at every thread count):`);
    console.log(
      table(
        ['threads', 'wall seconds (median)', 'min-max', 'speedup', 'CPU per thread'],
        t.timings.map((x) => [
          x.threads,
          x.seconds.median.toFixed(3),
          `${x.seconds.min.toFixed(3)}-${x.seconds.max.toFixed(3)}`,
          x.speedup.toFixed(2),
          percent(x.cpuShare),
        ]),
      ),
    );
  }
}

function printScale(result: ScaleBenchResult): void {
  const w = result.workload;
  console.log(
    `scale: ${w.schedule}, cost F=${w.cost.F} B=${w.cost.B} W=${w.cost.W}, comm ${w.comm}, noise cv ${w.noise}; ` +
      `${result.machine.cpu}, node ${result.machine.node}`,
  );
  const us = (s: number) => (s * 1e6).toFixed(2);
  console.log(
    table(
      ['P', 'M', 'ops/episode', 'us/episode (median)', 'min-max', 'ns/op'],
      result.points.map((p) => [
        p.stages,
        p.microBatches,
        p.opsPerEpisode,
        us(p.secondsPerEpisode),
        `${us(1 / p.rate.max)}-${us(1 / p.rate.min)}`,
        ((p.secondsPerEpisode / p.opsPerEpisode) * 1e9).toFixed(1),
      ]),
    ),
  );
  console.log(
    `fit: time per episode ~ ops^${result.fit.k.toFixed(3)} (R^2 ${result.fit.r2.toFixed(4)}; ` +
      `1.0 = linear in the number of ops)`,
  );
}

/** A signed figure with no '-0' when it rounds to zero. */
function signed(x: number, digits: number): string {
  const text = Math.abs(x).toFixed(digits);
  return Number(text) === 0 ? text : `${x < 0 ? '-' : '+'}${text}`;
}
