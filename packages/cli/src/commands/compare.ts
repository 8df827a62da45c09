// pprl compare: several schedulers on one problem, on common random numbers, optionally across a sweep of the
// noise cv or of the communication time; a table, one JSON object, or an HTML report.
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { ConfigError, type Problem, escapeControl, quoteInput } from '@pprl/core-wasm';
import { missingDirectories } from '@pprl/rl';
import { contenderFor, contenderNames } from '../contenders.js';
import { fmt, printJson, table, writeFileAtomic } from '../output.js';
import { unitsOfOptions } from '../units.js';
import { guardWorks } from '../size-guard.js';
import { didYouMean } from '../suggest.js';
import { addProblemOptions, numberOption, problemFromOptions, type ProblemOptions } from '../problem-options.js';
import { createProgress, progressWanted } from '../progress.js';
import { addPolicyChunksOption, policyChunksOption, type PolicyChunksOptions } from '../policy-problem.js';
import { addSweepGaps, oracleEpisodesOption, oracleWork, pct, RoomCache } from '../room.js';
import { displayScales, num, renderReport, type ReportUnits } from '../report/html.js';
import { parseSweep, runSweep, sweepLabel, type ContenderSpec, type Sweep, type SweepResult } from '../report/sweep.js';

export const DEFAULT_SCHEDULERS = '1f1b,zb-h1,zb-h2,zb-auto,zb-v,greedy-zb';

interface CompareOptions extends ProblemOptions, PolicyChunksOptions {
  force?: boolean;
  schedulers: string;
  episodes?: string;
  sweep?: string;
  out?: string;
  json?: boolean;
  oracleEpisodes?: string;
}

export function parseSchedulers(text: string): string[] {
  const names = text.split(',').map((s) => s.trim());
  if (names.some((n) => n === ''))
    throw new ConfigError('--schedulers', `expected a comma-separated list of names (got ${quoteInput(text)})`);
  const valid = contenderNames();
  const unknown = names.find((n) => !valid.includes(n) && !(n.startsWith('ppo:') && n.length > 4));
  if (unknown !== undefined)
    throw new ConfigError(
      '--schedulers',
      `unknown scheduler "${unknown}"${didYouMean(unknown, valid)}; valid names: ` +
        `${valid.join(', ')}, ppo:<checkpoint dir>`,
    );
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new ConfigError('--schedulers', `"${dup}" is named twice`);
  return names;
}

function compareEpisodes(text: string | undefined): number {
  const k = numberOption('--episodes', text) ?? 200;
  if (!Number.isInteger(k) || k < 2 || k > 1_000_000)
    throw new ConfigError('--episodes', `must be an integer in [2, 1000000] (got ${quoteInput(text)})`);
  return k;
}

/** The one JSON object of `pprl compare --json` (also results.json beside the report). */
export function compareJson(problem: Problem, units: ReportUnits, r: SweepResult, extra: Record<string, unknown> = {}) {
  const c = problem.config;
  return {
    problem: {
      stages: problem.stages,
      microBatches: problem.microBatches,
      chunks: problem.chunks,
      placement: problem.placement,
      cost: c.cost,
      comm: Array.from(problem.comm.subarray(0, Math.max(1, problem.numStages - 1))),
      memory: { ...c.memory },
      noise: problem.noise,
      timeUnit: units.time,
      memoryUnit: units.memory,
    },
    episodes: r.episodes,
    sweep: { factor: r.factor, values: r.values },
    baseline: r.baseline,
    schedulers: Object.fromEntries(r.schedulers.map(({ name, ...rest }) => [name, rest])),
    ...extra,
  };
}

/** One row per scheduler and sweep value, in display units. */
export function compareTable(r: SweepResult, units: ReportUnits): string {
  const s = displayScales(units);
  const withGaps = r.schedulers.some((sch) => sch.points.some((p) => p.gap !== undefined));
  const t = s.time;
  const rows = r.schedulers.flatMap((sch) =>
    sch.points.map((p) => {
      const d = p.diffToBaseline;
      return [
        sch.name,
        r.factor === 'noise' ? String(p.value) : `x${p.value}`,
        p.makespan.mean * t.factor,
        p.makespan.p95 * t.factor,
        p.throughput.mean * s.throughput.factor,
        `${(100 * p.bubbleRate.mean).toFixed(1)}%`,
        d ? `${fmt(d.mean * t.factor)} [${fmt(d.ci95[0] * t.factor)}, ${fmt(d.ci95[1] * t.factor)}]` : '(baseline)',
        ...(withGaps ? [pct(p.gap?.toLowerBound), pct(p.gap?.toOracle)] : []),
      ];
    }),
  );
  const n = r.schedulers[0]?.points[0]?.gap?.oracleEpisodes ?? 0;
  const gapHead = withGaps ? ['gap to lower bound', n > 0 ? `gap to oracle (${n} ep)` : 'gap to oracle'] : [];
  return table(
    [
      'scheduler',
      r.factor,
      `mean (${t.label})`,
      'p95',
      `M/T (${s.throughput.short})`,
      'bubble',
      `vs ${r.baseline} (95% CI)`,
      ...gapHead,
    ],
    rows,
  );
}

function problemRows(
  problem: Problem,
  opts: CompareOptions,
  sweep: Sweep,
  episodes: number,
  units: ReportUnits,
): [string, string][] {
  const c = problem.config;
  const s = displayScales(units);
  // one number when every stage has the same value
  const list = (l: number[], factor: number) =>
    (l.every((x) => x === l[0]) ? [l[0]!] : l).map((x) => num(x * factor)).join(', ');
  const time = (l: number[]) => list(l, s.time.factor);
  const transfers = Array.from(problem.comm.subarray(0, Math.max(1, problem.numStages - 1)));
  const n = problem.noise;
  const rows: [string, string][] = [];
  if (opts.profile)
    rows.push([
      'profile',
      `${opts.profile}${opts.model ? ` (${opts.model})` : ''}, micro-batch size ${opts.microBatchSize ?? 1}`,
    ]);
  rows.push(
    [
      'devices P, chunks V, micro-batches M',
      `${problem.stages}, ${problem.chunks} (${problem.placement} placement), ${problem.microBatches}`,
    ],
    [`compute F / B / W (${s.time.label})`, `${time(c.cost.F)} / ${time(c.cost.B)} / ${time(c.cost.W)}`],
    [
      `one transfer (${s.time.label})`,
      `${time(transfers)}${sweep.factor === 'comm' ? ' at x1; the sweep scales it' : ''}`,
    ],
    [
      `memory F / B / W (${s.memory.label})`,
      `${list(c.memory.F, s.memory.factor)} / ${list(c.memory.B, s.memory.factor)} / ` +
        `${list(c.memory.W, s.memory.factor)}`,
    ],
    [
      'memory limit per device',
      Number.isFinite(problem.memLimit) ? `${num(problem.memLimit * s.memory.factor)} ${s.memory.label}` : 'none',
    ],
    [
      'noise',
      `${sweep.factor === 'noise' && sweep.values.length > 1 ? 'cv set by the sweep' : `cv ${n.cv}`}` +
        `${c.noise.commCv !== undefined ? `, comm cv ${c.noise.commCv}` : ' (compute and comm)'}, floor ${n.floor}, ` +
        `anomalies p=${n.anomalyProb} x${n.anomalyFactor}, seed ${n.seed}`,
    ],
    ['episodes per point', `${episodes}, on common random numbers (episode e meets the same draws in every scheduler)`],
  );
  return rows;
}

export function compareCommand(): Command {
  const cmd = new Command('compare')
    .description('compare schedulers on one problem (common random numbers), optionally across a noise or comm sweep')
    .option(
      '--schedulers <names>',
      'comma-separated schedule and heuristic names, or ppo:<checkpoint dir> for a trained policy; ' +
        'the first is the baseline of the paired differences',
      DEFAULT_SCHEDULERS,
    )
    .option('--episodes <K>', 'episodes per scheduler and sweep value (default 200)')
    .option('--sweep <factor=values>', 'noise=0,0.1,0.2 sets the noise cv; comm=0.5,1,2 scales the communication time')
    .option('--out <dir>', 'write report.html and results.json into this directory')
    .option(
      '--oracle-episodes <n>',
      'episodes 0..n-1 that also get the clairvoyant oracle for the gap columns (default 8; 0: lower bound only)',
    )
    .option('--json', 'print one JSON object')
    .option('--force', 'run even when the estimated time or memory is beyond the size guard (60 s, 4 GiB)');
  addPolicyChunksOption(cmd);
  addProblemOptions(cmd);
  cmd.addHelpText(
    'after',
    '\nExamples:\n' +
      '  pprl compare --stages 4 --micro-batches 16 --cost-b 1.2 --cost-w 0.9 --comm 0.1 --sweep noise=0,0.1,0.2,0.3 ' +
      '--out report\n' +
      '  pprl compare --profile packages/core-wasm/profiles/h200-fbw-profiles.json --model 6.2B --noise 0.2 ' +
      '--sweep comm=0.5,1,2,4,8 --schedulers 1f1b,zb-h1,zb-v,greedy-zb --json',
  );
  cmd.action(async (opts: CompareOptions) => {
    const names = parseSchedulers(opts.schedulers);
    const base = problemFromOptions(opts);
    const sweep = parseSweep(opts.sweep, base);
    const episodes = compareEpisodes(opts.episodes);
    // an output directory that cannot be made fails now, before the simulations
    if (opts.out) missingDirectories(opts.out);
    const oracleEpisodes = oracleEpisodesOption(opts.oracleEpisodes, episodes);
    const units = unitsOfOptions(opts);
    const policyChunks = policyChunksOption(opts.policyChunks);
    const specs: ContenderSpec[] = names.map((name) => ({
      name,
      make: (problem) => contenderFor(name, problem, policyChunks),
    }));
    // build every scheduler once up front, so a schedule that cannot be built fails before any work is done, and
    // stop work far beyond a minute (a million episodes of three heuristics) unless forced
    const built = specs.map((spec) => spec.make(base));
    guardWorks(
      base,
      built.map((c) => ({
        problem: c.problem,
        work: { scheduler: c.kind === 'static' ? 'static' : 'heuristic', episodes: episodes * sweep.values.length },
      })),
      { force: opts.force, note: (line) => process.stderr.write(`${line}\n`) },
    );

    const progress = createProgress({
      label: 'compare',
      total: specs.length * sweep.values.length,
      enabled: progressWanted(opts.json),
    });
    const ganttAt = sweep.values.length - 1;
    let run: Awaited<ReturnType<typeof runSweep>>;
    try {
      run = await runSweep({ base, sweep, specs, episodes, ganttAt, onProgress: (name) => progress.tick(name) });
    } finally {
      progress.done();
    }
    const { result, gantts } = run;
    const gapSettings = { oracleEpisodes, evaluations: 20000 };
    const oracleProgress = createProgress({
      label: 'oracle',
      total: oracleWork(run, gapSettings),
      enabled: progressWanted(opts.json),
    });
    try {
      await addSweepGaps(run, new RoomCache(gapSettings, () => oracleProgress.tick()));
    } finally {
      oracleProgress.done();
    }

    const files: Record<string, string> = {};
    if (opts.out) {
      files.report = resolve(join(opts.out, 'report.html'));
      files.results = resolve(join(opts.out, 'results.json'));
      const last = sweepLabel(sweep.factor, sweep.values[ganttAt]!);
      const html = renderReport({
        title: `Schedulers compared: ${names.join(', ')}`,
        intro: [
          `${names.length} schedulers on the same problem, ` +
            `${episodes} episodes at each ${sweep.factor === 'noise' ? 'noise level' : 'communication time'}, ` +
            `on common random numbers: episode e meets the same fluctuation in every scheduler, ` +
            `so differences are paired.`,
        ],
        problem: problemRows(base, opts, sweep, episodes, units),
        units,
        experiments: [
          {
            id: `sweep-${sweep.factor}`,
            title:
              sweep.values.length > 1
                ? `Sweep of ${sweep.factor === 'noise' ? 'the noise cv' : 'the communication time'}`
                : `At ${sweepLabel(sweep.factor, sweep.values[0]!)}`,
            question:
              sweep.factor === 'noise'
                ? 'Does scheduling optimisation help more as the fluctuation of compute and communication times grows?'
                : 'What does a rising communication delay do to the makespan and throughput of each scheduler?',
            result,
          },
        ],
        gantt: { caption: `Episode 0 at ${last}: the same noise draw for every scheduler.`, charts: gantts },
        ...(Number.isFinite(base.memLimit) ? { memoryLimit: base.memLimit } : {}),
        footer: 'Generated by pprl compare; the same numbers are in results.json beside this file.',
      });
      writeFileAtomic(files.report, html);
      writeFileAtomic(files.results, `${JSON.stringify(compareJson(base, units, result), null, 2)}\n`);
    }
    if (opts.json) return printJson(compareJson(base, units, result, opts.out ? { files } : {}));
    console.log(
      `${names.length} schedulers, P=${base.stages} M=${base.microBatches}, ${episodes} episodes per point, ` +
        `common random numbers; ` +
        (sweep.values.length > 1
          ? `sweep ${sweep.factor} = ${sweep.values.join(', ')}`
          : sweepLabel(sweep.factor, sweep.values[0]!)),
    );
    console.log(compareTable(result, units));
    if (files.report) console.log(`Report: ${escapeControl(files.report)}`);
  });
  return cmd;
}
