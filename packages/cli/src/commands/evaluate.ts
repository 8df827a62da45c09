// pprl evaluate: a trained policy against every static schedule and heuristic on common random numbers
// (DESIGN.md section 5 for the JSON).
import { Command } from 'commander';
import { ConfigError, resolveProblem, UserError, type BuiltinPolicy, type Problem } from '@pprl/core-wasm';
import { evaluatePolicy, loadPolicy, type Baseline, type EvaluationReport } from '@pprl/rl';
import { HEURISTICS, SCHEDULES, findSchedule } from '@pprl/schedulers';
import { contenderNames, problemForSchedule } from '../contenders.js';
import { fmt, printJson, table } from '../output.js';
import { addProblemOptions, numberOption, problemFromOptions, type ProblemOptions } from '../problem-options.js';
import { episodesOption } from './simulate.js';

interface EvaluateOptions extends ProblemOptions {
  policy?: string;
  episodes?: string;
  schedulers?: string;
  json?: boolean;
}

/** Options that describe the problem itself (the noise and seed flags only change the noise of the policy's own problem). */
const PROBLEM_FLAGS: (keyof ProblemOptions)[] = ['stages', 'microBatches', 'chunks', 'placement', 'costF', 'costB', 'costW', 'comm', 'memF', 'memB', 'memW', 'memLimit', 'profile', 'model', 'microBatchSize', 'bandwidth', 'latency'];

/** The baselines of a comma list of names (default: every static schedule buildable here, then every heuristic). */
export function baselinesFor(names: string[] | undefined, problem: Problem): { baselines: Record<string, Baseline>; skipped: string[] } {
  const all = names ?? contenderNames();
  const baselines: Record<string, Baseline> = {};
  const skipped: string[] = [];
  for (const name of all) {
    if (HEURISTICS.some((h) => h.name === name)) {
      baselines[name] = name as BuiltinPolicy;
      continue;
    }
    const info = SCHEDULES.find((s) => s.name === name);
    if (!info) throw new ConfigError('--schedulers', `unknown scheduler "${name}"; valid names: ${contenderNames().join(', ')}`);
    try {
      const own = problemForSchedule(info, problem);
      baselines[name] = { schedule: findSchedule(name).build(own), problem: own };
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      // a schedule that cannot be built for this problem is named, not fatal, when the user did not ask for it
      if (names) throw new ConfigError('--schedulers', `${name}: ${e.message}`);
      skipped.push(name);
    }
  }
  return { baselines, skipped };
}

export function evaluateCommand(): Command {
  const cmd = new Command('evaluate')
    .description('evaluate a trained policy (greedy) against static schedules and heuristics, paired on common random numbers')
    .requiredOption('--policy <dir>', 'a checkpoint directory, or a training run directory (its latest checkpoint)')
    .option('--episodes <K>', 'episodes (default 1000)')
    .option('--schedulers <names>', 'comma-separated baselines (default: every schedule that can be built, then every heuristic)')
    .option('--json', 'print one JSON object');
  addProblemOptions(cmd);
  return cmd
    .addHelpText(
      'after',
      "\nWithout problem options the policy's own training problem is used (with --noise and --seed applied).\nEpisodes are 0..K-1 at the given noise seed (default 0): the same episodes `pprl compare` runs; train on another noise seed to keep them held out.\n\nExamples:\n  pprl evaluate --policy packages/rl/checkpoints/h200-6.2b-p4-m16 --noise 0.3 --episodes 2000\n  pprl evaluate --policy runs/p4 --stages 8 --micro-batches 32 --noise 0.2 --schedulers zb-h1,zb-auto,greedy-zb --json",
    )
    .action(async (opts: EvaluateOptions) => {
      const episodes = episodesOption(opts.episodes, 1000);
      if (episodes < 2) throw new ConfigError('--episodes', 'must be at least 2 for a confidence interval');
      const policy = loadPolicy(opts.policy!);
      const ownProblem = !PROBLEM_FLAGS.some((k) => opts[k] !== undefined);
      let problem: Problem;
      if (ownProblem) {
        if (!policy.problem) throw new ConfigError('--stages', 'this policy was trained on problem ranges: give the problem to evaluate on (--stages, --micro-batches, costs or --profile)');
        const cv = numberOption('--noise', opts.noise) ?? policy.problem.noise.cv;
        const base = policy.problem.config;
        problem = resolveProblem({
          ...base,
          noise: {
            ...base.noise,
            cv,
            commCv: numberOption('--comm-noise', opts.commNoise) ?? cv,
            seed: numberOption('--seed', opts.seed) ?? 0,
          },
        });
      } else problem = problemFromOptions(opts);
      const names = opts.schedulers?.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const { baselines, skipped } = baselinesFor(names, problem);
      const report: EvaluationReport = await evaluatePolicy(policy, { problem, episodes, baselines });
      const trainingSeed = policy.problem?.noise.seed;
      const heldOut = trainingSeed === undefined || trainingSeed !== problem.noise.seed || !ownProblem;
      if (opts.json) return printJson({ ...report, policyDir: policy.dir, stages: problem.stages, microBatches: problem.microBatches, seed: problem.noise.seed, heldOut, skipped });
      console.log(`policy ${policy.dir} (trained ${policy.meta.globalStep} steps); P=${problem.stages} M=${problem.microBatches}, noise cv ${problem.noise.cv}, ${episodes} episodes from seed ${problem.noise.seed}, common random numbers`);
      if (!heldOut) console.log('note: this noise seed is the one the policy was trained on, so these episodes are not held out (use --seed)');
      const m = report.policy.makespan;
      const rows = [['ppo (greedy)', fmt(m.mean), fmt(m.p50), fmt(m.p95), '(reference)']];
      for (const [name, b] of Object.entries(report.baselines))
        rows.push([name, fmt(b.makespan.mean), fmt(b.makespan.p50), fmt(b.makespan.p95), `${fmt(b.diffToPolicy.mean)} [${fmt(b.diffToPolicy.ci95[0])}, ${fmt(b.diffToPolicy.ci95[1])}]`]);
      console.log(table(['scheduler', 'mean makespan', 'p50', 'p95', 'baseline - policy [95% CI]'], rows));
      console.log('positive differences: the policy is faster than that baseline');
      if (skipped.length > 0) console.log(`not buildable for this problem: ${skipped.join(', ')}`);
    });
}
