// Dynamic heuristics: priority rules over the eligible op classes of an idle device (docs/SEMANTICS.md section 4).
// They run in the dynamic executor of @pprl/core-wasm and become built-in policies of the RL environment, so each
// rule is stated exactly. None of them ever waits, so their realized orders replay statically to the same times.
// runHeuristic (the TypeScript executor) is the oracle and gives orders and timelines; heuristicEpisodes runs many
// episodes in the environment's built-in copies of the rules, with the same results bit for bit.
import {
  ConfigError,
  EnvError,
  envRemainingPath,
  runDynamic,
  UserError,
  WasmEnv,
  type BuiltinPolicy,
  type DynamicOptions,
  type DynamicPolicy,
  type DynamicResult,
  type MemoryRule,
  type Problem,
} from '@pprl/core-wasm';

const KIND_F = 0;
const KIND_B = 1;
const KIND_W = 2;

export interface Heuristic {
  /** `greedy-*`, lowercase with hyphens. */
  name: string;
  description: string;
  /** Builds the policy for a problem (rules that need per-stage tables compute them here, once). */
  policy: (problem: Problem) => DynamicPolicy;
}

/**
 * The eligible class of the first kind in `kinds` that has one; within a kind, the lowest next micro-batch (the
 * oldest work: it closes micro-batches and frees memory soonest), then the lower chunk. Only W can tie on the
 * micro-batch (F(m) on a later chunk waits for F(m) on an earlier one, B(m) the other way round). With V = 1
 * each kind has one class, so only the kind order acts.
 */
function byKindOrder(kinds: readonly number[]): DynamicPolicy {
  return (view) => {
    for (const kind of kinds) {
      let best = -1;
      for (let c = 0; c < view.chunks; c++) {
        const k = c * 3 + kind;
        if (view.mask[k] === 1 && (best < 0 || view.nextMb[k]! < view.nextMb[best]!)) best = k;
      }
      if (best >= 0) return best;
    }
    throw new Error(`no eligible class on device ${view.device} at time ${view.time}`);
  };
}

/**
 * Longest base-cost path from the start of each op (kind, stage) to the end of its micro-batch, comm included
 * where adjacent stages sit on different devices: W(s) = w(s); B(s) = b(s) + max(w(s), comm + B(s-1)) (B(0) =
 * b(0) + w(0)); F(s) = f(s) + comm + F(s+1), and F(S-1) = f(S-1) + B(S-1). Indexed kind * S + stage.
 */
export const remainingPath: (problem: Problem) => Float64Array = envRemainingPath;

/** Kind rank for the critical-path tie: B > F > W. */
const CP_KIND_RANK = [1, 2, 0];

function criticalPath(problem: Problem): DynamicPolicy {
  const S = problem.numStages;
  const path = remainingPath(problem);
  return (view) => {
    let best = -1;
    let bestLen = -Infinity;
    for (let k = 0; k < view.classes; k++) {
      if (view.mask[k] !== 1) continue;
      const kind = k % 3;
      const len = path[kind * S + view.stage[(k / 3) | 0]!]!;
      if (best < 0 || len > bestLen) {
        best = k;
        bestLen = len;
        continue;
      }
      if (len < bestLen) continue;
      const bestKind = best % 3;
      if (CP_KIND_RANK[kind]! !== CP_KIND_RANK[bestKind]!) {
        if (CP_KIND_RANK[kind]! > CP_KIND_RANK[bestKind]!) best = k;
      } else if (view.nextMb[k]! < view.nextMb[best]!) best = k;
    }
    return best;
  };
}

export const HEURISTICS: readonly Heuristic[] = [
  {
    name: 'greedy-zb',
    description:
      'zero-bubble greedy: B, else F (within the memory limit), else W (W only fills what would be bubbles); ' +
      'within a kind the lowest micro-batch, then the lower chunk',
    policy: () => byKindOrder([KIND_B, KIND_F, KIND_W]),
  },
  {
    name: 'greedy-ffirst',
    description: 'forward first: F (within the memory limit), else B, else W; ties as greedy-zb',
    policy: () => byKindOrder([KIND_F, KIND_B, KIND_W]),
  },
  {
    name: 'greedy-cp',
    description:
      'critical path: the eligible op with the longest base-cost path (comm included) to the end of its ' +
      "micro-batch's backward; ties B > F > W, then the lowest micro-batch, then the lowest chunk",
    // An F's path contains the rest of its micro-batch, so with F costs > 0 any F outranks any B: the rule is
    // forward-first, earlier stages' F's first, and it lets a heavy W go before a B with a shorter path.
    policy: criticalPath,
  },
];

function findHeuristic(name: string): Heuristic {
  const heuristic = HEURISTICS.find((h) => h.name === name);
  if (!heuristic)
    throw new UserError(`unknown heuristic "${name}" (known: ${HEURISTICS.map((h) => h.name).join(', ')})`);
  return heuristic;
}

/** Runs the named heuristic on one episode of the problem; throws a UserError for an unknown name. */
export function runHeuristic(problem: Problem, name: string, opts: DynamicOptions = {}): DynamicResult {
  return runDynamic(problem, findHeuristic(name).policy(problem), { name, ...opts });
}

export interface HeuristicEpisodesOptions {
  /** K: episodes episodeStart .. episodeStart + K - 1. */
  episodes: number;
  /** Default 0. */
  episodeStart?: number;
  /** Default `reserve`, as runHeuristic's. */
  memoryRule?: MemoryRule;
}

/** Per-episode results of a heuristic (docs/SEMANTICS.md section 3); entry j is episode episodeStart + j. */
export interface HeuristicEpisodes {
  makespan: Float64Array;
  span: Float64Array;
  /** Busy time: the realized op durations summed per device, then over the devices. */
  busy: Float64Array;
  /** Per device: the largest memory level over the episodes. */
  peakMemory: number[];
}

/**
 * Runs the named heuristic on K consecutive episodes in the WebAssembly environment's built-in copy of its rule
 * (WasmEnv.runEpisodeStats): per episode exactly the makespan, span and busy time (summed over the devices in device
 * order) that runHeuristic gives, and the per-device peak memory over the episodes. An episode that deadlocks is
 * run again in runHeuristic, whose DeadlockError names the blocked ops; the episodes run in index order, so the
 * error is the first deadlock's, as with a loop over runHeuristic. A problem the environment does not take runs
 * in runHeuristic altogether. Throws a UserError for an unknown name.
 */
export async function heuristicEpisodes(
  problem: Problem,
  name: string,
  opts: HeuristicEpisodesOptions,
): Promise<HeuristicEpisodes> {
  findHeuristic(name);
  const { episodes, episodeStart = 0, memoryRule } = opts;
  if (!(Number.isInteger(episodes) && episodes >= 0))
    throw new RangeError(`episodes must be a non-negative integer (got ${episodes})`);
  const P = problem.stages;
  const out: HeuristicEpisodes = {
    makespan: new Float64Array(episodes),
    span: new Float64Array(episodes),
    busy: new Float64Array(episodes),
    peakMemory: new Array<number>(P).fill(0),
  };
  if (episodes === 0) return out;
  const dynamic: DynamicOptions = memoryRule === undefined ? {} : { memoryRule };
  // one environment: its evaluation block runs the episodes in index order
  let env: WasmEnv;
  try {
    env = await WasmEnv.create({ problem, numEnvs: 1, episodeStart, ...dynamic });
  } catch (e) {
    // refused (more chunks than the environment holds, too large, a deadlock before the stepped environment's
    // first decision): the TypeScript executor runs every episode, and raises what it raises
    if (!(e instanceof ConfigError || e instanceof EnvError)) throw e;
    for (let j = 0; j < episodes; j++)
      record(out, j, runHeuristic(problem, name, { ...dynamic, episode: episodeStart + j }));
    return out;
  }
  try {
    const stats = env.runEpisodeStats(name as BuiltinPolicy, episodes, episodeStart);
    out.makespan.set(stats.makespan);
    out.span.set(stats.span);
    out.busy.set(stats.busy);
    for (let d = 0; d < P; d++) out.peakMemory[d] = stats.peakMemory[d]!;
    // the TypeScript executor diagnoses a deadlock (a DeadlockError listing the blocked ops); should it finish the
    // episode, its results stand
    for (const episode of stats.deadlocked)
      record(out, episode - episodeStart, runHeuristic(problem, name, { ...dynamic, episode }));
  } finally {
    env.dispose();
  }
  return out;
}

/** Episode j of `out` from a runHeuristic result (busy summed as the callers of runHeuristic sum it). */
function record(out: HeuristicEpisodes, j: number, r: DynamicResult): void {
  out.makespan[j] = r.makespan;
  out.span[j] = r.span;
  out.busy[j] = r.busy.reduce((a, b) => a + b, 0);
  r.peakMemory.forEach((x, d) => (out.peakMemory[d] = Math.max(out.peakMemory[d]!, x)));
}
