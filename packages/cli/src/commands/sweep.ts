// pprl sweep: a grid and/or random samples of PPO trainings from one sweep file, run across this machine's cores,
// resumable, and shardable over a cluster's job array; `pprl sweep report` merges what has finished.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { ConfigError, UserError, escapeControl, quoteInput } from '@pprl/core-wasm';
import { checkTrainable } from '@pprl/rl';
import { fmt, printJson, table, writeFileAtomic } from '../output.js';
import { progressWanted } from '../progress.js';
import { checkpointIteration, isFinished, PLAN_FILE, readJsonIfValid, RUNS_DIR, runDir } from '../sweep/files.js';
import { readSweepPlan, shardOf, valueText, type SweepPlan } from '../sweep/plan.js';
import { writeReport } from '../sweep/report.js';
import { runSweep, type Display, type Shard } from '../sweep/runner.js';

interface SweepOptions {
  config?: string;
  out?: string;
  workers?: string;
  shard?: string;
  shards?: string;
  dryRun?: boolean;
  json?: boolean;
}

const MAX_WORKERS = 1024;
const EXIT_FAILED = 1;
const EXIT_SIGINT = 130;
const EXIT_SIGTERM = 143;

/**
 * bin/pprl.js sets process.exitCode from main()'s return value, which is 0 once an action returns; this keeps the
 * sweep's own code (130 after an interruption, 1 after a failed training).
 */
function exitWith(code: number): void {
  process.exitCode = code;
}

function parseWorkers(text: string | undefined): number {
  if (text === undefined) return 1;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > MAX_WORKERS)
    throw new ConfigError('--workers', `expected an integer from 1 to ${MAX_WORKERS} (got ${quoteInput(text)})`);
  return n;
}

/** `--shard i/N`, or `--shards N` with the index from a Kubernetes Indexed Job or a Slurm job array. */
export function parseShard(
  shard: string | undefined,
  shards: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Shard | null {
  if (shard !== undefined && shards !== undefined)
    throw new ConfigError('--shard', 'give --shard i/N or --shards N (index from the environment), not both');
  if (shard !== undefined) {
    const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(shard);
    const [index, count] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
    if (!(count >= 1 && index < count))
      throw new ConfigError('--shard', `expected i/N with N >= 1 and 0 <= i < N, e.g. 0/4 (got ${quoteInput(shard)})`);
    return { index, count };
  }
  if (shards === undefined) return null;
  const count = Number(shards);
  if (!/^\d+$/.test(shards.trim()) || count < 1)
    throw new ConfigError('--shards', `expected a positive integer (got ${quoteInput(shards)})`);
  const source =
    env.JOB_COMPLETION_INDEX !== undefined
      ? 'JOB_COMPLETION_INDEX'
      : env.SLURM_ARRAY_TASK_ID !== undefined
        ? 'SLURM_ARRAY_TASK_ID'
        : undefined;
  if (source === undefined)
    throw new ConfigError(
      '--shards',
      'takes the shard index from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) ' +
        'or SLURM_ARRAY_TASK_ID (Slurm job array), and neither is set; elsewhere give --shard i/N',
    );
  const text = env[source]!;
  const index = Number(text);
  if (!/^\d+$/.test(text.trim()) || index >= count)
    throw new ConfigError(
      '--shards',
      `${source}=${text} is not a shard index below ${count}; run the array with indices 0 to ${count - 1} (Slurm: ` +
        `--array=0-${count - 1}, Kubernetes: completions: ${count})`,
    );
  return { index, count };
}

/** Creates the sweep directory with its plan, or checks that an existing one holds this same sweep. */
function preparePlan(out: string, plan: SweepPlan): void {
  const planFile = join(out, PLAN_FILE);
  if (existsSync(planFile)) {
    const existing = readJsonIfValid(planFile) as { runs?: { id?: unknown }[] } | undefined;
    if (!Array.isArray(existing?.runs))
      throw new ConfigError('--out', `${planFile} is not a sweep plan; give another --out`);
    const theirs = new Set(existing.runs.map((r) => String(r.id)));
    const ours = new Set(plan.runs.map((r) => r.id));
    const added = [...ours].filter((id) => !theirs.has(id)).length;
    const removed = [...theirs].filter((id) => !ours.has(id)).length;
    if (added > 0 || removed > 0)
      throw new ConfigError(
        '--out',
        `${out} holds another sweep (${added} of this file's runs are not in it, ` +
          `${removed} of its runs are not in this file); give the same sweep file or another --out`,
      );
    return;
  }
  if (existsSync(out)) {
    if (!statSync(out).isDirectory())
      throw new ConfigError('--out', `${out} is a file, not a sweep directory; give a new or empty directory`);
    // shards starting together may meet each other's temporary plan file
    const foreign = readdirSync(out).filter(
      (f) => f !== RUNS_DIR && !f.startsWith(`.${PLAN_FILE}.`) && !/^report\.(csv|md|html)$/.test(f),
    );
    if (foreign.length > 0)
      throw new ConfigError(
        '--out',
        `${out} is not empty and holds no sweep (it has ${foreign[0]}); give a new or empty directory`,
      );
  }
  writeFileAtomic(planFile, `${JSON.stringify(plan, null, 2)}\n`);
}

function runStatus(out: string, id: string): string {
  const dir = runDir(out, id);
  if (isFinished(dir)) return 'finished';
  const at = checkpointIteration(dir);
  return at > 0 ? `partial (update ${at})` : 'pending';
}

function dryRun(
  out: string,
  plan: SweepPlan,
  shard: Shard | null,
  duplicates: number,
  json: boolean | undefined,
): void {
  const runs = plan.runs.map((r) => ({
    id: r.id,
    params: r.params,
    ...(shard ? { shard: shardOf(r, shard.count) } : {}),
    status: runStatus(out, r.id),
  }));
  if (json) {
    printJson({ fields: plan.fields, duplicates, runs });
    return;
  }
  const head = ['run', ...plan.fields, ...(shard ? [`shard of ${shard.count}`] : []), 'status'];
  console.log(
    table(
      head,
      runs.map((r) => [
        r.id,
        ...plan.fields.map((f) => valueText(r.params[f])),
        ...(shard ? [String(r.shard)] : []),
        r.status,
      ]),
    ),
  );
  const mine = shard ? runs.filter((r) => r.shard === shard.index).length : runs.length;
  const inShard = shard ? `, ${mine} in shard ${shard.index}/${shard.count}` : '';
  const repeated = duplicates > 0 ? ` (${duplicates} repeated settings run once)` : '';
  console.log(`${plan.runs.length} runs${inShard}${repeated}; nothing was written`);
}

async function sweep(opts: SweepOptions): Promise<void> {
  if (!opts.config) throw new ConfigError('--config', 'is required (a sweep file: .json, .yaml or .yml)');
  if (!opts.out) throw new ConfigError('--out', 'is required (the sweep directory)');
  const workers = parseWorkers(opts.workers);
  const shard = parseShard(opts.shard, opts.shards);
  // every run's config is validated here, before anything is written
  const { plan, duplicates } = readSweepPlan(opts.config);
  // and every run's problem must leave the policy decisions to make, before any run starts
  for (const run of plan.runs) {
    try {
      await checkTrainable(run.config);
    } catch (e) {
      if (e instanceof UserError) throw new ConfigError('--config', `run ${run.id}: ${e.message}`);
      throw e;
    }
  }
  if (opts.dryRun) return dryRun(opts.out, plan, shard, duplicates, opts.json);
  preparePlan(opts.out, plan);
  const runs = shard ? plan.runs.filter((r) => shardOf(r, shard.count) === shard.index) : plan.runs;
  const display: Display = opts.json ? 'none' : progressWanted(opts.json) ? 'bar' : 'lines';
  if (duplicates > 0 && !opts.json)
    process.stderr.write(`sweep: ${duplicates} sample(s) repeat the settings of another run; each setting runs once\n`);
  const outcome = await runSweep({ out: opts.out, runs, workers, shard, display });

  if (opts.json) printJson({ out: opts.out, shard, sweepRuns: plan.runs.length, ...outcome });
  else {
    const rows: (string | number)[][] = [
      [
        'runs',
        shard ? `${runs.length} in shard ${shard.index}/${shard.count} (of ${plan.runs.length})` : plan.runs.length,
      ],
      ['finished before', outcome.alreadyFinished],
      ['trained to the end now', outcome.trained.length],
    ];
    if (outcome.finishedElsewhere.length > 0)
      rows.push(['finished by another process', outcome.finishedElsewhere.length]);
    if (outcome.failed.length > 0) rows.push(['failed', outcome.failed.length]);
    if (outcome.unfinished.length > 0) rows.push(['left for a rerun', outcome.unfinished.length]);
    console.log(table(['sweep', escapeControl(opts.out)], rows));
    for (const f of outcome.failed) console.log(`failed: ${f.id}: ${f.message} (log: ${f.log})`);
    if (outcome.interrupted) console.log(`interrupted (${outcome.interrupted}): rerun the same command to continue`);
    else if (outcome.failed.length > 0)
      console.log('rerun the same command to retry the failed runs (finished runs are not redone)');
    console.log(`report: pprl sweep report --out ${escapeControl(opts.out)}`);
  }
  if (outcome.interrupted) exitWith(outcome.interrupted === 'SIGTERM' ? EXIT_SIGTERM : EXIT_SIGINT);
  else if (outcome.failed.length > 0) exitWith(EXIT_FAILED);
}

function report(opts: SweepOptions): void {
  if (!opts.out) throw new ConfigError('--out', 'is required (the sweep directory)');
  for (const [flag, value] of [
    ['--config', opts.config],
    ['--workers', opts.workers],
    ['--shard', opts.shard],
    ['--shards', opts.shards],
    ['--dry-run', opts.dryRun],
  ] as const)
    if (value !== undefined)
      throw new ConfigError(flag, 'is not an option of sweep report (it takes --out and --json)');
  const { report: r, files } = writeReport(opts.out);
  if (opts.json) {
    printJson({ ...r, files });
    return;
  }
  const rows = r.rows.map((row) => [
    row.id,
    ...r.fields.map((f) => valueText(row.params[f])),
    row.status === 'finished' ? String(row.updates) : `${row.status} ${row.updates}/${row.totalUpdates}`,
    row.policy === null ? '' : fmt(row.policy),
    row.gapToBestBaseline === null ? '' : `${(100 * row.gapToBestBaseline).toFixed(1)}%`,
  ]);
  console.log(table(['run', ...r.fields, 'updates', 'policy makespan', 'vs best baseline'], rows));
  const wrote = [files.csv, files.markdown, files.html].map(escapeControl).join(', ');
  console.log(`${r.counts.finished} of ${r.counts.runs} runs finished; wrote ${wrote}`);
}

export function sweepCommand(): Command {
  const shardsIndex = 'index from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX'; // the --shards example's comment
  return new Command('sweep')
    .description(
      'train a grid and/or random samples of PPO configs: resumable, across cores (--workers), ' +
        'shardable over a job array (--shard); `sweep report` merges the results',
    )
    .argument('[report]', '"report": merge the finished runs of --out into report.csv, report.md and report.html')
    .option('--config <file>', 'sweep file (.json, .yaml, .yml): base training config, grid and/or random samples')
    .option('--out <dir>', 'sweep directory (on a shared filesystem when several machines run shards)')
    .option('--workers <n>', 'trainings at once on this machine, each a single-threaded process (default 1)')
    .option('--shard <i/N>', 'run only shard i of N (0 <= i < N); a run belongs to the shard of its config hash')
    .option(
      '--shards <N>',
      'run one shard of N, its index from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (Slurm)',
    )
    .option('--dry-run', 'validate the sweep file and list its runs (ids, shards, status) without running anything')
    .option('--json', 'print the outcome (or the report) as JSON; no progress display')
    .addHelpText(
      'after',
      `
Examples:
  pprl sweep --config packages/cli/examples/sweep/sweep.yaml --out sweeps/lr --workers 4
  pprl sweep --config sweep.yaml --out /shared/sweeps/lr --shard 2/8        # one machine of eight
  pprl sweep --config sweep.yaml --out /shared/sweeps/lr --shards 8         # ${shardsIndex}
  pprl sweep report --out sweeps/lr

Rerunning the same command after an interruption or a crash completes the sweep: finished runs are skipped, the
others resume from their checkpoints. Ctrl-C lets running trainings stop at a checkpoint (twice: at once).`,
    )
    .action(async (action: string | undefined, opts: SweepOptions) => {
      if (action === undefined) return sweep(opts);
      if (action === 'report') return report(opts);
      throw new ConfigError(
        'sweep',
        `unknown action "${action}"; the only one is "report" (pprl sweep report --out dir)`,
      );
    });
}
