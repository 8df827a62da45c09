// pprl demo: the main job on built-in defaults. A realistic problem from the bundled H200 profile, the known
// schedules and the dynamic heuristics at noise cv 0, 0.1, 0.2, 0.3 and at x0.5 to x8 the communication time
// (cv 0.2), on common random numbers: tables, an HTML report (report.html), and Gantt charts (SVG) and Chrome
// traces (open in Perfetto) of one episode per scheduler.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { ConfigError, H200_PROFILES_URL, findProfile, pairedDifference, problemFromProfile, withLimit, withNoise, type Problem } from '@pprl/core-wasm';
import { timelineToChromeTrace, timelineToSvg } from '@pprl/schedulers';
import { bundledPolicyDir, BUNDLED_POLICIES } from '@pprl/rl';
import { asVProblem, heuristicContender, ppoContender, staticContender, type Contender, type ContenderRun } from '../contenders.js';
import { numberOption } from '../problem-options.js';
import { fmt, printJson, table, writeFileAtomic } from '../output.js';
import { createProgress, progressWanted } from '../progress.js';
import { renderReport } from '../report/html.js';
import { runSweep, type ContenderSpec, type GanttChart, type SweepResult } from '../report/sweep.js';

// the two experiments of the project note: rising fluctuation, and rising communication delay at cv 0.2
const NOISE_LEVELS = [0, 0.1, 0.2, 0.3];
const COMM_SCALES = [0.5, 1, 2, 4, 8];
const COMM_SWEEP_NOISE = 0.2;
const GANTT_NOISE = 0.2;

export interface DemoOptions {
  out: string;
  episodes: number;
  stages: number;
  microBatches: number;
  model: string;
  /** A trained policy (checkpoint or run directory); default the bundled one for this problem, if any. */
  policy?: string;
}

/**
 * The bundled policy trained on this problem (model, P, M), or the 6.2B P = 4 M = 16 one, which then runs a problem
 * it was not trained on (observations do not depend on P or M).
 */
export function demoPolicy(o: Pick<DemoOptions, 'stages' | 'microBatches' | 'model' | 'policy'>): { dir: string; label: string } {
  if (o.policy) return { dir: o.policy, label: 'ppo' };
  const own = `h200-${o.model.toLowerCase()}-p${o.stages}-m${o.microBatches}`;
  const name = BUNDLED_POLICIES.find((n) => n === own);
  return name ? { dir: bundledPolicyDir(name), label: 'ppo' } : { dir: bundledPolicyDir('h200-6.2b-p4-m16'), label: 'ppo (6.2B P4 M16)' };
}

export function demoProblem(o: Pick<DemoOptions, 'stages' | 'microBatches' | 'model'>): Problem {
  const profiles = JSON.parse(readFileSync(H200_PROFILES_URL, 'utf8'));
  return problemFromProfile(findProfile(profiles, o.model, 1), { stages: o.stages, microBatches: o.microBatches, link: { bandwidthGBps: 50 } });
}

/** The demo's schedulers, each built on whichever variant of the problem a sweep hands it. */
export function demoSpecs(problem: Problem, policy?: { dir: string; label: string }): ContenderSpec[] {
  const memF = problem.memF[0]!;
  const oneP = problem.stages * memF;
  const twoP = 2 * oneP;
  const learned: ContenderSpec[] = policy ? [{ name: policy.label, make: (p) => ppoContender(policy.label, policy.dir, withLimit(p, twoP)) }] : [];
  return [
    { name: '1f1b', make: (p) => staticContender('1f1b', '1f1b', p) },
    { name: 'zb-h1', make: (p) => staticContender('zb-h1', 'zb-h1', p) },
    { name: 'zb-h2', make: (p) => staticContender('zb-h2', 'zb-h2', p) },
    { name: 'zb-auto (1p)', make: (p) => staticContender('zb-auto (1p)', 'zb-auto', withLimit(p, oneP)) },
    { name: 'zb-auto (2p)', make: (p) => staticContender('zb-auto (2p)', 'zb-auto', withLimit(p, twoP)) },
    { name: 'zb-v', make: (p) => staticContender('zb-v', 'zb-v', withLimit(asVProblem(p), oneP)) },
    { name: 'greedy-zb', make: (p) => heuristicContender('greedy-zb', withLimit(p, twoP)) },
    { name: 'greedy-ffirst', make: (p) => heuristicContender('greedy-ffirst', withLimit(p, twoP)) },
    { name: 'greedy-cp', make: (p) => heuristicContender('greedy-cp', withLimit(p, twoP)) },
    ...learned,
  ];
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
  const specs = demoSpecs(problem, demoPolicy(o));
  const progress = createProgress({ label: 'demo', total: specs.length * (NOISE_LEVELS.length + COMM_SCALES.length), enabled: showProgress });
  const baseline = 'zb-h1';
  const noiseSweep = await runSweep({
    base: problem,
    sweep: { factor: 'noise', values: NOISE_LEVELS },
    specs,
    episodes: o.episodes,
    ganttAt: NOISE_LEVELS.indexOf(GANTT_NOISE),
    onProgress: (name) => progress.tick(`noise sweep: ${name}`),
  });
  const commSweep = await runSweep({
    base: withNoise(problem, COMM_SWEEP_NOISE),
    sweep: { factor: 'comm', values: COMM_SCALES },
    specs,
    episodes: o.episodes,
    onProgress: (name) => progress.tick(`comm sweep: ${name}`),
  });
  progress.done();

  const results: Record<string, { peakMemoryBytes: number; byNoise: ByLevel }> = {};
  const byCommScale: Record<string, ByLevel> = {};
  for (const { name } of specs) {
    const runs = noiseSweep.runs.get(name)!;
    const byNoise: ByLevel = {};
    NOISE_LEVELS.forEach((cv, i) => (byNoise[String(cv)] = levelSummary(runs[i]!, problem.stages)));
    results[name] = { peakMemoryBytes: Math.max(...runs[runs.length - 1]!.peakMemory), byNoise };
    byCommScale[name] = {};
    COMM_SCALES.forEach((k, i) => (byCommScale[name]![String(k)] = levelSummary(commSweep.runs.get(name)![i]!, problem.stages)));
  }
  for (const g of noiseSweep.gantts) {
    const file = g.name.replace(/[^a-z0-9-]+/gi, '_').replace(/_+$/, '');
    const title = `${g.name}: ${problem.stages} devices, ${problem.microBatches} micro-batches, noise cv ${GANTT_NOISE}, episode 0 (times in microseconds)`;
    writeFileAtomic(join(o.out, `gantt-${file}.svg`), timelineToSvg(g.problem, g.timeline, { title }));
    writeFileAtomic(join(o.out, `trace-${file}.json`), JSON.stringify(timelineToChromeTrace(g.problem, g.timeline)));
  }
  const worst = NOISE_LEVELS.length - 1;
  const base = noiseSweep.runs.get(baseline)![worst]!.makespan;
  const diffs: Record<string, { mean: number; ci95: [number, number] }> = {};
  for (const { name } of specs) if (name !== baseline) diffs[name] = pairedDifference(noiseSweep.runs.get(name)![worst]!.makespan, base);
  const reportPath = join(o.out, 'report.html');
  const summary = {
    problem: {
      profile: `${o.model} at micro-batch size 1 (H200, bundled)`,
      stages: problem.stages,
      microBatches: problem.microBatches,
      costUs: { F: problem.costF[0], B: problem.costB[0], W: problem.costW[0], comm: problem.comm[0] },
      memFBytes: problem.memF[0],
    },
    episodes: o.episodes,
    noiseLevels: NOISE_LEVELS,
    results,
    pairedDifferenceToZbH1AtCv03: diffs,
    commSweep: { noise: COMM_SWEEP_NOISE, scales: COMM_SCALES, results: byCommScale },
    // beside results.json
    report: 'report.html',
  };
  writeFileAtomic(join(o.out, 'results.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileAtomic(reportPath, demoReport(o, problem, noiseSweep.result, commSweep.result, noiseSweep.gantts));

  const ms = (us: number) => (us / 1000).toFixed(2);
  log(
    `Problem: ${o.model} stages from the H200 profile, P=${problem.stages}, M=${problem.microBatches}, F ${fmt(problem.costF[0]!)} us, B ${fmt(problem.costB[0]!)} us, W ${fmt(problem.costW[0]!)} us, comm ${fmt(problem.comm[0]!)} us (50 GB/s); ${o.episodes} episodes per noise level, common random numbers.`,
  );
  const rows = specs.map(({ name }) => {
    const r = results[name]!;
    const d = diffs[name];
    return [
      name,
      (r.peakMemoryBytes / 2 ** 30).toFixed(2),
      ...NOISE_LEVELS.map((cv) => ms(r.byNoise[String(cv)]!.mean)),
      `${(100 * r.byNoise['0']!.bubbleRate).toFixed(1)}%`,
      d ? `${ms(d.mean)} [${ms(d.ci95[0])}, ${ms(d.ci95[1])}]` : '(baseline)',
    ];
  });
  log(table(['scheduler', 'peak GiB', ...NOISE_LEVELS.map((cv) => `ms @cv ${cv}`), 'bubble @0', 'vs zb-h1 @0.3 (ms, 95% CI)'], rows));
  log(`Rising communication time at noise cv ${COMM_SWEEP_NOISE} (mean makespan, ms):`);
  const commRows = specs.map(({ name }) => [name, ...COMM_SCALES.map((k) => ms(byCommScale[name]![String(k)]!.mean))]);
  log(table(['scheduler', ...COMM_SCALES.map((k) => `comm x${k}`)], commRows));
  log(`Gantt charts (gantt-*.svg), Chrome traces (trace-*.json, open in https://ui.perfetto.dev) and results.json are in ${resolve(o.out)}`);
  log(`Report (open in a browser): ${resolve(reportPath)}`);
  return summary;
}

function demoReport(o: DemoOptions, problem: Problem, noise: SweepResult, comm: SweepResult, gantts: GanttChart[]): string {
  const GiB = 2 ** 30;
  const oneP = problem.stages * problem.memF[0]!;
  return renderReport({
    title: 'PPRL demo: pipeline schedules under fluctuation and rising communication delay',
    intro: [
      `The two experiments of the project note, on ${o.model} stages measured on an H200 (bundled profile): known schedules (1F1B, zero-bubble H1, H2, automatic and V) and dynamic heuristics that decide as the episode unfolds.`,
      `Every scheduler meets the same random draws in episode e (common random numbers), so the differences to ${noise.baseline} are paired and their confidence intervals are narrow.`,
      'zb-auto (1p) may hold P activations per device like 1F1B, zb-auto (2p), the greedy heuristics and the PPO policy twice that; zb-v runs the same model as two half-size chunks per device.',
      'ppo is a policy learned with PPO (packages/rl; bundled checkpoint, trained at noise cv 0.3 on another noise seed than these episodes), run greedily: it decides which op class each idle device runs next, like the heuristics.',
    ],
    problem: [
      ['model stage (H200 profile)', `${o.model}, micro-batch size 1`],
      ['devices P, micro-batches M', `${problem.stages}, ${problem.microBatches}`],
      ['compute F / B / W per stage', `${(problem.costF[0]! / 1000).toFixed(3)} / ${(problem.costB[0]! / 1000).toFixed(3)} / ${(problem.costW[0]! / 1000).toFixed(3)} ms`],
      ['one transfer (50 GB/s link)', `${(problem.comm[0]! / 1000).toFixed(3)} ms`],
      ['activation memory per micro-batch and stage', `${(problem.memF[0]! / GiB).toFixed(3)} GiB; 1p limit ${(oneP / GiB).toFixed(2)} GiB`],
      ['noise', `normal, relative standard deviation cv on every compute and transfer time (floor 0.05), seed ${problem.noise.seed}`],
      ['episodes per point', String(o.episodes)],
    ],
    units: { time: 'us', memory: 'bytes' },
    experiments: [
      {
        id: 'noise',
        title: 'Experiment 1: rising fluctuation',
        question: 'Does scheduling optimisation help more as the fluctuation of compute and communication times grows (noise cv 0 to 0.3)?',
        result: noise,
      },
      {
        id: 'comm',
        title: 'Experiment 2: rising communication delay',
        question: `What does a rising communication delay (x0.5 to x8 the 50 GB/s transfer time, at noise cv ${COMM_SWEEP_NOISE}) do to the throughput of each scheduler?`,
        result: comm,
      },
    ],
    gantt: { caption: `Episode 0 at noise cv ${GANTT_NOISE} with the base communication time, the same draw for every scheduler.`, charts: gantts },
    footer: 'Generated by pprl demo; the numbers are also in results.json, one Gantt chart per scheduler in gantt-*.svg and a Chrome trace in trace-*.json.',
  });
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('compare the known schedules and heuristics on a realistic H200 problem under rising noise and communication delay; writes report.html')
    .option('--out <dir>', 'where to write report.html, charts, traces and results.json', 'pprl-report')
    .option('--episodes <K>', 'episodes per noise level and per comm scale', '500')
    .option('--stages <P>', 'pipeline devices', '4')
    .option('--micro-batches <M>', 'micro-batches', '16')
    .option('--model <name>', 'profile entry of the bundled H200 profile (1.5B, 6.2B, 14.6B)', '6.2B')
    .option('--policy <dir>', 'a trained PPO policy to include (default: the bundled policy of this problem, else the 6.2B P=4 M=16 one)')
    .option('--json', 'print the results as JSON')
    .addHelpText('after', '\nExample:\n  pprl demo --out report --episodes 1000')
    .action(async (opts: { out: string; episodes: string; stages: string; microBatches: string; model: string; policy?: string; json?: boolean }) => {
      const episodes = numberOption('--episodes', opts.episodes)!;
      if (!Number.isInteger(episodes) || episodes < 2 || episodes > 1_000_000) throw new ConfigError('--episodes', `must be an integer in [2, 1000000] (got ${opts.episodes})`);
      const stages = numberOption('--stages', opts.stages)!;
      const microBatches = numberOption('--micro-batches', opts.microBatches)!;
      const log = opts.json ? () => {} : (l: string) => console.log(l);
      const summary = await runDemo({ out: opts.out, episodes, stages, microBatches, model: opts.model, ...(opts.policy ? { policy: opts.policy } : {}) }, log, progressWanted(opts.json));
      if (opts.json) printJson(summary);
    });
}
