// What zb-auto's candidate builders, its timing and its local pass share: per-stage orders as words over the
// op kinds, each kind's cost and memory on a stage, and the state both constructions keep while appending ops.
import type { Problem } from '@pprl/core-wasm';

export const KIND_F = 0;
export const KIND_B = 1;
export const KIND_W = 2;
export const OP_KINDS = ['F', 'B', 'W'] as const;

/** Relative slack when comparing memory against the limit (the same as checkMemoryLimit). */
export const MEM_EPS = 1e-9;

/**
 * Per-stage orders as words over the kinds (F 0, B 1, W 2). Each kind runs its micro-batches in ascending order,
 * so the k-th F of a stage is micro-batch k (likewise B and W), and moving letters never breaks that.
 */
export type Orders = Uint8Array[];

export function costOf(problem: Problem, s: number, kind: number): number {
  return kind === KIND_F ? problem.costF[s]! : kind === KIND_B ? problem.costB[s]! : problem.costW[s]!;
}

export function memOf(problem: Problem, s: number, kind: number): number {
  return kind === KIND_F ? problem.memF[s]! : kind === KIND_B ? problem.memB[s]! : problem.memW[s]!;
}

/**
 * Orders under construction, appended op by op per stage: how many ops of each kind each stage has, when its last
 * op ends, its memory level, and the end of every F and B so far. The greedy and the list scheduler differ only in
 * which op they append when; they time it the same way (its end is known when it is appended).
 */
export abstract class OrderBuild {
  protected readonly P: number;
  protected readonly M: number;
  protected readonly nF: Int32Array;
  protected readonly nB: Int32Array;
  protected readonly nW: Int32Array;
  /** End of each stage's last op (the list scheduler also moves it forward while a stage idles). */
  protected readonly free: Float64Array;
  protected readonly mem: Float64Array;
  /** End times at stage * M + mb; -1 while the op has not been appended. */
  protected readonly endF: Float64Array;
  protected readonly endB: Float64Array;
  private readonly words: number[][];
  protected readonly cap: number;

  constructor(protected readonly problem: Problem) {
    const P = problem.stages;
    const M = problem.microBatches;
    this.P = P;
    this.M = M;
    this.nF = new Int32Array(P);
    this.nB = new Int32Array(P);
    this.nW = new Int32Array(P);
    this.free = new Float64Array(P);
    this.mem = new Float64Array(P);
    this.endF = new Float64Array(P * M).fill(-1);
    this.endB = new Float64Array(P * M).fill(-1);
    this.words = Array.from({ length: P }, () => []);
    this.cap = problem.memLimit * (1 + MEM_EPS);
  }

  protected fits(s: number, kind: number): boolean {
    return this.mem[s]! + memOf(this.problem, s, kind) <= this.cap;
  }

  /** Whether stage s has a B whose W has not been appended yet. */
  protected hasW(s: number): boolean {
    return this.nW[s]! < this.nB[s]!;
  }

  /** Appends the next op of `kind` to stage s, ending at `end`. */
  protected append(s: number, kind: number, end: number): void {
    this.free[s] = end;
    this.mem[s] = this.mem[s]! + memOf(this.problem, s, kind);
    if (kind === KIND_F) this.endF[s * this.M + this.nF[s]!++] = end;
    else if (kind === KIND_B) this.endB[s * this.M + this.nB[s]!++] = end;
    else this.nW[s]!++;
    this.words[s]!.push(kind);
  }

  /** How many ops stage s has so far. */
  protected length(s: number): number {
    return this.words[s]!.length;
  }

  protected orders(): Orders {
    return this.words.map((w) => Uint8Array.from(w));
  }
}
