// zb-auto's first candidate family: the zero-bubble reference's greedy construction (ZB-1p / ZB-2p,
// arXiv 2401.10241) in its eight variants. Ops are appended per stage and timed on the spot.
import { KIND_B, KIND_F, KIND_W, OrderBuild, costOf, type Orders } from './orders.js';
import type { Problem } from '@pprl/core-wasm';

/** The three switches of the reference's greedy construction. */
export interface ZbAutoVariant {
  /** Warm-up F's may overrun the arrival of micro-batch 0's gradient (a bubble before the first B). */
  allowBubbleBeforeFirstB: boolean;
  /** A stage well ahead of the next one skips its F when that F would delay the B the next stage waits on. */
  prioritizeB: boolean;
  /** Fill a dependency wait with a W even when it overruns, while the stage's bubble stays within the worst one's. */
  greedyWFill: boolean;
}

const SWITCHES = [true, false] as const;

/** The eight variants of the reference implementation. */
export const UPSTREAM_VARIANTS: readonly ZbAutoVariant[] = SWITCHES.flatMap((allowBubbleBeforeFirstB) =>
  SWITCHES.flatMap((prioritizeB) =>
    SWITCHES.map((greedyWFill) => ({ allowBubbleBeforeFirstB, prioritizeB, greedyWFill })),
  ),
);

/** A greedy variant found no W left to free memory for an op; the variant is dropped. */
export class OutOfMemory extends Error {}

/**
 * The reference's greedy construction. Ops are appended per stage and timed on the spot as the simulator would
 * run them (start = max(stage free, dependency end + comm)); micro-batch by micro-batch, F's go down the pipeline
 * and B's come back up it, with W's put where memory needs them or where they fill a wait.
 */
export class GreedyBuild extends OrderBuild {
  /** Idle time of each stage since its first op. */
  private readonly bubble: Float64Array;

  constructor(
    problem: Problem,
    private readonly variant: ZbAutoVariant,
  ) {
    super(problem);
    this.bubble = new Float64Array(this.P);
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

  private put(s: number, kind: number): void {
    if (!this.fits(s, kind)) throw new OutOfMemory();
    const ready = kind === KIND_F ? this.readyF(s) : kind === KIND_B ? this.readyB(s) : 0;
    const start = Math.max(this.free[s]!, ready);
    if (this.nF[s]! > 0) this.bubble[s] = this.bubble[s]! + (start - this.free[s]!);
    this.append(s, kind, start + costOf(this.problem, s, kind));
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
      if (this.nB[s] !== i)
        throw new Error(`zb-auto: internal error, stage ${s} has run ${this.nB[s]} B's in round ${i}`);
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
    return this.orders();
  }
}
