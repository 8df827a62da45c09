// The zero-bubble automatic scheduler (ZB-1p / ZB-2p, arXiv 2401.10241): per-stage orders of F, B and W (V = 1)
// built while timing them with the profiled costs and communication, under a per-device memory limit.
//
// Candidates: the reference's greedy construction in its eight variants, plus an event-driven list scheduler under
// a few policies; every candidate meets the memory limit by construction. The shortest span wins, then a local
// pass moves ops around idle gaps while that lowers the span (or, at equal span, the sum of stage spans).
import { ScheduleError, type Op, type Problem, type Schedule } from '@pprl/core-wasm';
import { checkMemoryLimit } from '../memory.js';
import type { Generator } from '../types.js';

/** The three switches of the reference's greedy construction. */
export interface ZbAutoVariant {
  /** Warm-up F's may overrun the arrival of micro-batch 0's gradient (a bubble before the first B). */
  allowBubbleBeforeFirstB: boolean;
  /** A stage well ahead of the next one skips its F when that F would delay the B the next stage waits on. */
  prioritizeB: boolean;
  /** Fill a dependency wait with a W even when it overruns, while the stage's bubble stays within the worst one's. */
  greedyWFill: boolean;
}

/** A policy of the event-driven list scheduler. */
export interface ListPolicy {
  /** Which of a ready F and a ready B runs first: F, B, or alternate (the other kind than the last one). */
  prefer: 'F' | 'B' | 'alternate';
  /** Overrides `prefer` on the first stage, whose B's feed nobody. */
  preferFirst?: 'F' | 'B' | 'alternate';
  /** At most round(inflightPerStage * (P - s)) micro-batches in flight (F done, B not) on stage s; none if absent. */
  inflightPerStage?: number;
  /** While waiting: run a pending W always ('eager'), or only if it ends before the next known arrival ('fit'). */
  fill: 'eager' | 'fit';
}

export interface ZbAutoOptions {
  /** Greedy variants to build. Default: {@link UPSTREAM_VARIANTS}. */
  variants?: readonly ZbAutoVariant[];
  /** List-scheduler policies to build. Default: {@link DEFAULT_LIST_POLICIES}. */
  listPolicies?: readonly ListPolicy[];
  /** Run the local improvement pass on the best candidate. Default true. */
  improve?: boolean;
}

const SWITCHES = [true, false] as const;

/** The eight variants of the reference implementation. */
export const UPSTREAM_VARIANTS: readonly ZbAutoVariant[] = SWITCHES.flatMap((allowBubbleBeforeFirstB) =>
  SWITCHES.flatMap((prioritizeB) => SWITCHES.map((greedyWFill) => ({ allowBubbleBeforeFirstB, prioritizeB, greedyWFill }))),
);

/** Each F/B preference (with the first stage F-first or not), in-flight caps none / ZB-1.5p-like / ZB-2p-like, both fills. */
export const DEFAULT_LIST_POLICIES: readonly ListPolicy[] = (['F', 'B', 'alternate'] as const).flatMap((prefer) =>
  (prefer === 'F' ? [undefined] : [undefined, 'F' as const]).flatMap((preferFirst) =>
    [undefined, 1.5, 2].flatMap((inflightPerStage) =>
      (['eager', 'fit'] as const).map(
        (fill): ListPolicy => ({
          prefer,
          fill,
          ...(preferFirst === undefined ? {} : { preferFirst }),
          ...(inflightPerStage === undefined ? {} : { inflightPerStage }),
        }),
      ),
    ),
  ),
);

const KIND_F = 0;
const KIND_B = 1;
const KIND_W = 2;
const OP_KINDS = ['F', 'B', 'W'] as const;

/** Relative slack when comparing memory against the limit (the same as checkMemoryLimit). */
const MEM_EPS = 1e-9;

/**
 * Per-stage orders as words over the kinds (F 0, B 1, W 2). Each kind runs its micro-batches in ascending order,
 * so the k-th F of a stage is micro-batch k (likewise B and W), and moving letters never breaks that.
 */
type Orders = Uint8Array[];

function costOf(problem: Problem, s: number, kind: number): number {
  return kind === KIND_F ? problem.costF[s]! : kind === KIND_B ? problem.costB[s]! : problem.costW[s]!;
}

function memOf(problem: Problem, s: number, kind: number): number {
  return kind === KIND_F ? problem.memF[s]! : kind === KIND_B ? problem.memB[s]! : problem.memW[s]!;
}

/** A greedy variant found no W left to free memory for an op; the variant is dropped. */
class OutOfMemory extends Error {}

/**
 * The reference's greedy construction. Ops are appended per stage and timed on the spot as the simulator would
 * run them (start = max(stage free, dependency end + comm)); micro-batch by micro-batch, F's go down the pipeline
 * and B's come back up it, with W's put where memory needs them or where they fill a wait.
 */
class GreedyBuild {
  private readonly P: number;
  private readonly M: number;
  private readonly nF: Int32Array;
  private readonly nB: Int32Array;
  private readonly nW: Int32Array;
  /** End of each stage's last op. */
  private readonly free: Float64Array;
  private readonly mem: Float64Array;
  /** Idle time of each stage since its first op. */
  private readonly bubble: Float64Array;
  /** End times, at stage * M + mb. */
  private readonly endF: Float64Array;
  private readonly endB: Float64Array;
  private readonly words: number[][];
  private readonly cap: number;

  constructor(
    private readonly problem: Problem,
    private readonly variant: ZbAutoVariant,
  ) {
    const P = problem.stages;
    const M = problem.microBatches;
    this.P = P;
    this.M = M;
    this.nF = new Int32Array(P);
    this.nB = new Int32Array(P);
    this.nW = new Int32Array(P);
    this.free = new Float64Array(P);
    this.mem = new Float64Array(P);
    this.bubble = new Float64Array(P);
    this.endF = new Float64Array(P * M);
    this.endB = new Float64Array(P * M);
    this.words = Array.from({ length: P }, () => []);
    this.cap = problem.memLimit * (1 + MEM_EPS);
  }

  /** When the input of stage s's next F arrives (the previous stage has put it already). */
  private readyF(s: number): number {
    return s === 0 ? 0 : this.endF[(s - 1) * this.M + this.nF[s]!]! + this.problem.comm[s - 1]!;
  }

  /** When the gradient of stage s's next B arrives (its own F ran earlier on the stage). */
  private readyB(s: number): number {
    const mb = this.nB[s]!;
    return s === this.P - 1 ? this.endF[s * this.M + mb]! : this.endB[(s + 1) * this.M + mb]! + this.problem.comm[s]!;
  }

  private fits(s: number, kind: number): boolean {
    return this.mem[s]! + memOf(this.problem, s, kind) <= this.cap;
  }

  private hasW(s: number): boolean {
    return this.nW[s]! < this.nB[s]!;
  }

  private put(s: number, kind: number): void {
    if (!this.fits(s, kind)) throw new OutOfMemory();
    const ready = kind === KIND_F ? this.readyF(s) : kind === KIND_B ? this.readyB(s) : 0;
    const start = Math.max(this.free[s]!, ready);
    if (this.nF[s]! > 0) this.bubble[s] = this.bubble[s]! + (start - this.free[s]!);
    const end = start + costOf(this.problem, s, kind);
    this.free[s] = end;
    this.mem[s] = this.mem[s]! + memOf(this.problem, s, kind);
    if (kind === KIND_F) this.endF[s * this.M + this.nF[s]!++] = end;
    else if (kind === KIND_B) this.endB[s * this.M + this.nB[s]!++] = end;
    else this.nW[s]!++;
    this.words[s]!.push(kind);
  }

  private maxBubble(): number {
    let max = 0;
    for (const b of this.bubble) if (b > max) max = b;
    return max;
  }

  /** Puts W's until an op of this kind fits in memory. */
  private makeRoom(s: number, kind: number): void {
    while (!this.fits(s, kind)) {
      if (!this.hasW(s)) throw new OutOfMemory();
      this.put(s, KIND_W);
    }
  }

  /** Puts W's into the wait for an input arriving at `ready`: those that fit, then maybe one that overruns. */
  private fillWait(s: number, ready: number): void {
    const costW = this.problem.costW[s]!;
    while (this.hasW(s) && this.free[s]! + costW <= ready && this.fits(s, KIND_W)) this.put(s, KIND_W);
    if (this.hasW(s) && this.free[s]! < ready && this.fits(s, KIND_W)) {
      // idling is acceptable while this stage stays within the worst stage's bubble
      const affordable = ready - this.free[s]! <= this.maxBubble() - this.bubble[s]!;
      if (!affordable || this.variant.greedyWFill) this.put(s, KIND_W);
    }
  }

  /** Micro-batch 0's F everywhere, extra F's that fit (in memory and in time) before its gradient is back, then B0. */
  private warmUp(): void {
    const { P, M, problem: p } = this;
    for (let s = 0; s < P; s++) this.put(s, KIND_F);
    const extra = new Int32Array(P);
    let gradientEnd = this.endF[(P - 1) * M]! + p.costB[P - 1]!;
    for (let s = P - 2; s >= 0; s--) {
      const arrival = gradientEnd + p.comm[s]!;
      let mem = this.mem[s]!;
      let t = this.free[s]!;
      let k = 0;
      while (this.nF[s]! + k < M && mem + p.memF[s]! <= this.cap) {
        if (this.variant.allowBubbleBeforeFirstB ? t + p.costF[s]! > arrival : t >= arrival) break;
        mem += p.memF[s]!;
        t += p.costF[s]!;
        k++;
      }
      extra[s] = k;
      gradientEnd = Math.max(t, arrival) + p.costB[s]!;
    }
    // fewer extra F's further down the pipeline, as in 1F1B; never more than the previous stage (their inputs)
    for (let s = 1; s < P; s++) {
      const prev = extra[s - 1]!;
      if (extra[s]! > 0 && extra[s]! >= prev && this.nF[s]! + extra[s]! < M) extra[s] = Math.max(0, prev - 1);
      extra[s] = Math.min(extra[s]!, prev);
    }
    for (let s = 0; s < P; s++) for (let k = 0; k < extra[s]!; k++) this.put(s, KIND_F);
    for (let s = P - 1; s >= 0; s--) {
      this.makeRoom(s, KIND_B);
      this.put(s, KIND_B);
    }
  }

  /** Whether stage s issues its next F in this round (before making the choices monotone along the pipeline). */
  private wantsF(s: number): boolean {
    const { P, M, problem: p } = this;
    if (this.nF[s]! >= M) return false;
    if (!this.variant.prioritizeB || s + 1 >= P || this.nF[s]! < this.nF[s + 1]! + 2) return true;
    // the next stage sends our next gradient after at least an F and a B of its own: skip the F if it would delay it
    const gradientReady = this.free[s + 1]! + p.costF[s + 1]! + p.costB[s + 1]! + p.comm[s]!;
    if (this.free[s]! >= gradientReady) return false;
    let wCost = 0;
    let mem = this.mem[s]! + p.memF[s]!;
    for (let w = this.nW[s]!; mem > this.cap && w < this.nB[s]!; w++) {
      wCost += p.costW[s]!;
      mem += p.memW[s]!;
    }
    if (this.free[s]! + p.costF[s]! + wCost <= gradientReady) return true;
    return gradientReady - this.free[s]! > this.maxBubble() - this.bubble[s]!;
  }

  /** Round i >= 1: F's down the pipeline where wanted, then B_i back up it. */
  private round(i: number): void {
    const { P, M } = this;
    const want = new Uint8Array(P);
    for (let s = 0; s < P; s++) want[s] = this.wantsF(s) ? 1 : 0;
    // a stage issues an F only if every later stage does too, so F counts stay non-increasing along the pipeline
    for (let s = P - 2; s >= 0; s--) want[s] = Math.min(want[s]!, want[s + 1]!);
    for (let s = 0; s < P; s++) {
      if (!want[s]) continue;
      this.makeRoom(s, KIND_F);
      if (s > 0) this.fillWait(s, this.readyF(s));
      this.put(s, KIND_F);
    }
    for (let s = P - 1; s >= 0; s--) {
      if (this.nB[s] !== i) throw new Error(`zb-auto: internal error, stage ${s} has run ${this.nB[s]} B's in round ${i}`);
      this.makeRoom(s, KIND_B);
      if (s < P - 1) this.fillWait(s, this.readyB(s));
      // the first stage's B's feed nobody: once its F's are done, its W's may as well go first
      if (s === 0 && this.nF[0] === M) while (this.hasW(0) && this.fits(0, KIND_W)) this.put(0, KIND_W);
      this.put(s, KIND_B);
    }
  }

  run(): Orders {
    this.warmUp();
    for (let i = 1; i < this.M; i++) this.round(i);
    for (let s = 0; s < this.P; s++) while (this.nW[s]! < this.M) this.put(s, KIND_W);
    return this.words.map((w) => Uint8Array.from(w));
  }
}

/**
 * Event-driven list scheduling: the device that becomes free first decides. It runs a ready F or B (by the
 * policy; a W first when memory needs one), else a pending W while it waits, else idles until the next known
 * arrival or a neighbour's next decision. Returns null if the policy blocks (it should not).
 */
class ListBuild {
  private readonly P: number;
  private readonly M: number;
  private readonly nF: Int32Array;
  private readonly nB: Int32Array;
  private readonly nW: Int32Array;
  /** The time each device next decides at. */
  private readonly free: Float64Array;
  private readonly mem: Float64Array;
  /** Devices waiting for a neighbour's op with no known arrival; a neighbour's F or B wakes them. */
  private readonly blocked: Uint8Array;
  private readonly lastKind: Int8Array;
  private readonly maxInflight: Int32Array;
  private readonly endF: Float64Array;
  private readonly endB: Float64Array;
  private readonly words: number[][];
  private readonly cap: number;

  constructor(
    private readonly problem: Problem,
    private readonly policy: ListPolicy,
  ) {
    const P = problem.stages;
    const M = problem.microBatches;
    this.P = P;
    this.M = M;
    this.nF = new Int32Array(P);
    this.nB = new Int32Array(P);
    this.nW = new Int32Array(P);
    this.free = new Float64Array(P);
    this.mem = new Float64Array(P);
    this.blocked = new Uint8Array(P);
    this.lastKind = new Int8Array(P).fill(KIND_B);
    const perStage = policy.inflightPerStage;
    this.maxInflight = Int32Array.from({ length: P }, (_, s) =>
      perStage === undefined ? M : Math.max(1, Math.round(perStage * (P - s))),
    );
    this.endF = new Float64Array(P * M).fill(-1);
    this.endB = new Float64Array(P * M).fill(-1);
    this.words = Array.from({ length: P }, () => []);
    this.cap = problem.memLimit * (1 + MEM_EPS);
  }

  /** Arrival of stage s's next F input; Infinity if none is allowed or its producer has not started it. */
  private arrivalF(s: number): number {
    const mb = this.nF[s]!;
    if (mb >= this.M || mb - this.nB[s]! >= this.maxInflight[s]!) return Infinity;
    if (s === 0) return 0;
    const end = this.endF[(s - 1) * this.M + mb]!;
    return end < 0 ? Infinity : end + this.problem.comm[s - 1]!;
  }

  private arrivalB(s: number): number {
    const mb = this.nB[s]!;
    if (mb >= this.nF[s]!) return Infinity;
    if (s === this.P - 1) return this.endF[s * this.M + mb]!;
    const end = this.endB[(s + 1) * this.M + mb]!;
    return end < 0 ? Infinity : end + this.problem.comm[s]!;
  }

  private fits(s: number, kind: number): boolean {
    return this.mem[s]! + memOf(this.problem, s, kind) <= this.cap;
  }

  private start(s: number, kind: number): void {
    const end = this.free[s]! + costOf(this.problem, s, kind);
    this.free[s] = end;
    this.mem[s] = this.mem[s]! + memOf(this.problem, s, kind);
    this.words[s]!.push(kind);
    if (kind === KIND_F) {
      this.endF[s * this.M + this.nF[s]!++] = end;
      if (s + 1 < this.P) this.blocked[s + 1] = 0;
    } else if (kind === KIND_B) {
      this.endB[s * this.M + this.nB[s]!++] = end;
      if (s > 0) this.blocked[s - 1] = 0;
    } else this.nW[s]!++;
    if (kind !== KIND_W) this.lastKind[s] = kind;
  }

  private decide(s: number): void {
    const t = this.free[s]!;
    const arrivalF = this.arrivalF(s);
    const arrivalB = this.arrivalB(s);
    const wOk = this.nW[s]! < this.nB[s]! && this.fits(s, KIND_W);
    const prefer = s === 0 && this.policy.preferFirst ? this.policy.preferFirst : this.policy.prefer;
    const bFirst = prefer === 'B' || (prefer === 'alternate' && this.lastKind[s] === KIND_F);
    for (const kind of bFirst ? [KIND_B, KIND_F] : [KIND_F, KIND_B]) {
      if ((kind === KIND_F ? arrivalF : arrivalB) > t) continue;
      if (this.fits(s, kind)) return this.start(s, kind);
      if (wOk) return this.start(s, KIND_W);
    }
    // ready ops that did not fit wait for a B to free memory: only later arrivals are worth waking for
    const next = Math.min(arrivalF > t ? arrivalF : Infinity, arrivalB > t ? arrivalB : Infinity);
    if (wOk && (this.policy.fill === 'eager' || t + this.problem.costW[s]! <= next)) return this.start(s, KIND_W);
    let wake = next;
    for (const n of [s - 1, s + 1])
      if (n >= 0 && n < this.P && !this.blocked[n] && this.free[n]! > t) wake = Math.min(wake, this.free[n]!);
    if (wake === Infinity) this.blocked[s] = 1;
    else this.free[s] = wake;
  }

  run(): Orders | null {
    const { P, M, blocked, words } = this;
    const total = 3 * M;
    // The next device to decide: the smallest `free` among those neither blocked nor finished, the lowest index on
    // ties. The heap holds exactly those devices; a device's key changes only while it decides, when it is out of
    // the heap, and it returns unless it blocked or finished. A device that a neighbour's op unblocks re-enters.
    // (The linear scan this replaces took 40 s at P = 1024: the steps grow as P^2 M.)
    const heap = new DeviceHeap(this.free);
    for (let s = 0; s < P; s++) heap.push(s);
    const wakes = (n: number, wasBlocked: number) => n >= 0 && n < P && wasBlocked === 1 && blocked[n] === 0 && words[n]!.length < total;
    // each step starts an op or moves a device to a later event; the bound only guards against a policy bug
    for (let steps = 0; steps < 64 * P * total && heap.size > 0; steps++) {
      const s = heap.pop();
      const below = s > 0 ? blocked[s - 1]! : 0;
      const above = s + 1 < P ? blocked[s + 1]! : 0;
      this.decide(s);
      if (blocked[s] === 0 && words[s]!.length < total) heap.push(s);
      if (wakes(s - 1, below)) heap.push(s - 1);
      if (wakes(s + 1, above)) heap.push(s + 1);
    }
    if (words.some((w) => w.length < total)) return null;
    return this.words.map((w) => Uint8Array.from(w));
  }
}

/** A binary min-heap of device indices ordered by (key[device], device); keys must not change while inside. */
class DeviceHeap {
  private readonly items: Int32Array;
  size = 0;

  constructor(private readonly key: Float64Array) {
    this.items = new Int32Array(key.length);
  }

  private less(a: number, b: number): boolean {
    const ka = this.key[a]!;
    const kb = this.key[b]!;
    return ka < kb || (ka === kb && a < b);
  }

  push(device: number): void {
    const items = this.items;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(device, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = device;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items[--this.size]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && this.less(items[child + 1]!, items[child]!)) child++;
      if (!this.less(items[child]!, last)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

/**
 * Times orders ASAP with the simulator's semantics (no noise, V = 1). Scratch arrays are reused; after a complete
 * evaluation `start` holds each op's start (stage s, position j at s * 3M + j) and `sum` the sum of stage spans.
 */
class Timing {
  readonly start: Float64Array;
  sum = 0;
  private readonly endF: Float64Array;
  private readonly endB: Float64Array;
  private readonly head: Int32Array;
  private readonly count: Int32Array;
  private readonly free: Float64Array;
  private readonly first: Float64Array;

  constructor(private readonly problem: Problem) {
    const { stages: P, microBatches: M } = problem;
    this.start = new Float64Array(P * 3 * M);
    this.endF = new Float64Array(P * M);
    this.endB = new Float64Array(P * M);
    this.head = new Int32Array(P);
    this.count = new Int32Array(3 * P);
    this.free = new Float64Array(P);
    this.first = new Float64Array(P);
  }

  /** The span; Infinity if the orders deadlock or (stopping early) some stage's span exceeds `bound`. */
  span(orders: Orders, bound = Infinity): number {
    const { stages: P, microBatches: M, comm, costF, costB, costW } = this.problem;
    const { endF, endB, head, count, free, first, start } = this;
    const L = 3 * M;
    endF.fill(-1);
    endB.fill(-1);
    head.fill(0);
    count.fill(0);
    free.fill(0);
    first.fill(-1);
    let remaining = P * L;
    let progress = true;
    while (progress) {
      progress = false;
      for (let s = 0; s < P; s++) {
        const word = orders[s]!;
        let h = head[s]!;
        let t = free[s]!;
        for (; h < L; h++) {
          const kind = word[h]!;
          const idx = s * M + count[kind * P + s]!;
          let ready = t;
          let dur: number;
          if (kind === KIND_F) {
            if (s > 0) {
              const e = endF[idx - M]!;
              if (e < 0) break;
              ready = Math.max(ready, e + comm[s - 1]!);
            }
            dur = costF[s]!;
          } else if (kind === KIND_B) {
            // B's never outnumber F's in a word, so this micro-batch's F ran earlier on the stage
            if (s < P - 1) {
              const e = endB[idx + M]!;
              if (e < 0) break;
              ready = Math.max(ready, e + comm[s]!);
            }
            dur = costB[s]!;
          } else dur = costW[s]!;
          if (first[s]! < 0) first[s] = ready;
          start[s * L + h] = ready;
          t = ready + dur;
          if (t - first[s]! > bound) return Infinity;
          if (kind === KIND_F) endF[idx] = t;
          else if (kind === KIND_B) endB[idx] = t;
          count[kind * P + s]!++;
          remaining--;
          progress = true;
        }
        head[s] = h;
        free[s] = t;
      }
    }
    if (remaining > 0) return Infinity;
    let span = 0;
    let sum = 0;
    for (let s = 0; s < P; s++) {
      span = Math.max(span, free[s]! - first[s]!);
      sum += free[s]! - first[s]!;
    }
    this.sum = sum;
    return span;
  }
}

/** Whether a stage's word keeps every B behind its F, every W behind its B, and memory within `cap` throughout. */
function wordFits(problem: Problem, s: number, word: Uint8Array, cap: number): boolean {
  const seen = [0, 0, 0];
  let mem = 0;
  for (const kind of word) {
    seen[kind]!++;
    if (kind !== KIND_F && seen[kind]! > seen[kind - 1]!) return false;
    mem += memOf(problem, s, kind);
    if (mem > cap) return false;
  }
  return true;
}

/** Moves the letter at `from` so that it lands at index `to`. */
function moveLetter(word: Uint8Array, from: number, to: number): void {
  const letter = word[from]!;
  if (from < to) word.copyWithin(from, from + 1, to + 1);
  else word.copyWithin(to + 1, to, from);
  word[to] = letter;
}

/** How many W's on each side of an idle gap are tried in it. */
const GAP_W_CANDIDATES = 3;
/** Op timings the local pass may spend, in units of one op (so larger problems get fewer evaluations). */
const REFINE_OP_BUDGET = 1e7;

/**
 * Local improvement around idle gaps. Where a stage waits before an op, try pulling one of the nearest W's
 * (before or after) into the gap, or swapping the waiting op with a neighbour. A move is kept when the word stays
 * valid and within memory, nothing deadlocks, and (span, sum of stage spans) drops. Deterministic.
 */
function refine(problem: Problem, initial: Orders, timing: Timing): Orders {
  const { stages: P, microBatches: M } = problem;
  const L = 3 * M;
  const cap = problem.memLimit * (1 + MEM_EPS);
  const maxEvals = Math.max(100, Math.floor(REFINE_OP_BUDGET / (P * L)));
  const orders = initial.map((w) => w.slice());
  let best = timing.span(orders);
  let bestSum = timing.sum;
  const tol = 1e-9 * best;
  const starts = timing.start.slice();
  let evals = 0;

  const attempt = (s: number, from: number, to: number): boolean => {
    const word = orders[s]!;
    const saved = word.slice();
    moveLetter(word, from, to);
    if (wordFits(problem, s, word, cap)) {
      evals++;
      const span = timing.span(orders, best + tol);
      if (span < best - tol || (span <= best + tol && timing.sum < bestSum - tol)) {
        best = Math.min(best, span);
        bestSum = timing.sum;
        starts.set(timing.start);
        return true;
      }
    }
    word.set(saved);
    return false;
  };

  // sweep every gap of every stage; repeat while a sweep improves something
  let improved = true;
  while (improved && evals < maxEvals) {
    improved = false;
    for (let s = 0; s < P; s++) {
      const word = orders[s]!;
      for (let g = 1; g < L && evals < maxEvals; g++) {
        const prevEnd = starts[s * L + g - 1]! + costOf(problem, s, word[g - 1]!);
        if (starts[s * L + g]! <= prevEnd + tol) continue;
        // (from, to) letter moves into the gap before position g
        const moves: [number, number][] = [];
        for (let q = g - 1, n = 0; q >= 0 && n < GAP_W_CANDIDATES; q--) {
          if (word[q] !== KIND_W) continue;
          moves.push([q, g - 1]);
          n++;
        }
        for (let q = g + 1, n = 0; q < L && n < GAP_W_CANDIDATES; q++) {
          if (word[q] !== KIND_W) continue;
          moves.push([q, g]);
          n++;
        }
        if (word[g] !== word[g - 1]) moves.push([g, g - 1]);
        if (g + 1 < L && word[g] !== word[g + 1]) moves.push([g, g + 1]);
        for (const [from, to] of moves) {
          if (evals >= maxEvals) break;
          if (attempt(s, from, to)) {
            improved = true;
            break;
          }
        }
      }
    }
  }
  return orders;
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
        `zb-auto: device ${s} needs at least ${need} memory for ${what} but the limit is ${limit} (over by ${need - limit}); raise the limit`,
      );
    }
  }
}

/** One micro-batch at a time on every stage: F, B, W. Slow, but within any limit checkLimitMeetable accepts. */
function sequentialOrders(problem: Problem): Orders {
  return Array.from({ length: problem.stages }, () => Uint8Array.from({ length: 3 * problem.microBatches }, (_, i) => i % 3));
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
