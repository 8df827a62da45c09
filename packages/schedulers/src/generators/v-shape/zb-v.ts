// ZB-V (arXiv 2401.10241, section 6): the zero-bubble V schedule, a greedy construction that times ops as it
// builds the per-device orders from the problem's costs, comm and memory limit.
import { ScheduleError, type Op, type Problem } from '@pprl/core-wasm';
import type { Generator } from '../../types.js';
import {
  B0,
  B1,
  F0,
  F1,
  LANE_KIND,
  W0,
  W1,
  laneOp,
  laneStage,
  makeSchedule,
  neighbour,
  requireVShape,
} from './lanes.js';

/** The greedy hit the memory limit with no W left to free memory. */
class MemoryShortfall extends Error {
  constructor(
    readonly device: number,
    readonly need: number,
  ) {
    super(`device ${device} needs ${need}`);
  }
}

/** The greedy's fixed structure broke (a dependency it relies on was not placed); the variant is discarded. */
class GreedyStuck extends Error {}

interface ZbvInput {
  P: number;
  M: number;
  limit: number;
  /** Per device and lane (index device * 6 + lane). */
  cost: Float64Array;
  mem: Float64Array;
  /** Transfer time into this lane's op from its neighbour device (0 at the turning points). */
  commIn: Float64Array;
}

interface ZbvResult {
  order: Op[][];
  maxBubble: number;
  span: number;
  /** Highest memory any device reaches. */
  peak: number;
}

function zbvInput(problem: Problem, limit: number): ZbvInput {
  const P = problem.stages;
  const cost = new Float64Array(P * 6);
  const mem = new Float64Array(P * 6);
  const commIn = new Float64Array(P * 6);
  for (let d = 0; d < P; d++) {
    for (let lane = 0; lane < 6; lane++) {
      const s = laneStage(P, d, lane);
      const kind = LANE_KIND[lane];
      cost[d * 6 + lane] = kind === 'F' ? problem.costF[s]! : kind === 'B' ? problem.costB[s]! : problem.costW[s]!;
      mem[d * 6 + lane] = kind === 'F' ? problem.memF[s]! : kind === 'B' ? problem.memB[s]! : problem.memW[s]!;
    }
    // comm[s] is the link between stages s and s + 1.
    if (d > 0) commIn[d * 6 + F0] = problem.comm[d - 1]!;
    if (d < P - 1) commIn[d * 6 + F1] = problem.comm[2 * P - 2 - d]!;
    if (d > 0) commIn[d * 6 + B1] = problem.comm[2 * P - 1 - d]!;
    if (d < P - 1) commIn[d * 6 + B0] = problem.comm[d]!;
  }
  return { P, M: problem.microBatches, limit, cost, mem, commIn };
}

/**
 * One greedy pass (the zero-bubble repository's v_schedule, generalised to per-stage costs, comm and memory).
 * Micro-batch 0 runs down the V first, with extra chunk-0 forwards while memory and the wait for micro-batch
 * 0's chunk-1 forward allow; then rounds of "one B per device, one F per device", each op preceded by the W's
 * that fit in the wait for its input, plus one more if that keeps this device's bubble within the worst
 * device's (on a re-run, within the budget approved by the previous pass). Bubbles count after the first F.
 */
function zbvPass(g: ZbvInput, fillF: boolean, fillB: boolean, approved: Float64Array | null): ZbvResult {
  const { P, M, limit, cost, mem: laneMem, commIn } = g;
  const count = new Int32Array(P * 6);
  const end = new Float64Array(6 * P * M).fill(-1);
  const cur = new Float64Array(P);
  const mem = new Float64Array(P);
  const bubble = new Float64Array(P);
  const firstStart = new Float64Array(P).fill(-1);
  const pendingW: number[][] = Array.from({ length: P }, () => []);
  const order: Op[][] = Array.from({ length: P }, () => []);
  const maxApproved = approved ? Math.max(...approved) : -1;
  let peak = 0;
  const endOf = (lane: number, d: number, mb: number) => end[(lane * P + d) * M + mb]!;
  const cnt = (d: number, lane: number) => count[d * 6 + lane]!;

  const worstBubble = (d: number) => {
    let worst = Math.max(0, ...bubble);
    if (approved) worst = Math.max(worst, maxApproved - approved[d]!);
    return worst;
  };

  const put = (lane: number, d: number) => {
    const mb = cnt(d, lane);
    if (mb >= M) throw new GreedyStuck(`lane ${lane} on device ${d} is complete`);
    const need = mem[d]! + laneMem[d * 6 + lane]!;
    if (need > limit + 1e-9) throw new MemoryShortfall(d, need);
    // The op of the previous lane on this device (its W's B) must already be placed.
    const prev = lane === W1 ? B1 : lane === W0 ? B0 : lane - 1;
    if (lane > F0 && endOf(prev, d, mb) < 0)
      throw new GreedyStuck(`lane ${lane} mb ${mb} on device ${d} before lane ${prev}`);
    const c = cost[d * 6 + lane]!;
    const noBubble = cur[d]! + c;
    let finish = noBubble;
    const from = neighbour(P, d, lane);
    if (from >= 0) {
      const dep = endOf(lane, from, mb);
      if (dep < 0) throw new GreedyStuck(`lane ${lane} mb ${mb} on device ${d} before device ${from}`);
      finish = Math.max(finish, dep + commIn[d * 6 + lane]! + c);
    }
    if (cnt(d, F0) > 0) bubble[d] = bubble[d]! + finish - noBubble;
    if (firstStart[d]! < 0) firstStart[d] = finish - c;
    end[(lane * P + d) * M + mb] = finish;
    cur[d] = finish;
    mem[d] = need;
    peak = Math.max(peak, need);
    order[d]!.push(laneOp(P, d, lane, mb));
    if (lane === B1) pendingW[d]!.push(W1);
    if (lane === B0) pendingW[d]!.push(W0);
    count[d * 6 + lane] = mb + 1;
  };

  const putW = (d: number) => put(pendingW[d]!.shift()!, d);

  /** Whether the next op of `lane` on device d has its inputs placed (on this device and on the neighbour). */
  const ready = (d: number, lane: number) => {
    const mb = cnt(d, lane);
    if (mb >= M) return false;
    if (lane > F0 && endOf(lane - 1, d, mb) < 0) return false;
    const from = neighbour(P, d, lane);
    return from < 0 || endOf(lane, from, mb) >= 0;
  };
  const fits = (d: number, lane: number) => mem[d]! + laneMem[d * 6 + lane]! <= limit + 1e-9;
  let blocked: MemoryShortfall | null = null;
  /** Puts W's until the op of `lane` fits in memory; false (and remembered) when no W is left to free any. */
  const makeRoom = (d: number, lane: number) => {
    while (!fits(d, lane)) {
      if (pendingW[d]!.length === 0) {
        blocked = new MemoryShortfall(d, mem[d]! + laneMem[d * 6 + lane]!);
        return false;
      }
      putW(d);
    }
    return true;
  };

  /** W's before the op of `lane` on device d: those that fit in the wait for its input, then maybe one more. */
  const fillWaits = (d: number, lane: number, fillOne: boolean) => {
    const from = neighbour(P, d, lane);
    if (from < 0) return;
    const arrives = endOf(lane, from, cnt(d, lane)) + commIn[d * 6 + lane]!;
    const pending = pendingW[d]!;
    while (pending.length > 0 && arrives >= cur[d]! + cost[d * 6 + pending[0]!]!) putW(d);
    if (fillOne && pending.length > 0 && arrives - cur[d]! > worstBubble(d) - bubble[d]!) putW(d);
  };

  // Warm-up: one chunk-0 forward everywhere, then from the last device back, extra chunk-0 forwards (on every
  // device up to this one) while they fit before micro-batch 0's chunk-1 forward arrives, then that forward.
  for (let d = 0; d < P; d++) put(F0, d);
  for (let d = P - 1; d >= 0; d--) {
    if (d < P - 1) {
      const arrives = endOf(F1, d + 1, 0) + commIn[d * 6 + F1]!;
      const reserve = (d + 1) * (laneMem[d * 6 + F0]! + laneMem[d * 6 + F1]!);
      while (mem[d]! + reserve <= limit + 1e-9 && cur[d]! + cost[d * 6 + F0]! <= arrives && cnt(d, F0) < M - d)
        for (let j = 0; j <= d; j++) put(F0, j);
    }
    put(F1, d);
  }
  // Make forward counts non-increasing along the V, alternating chunks, on this device and those after it.
  // The upstream assumes every such forward has its input; with few micro-batches, uneven costs or a tight
  // limit some have not (or do not fit yet), so those wait for the main loop.
  let lane = F0;
  for (let d = 1; d < P; d++) {
    let idle = 0;
    while (
      cnt(d, F0) + cnt(d, F1) < cnt(d - 1, F0) + cnt(d - 1, F1) ||
      (cnt(d, F1) <= cnt(d - 1, F1) && cnt(d - 1, F1) < M)
    ) {
      let placed = false;
      // Chunk-0 inputs flow to higher devices, chunk-1 inputs to lower ones.
      for (let k = d; k < P; k++) {
        const j = lane === F0 ? k : P - 1 + d - k;
        if (ready(j, lane) && fits(j, lane)) {
          put(lane, j);
          placed = true;
        }
      }
      lane = lane === F0 ? F1 : F0;
      idle = placed ? 0 : idle + 1;
      if (idle === 2) break;
    }
  }

  // Rounds of one B then one F per device (2M rounds when nothing waits). The upstream's choice of chunk is
  // kept; when that op cannot run yet (uneven costs, tight memory) the other chunk's runs, else the device
  // skips the round.
  const other = (l: number) => (l === F0 ? F1 : l === F1 ? F0 : l === B1 ? B0 : B1);
  const runnable = (d: number, l: number) => (ready(d, l) ? l : ready(d, other(l)) ? other(l) : -1);
  const unfinished = () => {
    for (let d = 0; d < P; d++) if (cnt(d, B0) < M || cnt(d, B1) < M) return true;
    return false;
  };
  while (unfinished()) {
    let progress = false;
    blocked = null;
    // One B per device: chunk 1's while chunk 0 has caught up with it, or chunk 0's once its gradient is here.
    const b1Devices: number[] = [];
    const b0Devices: number[] = [];
    for (let d = 0; d < P; d++) {
      if (cnt(d, B0) >= M && cnt(d, B1) >= M) continue;
      if (cnt(d, B0) >= cnt(d, B1)) b1Devices.push(d);
      else if (d === P - 1 || endOf(B0, d + 1, cnt(d, B0)) >= 0 || cnt(d, B1) >= M) b0Devices.push(d);
      else b1Devices.push(d);
    }
    const bs: [number, number][] = [
      ...b0Devices.reverse().map((d): [number, number] => [d, B0]),
      ...b1Devices.map((d): [number, number] => [d, B1]),
    ];
    for (const [d, preferred] of bs) {
      const bLane = runnable(d, preferred);
      if (bLane < 0 || !makeRoom(d, bLane)) continue;
      fillWaits(d, bLane, bLane === B0 || fillB);
      put(bLane, d);
      progress = true;
    }
    // One F per device where its input is ready: chunk 1 when it has arrived, else chunk 0.
    for (let d = 0; d < P; d++) {
      if (cnt(d, F1) >= M) continue;
      let preferred = -1;
      if (cnt(d, F1) >= cnt(d, F0)) preferred = F0;
      else if (d === P - 1 || endOf(F1, d + 1, cnt(d, F1)) >= 0) preferred = F1;
      else if (cnt(d, F0) < M && (d === 0 || endOf(F0, d - 1, cnt(d, F0)) >= 0)) preferred = F0;
      if (preferred < 0) continue;
      const fLane = runnable(d, preferred);
      if (fLane < 0 || !makeRoom(d, fLane)) continue;
      fillWaits(d, fLane, fillF);
      put(fLane, d);
      progress = true;
    }
    if (!progress) throw blocked ?? new GreedyStuck('no op can run');
  }
  for (let d = 0; d < P; d++) while (pendingW[d]!.length > 0) putW(d);

  let span = 0;
  for (let d = 0; d < P; d++) span = Math.max(span, cur[d]! - firstStart[d]!);
  const result: ZbvResult = { order, maxBubble: Math.max(...bubble), span, peak };
  // Re-run with this pass's bubbles as the budget: devices that waited less may now wait up to the worst.
  if (maxApproved < 0 || result.maxBubble < maxApproved) {
    try {
      const again = zbvPass(g, fillF, fillB, Float64Array.from(bubble));
      if (again.maxBubble < result.maxBubble) return again;
    } catch (e) {
      if (!(e instanceof GreedyStuck || e instanceof MemoryShortfall)) throw e;
    }
  }
  return result;
}

/**
 * ZB-V: zero-bubble V schedule built greedily from the problem's costs and comm, within the problem's memory
 * limit, or by default 1F1B's peak (P forwards through a whole device: 2P chunk-F units at uniform memory).
 * Four variants (W fills before B / before F on or off) are built; the shortest span wins, then the lowest
 * peak. With a limit above 1F1B's peak the greedy is also run at 1F1B's peak, as extra warm-up forwards only
 * pay off when they hide communication.
 */
export const zbV: Generator = (problem) => {
  const name = 'zb-v';
  requireVShape(problem, name);
  const P = problem.stages;
  let onePeak = 0;
  for (let d = 0; d < P; d++) onePeak = Math.max(onePeak, P * (problem.memF[d]! + problem.memF[2 * P - 1 - d]!));
  const given = problem.memLimit;
  const limits = !Number.isFinite(given) ? [onePeak] : given > onePeak ? [given, onePeak] : [given];
  let best: ZbvResult | null = null;
  let shortfall: MemoryShortfall | null = null;
  for (const limit of limits) {
    const input = zbvInput(problem, limit);
    for (const fillB of [true, false])
      for (const fillF of [true, false]) {
        try {
          const r = zbvPass(input, fillF, fillB, null);
          if (!best || r.span < best.span - 1e-9 || (r.span < best.span + 1e-9 && r.peak < best.peak)) best = r;
        } catch (e) {
          if (e instanceof MemoryShortfall) shortfall ??= e;
          else if (!(e instanceof GreedyStuck)) throw e;
        }
      }
  }
  if (!best) {
    if (shortfall)
      throw new ScheduleError(
        `${name} cannot keep to the memory limit ${given}: device ${shortfall.device} would need ` +
          `${shortfall.need} (over by ${shortfall.need - given}); raise the limit (1F1B's peak, ${onePeak}, ` +
          `is ZB-V's default) or use v-half / v-min`,
      );
    throw new ScheduleError(`${name} could not build a schedule for P = ${P}, M = ${problem.microBatches}`);
  }
  return makeSchedule(problem, best.order, name);
};
