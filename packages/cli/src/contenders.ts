// Schedulers compared on one problem under common random numbers: static schedules replayed in WebAssembly,
// dynamic heuristics run in the TypeScript executor. Episode e meets the same noise in every one of them.
import {
  createSimulator,
  resolveProblem,
  type ParsedProblemConfig,
  type Problem,
  type Schedule,
  type Timeline,
} from '@pprl/core-wasm';
import { findSchedule, runHeuristic } from '@pprl/schedulers';

export interface ContenderRun {
  makespan: Float64Array;
  /** Summed busy time over devices, per episode. */
  busy: Float64Array;
  peakMemory: number[];
}

export interface Contender {
  name: string;
  kind: 'static' | 'heuristic';
  /** The problem this contender runs (V schedules run the same model cut into 2 chunks per device). */
  problem: Problem;
  run(cv: number, episodes: number): Promise<ContenderRun>;
  timeline(cv: number, episode: number): Promise<Timeline>;
}

/** The same model and total work with V = 2 chunks per device in V placement: half the cost and memory per chunk. */
export function asVProblem(problem: Problem): Problem {
  const c = problem.config;
  const half = (l: number[]) => l.map((x) => x / 2);
  const v: ParsedProblemConfig = {
    ...c,
    chunks: 2,
    placement: 'v',
    cost: { F: half(c.cost.F), B: half(c.cost.B), W: half(c.cost.W) },
    memory: { ...c.memory, F: half(c.memory.F), B: half(c.memory.B), W: half(c.memory.W) },
  };
  if (c.cost.F.length > 1 || c.memory.F.length > 1) throw new Error('asVProblem needs uniform stages');
  return resolveProblem(v);
}

export function withNoise(problem: Problem, cv: number): Problem {
  return resolveProblem({ ...problem.config, noise: { ...problem.config.noise, cv, commCv: cv } });
}

export function withLimit(problem: Problem, limit: number | null): Problem {
  return resolveProblem({ ...problem.config, memory: { ...problem.config.memory, limit } });
}

export function staticContender(label: string, scheduleName: string, problem: Problem): Contender {
  const schedule: Schedule = findSchedule(scheduleName).build(problem);
  return {
    name: label,
    kind: 'static',
    problem,
    async run(cv, episodes) {
      const sim = await createSimulator();
      const r = sim.replay(withNoise(problem, cv), schedule, { episodes });
      const P = problem.stages;
      const busy = new Float64Array(episodes);
      for (let e = 0; e < episodes; e++) for (let d = 0; d < P; d++) busy[e] = busy[e]! + r.busy[e * P + d]!;
      return { makespan: r.makespan, busy, peakMemory: Array.from(r.peakMemory) };
    },
    async timeline(cv, episode) {
      const sim = await createSimulator();
      return sim.replay(withNoise(problem, cv), schedule, { episodes: 1, episodeStart: episode, timelineEpisode: episode }).timeline!;
    },
  };
}

export function heuristicContender(name: string, problem: Problem): Contender {
  return {
    name,
    kind: 'heuristic',
    problem,
    async run(cv, episodes) {
      const p = withNoise(problem, cv);
      const makespan = new Float64Array(episodes);
      const busy = new Float64Array(episodes);
      const peak = new Array<number>(problem.stages).fill(0);
      for (let e = 0; e < episodes; e++) {
        const r = runHeuristic(p, name, { episode: e });
        makespan[e] = r.makespan;
        busy[e] = r.busy.reduce((a, b) => a + b, 0);
        r.peakMemory.forEach((x, d) => (peak[d] = Math.max(peak[d]!, x)));
      }
      return { makespan, busy, peakMemory: peak };
    },
    async timeline(cv, episode) {
      return runHeuristic(withNoise(problem, cv), name, { episode, timeline: true }).timeline!;
    },
  };
}
