// pprl demo: the main job on built-in defaults. A realistic problem from the bundled H200 profile, the known
// schedules and the dynamic heuristics at noise cv 0, 0.1, 0.2, 0.3 on common random numbers, a table, and
// Gantt charts (SVG) and Chrome traces (open in Perfetto) of one episode per scheduler.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { ConfigError, H200_PROFILES_URL, findProfile, pairedDifference, problemFromProfile, type Problem } from '@pprl/core-wasm';
import { timelineToChromeTrace, timelineToSvg } from '@pprl/schedulers';
import { asVProblem, heuristicContender, staticContender, withLimit, type Contender } from '../contenders.js';
import { numberOption } from '../problem-options.js';
import { fmt, printJson, table, writeFileAtomic } from '../output.js';

const NOISE_LEVELS = [0, 0.1, 0.2, 0.3];

export interface DemoOptions {
  out: string;
  episodes: number;
  stages: number;
  microBatches: number;
  model: string;
}

export function demoProblem(o: Pick<DemoOptions, 'stages' | 'microBatches' | 'model'>): Problem {
  const profiles = JSON.parse(readFileSync(H200_PROFILES_URL, 'utf8'));
  return problemFromProfile(findProfile(profiles, o.model, 1), { stages: o.stages, microBatches: o.microBatches, link: { bandwidthGBps: 50 } });
}

export function demoContenders(problem: Problem): Contender[] {
  const memF = problem.memF[0]!;
  const oneP = problem.stages * memF;
  const twoP = 2 * oneP;
  return [
    staticContender('1f1b', '1f1b', problem),
    staticContender('zb-h1', 'zb-h1', problem),
    staticContender('zb-h2', 'zb-h2', problem),
    staticContender('zb-auto (1p)', 'zb-auto', withLimit(problem, oneP)),
    staticContender('zb-auto (2p)', 'zb-auto', withLimit(problem, twoP)),
    staticContender('zb-v', 'zb-v', withLimit(asVProblem(problem), oneP)),
    heuristicContender('greedy-zb', withLimit(problem, twoP)),
    heuristicContender('greedy-ffirst', withLimit(problem, twoP)),
    heuristicContender('greedy-cp', withLimit(problem, twoP)),
  ];
}

export async function runDemo(o: DemoOptions, log: (line: string) => void) {
  const problem = demoProblem(o);
  const contenders = demoContenders(problem);
  const baseline = 'zb-h1';
  const results: Record<string, { peakMemoryBytes: number; byNoise: Record<string, { mean: number; p50: number; p95: number; bubbleRate: number }> }> = {};
  const makespans = new Map<string, Float64Array>();
  for (const c of contenders) {
    results[c.name] = { peakMemoryBytes: 0, byNoise: {} };
    for (const cv of NOISE_LEVELS) {
      const run = await c.run(cv, o.episodes);
      const sorted = Float64Array.from(run.makespan).sort();
      const mean = run.makespan.reduce((a, b) => a + b, 0) / o.episodes;
      let bubble = 0;
      for (let e = 0; e < o.episodes; e++) bubble += 1 - run.busy[e]! / (problem.stages * run.makespan[e]!);
      results[c.name]!.byNoise[String(cv)] = {
        mean,
        p50: sorted[Math.floor(0.5 * (o.episodes - 1))]!,
        p95: sorted[Math.floor(0.95 * (o.episodes - 1))]!,
        bubbleRate: bubble / o.episodes,
      };
      results[c.name]!.peakMemoryBytes = Math.max(...run.peakMemory);
      if (cv === 0.3) makespans.set(c.name, run.makespan);
    }
    const tl = await c.timeline(0.2, 0);
    const file = c.name.replace(/[^a-z0-9-]+/gi, '_').replace(/_+$/, '');
    const title = `${c.name}: ${problem.stages} devices, ${problem.microBatches} micro-batches, noise cv 0.2, episode 0 (times in microseconds)`;
    writeFileAtomic(join(o.out, `gantt-${file}.svg`), timelineToSvg(c.problem, tl, { title }));
    writeFileAtomic(join(o.out, `trace-${file}.json`), JSON.stringify(timelineToChromeTrace(c.problem, tl)));
  }
  const base = makespans.get(baseline)!;
  const diffs: Record<string, { mean: number; ci95: [number, number] }> = {};
  for (const [name, m] of makespans) if (name !== baseline) diffs[name] = pairedDifference(m, base);
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
  };
  writeFileAtomic(join(o.out, 'results.json'), `${JSON.stringify(summary, null, 2)}\n`);
  log(
    `Problem: ${o.model} stages from the H200 profile, P=${problem.stages}, M=${problem.microBatches}, F ${fmt(problem.costF[0]!)} us, B ${fmt(problem.costB[0]!)} us, W ${fmt(problem.costW[0]!)} us, comm ${fmt(problem.comm[0]!)} us (50 GB/s); ${o.episodes} episodes per noise level, common random numbers.`,
  );
  const rows = contenders.map((c) => {
    const r = results[c.name]!;
    const d = diffs[c.name];
    return [
      c.name,
      (r.peakMemoryBytes / 2 ** 30).toFixed(2),
      ...NOISE_LEVELS.map((cv) => (r.byNoise[String(cv)]!.mean / 1000).toFixed(2)),
      `${(100 * r.byNoise['0']!.bubbleRate).toFixed(1)}%`,
      d ? `${(d.mean / 1000).toFixed(2)} [${(d.ci95[0] / 1000).toFixed(2)}, ${(d.ci95[1] / 1000).toFixed(2)}]` : '(baseline)',
    ];
  });
  log(table(['scheduler', 'peak GiB', ...NOISE_LEVELS.map((cv) => `ms @cv ${cv}`), 'bubble @0', 'vs zb-h1 @0.3 (ms, 95% CI)'], rows));
  log(`Gantt charts (gantt-*.svg), Chrome traces (trace-*.json, open in https://ui.perfetto.dev) and results.json are in ${resolve(o.out)}`);
  return summary;
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('compare the known schedules and heuristics on a realistic H200 problem under rising noise')
    .option('--out <dir>', 'where to write charts, traces and results.json', 'pprl-report')
    .option('--episodes <K>', 'episodes per noise level', '500')
    .option('--stages <P>', 'pipeline devices', '4')
    .option('--micro-batches <M>', 'micro-batches', '16')
    .option('--model <name>', 'profile entry of the bundled H200 profile (1.5B, 6.2B, 14.6B)', '6.2B')
    .option('--json', 'print the results as JSON')
    .addHelpText('after', '\nExample:\n  pprl demo --out report --episodes 1000')
    .action(async (opts: { out: string; episodes: string; stages: string; microBatches: string; model: string; json?: boolean }) => {
      const episodes = numberOption('--episodes', opts.episodes)!;
      if (!Number.isInteger(episodes) || episodes < 2 || episodes > 1_000_000) throw new ConfigError('--episodes', `must be an integer in [2, 1000000] (got ${opts.episodes})`);
      const stages = numberOption('--stages', opts.stages)!;
      const microBatches = numberOption('--micro-batches', opts.microBatches)!;
      const summary = await runDemo({ out: opts.out, episodes, stages, microBatches, model: opts.model }, opts.json ? () => {} : (l) => console.log(l));
      if (opts.json) printJson(summary);
    });
}
