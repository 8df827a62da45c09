// Problems of an environment vector (docs/SEMANTICS.md section 4): the shared problem loaded from TypeScript
// (envSetProblem), the fresh problem of an episode index drawn from the ranges block (drawInto, the twin of
// drawProblemConfig in src/env-reference.ts), and the tables derived from either (derive).
import { f64At, setF64, i32At, setI32, ptr64 } from '../memory';
import { mix32, uniform } from '../noise';
import {
  KIND_F, KIND_B, KIND_W, ERR_CONFIG, N_CV, N_COMM_CV, N_FLOOR, N_ANOMALY_P, N_ANOMALY_K, N_SEED, RANGES_SALT,
  R_SEED, R_STAGES, R_CHUNKS, R_VSHAPE_PROB, R_MICRO_BATCHES, R_COST_B, R_COST_W, R_COMM, R_CV, R_STAGE_SPREAD,
  R_LIMIT_PROB, R_LIMIT, R_FLOOR, R_ANOMALY_P, R_ANOMALY_K, R_NOISE_SEED, DRAW_STAGES, DRAW_CHUNKS,
  DRAW_MICRO_BATCHES, DRAW_VSHAPE, DRAW_COST_B, DRAW_COST_W, DRAW_COMM, DRAW_CV, DRAW_HAS_LIMIT, DRAW_LIMIT,
  DRAW_STAGE_SPREAD, DEFAULT_MEM_F, DEFAULT_MEM_B, DEFAULT_MEM_W,
} from '../contract';
import { Ctx, Prob } from './layout';

/** What the start and the end of the ops of class slot `slot` do (the tables complete and startOp read). */
// @ts-ignore: decorator
@inline function setSlot(p: Prob, slot: i32, to: i32, flag: i32, time: f64, memStart: f64, memEnd: f64): void {
  setI32(p.xferTo, slot, to);
  setI32(p.xferFlag, slot, flag);
  setF64(p.xferTime, slot, time);
  setF64(p.memStart, slot, memStart);
  setF64(p.memEnd, slot, memEnd);
}

/** Derived tables: chunk stages per device, summed forward memory, remaining paths, scale, noise flags. */
export function derive(c: Ctx, p: Prob): void {
  const P = p.P;
  const V = p.V;
  const S = p.S;
  const M = p.M;
  for (let d = 0; d < P; d++) setF64(p.fullF, d, 0);
  // devStages: stages of each device in increasing order (a scan per device)
  for (let d = 0; d < P; d++) {
    let filled = 0;
    for (let s = 0; s < S; s++) {
      if (i32At(p.stageDevice, s) != d) continue;
      setI32(p.devStages, d * V + filled, s);
      filled++;
      setF64(p.fullF, d, f64At(p.fullF, d) + f64At(p.memDelta, s));
    }
  }
  // remaining path (envRemainingPath / remainingPath of @pprl/schedulers)
  const costF = ptr64(p.cost, KIND_F * S);
  const costB = ptr64(p.cost, KIND_B * S);
  const costW = ptr64(p.cost, KIND_W * S);
  const path = p.path;
  for (let s = 0; s < S; s++) {
    setF64(path, KIND_W * S + s, f64At(costW, s));
    let down: f64 = 0;
    if (s > 0) {
      const hop = i32At(p.stageDevice, s - 1) != i32At(p.stageDevice, s) ? f64At(p.comm, s - 1) : 0;
      down = hop + f64At(path, KIND_B * S + s - 1);
    }
    setF64(path, KIND_B * S + s, f64At(costB, s) + max<f64>(f64At(costW, s), down));
  }
  for (let s = S - 1; s >= 0; s--) {
    let rest: f64;
    if (s < S - 1) {
      const hop = i32At(p.stageDevice, s) != i32At(p.stageDevice, s + 1) ? f64At(p.comm, s) : 0;
      rest = hop + f64At(path, KIND_F * S + s + 1);
    } else rest = f64At(path, KIND_B * S + s);
    setF64(path, KIND_F * S + s, f64At(costF, s) + rest);
  }
  p.pathF0 = f64At(path, 0);
  for (let s = 0; s < S; s++) {
    // F takes its memory at the start; its activation goes to F(m, s + 1), whose input flags are row s + 1 of the
    // first half
    const f = KIND_F * S + s;
    setSlot(p, f, s + 1 < S ? i32At(p.stageDevice, s + 1) : -1, (s + 1) * M, f64At(p.comm, s), f64At(p.memDelta, f), 0);
    // B gives its memory at the end; the gradient goes to B(m, s - 1), row s - 1 of the second half
    const b = KIND_B * S + s;
    const toB = s > 0 ? i32At(p.stageDevice, s - 1) : -1;
    setSlot(p, b, toB, S * M + (s - 1) * M, s > 0 ? f64At(p.comm, s - 1) : 0, 0, f64At(p.memDelta, b));
    // W: nothing to send
    const w = KIND_W * S + s;
    setSlot(p, w, -1, 0, 0, 0, f64At(p.memDelta, w));
  }
  let sum: f64 = 0;
  for (let s = 0; s < S; s++) sum += f64At(costF, s) + f64At(costB, s) + f64At(costW, s);
  p.meanCost = sum / <f64>(3 * S);
  if (c.hasScale) p.scale = c.scale;
  else {
    const ideal = (sum * <f64>M) / <f64>P;
    p.scale = ideal > 0 ? ideal : 1;
  }
  p.memCap = p.hasLimit ? p.memLimit * (1 + 1e-9) : Infinity;
  p.computeNoisy = p.cv > 0 || p.aP > 0 ? 1 : 0;
  p.commNoisy = p.commCv > 0 || p.aP > 0 ? 1 : 0;
}

/**
 * Loads the shared problem of a fixed-problem vector: stageDevice i32[S], cost f64[3S] (F, B, W), comm f64[S],
 * mem f64[3S], noise f64[NOISE_FIELDS] (slots N_*), memLimit (Infinity = none).
 */
export function envSetProblem(
  ctx: usize, P: i32, V: i32, M: i32, stageDevice: usize, cost: usize, comm: usize, mem: usize, noise: usize,
  memLimit: f64,
): i32 {
  const c = changetype<Ctx>(ctx);
  if (P > c.Pmax || V > c.Vmax || M > c.Mmax || P < 1 || V < 1 || M < 1) return -ERR_CONFIG;
  const p = changetype<Prob>(c.shared);
  const S = P * V;
  p.P = P;
  p.V = V;
  p.M = M;
  p.S = S;
  memory.copy(p.stageDevice, stageDevice, 4 * <usize>S);
  memory.copy(p.cost, cost, 24 * <usize>S);
  memory.copy(p.comm, comm, 8 * <usize>S);
  memory.copy(p.memDelta, mem, 24 * <usize>S);
  p.cv = f64At(noise, N_CV);
  p.commCv = f64At(noise, N_COMM_CV);
  p.floor = f64At(noise, N_FLOOR);
  p.aP = f64At(noise, N_ANOMALY_P);
  p.aK = f64At(noise, N_ANOMALY_K);
  p.seed = <u32>f64At(noise, N_SEED);
  p.hasLimit = memLimit < Infinity ? 1 : 0;
  p.memLimit = memLimit;
  derive(c, p);
  return 0;
}

/** An integer of [lo, hi] from draw j (the range of ranges slots r, r + 1). */
// @ts-ignore: decorator
@inline function drawInt(key: u32, j: i32, ranges: usize, r: i32): i32 {
  const lo = f64At(ranges, r);
  const hi = f64At(ranges, r + 1);
  return <i32>min<f64>(hi, lo + Math.floor(uniform(key, <u32>j) * (hi - lo + 1)));
}

/** A real of [lo, hi) from draw j (the range of ranges slots r, r + 1). */
// @ts-ignore: decorator
@inline function drawReal(key: u32, j: i32, ranges: usize, r: i32): f64 {
  const lo = f64At(ranges, r);
  return lo + uniform(key, <u32>j) * (f64At(ranges, r + 1) - lo);
}

/** The problem of episode `index` (drawProblemConfig in src/env-reference.ts, resolved). */
export function drawInto(c: Ctx, p: Prob, index: i32): void {
  const r = c.ranges;
  const key = mix32(mix32(<u32>f64At(r, R_SEED) ^ RANGES_SALT) ^ <u32>index);
  const P = drawInt(key, DRAW_STAGES, r, R_STAGES);
  const V = drawInt(key, DRAW_CHUNKS, r, R_CHUNKS);
  const M = drawInt(key, DRAW_MICRO_BATCHES, r, R_MICRO_BATCHES);
  const vShape = V > 1 && uniform(key, DRAW_VSHAPE) < f64At(r, R_VSHAPE_PROB);
  const rB = drawReal(key, DRAW_COST_B, r, R_COST_B);
  const rW = drawReal(key, DRAW_COST_W, r, R_COST_W);
  const cm = drawReal(key, DRAW_COMM, r, R_COMM);
  const cv = drawReal(key, DRAW_CV, r, R_CV);
  const hasLimit = uniform(key, DRAW_HAS_LIMIT) < f64At(r, R_LIMIT_PROB);
  const f = drawReal(key, DRAW_LIMIT, r, R_LIMIT);
  const spread = f64At(r, R_STAGE_SPREAD);
  const S = P * V;
  p.P = P;
  p.V = V;
  p.M = M;
  p.S = S;
  for (let s = 0; s < S; s++) {
    const mult = 1 + spread * (2 * uniform(key, <u32>(DRAW_STAGE_SPREAD + s)) - 1);
    setF64(p.cost, KIND_F * S + s, mult);
    setF64(p.cost, KIND_B * S + s, rB * mult);
    setF64(p.cost, KIND_W * S + s, rW * mult);
    setF64(p.comm, s, cm);
    setF64(p.memDelta, KIND_F * S + s, DEFAULT_MEM_F);
    setF64(p.memDelta, KIND_B * S + s, DEFAULT_MEM_B);
    setF64(p.memDelta, KIND_W * S + s, DEFAULT_MEM_W);
    // deviceOfStage
    const chunk = s / P;
    const rem = s % P;
    setI32(p.stageDevice, s, vShape && (chunk & 1) == 1 ? P - 1 - rem : rem);
  }
  p.hasLimit = hasLimit ? 1 : 0;
  p.memLimit = hasLimit ? max<f64>(1, Math.floor(f * <f64>P)) * <f64>V : Infinity;
  p.cv = cv;
  p.commCv = cv;
  p.floor = f64At(r, R_FLOOR);
  p.aP = f64At(r, R_ANOMALY_P);
  p.aK = f64At(r, R_ANOMALY_K);
  p.seed = <u32>f64At(r, R_NOISE_SEED);
  derive(c, p);
}
