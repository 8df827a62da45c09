// pprl schedule <name>: build a schedule and write it as JSON, torch CSV, a Chrome trace or an SVG Gantt chart.
import { Command } from 'commander';
import { ConfigError, createSimulator } from '@pprl/core-wasm';
import { scheduleToJson, scheduleToTorchCsv, timelineToChromeTrace, timelineToSvg } from '@pprl/schedulers';
import { addProblemOptions, numberOption, type ProblemOptions } from '../problem-options.js';
import { writeFileAtomic } from '../output.js';
import { resolveScheduleSource } from '../schedule-source.js';
import { UserError } from '@pprl/core-wasm';

const FORMATS = ['json', 'torch-csv', 'chrome-trace', 'svg'] as const;
type Format = (typeof FORMATS)[number];

interface ScheduleOptions extends ProblemOptions {
  format: string;
  out?: string;
  episode?: string;
}

export function scheduleCommand(): Command {
  const cmd = new Command('schedule')
    .description('build a named schedule and write it (the Chrome trace and SVG show one simulated episode)')
    .argument('<name>', 'schedule name, or a .json / .csv schedule file to convert')
    .option('--format <format>', `one of ${FORMATS.join(', ')}`, 'json')
    .option('--out <file>', 'write to a file instead of standard output')
    .option('--episode <e>', 'episode whose noise the trace / SVG shows (default 0)');
  addProblemOptions(cmd);
  cmd.addHelpText('after', '\nExamples:\n  pprl schedule zb-h1 --stages 4 --micro-batches 8 --format torch-csv\n  pprl schedule zb-v --stages 4 --micro-batches 8 --format svg --out zbv.svg');
  cmd.action(async (name: string, opts: ScheduleOptions) => {
    if (!FORMATS.includes(opts.format as Format)) throw new ConfigError('--format', `must be one of ${FORMATS.join(', ')} (got "${opts.format}")`);
    const source = resolveScheduleSource(name, opts);
    if (source.kind !== 'static') throw new UserError(`"${name}" is a dynamic heuristic: it has no fixed order to write; use pprl simulate`);
    const { problem, schedule } = source;
    let text: string;
    if (opts.format === 'json') text = scheduleToJson(schedule);
    else if (opts.format === 'torch-csv') text = scheduleToTorchCsv(schedule);
    else {
      const episode = numberOption('--episode', opts.episode) ?? 0;
      if (!Number.isInteger(episode) || episode < 0) throw new ConfigError('--episode', `must be an integer >= 0 (got ${opts.episode})`);
      const sim = await createSimulator();
      const timeline = sim.replay(problem, schedule, { episodes: 1, episodeStart: episode, timelineEpisode: episode }).timeline!;
      text =
        opts.format === 'svg'
          ? timelineToSvg(problem, timeline, { title: `${source.name}: P=${problem.stages} V=${problem.chunks} M=${problem.microBatches}` })
          : JSON.stringify(timelineToChromeTrace(problem, timeline));
    }
    if (!text.endsWith('\n')) text += '\n';
    if (opts.out) writeFileAtomic(opts.out, text);
    else process.stdout.write(text);
  });
  return cmd;
}
