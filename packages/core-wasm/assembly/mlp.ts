// The PPO policy (actor and critic MLPs, CleanRL style) evaluated inside WebAssembly, plus masked sampling.
// Parameter layout (shared with src/mlp.ts): actor D -> H[0] -> ... -> H[n-1] -> A, then critic
// D -> H[0] -> ... -> H[n-1] -> 1; each layer is W[in][out] row-major (W[i*out + j] multiplies input i for
// output j) followed by b[out]. Hidden layers use tanh (act 0) or relu (act 1); output layers are linear.
// The shared-trunk variant (the *Shared functions) has one trunk D -> H[0] -> ... -> H[n-1] feeding two linear
// heads: trunk layers, then the actor head H[n-1] -> A, then the critic head H[n-1] -> 1 (same per-layer format).
// Nothing allocates: parameters, observation, scratch and outputs are caller-provided memory.
import { ACT_TANH, ACT_RELU } from './contract';
import { i32At, ptr32 } from './memory';

/** The output layers' activation (internal: the activation codes callers pass are ACT_TANH and ACT_RELU). */
const ACT_LINEAR: i32 = 2;

// @ts-ignore: decorator
@inline function hiddenAt(hidden: usize, k: i32): i32 { return i32At(hidden, k); }

/** Width of the last hidden layer (D without hidden layers): the heads' fan-in. */
// @ts-ignore: decorator
@inline function lastHidden(D: i32, hidden: usize, n: i32): i32 { return n > 0 ? hiddenAt(hidden, n - 1) : D; }

/** Parameters of the hidden layers of one network (weights and biases). */
function trunkParams(D: i32, hidden: usize, n: i32): i32 {
  let trunk = 0;
  let fanIn = D;
  for (let k = 0; k < n; k++) {
    const h = hiddenAt(hidden, k);
    trunk += fanIn * h + h;
    fanIn = h;
  }
  return trunk;
}

/** Parameters of the two heads: actor H -> A and critic H -> 1. */
// @ts-ignore: decorator
@inline function headParams(H: i32, A: i32): i32 { return (H * A + A) + (H + 1); }

/** Number of f32 parameters of the actor and critic networks. */
export function mlpParamCount(D: i32, hidden: usize, n: i32, A: i32): i32 {
  return 2 * trunkParams(D, hidden, n) + headParams(lastHidden(D, hidden, n), A);
}

/** Number of f32 parameters of the shared-trunk network: trunk, actor head, critic head. */
export function mlpParamCountShared(D: i32, hidden: usize, n: i32, A: i32): i32 {
  return trunkParams(D, hidden, n) + headParams(lastHidden(D, hidden, n), A);
}

function widest(hidden: usize, n: i32): i32 {
  let m = 0;
  for (let k = 0; k < n; k++) m = max(m, hiddenAt(hidden, k));
  return m;
}

/** Bytes of scratch `mlpForward` needs: two ping-pong activation buffers of the widest hidden layer. */
export function mlpScratchBytes(hidden: usize, n: i32): i32 {
  return max(16, 2 * <i32>rowBytes(hidden, n));
}

// tanh's rational fit x P(x^2) / Q(x^2): P = 1 + P1 t + ... + P5 t^5, Q = 1 + Q1 t + Q2 t^2 + Q3 t^3 (t = x^2)
const TANH_P1: f32 = 0.12979218363761902;
const TANH_P2: f32 = 0.0029858555644750595;
const TANH_P3: f32 = 9.8785994850914e-6;
const TANH_P4: f32 = -1.4704022888167856e-8;
const TANH_P5: f32 = 2.3508039265207614e-11;
const TANH_Q1: f32 = 0.4631253480911255;
const TANH_Q2: f32 = 0.024027898907661438;
const TANH_Q3: f32 = 0.00023720234457869083;

// tanh(x) ~ x P(x^2) / Q(x^2) on [-8, 8], inputs clamped to that range (beyond it the output stays at
// f32 tanh(8) = 1 - 2.4e-7): a rational fit to the relative error (1.9e-8 in exact arithmetic); evaluated in f32
// it stays within 3.5e-7 of tanh everywhere and never exceeds 1 in magnitude. One division and ~20 vector ops,
// versus a scalar libm call per element or an exp-based formula at twice the cost.
// @ts-ignore: decorator
@inline function tanh4(v: v128): v128 {
  const x = f32x4.pmax(f32x4.splat(-8), f32x4.pmin(f32x4.splat(8), v));
  const t = f32x4.mul(x, x);
  let p = f32x4.splat(TANH_P5);
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(TANH_P4));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(TANH_P3));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(TANH_P2));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(TANH_P1));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1));
  let q = f32x4.splat(TANH_Q3);
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(TANH_Q2));
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(TANH_Q1));
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(1));
  return f32x4.div(f32x4.mul(x, p), q);
}

/** a + (u p + v q): two input rows' contributions to one accumulator (one add on its dependency chain). */
// @ts-ignore: decorator
@inline function mac2(a: v128, u: v128, p: v128, v: v128, q: v128): v128 {
  return f32x4.add(a, f32x4.add(f32x4.mul(u, p), f32x4.mul(v, q)));
}

/** The lanes' sum as (l0 + l1) + (l2 + l3): the one order every dot product of this module reduces in. */
// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// @ts-ignore: decorator
@inline function activate(v: v128, act: i32): v128 {
  if (act == ACT_TANH) return tanh4(v);
  if (act == ACT_RELU) return f32x4.pmax(f32x4.splat(0), v);
  return v;
}

/**
 * y[j] = act(b[j] + sum_i x[i] W[i*nout + j]). Output columns go 16 at a time in four vector accumulators held
 * in registers across the whole input loop (each W row segment is contiguous), then 4 at a time. Inputs go two
 * rows at a time so each accumulator's dependency chain has one add per two rows.
 */
function dense(W: usize, b: usize, x: usize, nin: i32, nout: i32, y: usize, act: i32): void {
  const rowBytes = <usize>nout << 2;
  const xEnd = x + (<usize>nin << 2);
  const xPairsEnd = x + (<usize>(nin & ~1) << 2);
  let j = 0;
  for (; j + 16 <= nout; j += 16) {
    const col = <usize>j << 2;
    let a0 = v128.load(b + col);
    let a1 = v128.load(b + col, 16);
    let a2 = v128.load(b + col, 32);
    let a3 = v128.load(b + col, 48);
    let w = W + col;
    let xi = x;
    for (; xi < xPairsEnd; xi += 8) {
      const u = v128.load32_splat(xi);
      const v = v128.load32_splat(xi, 4);
      const w2 = w + rowBytes;
      a0 = mac2(a0, u, v128.load(w), v, v128.load(w2));
      a1 = mac2(a1, u, v128.load(w, 16), v, v128.load(w2, 16));
      a2 = mac2(a2, u, v128.load(w, 32), v, v128.load(w2, 32));
      a3 = mac2(a3, u, v128.load(w, 48), v, v128.load(w2, 48));
      w = w2 + rowBytes;
    }
    if (xi < xEnd) {
      const u = v128.load32_splat(xi);
      a0 = f32x4.add(a0, f32x4.mul(u, v128.load(w)));
      a1 = f32x4.add(a1, f32x4.mul(u, v128.load(w, 16)));
      a2 = f32x4.add(a2, f32x4.mul(u, v128.load(w, 32)));
      a3 = f32x4.add(a3, f32x4.mul(u, v128.load(w, 48)));
    }
    v128.store(y + col, activate(a0, act));
    v128.store(y + col, activate(a1, act), 16);
    v128.store(y + col, activate(a2, act), 32);
    v128.store(y + col, activate(a3, act), 48);
  }
  if (j < nout && nout >= 4) {
    // the last columns in blocks of 4; a final partial block is shifted left to end at nout, recomputing a few
    // columns with the same operations (hence the same values) instead of a scalar tail
    for (;;) {
      if (j + 4 > nout) j = nout - 4;
      const col = <usize>j << 2;
      let a = v128.load(b + col);
      let w = W + col;
      let xi = x;
      for (; xi < xPairsEnd; xi += 8) {
        const w2 = w + rowBytes;
        a = mac2(a, v128.load32_splat(xi), v128.load(w), v128.load32_splat(xi, 4), v128.load(w2));
        w = w2 + rowBytes;
      }
      if (xi < xEnd) a = f32x4.add(a, f32x4.mul(v128.load32_splat(xi), v128.load(w)));
      v128.store(y + col, activate(a, act));
      j += 4;
      if (j >= nout) break;
    }
    return;
  }
  // fewer than 4 outputs (the critic head): one dot product per output, vectorised along the inputs
  for (; j < nout; j++) {
    let acc = f32x4.splat(0);
    let i = 0;
    if (nout == 1) {
      for (; i + 4 <= nin; i += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(ptr32(x, i)), v128.load(ptr32(W, i))));
    }
    let s = load<f32>(ptr32(b, j)) + hsum(acc);
    for (; i < nin; i++) s += load<f32>(x + (<usize>i << 2)) * load<f32>(W + (<usize>(i * nout + j) << 2));
    store<f32>(y + (<usize>j << 2), f32x4.extract_lane(activate(f32x4.splat(s), act), 0));
  }
}

/** Bytes of one row of hidden activations: the widest hidden layer, rounded up to whole vectors. */
// @ts-ignore: decorator
@inline function rowBytes(hidden: usize, n: i32): usize { return <usize>((widest(hidden, n) + 3) & ~3) << 2; }

// Where the last hidden layer of `hiddenLayers` / `hiddenLayersRows` left its output (module state: no allocation).
let lastOut: usize = 0;
let lastWidth: i32 = 0;
let lastStride: usize = 0;

/**
 * The hidden layers from parameter pointer p, ping-pong between bufA and bufB, for one observation (`batched` false:
 * `dense`) or `rows` of them (`denseRows`, obs rows D floats apart, hidden rows `stride` bytes apart); returns the
 * pointer past them. Inlined with a constant `batched` into the two functions below, one loop each.
 */
// @ts-ignore: decorator
@inline function hiddenStack(
  batched: bool, p: usize, D: i32, hidden: usize, n: i32, act: i32, obs: usize, rows: i32,
  bufA: usize, bufB: usize, stride: usize,
): usize {
  let x = obs;
  let xStride = <usize>D << 2;
  let fanIn = D;
  for (let k = 0; k < n; k++) {
    const h = hiddenAt(hidden, k);
    const dst = k & 1 ? bufB : bufA;
    const b = p + (<usize>(fanIn * h) << 2);
    if (batched) denseRows(p, b, x, xStride, fanIn, h, dst, stride, rows, act);
    else dense(p, b, x, fanIn, h, dst, act);
    p = b + (<usize>h << 2);
    x = dst;
    xStride = stride;
    fanIn = h;
  }
  lastOut = x;
  lastWidth = fanIn;
  lastStride = xStride;
  return p;
}

/** The hidden layers of one observation. */
function hiddenLayers(p: usize, D: i32, hidden: usize, n: i32, act: i32, obs: usize, bufA: usize, bufB: usize): usize {
  return hiddenStack(false, p, D, hidden, n, act, obs, 1, bufA, bufB, 0);
}

/** The hidden layers of `rows` observations. */
function hiddenLayersRows(
  p: usize, D: i32, hidden: usize, n: i32, act: i32, obs: usize, rows: i32, bufA: usize, bufB: usize, stride: usize,
): usize {
  return hiddenStack(true, p, D, hidden, n, act, obs, rows, bufA, bufB, stride);
}

/**
 * A linear head of `out` outputs on what the hidden layers left (lastOut), weights from p, writing y (rows
 * `yStride` bytes apart when batched); returns the pointer past its parameters.
 */
// @ts-ignore: decorator
@inline function head(batched: bool, p: usize, out: i32, y: usize, yStride: usize, rows: i32): usize {
  const b = p + (<usize>(lastWidth * out) << 2);
  if (batched) denseRows(p, b, lastOut, lastStride, lastWidth, out, y, yStride, rows, ACT_LINEAR);
  else dense(p, b, lastOut, lastWidth, out, y, ACT_LINEAR);
  return b + (<usize>out << 2);
}

/**
 * The forward of either layout for one observation or `rows` of them: separate networks run the actor's hidden
 * layers and head, then the critic's; the shared trunk runs its hidden layers once, then both heads (each head the
 * very `dense` / `denseRows` call of the separate networks). Logits go to `logits` (rows `logitsRow` bytes apart),
 * values to `values` (4 bytes apart).
 */
// @ts-ignore: decorator
@inline function forward(
  batched: bool, shared: bool, params: usize, D: i32, hidden: usize, n: i32, A: i32, act: i32, obs: usize,
  rows: i32, bufA: usize, bufB: usize, stride: usize, logits: usize, logitsRow: usize, values: usize,
): void {
  let p = batched
    ? hiddenLayersRows(params, D, hidden, n, act, obs, rows, bufA, bufB, stride)
    : hiddenLayers(params, D, hidden, n, act, obs, bufA, bufB);
  p = head(batched, p, A, logits, logitsRow, rows);
  if (!shared) {
    p = batched
      ? hiddenLayersRows(p, D, hidden, n, act, obs, rows, bufA, bufB, stride)
      : hiddenLayers(p, D, hidden, n, act, obs, bufA, bufB);
  }
  head(batched, p, 1, values, 4, rows);
}

/** Both layouts for one observation: logits to `logits`, the value returned. */
// @ts-ignore: decorator
@inline function forwardOne(
  shared: bool, params: usize, D: i32, hidden: usize, n: i32, A: i32, act: i32, obs: usize, scratch: usize,
  logits: usize,
): f32 {
  const bufA = scratch;
  const bufB = scratch + rowBytes(hidden, n);
  // the value goes to the ping-pong buffer that does not hold the last hidden layer
  const valueAt = n & 1 ? bufB : bufA;
  forward(false, shared, params, D, hidden, n, A, act, obs, 1, bufA, bufB, 0, logits, 0, valueAt);
  return load<f32>(valueAt);
}

/** Forward of one observation: writes the A actor logits and returns the critic value. */
export function mlpForward(
  params: usize, D: i32, hidden: usize, n: i32, A: i32, act: i32,
  obs: usize, scratch: usize, logits: usize,
): f32 {
  return forwardOne(false, params, D, hidden, n, A, act, obs, scratch, logits);
}

/**
 * Forward of one observation through the shared-trunk network (scratch: mlpScratchBytes): writes the A actor
 * logits and returns the critic value.
 */
export function mlpForwardShared(
  params: usize, D: i32, hidden: usize, n: i32, A: i32, act: i32,
  obs: usize, scratch: usize, logits: usize,
): f32 {
  return forwardOne(true, params, D, hidden, n, A, act, obs, scratch, logits);
}

// @ts-ignore: decorator
@inline function allowed(mask: usize, i: i32): bool { return load<u8>(mask + <usize>i) != 0; }
// @ts-ignore: decorator
@inline function logitAt(logits: usize, i: i32): f64 { return <f64>load<f32>(logits + (<usize>i << 2)); }

/**
 * Masked categorical draw by inverse CDF: the first allowed action whose cumulative softmax mass exceeds u.
 * Writes log pi(action) to logpOut and, when entropyOut != 0, the entropy of the masked distribution.
 * Returns -1 (and writes zeros) when no action is allowed.
 */
export function sampleMasked(logits: usize, mask: usize, A: i32, u: f64, logpOut: usize, entropyOut: usize): i32 {
  let m = -Infinity;
  let last = -1;
  for (let i = 0; i < A; i++) {
    if (!allowed(mask, i)) continue;
    m = max(m, logitAt(logits, i));
    last = i;
  }
  if (last < 0) {
    store<f32>(logpOut, 0);
    if (entropyOut) store<f32>(entropyOut, 0);
    return -1;
  }
  let z: f64 = 0;
  let weighted: f64 = 0; // sum of e^(l - m) (l - m), for the entropy
  for (let i = 0; i < A; i++) {
    if (!allowed(mask, i)) continue;
    const d = logitAt(logits, i) - m;
    const e = Math.exp(d);
    z += e;
    weighted += e * d;
  }
  const target = u * z;
  let action = last; // rounding can leave the cumulative sum a hair below u * z
  let cum: f64 = 0;
  for (let i = 0; i < A; i++) {
    if (!allowed(mask, i)) continue;
    cum += Math.exp(logitAt(logits, i) - m);
    if (target < cum) {
      action = i;
      break;
    }
  }
  const logZ = Math.log(z);
  store<f32>(logpOut, <f32>(logitAt(logits, action) - m - logZ));
  if (entropyOut) store<f32>(entropyOut, <f32>(logZ - weighted / z));
  return action;
}

/** The allowed action with the largest logit (lowest index on ties), or -1 when none is allowed. */
export function argmaxMasked(logits: usize, mask: usize, A: i32): i32 {
  let best = -1;
  let bestLogit: f32 = -Infinity;
  for (let i = 0; i < A; i++) {
    if (!allowed(mask, i)) continue;
    const l = load<f32>(logits + (<usize>i << 2));
    if (best < 0 || l > bestLogit) {
      best = i;
      bestLogit = l;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------------------
// Batched forward: B observations in one call, bit for bit what B calls of mlpForward give. Each output goes
// through the same f32 operations in the same order as in `dense` (bias, then acc + (x[i] W[i] + x[i+1] W[i+1])
// over input pairs, then the odd last input, then the activation); only the loop structure differs:
//  - rows go in chunks of BATCH_CHUNK, layer by layer within a chunk, so a layer's weights and the chunk's
//    activations stay in L1 while all the chunk's rows use them;
//  - layers with >= 4 outputs run a 2-row x 8-column register tile (each weight vector serves two observations);
//    bigger tiles spill, since V8 issues all of a tile's loads first and has 15 usable xmm registers. The last
//    row of an odd chunk goes through `dense` itself;
//  - tanh runs afterwards over each row, four vectors in lockstep (tanh4's operations, more work in flight);
//  - single-output layers (the critic head) take four rows at once, one dot-product chain per row.

/** Rows per chunk. */
const BATCH_CHUNK: i32 = 32;

/** tanh4 of the four vectors at `ptr`, in place, with the operations of the four interleaved. */
// @ts-ignore: decorator
@inline function tanh16(ptr: usize): void {
  const x0 = f32x4.pmax(f32x4.splat(-8), f32x4.pmin(f32x4.splat(8), v128.load(ptr)));
  const x1 = f32x4.pmax(f32x4.splat(-8), f32x4.pmin(f32x4.splat(8), v128.load(ptr, 16)));
  const x2 = f32x4.pmax(f32x4.splat(-8), f32x4.pmin(f32x4.splat(8), v128.load(ptr, 32)));
  const x3 = f32x4.pmax(f32x4.splat(-8), f32x4.pmin(f32x4.splat(8), v128.load(ptr, 48)));
  const t0 = f32x4.mul(x0, x0);
  const t1 = f32x4.mul(x1, x1);
  const t2 = f32x4.mul(x2, x2);
  const t3 = f32x4.mul(x3, x3);
  let p0 = f32x4.add(f32x4.mul(f32x4.splat(TANH_P5), t0), f32x4.splat(TANH_P4));
  let p1 = f32x4.add(f32x4.mul(f32x4.splat(TANH_P5), t1), f32x4.splat(TANH_P4));
  let p2 = f32x4.add(f32x4.mul(f32x4.splat(TANH_P5), t2), f32x4.splat(TANH_P4));
  let p3 = f32x4.add(f32x4.mul(f32x4.splat(TANH_P5), t3), f32x4.splat(TANH_P4));
  let q0 = f32x4.add(f32x4.mul(f32x4.splat(TANH_Q3), t0), f32x4.splat(TANH_Q2));
  let q1 = f32x4.add(f32x4.mul(f32x4.splat(TANH_Q3), t1), f32x4.splat(TANH_Q2));
  let q2 = f32x4.add(f32x4.mul(f32x4.splat(TANH_Q3), t2), f32x4.splat(TANH_Q2));
  let q3 = f32x4.add(f32x4.mul(f32x4.splat(TANH_Q3), t3), f32x4.splat(TANH_Q2));
  p0 = f32x4.add(f32x4.mul(p0, t0), f32x4.splat(TANH_P3));
  p1 = f32x4.add(f32x4.mul(p1, t1), f32x4.splat(TANH_P3));
  p2 = f32x4.add(f32x4.mul(p2, t2), f32x4.splat(TANH_P3));
  p3 = f32x4.add(f32x4.mul(p3, t3), f32x4.splat(TANH_P3));
  q0 = f32x4.add(f32x4.mul(q0, t0), f32x4.splat(TANH_Q1));
  q1 = f32x4.add(f32x4.mul(q1, t1), f32x4.splat(TANH_Q1));
  q2 = f32x4.add(f32x4.mul(q2, t2), f32x4.splat(TANH_Q1));
  q3 = f32x4.add(f32x4.mul(q3, t3), f32x4.splat(TANH_Q1));
  p0 = f32x4.add(f32x4.mul(p0, t0), f32x4.splat(TANH_P2));
  p1 = f32x4.add(f32x4.mul(p1, t1), f32x4.splat(TANH_P2));
  p2 = f32x4.add(f32x4.mul(p2, t2), f32x4.splat(TANH_P2));
  p3 = f32x4.add(f32x4.mul(p3, t3), f32x4.splat(TANH_P2));
  q0 = f32x4.add(f32x4.mul(q0, t0), f32x4.splat(1));
  q1 = f32x4.add(f32x4.mul(q1, t1), f32x4.splat(1));
  q2 = f32x4.add(f32x4.mul(q2, t2), f32x4.splat(1));
  q3 = f32x4.add(f32x4.mul(q3, t3), f32x4.splat(1));
  p0 = f32x4.add(f32x4.mul(p0, t0), f32x4.splat(TANH_P1));
  p1 = f32x4.add(f32x4.mul(p1, t1), f32x4.splat(TANH_P1));
  p2 = f32x4.add(f32x4.mul(p2, t2), f32x4.splat(TANH_P1));
  p3 = f32x4.add(f32x4.mul(p3, t3), f32x4.splat(TANH_P1));
  p0 = f32x4.add(f32x4.mul(p0, t0), f32x4.splat(1));
  p1 = f32x4.add(f32x4.mul(p1, t1), f32x4.splat(1));
  p2 = f32x4.add(f32x4.mul(p2, t2), f32x4.splat(1));
  p3 = f32x4.add(f32x4.mul(p3, t3), f32x4.splat(1));
  v128.store(ptr, f32x4.div(f32x4.mul(x0, p0), q0));
  v128.store(ptr, f32x4.div(f32x4.mul(x1, p1), q1), 16);
  v128.store(ptr, f32x4.div(f32x4.mul(x2, p2), q2), 32);
  v128.store(ptr, f32x4.div(f32x4.mul(x3, p3), q3), 48);
}

/**
 * tanh over columns [0, nout) of `rows` rows (nout >= 4), in place. A partial last vector also maps the
 * padding lanes up to the next multiple of 4, which are scratch nobody reads.
 */
function tanhRows(y: usize, yStride: usize, rows: i32, nout: i32): void {
  const end = <usize>((nout + 3) & ~3) << 2;
  const end16 = end & ~63;
  for (let r = 0; r < rows; r++) {
    const row = y + <usize>r * yStride;
    let c: usize = 0;
    for (; c < end16; c += 64) tanh16(row + c);
    for (; c < end; c += 16) v128.store(row + c, tanh4(v128.load(row + c)));
  }
}

/** A single-output layer for four rows: dense's lane-wise dot product and tail, four independent chains. */
function dense1Rows4(
  W: usize, b: usize, x0: usize, x1: usize, x2: usize, x3: usize, nin: i32,
  y0: usize, y1: usize, y2: usize, y3: usize, act: i32,
): void {
  let c0 = f32x4.splat(0);
  let c1 = f32x4.splat(0);
  let c2 = f32x4.splat(0);
  let c3 = f32x4.splat(0);
  const vecEnd = <usize>(nin & ~3) << 2;
  let i: usize = 0;
  for (; i < vecEnd; i += 16) {
    const w = v128.load(W + i);
    c0 = f32x4.add(c0, f32x4.mul(v128.load(x0 + i), w));
    c1 = f32x4.add(c1, f32x4.mul(v128.load(x1 + i), w));
    c2 = f32x4.add(c2, f32x4.mul(v128.load(x2 + i), w));
    c3 = f32x4.add(c3, f32x4.mul(v128.load(x3 + i), w));
  }
  const bias = load<f32>(b);
  let s0 = bias + hsum(c0);
  let s1 = bias + hsum(c1);
  let s2 = bias + hsum(c2);
  let s3 = bias + hsum(c3);
  const end = <usize>nin << 2;
  for (; i < end; i += 4) {
    const w = load<f32>(W + i);
    s0 += load<f32>(x0 + i) * w;
    s1 += load<f32>(x1 + i) * w;
    s2 += load<f32>(x2 + i) * w;
    s3 += load<f32>(x3 + i) * w;
  }
  const v = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(s0), 1, s1), 2, s2), 3, s3);
  const s = activate(v, act);
  store<f32>(y0, f32x4.extract_lane(s, 0));
  store<f32>(y1, f32x4.extract_lane(s, 1));
  store<f32>(y2, f32x4.extract_lane(s, 2));
  store<f32>(y3, f32x4.extract_lane(s, 3));
}

/**
 * `dense` for `rows` rows: row r reads x + r * xStride and writes y + r * yStride (x and y must not overlap).
 * Output columns go 8 at a time, a partial last block shifted left to end at nout (recomputing a few columns
 * with the same operations, hence the same values), then blocks of 4 for the last 1 to 4 columns.
 */
function denseRows(
  W: usize, b: usize, x: usize, xStride: usize, nin: i32, nout: i32,
  y: usize, yStride: usize, rows: i32, act: i32,
): void {
  if (nout < 4) {
    let r = 0;
    if (nout == 1) {
      for (; r + 4 <= rows; r += 4) {
        const x0 = x + <usize>r * xStride;
        const y0 = y + <usize>r * yStride;
        dense1Rows4(
          W, b, x0, x0 + xStride, x0 + 2 * xStride, x0 + 3 * xStride, nin,
          y0, y0 + yStride, y0 + 2 * yStride, y0 + 3 * yStride, act,
        );
      }
    }
    for (; r < rows; r++) dense(W, b, x + <usize>r * xStride, nin, nout, y + <usize>r * yStride, act);
    return;
  }
  const tileAct = act == ACT_TANH ? ACT_LINEAR : act; // tanh comes afterwards, in tanhRows
  const rowBytes = <usize>nout << 2;
  const pairBytes = <usize>(nin & ~1) << 2;
  const odd = nin & 1;
  const full = rows & ~1;
  for (let r = 0; r < full; r += 2) {
    const x0 = x + <usize>r * xStride;
    const x1 = x0 + xStride;
    const y0 = y + <usize>r * yStride;
    const y1 = y0 + yStride;
    let j = 0;
    while (nout >= 8 && nout - j > 4) {
      if (j + 8 > nout) j = nout - 8;
      const col = <usize>j << 2;
      const b0 = v128.load(b + col);
      const b1 = v128.load(b + col, 16);
      let a00 = b0;
      let a01 = b1;
      let a10 = b0;
      let a11 = b1;
      let w = W + col;
      let k: usize = 0;
      for (; k < pairBytes; k += 8) {
        const w2 = w + rowBytes;
        const p0 = v128.load(w);
        const p1 = v128.load(w, 16);
        const q0 = v128.load(w2);
        const q1 = v128.load(w2, 16);
        let u = v128.load32_splat(x0 + k);
        let v = v128.load32_splat(x0 + k, 4);
        a00 = mac2(a00, u, p0, v, q0);
        a01 = mac2(a01, u, p1, v, q1);
        u = v128.load32_splat(x1 + k);
        v = v128.load32_splat(x1 + k, 4);
        a10 = mac2(a10, u, p0, v, q0);
        a11 = mac2(a11, u, p1, v, q1);
        w = w2 + rowBytes;
      }
      if (odd) {
        const p0 = v128.load(w);
        const p1 = v128.load(w, 16);
        let u = v128.load32_splat(x0 + k);
        a00 = f32x4.add(a00, f32x4.mul(u, p0));
        a01 = f32x4.add(a01, f32x4.mul(u, p1));
        u = v128.load32_splat(x1 + k);
        a10 = f32x4.add(a10, f32x4.mul(u, p0));
        a11 = f32x4.add(a11, f32x4.mul(u, p1));
      }
      v128.store(y0 + col, activate(a00, tileAct));
      v128.store(y0 + col, activate(a01, tileAct), 16);
      v128.store(y1 + col, activate(a10, tileAct));
      v128.store(y1 + col, activate(a11, tileAct), 16);
      j += 8;
    }
    while (j < nout) {
      if (j + 4 > nout) j = nout - 4;
      const col = <usize>j << 2;
      const b0 = v128.load(b + col);
      let a0 = b0;
      let a1 = b0;
      let w = W + col;
      let k: usize = 0;
      for (; k < pairBytes; k += 8) {
        const w2 = w + rowBytes;
        const p = v128.load(w);
        const q = v128.load(w2);
        a0 = mac2(a0, v128.load32_splat(x0 + k), p, v128.load32_splat(x0 + k, 4), q);
        a1 = mac2(a1, v128.load32_splat(x1 + k), p, v128.load32_splat(x1 + k, 4), q);
        w = w2 + rowBytes;
      }
      if (odd) {
        const p = v128.load(w);
        a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(x0 + k), p));
        a1 = f32x4.add(a1, f32x4.mul(v128.load32_splat(x1 + k), p));
      }
      v128.store(y0 + col, activate(a0, tileAct));
      v128.store(y1 + col, activate(a1, tileAct));
      j += 4;
    }
  }
  if (full < rows) dense(W, b, x + <usize>full * xStride, nin, nout, y + <usize>full * yStride, tileAct);
  if (act == ACT_TANH) tanhRows(y, yStride, rows, nout);
}

/** Rows per chunk for a batch of B: BATCH_CHUNK, or B rounded up to 4 when smaller. */
function chunkRows(B: i32): i32 {
  return min((max(B, 1) + 3) & ~3, BATCH_CHUNK);
}

/**
 * Bytes of scratch `mlpForwardBatch` needs for B observations: two activation buffers of a chunk's rows at the
 * widest hidden layer (the same for every B >= 32).
 */
export function mlpBatchScratchBytes(hidden: usize, n: i32, B: i32): i32 {
  return max(16, 2 * chunkRows(B) * <i32>rowBytes(hidden, n));
}

/**
 * Forward of B observations (obs f32[B][D], row-major): writes logits f32[B][A] and values f32[B], bit for bit
 * what B calls of mlpForward give. `scratch` holds mlpBatchScratchBytes(hidden, n, B) bytes; obs, scratch and
 * the outputs must not overlap.
 */
export function mlpForwardBatch(
  params: usize, D: i32, hidden: usize, n: i32, A: i32, act: i32,
  obs: usize, B: i32, scratch: usize, logits: usize, values: usize,
): void {
  forwardBatch(false, params, D, hidden, n, A, act, obs, B, scratch, logits, values);
}

/**
 * `mlpForwardBatch` for the shared-trunk network: bit for bit what B calls of mlpForwardShared give. `scratch`
 * holds mlpBatchScratchBytes(hidden, n, B) bytes; obs, scratch and the outputs must not overlap.
 */
export function mlpForwardBatchShared(
  params: usize, D: i32, hidden: usize, n: i32, A: i32, act: i32,
  obs: usize, B: i32, scratch: usize, logits: usize, values: usize,
): void {
  forwardBatch(true, params, D, hidden, n, A, act, obs, B, scratch, logits, values);
}

/** Both batched layouts: rows in chunks, so that a layer's weights and the chunk's activations stay in L1. */
// @ts-ignore: decorator
@inline function forwardBatch(
  shared: bool, params: usize, D: i32, hidden: usize, n: i32, A: i32, act: i32,
  obs: usize, B: i32, scratch: usize, logits: usize, values: usize,
): void {
  const chunk = chunkRows(B);
  const stride = rowBytes(hidden, n);
  const bufA = scratch;
  const bufB = scratch + <usize>chunk * stride;
  const obsRow = <usize>D << 2;
  const logitsRow = <usize>A << 2;
  for (let r = 0; r < B; r += chunk) {
    const rows = min(chunk, B - r);
    const x = obs + <usize>r * obsRow;
    forward(true, shared, params, D, hidden, n, A, act, x, rows, bufA, bufB, stride,
      logits + <usize>r * logitsRow, logitsRow, ptr32(values, r));
  }
}
