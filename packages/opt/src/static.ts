// Two static schedules found by search rather than by rule:
// - `optimal`: the best orders for the noise-free problem (cv 0), what the zero-bubble repository's ILP aimed at;
// - `robust`: the orders with the lowest mean makespan over K sampled noise scenarios (sample average
//   approximation), drawn from episodes that no evaluation uses, so it is judged on held-out episodes.
import { withNoise, type Op, type OpKind, type Problem, type Schedule } from '@pprl/core-wasm';
import { episodeInstance, type Instance } from './instance.js';
import { clairvoyantOracle, type OracleOptions } from './oracle.js';
import { ordersOfSchedule, type Orders } from './order.js';
import { searchOrders } from './search.js';
import { heuristicStarts, staticStarts, type NamedOrders } from './starts.js';

/** First episode of the robust schedule's scenarios: far from the evaluation episodes 0, 1, 2, ... */
export const SCENARIO_EPISODE_START = 0x60000000;

const KINDS: readonly OpKind[] = ['F', 'B', 'W'];

/** Orders as a schedule in PPRL's IR (split backward: kinds F, B, W). */
export function scheduleOfOrders(inst: Instance, orders: Orders, name: string): Schedule {
  const { problem, S, M } = inst;
  const devices: Op[][] = orders.map((order) =>
    Array.from(order, (id) => {
      const mb = id % M;
      const ks = (id - mb) / M;
      const stage = ks % S;
      return { kind: KINDS[(ks - stage) / S]!, stage, mb };
    }),
  );
  return {
    stages: problem.stages,
    chunksPerDevice: problem.chunks,
    placement: problem.placement,
    microBatches: M,
    devices,
    name,
  };
}

export interface OptimalSchedule {
  schedule: Schedule;
  /** Its makespan without noise. */
  makespan: number;
  lowerBound: number;
  proven: boolean;
  /** The known schedule it started from. */
  start: { name: string; makespan: number };
}

/** The best static schedule we can find for the problem without noise (the clairvoyant oracle of cv 0). */
export async function optimalSchedule(problem: Problem, opts: OracleOptions = {}): Promise<OptimalSchedule> {
  const quiet = withNoise(problem, 0);
  const r = await clairvoyantOracle(quiet, 0, { evaluations: 50000, ...opts });
  return {
    schedule: scheduleOfOrders(episodeInstance(quiet, 0), r.orders, 'optimal'),
    makespan: r.makespan,
    lowerBound: r.lowerBound,
    proven: r.proven,
    start: r.start,
  };
}

export interface RobustOptions {
  /** K: noise scenarios the mean is taken over. Default 32. */
  scenarios?: number;
  /** Local-search candidates (each replays K episodes). Default 4000. */
  evaluations?: number;
  seed?: number;
}

export interface RobustSchedule {
  schedule: Schedule;
  /** Mean makespan over the K scenarios it was optimized on (in-sample: judge it on other episodes). */
  scenarioMean: number;
  /** The best starting order on the scenarios. */
  start: { name: string; scenarioMean: number };
  scenarios: { start: number; count: number };
}

/**
 * The static schedule with the lowest mean makespan over K noise scenarios of the problem (its own noise
 * settings), found by local search from every known schedule, the heuristics' realized orders and `optimal`.
 */
export async function robustSchedule(problem: Problem, opts: RobustOptions = {}): Promise<RobustSchedule> {
  const count = opts.scenarios ?? 32;
  const scenarios = { start: SCENARIO_EPISODE_START, count };
  const inst = episodeInstance(problem, SCENARIO_EPISODE_START);
  const optimal = await optimalSchedule(problem, { evaluations: 20000, seed: opts.seed ?? 0 });
  const starts: NamedOrders[] = [
    ...staticStarts(problem, inst),
    { name: 'optimal', orders: ordersOfSchedule(inst, optimal.schedule) },
    ...heuristicStarts(withNoise(problem, 0), inst, 0).map((s) => ({ ...s, name: `${s.name} (cv 0)` })),
    ...heuristicStarts(problem, inst, SCENARIO_EPISODE_START),
  ];
  const r = await searchOrders(
    problem,
    inst,
    scenarios,
    starts.map((s) => s.orders),
    {
      evaluations: opts.evaluations ?? 4000,
      seed: opts.seed ?? 0,
    },
  );
  return {
    schedule: scheduleOfOrders(inst, r.orders, 'robust'),
    scenarioMean: r.makespan,
    start: { name: starts[r.startIndex]!.name, scenarioMean: r.startMakespan },
    scenarios,
  };
}
