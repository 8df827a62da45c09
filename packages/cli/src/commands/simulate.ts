// pprl simulate: replay a schedule (or run a heuristic) for K episodes under noise and summarize.
import { Command } from 'commander';
import {
  createSimulator,
  summarize,
  summarizeReplay,
  type Problem,
  type ReplayResult,
  type ReplaySummary,
  quoteInput,
} from '@pprl/core-wasm';
import { heuristicEpisodes } from '@pprl/schedulers';
import { addProblemOptions, numberOption, type ProblemOptions } from '../problem-options.js';
import { printJson, table } from '../output.js';
import { resolveScheduleSource } from '../schedule-source.js';
import { createProgress, progressWanted, silentProgress, type Progress } from '../progress.js';
import { displayScales } from '../report/html.js';
import { guardWork } from '../size-guard.js';
import { timeScale, unitsOfOptions, type ReportUnits } from '../units.js';
import { ConfigError } from '@pprl/core-wasm';

interface SimulateOptions extends ProblemOptions {
  episodes?: string;
  json?: boolean;
  force?: boolean;
}

/** The JSON object of docs/SEMANTICS.md section 5. */
export interface SimulateOutput extends ReplaySummary {
  schedule: string;
  stages: number;
  microBatches: number;
  chunks: number;
  episodes: number;
  noise: number;
  engine: 'wasm' | 'reference';
  /** Unit of every time field: "us" (microseconds) for a problem built from a profile, null for abstract units. */
  timeUnit: 'us' | null;
  memoryViolations: { device: number; peak: number; limit: number; excess: number }[];
}

export function episodesOption(text: string | undefined, fallback: number): number {
  const k = numberOption('--episodes', text) ?? fallback;
  if (!Number.isInteger(k) || k < 1 || k > 10_000_000)
    throw new ConfigError('--episodes', `must be an integer in [1, 10000000] (got ${quoteInput(text)})`);
  return k;
}

/** Progress steps of a simulation (episodes are replayed in this many slices). */
const PROGRESS_SLICES = 50;

/** One replay result of consecutive slices of episodes (the peak memory is the same in every episode). */
function concatReplays(parts: ReplayResult[]): ReplayResult {
  const cat = (key: 'makespan' | 'span' | 'busy') => {
    const out = new Float64Array(parts.reduce((n, p) => n + p[key].length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p[key], at);
      at += p[key].length;
    }
    return out;
  };
  const first = parts[0]!;
  return {
    ...first,
    episodes: parts.reduce((n, p) => n + p.episodes, 0),
    makespan: cat('makespan'),
    span: cat('span'),
    busy: cat('busy'),
  };
}

/** Runs one scheduler on a problem for K episodes (from episode 0) and summarizes. */
export async function simulateSource(
  source: ReturnType<typeof resolveScheduleSource>,
  episodes: number,
  units: ReportUnits = { time: null, memory: null },
  progress: Progress = silentProgress,
): Promise<SimulateOutput> {
  const problem: Problem = source.problem;
  let summary: ReplaySummary;
  const engine: SimulateOutput['engine'] = 'wasm';
  let violations: SimulateOutput['memoryViolations'] = [];
  if (source.kind === 'static') {
    const sim = await createSimulator();
    // in slices of episodes, so that a long replay can show its progress
    const slice = Math.ceil(episodes / PROGRESS_SLICES);
    const parts: ReplayResult[] = [];
    for (let start = 0; start < episodes; start += slice) {
      parts.push(
        sim.replay(problem, source.schedule, { episodes: Math.min(slice, episodes - start), episodeStart: start }),
      );
      progress.tick();
    }
    const result = concatReplays(parts);
    summary = summarizeReplay(problem, result);
    violations = result.memoryViolations;
  } else {
    // dynamic heuristics decide as they go: the WebAssembly environment's built-in copies of their rules (equal to
    // the TypeScript executor bit for bit, which diagnoses deadlocks), in slices of episodes for the progress
    const makespan = new Float64Array(episodes);
    const span = new Float64Array(episodes);
    const bubble = new Float64Array(episodes);
    const spanBubble = new Float64Array(episodes);
    const peak = new Float64Array(problem.stages);
    const slice = Math.ceil(episodes / PROGRESS_SLICES);
    for (let start = 0; start < episodes; start += slice) {
      const n = Math.min(slice, episodes - start);
      const r = await heuristicEpisodes(problem, source.name, { episodes: n, episodeStart: start });
      for (let j = 0; j < n; j++) {
        const e = start + j;
        const busy = r.busy[j]!;
        makespan[e] = r.makespan[j]!;
        span[e] = r.span[j]!;
        bubble[e] = 1 - busy / (problem.stages * makespan[e]!);
        spanBubble[e] = 1 - busy / (problem.stages * span[e]!);
      }
      r.peakMemory.forEach((p, d) => (peak[d] = Math.max(peak[d]!, p)));
      progress.tick();
    }
    const mean = (a: Float64Array) => a.reduce((s, x) => s + x, 0) / a.length;
    summary = {
      makespan: summarize(makespan),
      span: summarize(span),
      bubbleRate: { mean: mean(bubble) },
      spanBubbleRate: { mean: mean(spanBubble) },
      peakMemory: Array.from(peak),
    };
  }
  return {
    schedule: source.name,
    stages: problem.stages,
    microBatches: problem.microBatches,
    chunks: problem.chunks,
    episodes,
    noise: problem.noise.cv,
    ...summary,
    memoryViolations: violations,
    engine,
    timeUnit: units.time,
  };
}

export function simulateCommand(): Command {
  const cmd = new Command('simulate')
    .description('replay a schedule (name, .json or torch .csv file) or run a heuristic for K episodes under noise')
    .argument('<schedule>', 'schedule name, heuristic name (greedy-*), or a .json / .csv schedule file')
    .option('--episodes <K>', 'episodes (noise draws); default 1 without noise, 1000 with noise')
    .option('--json', 'print one JSON object (fields in docs/SEMANTICS.md section 5)')
    .option('--force', 'run even when the estimated time or memory is beyond the size guard (60 s, 4 GiB)');
  addProblemOptions(cmd);
  cmd.addHelpText(
    'after',
    '\nExample:\n  pprl simulate zb-h1 --stages 4 --micro-batches 16 --cost-f 1 --cost-b 1.2 --cost-w 0.9 --comm 0.1 ' +
      '--noise 0.2 --episodes 1000 --json',
  );
  cmd.action(async (name: string, opts: SimulateOptions) => {
    const episodesFor = (problem: Problem) =>
      episodesOption(opts.episodes, problem.noise.cv > 0 || problem.noise.anomalyProb > 0 ? 1000 : 1);
    const source = resolveScheduleSource(name, opts, (problem, work) =>
      guardWork(
        problem,
        { ...work, episodes: episodesFor(problem) },
        { force: opts.force, note: (line) => process.stderr.write(`${line}\n`) },
      ),
    );
    const episodes = episodesFor(source.problem);
    const units = unitsOfOptions(opts);
    const progress = createProgress({ label: 'simulate', total: PROGRESS_SLICES, enabled: progressWanted(opts.json) });
    let out: SimulateOutput;
    try {
      out = await simulateSource(source, episodes, units, progress);
    } finally {
      progress.done();
    }
    if (opts.json) return printJson(out);
    const t = timeScale(units);
    const s = (k: 'makespan' | 'span') => [
      `${k} (${t.label})`,
      ...[out[k].mean, out[k].p50, out[k].p95, out[k].p99, out[k].min, out[k].max].map((x) => x * t.factor),
    ];
    console.log(
      `${out.schedule}: P=${out.stages} V=${out.chunks} M=${out.microBatches}, ${episodes} episode(s), ` +
        `noise cv ${out.noise} (${out.engine})`,
    );
    console.log(table(['', 'mean', 'p50', 'p95', 'p99', 'min', 'max'], [s('makespan'), s('span')]));
    console.log(
      `bubble rate ${(100 * out.bubbleRate.mean).toFixed(2)}% (by span ${(100 * out.spanBubbleRate.mean).toFixed(2)}%)`,
    );
    const m = displayScales(units).memory;
    const mem = (x: number) => +(x * m.factor).toPrecision(6);
    console.log(`peak memory per device (${m.label}): ${out.peakMemory.map(mem).join(', ')}`);
    for (const v of out.memoryViolations)
      console.log(
        `memory limit exceeded on device ${v.device}: peak ${mem(v.peak)} > limit ${mem(v.limit)} ${m.label}`,
      );
  });
  return cmd;
}
