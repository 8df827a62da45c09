// zb-auto's local pass: moves letters of the best candidate's orders around idle gaps while that shortens the span
// (or, at equal span, the sum of stage spans), timing each move with Timing.
import type { Problem } from '@pprl/core-wasm';
import { KIND_F, KIND_W, MEM_EPS, costOf, memOf, type Orders } from './orders.js';
import type { Timing } from './timing.js';

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
export function refine(problem: Problem, initial: Orders, timing: Timing): Orders {
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
