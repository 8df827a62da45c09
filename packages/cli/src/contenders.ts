// Schedulers compared on one problem under common random numbers: static schedules replayed in WebAssembly,
// dynamic heuristics run in the WebAssembly environment's built-in policies (their timelines in the TypeScript
// executor). Episode e meets the same noise in every one of them.
import {
  ConfigError,
  UserError,
  createSimulator,
  withNoise,
  splitIntoChunks,
  type Problem,
  type Schedule,
  type Timeline,
} from '@pprl/core-wasm';
import {
  HEURISTICS,
  SCHEDULES,
  findSchedule,
  heuristicEpisodes,
  runHeuristic,
  type ScheduleInfo,
} from '@pprl/schedulers';
import {
  checkProblemRunnable,
  loadPolicy,
  planName,
  policyEnvOptions,
  policyMakespans,
  policySchedules,
  type LoadedPolicy,
  type ProblemFields,
} from '@pprl/rl';
import { optimalSchedule, robustSchedule } from '@pprl/opt';
import { didYouMean } from './suggest.js';

export interface ContenderRun {
  makespan: Float64Array;
  /** Summed busy time over devices, per episode. */
  busy: Float64Array;
  peakMemory: number[];
}

export interface Contender {
  name: string;
  kind: 'static' | 'heuristic' | 'learned';
  /** The problem this contender runs (V schedules run the same model cut into 2 chunks per device). */
  problem: Problem;
  /** Episodes 0..K-1 at noise cv (compute and comm); `undefined` keeps the problem's own noise settings. */
  run(cv: number | undefined, episodes: number): Promise<ContenderRun>;
  timeline(cv: number | undefined, episode: number): Promise<Timeline>;
}

/** Moved to @pprl/core-wasm (problem transforms); re-exported for existing imports. */
export { splitIntoChunks };

/** The same model and total work with V = 2 chunks per device in V placement: half the cost and memory per chunk. */
export function asVProblem(problem: Problem): Problem {
  return splitIntoChunks(problem, 2, 'v');
}

const withOptionalNoise = (problem: Problem, cv: number | undefined) =>
  cv === undefined ? problem : withNoise(problem, cv);

export function staticContender(label: string, scheduleName: string, problem: Problem): Contender {
  const schedule: Schedule = findSchedule(scheduleName).build(problem);
  return replayContender(label, problem, async () => schedule);
}

/** A static contender of a schedule already built (e.g. a searched one), replayed in WebAssembly. */
export function builtScheduleContender(label: string, problem: Problem, schedule: Schedule): Contender {
  return replayContender(label, problem, async () => schedule);
}

/** A static contender: the schedule `scheduleAt` gives for the problem at each noise level, replayed in WebAssembly. */
function replayContender(name: string, problem: Problem, scheduleAt: (p: Problem) => Promise<Schedule>): Contender {
  return {
    name,
    kind: 'static',
    problem,
    async run(cv, episodes) {
      const p = withOptionalNoise(problem, cv);
      const sim = await createSimulator();
      const r = sim.replay(p, await scheduleAt(p), { episodes });
      const P = problem.stages;
      const busy = new Float64Array(episodes);
      for (let e = 0; e < episodes; e++) for (let d = 0; d < P; d++) busy[e] = busy[e]! + r.busy[e * P + d]!;
      return { makespan: r.makespan, busy, peakMemory: Array.from(r.peakMemory) };
    },
    async timeline(cv, episode) {
      const p = withOptionalNoise(problem, cv);
      const sim = await createSimulator();
      return sim.replay(p, await scheduleAt(p), { episodes: 1, episodeStart: episode, timelineEpisode: episode })
        .timeline!;
    },
  };
}

/** Static schedules found by search (@pprl/opt): built on first use, `robust` once per noise level. */
export const SEARCHED_SCHEDULES = [
  {
    name: 'optimal',
    description:
      'the best static orders found for the noise-free problem ' +
      '(local search from every known schedule, under the memory limit)',
  },
  {
    name: 'robust',
    description:
      'the static orders with the lowest mean makespan over 32 sampled noise scenarios ' +
      '(held out from evaluation episodes)',
  },
] as const;

/** The schedule `optimal` or `robust` builds for a problem (robust at the problem's own noise). */
export async function searchedSchedule(name: string, problem: Problem): Promise<Schedule> {
  if (name === 'optimal') return (await optimalSchedule(problem)).schedule;
  if (name === 'robust') return (await robustSchedule(problem)).schedule;
  throw new Error(`not a searched schedule: ${name}`);
}

export function searchedContender(name: string, problem: Problem, label = name): Contender {
  const built = new Map<number, Promise<Schedule>>();
  // optimal ignores the noise; robust is optimized for the noise it will be judged at
  return replayContender(label, problem, (p) => {
    const key = name === 'optimal' ? 0 : p.noise.cv;
    let s = built.get(key);
    if (!s) {
      s = searchedSchedule(name, p);
      built.set(key, s);
    }
    return s;
  });
}

export function heuristicContender(name: string, problem: Problem): Contender {
  return {
    name,
    kind: 'heuristic',
    problem,
    async run(cv, episodes) {
      // episodes 0..K-1 in the environment's copy of the rule: bit for bit runHeuristic's, deadlocks diagnosed by it
      const r = await heuristicEpisodes(withOptionalNoise(problem, cv), name, { episodes });
      return { makespan: r.makespan, busy: r.busy, peakMemory: r.peakMemory };
    },
    async timeline(cv, episode) {
      // one episode with its timeline: the TypeScript executor, the oracle the environment is tested against
      return runHeuristic(withOptionalNoise(problem, cv), name, { episode, timeline: true }).timeline!;
    },
  };
}

/**
 * The problem a trained policy runs for a model problem: the model split into the policy's chunks per device when it
 * was trained with more than one and the model has one (as ZB-V runs it), else the problem itself.
 */
export function problemForPolicy(policy: LoadedPolicy, problem: Problem, policyChunks?: number): Problem {
  const trained = policy.problem;
  if (!trained) {
    // a policy trained on a problem set or ranges has no chunk count of its own: --policy-chunks (default 1)
    const V = policyChunks ?? 1;
    return V > 1 && problem.chunks === 1 ? splitIntoChunks(problem, V, 'v') : problem;
  }
  if (policyChunks !== undefined && policyChunks !== trained.chunks)
    throw new ConfigError(
      '--policy-chunks',
      'is for policies trained on a problem set or ranges; ' +
        `this one runs the model as it was trained (V = ${trained.chunks}, not ${policyChunks})`,
    );
  if (trained.chunks === 1 || problem.chunks !== 1) return problem;
  return splitIntoChunks(problem, trained.chunks, trained.placement);
}

/** The policy with its plan built for `problem`: a policy trained with a teacher observes the teacher's next op. */
export function withPlan(policy: LoadedPolicy, problem: Problem): LoadedPolicy & { plan?: Schedule } {
  if (policy.config.teacher === undefined) return policy;
  const name = planName(policy, problem.chunks);
  if (name === undefined)
    throw new UserError(
      "the policy observes its teacher's plan, " +
        `but its teacher names no schedule for ${problem.chunks} chunks per device (--chunks)`,
    );
  try {
    return { ...policy, plan: findSchedule(name).build(problem) };
  } catch (e) {
    if (e instanceof UserError)
      throw new UserError(`the policy's plan ${name} cannot be built for this problem: ${e.message.split('; ')[0]}`);
    throw e;
  }
}

/**
 * A trained PPO policy (greedy) from a checkpoint or run directory. Makespans come from the WebAssembly environment;
 * busy time, peak memory and timelines from replaying each episode's per-device order, which reproduces the episode
 * (the policies cannot wait unless trained with allowWait).
 */
export function ppoContender(label: string, dir: string, model: Problem, policyChunks?: number): Contender {
  return loadedPolicyContender(label, loadPolicy(dir), model, policyChunks);
}

/** The command-line names of the problem's fields, for a problem given by options that a policy cannot run. */
export const PROBLEM_OPTION_FIELDS: ProblemFields = {
  memLimit: '--mem-limit',
  microBatches: '--micro-batches',
  memoryRule: "the policy's memoryRule",
  noLimit: 'omit --mem-limit for none',
};

/** As ppoContender, for a policy already loaded. */
export function loadedPolicyContender(
  label: string,
  loaded: LoadedPolicy,
  model: Problem,
  policyChunks?: number,
): Contender {
  const problem = problemForPolicy(loaded, model, policyChunks);
  const policy = withPlan(loaded, problem);
  return {
    name: label,
    kind: 'learned',
    problem,
    async run(cv, episodes) {
      const p = withOptionalNoise(problem, cv);
      // episodes that deadlock or leave the policy nothing to decide: one line naming the option, not a trap
      await checkProblemRunnable(p, policyEnvOptions(loaded), PROBLEM_OPTION_FIELDS, {
        numEnvs: Math.min(episodes, 64),
        context: ` (policy ${label})`,
      });
      const makespan = await policyMakespans(policy, p, episodes, 0);
      const schedules = await policySchedules(policy, p, episodes, 0);
      const sim = await createSimulator();
      const busy = new Float64Array(episodes);
      const peak = new Array<number>(problem.stages).fill(0);
      schedules.forEach((schedule, e) => {
        const r = sim.replay(p, schedule, { episodes: 1, episodeStart: e });
        for (let d = 0; d < problem.stages; d++) busy[e] = busy[e]! + r.busy[d]!;
        r.peakMemory.forEach((x, d) => (peak[d] = Math.max(peak[d]!, x)));
      });
      return { makespan, busy, peakMemory: peak };
    },
    async timeline(cv, episode) {
      const p = withOptionalNoise(problem, cv);
      const [schedule] = await policySchedules(policy, p, 1, episode);
      const sim = await createSimulator();
      return sim.replay(p, schedule!, { episodes: 1, episodeStart: episode, timelineEpisode: episode }).timeline!;
    },
  };
}

/**
 * The problem a schedule runs: the problem itself, or, for a schedule built for several chunks per device (zb-v,
 * interleaved-1f1b, ...) on a problem with one, the same model split into that many chunks.
 */
export function problemForSchedule(info: ScheduleInfo, problem: Problem): Problem {
  const chunks = info.chunks ?? 2;
  return problem.chunks === 1 && chunks > 1 ? splitIntoChunks(problem, chunks, info.placement ?? 'loop') : problem;
}

/** Every name `contenderFor` accepts: the static schedules, then the dynamic heuristics. */
export function contenderNames(): string[] {
  return [...SCHEDULES.map((s) => s.name), ...SEARCHED_SCHEDULES.map((s) => s.name), ...HEURISTICS.map((h) => h.name)];
}

/**
 * The contender of a scheduler name on a problem of P devices. A schedule built for several chunks per device
 * (zb-v, interleaved-1f1b, ...) runs the same model split into chunks when the problem has 1 chunk per device.
 * Errors name the --schedulers flag and the scheduler.
 */
export function contenderFor(name: string, problem: Problem, policyChunks?: number): Contender {
  if (name.startsWith('ppo:')) {
    try {
      return ppoContender(name, name.slice(4), problem, policyChunks);
    } catch (e) {
      if (e instanceof ConfigError && e.field === '--policy-chunks') throw e;
      if (e instanceof UserError) throw new ConfigError('--schedulers', `${name}: ${e.message}`);
      throw e;
    }
  }
  if (HEURISTICS.some((h) => h.name === name)) return heuristicContender(name, problem);
  if (SEARCHED_SCHEDULES.some((s) => s.name === name)) return searchedContender(name, problem);
  const info = SCHEDULES.find((s) => s.name === name);
  if (!info)
    throw new ConfigError(
      '--schedulers',
      `unknown scheduler "${name}"${didYouMean(name, contenderNames())}; ` +
        `valid names: ${contenderNames().join(', ')}, ppo:<checkpoint dir>`,
    );
  try {
    return staticContender(name, name, problemForSchedule(info, problem));
  } catch (e) {
    if (e instanceof UserError) throw new ConfigError('--schedulers', `${name}: ${e.message}`);
    throw e;
  }
}
