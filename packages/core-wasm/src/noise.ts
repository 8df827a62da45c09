// Counter-based noise (docs/SEMANTICS.md section 2): the TypeScript twin of assembly/noise.ts, bit for bit.
// The noise of op (kind, stage, micro-batch) in episode e is a pure function of (seed, e, kind, stage, mb),
// so every scheduler meets the same realized durations in the same episode (common random numbers).
import { HASH_GOLDEN, HASH_KIND, HASH_MB, NORMAL_OCTAVES, NORMAL_PIECES, UNIT_OFFSET, UNIT_SCALE } from './contract.js';

/** Noise identities: compute kinds F, B, W; transfers keyed by their sending stage (src/contract.ts). */
export { NOISE_F, NOISE_B, NOISE_W, NOISE_COMM_F, NOISE_COMM_B } from './contract.js';
export { NORMAL_OCTAVES, NORMAL_PIECES } from './contract.js';

/** 32-bit integer hash (lowbias32): the mixing step of every counter-based stream in PPRL. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

export function episodeKey(seed: number, episode: number): number {
  return mix32(mix32(seed ^ HASH_GOLDEN) ^ episode);
}

/** The key of (kind, stage) in an episode; hot loops compute it once per episode. */
export function stageKey(epKey: number, kind: number, stage: number): number {
  return mix32(mix32(epKey ^ Math.imul(kind + 1, HASH_KIND)) ^ stage);
}

export function mbKey(stageKey: number, mb: number): number {
  return mix32(stageKey ^ Math.imul(mb + 1, HASH_MB));
}

export function opKey(epKey: number, kind: number, stage: number, mb: number): number {
  return mbKey(stageKey(epKey, kind, stage), mb);
}

/** 2^-i for i in [0, 31), exact. */
const POW2_NEG = Float64Array.from({ length: 31 }, (_, i) => 1 / 2 ** i);

/** A 32-bit hash output (unsigned) as a uniform in (0, 1): never 0, never 1. */
export function toUnit(h: number): number {
  return h * UNIT_SCALE + UNIT_OFFSET;
}

/** Uniform draw j of a key (the anomaly draw of an op, the draws of the problem generator). */
export function uniform(key: number, j: number): number {
  return toUnit(mix32((key + Math.imul(j + 1, HASH_GOLDEN)) | 0));
}

const LN2 = Math.LN2;
const SQRT_HALF = Math.SQRT1_2;

/** Natural log by exact scaling and a fixed series: the same operations as the WebAssembly side. */
export function ln(x: number): number {
  let k = 0;
  while (x < 0.5) {
    x *= 2;
    k -= 1;
  }
  while (x >= 1) {
    x *= 0.5;
    k += 1;
  }
  if (x < SQRT_HALF) {
    x *= 2;
    k -= 1;
  }
  const f = (x - 1) / (x + 1);
  const f2 = f * f;
  let p = 1.0 / 23.0;
  p = p * f2 + 1.0 / 21.0;
  p = p * f2 + 1.0 / 19.0;
  p = p * f2 + 1.0 / 17.0;
  p = p * f2 + 1.0 / 15.0;
  p = p * f2 + 1.0 / 13.0;
  p = p * f2 + 1.0 / 11.0;
  p = p * f2 + 1.0 / 9.0;
  p = p * f2 + 1.0 / 7.0;
  p = p * f2 + 1.0 / 5.0;
  p = p * f2 + 1.0 / 3.0;
  p = p * f2 + 1.0;
  return k * LN2 + 2 * f * p;
}

// Acklam's rational approximation of the normal quantile (relative error < 1.2e-9), used only to build the table.
const A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

/** Quantile of the standard normal for p in (0, 1/2]. */
export function normalQuantile(p: number): number {
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * ln(p));
    return (
      (((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) /
      ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((A[0]! * r + A[1]!) * r + A[2]!) * r + A[3]!) * r + A[4]!) * r + A[5]!) * q) /
    (((((B[0]! * r + B[1]!) * r + B[2]!) * r + B[3]!) * r + B[4]!) * r + 1)
  );
}

let table: Float64Array | undefined;

/**
 * Inverse-CDF table for u in (0, 1/2): octave k covers [2^-(k+2), 2^-(k+1)) in 256 linear pieces;
 * entry (k, i) = quantile(2^-(k+2) * (1 + i / 256)). Built from exact operations only, so it is the same
 * everywhere; the WebAssembly module gets a copy.
 */
export function normalTable(): Float64Array {
  if (!table) {
    table = new Float64Array(NORMAL_OCTAVES * (NORMAL_PIECES + 1));
    for (let k = 0; k < NORMAL_OCTAVES; k++) {
      const base = 1 / 2 ** (k + 2);
      for (let i = 0; i <= NORMAL_PIECES; i++)
        table[k * (NORMAL_PIECES + 1) + i] = normalQuantile(base * (1 + i / NORMAL_PIECES));
    }
  }
  return table;
}

/** Standard normal from the bits of the op key: sign bit, octave by leading zeros, linear piece by the next bits. */
export function normal(key: number): number {
  const T = table ?? normalTable();
  const r = key >>> 0; // the op key is itself a fresh hash output; the anomaly uses draw 0 = mix32(key + golden)
  let x = r & 0x7fffffff;
  if (x === 0) x = 1;
  const k = Math.clz32(x) - 1;
  const nb = 30 - k;
  const mant = x ^ (1 << nb);
  let idx: number;
  let t = 0;
  if (nb >= 8) {
    idx = mant >>> (nb - 8);
    t = (mant & ((1 << (nb - 8)) - 1)) * POW2_NEG[nb - 8]!;
  } else {
    idx = mant << (8 - nb);
  }
  const p = k * (NORMAL_PIECES + 1) + idx;
  const lo = T[p]!;
  const z = lo + t * (T[p + 1]! - lo);
  return r >>> 31 ? z : -z;
}

/** max(floor, 1 + cv z), times anomalyFactor with probability anomalyProb (draw 0). */
export function factor(key: number, cv: number, floor: number, anomalyProb: number, anomalyFactor: number): number {
  let f = 1;
  if (cv > 0) {
    f = 1 + cv * normal(key);
    if (f < floor) f = floor;
  }
  if (anomalyProb > 0 && uniform(key, 0) < anomalyProb) f *= anomalyFactor;
  return f;
}

/** The duration factor of one op or transfer in one episode. */
export function noiseFactor(
  seed: number,
  episode: number,
  kind: number,
  stage: number,
  mb: number,
  cv: number,
  floor: number,
  anomalyProb: number,
  anomalyFactor: number,
): number {
  return factor(opKey(episodeKey(seed, episode), kind, stage, mb), cv, floor, anomalyProb, anomalyFactor);
}
