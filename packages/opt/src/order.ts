// Device orders as op-id lists, and the plain TypeScript evaluation of one: every op starts as soon as its device
// and its predecessors allow (the replay's semantics), which is the best any schedule with that order can do.
import { compileSchedule, type CompiledSchedule, type Schedule } from '@pprl/core-wasm';
import { codeOfId, forEachPredecessor, idOfCode, type Instance } from './instance.js';

/** orders[d]: op ids in the order device d runs them. */
export type Orders = Int32Array[];

/** The per-device op-id orders of a schedule (a fused BW becomes its B then its W). */
export function ordersOfSchedule(inst: Instance, schedule: Schedule | CompiledSchedule): Orders {
  const compiled = 'ops' in schedule ? schedule : compileSchedule(inst.problem, schedule);
  const { S, M, P } = inst;
  const orders: Orders = [];
  for (let d = 0; d < P; d++) {
    const list: number[] = [];
    for (let i = compiled.devStart[d]!; i < compiled.devStart[d + 1]!; i++) {
      const code = compiled.ops[i]!;
      if ((code & 3) === 3) {
        list.push(idOfCode((code & ~3) | 1, S, M), idOfCode((code & ~3) | 2, S, M));
      } else list.push(idOfCode(code, S, M));
    }
    orders.push(Int32Array.from(list));
  }
  return orders;
}

/** Orders in the simulators' flat form. */
export function compileOrders(inst: Instance, orders: Orders): CompiledSchedule {
  const devStart = new Int32Array(inst.P + 1);
  const ops = new Int32Array(inst.N);
  let i = 0;
  for (let d = 0; d < inst.P; d++) {
    devStart[d] = i;
    for (const id of orders[d]!) ops[i++] = codeOfId(id, inst.S, inst.M);
  }
  devStart[inst.P] = i;
  return { ops, devStart };
}

export function copyOrders(orders: Orders): Orders {
  return orders.map((o) => Int32Array.from(o));
}

/** Peak memory of one device's order (it depends on the order only: ops on a device never overlap). */
export function devicePeak(inst: Instance, order: Int32Array): number {
  let m = 0;
  let peak = 0;
  for (const id of order) {
    m += inst.memDelta[id]!;
    if (m > peak) peak = m;
  }
  return peak;
}

/** Whether every device stays within the limit, with the replay's tolerance. */
export function withinMemory(inst: Instance, orders: Orders): boolean {
  if (!Number.isFinite(inst.memLimit)) return true;
  const cap = inst.memLimit * (1 + 1e-9);
  return orders.every((o) => devicePeak(inst, o) <= cap);
}

export interface Evaluation {
  makespan: number;
  /** Start time of each op id. */
  start: Float64Array;
}

/** Earliest start times of the orders; null when they deadlock (an op waits on one that comes later). */
export function evaluateOrders(inst: Instance, orders: Orders): Evaluation | null {
  const { N, P } = inst;
  const start = new Float64Array(N).fill(-1);
  const end = new Float64Array(N).fill(-1);
  const pos = new Int32Array(P);
  const free = new Float64Array(P);
  let done = 0;
  let progress = true;
  while (progress) {
    progress = false;
    for (let d = 0; d < P; d++) {
      const order = orders[d]!;
      while (pos[d]! < order.length) {
        const id = order[pos[d]!]!;
        let ready = free[d]!;
        let blocked = false;
        forEachPredecessor(inst, id, (p, lag) => {
          if (end[p]! < 0) blocked = true;
          else if (end[p]! + lag > ready) ready = end[p]! + lag;
        });
        if (blocked) break;
        start[id] = ready;
        end[id] = ready + inst.dur[id]!;
        free[d] = end[id]!;
        pos[d] = pos[d]! + 1;
        done++;
        progress = true;
      }
    }
  }
  if (done < N) return null;
  let makespan = 0;
  for (let d = 0; d < P; d++) if (free[d]! > makespan) makespan = free[d]!;
  return { makespan, start };
}
