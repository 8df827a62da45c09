// The zero-bubble automatic scheduler (ZB-1p / ZB-2p, arXiv 2401.10241): per-stage orders of F, B and W (V = 1)
// built while timing them with the profiled costs and communication, under a per-device memory limit.
//
// Candidates: the reference's greedy construction in its eight variants (greedy.ts), plus an event-driven list
// scheduler under a few policies (list.ts); every candidate meets the memory limit by construction. The shortest
// span (timing.ts) wins, then a local pass (refine.ts) moves ops around idle gaps while that lowers the span (or,
// at equal span, the sum of stage spans).
import { ScheduleError, type Op, type Problem, type Schedule } from '@pprl/core-wasm';
import { checkMemoryLimit } from '../../memory.js';
import type { Generator } from '../../types.js';
import { GreedyBuild, OutOfMemory, UPSTREAM_VARIANTS, type ZbAutoVariant } from './greedy.js';
import { DEFAULT_LIST_POLICIES, ListBuild, type ListPolicy } from './list.js';
import { MEM_EPS, OP_KINDS, type Orders } from './orders.js';
import { refine } from './refine.js';
import { Timing } from './timing.js';

export { UPSTREAM_VARIANTS, type ZbAutoVariant } from './greedy.js';
export { DEFAULT_LIST_POLICIES, type ListPolicy } from './list.js';

export interface ZbAutoOptions {
  /** Greedy variants to build. Default: {@link UPSTREAM_VARIANTS}. */
  variants?: readonly ZbAutoVariant[];
  /** List-scheduler policies to build. Default: {@link DEFAULT_LIST_POLICIES}. */
  listPolicies?: readonly ListPolicy[];
  /** Run the local improvement pass on the best candidate. Default true. */
  improve?: boolean;
}

/**
 * Any order needs at least max(memF, memF + memB) on a stage (one micro-batch at a time reaches exactly that),
 * so a lower limit cannot be met: say where and by how much.
 */
function checkLimitMeetable(problem: Problem): void {
  const limit = problem.memLimit;
  if (!Number.isFinite(limit)) return;
  for (let s = 0; s < problem.stages; s++) {
    const memF = problem.memF[s]!;
    const memB = problem.memB[s]!;
    const need = Math.max(memF, memF + memB);
    if (need > limit * (1 + MEM_EPS)) {
      const what = memB > 0 ? `one micro-batch's F and B (${memF} + ${memB})` : `one micro-batch's F (${memF})`;
      throw new ScheduleError(
        `zb-auto: device ${s} needs at least ${need} memory for ${what} but the limit is ${limit} ` +
          `(over by ${need - limit}); raise the limit`,
      );
    }
  }
}

/** One micro-batch at a time on every stage: F, B, W. Slow, but within any limit checkLimitMeetable accepts. */
function sequentialOrders(problem: Problem): Orders {
  const L = 3 * problem.microBatches;
  return Array.from({ length: problem.stages }, () => Uint8Array.from({ length: L }, (_, i) => i % 3));
}

function toSchedule(problem: Problem, orders: Orders): Schedule {
  return {
    stages: problem.stages,
    chunksPerDevice: 1,
    placement: problem.placement,
    microBatches: problem.microBatches,
    devices: orders.map((word, s) => {
      const next = [0, 0, 0];
      return Array.from(word, (kind): Op => ({ kind: OP_KINDS[kind]!, mb: next[kind]!++, stage: s }));
    }),
    name: 'zb-auto',
  };
}

/** The zero-bubble automatic schedule, with the candidate families and the local pass chosen by `options`. */
export function zbAutoWith(problem: Problem, options: ZbAutoOptions = {}): Schedule {
  if (problem.chunks !== 1)
    throw new ScheduleError(`zb-auto needs 1 chunk per device (one model stage per device), got ${problem.chunks}`);
  checkLimitMeetable(problem);
  const timing = new Timing(problem);
  let best = sequentialOrders(problem);
  let bestSpan = timing.span(best);
  const consider = (orders: Orders | null) => {
    if (!orders) return;
    const span = timing.span(orders, bestSpan);
    if (span < bestSpan) {
      best = orders;
      bestSpan = span;
    }
  };
  for (const variant of options.variants ?? UPSTREAM_VARIANTS) {
    try {
      consider(new GreedyBuild(problem, variant).run());
    } catch (e) {
      if (!(e instanceof OutOfMemory)) throw e;
    }
  }
  for (const policy of options.listPolicies ?? DEFAULT_LIST_POLICIES) consider(new ListBuild(problem, policy).run());
  if (options.improve ?? true) best = refine(problem, best, timing);
  const schedule = toSchedule(problem, best);
  checkMemoryLimit(problem, schedule, 'zb-auto');
  return schedule;
}

/** The zero-bubble automatic scheduler under the problem's memory limit (ZB-1p at P * memF, ZB-2p at 2P * memF). */
export const zbAuto: Generator = (problem) => zbAutoWith(problem);
