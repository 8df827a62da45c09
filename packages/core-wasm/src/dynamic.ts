// The dynamic executor (docs/SEMANTICS.md section 4, RL environment): no fixed order; whenever a device is idle and more
// than one op class is eligible, a policy picks one. This plain TypeScript version is the reference that the
// WebAssembly environment mirrors, so it uses the replay's duration formulas and noise keys exactly.
import { DeadlockError } from './errors.js';
import { episodeKey, factor, mbKey, stageKey, NOISE_COMM_B, NOISE_COMM_F } from './noise.js';
import type { Problem } from './problem.js';
import { buildTimeline, type RawTimeline, type Timeline } from './result.js';
import { decodeOp, formatAction, type CompiledSchedule, type Op, type Schedule } from './schedule.js';

const KIND_F = 0;
const KIND_B = 1;
const KIND_W = 2;

/**
 * What a policy sees at a decision. One object is reused for every decision of a run (no allocation): read it,
 * never keep it. Classes of the deciding device: index c * 3 + kind (kind F = 0, B = 1, W = 2) for its local
 * chunk c (the c-th model stage on the device in increasing stage order); action `wait` (= classes) stays idle
 * until the next event.
 */
export interface DynamicView {
  readonly problem: Problem;
  /** The idle device that decides. */
  readonly device: number;
  readonly time: number;
  /** V: chunks per device. */
  readonly chunks: number;
  /** 3V op classes; also the index of the wait action. */
  readonly classes: number;
  /** Length 3V + 1: 1 where the class is eligible; the last entry is 1 when waiting is allowed. */
  readonly mask: Uint8Array;
  /** Length V: model stage of each local chunk of this device. */
  readonly stage: Int32Array;
  /** Length 3V: the class's next micro-batch (M when the class is exhausted). */
  readonly nextMb: Int32Array;
  /** Length 3V: ops of the class not yet started. */
  readonly remaining: Int32Array;
  /** Length 3V: base (noise-free) compute cost of the class's next op; 0 when exhausted. */
  readonly nextCost: Float64Array;
  /** Length P: current memory of every device. */
  readonly memory: Float64Array;
  /** Per-device memory limit (Infinity when none). */
  readonly memLimit: number;
  /** Ops running plus transfers in flight, on all devices. */
  readonly inFlight: number;
  /** Eligible classes (at least 2 at a decision). */
  readonly eligible: number;
}

/** Returns a class index c * 3 + kind that is eligible, or `view.classes` to wait. */
export type DynamicPolicy = (view: DynamicView) => number;

/**
 * How a forward is checked against the memory limit (all three are the same as `plain` when V = 1).
 * - `plain`: current + memF <= limit. With V > 1 a device can fill its memory with first-chunk forwards and trap
 *   the pipeline (a deadlock).
 * - `reserve` (default): also keep room for the forwards still owed on later chunks by the lowest micro-batch
 *   already started on this device, or, when none is open, for the rest of this micro-batch's forwards (a
 *   per-device banker's rule). Deadlock-free, but it blocks forwards that ZB-V and V-Half run.
 * - `lowest`: let m0 be the lowest micro-batch whose forward has not started on every stage (the last stage's next
 *   forward). Memory a device holds for micro-batches below m0 will be freed whatever happens (their forwards have
 *   all started, and backward ops need no memory), so only the rest counts: F(m, s) on device d also needs
 *   held(d, >= m0) + memF(s) + (m0's other forwards still owed on d) <= limit. Deadlock-free (see
 *   `heldFromLowest`) and it admits every forward of ZB-V, V-Half and V-Min at their own peak memory.
 */
export type MemoryRule = 'reserve' | 'plain' | 'lowest';
export const MEMORY_RULES: readonly MemoryRule[] = ['reserve', 'plain', 'lowest'];

export interface DynamicOptions {
  /** Episode index: the noise draw (common random numbers with the static replay). Default 0. */
  episode?: number;
  /** Default `reserve`. */
  memoryRule?: MemoryRule;
  /** Record the timeline. */
  timeline?: boolean;
  /** Name given to the realized schedule. */
  name?: string;
}

export interface DynamicResult {
  episode: number;
  makespan: number;
  /** Max over devices of (end of the last op - start of the first op). */
  span: number;
  /** Per device: summed op durations. */
  busy: Float64Array;
  peakMemory: Float64Array;
  /** Policy calls (only made when more than one class is eligible). */
  decisions: number;
  /** Decisions that chose to wait. */
  waits: number;
  /** The realized per-device order in the simulators' flat form (every device holds 3 V M ops). */
  order: CompiledSchedule;
  /** The same order as a schedule (kinds F, B and W). */
  schedule: Schedule;
  timeline?: Timeline;
}

/** Flat per-problem tables that the dynamic executor and the reference environment index the same way. */
export interface DynamicTables {
  /** devStages[d * V + c]: model stage of local chunk c on device d (increasing stage order). */
  devStages: Int32Array;
  /** [kind * S + s]: base compute cost of kind F = 0, B = 1, W = 2. */
  cost: Float64Array;
  /** [kind * S + s]: memory delta. */
  memDelta: Float64Array;
  /** Per device: summed memF of its stages (one micro-batch's forwards). */
  fullF: Float64Array;
  /** The limit with the static check's tolerance (memoryViolations), so both agree on what fits; Infinity if none. */
  memCap: number;
}

export function dynamicTables(problem: Problem): DynamicTables {
  const { stages: P, chunks: V, numStages: S, stageDevice } = problem;
  const devStages = new Int32Array(P * V);
  const filled = new Int32Array(P);
  const fullF = new Float64Array(P);
  for (let s = 0; s < S; s++) {
    const d = stageDevice[s]!;
    devStages[d * V + filled[d]!] = s;
    filled[d] = filled[d]! + 1;
    fullF[d] = fullF[d]! + problem.memF[s]!;
  }
  const cost = new Float64Array(3 * S);
  cost.set(problem.costF, 0);
  cost.set(problem.costB, S);
  cost.set(problem.costW, 2 * S);
  const memDelta = new Float64Array(3 * S);
  memDelta.set(problem.memF, 0);
  memDelta.set(problem.memB, S);
  memDelta.set(problem.memW, 2 * S);
  const memCap = Number.isFinite(problem.memLimit) ? problem.memLimit * (1 + 1e-9) : Infinity;
  return { devStages, cost, memDelta, fullF, memCap };
}

/** The reserve rule's state for one device (see MemoryRule), filled by `scanOpenForwards`. */
export interface OpenForwards {
  /** The lowest micro-batch whose forwards are started on some but not all of the device's chunks; -1 if none. */
  lowestOpen: number;
  /** The forward memory it still owes (its chunks not yet started). */
  owed: number;
}

/**
 * Reserve rule: finds device d's lowest open micro-batch and what it still owes. Forwards start in chunk order, so
 * it is the last chunk's next one. devStages[d * V + c] is the model stage of chunk c; nextMb[kind * S + s] the next
 * micro-batch of a class; memDelta[kind * S + s] the memory deltas.
 */
export function scanOpenForwards(out: OpenForwards, reserve: boolean, devStages: Int32Array, nextMb: Int32Array, memDelta: Float64Array, V: number, d: number): void {
  out.lowestOpen = -1;
  out.owed = 0;
  if (!reserve) return;
  const first = nextMb[devStages[d * V]!]!;
  const last = nextMb[devStages[d * V + V - 1]!]!;
  if (last >= first) return;
  out.lowestOpen = last;
  for (let c = 1; c < V; c++) {
    const s = devStages[d * V + c]!;
    if (nextMb[s] === last) out.owed += memDelta[s]!;
  }
}

/** Memory that must stay free beyond F(m, s) on device d under the reserve rule (after scanOpenForwards for d). */
export function reservedBeyond(open: OpenForwards, reserve: boolean, fullF: Float64Array, memDelta: Float64Array, d: number, s: number, m: number): number {
  if (!reserve || m === open.lowestOpen) return 0;
  return open.lowestOpen >= 0 ? open.owed : fullF[d]! - memDelta[s]!;
}

/**
 * Rule `lowest` for F(m, s) about to start on device d: the memory d holds for micro-batches >= m0 plus the forwards
 * m0 still owes on d other than this one (add memF(s) and compare with the limit). nextMb[kind * S + s] and
 * doneCnt[kind * S + s] (finished ops, in micro-batch order) per class slot; m0 = nextMb of the last stage's F.
 *
 * Why no deadlock (memF >= 0, memB <= 0, memW <= 0, limit >= every device's summed memF): let freeable(d) be the
 * memory d holds for micro-batches < m0 and owed(d) what m0's unstarted forwards on d need. The rule keeps
 * cur - freeable + owed <= limit on every device: forwards of m0 move memory from owed to cur, other forwards are
 * admitted only within it, backward ops lower cur (and freeable alike), and when m0 advances, the finished forwards
 * of the old m0 (a full micro-batch's forward memory on each device, none freed yet since its last stage has just
 * started) join freeable while owed becomes at most that much. In a state where nothing runs or is in flight:
 * if a micro-batch below m0 has backward work left, its next backward op is eligible; otherwise freeable = 0, so
 * cur + owed <= limit and m0's next forward fits. Either way some op can start.
 */
export function heldFromLowest(devStages: Int32Array, nextMb: Int32Array, doneCnt: Int32Array, memDelta: Float64Array, S: number, V: number, d: number, s: number, m: number): number {
  const m0 = nextMb[S - 1]!;
  let held = 0;
  for (let c = 0; c < V; c++) {
    const st = devStages[d * V + c]!;
    const f = nextMb[st]!;
    const doneB = Math.max(0, doneCnt[S + st]! - m0);
    const doneW = Math.max(0, doneCnt[2 * S + st]! - m0);
    held += (f - m0) * memDelta[st]! + doneB * memDelta[S + st]! + doneW * memDelta[2 * S + st]!;
    if (f === m0 && !(m === m0 && st === s)) held += memDelta[st]!;
  }
  return held;
}

/** A binary min-heap of event times (op ends and transfer arrivals); grows when full. */
export class EventQueue {
  private heap: Float64Array;
  size = 0;

  constructor(capacity = 16) {
    this.heap = new Float64Array(Math.max(1, capacity));
  }

  push(t: number): void {
    if (this.size === this.heap.length) {
      const bigger = new Float64Array(this.heap.length * 2);
      bigger.set(this.heap);
      this.heap = bigger;
    }
    const h = this.heap;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]! <= t) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = t;
  }

  /** Removes and returns the earliest time (the queue must not be empty). */
  pop(): number {
    const h = this.heap;
    const top = h[0]!;
    const last = h[--this.size]!;
    const n = this.size;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && h[child + 1]! < h[child]!) child++;
      if (h[child]! >= last) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = last;
    return top;
  }

  peek(): number {
    return this.heap[0]!;
  }
}

/**
 * Runs a problem dynamically. Semantics, in time order:
 * - a class's next op is its lowest micro-batch not yet started;
 * - a class is eligible on an idle device at time t iff its next op exists, its dependencies are done and their
 *   data has arrived by t (F: stage 0 or F(m, s-1) arrived; B: F(m, s) done and s = S-1 or B(m, s+1) arrived;
 *   W: B(m, s) done), and the op's memory delta fits: current + delta <= limit (F adds at its start, B and W at
 *   their end; only a positive delta can fail, so with the usual signs only F is limited);
 * - memory rule `reserve` (V > 1): call a micro-batch open on a device when its forward has started on some but
 *   not all of the device's chunks, and L the lowest open one. An F of L needs only the check above. Any other F
 *   also needs current + memF + R <= limit, where R is the forward memory L still owes (its chunks not yet
 *   started), or, when nothing is open, the rest of this micro-batch's forwards on the device. With memF >= 0,
 *   memB <= 0, memW <= 0 and a limit of at least the device's summed memF, the globally lowest unfinished
 *   micro-batch can always proceed, so no run deadlocks (with `plain`, V = 2 runs can);
 * - at each event time, after applying every op end and arrival at that time, idle devices are visited in
 *   ascending order: no eligible class -> idle; one -> it starts; more -> the policy picks a class or waits
 *   (waiting is allowed only while some op runs or some transfer is in flight, so time always advances).
 * Allocates its state once; `run` may be called for any number of episodes and policies.
 */
export class DynamicExecutor {
  private readonly P: number;
  private readonly V: number;
  private readonly S: number;
  private readonly M: number;
  /** Ops per device: 3 V M. */
  private readonly perDevice: number;
  /** devStages[d * V + c]: model stage of chunk c on device d. */
  private readonly devStages: Int32Array;
  /** [kind * S + s]: base cost and memory delta. */
  private readonly cost: Float64Array;
  private readonly memDelta: Float64Array;
  private readonly memCap: number;
  /** Per device: summed memF of its stages (one micro-batch's forwards). */
  private readonly fullF: Float64Array;
  /** This run applies the reserve rule; `open` is set by `scanOpen` for one device. */
  private reserve = false;
  /** This run applies the `lowest` rule. */
  private lowest = false;
  private readonly open: OpenForwards = { lowestOpen: -1, owed: 0 };

  private readonly nextMb: Int32Array;
  /** Finished ops per class slot kind * S + s (they finish in micro-batch order). */
  private readonly doneCnt: Int32Array;
  private readonly endF: Float64Array;
  private readonly endB: Float64Array;
  /** arrF[s * M + m]: when F(m, s)'s output is available to stage s + 1; arrB: B(m, s)'s gradient to s - 1. */
  private readonly arrF: Float64Array;
  private readonly arrB: Float64Array;
  private readonly runKind: Int32Array;
  private readonly runStage: Int32Array;
  private readonly runMb: Int32Array;
  private readonly runEnd: Float64Array;
  private readonly orderLen: Int32Array;
  private readonly curMem: Float64Array;
  private readonly keys: Uint32Array;
  private readonly events: EventQueue;
  private readonly view: {
    -readonly [K in keyof DynamicView]: DynamicView[K];
  };

  constructor(readonly problem: Problem) {
    const { stages: P, chunks: V, numStages: S, microBatches: M } = problem;
    this.P = P;
    this.V = V;
    this.S = S;
    this.M = M;
    this.perDevice = 3 * V * M;
    ({ devStages: this.devStages, cost: this.cost, memDelta: this.memDelta, fullF: this.fullF, memCap: this.memCap } = dynamicTables(problem));
    this.nextMb = new Int32Array(3 * S);
    this.doneCnt = new Int32Array(3 * S);
    this.endF = new Float64Array(S * M);
    this.endB = new Float64Array(S * M);
    this.arrF = new Float64Array(S * M);
    this.arrB = new Float64Array(S * M);
    this.runKind = new Int32Array(P);
    this.runStage = new Int32Array(P);
    this.runMb = new Int32Array(P);
    this.runEnd = new Float64Array(P);
    this.orderLen = new Int32Array(P);
    this.curMem = new Float64Array(P);
    this.keys = new Uint32Array(5 * S);
    this.events = new EventQueue(P + 2 * S * M);
    this.view = {
      problem,
      device: 0,
      time: 0,
      chunks: V,
      classes: 3 * V,
      mask: new Uint8Array(3 * V + 1),
      stage: new Int32Array(V),
      nextMb: new Int32Array(3 * V),
      remaining: new Int32Array(3 * V),
      nextCost: new Float64Array(3 * V),
      memory: this.curMem,
      memLimit: problem.memLimit,
      inFlight: 0,
      eligible: 0,
    };
  }

  run(policy: DynamicPolicy, opts: DynamicOptions = {}): DynamicResult {
    const episode = opts.episode ?? 0;
    if (!Number.isInteger(episode) || episode < 0 || episode > 0x7fffffff) throw new RangeError(`episode must be an integer in [0, 2^31) (got ${episode})`);
    const { P, V, S, M, perDevice, devStages, cost, memDelta, memCap, nextMb, endF, endB, arrF, arrB } = this;
    const { runKind, runStage, runMb, runEnd, orderLen, curMem, keys, events, view } = this;
    const { stageDevice, comm } = this.problem;
    const memoryRule = opts.memoryRule ?? 'reserve';
    if (!MEMORY_RULES.includes(memoryRule)) throw new RangeError(`memoryRule must be one of ${MEMORY_RULES.join(', ')} (got ${String(memoryRule)})`);
    this.reserve = memoryRule === 'reserve' && V > 1 && memCap < Infinity;
    this.lowest = memoryRule === 'lowest' && V > 1 && memCap < Infinity;
    const doneCnt = this.doneCnt;
    const { cv, commCv, floor, anomalyProb, anomalyFactor, seed } = this.problem.noise;
    const computeNoisy = cv > 0 || anomalyProb > 0;
    const commNoisy = commCv > 0 || anomalyProb > 0;
    if (computeNoisy || commNoisy) {
      const epKey = episodeKey(seed, episode);
      for (let kind = 0; kind < 5; kind++) for (let s = 0; s < S; s++) keys[kind * S + s] = stageKey(epKey, kind, s);
    }

    nextMb.fill(0);
    doneCnt.fill(0);
    endF.fill(Infinity);
    endB.fill(Infinity);
    arrF.fill(Infinity);
    arrB.fill(Infinity);
    runKind.fill(-1);
    orderLen.fill(0);
    curMem.fill(0);
    events.size = 0;
    const order = new Int32Array(P * perDevice);
    const busy = new Float64Array(P);
    const peak = new Float64Array(P);
    const firstStart = new Float64Array(P).fill(-1);
    const lastEnd = new Float64Array(P);
    const SM = S * M;
    const raw: RawTimeline | undefined = opts.timeline
      ? {
          opStart: new Float64Array(P * perDevice),
          opEnd: new Float64Array(P * perDevice),
          xferFStart: new Float64Array(SM).fill(-1),
          xferFEnd: new Float64Array(SM).fill(-1),
          xferBStart: new Float64Array(SM).fill(-1),
          xferBEnd: new Float64Array(SM).fill(-1),
        }
      : undefined;
    const classes = 3 * V;
    const mask = view.mask;
    const total = P * perDevice;
    let done = 0;
    let decisions = 0;
    let waits = 0;

    /** Fills the mask of device d at time t; returns the number of eligible classes. */
    const fillMask = (d: number, t: number): number => {
      this.scanOpen(d);
      let count = 0;
      for (let c = 0; c < V; c++) {
        const s = devStages[d * V + c]!;
        for (let kind = 0; kind < 3; kind++) {
          const m = nextMb[kind * S + s]!;
          let ok = false;
          if (m < M && curMem[d]! + memDelta[kind * S + s]! <= memCap) {
            const i = s * M + m;
            if (kind === KIND_F) {
              ok = s === 0 || arrF[i - M]! <= t;
              if (ok && this.reserve) ok = curMem[d]! + memDelta[s]! + this.reservedBeyond(d, s, m) <= memCap;
              if (ok && this.lowest) ok = heldFromLowest(devStages, nextMb, doneCnt, memDelta, S, V, d, s, m) + memDelta[s]! <= memCap;
            }
            else if (kind === KIND_B) ok = endF[i]! <= t && (s === S - 1 || arrB[i + M]! <= t);
            else ok = endB[i]! <= t;
          }
          mask[c * 3 + kind] = ok ? 1 : 0;
          if (ok) count++;
        }
      }
      return count;
    };

    const start = (d: number, k: number, t: number): void => {
      const c = (k / 3) | 0;
      const kind = k - 3 * c;
      const s = devStages[d * V + c]!;
      const m = nextMb[kind * S + s]!;
      nextMb[kind * S + s] = m + 1;
      let dur = cost[kind * S + s]!;
      if (computeNoisy) dur *= factor(mbKey(keys[kind * S + s]!, m), cv, floor, anomalyProb, anomalyFactor);
      const end = t + dur;
      if (kind === KIND_F) {
        const mem = curMem[d]! + memDelta[s]!;
        curMem[d] = mem;
        if (mem > peak[d]!) peak[d] = mem;
      }
      const pos = d * perDevice + orderLen[d]!;
      orderLen[d] = orderLen[d]! + 1;
      order[pos] = ((m * S + s) << 2) | kind;
      if (raw) {
        raw.opStart[pos] = t;
        raw.opEnd[pos] = end;
      }
      runKind[d] = kind;
      runStage[d] = s;
      runMb[d] = m;
      runEnd[d] = end;
      busy[d] = busy[d]! + dur;
      if (firstStart[d]! < 0) firstStart[d] = t;
      lastEnd[d] = end;
      events.push(end);
    };

    const complete = (d: number): void => {
      const kind = runKind[d]!;
      const s = runStage[d]!;
      const m = runMb[d]!;
      const end = runEnd[d]!;
      const i = s * M + m;
      runKind[d] = -1;
      done++;
      doneCnt[kind * S + s] = doneCnt[kind * S + s]! + 1;
      if (kind === KIND_F) {
        endF[i] = end;
        if (s + 1 < S) {
          let arrival = end;
          if (stageDevice[s + 1] !== d) {
            let c = comm[s]!;
            if (commNoisy) c *= factor(mbKey(keys[NOISE_COMM_F * S + s]!, m), commCv, floor, anomalyProb, anomalyFactor);
            arrival = end + c;
            if (raw) {
              raw.xferFStart[i] = end;
              raw.xferFEnd[i] = arrival;
            }
            if (arrival > end) events.push(arrival);
          }
          arrF[i] = arrival;
        }
        return;
      }
      const mem = curMem[d]! + memDelta[kind * S + s]!;
      curMem[d] = mem;
      if (mem > peak[d]!) peak[d] = mem;
      if (kind === KIND_B) {
        endB[i] = end;
        if (s > 0) {
          let arrival = end;
          if (stageDevice[s - 1] !== d) {
            let c = comm[s - 1]!;
            if (commNoisy) c *= factor(mbKey(keys[NOISE_COMM_B * S + s]!, m), commCv, floor, anomalyProb, anomalyFactor);
            arrival = end + c;
            if (raw) {
              raw.xferBStart[i] = end;
              raw.xferBEnd[i] = arrival;
            }
            if (arrival > end) events.push(arrival);
          }
          arrB[i] = arrival;
        }
      }
    };

    let t = 0;
    for (;;) {
      for (let d = 0; d < P; d++) if (runKind[d]! >= 0 && runEnd[d]! <= t) complete(d);
      if (done === total) break;
      for (let d = 0; d < P; d++) {
        if (runKind[d]! >= 0) continue;
        const count = fillMask(d, t);
        if (count === 0) continue;
        let action = -1;
        if (count === 1) {
          action = mask.indexOf(1);
        } else {
          mask[classes] = events.size > 0 ? 1 : 0;
          this.fillView(d, t, count);
          action = policy(view);
          decisions++;
          if (action === classes && mask[classes] === 1) {
            waits++;
            continue;
          }
          if (!(Number.isInteger(action) && action >= 0 && action < classes && mask[action] === 1))
            throw new RangeError(
              `policy chose action ${action} on device ${d} at time ${t}, which is not allowed (mask ${Array.from(mask).join('')}; the last entry is wait)`,
            );
        }
        start(d, action, t);
      }
      if (events.size === 0) throw this.stuck(t);
      t = events.pop();
      while (events.size > 0 && events.peek() <= t) events.pop();
    }

    let makespan = 0;
    let span = 0;
    for (let d = 0; d < P; d++) {
      if (lastEnd[d]! > makespan) makespan = lastEnd[d]!;
      if (firstStart[d]! >= 0 && lastEnd[d]! - firstStart[d]! > span) span = lastEnd[d]! - firstStart[d]!;
    }
    const devStart = Int32Array.from({ length: P + 1 }, (_, d) => d * perDevice);
    const compiled: CompiledSchedule = { ops: order, devStart };
    const devices: Op[][] = [];
    for (let d = 0; d < P; d++) {
      const ops: Op[] = [];
      for (let h = d * perDevice; h < (d + 1) * perDevice; h++) ops.push(decodeOp(order[h]!, S));
      devices.push(ops);
    }
    const schedule: Schedule = { stages: P, chunksPerDevice: V, placement: this.problem.placement, microBatches: M, devices };
    if (opts.name !== undefined) schedule.name = opts.name;
    const result: DynamicResult = { episode, makespan, span, busy, peakMemory: peak, decisions, waits, order: compiled, schedule };
    if (raw) result.timeline = buildTimeline(this.problem, compiled, raw, episode);
    return result;
  }

  private scanOpen(d: number): void {
    scanOpenForwards(this.open, this.reserve, this.devStages, this.nextMb, this.memDelta, this.V, d);
  }

  private reservedBeyond(d: number, s: number, m: number): number {
    return reservedBeyond(this.open, this.reserve, this.fullF, this.memDelta, d, s, m);
  }

  private fillView(d: number, t: number, count: number): void {
    const { V, S, M, devStages, nextMb, cost, view } = this;
    view.device = d;
    view.time = t;
    view.inFlight = this.events.size;
    view.eligible = count;
    for (let c = 0; c < V; c++) {
      const s = devStages[d * V + c]!;
      view.stage[c] = s;
      for (let kind = 0; kind < 3; kind++) {
        const k = c * 3 + kind;
        const m = nextMb[kind * S + s]!;
        view.nextMb[k] = m;
        view.remaining[k] = M - m;
        view.nextCost[k] = m < M ? cost[kind * S + s]! : 0;
      }
    }
  }

  /** Nothing runs, nothing is in flight and no device can start: name each device's blocked classes. */
  private stuck(t: number): DeadlockError {
    const { P, V, S, M, devStages, nextMb, memDelta, memCap, curMem, endF, endB, arrF, arrB } = this;
    const blocked: { device: number; op: string; waitsFor: string }[] = [];
    for (let d = 0; d < P; d++) {
      this.scanOpen(d);
      for (let c = 0; c < V; c++) {
        const s = devStages[d * V + c]!;
        for (let kind = 0; kind < 3; kind++) {
          const m = nextMb[kind * S + s]!;
          if (m >= M) continue;
          const i = s * M + m;
          const op = formatAction({ kind: (['F', 'B', 'W'] as const)[kind]!, stage: s, mb: m });
          const delta = memDelta[kind * S + s]!;
          const reserved = kind === KIND_F ? this.reservedBeyond(d, s, m) : 0;
          const deps: string[] = [];
          if (curMem[d]! + delta + reserved > memCap)
            deps.push(`memory: ${curMem[d]} + ${delta}${reserved ? ` + ${reserved} reserved` : ''} exceeds the limit ${this.problem.memLimit} at time ${t}`);
          if (kind === KIND_F && s > 0 && !(arrF[i - M]! <= t)) deps.push(formatAction({ kind: 'F', stage: s - 1, mb: m }));
          if (kind === KIND_B && !(endF[i]! <= t)) deps.push(formatAction({ kind: 'F', stage: s, mb: m }));
          if (kind === KIND_B && s < S - 1 && !(arrB[i + M]! <= t)) deps.push(formatAction({ kind: 'B', stage: s + 1, mb: m }));
          if (kind === KIND_W && !(endB[i]! <= t)) deps.push(formatAction({ kind: 'B', stage: s, mb: m }));
          blocked.push({ device: d, op, waitsFor: deps.join(' and ') });
        }
      }
    }
    return new DeadlockError(blocked);
  }
}

/** Runs one episode of `problem` under `policy` (see DynamicExecutor for the semantics). */
export function runDynamic(problem: Problem, policy: DynamicPolicy, opts: DynamicOptions = {}): DynamicResult {
  return new DynamicExecutor(problem).run(policy, opts);
}
