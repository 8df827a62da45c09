// BENCHMARKS.md from the suites' JSON: every figure comes from the results, the prose around them is fixed text
// that says what the figures measure and what bounds them. `renderBenchmarks` is pure; `readBenchResults` reads a
// directory of <suite>.json files as `pprl bench all` writes them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@pprl/core-wasm';
import type { MachineInfo } from './machine.js';
import type { Rate } from './measure.js';
import type { EnvBenchResult } from './suites/env.js';
import type { QualityBenchResult, QualityScheduleId } from './suites/quality.js';
import type { ReplayBenchResult } from './suites/replay.js';
import type { ScaleBenchResult } from './suites/scale.js';
import type { ThreadPoint } from './threads.js';

export interface BenchResults {
  replay?: ReplayBenchResult;
  env?: EnvBenchResult;
  quality?: QualityBenchResult;
  scale?: ScaleBenchResult;
  /** The train suite's JSON (its own package writes it); rendered generically. */
  train?: Record<string, unknown>;
}

/** The files of a results directory, in report order. */
export const BENCH_SUITES = ['replay', 'env', 'quality', 'scale', 'train'] as const;
export type BenchSuiteName = (typeof BENCH_SUITES)[number];

export interface ReportOptions {
  /** The one command that regenerates every file and the report (shown at the top). */
  command?: string;
}

/** Reads <dir>/<suite>.json for every suite whose file exists; a file that is not JSON is a UserError naming it. */
export function readBenchResults(dir: string): BenchResults {
  const results: BenchResults = {};
  for (const suite of BENCH_SUITES) {
    const file = join(dir, `${suite}.json`);
    if (!existsSync(file)) continue;
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UserError(`cannot read ${file}: ${(e as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new UserError(`${file}: expected a JSON object`);
    const declared = (value as { suite?: unknown }).suite;
    if (declared !== undefined && declared !== suite)
      throw new UserError(`${file}: holds the results of suite "${String(declared)}", not "${suite}"`);
    (results as Record<string, unknown>)[suite] = value;
  }
  return results;
}

/** The markdown of BENCHMARKS.md for the suites present in `results`. */
export function renderBenchmarks(results: BenchResults, opts: ReportOptions = {}): string {
  const command = opts.command ?? defaultCommand(results);
  const parts = [
    [
      '# Benchmarks',
      '',
      "<!-- Generated from the suites' JSON by `pprl bench report` (packages/bench/src/report.ts); " +
        'edit that, not this file. -->',
      '',
      'One command regenerates every figure: it runs each suite, writes its JSON to the output directory, then renders',
      'this file from them:',
      '',
      '```sh',
      command,
      '```',
      '',
      'Throughput figures are medians of alternating repetitions with (min-max), ' +
        'the engines measured side by side in one',
      'process after a warm-up. Shared machines are noisy: ' +
        'compare ratios from the same run, not absolute figures across',
      'runs. Each section gives the command that reproduces it alone and the machine it ran on.',
    ].join('\n'),
  ];
  if (results.replay) parts.push(replaySection(results.replay));
  if (results.env) parts.push(envSection(results.env));
  if (results.quality) parts.push(qualitySection(results.quality));
  if (results.scale) parts.push(scaleSection(results.scale));
  if (results.train) parts.push(trainSection(results.train));
  return `${parts.join('\n\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting

/** Three significant digits, never in exponent form. */
export function sig(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(x)));
  if (magnitude >= digits - 1) return Math.round(x).toString();
  return x.toFixed(Math.min(20, digits - 1 - magnitude));
}

/** A rate in millions: "24.1 (21.1-24.6)". */
function millions(rate: Rate): string {
  return `${sig(rate.median / 1e6)} (${sig(rate.min / 1e6)}-${sig(rate.max / 1e6)})`;
}

/** Microseconds with a k suffix from 10,000 up, signed: "+176k", "-3.70". */
function us(x: number, signed = false): string {
  const sign = signed && x > 0 ? '+' : '';
  return Math.abs(x) >= 1e4 ? `${sign}${sig(x / 1e3)}k` : `${sign}${sig(x)}`;
}

/** A prose paragraph wrapped at 118 columns (markdown joins the lines again; diffs stay readable). */
export function para(text: string, width = 118): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

/** A section's lines and blocks: prose wrapped, headings, tables and code fences as they are. */
function blocks(parts: string[]): string {
  return parts.map((b) => (b === '' || /^(#|\||```)/.test(b) ? b : para(b))).join('\n');
}

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function fence(command: string): string {
  return ['```sh', command, '```'].join('\n');
}

/** `npx pprl bench <suite>` with the flags of the suite's recorded options (camelCase keys as --kebab-case). */
export function suiteCommand(suite: string, options: Record<string, unknown> | undefined): string {
  const flags: string[] = [];
  for (const [key, value] of Object.entries(options ?? {})) {
    const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    if (value === true) flags.push(flag);
    else if (typeof value === 'number' || typeof value === 'string') flags.push(`${flag} ${value}`);
    else if (Array.isArray(value)) flags.push(`${flag} ${value.join(',')}`);
  }
  return ['npx pprl bench', suite, ...flags, '--json'].join(' ');
}

function defaultCommand(results: BenchResults): string {
  const options = [results.replay, results.env, results.quality, results.scale].map((r) => r?.options);
  const quick = options.some((o) => o?.quick === true);
  const threads = Math.max(0, ...options.map((o) => (o && 'threads' in o ? (o.threads ?? 0) : 0)));
  return [
    'npx pprl bench all --out-dir bench-results',
    ...(quick ? ['--quick'] : []),
    ...(threads ? [`--threads ${threads}`] : []),
    '--report BENCHMARKS.md',
  ].join(' ');
}

function machineLine(m: MachineInfo | undefined, extra: string[] = []): string {
  if (!m) return extra.length ? `Machine: ${extra.join(', ')}.` : 'Machine: not recorded.';
  const parts = [m.cpu, `${m.cores} cores`, `Node ${m.node}`, m.platform, ...extra];
  if (m.loadAverage) parts.push(`load average ${m.loadAverage[0]} at the end of the suite`);
  return `Machine: ${parts.join(', ')}${m.date ? `; run ${m.date.slice(0, 10)}` : ''}.`;
}

function percent(x: number | undefined): string {
  return x === undefined ? '-' : `${Math.round(100 * x)}%`;
}

/** One row per workload and thread count. */
function threadsTable(unit: string, workloads: { name: string; points: ThreadPoint[] }[]): string {
  return table(
    ['workload', 'threads', `${unit}, sum over threads`, 'speedup', 'efficiency', 'CPU per thread'],
    workloads.flatMap((w) =>
      w.points.map((p) => [
        w.name,
        p.threads,
        millions(p.rate),
        p.speedup.toFixed(2),
        percent(p.efficiency),
        percent(p.cpuShare),
      ]),
    ),
  );
}

function threadsProse(m: MachineInfo | undefined): string {
  return (
    'Each thread is a `node:worker_threads` worker with its own WebAssembly instance running the same workload; the ' +
    "figure is the sum of the threads' rates over one shared window, so ideal scaling is a speedup equal to the " +
    `number of threads up to the number of cores${m ? ` (${m.cores} here)` : ''}. CPU per thread is the CPU time the ` +
    'process got per thread and wall second in those windows: near 100% each thread had a core to itself; well ' +
    "below, other work on the machine took part of the cores, and the speedup shows the machine's load rather than " +
    'the code. Beyond that, the threads compete for shared caches and memory bandwidth.'
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Sections

function replaySection(r: ReplayBenchResult): string {
  const w = r.workload;
  const out = [
    '## Static replay: WebAssembly against the TypeScript reference',
    '',
    `Workload: P = ${w.stages} devices, M = ${w.microBatches} micro-batches, ` +
      `1F1B with W right after its B (${w.opsPerEpisode} ops per episode), ` +
      `costs F = ${w.cost.F}, B = ${w.cost.B}, W = ${w.cost.W}, transfer ${w.comm}, ` +
      `noise cv ${w.noise} on compute and transfers; ` +
      `${w.episodesPerBatch} episodes per WebAssembly call; ` +
      `${w.repetitions} repetitions of ${w.seconds} s per engine. An op-event is one op ` +
      'simulated (its noise drawn, dependencies checked, start and end computed).',
    '',
    fence(suiteCommand('replay', r.options)),
    '',
    machineLine(r.machine),
    '',
    table(
      ['engine', 'M op-events/s', 'episodes/s'],
      [
        ['WebAssembly', millions(r.wasm.rate), sig(r.wasm.episodesPerSec)],
        ['TypeScript reference', millions(r.reference.rate), sig(r.reference.episodesPerSec)],
        ...(r.wasmNoiseFree
          ? [
              [
                'WebAssembly, noise cv 0',
                millions(r.wasmNoiseFree.rate),
                sig(r.wasmNoiseFree.opEventsPerSec / w.opsPerEpisode),
              ],
            ]
          : []),
      ],
    ),
    '',
    `Ratio WebAssembly / TypeScript reference: **${r.ratio.toFixed(2)}**.`,
    '',
  ];
  const noiseShare = r.wasmNoiseFree ? 1 - r.wasm.opEventsPerSec / r.wasmNoiseFree.opEventsPerSec : undefined;
  out.push(
    (noiseShare !== undefined
      ? `Without noise the WebAssembly loop runs ${sig(r.wasmNoiseFree!.opEventsPerSec / 1e6)} M op-events/s, ` +
        'so drawing the noise (one hash and one ' +
        `table lookup per op and per transfer) takes about ${Math.round(100 * noiseShare)}% of the time here. `
      : '') +
      'The reference uses the same algorithm on typed arrays and V8 compiles it well, so the ratio is modest: the ' +
      "WebAssembly engine's advantages are elsewhere (no allocation, the same code in browsers, and whole rollouts " +
      'inside one call in the environment below).',
  );
  if (r.threads)
    out.push(
      '',
      `Threads: the WebAssembly replay in 1 to ${r.threads.length} threads at once.`,
      '',
      threadsTable('M op-events/s', [{ name: 'WebAssembly replay', points: r.threads }]),
      '',
      threadsProse(r.machine),
    );
  return blocks(out);
}

/** Targets of issue 4, in decisions per second. */
const ENV_TARGETS = { greedy: 5e6, mlp: 1e6 };

function envSection(r: EnvBenchResult): string {
  const w = r.workload;
  const hidden = r.mlp.hidden.join('x');
  const hasReference = r.byEnvs.some((p) => p.reference);
  const observation = w.obsDim ? ` (observation ${w.obsDim} floats, ${w.actions} actions)` : '';
  const out = [
    '## Environment: decisions per second of whole rollouts in WebAssembly',
    '',
    `Workload: P = ${w.stages}, M = ${w.microBatches}, costs F ${w.cost.F}, B ${w.cost.B}, W ${w.cost.W}, ` +
      `transfer ${w.comm}, noise cv ${w.noise}, ` +
      `memory limit ${w.memLimit} (F +1, W -1), V = 1${observation}; ${w.stepsPerCall} steps per ` +
      `\`rollout\` call; ${w.repetitions} repetitions of ${w.seconds} s per policy. ` +
      'Greedy: the built-in `greedy-zb` rule inside the module, ' +
      'no storage. Greedy, recorded: the same rollout storing observation, mask, action, reward and done, ' +
      'which is what the ' +
      'TypeScript reference does: its `ReferenceEnv`s stepped by the same rule from TypeScript ' +
      '(observe, choose, step), ' +
      `taking exactly the same decisions. MLP: ${hidden} tanh (orthogonal init), batched forwards, ` +
      'masked sampling, and ' +
      'storage of observation, mask, action, log-probability, value, reward and done; ' +
      '"separate" is CleanRL\'s layout ' +
      '(actor and critic networks), "shared" one trunk with two heads.',
    '',
    fence(suiteCommand('env', r.options)),
    '',
    machineLine(r.machine),
    '',
    table(
      [
        'envs',
        'greedy M decisions/s',
        ...(hasReference ? ['greedy, recorded', 'TS reference, recorded', 'WASM / TS'] : []),
        `MLP ${hidden} separate`,
        `MLP ${hidden} shared trunk`,
      ],
      r.byEnvs.map((p) => [
        p.envs,
        millions(p.greedy),
        ...(hasReference
          ? [
              p.greedyRecorded ? millions(p.greedyRecorded) : '-',
              p.reference ? millions(p.reference) : '-',
              p.ratio !== undefined ? `**${p.ratio.toFixed(2)}**` : '-',
            ]
          : []),
        millions(p.mlp),
        millions(p.mlpShared),
      ]),
    ),
    '',
  ];
  const best = (pick: (p: EnvBenchResult['byEnvs'][number]) => Rate) =>
    Math.max(...r.byEnvs.map((p) => pick(p).median));
  const verdict = (x: number, target: number) =>
    `${sig(x / 1e6)} M (${x >= target ? 'meets' : 'below'} the target of ${sig(target / 1e6)} M)`;
  const multiplyAdds = r.mlp.multiplyAdds
    ? ` (${r.mlp.multiplyAdds.toLocaleString('en-US')} multiply-adds per observation separate, ` +
      `${r.mlpShared.multiplyAdds?.toLocaleString('en-US')} shared)`
    : '';
  out.push(
    `Best medians over N against the targets of issue 4: greedy ${verdict(
      best((p) => p.greedy),
      ENV_TARGETS.greedy,
    )}, MLP separate ` +
      `${verdict(
        best((p) => p.mlp),
        ENV_TARGETS.mlp,
      )}, shared trunk ${verdict(
        best((p) => p.mlpShared),
        ENV_TARGETS.mlp,
      )}. What bounds them: the MLP ` +
      `policies are arithmetic${multiplyAdds}, ` +
      'close to what WebAssembly SIMD without fused multiply-add gives one core; the greedy figure is the event loop ' +
      `itself (per-device eligibility, the event heap, noise)${greedyTrend(r.byEnvs)}. ` +
      'Recording adds an observation per decision and the stores.',
  );
  if (hasReference && r.reference) {
    out.push(
      '',
      `At N = ${r.envs} the WebAssembly environment runs the recorded greedy rollout ` +
        `${r.reference.ratio.toFixed(2)} times as fast as the ` +
        'TypeScript reference. The reference is plain, readable TypeScript ' +
        'kept as the oracle of the differential tests ' +
        '(one object per environment, a result object per step); the WebAssembly module keeps every environment in ' +
        'structure-of-arrays memory and runs the whole rollout in one call.',
    );
  }
  if (r.threads) {
    const t = r.threads;
    out.push(
      '',
      `Threads: every policy in 1 to ${t.greedy.length} threads at once, ` +
        `each thread with ${t.envs} environments of its own.`,
      '',
      threadsTable('M decisions/s', [
        { name: 'greedy', points: t.greedy },
        { name: `MLP ${hidden} separate`, points: t.mlp },
        { name: `MLP ${hidden} shared trunk`, points: t.mlpShared },
      ]),
      '',
      threadsProse(r.machine),
    );
  }
  return blocks(out);
}

/** How the greedy rate moves from the smallest to the largest vector size. */
function greedyTrend(points: EnvBenchResult['byEnvs']): string {
  if (points.length < 2) return '';
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const change = last.greedy.median / first.greedy.median - 1;
  const range = `from N = ${first.envs} to N = ${last.envs}`;
  if (change < -0.1)
    return (
      `; it falls ${range} (${sig(first.greedy.median / 1e6)} M to ${sig(last.greedy.median / 1e6)} M) ` +
      'as per-environment state leaves the caches'
    );
  return (
    `; it moves by ${Math.round(100 * Math.abs(change))}% ${range}, ` +
    'so per-environment state leaving the caches costs little here'
  );
}

function qualitySection(r: QualityBenchResult): string {
  const w = r.workload;
  const ids = r.cases[0]?.rows.map((row) => row.schedule) ?? [];
  const label = (c: QualityBenchResult['cases'][number]) =>
    `P ${c.stages}, M ${c.microBatches}${c.model ? `, hidden ${c.model.hidden}` : ''}`;
  const diffs = r.cases.flatMap((c) =>
    c.rows.filter((row) => row.schedule === 'interleaved-1f1b').map((row) => row.difference),
  );
  const exact = r.cases.every((c) =>
    c.rows
      .filter((row) => ['1f1b', 'zb-h1', 'zb-h2'].includes(row.schedule))
      .every((row) => Math.abs(row.difference) < 5e-5),
  );
  const agreement = exact
    ? 'match upstream to 4 decimals on every case'
    : 'differ from upstream somewhere by 5e-5 or more (see the table)';
  const out = [
    '## Schedule quality against the zero-bubble reference',
    '',
    `Bubble rates, ours / upstream, on the zero-bubble paper's ${w.cases} settings ` +
      `(copy, with where upstream's figures come from, in \`packages/bench/${w.data}\`). ` +
      'ZB-H2 and zb-auto are timed by the span as upstream does, the others by the makespan. ' +
      'Interleaved 1F1B runs V = ' +
      'layers / P chunks per device. Deterministic: the same on every machine.',
    '',
    fence(suiteCommand('quality', r.options)),
    '',
    machineLine(r.machine),
    '',
    table(
      ['case', ...ids],
      r.cases.map((c) => [label(c), ...c.rows.map((row) => `${row.ours.toFixed(4)} / ${row.upstream.toFixed(4)}`)]),
    ),
    '',
    `1F1B, ZB-H1 and ZB-H2 ${agreement}. ` +
      (diffs.length
        ? `Interleaved 1F1B is ${Math.min(...diffs).toFixed(4)} to ${Math.max(...diffs).toFixed(4)} higher ` +
          "because the reference's timing drops " +
          'the cross-chunk dependency for most micro-batches ' +
          '(reproduced in `packages/schedulers/test/upstream-handcrafted.test.ts`).'
        : ''),
  ];
  const cvMax = Math.max(...w.noise);
  const noisyIds = ids.filter((id) => id !== 'zb-h1');
  out.push(
    '',
    `Under noise (cv ${cvMax}, ${w.episodes} episodes on common random numbers, seed ${w.seed}): ` +
      "mean makespan minus zb-h1's, episode by episode, " +
      'in microseconds with its 95% confidence interval ' +
      '(interleaved 1F1B has P V model stages, so its draws differ and it is paired by episode only).',
    '',
    table(
      ['case', 'zb-h1 mean makespan', ...noisyIds.map((id) => `${id} vs zb-h1`)],
      r.cases.map((c) => {
        const level = c.noisy.find((n) => n.cv === cvMax) ?? c.noisy[c.noisy.length - 1]!;
        const row = (id: QualityScheduleId) => level.rows.find((x) => x.schedule === id)!;
        return [
          label(c),
          us(row('zb-h1').meanMakespan),
          ...noisyIds.map((id) => {
            const d = row(id).vsZbH1;
            return `${us(d.mean, true)} [${us(d.ci95[0])}, ${us(d.ci95[1])}]`;
          }),
        ];
      }),
    ),
  );
  const slower = r.cases.filter((c) => {
    const level = c.noisy.find((n) => n.cv === cvMax);
    const d = level?.rows.find((x) => x.schedule === 'zb-auto-1p')?.vsZbH1;
    return d !== undefined && d.ci95[0] > 0;
  }).length;
  if (slower > 0)
    out.push(
      '',
      `zb-auto at the 1p memory limit is slower than ZB-H1 on the makespan in ${slower} of ${r.cases.length} cases: ` +
        'it optimises the span, ' +
        "upstream's metric, not the makespan that a global synchronisation sees.",
    );
  if (r.threads) {
    const t = r.threads;
    out.push(
      '',
      `Threads: the suite's ${t.jobs} jobs (a case's bubble rates, or its makespans at one noise level) ` +
        'shared out across 1 to ' +
        `${t.timings.length} worker threads; ` +
        `the results were ${t.identicalResults ? 'identical' : 'NOT identical'} at every thread count.`,
      '',
      table(
        ['threads', 'wall seconds', 'speedup', 'CPU per thread'],
        t.timings.map((x) => [
          x.threads,
          `${sig(x.seconds.median)} (${sig(x.seconds.min)}-${sig(x.seconds.max)})`,
          x.speedup.toFixed(2),
          percent(x.cpuShare),
        ]),
      ),
      '',
      'CPU per thread is the CPU time the process got per thread and wall second; well below 100%, other work on the ' +
        'machine, not the code, set the wall time.',
    );
  }
  return blocks(out);
}

function scaleSection(r: ScaleBenchResult): string {
  const w = r.workload;
  const first = r.points[0]!;
  const last = r.points[r.points.length - 1]!;
  const nsPerOp = (p: ScaleBenchResult['points'][number]) => (p.secondsPerEpisode / p.opsPerEpisode) * 1e9;
  const opsRange = r.points.map((p) => p.opsPerEpisode);
  const stages = r.points.map((p) => p.stages);
  const mbs = r.points.map((p) => p.microBatches);
  const perOp = r.points.map(nsPerOp);
  return blocks([
    '## Scale: time per episode against the number of ops',
    '',
    `Replay of 1F1B with split backward, noise cv ${w.noise}, ` +
      `P from ${Math.min(...stages)} to ${Math.max(...stages)} and M from ${Math.min(...mbs)} to ${Math.max(...mbs)} ` +
      `(${r.points.length} grid points, ` +
      `${Math.min(...opsRange).toLocaleString('en-US')} to ` +
      `${Math.max(...opsRange).toLocaleString('en-US')} ops per episode); least-squares fit ` +
      `of log(time per episode) = a + k log(ops); ${w.repetitions} repetitions of ${w.seconds} s per point.`,
    '',
    fence(suiteCommand('scale', r.options)),
    '',
    machineLine(r.machine),
    '',
    table(
      ['exponent k', 'R^2', 'ns per op, smallest to largest'],
      [[r.fit.k.toFixed(3), r.fit.r2.toFixed(4), `${sig(nsPerOp(first))} to ${sig(nsPerOp(last))}`]],
    ),
    '',
    table(
      ['P', 'M', 'ops per episode', 'us per episode', 'ns per op'],
      r.points.map((p) => [
        p.stages,
        p.microBatches,
        p.opsPerEpisode,
        `${sig(p.secondsPerEpisode * 1e6)} (${sig(1e6 / p.rate.max)}-${sig(1e6 / p.rate.min)})`,
        sig(nsPerOp(p)),
      ]),
    ),
    '',
    'A replay visits every op once, so k = 1 means time linear in the number of ops ' +
      `(here k = ${r.fit.k.toFixed(3)}). ` +
      `The time per op ranges from ${sig(Math.min(...perOp))} to ${sig(Math.max(...perOp))} ns; ` +
      'where it rises at the largest sizes, the per-episode ' +
      'state has left the caches.',
  ]);
}

/** The train suite's headline fields, rendered when present. */
const TRAIN_FIELDS = ['stepsPerSec', 'rolloutShare', 'updateShare', 'backend'] as const;

function trainValue(key: string, value: unknown): string {
  if (typeof value === 'number') return key.endsWith('Share') ? `${(100 * value).toFixed(1)}%` : sig(value);
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && 'median' in value) {
    const r = value as Rate;
    return key.endsWith('Share')
      ? `${(100 * r.median).toFixed(1)}% (${(100 * r.min).toFixed(1)}-${(100 * r.max).toFixed(1)}%)`
      : `${sig(r.median)} (${sig(r.min)}-${sig(r.max)})`;
  }
  return '-';
}

function trainSection(r: Record<string, unknown>): string {
  const has = (o: Record<string, unknown>) => TRAIN_FIELDS.some((k) => k in o);
  const rows: { label: string; values: Record<string, unknown> }[] = [];
  if (has(r)) rows.push({ label: 'run', values: r });
  for (const [name, value] of Object.entries(r)) {
    if (!Array.isArray(value)) continue;
    value.forEach((item: unknown, i) => {
      if (typeof item !== 'object' || item === null || !has(item as Record<string, unknown>)) return;
      const o = item as Record<string, unknown>;
      const envs = o.envs ?? o.numEnvs;
      const hiddenPrefix = Array.isArray(o.hidden) ? `${o.hidden.join('x')} ` : '';
      const networkName =
        o.network === 'shared' ? 'shared trunk' : o.network === 'separate' ? 'separate actor and critic' : o.network;
      const label =
        typeof o.network === 'string'
          ? `${hiddenPrefix}${networkName}`
          : typeof envs === 'number'
            ? `${name}: ${envs} envs`
            : `${name} ${i + 1}`;
      rows.push({ label, values: o });
    });
  }
  const fields = TRAIN_FIELDS.filter((k) => rows.some((row) => k in row.values));
  const machine = r.machine as MachineInfo | undefined;
  const backend = typeof r.backend === 'string' ? r.backend : undefined;
  const out = [
    '## Training: PPO steps per second',
    '',
    'Environment steps per second of PPO training (rollouts inside WebAssembly, updates on TensorFlow.js) and the ' +
      'shares of the time spent in rollouts and in updates.',
    '',
    fence(suiteCommand('train', r.options as Record<string, unknown> | undefined)),
    '',
    machineLine(machine, backend ? [`TensorFlow.js backend ${backend}`] : []),
  ];
  if (rows.length && fields.length)
    out.push(
      '',
      table(
        ['', ...fields],
        rows.map((row) => [row.label, ...fields.map((k) => trainValue(k, row.values[k]))]),
      ),
    );
  else
    out.push(
      '',
      'The results hold none of the fields this report knows (stepsPerSec, rolloutShare, updateShare, backend).',
    );
  if (typeof r.updateShare === 'number' && r.updateShare > 0.5)
    out.push(
      '',
      para(
        `The updates take ${(100 * r.updateShare).toFixed(0)}% of the time: ` +
          `TensorFlow.js${backend ? ` (${backend} backend)` : ''} bounds the ` +
          'throughput, not the environment. ' +
          'Its WebAssembly backend runs one thread in Node (no SharedArrayBuffer threads), and ' +
          'an update is many small kernels (forward, the registered gradients, Adam per variable) ' +
          'over minibatches of ' +
          'about 2,000 samples. Ways past it: tfjs-node (native TensorFlow, when it can be installed), ' +
          'the update written in ' +
          'the WebAssembly module next to the forward pass, or rollouts and updates on separate cores.',
      ),
    );
  return blocks(out);
}
