// Starting orders for the searches: every known static schedule that fits the problem and its memory limit, and
// every dynamic heuristic's realized order on the episode (under both deadlock-free memory rules).
import { UserError, type MemoryRule, type Problem } from '@pprl/core-wasm';
import { HEURISTICS, SCHEDULES, runHeuristic } from '@pprl/schedulers';
import type { Instance } from './instance.js';
import { ordersOfSchedule, withinMemory, type Orders } from './order.js';

export interface NamedOrders {
  name: string;
  orders: Orders;
}

const RULES: readonly MemoryRule[] = ['reserve', 'lowest'];

/** Static schedules that build for the problem and stay within its memory limit (noise does not change them). */
export function staticStarts(problem: Problem, inst: Instance): NamedOrders[] {
  const out: NamedOrders[] = [];
  for (const info of SCHEDULES) {
    if (info.chunks !== undefined && info.chunks !== problem.chunks) continue;
    if (problem.chunks > 1 && info.placement !== undefined && info.placement !== problem.placement) continue;
    try {
      const orders = ordersOfSchedule(inst, info.build(problem));
      if (withinMemory(inst, orders)) out.push({ name: info.name, orders });
    } catch (e) {
      if (!(e instanceof UserError)) throw e; // a schedule that does not apply to this shape or limit
    }
  }
  return out;
}

/** The heuristics' orders on one episode of `problem` (its noise settings), one per heuristic and memory rule. */
export function heuristicStarts(problem: Problem, inst: Instance, episode: number): NamedOrders[] {
  const out: NamedOrders[] = [];
  for (const h of HEURISTICS)
    for (const memoryRule of problem.chunks > 1 ? RULES : RULES.slice(0, 1)) {
      try {
        const r = runHeuristic(problem, h.name, { episode, memoryRule });
        out.push({
          name: problem.chunks > 1 ? `${h.name}/${memoryRule}` : h.name,
          orders: ordersOfSchedule(inst, r.order),
        });
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
      }
    }
  return out;
}
