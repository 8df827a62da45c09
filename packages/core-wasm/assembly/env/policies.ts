// The built-in policies (docs/SEMANTICS.md section 4): the heuristics of packages/schedulers/src/heuristics.ts
// (greedy-zb, greedy-ffirst, greedy-cp, same ties) and the teacher, the loaded schedule's next op per device. They
// read a decision's eligible classes as bits (e.bits), never an observation, so rollouts under them stay cheap.
import { i32At, ptr32, setI32, f64At } from '../memory';
import { KIND_F, KIND_B, KIND_W, POLICY_ZB, POLICY_FFIRST, POLICY_TEACHER } from '../contract';
import { Ctx, Prob, Env } from './layout';

// bits of every chunk's class of one kind: kind F at bits 0, 3, 6, ... (MAX_CHUNKS = 16 chunks)
const KIND_BITS: u64 = 0x249249249249;

// The class that byKindOrder picks from eligible bits b < 8 of one chunk, two bits per b: B, F, W order (greedy-zb:
// b = 1 -> 0, 2 -> 1, 3 -> 1, 4 -> 2, 5 -> 0, 6 -> 1, 7 -> 1) and F, B, W order (greedy-ffirst).
const ZB_PICK: u32 = (0 << 2) | (1 << 4) | (1 << 6) | (2 << 8) | (0 << 10) | (1 << 12) | (1 << 14);
const FFIRST_PICK: u32 = (0 << 2) | (1 << 4) | (0 << 6) | (2 << 8) | (0 << 10) | (1 << 12) | (0 << 14);

/**
 * The eligible class of the first kind in (k0, k1, k2) that has one; within a kind the lowest next micro-batch, then
 * the lower chunk.
 */
function byKindOrder(e: Env, p: Prob, k0: i32, k1: i32, k2: i32): i32 {
  const bits = e.bits;
  if (p.V == 1) return <i32>(((k0 == KIND_B ? ZB_PICK : FFIRST_PICK) >> (<u32>bits << 1)) & 3);
  for (let j = 0; j < 3; j++) {
    const kind = j == 0 ? k0 : j == 1 ? k1 : k2;
    let sel = bits & (KIND_BITS << <u64>kind);
    if (sel == 0) continue;
    let best = <i32>ctz(sel);
    sel &= sel - 1;
    if (sel == 0) return best;
    // several chunks: the lowest next micro-batch, ties to the lower chunk
    const S = p.S;
    const row = ptr32(p.devStages, e.cursor * p.V);
    const nextMb = ptr32(e.nextMb, kind * S);
    let bestMb = i32At(nextMb, i32At(row, best / 3));
    while (sel != 0) {
      const k = <i32>ctz(sel);
      sel &= sel - 1;
      const m = i32At(nextMb, i32At(row, k / 3));
      if (m < bestMb) {
        best = k;
        bestMb = m;
      }
    }
    return best;
  }
  return -1;
}

/** greedy-cp's tie order of kinds: B, then F, then W. */
// @ts-ignore: decorator
@inline function cpRank(kind: i32): i32 { return kind == KIND_B ? 2 : kind == KIND_F ? 1 : 0; }

/** greedy-cp: the longest remaining path; ties B > F > W, then the lowest micro-batch, then the lowest chunk. */
function criticalPath(e: Env, p: Prob): i32 {
  const V = p.V;
  const S = p.S;
  const d = e.cursor;
  let best = -1;
  let bestLen: f64 = -Infinity;
  let bestKind = 0;
  let bestMb = 0;
  let sel = e.bits;
  while (sel != 0) {
    const k = <i32>ctz(sel);
    sel &= sel - 1;
    const c = k / 3;
    const kind = k - 3 * c;
    const s = i32At(p.devStages, d * V + c);
    const len = f64At(p.path, kind * S + s);
    const m = i32At(e.nextMb, kind * S + s);
    if (best < 0 || len > bestLen) {
      best = k; bestLen = len; bestKind = kind; bestMb = m;
      continue;
    }
    if (len < bestLen) continue;
    if (cpRank(kind) != cpRank(bestKind)) {
      if (cpRank(kind) > cpRank(bestKind)) { best = k; bestKind = kind; bestMb = m; }
    } else if (m < bestMb) { best = k; bestKind = kind; bestMb = m; }
  }
  return best;
}

/**
 * The teacher's action at e's decision: the class of the first op of the deciding device's list (the loaded replay
 * schedule) that has not started yet, when it is eligible; wait when it is not and waiting is possible; else -1 (no
 * label). Any state has a label, also one the teacher would never reach (a student's), which is what cloning with
 * the student's own rollouts (DAgger) needs. Within a class micro-batches start in ascending order, so op h of the
 * list has started exactly when its class's next micro-batch is past it.
 */
export function teacherAction(c: Ctx, e: Env): i32 {
  const k = teacherNext(c, e);
  if (k < 0) return -1;
  if (((e.bits >> <u64>k) & 1) != 0) return k;
  return e.canWait ? 3 * c.Vmax : -1;
}

/** The class of the deciding device's first op of the loaded schedule that has not started (-1: none, no schedule). */
export function teacherNext(c: Ctx, e: Env): i32 {
  if (c.replayOps == 0) return -1;
  const p = changetype<Prob>(e.prob);
  const d = e.cursor;
  const V = p.V;
  const S = p.S;
  const end = i32At(c.replayStart, d + 1);
  let h = i32At(e.replayHead, d);
  while (h < end) {
    const k = i32At(c.replayOps, h);
    const ch = k / 3;
    const slot = (k - 3 * ch) * S + i32At(p.devStages, d * V + ch);
    if (i32At(e.nextMb, slot) <= i32At(c.replayMb, h)) break;
    h++;
  }
  setI32(e.replayHead, d, h);
  return h < end ? i32At(c.replayOps, h) : -1;
}

/** The action of a built-in policy (POLICY_ZB, POLICY_FFIRST, POLICY_CP or POLICY_TEACHER) at e's decision. */
export function builtinAction(c: Ctx, e: Env, policy: i32): i32 {
  const p = changetype<Prob>(e.prob);
  if (policy == POLICY_TEACHER) {
    // no label (the teacher's next op cannot start and waiting is impossible): greedy-zb's choice
    const a = teacherAction(c, e);
    return a >= 0 ? a : byKindOrder(e, p, KIND_B, KIND_F, KIND_W);
  }
  if (policy == POLICY_ZB) return byKindOrder(e, p, KIND_B, KIND_F, KIND_W);
  if (policy == POLICY_FFIRST) return byKindOrder(e, p, KIND_F, KIND_B, KIND_W);
  return criticalPath(e, p);
}
