// The MILP polish of the oracle (HiGHS compiled to WebAssembly, the `highs` package). A MILP over the whole problem
// proves little at realistic sizes (its big-M relaxation is weak), so it is used the other way round: the local
// search's incumbent stays fixed except for a time window, whose ops on every device are reordered optimally,
// memory limit included; windows slide across the schedule. On small problems the whole MILP is also tried, and
// when HiGHS solves it to optimality the oracle is proven.
import * as highsModule from 'highs';
import type { Highs } from 'highs';
import { KIND_F, KIND_W, forEachPredecessor, type Instance } from './instance.js';
import { evaluateOrders, withinMemory, type Orders } from './order.js';

// the package's types are CommonJS-flavoured, its ESM build has the loader as the default export
type Loader = () => Promise<Highs>;
const loadHighs: Loader = (highsModule as unknown as { default: Loader }).default;
let highs: Promise<Highs> | undefined;
const solver = () => (highs ??= loadHighs());

export interface MilpPolishOptions {
  /** Wall-clock seconds for the whole polish. */
  timeLimit: number;
  /** About this many ops per device are freed in one window. Default 8. */
  window?: number;
  seed?: number;
}

export interface MilpPolishResult {
  orders: Orders;
  makespan: number;
  improved: boolean;
  /** A whole-problem MILP was solved to optimality: `makespan` is optimal. */
  proven: boolean;
  /** A valid lower bound from a whole-problem MILP, or -Infinity when none ran. */
  dualBound: number;
  subproblems: number;
}

/** Whole-problem MILPs are tried up to this many order binaries. */
const EXACT_MAX_PAIRS = 400;

/** Position of an op in its micro-batch's chain F(0..S-1), B(S-1..0); W(s) comes after B(s). */
function chainRank(inst: Instance, id: number): { mb: number; kind: number; stage: number; rank: number } {
  const { S, M } = inst;
  const mb = id % M;
  const ks = (id - mb) / M;
  const stage = ks % S;
  const kind = (ks - stage) / S;
  const rank = kind === KIND_F ? stage : 2 * S - 1 - stage;
  return { mb, kind, stage, rank };
}

/** Whether op i must precede op j (a path in the dependency graph; only ops of one micro-batch are linked). */
function precedes(inst: Instance, i: number, j: number): boolean {
  const a = chainRank(inst, i);
  const b = chainRank(inst, j);
  if (a.mb !== b.mb || a.kind === KIND_W) return false;
  if (b.kind === KIND_W) return a.rank <= 2 * inst.S - 1 - b.stage;
  return a.rank < b.rank;
}

interface Model {
  lp: string;
  /** The window's ops per device. */
  free: number[][];
}

/**
 * The MILP of `orders` with the ops in `free[d]` reorderable on device d (every other pair keeps its order).
 * Variables: s<id> start times, C the makespan, y<k> order binaries of free pairs.
 */
function buildModel(inst: Instance, orders: Orders, free: Set<number>[], cutoff: number): Model {
  const rows: string[] = [];
  const binaries: string[] = [];
  const big = cutoff;
  const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(17));
  let r = 0;
  const row = (text: string) => rows.push(` r${r++}: ${text}`);
  // dependencies
  for (let id = 0; id < inst.N; id++)
    forEachPredecessor(inst, id, (p, lag) => row(`s${id} - s${p} >= ${num(inst.dur[p]! + lag)}`));
  const freeLists: number[][] = [];
  for (let d = 0; d < inst.P; d++) {
    const order = Array.from(orders[d]!);
    const isFree = free[d]!;
    const window = order.filter((id) => isFree.has(id));
    freeLists.push(window);
    const first = order.findIndex((id) => isFree.has(id));
    const lastPrefix = first < 0 ? -1 : first - 1;
    const firstSuffix = first < 0 ? -1 : first + window.length;
    for (let k = 0; k + 1 < order.length; k++) {
      const a = order[k]!;
      const b = order[k + 1]!;
      if (isFree.has(a) || isFree.has(b)) continue;
      row(`s${b} - s${a} >= ${num(inst.dur[a]!)}`);
    }
    if (first >= 0) {
      const before = lastPrefix >= 0 ? order[lastPrefix]! : -1;
      const after = firstSuffix < order.length ? order[firstSuffix]! : -1;
      for (const w of window) {
        if (before >= 0) row(`s${w} - s${before} >= ${num(inst.dur[before]!)}`);
        if (after >= 0) row(`s${after} - s${w} >= ${num(inst.dur[w]!)}`);
        else row(`C - s${w} >= ${num(inst.dur[w]!)}`);
      }
      // the order inside the window: forced by a dependency, or a binary y = 1 when the first of the pair goes first
      const before_ = new Map<string, string | number>(); // "i,j" -> 1, 0 or a binary's name (i before j)
      for (let x = 0; x < window.length; x++)
        for (let z = x + 1; z < window.length; z++) {
          const i = window[x]!;
          const j = window[z]!;
          if (precedes(inst, i, j)) {
            row(`s${j} - s${i} >= ${num(inst.dur[i]!)}`);
            before_.set(`${i},${j}`, 1);
          } else if (precedes(inst, j, i)) {
            row(`s${i} - s${j} >= ${num(inst.dur[j]!)}`);
            before_.set(`${i},${j}`, 0);
          } else {
            const y = `y${binaries.length}`;
            binaries.push(y);
            row(`s${j} - s${i} - ${num(big)} ${y} >= ${num(inst.dur[i]! - big)}`);
            row(`s${i} - s${j} + ${num(big)} ${y} >= ${num(inst.dur[j]!)}`);
            before_.set(`${i},${j}`, y);
          }
        }
      // memory at each forward of the window: the prefix's level, its own allocation, the window ops before it
      if (Number.isFinite(inst.memLimit)) {
        let prefix = 0;
        for (let k = 0; k <= lastPrefix; k++) prefix += inst.memDelta[order[k]!]!;
        const limit = inst.memLimit * (1 + 1e-9);
        for (const j of window) {
          if (Math.floor(j / (inst.S * inst.M)) !== KIND_F) continue;
          let constant = prefix + inst.memDelta[j]!;
          const terms: string[] = [];
          for (const i of window) {
            if (i === j) continue;
            const key = window.indexOf(i) < window.indexOf(j) ? `${i},${j}` : `${j},${i}`;
            const v = before_.get(key)!;
            const iFirst = window.indexOf(i) < window.indexOf(j);
            const delta = inst.memDelta[i]!;
            if (typeof v === 'number') {
              if ((iFirst && v === 1) || (!iFirst && v === 0)) constant += delta;
            } else if (iFirst) terms.push(`${delta >= 0 ? '+' : '-'} ${num(Math.abs(delta))} ${v}`);
            else {
              constant += delta; // i before j is 1 - y
              terms.push(`${delta >= 0 ? '-' : '+'} ${num(Math.abs(delta))} ${v}`);
            }
          }
          if (terms.length > 0) row(`${terms.join(' ').replace(/^\+ /, '')} <= ${num(limit - constant)}`);
          // infeasible window (cannot happen from a feasible incumbent)
          else if (constant > limit) row(`C >= ${num(2 * big)}`);
        }
      }
    } else if (order.length > 0) row(`C - s${order[order.length - 1]!} >= ${num(inst.dur[order[order.length - 1]!]!)}`);
  }
  const bounds = [
    ` C <= ${num(cutoff)}`,
    ...Array.from({ length: inst.N }, (_, id) => ` s${id} >= 0`),
    ...binaries.map((y) => ` 0 <= ${y} <= 1`),
  ];
  const lp = [
    'Minimize',
    ' obj: C',
    'Subject To',
    ...rows,
    'Bounds',
    ...bounds,
    ...(binaries.length ? ['Binary', ` ${binaries.join(' ')}`] : []),
    'End',
  ].join('\n');
  return { lp, free: freeLists };
}

/** The orders the MILP's start times give (free ops sorted by start, ties in their old order). */
function ordersFromStarts(orders: Orders, free: Set<number>[], start: (id: number) => number): Orders {
  return orders.map((order, d) => {
    const list = Array.from(order);
    const slots = list.map((id, k) => (free[d]!.has(id) ? k : -1)).filter((k) => k >= 0);
    const ops = slots.map((k) => list[k]!).sort((a, b) => start(a) - start(b) || list.indexOf(a) - list.indexOf(b));
    slots.forEach((k, i) => (list[k] = ops[i]!));
    return Int32Array.from(list);
  });
}

/** Solves the model with a time limit; the start-time reader, or null when HiGHS found nothing feasible. */
async function solveModel(
  model: Model,
  timeLimit: number,
  seed: number,
): Promise<{ start: (id: number) => number; status: string } | null> {
  const h = await solver();
  const result = h.solve(model.lp, {
    output_flag: false,
    time_limit: Math.max(0.01, timeLimit),
    mip_rel_gap: 0,
    random_seed: seed,
  });
  if (result.Status === 'Infeasible' || !('Columns' in result)) return null;
  const columns = result.Columns as Record<string, { Primal?: number }>;
  if (!Number.isFinite(result.ObjectiveValue)) return null;
  return { start: (id) => columns[`s${id}`]?.Primal ?? 0, status: result.Status };
}

export async function polishWithMilp(
  inst: Instance,
  orders: Orders,
  opts: MilpPolishOptions,
): Promise<MilpPolishResult> {
  const deadline = performance.now() + opts.timeLimit * 1000;
  const left = () => (deadline - performance.now()) / 1000;
  const seed = opts.seed ?? 0;
  let best = orders;
  let bestValue = evaluateOrders(inst, orders)!.makespan;
  const startValue = bestValue;
  let subproblems = 0;
  const perDevice = inst.N / inst.P;
  const window = Math.min(opts.window ?? 8, perDevice);
  // slide a time window of about `window` ops per device across the incumbent, half a window per step
  for (let pass = 0; pass < 3 && left() > 0; pass++) {
    const before = bestValue;
    const width = (bestValue * window) / perDevice;
    for (let t0 = 0; t0 < bestValue && left() > 0; t0 += width / 2) {
      const start = evaluateOrders(inst, best)!.start;
      const free = best.map(
        (order) => new Set(Array.from(order).filter((id) => start[id]! >= t0 && start[id]! < t0 + width)),
      );
      // the window must be contiguous in each device's order (it is: starts increase along an order)
      const model = buildModel(inst, best, free, bestValue);
      subproblems++;
      const solved = await solveModel(model, left(), seed);
      if (!solved) continue;
      const candidate = ordersFromStarts(best, free, solved.start);
      const value = evaluateOrders(inst, candidate)?.makespan ?? Infinity;
      if (value < bestValue * (1 - 1e-12) && withinMemory(inst, candidate)) {
        best = candidate;
        bestValue = value;
      }
    }
    if (bestValue >= before) break;
  }
  let proven = false;
  let dualBound = -Infinity;
  if (left() > 0) {
    const exact = await solveExact(inst, best, { timeLimit: left(), seed });
    if (exact) {
      if (exact.makespan < bestValue) {
        best = exact.orders;
        bestValue = exact.makespan;
      }
      proven = exact.proven;
      dualBound = exact.dualBound;
    }
  }
  return { orders: best, makespan: bestValue, improved: bestValue < startValue, proven, dualBound, subproblems };
}

/**
 * The whole problem as a MILP (every free pair of ops on a device gets a binary), for small problems only (null
 * above EXACT_MAX_PAIRS binaries). `proven` when HiGHS reports the optimum; `dualBound` its bound either way.
 */
export async function solveExact(
  inst: Instance,
  orders: Orders,
  opts: { timeLimit: number; seed?: number },
): Promise<{ orders: Orders; makespan: number; proven: boolean; dualBound: number } | null> {
  let pairs = 0;
  for (const order of orders) pairs += (order.length * (order.length - 1)) / 2;
  if (pairs > EXACT_MAX_PAIRS) return null;
  const incumbent = evaluateOrders(inst, orders)!.makespan;
  const free = orders.map((o) => new Set(Array.from(o)));
  const model = buildModel(inst, orders, free, incumbent);
  const h = await solver();
  const m = h.createModel({ format: 'lp', data: model.lp });
  try {
    m.options.set({
      output_flag: false,
      time_limit: Math.max(0.01, opts.timeLimit),
      mip_rel_gap: 0,
      mip_abs_gap: 0,
      random_seed: opts.seed ?? 0,
    });
    m.run();
    const optimal = m.getModelStatus() === h.constants.modelStatus.optimal;
    const bound = Number(m.info.get('mip_dual_bound'));
    const dualBound = Number.isFinite(bound) ? Math.min(bound, incumbent) : -Infinity;
    let best = orders;
    let makespan = incumbent;
    const value = m.getSolution().colValue;
    const names = new Map<string, number>();
    for (let c = 0; c < value.length; c++) names.set(m.getColName(c), c);
    if (value.length > 0) {
      const candidate = ordersFromStarts(orders, free, (id) => value[names.get(`s${id}`) ?? -1] ?? 0);
      const v = evaluateOrders(inst, candidate)?.makespan ?? Infinity;
      if (v < makespan && withinMemory(inst, candidate)) {
        best = candidate;
        makespan = v;
      }
    }
    // optimal means no order beats the MILP's value; the replayed order can only match or beat it
    return {
      orders: best,
      makespan,
      proven: optimal && makespan <= m.getObjectiveValue() * (1 + 1e-9) + 1e-9,
      dualBound,
    };
  } finally {
    m.dispose();
  }
}
