// A schedule named on the command line: a generator name, a heuristic name, or a .json / .csv file.
import {
  escapeControl,
  quoteInput,
  UserError,
  splitIntoChunks,
  type Placement,
  type Problem,
  type Schedule,
} from '@pprl/core-wasm';
import { HEURISTICS, SCHEDULES, findSchedule, scheduleFromJson, scheduleFromTorchCsv } from '@pprl/schedulers';
import { readUserFile } from './input-files.js';
import type { Work } from './size-guard.js';
import { didYouMean } from './suggest.js';
import { problemFromOptions, type ProblemDefaults, type ProblemOptions } from './problem-options.js';

export type ScheduleSource =
  | { kind: 'static'; name: string; problem: Problem; schedule: Schedule }
  | { kind: 'heuristic'; name: string; problem: Problem };

/** A schedule file: only a regular file of at most 64 MiB (a named pipe called x.csv must not block). */
function readText(path: string): string {
  return readUserFile(path, 'schedule file');
}

/** Every name a schedule argument accepts: the generators, then the dynamic heuristics. */
export function scheduleSourceNames(): string[] {
  return [...SCHEDULES.map((s) => s.name), ...HEURISTICS.map((h) => h.name)];
}

export function validNames(): string {
  return scheduleSourceNames().join(', ');
}

/** Defaults a generator needs (e.g. V = 2 and V placement for zb-v) unless the user set them. */
export function defaultsForName(name: string): ProblemDefaults {
  const info = SCHEDULES.find((s) => s.name === name);
  if (!info) return {};
  const defaults: ProblemDefaults = {};
  if (info.chunks !== undefined) defaults.chunks = info.chunks;
  else if (info.placement === 'loop') defaults.chunks = 2;
  if (info.placement !== undefined) defaults.placement = info.placement;
  return defaults;
}

/**
 * The problem a generator runs (and a schedule file, by the same rule). A schedule for V > 1 chunks per device (zb-v,
 * interleaved-1f1b, ...) without --chunks runs the same model cut into V chunks, each a V-th of a device's cost and
 * memory, as compare, evaluate and bound run it; with --chunks the costs given are per chunk.
 */
export function problemForGenerator(name: string, options: ProblemOptions): Problem {
  const defaults = defaultsForName(name);
  const chunks = defaults.chunks ?? 1;
  if (options.chunks !== undefined || chunks === 1) return problemFromOptions(options, defaults);
  const placement = (options.placement as Placement | undefined) ?? defaults.placement ?? 'loop';
  return splitIntoChunks(problemFromOptions(options, { ...defaults, chunks: 1 }), chunks, placement);
}

/** Called with the problem and the scheduler's kind before any schedule is built or run (the size guard). */
export type BeforeWork = (problem: Problem, work: Pick<Work, 'scheduler' | 'generator'>) => void;

export function resolveScheduleSource(
  arg: string,
  options: ProblemOptions,
  beforeWork: BeforeWork = () => {},
): ScheduleSource {
  if (/\.(json|csv)$/i.test(arg)) {
    const text = readText(arg);
    const parsed = arg.toLowerCase().endsWith('.csv')
      ? scheduleFromTorchCsv(text, {
          ...(options.chunks ? { chunksPerDevice: Number(options.chunks) } : {}),
          ...(options.placement ? { placement: options.placement as 'loop' | 'v' } : {}),
        })
      : scheduleFromJson(text);
    const defaults = {
      stages: parsed.stages,
      microBatches: parsed.microBatches,
      chunks: parsed.chunksPerDevice,
      placement: parsed.placement,
    };
    // as for a generator: a file with V > 1 chunks per device and no --chunks runs the model cut into V chunks
    const problem =
      options.chunks === undefined && parsed.chunksPerDevice > 1
        ? splitIntoChunks(
            problemFromOptions(options, { ...defaults, chunks: 1 }),
            parsed.chunksPerDevice,
            parsed.placement,
          )
        : problemFromOptions(options, defaults);
    beforeWork(problem, { scheduler: 'static' });
    // the name is printed in tables and headers: control characters from the file are shown escaped
    return { kind: 'static', name: escapeControl(parsed.name ?? arg), problem, schedule: parsed };
  }
  if (HEURISTICS.some((h) => h.name === arg)) {
    const problem = problemFromOptions(options);
    beforeWork(problem, { scheduler: 'heuristic' });
    return { kind: 'heuristic', name: arg, problem };
  }
  if (!SCHEDULES.some((s) => s.name === arg))
    throw new UserError(
      `unknown schedule ${quoteInput(arg)}${didYouMean(arg, scheduleSourceNames())}; ` +
        `give a .json or .csv file or one of: ${validNames()}`,
    );
  const info = findSchedule(arg);
  const problem = problemForGenerator(arg, options);
  beforeWork(problem, { scheduler: 'static', generator: arg });
  const schedule = info.build(problem);
  return { kind: 'static', name: arg, problem, schedule: { ...schedule, name: arg } };
}
