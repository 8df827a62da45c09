// The clairvoyant oracle of one episode: with every realized duration known in advance, the best per-device orders
// we can find under the memory limit. Seeded with every known schedule and heuristic, improved by local search on
// the WebAssembly replay, polished by a HiGHS MILP under a time limit; proven optimal when it meets a lower bound.
import { UserError, type Problem } from '@pprl/core-wasm';
import { lowerBound, type LowerBound } from './bounds.js';
import { episodeInstance } from './instance.js';
import { polishWithMilp } from './milp.js';
import { evaluateOrders, type Orders } from './order.js';
import { searchOrders } from './search.js';
import { heuristicStarts, staticStarts, type NamedOrders } from './starts.js';

export interface OracleOptions {
  /** Local-search replays per episode (deterministic). Default 20000. */
  evaluations?: number;
  /** Seconds of MILP polish per episode; 0 skips it (then the result is deterministic). Default 0. */
  timeLimit?: number;
  /** Seed of the search's moves (and of HiGHS). Default 0. */
  seed?: number;
  /** More starting orders, e.g. a learned policy's realized order on this episode. */
  extraStarts?: NamedOrders[];
}

export interface OracleResult {
  episode: number;
  /** Makespan of the best orders found. */
  makespan: number;
  /** The best valid lower bound: the combinatorial bounds, or a whole-problem MILP's dual bound when higher. */
  lowerBound: number;
  bound: LowerBound;
  /** Whether `makespan` is proven optimal, and how. */
  proven: boolean;
  provenBy: 'bound' | 'milp' | null;
  /** The best starting order. */
  start: { name: string; makespan: number };
  /** After the local search, before the MILP. */
  searchMakespan: number;
  milpSubproblems: number;
  orders: Orders;
}

/** Relative slack under which a makespan counts as meeting a bound (floating-point sums differ in the last bits). */
export const PROOF_TOLERANCE = 1e-9;

export async function clairvoyantOracle(
  problem: Problem,
  episode: number,
  opts: OracleOptions = {},
): Promise<OracleResult> {
  const inst = episodeInstance(problem, episode);
  const bound = lowerBound(inst);
  const starts = [
    ...staticStarts(problem, inst),
    ...heuristicStarts(problem, inst, episode),
    ...(opts.extraStarts ?? []),
  ];
  // a limit below what any order can run in (e.g. below one micro-batch's forwards on a device) is the user's to fix
  if (starts.length === 0)
    throw new UserError(
      `no known schedule or heuristic runs within the memory limit ${problem.memLimit} per device ` +
        `(P=${problem.stages} V=${problem.chunks} M=${problem.microBatches}); raise the limit`,
    );
  const meets = (m: number, lb: number) => m <= lb * (1 + PROOF_TOLERANCE);
  const seed = opts.seed ?? 0;
  const searched = await searchOrders(
    problem,
    inst,
    { start: episode, count: 1 },
    starts.map((s) => s.orders),
    {
      evaluations: opts.evaluations ?? 20000,
      target: bound.value * (1 + PROOF_TOLERANCE),
      seed: (seed ^ Math.imul(episode + 1, 0x9e3779b1)) >>> 0,
    },
  );
  const start = { name: starts[searched.startIndex]!.name, makespan: searched.startMakespan };
  let orders = searched.orders;
  let makespan = searched.makespan;
  let lb = bound.value;
  let provenBy: OracleResult['provenBy'] = meets(makespan, lb) ? 'bound' : null;
  let milpSubproblems = 0;
  const timeLimit = opts.timeLimit ?? 0;
  if (provenBy === null && timeLimit > 0) {
    const polished = await polishWithMilp(inst, orders, { timeLimit, seed });
    milpSubproblems = polished.subproblems;
    if (polished.makespan < makespan) {
      orders = polished.orders;
      makespan = evaluateOrders(inst, orders)!.makespan;
    }
    if (polished.dualBound > lb) lb = Math.min(polished.dualBound, makespan);
    if (polished.proven) provenBy = 'milp';
    else if (meets(makespan, lb)) provenBy = 'bound';
  }
  return {
    episode,
    makespan,
    lowerBound: lb,
    bound,
    proven: provenBy !== null,
    provenBy,
    start,
    searchMakespan: searched.makespan,
    milpSubproblems,
    orders,
  };
}
