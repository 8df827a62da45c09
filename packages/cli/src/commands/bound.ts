// pprl bound: how much room the schedulers leave on a problem. Per episode a lower bound (no schedule can be
// faster) and the clairvoyant oracle (the best orders found knowing every realized duration), against baselines
// on the same episodes (docs/SEMANTICS.md section 6 for the JSON).
import { Command } from 'commander';
import { z } from 'zod';
import { ConfigError, meanWithCi95, type Problem, quoteInput } from '@pprl/core-wasm';
import { measureRoom } from '@pprl/opt';
import { contenderFor } from '../contenders.js';
import { fmt, printJson, table } from '../output.js';
import { timeScale, unitsOfOptions } from '../units.js';
import { addProblemOptions, problemFromOptions, type ProblemOptions } from '../problem-options.js';
import { createProgress, progressWanted } from '../progress.js';
import { parseSchedulers } from './compare.js';

interface BoundOptions extends ProblemOptions {
  episodes?: string;
  timeLimit?: string;
  evaluations?: string;
  schedulers?: string;
  json?: boolean;
}

/** Least MILP time an episode can be given: below it HiGHS rarely finishes one neighbourhood. */
export const MIN_SECONDS_PER_EPISODE = 0.05;

const numberText = (flag: string, schema: z.ZodNumber) =>
  z.string().trim().min(1, `${flag}: expected a number`).transform(Number).pipe(schema);

const boundOptionsSchema = z.object({
  episodes: numberText(
    '--episodes',
    z
      .number({ error: 'expected a number' })
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(100_000, 'must be at most 100000'),
  ).default(20),
  timeLimit: numberText(
    '--time-limit',
    z
      .number({ error: 'expected a number' })
      .gt(0, 'must be more than 0 seconds')
      .max(86_400, 'must be at most 86400 seconds'),
  ).default(30),
  evaluations: numberText(
    '--evaluations',
    z
      .number({ error: 'expected a number' })
      .int('must be an integer')
      .min(0, 'must be at least 0')
      .max(100_000_000, 'must be at most 100000000'),
  ).default(20000),
});

const FLAG: Record<string, string> = {
  episodes: '--episodes',
  timeLimit: '--time-limit',
  evaluations: '--evaluations',
};

export interface BoundSettings {
  episodes: number;
  /** Total seconds of MILP polish, shared evenly by the episodes. */
  timeLimit: number;
  evaluations: number;
}

/** Validates bound's own flags: one error naming the flag and its range, and episodes that fit the budget. */
export function boundSettings(opts: Pick<BoundOptions, 'episodes' | 'timeLimit' | 'evaluations'>): BoundSettings {
  const parsed = boundOptionsSchema.safeParse({
    episodes: opts.episodes,
    timeLimit: opts.timeLimit,
    evaluations: opts.evaluations,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0]);
    const original = (opts as Record<string, string | undefined>)[key];
    throw new ConfigError(
      FLAG[key] ?? key,
      `${issue.message.replace(/^--[a-z-]+: /, '')} (got ${quoteInput(original)})`,
    );
  }
  const s = parsed.data;
  checkBudget(s, 1);
  return s;
}

/** Default baselines: the V = 1 schedules and heuristic, and zb-v (which runs the model in two chunks) or, for a
 * problem given with more chunks, the ones that run it. */
export function defaultBaselines(problem: Problem): string[] {
  if (problem.chunks === 1) return ['1f1b', 'zb-h1', 'zb-auto', 'zb-v', 'greedy-zb'];
  return problem.placement === 'v' ? ['zb-v', 'greedy-zb'] : ['interleaved-1f1b', 'greedy-zb'];
}

interface RoomStats {
  lowerBound: { mean: number; ci95: [number, number] };
  oracle: { mean: number; ci95: [number, number]; proven: number };
}

export interface BoundReport extends RoomStats {
  problem: {
    stages: number;
    chunks: number;
    placement: string;
    microBatches: number;
    noise: Problem['noise'];
    memLimit: number | null;
  };
  episodes: number;
  timeLimit: number;
  evaluations: number;
  baselines: Record<
    string,
    {
      makespan: { mean: number };
      gapToOracle: number;
      gapToLowerBound: number;
      peakMemory: number;
      withinLimit: boolean;
      chunks: number;
      placement: string;
    } & Partial<RoomStats>
  >;
}

/** The contenders of the names, and the distinct problems they run (the problem as given comes first). */
export function boundContenders(problem: Problem, names: string[]) {
  const contenders = names.map((name) => contenderFor(name, problem));
  const problems = new Map<string, Problem>([[JSON.stringify(problem.config), problem]]);
  for (const c of contenders) problems.set(JSON.stringify(c.problem.config), c.problem);
  return { contenders, problems };
}

/** Refuses more episodes than the time limit can polish (MIN_SECONDS_PER_EPISODE each, per distinct problem). */
export function checkBudget(s: BoundSettings, problems: number): void {
  const fit = Math.floor(s.timeLimit / (MIN_SECONDS_PER_EPISODE * problems) + 1e-9);
  if (s.episodes > fit)
    throw new ConfigError(
      '--episodes',
      `at most ${fit} episodes fit a time limit of ${s.timeLimit} s (${MIN_SECONDS_PER_EPISODE} s of MILP per ` +
        `episode and problem, ${problems} problem(s)); got ${s.episodes}: raise --time-limit or lower --episodes`,
    );
}

export async function runBound(
  problem: Problem,
  names: string[],
  s: BoundSettings,
  onEpisode?: () => void,
): Promise<BoundReport> {
  const { contenders, problems } = boundContenders(problem, names);
  checkBudget(s, problems.size);
  const rooms = new Map<string, RoomStats>();
  for (const [key, p] of problems) {
    const room = await measureRoom(p, s.episodes, {
      evaluations: s.evaluations,
      timeLimit: s.timeLimit / (s.episodes * problems.size),
      onEpisode,
    });
    const oracle = meanWithCi95(room.oracle);
    const lower = meanWithCi95(room.lowerBound);
    rooms.set(key, {
      lowerBound: { mean: lower.mean, ci95: lower.ci95 },
      oracle: { mean: oracle.mean, ci95: oracle.ci95, proven: room.proven },
    });
  }
  const own = rooms.get(JSON.stringify(problem.config))!;
  const cap = Number.isFinite(problem.memLimit) ? problem.memLimit * (1 + 1e-9) : Infinity;
  const baselines: BoundReport['baselines'] = {};
  for (const c of contenders) {
    const run = await c.run(undefined, s.episodes);
    const mean = run.makespan.reduce((a, b) => a + b, 0) / s.episodes;
    const peakMemory = Math.max(...run.peakMemory);
    const room = rooms.get(JSON.stringify(c.problem.config))!;
    baselines[c.name] = {
      makespan: { mean },
      gapToOracle: mean / room.oracle.mean - 1,
      gapToLowerBound: mean / room.lowerBound.mean - 1,
      peakMemory,
      withinLimit: peakMemory <= cap,
      chunks: c.problem.chunks,
      placement: c.problem.placement,
      // a baseline that runs the model in more chunks is measured against that problem's own bound and oracle
      ...(room === own ? {} : room),
    };
  }
  return {
    problem: {
      stages: problem.stages,
      chunks: problem.chunks,
      placement: problem.placement,
      microBatches: problem.microBatches,
      noise: problem.noise,
      memLimit: Number.isFinite(problem.memLimit) ? problem.memLimit : null,
    },
    episodes: s.episodes,
    timeLimit: s.timeLimit,
    evaluations: s.evaluations,
    ...own,
    baselines,
  };
}

export function boundCommand(): Command {
  const cmd = new Command('bound')
    .description(
      'how far from optimal: per-episode lower bound and clairvoyant oracle (local search + HiGHS MILP) ' +
        'against baselines',
    )
    .option('--episodes <K>', 'episodes 0..K-1 (default 20)')
    .option(
      '--time-limit <s>',
      'total seconds of MILP polish, shared by the episodes (default 30; at least 0.05 s per episode)',
    )
    .option('--evaluations <n>', 'local-search replays per episode (default 20000)')
    .option(
      '--schedulers <names>',
      'baselines, also ppo:<dir> (default for V = 1: 1f1b,zb-h1,zb-auto,zb-v,greedy-zb; ' +
        "zb-v and V = 2 policies run the model in two chunks and get that problem's own bound and oracle)",
    )
    .option('--json', 'print one JSON object');
  addProblemOptions(cmd);
  cmd.addHelpText(
    'after',
    '\nThe oracle knows every realized duration in advance, so no scheduler can beat it; ' +
      'the lower bound holds for every\n' +
      "order. Both use the problem's memory limit (--mem-limit). " +
      'Gaps are mean(baseline) / mean(oracle or bound) - 1.\n\n' +
      'Examples:\n' +
      '  pprl bound --stages 4 --micro-batches 8 --mem-limit 4 --noise 0.3 --episodes 20 --json\n' +
      '  pprl bound --profile packages/core-wasm/profiles/h200-fbw-profiles.json --model 6.2B ' +
      '--stages 4 --micro-batches 8 --mem-limit 2116304896 --noise 0.3',
  );
  cmd.action(async (opts: BoundOptions) => {
    const settings = boundSettings(opts);
    const problem = problemFromOptions(opts);
    const names = opts.schedulers === undefined ? defaultBaselines(problem) : parseSchedulers(opts.schedulers);
    const { problems } = boundContenders(problem, names);
    checkBudget(settings, problems.size);
    const progress = createProgress({
      label: 'bound',
      total: settings.episodes * problems.size,
      enabled: progressWanted(opts.json),
    });
    let report: BoundReport;
    try {
      report = await runBound(problem, names, settings, () => progress.tick());
    } finally {
      progress.done();
    }
    const units = unitsOfOptions(opts);
    if (opts.json) return printJson({ ...report, timeUnit: units.time });
    const scale = timeScale(units);
    const t = (raw: number) => fmt(raw * scale.factor);
    const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
    const rows: (string | number)[][] = [
      ['lower bound', t(report.lowerBound.mean), '', ''],
      ['oracle', t(report.oracle.mean), '(reference)', pct(report.oracle.mean / report.lowerBound.mean - 1)],
      ...Object.entries(report.baselines).map(([name, b]) => [
        `${name}${b.withinLimit ? '' : ' (over the memory limit)'}`,
        t(b.makespan.mean),
        pct(b.gapToOracle),
        pct(b.gapToLowerBound),
      ]),
    ];
    for (const [name, b] of Object.entries(report.baselines))
      if (b.oracle)
        rows.push([
          `  ${name}'s problem (V=${b.chunks}): bound / oracle`,
          `${t(b.lowerBound!.mean)} / ${t(b.oracle.mean)}`,
          `${b.oracle.proven} proven`,
          '',
        ]);
    console.log(
      `P=${problem.stages} V=${problem.chunks} M=${problem.microBatches}, noise cv ${problem.noise.cv}, ` +
        `memory limit ${report.problem.memLimit ?? 'none'}, ` +
        `${settings.episodes} episodes; oracle proven optimal on ${report.oracle.proven} of them`,
    );
    console.log(table(['', `mean makespan (${scale.label})`, 'gap to oracle', 'gap to lower bound'], rows));
  });
  return cmd;
}
