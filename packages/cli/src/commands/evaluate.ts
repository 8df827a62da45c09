// pprl evaluate: a trained policy against every static schedule and heuristic on common random numbers
// (docs/SEMANTICS.md section 5 for the JSON).
import { Command } from 'commander';
import { ConfigError, UserError, type BuiltinPolicy, type Problem, escapeControl } from '@pprl/core-wasm';
import {
  checkProblemRunnable,
  evaluatePolicy,
  loadPolicy,
  policyEnvOptions,
  trainConfigFields,
  type Baseline,
  type EvaluationReport,
  type LoadedPolicy,
} from '@pprl/rl';
import { HEURISTICS, SCHEDULES, findSchedule } from '@pprl/schedulers';
import {
  builtScheduleContender,
  contenderNames,
  heuristicContender,
  searchedSchedule,
  SEARCHED_SCHEDULES,
  loadedPolicyContender,
  PROBLEM_OPTION_FIELDS,
  problemForSchedule,
  withPlan,
  type Contender,
} from '../contenders.js';
import { fmt, printJson, table } from '../output.js';
import { didYouMean } from '../suggest.js';
import { displayScales } from '../report/html.js';
import { unitsOfConfig, unitsOfOptions } from '../units.js';
import { addProblemOptions, type ProblemOptions } from '../problem-options.js';
import {
  addPolicyChunksOption,
  policyChunksOption,
  policyProblem,
  type PolicyChunksOptions,
} from '../policy-problem.js';
import { episodesOption } from './simulate.js';
import { createProgress, progressWanted } from '../progress.js';
import { oracleEpisodesOption, pct, RoomCache } from '../room.js';
import type { PointGap } from '../report/sweep.js';

interface EvaluateOptions extends ProblemOptions, PolicyChunksOptions {
  policy?: string;
  episodes?: string;
  schedulers?: string;
  json?: boolean;
  oracleEpisodes?: string;
}

/**
 * The baselines of a comma list of names (default: every static schedule buildable here, then every heuristic; the
 * searched schedules `optimal` and `robust` only when named, as their search takes a while).
 */
export async function baselinesFor(
  names: string[] | undefined,
  problem: Problem,
): Promise<{ baselines: Record<string, Baseline>; skipped: string[] }> {
  const all = names ?? contenderNames().filter((n) => !SEARCHED_SCHEDULES.some((s) => s.name === n));
  const baselines: Record<string, Baseline> = {};
  const skipped: string[] = [];
  for (const name of all) {
    if (HEURISTICS.some((h) => h.name === name)) {
      baselines[name] = name as BuiltinPolicy;
      continue;
    }
    if (SEARCHED_SCHEDULES.some((s) => s.name === name)) {
      baselines[name] = { schedule: await searchedSchedule(name, problem), problem };
      continue;
    }
    const info = SCHEDULES.find((s) => s.name === name);
    if (!info)
      throw new ConfigError(
        '--schedulers',
        `unknown scheduler "${name}"${didYouMean(name, contenderNames())}; valid names: ${contenderNames().join(', ')}`,
      );
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

/**
 * Every scheduler run again through the CLI's contenders, for what the evaluation report lacks: peak activation
 * memory (bytes, the largest over devices and episodes) and the per-episode makespans the gap columns need. A
 * static schedule's memory follows its own op order whatever the timing; the policy's comes from replaying the op
 * orders it chose in every episode, a heuristic's from the WebAssembly engine's built-in policy on the same episodes.
 */
export async function contenderRuns(
  policy: LoadedPolicy,
  model: Problem,
  problem: Problem,
  baselines: Record<string, Baseline>,
  episodes: number,
  policyChunks?: number,
) {
  const runOf = async (c: Contender) => ({ run: await c.run(undefined, episodes), problem: c.problem });
  const out: {
    policy: Awaited<ReturnType<typeof runOf>>;
    baselines: Record<string, Awaited<ReturnType<typeof runOf>>>;
  } = {
    policy: await runOf(loadedPolicyContender('ppo', policy, model, policyChunks)),
    baselines: {},
  };
  for (const [name, b] of Object.entries(baselines))
    out.baselines[name] = await runOf(
      typeof b === 'string'
        ? heuristicContender(name, problem)
        : builtScheduleContender(name, b.problem ?? problem, b.schedule),
    );
  return out;
}

export function evaluateCommand(): Command {
  const cmd = new Command('evaluate')
    .description(
      'evaluate a trained policy (greedy) against static schedules and heuristics, paired on common random numbers',
    )
    .requiredOption('--policy <dir>', 'a checkpoint directory, or a training run directory (its latest checkpoint)')
    .option('--episodes <K>', 'episodes (default 1000)')
    .option(
      '--schedulers <names>',
      'comma-separated baselines (default: every schedule that can be built, then every heuristic)',
    )
    .option(
      '--oracle-episodes <n>',
      'episodes 0..n-1 that also get the clairvoyant oracle for the gap column (default 8; 0: lower bound only)',
    )
    .option('--json', 'print one JSON object');
  addPolicyChunksOption(cmd);
  addProblemOptions(cmd);
  return cmd
    .addHelpText(
      'after',
      "\nWithout problem options the policy's own training problem is used (with --noise and --seed applied).\n" +
        'Episodes are 0..K-1 at the given noise seed (default 0): the same episodes `pprl compare` runs; ' +
        'train on another noise seed to keep them held out.\n\n' +
        'Examples:\n' +
        '  pprl evaluate --policy packages/rl/checkpoints/h200-6.2b-p4-m16-v2 --noise 0.3 --episodes 2000\n' +
        '  pprl evaluate --policy runs/p4 --stages 8 --micro-batches 32 --noise 0.2 ' +
        '--schedulers zb-h1,zb-auto,greedy-zb --json',
    )
    .action(async (opts: EvaluateOptions) => {
      const episodes = episodesOption(opts.episodes, 1000);
      if (episodes < 2) throw new ConfigError('--episodes', 'must be at least 2 for a confidence interval');
      const oracleEpisodes = oracleEpisodesOption(opts.oracleEpisodes, episodes);
      const policy = loadPolicy(opts.policy!);
      const { model, problem, ownProblem } = policyProblem(policy, opts);
      // a problem whose episodes deadlock or offer no decision: one line naming the option, before anything runs
      await checkProblemRunnable(
        problem,
        policyEnvOptions(policy),
        ownProblem ? trainConfigFields(policy.config) : PROBLEM_OPTION_FIELDS,
      );
      const names = opts.schedulers
        ?.split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      const { baselines, skipped } = await baselinesFor(names, model);
      const report: EvaluationReport = await evaluatePolicy(withPlan(policy, problem), {
        problem,
        episodes,
        baselines,
      });
      const runs = await contenderRuns(
        policy,
        model,
        problem,
        baselines,
        episodes,
        policyChunksOption(opts.policyChunks),
      );
      const peakOf = (r: { run: { peakMemory: number[] } }) => Math.max(...r.run.peakMemory);
      const peaks = {
        policy: peakOf(runs.policy),
        baselines: Object.fromEntries(Object.entries(runs.baselines).map(([n, r]) => [n, peakOf(r)])),
      };
      const oracleProgress = createProgress({
        label: 'oracle',
        total: 2 * oracleEpisodes,
        enabled: progressWanted(opts.json),
      });
      const cache = new RoomCache({ oracleEpisodes, evaluations: 20000 }, () => oracleProgress.tick());
      const gaps: { policy: PointGap; baselines: Record<string, PointGap> } = {
        policy: await cache.gap(runs.policy.problem, runs.policy.run),
        baselines: {},
      };
      for (const [name, r] of Object.entries(runs.baselines)) gaps.baselines[name] = await cache.gap(r.problem, r.run);
      oracleProgress.done();
      const limit = Number.isFinite(problem.memLimit) ? problem.memLimit : null;
      const units = ownProblem ? unitsOfConfig(policy.config) : unitsOfOptions(opts);
      const trainingSeed = policy.problem?.noise.seed;
      const heldOut = trainingSeed === undefined || trainingSeed !== problem.noise.seed || !ownProblem;
      if (opts.json)
        return printJson({
          ...report,
          policyDir: policy.dir,
          stages: problem.stages,
          microBatches: problem.microBatches,
          seed: problem.noise.seed,
          heldOut,
          skipped,
          timeUnit: units.time,
          memLimitBytes: limit,
          peakMemoryBytes: peaks,
          gaps,
        });
      console.log(
        `policy ${escapeControl(policy.dir)} (trained ${policy.meta.globalStep} steps); ` +
          `P=${problem.stages} M=${problem.microBatches}, noise cv ${problem.noise.cv}, ` +
          `${episodes} episodes from seed ${problem.noise.seed}, common random numbers`,
      );
      if (!heldOut)
        console.log(
          'note: this noise seed is the one the policy was trained on, so these episodes are not held out (use --seed)',
        );
      const m = report.policy.makespan;
      const scales = displayScales(units);
      const t = (raw: number) => fmt(raw * scales.time.factor);
      const gib = (raw: number) => (raw * scales.memory.factor).toFixed(2);
      const gapCells = (g: PointGap) => [pct(g.toLowerBound), pct(g.toOracle)];
      const rows = [
        ['ppo (greedy)', t(m.mean), t(m.p50), t(m.p95), gib(peaks.policy), '(reference)', ...gapCells(gaps.policy)],
      ];
      for (const [name, b] of Object.entries(report.baselines))
        rows.push([
          name,
          t(b.makespan.mean),
          t(b.makespan.p50),
          t(b.makespan.p95),
          gib(peaks.baselines[name]!),
          `${t(b.diffToPolicy.mean)} [${t(b.diffToPolicy.ci95[0])}, ${t(b.diffToPolicy.ci95[1])}]`,
          ...gapCells(gaps.baselines[name]!),
        ]);
      if (limit !== null) console.log(`memory limit per device: ${gib(limit)} ${scales.memory.label}`);
      console.log(
        table(
          [
            'scheduler',
            `mean makespan (${scales.time.label})`,
            'p50',
            'p95',
            `peak ${scales.memory.label}`,
            'baseline - policy [95% CI]',
            'gap to lower bound',
            `gap to oracle (${oracleEpisodes} ep)`,
          ],
          rows,
        ),
      );
      console.log(
        'gaps: mean makespan / mean bound or oracle - 1, each on the problem the scheduler ran (V = 2 runs the ' +
          'model in two chunks)',
      );
      console.log('positive differences: the policy is faster than that baseline');
      if (skipped.length > 0) console.log(`not buildable for this problem: ${skipped.join(', ')}`);
    });
}
