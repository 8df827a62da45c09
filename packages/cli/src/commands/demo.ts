// pprl demo: the main job on built-in defaults. A realistic problem from the bundled H200 profile, the known
// schedules, the dynamic heuristics and the bundled learned policies, all at the same memory limit (P activations
// per device), at noise cv 0, 0.1, 0.2, 0.3 and at x0.5 to x8 the communication time
// (cv 0.2), on common random numbers: tables, an HTML report (report.html), and Gantt charts (SVG) and Chrome
// traces (open in Perfetto) of one episode per scheduler.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import {
  ConfigError,
  H200_PROFILES_URL,
  findProfile,
  problemFromProfile,
  withLimit,
  withNoise,
  type PairedDifference,
  type Problem,
  escapeControl,
  quoteInput,
} from '@pprl/core-wasm';
import { timelineToChromeTrace, timelineToSvg } from '@pprl/schedulers';
import { bundledPolicyDir, BUNDLED_POLICIES, type BundledPolicy, missingDirectories } from '@pprl/rl';
import {
  asVProblem,
  heuristicContender,
  ppoContender,
  searchedContender,
  staticContender,
  type Contender,
  type ContenderRun,
} from '../contenders.js';
import { pct, RoomCache } from '../room.js';
import { numberOption } from '../problem-options.js';
import { fmt, printJson, table, writeFileAtomic } from '../output.js';
import { createProgress, progressWanted } from '../progress.js';
import { renderReport } from '../report/html.js';
import {
  diffTo,
  runSweep,
  type ContenderSpec,
  type GanttChart,
  type PointGap,
  type SweepResult,
} from '../report/sweep.js';

// the two experiments of the project note: rising fluctuation, and rising communication delay at cv 0.2
const NOISE_LEVELS = [0, 0.1, 0.2, 0.3];
/** Episodes at cv 0.3 that get the clairvoyant oracle for the demo's gap column. */
const DEMO_ORACLE_EPISODES = 8;
const COMM_SCALES = [0.5, 1, 2, 4, 8];
const COMM_SWEEP_NOISE = 0.2;
const GANTT_NOISE = 0.2;
/**
 * What every scheduler of the demo is paired against, in the terminal table, results.json and report.html alike
 * (all read the differences runSweep computed). ZB-H1 is the best known hand-made schedule with one chunk per
 * device (V = 1) at the memory every scheduler here gets (P activations, 1F1B's budget), and zb-v the best known
 * with two chunks (V = 2) at that memory: a heuristic or a learned policy is worth something if it beats the best
 * known schedule of its placement at equal memory. 1F1B, first in the list, is not a baseline: every zero-bubble
 * schedule beats it by its bubble alone, so a difference to it says little about the scheduling.
 */
export const DEMO_BASELINES = ['zb-h1', 'zb-v'] as const;

export interface DemoOptions {
  out: string;
  episodes: number;
  stages: number;
  microBatches: number;
  model: string;
  /** A trained policy (checkpoint or run directory); default the bundled one for this problem, if any. */
  policy?: string;
}

type PolicyRef = { dir: string; label: string };

/**
 * The learned schedulers of the demo: the given policy, or the bundled V = 2 and V = 1 policies of this problem
 * (model, P, M), else the 6.2B P = 4 M = 16 ones, which then run a problem they were not trained on (observations
 * do not depend on P or M).
 */
export function demoPolicies(o: Pick<DemoOptions, 'stages' | 'microBatches' | 'model' | 'policy'>): PolicyRef[] {
  if (o.policy) return [{ dir: o.policy, label: 'ppo' }];
  const own = `h200-${o.model.toLowerCase()}-p${o.stages}-m${o.microBatches}`;
  const bundled = (v: 1 | 2) => BUNDLED_POLICIES.find((n) => n === `${own}-v${v}`);
  const ours = bundled(1) !== undefined && bundled(2) !== undefined;
  const pick = (v: 1 | 2): BundledPolicy => bundled(v) ?? (v === 1 ? 'h200-6.2b-p4-m16-v1' : 'h200-6.2b-p4-m16-v2');
  const suffix = ours ? '' : ' 6.2B P4 M16';
  return [
    { dir: bundledPolicyDir(pick(1)), label: `ppo (V=1${suffix})` },
    { dir: bundledPolicyDir(pick(2)), label: `ppo (V=2${suffix})` },
  ];
}

export function demoProblem(o: Pick<DemoOptions, 'stages' | 'microBatches' | 'model'>): Problem {
  const profiles = JSON.parse(readFileSync(H200_PROFILES_URL, 'utf8'));
  return problemFromProfile(findProfile(profiles, o.model, 1), {
    stages: o.stages,
    microBatches: o.microBatches,
    link: { bandwidthGBps: 50 },
  });
}

/**
 * The demo's schedulers, each built on whichever variant of the problem a sweep hands it, all at the same memory:
 * at most P activations per device (the budget of 1F1B and ZB-H1, which zb-v also holds with its half-size chunks).
 */
export function demoSpecs(problem: Problem, policies: PolicyRef[] = []): ContenderSpec[] {
  const limit = demoMemoryLimit(problem);
  return [
    // 1F1B and ZB-H1 peak at exactly the limit; it is set on them too so that their gap columns are measured
    // against the oracle at the same memory
    { name: '1f1b', make: (p) => staticContender('1f1b', '1f1b', withLimit(p, limit)) },
    { name: 'zb-h1', make: (p) => staticContender('zb-h1', 'zb-h1', withLimit(p, limit)) },
    { name: 'zb-auto', make: (p) => staticContender('zb-auto', 'zb-auto', withLimit(p, limit)) },
    { name: 'zb-v', make: (p) => staticContender('zb-v', 'zb-v', withLimit(asVProblem(p), limit)) },
    { name: 'robust', make: (p) => searchedContender('robust', withLimit(p, limit)) },
    { name: 'robust (V=2)', make: (p) => searchedContender('robust', withLimit(asVProblem(p), limit), 'robust (V=2)') },
    { name: 'greedy-zb', make: (p) => heuristicContender('greedy-zb', withLimit(p, limit)) },
    { name: 'greedy-ffirst', make: (p) => heuristicContender('greedy-ffirst', withLimit(p, limit)) },
    { name: 'greedy-cp', make: (p) => heuristicContender('greedy-cp', withLimit(p, limit)) },
    ...policies.map(({ dir, label }) => ({
      name: label,
      make: (p: Problem) => ppoContender(label, dir, withLimit(p, limit)),
    })),
  ];
}

/** The demo's common memory limit per device: P activations of one micro-batch (1F1B's and ZB-H1's peak). */
export function demoMemoryLimit(problem: Problem): number {
  return problem.stages * problem.memF[0]!;
}

export function demoContenders(problem: Problem): Contender[] {
  return demoSpecs(problem).map((s) => s.make(problem));
}

type ByLevel = Record<string, { mean: number; p50: number; p95: number; bubbleRate: number }>;

/** Mean, p50, p95 (nearest rank below) and bubble rate of one run, as results.json has them. */
function levelSummary(run: ContenderRun, stages: number): ByLevel[string] {
  const K = run.makespan.length;
  const sorted = Float64Array.from(run.makespan).sort();
  let bubble = 0;
  for (let e = 0; e < K; e++) bubble += 1 - run.busy[e]! / (stages * run.makespan[e]!);
  return {
    mean: run.makespan.reduce((a, b) => a + b, 0) / K,
    p50: sorted[Math.floor(0.5 * (K - 1))]!,
    p95: sorted[Math.floor(0.95 * (K - 1))]!,
    bubbleRate: bubble / K,
  };
}

export async function runDemo(o: DemoOptions, log: (line: string) => void, showProgress = false) {
  const problem = demoProblem(o);
  const specs = demoSpecs(problem, demoPolicies(o));
  const progress = createProgress({
    label: 'demo',
    total: specs.length * (NOISE_LEVELS.length + COMM_SCALES.length),
    enabled: showProgress,
  });
  const baselines = [...DEMO_BASELINES];
  const noiseSweep = await runSweep({
    base: problem,
    sweep: { factor: 'noise', values: NOISE_LEVELS },
    specs,
    baselines,
    episodes: o.episodes,
    ganttAt: NOISE_LEVELS.indexOf(GANTT_NOISE),
    onProgress: (name) => progress.tick(`noise sweep: ${name}`),
  });
  const commSweep = await runSweep({
    base: withNoise(problem, COMM_SWEEP_NOISE),
    sweep: { factor: 'comm', values: COMM_SCALES },
    specs,
    baselines,
    episodes: o.episodes,
    onProgress: (name) => progress.tick(`comm sweep: ${name}`),
  });
  progress.done();

  // how far from optimal at cv 0.3: bound on every episode, oracle on the first few, each on its scheduler's problem
  const worst = NOISE_LEVELS.length - 1;
  const oracleEpisodes = Math.min(DEMO_ORACLE_EPISODES, o.episodes);
  const oracleProgress = createProgress({ label: 'oracle', total: 2 * oracleEpisodes, enabled: showProgress });
  const cache = new RoomCache({ oracleEpisodes, evaluations: 20000 }, () => oracleProgress.tick());
  const gapsAtCv03: Record<string, PointGap> = {};
  for (const { name } of specs)
    gapsAtCv03[name] = await cache.gap(noiseSweep.problems.get(name)![worst]!, noiseSweep.runs.get(name)![worst]!);
  oracleProgress.done();

  const results: Record<string, { peakMemoryBytes: number; memLimitBytes: number | null; byNoise: ByLevel }> = {};
  const byCommScale: Record<string, ByLevel> = {};
  for (const { name } of specs) {
    const runs = noiseSweep.runs.get(name)!;
    const byNoise: ByLevel = {};
    NOISE_LEVELS.forEach((cv, i) => (byNoise[String(cv)] = levelSummary(runs[i]!, problem.stages)));
    const memLimitBytes = noiseSweep.result.schedulers.find((sch) => sch.name === name)!.memLimit;
    results[name] = { peakMemoryBytes: Math.max(...runs[runs.length - 1]!.peakMemory), memLimitBytes, byNoise };
    byCommScale[name] = {};
    COMM_SCALES.forEach(
      (k, i) => (byCommScale[name]![String(k)] = levelSummary(commSweep.runs.get(name)![i]!, problem.stages)),
    );
  }
  for (const g of noiseSweep.gantts) {
    const file = g.name.replace(/[^a-z0-9-]+/gi, '_').replace(/_+$/, '');
    const title =
      `${g.name}: ${problem.stages} devices, ${problem.microBatches} micro-batches, ` +
      `noise cv ${GANTT_NOISE}, episode 0 (times in microseconds)`;
    writeFileAtomic(join(o.out, `gantt-${file}.svg`), timelineToSvg(g.problem, g.timeline, { title, timeUnit: 'µs' }));
    writeFileAtomic(join(o.out, `trace-${file}.json`), JSON.stringify(timelineToChromeTrace(g.problem, g.timeline)));
  }
  // the paired differences at cv 0.3 as the sweep computed them: the numbers of the report's charts and tables
  const atWorst = (b: string) => {
    const out: Record<string, PairedDifference> = {};
    for (const sch of noiseSweep.result.schedulers) {
      const d = diffTo(noiseSweep.result, sch.points[worst]!, b);
      if (d) out[sch.name] = d;
    }
    return out;
  };
  const diffsAtWorst = DEMO_BASELINES.map(atWorst);
  const reportPath = join(o.out, 'report.html');
  const summary = {
    problem: {
      profile: `${o.model} at micro-batch size 1 (H200, bundled)`,
      stages: problem.stages,
      microBatches: problem.microBatches,
      costUs: { F: problem.costF[0], B: problem.costB[0], W: problem.costW[0], comm: problem.comm[0] },
      memFBytes: problem.memF[0],
      memLimitBytes: demoMemoryLimit(problem),
    },
    episodes: o.episodes,
    noiseLevels: NOISE_LEVELS,
    results,
    pairedDifferenceToZbH1AtCv03: diffsAtWorst[DEMO_BASELINES.indexOf('zb-h1')]!,
    pairedDifferenceToZbVAtCv03: diffsAtWorst[DEMO_BASELINES.indexOf('zb-v')]!,
    gapsAtCv03,
    commSweep: { noise: COMM_SWEEP_NOISE, scales: COMM_SCALES, results: byCommScale },
    // beside results.json
    report: 'report.html',
  };
  writeFileAtomic(join(o.out, 'results.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileAtomic(reportPath, demoReport(o, problem, noiseSweep.result, commSweep.result, noiseSweep.gantts));

  const ms = (us: number) => (us / 1000).toFixed(2);
  log(
    `Problem: ${o.model} stages from the H200 profile, P=${problem.stages}, M=${problem.microBatches}, ` +
      `F ${fmt(problem.costF[0]!)} us, B ${fmt(problem.costB[0]!)} us, W ${fmt(problem.costW[0]!)} us, ` +
      `comm ${fmt(problem.comm[0]!)} us (50 GB/s); ${o.episodes} episodes per noise level, common random numbers.`,
  );
  log(
    `Equal memory: every scheduler holds at most ${(demoMemoryLimit(problem) / 2 ** 30).toFixed(2)} GiB of ` +
      `activations per device (P = ${problem.stages} micro-batches' worth, the budget of 1F1B and ZB-H1; ` +
      `zb-v and ppo (V=2) run two half-size chunks per device).`,
  );
  const ci = (d: PairedDifference | undefined) =>
    d ? `${ms(d.mean)} [${ms(d.ci95[0])}, ${ms(d.ci95[1])}]` : '(baseline)';
  const rows = specs.map(({ name }) => {
    const r = results[name]!;
    return [
      name,
      (r.peakMemoryBytes / 2 ** 30).toFixed(2),
      ...NOISE_LEVELS.map((cv) => ms(r.byNoise[String(cv)]!.mean)),
      `${(100 * r.byNoise['0']!.bubbleRate).toFixed(1)}%`,
      ...diffsAtWorst.map((d) => ci(d[name])),
      pct(gapsAtCv03[name]!.toLowerBound),
      pct(gapsAtCv03[name]!.toOracle),
    ];
  });
  log(
    table(
      [
        'scheduler',
        'peak GiB',
        ...NOISE_LEVELS.map((cv) => `ms @cv ${cv}`),
        'bubble @0',
        ...DEMO_BASELINES.map((b, i) => `vs ${b} @0.3${i === 0 ? ' (ms, 95% CI)' : ''}`),
        'gap to bound @0.3',
        `gap to oracle @0.3 (${oracleEpisodes} ep)`,
      ],
      rows,
    ),
  );
  log(
    'Gaps: mean makespan over the mean lower bound (every episode) or the clairvoyant oracle (the first episodes), ' +
      'minus 1, on the problem each scheduler runs (V=1, or the model in two chunks for V=2) at the same memory limit.',
  );
  log(`Rising communication time at noise cv ${COMM_SWEEP_NOISE} (mean makespan, ms):`);
  const commRows = specs.map(({ name }) => [name, ...COMM_SCALES.map((k) => ms(byCommScale[name]![String(k)]!.mean))]);
  log(table(['scheduler', ...COMM_SCALES.map((k) => `comm x${k}`)], commRows));
  log(
    `Gantt charts (gantt-*.svg), Chrome traces (trace-*.json, open in https://ui.perfetto.dev) ` +
      `and results.json are in ${escapeControl(resolve(o.out))}`,
  );
  log(`Report (open in a browser): ${escapeControl(resolve(reportPath))}`);
  return summary;
}

function demoReport(
  o: DemoOptions,
  problem: Problem,
  noise: SweepResult,
  comm: SweepResult,
  gantts: GanttChart[],
): string {
  const GiB = 2 ** 30;
  const oneP = demoMemoryLimit(problem);
  return renderReport({
    title: 'PPRL demo: pipeline schedules under fluctuation and rising communication delay',
    intro: [
      `The two experiments of the project note, on ${o.model} stages measured on an H200 (bundled profile): ` +
        `known schedules (1F1B, zero-bubble H1, H2, automatic and V) ` +
        `and dynamic heuristics that decide as the episode unfolds.`,
      `Every scheduler meets the same random draws in episode e (common random numbers), ` +
        `so the differences to the baselines ${noise.baselines.join(' and ')} are paired and their confidence ` +
        `intervals are narrow (the terminal table and results.json give the same numbers at cv 0.3).`,
      'The baselines are the best known hand-made schedules at the memory every scheduler gets: ' +
        'ZB-H1 with one chunk per device, zb-v with two. 1F1B is beaten by every zero-bubble schedule through its ' +
        'bubble alone, so differences to it would say little.',
      `Equal memory: every scheduler holds at most P activations per device (${(oneP / GiB).toFixed(2)} GiB), ` +
        `the budget of 1F1B and ZB-H1. zb-v and ppo (V=2) run the same model as two half-size chunks per ` +
        `device in V placement.`,
      'ppo (V=1) and ppo (V=2) are policies learned with PPO (bundled checkpoints of @pprl/rl, ' +
        'cloned from ZB-H1 and zb-v, then fine-tuned under noise, at cv 0.3 or at cv 0 and 0.3 together, ' +
        'on another noise seed than these episodes), run greedily: they decide which op class each idle device runs ' +
        'next, like the heuristics.',
    ],
    problem: [
      ['model stage (H200 profile)', `${o.model}, micro-batch size 1`],
      ['devices P, micro-batches M', `${problem.stages}, ${problem.microBatches}`],
      [
        'compute F / B / W per stage',
        `${(problem.costF[0]! / 1000).toFixed(3)} / ${(problem.costB[0]! / 1000).toFixed(3)} / ` +
          `${(problem.costW[0]! / 1000).toFixed(3)} ms`,
      ],
      ['one transfer (50 GB/s link)', `${(problem.comm[0]! / 1000).toFixed(3)} ms`],
      [
        'activation memory per micro-batch and stage',
        `${(problem.memF[0]! / GiB).toFixed(3)} GiB; limit for every scheduler ${(oneP / GiB).toFixed(2)} ` +
          `GiB (P activations)`,
      ],
      [
        'noise',
        `normal, relative standard deviation cv on every compute and transfer time (floor 0.05), ` +
          `seed ${problem.noise.seed}`,
      ],
      ['episodes per point', String(o.episodes)],
    ],
    units: { time: 'us', memory: 'bytes' },
    experiments: [
      {
        id: 'noise',
        title: 'Experiment 1: rising fluctuation',
        question:
          'Does scheduling optimisation help more as the fluctuation of compute and communication times grows ' +
          '(noise cv 0 to 0.3)?',
        result: noise,
      },
      {
        id: 'comm',
        title: 'Experiment 2: rising communication delay',
        question:
          `What does a rising communication delay (x0.5 to x8 the 50 GB/s transfer time, ` +
          `at noise cv ${COMM_SWEEP_NOISE}) do to the throughput of each scheduler?`,
        result: comm,
      },
    ],
    gantt: {
      caption:
        `Episode 0 at noise cv ${GANTT_NOISE} with the base communication time, ` +
        `the same draw for every scheduler.`,
      charts: gantts,
    },
    // each scheduler's own limit comes with its results (SchedulerResult.memLimit); this is the one demoSpecs sets
    memoryLimit: oneP,
    footer:
      'Generated by pprl demo; the numbers are also in results.json, ' +
      'one Gantt chart per scheduler in gantt-*.svg and a Chrome trace in trace-*.json.',
  });
}

export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'compare the known schedules, heuristics and learned policies at equal memory on a realistic H200 problem ' +
        'under rising noise and communication delay; writes report.html',
    )
    .option('--out <dir>', 'where to write report.html, charts, traces and results.json', 'pprl-report')
    .option('--episodes <K>', 'episodes per noise level and per comm scale', '500')
    .option('--stages <P>', 'pipeline devices', '4')
    .option('--micro-batches <M>', 'micro-batches', '16')
    .option('--model <name>', 'profile entry of the bundled H200 profile (1.5B, 6.2B, 14.6B)', '6.2B')
    .option(
      '--policy <dir>',
      'a trained PPO policy to include (default: the bundled V=1 and V=2 policies of this problem, ' +
        'else the 6.2B P=4 M=16 ones)',
    )
    .option('--json', 'print the results as JSON')
    .addHelpText('after', '\nExample:\n  pprl demo --out report --episodes 1000')
    .action(
      async (opts: {
        out: string;
        episodes: string;
        stages: string;
        microBatches: string;
        model: string;
        policy?: string;
        json?: boolean;
      }) => {
        const episodes = numberOption('--episodes', opts.episodes)!;
        if (!Number.isInteger(episodes) || episodes < 2 || episodes > 1_000_000)
          throw new ConfigError('--episodes', `must be an integer in [2, 1000000] (got ${quoteInput(opts.episodes)})`);
        const stages = numberOption('--stages', opts.stages)!;
        const microBatches = numberOption('--micro-batches', opts.microBatches)!;
        // an output directory that cannot be made fails now, not after the half minute of work
        missingDirectories(opts.out);
        const log = opts.json ? () => {} : (l: string) => console.log(l);
        const summary = await runDemo(
          {
            out: opts.out,
            episodes,
            stages,
            microBatches,
            model: opts.model,
            ...(opts.policy ? { policy: opts.policy } : {}),
          },
          log,
          progressWanted(opts.json),
        );
        if (opts.json) printJson(summary);
      },
    );
}
