// zb-auto's second candidate family: an event-driven list scheduler under a few policies (which of a ready F and
// a ready B goes first, an in-flight cap, how eagerly W's fill waits).
import type { Problem } from '@pprl/core-wasm';
import { DeviceHeap } from './device-heap.js';
import { KIND_B, KIND_F, KIND_W, OrderBuild, costOf, type Orders } from './orders.js';

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

/**
 * Each F/B preference (with the first stage F-first or not), in-flight caps none / ZB-1.5p-like / ZB-2p-like,
 * both fills.
 */
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

/**
 * Event-driven list scheduling: the device that becomes free first decides. It runs a ready F or B (by the
 * policy; a W first when memory needs one), else a pending W while it waits, else idles until the next known
 * arrival or a neighbour's next decision. `free` is the time each device next decides at. Returns null if the
 * policy blocks (it should not).
 */
export class ListBuild extends OrderBuild {
  /** Devices waiting for a neighbour's op with no known arrival; a neighbour's F or B wakes them. */
  private readonly blocked: Uint8Array;
  private readonly lastKind: Int8Array;
  private readonly maxInflight: Int32Array;

  constructor(
    problem: Problem,
    private readonly policy: ListPolicy,
  ) {
    super(problem);
    const { P, M } = this;
    this.blocked = new Uint8Array(P);
    this.lastKind = new Int8Array(P).fill(KIND_B);
    const perStage = policy.inflightPerStage;
    this.maxInflight = Int32Array.from({ length: P }, (_, s) =>
      perStage === undefined ? M : Math.max(1, Math.round(perStage * (P - s))),
    );
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

  private start(s: number, kind: number): void {
    this.append(s, kind, this.free[s]! + costOf(this.problem, s, kind));
    if (kind === KIND_F && s + 1 < this.P) this.blocked[s + 1] = 0;
    else if (kind === KIND_B && s > 0) this.blocked[s - 1] = 0;
    if (kind !== KIND_W) this.lastKind[s] = kind;
  }

  private decide(s: number): void {
    const t = this.free[s]!;
    const arrivalF = this.arrivalF(s);
    const arrivalB = this.arrivalB(s);
    const wOk = this.hasW(s) && this.fits(s, KIND_W);
    const prefer = s === 0 && this.policy.preferFirst ? this.policy.preferFirst : this.policy.prefer;
    const bFirst = prefer === 'B' || (prefer === 'alternate' && this.lastKind[s] === KIND_F);
    for (const kind of bFirst ? [KIND_B, KIND_F] : [KIND_F, KIND_B]) {
      if ((kind === KIND_F ? arrivalF : arrivalB) > t) continue;
      // a ready op that does not fit in memory lets a W run first, which frees some
      const fits = this.fits(s, kind);
      if (fits || wOk) {
        this.start(s, fits ? kind : KIND_W);
        return;
      }
    }
    // ready ops that did not fit wait for a B to free memory: only later arrivals are worth waking for
    const next = Math.min(arrivalF > t ? arrivalF : Infinity, arrivalB > t ? arrivalB : Infinity);
    if (wOk && (this.policy.fill === 'eager' || t + this.problem.costW[s]! <= next)) {
      this.start(s, KIND_W);
      return;
    }
    let wake = next;
    for (const n of [s - 1, s + 1])
      if (n >= 0 && n < this.P && !this.blocked[n] && this.free[n]! > t) wake = Math.min(wake, this.free[n]!);
    if (wake === Infinity) this.blocked[s] = 1;
    else this.free[s] = wake;
  }

  run(): Orders | null {
    const { P, M, blocked } = this;
    const total = 3 * M;
    const unfinished = (n: number) => this.length(n) < total;
    // The next device to decide: the smallest `free` among those neither blocked nor finished, the lowest index on
    // ties. The heap holds exactly those devices; a device's key changes only while it decides, when it is out of
    // the heap, and it returns unless it blocked or finished. A device that a neighbour's op unblocks re-enters.
    // (The linear scan this replaces took 40 s at P = 1024: the steps grow as P^2 M.)
    const heap = new DeviceHeap(this.free);
    for (let s = 0; s < P; s++) heap.push(s);
    const wakes = (n: number, wasBlocked: number) =>
      n >= 0 && n < P && wasBlocked === 1 && blocked[n] === 0 && unfinished(n);
    // each step starts an op or moves a device to a later event; the bound only guards against a policy bug
    for (let steps = 0; steps < 64 * P * total && heap.size > 0; steps++) {
      const s = heap.pop();
      const below = s > 0 ? blocked[s - 1]! : 0;
      const above = s + 1 < P ? blocked[s + 1]! : 0;
      this.decide(s);
      if (blocked[s] === 0 && unfinished(s)) heap.push(s);
      if (wakes(s - 1, below)) heap.push(s - 1);
      if (wakes(s + 1, above)) heap.push(s + 1);
    }
    for (let s = 0; s < P; s++) if (unfinished(s)) return null;
    return this.orders();
  }
}
