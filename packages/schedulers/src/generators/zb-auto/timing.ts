// zb-auto's timing of candidate orders. It writes the static replay's rule again, for V = 1 and without noise:
// docs/SEMANTICS.md section 1 (F(m,s) after F(m,s-1) has ended and its activation has crossed comm[s-1]; B(m,s)
// after F(m,s) and after B(m,s+1) plus comm[s]; W after its B; one op at a time per device, no preemption),
// section 4 ("static replay starts each op at max(device free, dependencies done and delivered)") and section 3's
// span (the largest over devices of end of last op - start of first op).
//
// Why it is not @pprl/core-wasm's referenceReplay (whose numbers it matches exactly: test/zb-auto-timing.test.ts):
// refine() times one candidate per moved letter, up to max(100, 1e7 / (3 P M)) of them, and needs more than a span.
// This model reads the letter words in place and reuses its scratch arrays (the replay wants an Op list built and
// compiled per candidate, and allocates per call), stops as soon as one stage's span passes the best so far, returns
// Infinity on a deadlock instead of throwing, and leaves each position's start and the sum of stage spans, which
// the local pass steers by (the replay gives neither without building its full timeline of objects). Measured on
// zb-auto orders at P = 8, M = 32 and P = 16, M = 64: about 7 and 30 us per timing here, against 150 and 500 us for
// building, compiling and replaying with a timeline, so the local pass would take some 15 to 20 times as long.
import type { Problem } from '@pprl/core-wasm';
import { KIND_B, KIND_F, type Orders } from './orders.js';

/**
 * Times orders ASAP with the simulator's semantics (no noise, V = 1). Scratch arrays are reused; after a complete
 * evaluation `start` holds each op's start (stage s, position j at s * 3M + j) and `sum` the sum of stage spans.
 */
export class Timing {
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
