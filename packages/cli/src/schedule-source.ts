// A schedule named on the command line: a generator name, a heuristic name, or a .json / .csv file.
import { readFileSync } from 'node:fs';
import { UserError, type Problem, type Schedule } from '@pprl/core-wasm';
import { HEURISTICS, SCHEDULES, findSchedule, scheduleFromJson, scheduleFromTorchCsv } from '@pprl/schedulers';
import { problemFromOptions, type ProblemDefaults, type ProblemOptions } from './problem-options.js';

export type ScheduleSource =
  | { kind: 'static'; name: string; problem: Problem; schedule: Schedule }
  | { kind: 'heuristic'; name: string; problem: Problem };

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read schedule file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function validNames(): string {
  return [...SCHEDULES.map((s) => s.name), ...HEURISTICS.map((h) => h.name)].join(', ');
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

export function resolveScheduleSource(arg: string, options: ProblemOptions): ScheduleSource {
  if (/\.(json|csv)$/i.test(arg)) {
    const text = readText(arg);
    const parsed = arg.toLowerCase().endsWith('.csv')
      ? scheduleFromTorchCsv(text, {
          ...(options.chunks ? { chunksPerDevice: Number(options.chunks) } : {}),
          ...(options.placement ? { placement: options.placement as 'loop' | 'v' } : {}),
        })
      : scheduleFromJson(text);
    const problem = problemFromOptions(options, {
      stages: parsed.stages,
      microBatches: parsed.microBatches,
      chunks: parsed.chunksPerDevice,
      placement: parsed.placement,
    });
    return { kind: 'static', name: parsed.name ?? arg, problem, schedule: parsed };
  }
  if (HEURISTICS.some((h) => h.name === arg)) return { kind: 'heuristic', name: arg, problem: problemFromOptions(options) };
  if (!SCHEDULES.some((s) => s.name === arg))
    throw new UserError(`unknown schedule "${arg}"; give a .json or .csv file or one of: ${validNames()}`);
  const info = findSchedule(arg);
  const problem = problemFromOptions(options, defaultsForName(arg));
  const schedule = info.build(problem);
  return { kind: 'static', name: arg, problem, schedule: { ...schedule, name: arg } };
}
