// Local search over per-device orders, every candidate replayed by the WebAssembly engine on the episodes it is
// judged on (one episode for the clairvoyant oracle, K sampled ones for the robust schedule). Moves shift one op
// within its device's list or swap two; a candidate over the memory limit is rejected before it is replayed, and one
// that deadlocks is rejected by the replay. Simulated annealing on the mean makespan, deterministic given the seed.
import { createSimulator, type PreparedReplay, type Problem } from '@pprl/core-wasm';
import { compileOrders, copyOrders, devicePeak, type Orders } from './order.js';
import type { Instance } from './instance.js';
import seedrandom from 'seedrandom';

export interface SearchOptions {
  /** Candidate replays (the deterministic budget). */
  evaluations: number;
  seed: number;
  /** Furthest an op moves in one step (positions in its device's list). Default 12. */
  reach?: number;
  /** Stop early after this many seconds (then the result depends on the machine's speed). Default none. */
  timeLimit?: number;
  /** Stop as soon as the best value is at most this (a lower bound: nothing better exists). */
  target?: number;
  /** Start temperature as a fraction of the start makespan. Default 0.005. */
  temperature?: number;
}

export interface SearchResult {
  orders: Orders;
  /** Mean makespan of `orders` over the judged episodes. */
  makespan: number;
  /** Makespan of the best starting order. */
  startMakespan: number;
  /** Index of the best starting order in the list given. */
  startIndex: number;
  evaluations: number;
  accepted: number;
  /** True when the time limit stopped the search before its evaluation budget. */
  timedOut: boolean;
}

/** The episodes a search judges orders on: [start, start + count). */
export interface Episodes {
  start: number;
  count: number;
}

/** Replays orders of one problem on fixed episodes; reuses one WebAssembly copy of the problem. */
export class OrderJudge {
  private constructor(
    private readonly replay: PreparedReplay,
    readonly inst: Instance,
    readonly episodes: Episodes,
  ) {}

  /** `inst` supplies the op numbering and memory deltas (its durations are not used: the replay draws its own). */
  static async create(problem: Problem, inst: Instance, episodes: Episodes, first: Orders): Promise<OrderJudge> {
    const sim = await createSimulator();
    return new OrderJudge(sim.prepare(problem, compileOrders(inst, first), episodes.count), inst, episodes);
  }

  /** Mean makespan over the episodes, or Infinity when the orders deadlock. */
  judge(orders: Orders): number {
    this.replay.setOrder(compileOrders(this.inst, orders).ops);
    if (!this.replay.tryRun(this.episodes.start, this.episodes.count)) return Infinity;
    const m = this.replay.makespan;
    let sum = 0;
    for (let i = 0; i < m.length; i++) sum += m[i]!;
    return sum / m.length;
  }

  dispose(): void {
    this.replay.dispose();
  }
}

/** Moves the op at `from` to `to` in place, shifting the ones between. */
function shift(order: Int32Array, from: number, to: number): void {
  const op = order[from]!;
  if (from < to) order.copyWithin(from, from + 1, to + 1);
  else order.copyWithin(to + 1, to, from);
  order[to] = op;
}

function swap(order: Int32Array, i: number, j: number): void {
  const t = order[i]!;
  order[i] = order[j]!;
  order[j] = t;
}

/**
 * Anneals from the best of `starts` (each a memory-feasible order set of the instance's problem). The temperature
 * falls geometrically to 1/1000 of its start; the best orders seen are returned.
 */
export async function searchOrders(
  problem: Problem,
  inst: Instance,
  episodes: Episodes,
  starts: Orders[],
  opts: SearchOptions,
): Promise<SearchResult> {
  if (starts.length === 0) throw new Error('searchOrders needs at least one starting order');
  const judge = await OrderJudge.create(problem, inst, episodes, starts[0]!);
  try {
    let startIndex = 0;
    let startMakespan = Infinity;
    starts.forEach((o, i) => {
      const m = judge.judge(o);
      if (m < startMakespan) {
        startMakespan = m;
        startIndex = i;
      }
    });
    if (!Number.isFinite(startMakespan)) throw new Error('every starting order deadlocks');
    const current = copyOrders(starts[startIndex]!);
    let currentValue = startMakespan;
    let best = copyOrders(current);
    let bestValue = startMakespan;
    const random = seedrandom.alea(`search:${opts.seed}`);
    const reach = opts.reach ?? 12;
    const cap = Number.isFinite(inst.memLimit) ? inst.memLimit * (1 + 1e-9) : Infinity;
    const t0 = (opts.temperature ?? 0.005) * startMakespan;
    const cooling = 1e-3 ** (1 / Math.max(1, opts.evaluations));
    const deadline = opts.timeLimit === undefined ? Infinity : performance.now() + opts.timeLimit * 1000;
    let temperature = t0;
    let evaluations = starts.length;
    let accepted = 0;
    let timedOut = false;
    const devices = current.filter((o) => o.length > 1).length;
    if (devices === 0)
      return { orders: best, makespan: bestValue, startMakespan, startIndex, evaluations, accepted, timedOut };
    const target = opts.target ?? -Infinity;
    while (evaluations < opts.evaluations && bestValue > target) {
      if ((evaluations & 255) === 0 && performance.now() > deadline) {
        timedOut = true;
        break;
      }
      const d = Math.floor(random() * current.length);
      const order = current[d]!;
      const n = order.length;
      if (n < 2) continue;
      const from = Math.floor(random() * n);
      const lo = Math.max(0, from - reach);
      const hi = Math.min(n - 1, from + reach);
      let to = lo + Math.floor(random() * (hi - lo));
      if (to >= from) to++;
      if (to > hi) continue;
      // half the moves shift one op, half swap two (a swap keeps the memory level between them feasible more often)
      const swapping = random() < 0.5;
      const move = () => (swapping ? swap(order, from, to) : shift(order, from, to));
      const undo = () => (swapping ? swap(order, from, to) : shift(order, to, from));
      move();
      if (devicePeak(inst, order) > cap) {
        undo();
        continue;
      }
      const value = judge.judge(current);
      evaluations++;
      temperature *= cooling;
      const delta = value - currentValue;
      if (delta <= 0 || (Number.isFinite(value) && random() < Math.exp(-delta / temperature))) {
        currentValue = value;
        accepted++;
        if (value < bestValue - 1e-12 * bestValue) {
          bestValue = value;
          best = copyOrders(current);
        }
      } else undo();
    }
    return { orders: best, makespan: bestValue, startMakespan, startIndex, evaluations, accepted, timedOut };
  } finally {
    judge.dispose();
  }
}
