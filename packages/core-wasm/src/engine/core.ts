// The event core of the TypeScript simulators (docs/SEMANTICS.md sections 1, 2 and 4): one problem's tables and one
// episode's state, and the rules that change it: which op classes are eligible (the action mask), starting an op,
// completing one (publishing its transfer), advancing the clock to the next event, plus the per-device sums and the
// optional recorders (the realized order, the timeline). Three thin layers drive it: src/reference.ts by per-device
// op lists, src/dynamic.ts by a policy callback, src/env-reference.ts one decision at a time. Every number is made
// with the f64 operations, in the same order, of assembly/replay.ts and assembly/env.ts (bit for bit).
import {
  CLASSES_PER_CHUNK,
  KIND_B,
  KIND_BW,
  KIND_F,
  KIND_W,
  NOISE_COMM_B,
  NOISE_COMM_F,
  NOISE_F,
  NOISE_KINDS,
} from '../contract.js';
import type { Problem } from '../problem.js';
import type { RawTimeline } from '../result.js';
import { formatAction, KIND_OF_CODE } from '../schedule.js';
import { EventQueue } from './events.js';
import { heldFromLowest, reservedBeyond, scanOpenForwards, type MemoryRule, type OpenForwards } from './memory.js';
import { buildTables, drawFactors } from './tables.js';

/** Four equal consecutive views of `block` (arrays an episode resets together, with one fill). */
function quarters(block: Float64Array): [Float64Array, Float64Array, Float64Array, Float64Array] {
  const n = block.length / 4;
  return [block.subarray(0, n), block.subarray(n, 2 * n), block.subarray(2 * n, 3 * n), block.subarray(3 * n)];
}

/** A class that cannot start, with what it waits for (the entries of a DeadlockError). */
export interface BlockedClass {
  device: number;
  op: string;
  waitsFor: string;
}

/**
 * One problem's simulation state, reused episode after episode (`begin`, `beginDynamic`). Ops are (kind, stage s,
 * micro-batch m); per-class arrays are indexed kind * S + s, per-op arrays s * M + m, a device's order and timeline
 * slots from d * perDevice. Times are Infinity until they are known. Layers read the public arrays, never write them.
 */
export class EventCore {
  readonly P: number;
  readonly V: number;
  readonly S: number;
  readonly M: number;
  /** Ops a device runs in a dynamic episode (3 V M): the length of its slice of `order` and the timeline. */
  readonly perDevice: number;
  /** Ops of a dynamic episode (3 S M). */
  readonly total: number;
  /** devStages[d * V + c]: model stage of local chunk c on device d (the c-th in increasing stage order). */
  readonly devStages: Int32Array;
  /** [kind * S + s]: base compute cost of F, B and W. */
  readonly cost: Float64Array;
  /** [kind * S + s]: memory delta of F, B, W and BW (B + W, added in one step as the static replay does). */
  readonly memDelta: Float64Array;
  /** Per device: summed memF of its stages (one micro-batch's forwards). */
  readonly fullF: Float64Array;
  /** The limit with the static check's tolerance (memoryViolations), so both agree on what fits; Infinity if none. */
  readonly memCap: number;
  /** Compute durations fluctuate (cv or anomalies). */
  readonly computeNoisy: boolean;
  /** Transfer durations fluctuate. */
  readonly commNoisy: boolean;
  private readonly stageDevice: Int32Array;
  private readonly comm: Float64Array;

  /** [(noise kind * S + s) * M + m]: this episode's duration factors (drawn only where something fluctuates). */
  readonly fac: Float64Array;
  /** [kind * S + s]: the class's next micro-batch (classes run their micro-batches in ascending order). */
  readonly nextMb: Int32Array;
  /** [kind * S + s]: finished ops of the class (they finish in micro-batch order). */
  readonly doneCnt: Int32Array;
  /** [kind * S + s]: end of the class's last finished op (0 before the first). */
  readonly lastDone: Float64Array;
  /** endF, endB, arrF and arrB, one block so that an episode resets them at once. */
  private readonly times: Float64Array;
  /** [s * M + m]: ends of F(m, s) and of B(m, s) (or BW). */
  readonly endF: Float64Array;
  readonly endB: Float64Array;
  /** [s * M + m]: when F(m, s)'s activation is at stage s + 1, and B(m, s)'s gradient at stage s - 1. */
  readonly arrF: Float64Array;
  readonly arrB: Float64Array;
  /** Per device: the running op's kind (-1: idle), stage, micro-batch, start and end. */
  readonly runKind: Int32Array;
  readonly runStage: Int32Array;
  readonly runMb: Int32Array;
  readonly runStart: Float64Array;
  readonly runEnd: Float64Array;
  /** curMem, peak, busy and lastEnd, one block (reset at once). */
  private readonly sums: Float64Array;
  /** Per device: memory now and its peak in this episode. */
  readonly curMem: Float64Array;
  readonly peak: Float64Array;
  /** Per device: summed realized op durations, start of the first op (-1: none), end of the last op. */
  readonly busy: Float64Array;
  readonly firstStart: Float64Array;
  readonly lastEnd: Float64Array;
  /** Per device: ops started (the next free slot of its order). */
  readonly started: Int32Array;
  /** Op ends and transfer arrivals to come (dynamic episodes). */
  readonly events: EventQueue;
  /** The clock of a dynamic episode: the current event time. */
  time = 0;
  /** Ops finished (dynamic episodes). */
  done = 0;
  /** Records the code ((m * S + s) << 2 | kind) of each started op at d * perDevice + started[d]; null: off. */
  order: Int32Array | null = null;
  /** Records op times (by order slot) and transfers; null: off. */
  timeline: RawTimeline | null = null;
  private reserve = false;
  private lowest = false;
  private readonly open: OpenForwards = { lowestOpen: -1, owed: 0 };

  constructor(readonly problem: Problem) {
    const { stages: P, chunks: V, numStages: S, microBatches: M } = problem;
    this.P = P;
    this.V = V;
    this.S = S;
    this.M = M;
    this.perDevice = 3 * V * M;
    this.total = 3 * S * M;
    const tables = buildTables(problem);
    this.devStages = tables.devStages;
    this.cost = tables.cost;
    this.memDelta = tables.memDelta;
    this.fullF = tables.fullF;
    this.memCap = tables.memCap;
    this.computeNoisy = tables.computeNoisy;
    this.commNoisy = tables.commNoisy;
    this.stageDevice = problem.stageDevice;
    this.comm = problem.comm;
    this.fac = new Float64Array(this.computeNoisy || this.commNoisy ? NOISE_KINDS * S * M : 0);
    this.nextMb = new Int32Array(3 * S);
    this.doneCnt = new Int32Array(3 * S);
    this.lastDone = new Float64Array(3 * S);
    const SM = S * M;
    this.times = new Float64Array(4 * SM);
    [this.endF, this.endB, this.arrF, this.arrB] = quarters(this.times);
    this.runKind = new Int32Array(P);
    this.runStage = new Int32Array(P);
    this.runMb = new Int32Array(P);
    this.runStart = new Float64Array(P);
    this.runEnd = new Float64Array(P);
    this.sums = new Float64Array(4 * P);
    [this.curMem, this.peak, this.busy, this.lastEnd] = quarters(this.sums);
    this.firstStart = new Float64Array(P);
    this.started = new Int32Array(P);
    this.events = new EventQueue(P + 2 * S * M);
  }

  /** Starts episode `episode` of a static replay: its noise, no op done, the per-device sums at zero. */
  begin(episode: number): void {
    const { cv, commCv } = this.problem.noise;
    if (this.computeNoisy) drawFactors(this.fac, this.problem, episode, NOISE_F, NOISE_COMM_F, cv);
    if (this.commNoisy) drawFactors(this.fac, this.problem, episode, NOISE_COMM_F, NOISE_KINDS, commCv);
    this.times.fill(Infinity);
    this.sums.fill(0);
    this.firstStart.fill(-1);
  }

  /** Starts a dynamic episode under memory rule `rule` (`plain` for V = 1 or no limit): also classes and clock. */
  beginDynamic(episode: number, rule: MemoryRule): void {
    this.begin(episode);
    const limited = this.V > 1 && this.memCap < Infinity;
    this.reserve = rule === 'reserve' && limited;
    this.lowest = rule === 'lowest' && limited;
    this.nextMb.fill(0);
    this.doneCnt.fill(0);
    this.lastDone.fill(0);
    this.runKind.fill(-1);
    this.started.fill(0);
    this.events.size = 0;
    this.time = 0;
    this.done = 0;
  }

  /**
   * When op (kind, s, m)'s inputs are done and delivered (section 1, Dependencies): F needs F(m, s-1)'s activation,
   * B and BW need F(m, s) and B(m, s+1)'s gradient, W needs B(m, s). Infinity while one has not finished.
   */
  inputsAt(kind: number, s: number, m: number): number {
    const { M } = this;
    const i = s * M + m;
    if (kind === KIND_F) return s === 0 ? 0 : this.arrF[i - M]!;
    if (kind === KIND_W) return this.endB[i]!;
    const f = this.endF[i]!;
    if (s === this.S - 1) return f;
    const g = this.arrB[i + M]!;
    if (g > f) return g;
    return f;
  }

  /** Realized compute time of op (kind, s, m) in this episode; a BW takes its B's and then its W's (section 2). */
  duration(kind: number, s: number, m: number): number {
    const { S, M, cost, fac } = this;
    const b = (kind === KIND_BW ? KIND_B : kind) * S + s;
    let dur = this.computeNoisy ? cost[b]! * fac[b * M + m]! : cost[b]!;
    // W's slot is B's plus S
    if (kind === KIND_BW) dur += this.computeNoisy ? cost[b + S]! * fac[(b + S) * M + m]! : cost[b + S]!;
    return dur;
  }

  /** Adds a memory delta to device d (F at its start, B and W at their end) and keeps the peak. */
  addMemory(d: number, delta: number): void {
    const mem = this.curMem[d]! + delta;
    this.curMem[d] = mem;
    if (mem > this.peak[d]!) this.peak[d] = mem;
  }

  /** Device d runs an op for `dur` from `start` (order slot `slot`): per-device sums and timeline; returns its end. */
  occupy(d: number, slot: number, start: number, dur: number): number {
    const end = start + dur;
    if (this.firstStart[d]! < 0) this.firstStart[d] = start;
    this.busy[d] = this.busy[d]! + dur;
    this.lastEnd[d] = end;
    const tl = this.timeline;
    if (tl) {
      tl.opStart[slot] = start;
      tl.opEnd[slot] = end;
    }
    return end;
  }

  /**
   * Op (kind, s, m) of device d has ended at `end`: its end becomes known and its output (an activation to s + 1, a
   * gradient to s - 1) is sent on. Returns when that output arrives (`end` when it stays on d or there is none).
   */
  publish(d: number, kind: number, s: number, m: number, end: number): number {
    if (kind === KIND_W) return end;
    const i = s * this.M + m;
    const forward = kind === KIND_F;
    if (forward) this.endF[i] = end;
    else this.endB[i] = end;
    const to = forward ? s + 1 : s - 1;
    if (to < 0 || to === this.S) return end;
    const arrival = this.stageDevice[to] === d ? end : this.send(forward ? NOISE_COMM_F : NOISE_COMM_B, s, m, end);
    if (forward) this.arrF[i] = arrival;
    else this.arrB[i] = arrival;
    return arrival;
  }

  /** Arrival of the transfer (noise kind `noise`, keyed by its sender s) that leaves at `end`. */
  private send(noise: number, s: number, m: number, end: number): number {
    const { S, M } = this;
    // the link between s and s + 1 carries both directions
    const c = this.comm[noise === NOISE_COMM_F ? s : s - 1]!;
    const arrival = end + (this.commNoisy ? c * this.fac[(noise * S + s) * M + m]! : c);
    if (this.timeline) this.recordTransfer(this.timeline, noise, s * M + m, end, arrival);
    return arrival;
  }

  private recordTransfer(tl: RawTimeline, noise: number, i: number, start: number, end: number): void {
    (noise === NOISE_COMM_F ? tl.xferFStart : tl.xferBStart)[i] = start;
    (noise === NOISE_COMM_F ? tl.xferFEnd : tl.xferBEnd)[i] = end;
  }

  /**
   * The action mask of idle device d now: mask[c * 3 + kind] = 1 when class (chunk c, kind) has a next op whose
   * inputs are there and whose memory fits under the rule (section 4, Classes). Returns the number of eligible classes.
   */
  fillMask(d: number, mask: Uint8Array): number {
    const { V, S, M, devStages, nextMb, memDelta, memCap, time: t } = this;
    const cur = this.curMem[d]!;
    if (this.reserve) scanOpenForwards(this.open, this, d);
    let count = 0;
    for (let c = 0; c < V; c++) {
      const s = devStages[d * V + c]!;
      for (let kind = 0; kind < CLASSES_PER_CHUNK; kind++) {
        const m = nextMb[kind * S + s]!;
        const ok =
          m < M &&
          cur + memDelta[kind * S + s]! <= memCap &&
          this.inputsAt(kind, s, m) <= t &&
          (kind !== KIND_F || this.forwardFits(d, s, m));
        mask[c * CLASSES_PER_CHUNK + kind] = ok ? 1 : 0;
        if (ok) count++;
      }
    }
    return count;
  }

  /** The memory rule's own condition on F(m, s) of device d (after fillMask's scan of d). */
  private forwardFits(d: number, s: number, m: number): boolean {
    const f = this.memDelta[s]!;
    if (this.reserve) return this.curMem[d]! + f + reservedBeyond(this.open, this, d, s, m) <= this.memCap;
    if (this.lowest) return heldFromLowest(this, d, s, m) + f <= this.memCap;
    return true;
  }

  /** Starts class k (c * 3 + kind) of idle device d now: its next micro-batch, on the order and the clock. */
  start(d: number, k: number): void {
    const t = this.time;
    const c = (k / CLASSES_PER_CHUNK) | 0;
    const kind = k - CLASSES_PER_CHUNK * c;
    const s = this.devStages[d * this.V + c]!;
    const slot = kind * this.S + s;
    const m = this.nextMb[slot]!;
    this.nextMb[slot] = m + 1;
    const dur = this.duration(kind, s, m);
    if (kind === KIND_F) this.addMemory(d, this.memDelta[s]!);
    const pos = d * this.perDevice + this.started[d]!;
    this.started[d] = this.started[d]! + 1;
    if (this.order) this.order[pos] = ((m * this.S + s) << 2) | kind;
    const end = this.occupy(d, pos, t, dur);
    this.runKind[d] = kind;
    this.runStage[d] = s;
    this.runMb[d] = m;
    this.runStart[d] = t;
    this.runEnd[d] = end;
    this.events.push(end);
  }

  /** Device d's running op ends (at its end time): counters, memory (B, W), its transfer onto the queue. */
  private complete(d: number): void {
    const kind = this.runKind[d]!;
    const s = this.runStage[d]!;
    const end = this.runEnd[d]!;
    const slot = kind * this.S + s;
    this.runKind[d] = -1;
    this.done++;
    this.doneCnt[slot] = this.doneCnt[slot]! + 1;
    this.lastDone[slot] = end;
    if (kind !== KIND_F) this.addMemory(d, this.memDelta[slot]!);
    const arrival = this.publish(d, kind, s, this.runMb[d]!, end);
    if (arrival > end) this.events.push(arrival);
  }

  /**
   * Moves the clock to the next event time and completes, in device order, every op that has ended by then (so
   * all ends and arrivals at a time are applied before any device is visited). False: nothing runs or is in flight.
   */
  advance(): boolean {
    const { events, P, runKind, runEnd } = this;
    if (events.size === 0) return false;
    const t = events.pop();
    while (events.size > 0 && events.peek() <= t) events.pop();
    this.time = t;
    for (let d = 0; d < P; d++) if (runKind[d]! >= 0 && runEnd[d]! <= t) this.complete(d);
    return true;
  }

  /** The end of the last op so far (a device's ops end in order): the makespan once every op ran. */
  makespan(): number {
    let T = 0;
    for (let d = 0; d < this.P; d++) if (this.lastEnd[d]! > T) T = this.lastEnd[d]!;
    return T;
  }

  /** Max over devices of (end of its last op - start of its first op). */
  span(): number {
    let span = 0;
    for (let d = 0; d < this.P; d++) {
      const s0 = this.firstStart[d]!;
      const f = this.lastEnd[d]!;
      if (s0 >= 0 && f - s0 > span) span = f - s0;
    }
    return span;
  }

  /** Every class with ops left on every device, with what holds it now (for a DeadlockError when nothing can run). */
  blockedClasses(): BlockedClass[] {
    const { P, V, S, M, devStages, nextMb, memDelta, memCap, curMem, endF, endB, arrF, arrB, time: t } = this;
    const blocked: BlockedClass[] = [];
    for (let d = 0; d < P; d++) {
      if (this.reserve) scanOpenForwards(this.open, this, d);
      for (let c = 0; c < V; c++) {
        const s = devStages[d * V + c]!;
        for (let kind = 0; kind < CLASSES_PER_CHUNK; kind++) {
          const m = nextMb[kind * S + s]!;
          if (m >= M) continue;
          const i = s * M + m;
          const delta = memDelta[kind * S + s]!;
          const reserved = kind === KIND_F && this.reserve ? reservedBeyond(this.open, this, d, s, m) : 0;
          const deps: string[] = [];
          if (curMem[d]! + delta + reserved > memCap)
            deps.push(
              `memory: ${curMem[d]} + ${delta}${reserved ? ` + ${reserved} reserved` : ''} exceeds the limit ` +
                `${this.problem.memLimit} at time ${t}`,
            );
          if (kind === KIND_F && s > 0 && !(arrF[i - M]! <= t))
            deps.push(formatAction({ kind: 'F', stage: s - 1, mb: m }));
          if (kind === KIND_B && !(endF[i]! <= t)) deps.push(formatAction({ kind: 'F', stage: s, mb: m }));
          if (kind === KIND_B && s < S - 1 && !(arrB[i + M]! <= t))
            deps.push(formatAction({ kind: 'B', stage: s + 1, mb: m }));
          if (kind === KIND_W && !(endB[i]! <= t)) deps.push(formatAction({ kind: 'B', stage: s, mb: m }));
          blocked.push({
            device: d,
            op: formatAction({ kind: KIND_OF_CODE[kind]!, stage: s, mb: m }),
            waitsFor: deps.join(' and '),
          });
        }
      }
    }
    return blocked;
  }
}
