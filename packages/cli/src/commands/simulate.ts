// pprl simulate: replay a schedule (or run a heuristic) for K episodes under noise and summarize.
import { Command } from 'commander';
import { createSimulator, summarize, summarizeReplay, type Problem, type ReplaySummary } from '@pprl/core-wasm';
import { runHeuristic } from '@pprl/schedulers';
import { addProblemOptions, numberOption, type ProblemOptions } from '../problem-options.js';
import { printJson, table } from '../output.js';
import { resolveScheduleSource } from '../schedule-source.js';
import { ConfigError } from '@pprl/core-wasm';

interface SimulateOptions extends ProblemOptions {
  episodes?: string;
  json?: boolean;
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
  memoryViolations: { device: number; peak: number; limit: number; excess: number }[];
}

export function episodesOption(text: string | undefined, fallback: number): number {
  const k = numberOption('--episodes', text) ?? fallback;
  if (!Number.isInteger(k) || k < 1 || k > 10_000_000) throw new ConfigError('--episodes', `must be an integer in [1, 10000000] (got ${text})`);
  return k;
}

/** Runs one scheduler on a problem for K episodes (from episode 0) and summarizes. */
export async function simulateSource(source: ReturnType<typeof resolveScheduleSource>, episodes: number): Promise<SimulateOutput> {
  const problem: Problem = source.problem;
  let summary: ReplaySummary;
  let engine: SimulateOutput['engine'] = 'wasm';
  let violations: SimulateOutput['memoryViolations'] = [];
  if (source.kind === 'static') {
    const sim = await createSimulator();
    const result = sim.replay(problem, source.schedule, { episodes });
    summary = summarizeReplay(problem, result);
    violations = result.memoryViolations;
  } else {
    // dynamic heuristics decide as they go: run each episode in the TypeScript executor
    engine = 'reference';
    const makespan = new Float64Array(episodes);
    const span = new Float64Array(episodes);
    const bubble = new Float64Array(episodes);
    const spanBubble = new Float64Array(episodes);
    const peak = new Float64Array(problem.stages);
    for (let e = 0; e < episodes; e++) {
      const r = runHeuristic(problem, source.name, { episode: e });
      const busy = r.busy.reduce((a, b) => a + b, 0);
      makespan[e] = r.makespan;
      span[e] = r.span;
      bubble[e] = 1 - busy / (problem.stages * r.makespan);
      spanBubble[e] = 1 - busy / (problem.stages * r.span);
      r.peakMemory.forEach((p, d) => (peak[d] = Math.max(peak[d]!, p)));
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
  };
}

export function simulateCommand(): Command {
  const cmd = new Command('simulate')
    .description('replay a schedule (name, .json or torch .csv file) or run a heuristic for K episodes under noise')
    .argument('<schedule>', 'schedule name, heuristic name (greedy-*), or a .json / .csv schedule file')
    .option('--episodes <K>', 'episodes (noise draws); default 1 without noise, 1000 with noise')
    .option('--json', 'print one JSON object (fields in docs/SEMANTICS.md section 5)');
  addProblemOptions(cmd);
  cmd.addHelpText('after', '\nExample:\n  pprl simulate zb-h1 --stages 4 --micro-batches 16 --cost-f 1 --cost-b 1.2 --cost-w 0.9 --comm 0.1 --noise 0.2 --episodes 1000 --json');
  cmd.action(async (name: string, opts: SimulateOptions) => {
    const source = resolveScheduleSource(name, opts);
    const episodes = episodesOption(opts.episodes, source.problem.noise.cv > 0 || source.problem.noise.anomalyProb > 0 ? 1000 : 1);
    const out = await simulateSource(source, episodes);
    if (opts.json) return printJson(out);
    const s = (k: 'makespan' | 'span') => [k, out[k].mean, out[k].p50, out[k].p95, out[k].p99, out[k].min, out[k].max];
    console.log(`${out.schedule}: P=${out.stages} V=${out.chunks} M=${out.microBatches}, ${episodes} episode(s), noise cv ${out.noise} (${out.engine})`);
    console.log(table(['', 'mean', 'p50', 'p95', 'p99', 'min', 'max'], [s('makespan'), s('span')]));
    console.log(`bubble rate ${(100 * out.bubbleRate.mean).toFixed(2)}% (by span ${(100 * out.spanBubbleRate.mean).toFixed(2)}%)`);
    console.log(`peak memory per device: ${out.peakMemory.map((x) => +x.toPrecision(6)).join(', ')}`);
    for (const v of out.memoryViolations) console.log(`memory limit exceeded on device ${v.device}: peak ${v.peak} > limit ${v.limit}`);
  });
  return cmd;
}
