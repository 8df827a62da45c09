// pprl schedule <name>: build a schedule and write it as JSON, torch CSV, a Chrome trace or an SVG Gantt chart.
import { Command } from 'commander';
import { ConfigError, createSimulator, escapeControl, quoteInput } from '@pprl/core-wasm';
import { scheduleToJson, scheduleToTorchCsv, timelineToChromeTrace, timelineToSvg } from '@pprl/schedulers';
import { addProblemOptions, numberOption, type ProblemOptions } from '../problem-options.js';
import { writeFileAtomic } from '../output.js';
import { resolveScheduleSource } from '../schedule-source.js';
import { guardWork } from '../size-guard.js';
import { UserError } from '@pprl/core-wasm';

/** Episode indices the engines take (episodeStart + episodes < 2^31). */
const MAX_EPISODE = 2 ** 31 - 2;

const FORMATS = ['json', 'torch-csv', 'chrome-trace', 'svg'] as const;
type Format = (typeof FORMATS)[number];

interface ScheduleOptions extends ProblemOptions {
  format: string;
  out?: string;
  episode?: string;
  force?: boolean;
}

export function scheduleCommand(): Command {
  const cmd = new Command('schedule')
    .description('build a named schedule and write it (the Chrome trace and SVG show one simulated episode)')
    .argument('<name>', 'schedule name, or a .json / .csv schedule file to convert')
    .option('--format <format>', `one of ${FORMATS.join(', ')}`, 'json')
    .option('--out <file>', 'write to a file instead of standard output')
    .option('--episode <e>', 'episode whose noise the trace / SVG shows (default 0)')
    .option('--force', 'run even when the estimated time or memory is beyond the size guard (60 s, 4 GiB)');
  addProblemOptions(cmd);
  cmd.addHelpText('after', '\nExamples:\n  pprl schedule zb-h1 --stages 4 --micro-batches 8 --format torch-csv\n  pprl schedule zb-v --stages 4 --micro-batches 8 --format svg --out zbv.svg');
  cmd.action(async (name: string, opts: ScheduleOptions) => {
    if (!FORMATS.includes(opts.format as Format)) throw new ConfigError('--format', `must be one of ${FORMATS.join(', ')} (got ${quoteInput(opts.format)})`);
    const drawing = opts.format === 'svg' || opts.format === 'chrome-trace';
    const source = resolveScheduleSource(name, opts, (problem, work) =>
      guardWork(problem, { ...work, episodes: drawing ? 1 : 0, output: drawing ? 'drawing' : 'text' }, { force: opts.force, note: (line) => process.stderr.write(`${line}\n`) }),
    );
    if (source.kind !== 'static') throw new UserError(`"${name}" is a dynamic heuristic: it has no fixed order to write; use pprl simulate`);
    const { problem, schedule } = source;
    let text: string;
    if (opts.format === 'json') text = scheduleToJson(schedule);
    else if (opts.format === 'torch-csv') text = scheduleToTorchCsv(schedule);
    else {
      const episode = numberOption('--episode', opts.episode) ?? 0;
      if (!Number.isInteger(episode) || episode < 0 || episode > MAX_EPISODE) throw new ConfigError('--episode', `must be an integer in [0, ${MAX_EPISODE}] (got ${quoteInput(opts.episode)})`);
      const sim = await createSimulator();
      const timeline = sim.replay(problem, schedule, { episodes: 1, episodeStart: episode, timelineEpisode: episode }).timeline!;
      text =
        opts.format === 'svg'
          ? timelineToSvg(problem, timeline, { title: `${source.name}: P=${problem.stages} V=${problem.chunks} M=${problem.microBatches}`, ...(opts.profile ? { timeUnit: 'µs' } : {}) })
          : JSON.stringify(timelineToChromeTrace(problem, timeline));
    }
    if (!text.endsWith('\n')) text += '\n';
    if (opts.out) {
      writeFileAtomic(opts.out, text);
      console.log(`wrote ${escapeControl(opts.out)} (${source.name}, ${opts.format}, P=${problem.stages} V=${problem.chunks} M=${problem.microBatches})`);
    } else process.stdout.write(text);
  });
  return cmd;
}
