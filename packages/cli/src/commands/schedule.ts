// pprl schedule <name>: build a schedule and write it as JSON, torch CSV, a Chrome trace or an SVG Gantt chart. A
// trained policy (ppo:<dir>) is written as the op order it chose in one episode (cv 0 unless --noise is given).
import { Command } from 'commander';
import { ConfigError, createSimulator, escapeControl, quoteInput } from '@pprl/core-wasm';
import { scheduleToJson, scheduleToTorchCsv, timelineToChromeTrace, timelineToSvg } from '@pprl/schedulers';
import { addProblemOptions, numberOption, type ProblemOptions } from '../problem-options.js';
import { fmt, writeFileAtomic } from '../output.js';
import { formatTime, unitsOfConfig, unitsOfOptions } from '../units.js';
import { resolveScheduleSource } from '../schedule-source.js';
import { guardWork } from '../size-guard.js';
import { UserError, type Problem, type Schedule } from '@pprl/core-wasm';
import {
  checkProblemRunnable,
  loadPolicy,
  policyEnvOptions,
  policyMakespans,
  policySchedules,
  trainConfigFields,
} from '@pprl/rl';
import { PROBLEM_OPTION_FIELDS, withPlan } from '../contenders.js';
import { addPolicyChunksOption, policyProblem, type PolicyChunksOptions } from '../policy-problem.js';

/** Episode indices the engines take (episodeStart + episodes < 2^31). */
const MAX_EPISODE = 2 ** 31 - 2;

const FORMATS = ['json', 'torch-csv', 'chrome-trace', 'svg'] as const;
type Format = (typeof FORMATS)[number];

interface ScheduleOptions extends ProblemOptions, PolicyChunksOptions {
  format: string;
  out?: string;
  episode?: string;
  force?: boolean;
}

export function scheduleCommand(): Command {
  const cmd = new Command('schedule')
    .description('build a named schedule and write it (the Chrome trace and SVG show one simulated episode)')
    .argument(
      '<name>',
      "schedule name, a .json / .csv schedule file to convert, or ppo:<checkpoint dir> for a trained policy's order",
    )
    .option('--format <format>', `one of ${FORMATS.join(', ')}`, 'json')
    .option('--out <file>', 'write to a file instead of standard output')
    .option(
      '--episode <e>',
      'episode whose noise the trace / SVG shows, and whose decisions a ppo:<dir> order comes from (default 0)',
    )
    .option('--force', 'run even when the estimated time or memory is beyond the size guard (60 s, 4 GiB)');
  addPolicyChunksOption(cmd);
  addProblemOptions(cmd);
  cmd.addHelpText(
    'after',
    '\nA trained policy (ppo:<dir>) writes the per-device order its greedy choices made in episode --episode ' +
      'of its problem\n' +
      '(its training problem unless problem options are given), at noise cv 0 unless --noise is given.\n\n' +
      'Examples:\n' +
      '  pprl schedule zb-h1 --stages 4 --micro-batches 8 --format torch-csv\n' +
      '  pprl schedule zb-v --stages 4 --micro-batches 8 --format svg --out zbv.svg\n' +
      '  pprl schedule ppo:packages/rl/checkpoints/h200-6.2b-p4-m16-v1 --format torch-csv --out ppo.csv',
  );
  cmd.action(async (name: string, opts: ScheduleOptions) => {
    if (!FORMATS.includes(opts.format as Format))
      throw new ConfigError('--format', `must be one of ${FORMATS.join(', ')} (got ${quoteInput(opts.format)})`);
    const drawing = opts.format === 'svg' || opts.format === 'chrome-trace';
    const episode = numberOption('--episode', opts.episode) ?? 0;
    if (!Number.isInteger(episode) || episode < 0 || episode > MAX_EPISODE)
      throw new ConfigError('--episode', `must be an integer in [0, ${MAX_EPISODE}] (got ${quoteInput(opts.episode)})`);
    let problem: Problem;
    let schedule: Schedule;
    let sourceName: string;
    let note: string | undefined;
    let units = unitsOfOptions(opts);
    if (name.startsWith('ppo:')) {
      const dir = name.slice(4);
      if (dir === '')
        throw new ConfigError(
          '<name>',
          'ppo: needs a checkpoint or run directory, e.g. ppo:packages/rl/checkpoints/h200-6.2b-p4-m16-v1',
        );
      const loaded = loadPolicy(dir);
      const own = policyProblem(loaded, opts, 0);
      problem = own.problem;
      if (own.ownProblem) units = unitsOfConfig(loaded.config);
      guardWork(
        problem,
        { scheduler: 'heuristic', episodes: 1, output: drawing ? 'drawing' : 'text' },
        { force: opts.force, note: (line) => process.stderr.write(`${line}\n`) },
      );
      await checkProblemRunnable(
        problem,
        policyEnvOptions(loaded),
        own.ownProblem ? trainConfigFields(loaded.config) : PROBLEM_OPTION_FIELDS,
      );
      const policy = withPlan(loaded, problem);
      schedule = { ...(await policySchedules(policy, problem, 1, episode))[0]!, name: `ppo:${dir}` };
      sourceName = `ppo:${dir}`;
      // what the policy itself reached in that episode, against the order replayed: equal unless the policy waited
      // while an op it then started was already ready
      const reached = (await policyMakespans(policy, problem, 1, episode))[0]!;
      const replayed = (await createSimulator()).replay(problem, schedule, { episodes: 1, episodeStart: episode })
        .makespan[0]!;
      const time = (x: number) => formatTime(x, units, fmt);
      note =
        reached === replayed
          ? `episode ${episode} at noise cv ${problem.noise.cv}: ` +
            `the order replays to the policy's makespan, ${time(replayed)}`
          : `episode ${episode} at noise cv ${problem.noise.cv}: the policy reached ${time(reached)}; ` +
            `its order replays to ${time(replayed)} (it waited with a ready op)`;
    } else {
      const source = resolveScheduleSource(name, opts, (p, work) =>
        guardWork(
          p,
          { ...work, episodes: drawing ? 1 : 0, output: drawing ? 'drawing' : 'text' },
          { force: opts.force, note: (line) => process.stderr.write(`${line}\n`) },
        ),
      );
      if (source.kind !== 'static')
        throw new UserError(`"${name}" is a dynamic heuristic: it has no fixed order to write; use pprl simulate`);
      ({ problem, schedule } = source);
      sourceName = source.name;
    }
    let text: string;
    if (opts.format === 'json') text = scheduleToJson(schedule);
    else if (opts.format === 'torch-csv') text = scheduleToTorchCsv(schedule);
    else {
      const sim = await createSimulator();
      const timeline = sim.replay(problem, schedule, { episodes: 1, episodeStart: episode, timelineEpisode: episode })
        .timeline!;
      text =
        opts.format === 'svg'
          ? timelineToSvg(problem, timeline, {
              title: `${escapeControl(sourceName)}: P=${problem.stages} V=${problem.chunks} M=${problem.microBatches}`,
              ...(units.time === 'us' ? { timeUnit: 'µs' } : {}),
            })
          : JSON.stringify(timelineToChromeTrace(problem, timeline));
    }
    if (!text.endsWith('\n')) text += '\n';
    if (opts.out) {
      writeFileAtomic(opts.out, text);
      console.log(
        `wrote ${escapeControl(opts.out)} (${escapeControl(sourceName)}, ${opts.format}, ` +
          `P=${problem.stages} V=${problem.chunks} M=${problem.microBatches})`,
      );
      if (note) console.log(note);
    } else {
      process.stdout.write(text);
      if (note) process.stderr.write(`${note}\n`);
    }
  });
  return cmd;
}
