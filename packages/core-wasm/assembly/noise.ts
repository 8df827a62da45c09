// Counter-based noise (docs/SEMANTICS.md section 2), mirrored exactly by src/noise.ts.
// Only 32-bit integer ops and IEEE-exact f64 ops (+ - * / sqrt) are used, so WebAssembly and
// the TypeScript reference produce bit-identical streams (no libm transcendental functions).
import { HASH_GOLDEN, HASH_KIND, HASH_MB, NORMAL_PIECES, UNIT_OFFSET, UNIT_SCALE } from './contract';

// @ts-ignore: decorator
@inline
export function mix32(x: u32): u32 {
  x ^= x >> 16;
  x *= 0x7feb352d;
  x ^= x >> 15;
  x *= 0x846ca68b;
  x ^= x >> 16;
  return x;
}

export function episodeKey(seed: u32, episode: u32): u32 {
  return mix32(mix32(seed ^ HASH_GOLDEN) ^ episode);
}

/** The key of (kind, stage) in an episode; hot loops compute it once per episode. */
// @ts-ignore: decorator
@inline
export function stageKey(epKey: u32, kind: u32, stage: u32): u32 {
  return mix32(mix32(epKey ^ ((kind + 1) * HASH_KIND)) ^ stage);
}

// @ts-ignore: decorator
@inline
export function mbKey(stageKey: u32, mb: u32): u32 {
  return mix32(stageKey ^ ((mb + 1) * HASH_MB));
}

// @ts-ignore: decorator
@inline
export function opKey(epKey: u32, kind: u32, stage: u32, mb: u32): u32 {
  return mbKey(stageKey(epKey, kind, stage), mb);
}

/** A 32-bit hash output as a uniform in (0, 1): never 0, never 1. */
// @ts-ignore: decorator
@inline
export function toUnit(h: u32): f64 {
  return <f64>h * UNIT_SCALE + UNIT_OFFSET;
}

/** Uniform draw j of a key (the anomaly draw of an op, the draws of the problem generator). */
// @ts-ignore: decorator
@inline
export function uniform(key: u32, j: u32): f64 {
  return toUnit(mix32(key + (j + 1) * HASH_GOLDEN));
}

// Standard normal by inverse-CDF table lookup. The table (built in TypeScript, src/noise.ts, and copied in once)
// covers u in (0, 1/2) octave by octave, 256 linear pieces per octave, down to u = 2^-32.
let normalTable: usize = 0;

export function setNormalTable(ptr: usize): void {
  normalTable = ptr;
}

// @ts-ignore: decorator
@inline
export function normal(key: u32): f64 {
  const r = key; // the op key is itself a fresh hash output; the anomaly uses draw 0 = mix32(key + golden)
  let x = r & 0x7fffffff;
  if (x == 0) x = 1;
  const k = <i32>clz<u32>(x) - 1; // octave: u in [2^-(k+2), 2^-(k+1))
  const nb = 30 - k; // mantissa bits below the leading one
  const mant = x ^ (<u32>1 << nb);
  let idx: u32;
  let t: f64 = 0;
  if (nb >= 8) {
    idx = mant >> (nb - 8);
    // multiply by the exact power of two 2^-(nb-8)
    t = <f64>(mant & ((<u32>1 << (nb - 8)) - 1)) * reinterpret<f64>(<u64>(1023 - (nb - 8)) << 52);
  } else {
    idx = mant << (8 - nb);
  }
  const p = normalTable + ((<usize>(k * (NORMAL_PIECES + 1) + idx)) << 3);
  const lo = load<f64>(p);
  const z = lo + t * (load<f64>(p, 8) - lo);
  // r >> 31 ? z : -z, as a flip of the sign bit (what negation is) instead of an unpredictable branch
  return reinterpret<f64>(reinterpret<u64>(z) ^ (<u64>((r >> 31) ^ 1) << 63));
}

// @ts-ignore: decorator
@inline
/** Multiplicative duration factor: max(floor, 1 + cv z), times `anomalyFactor` with probability `anomalyProb`. */
export function factor(key: u32, cv: f64, floor: f64, anomalyProb: f64, anomalyFactor: f64): f64 {
  let f: f64 = 1;
  if (cv > 0) {
    f = 1 + cv * normal(key);
    if (f < floor) f = floor;
  }
  if (anomalyProb > 0 && uniform(key, 0) < anomalyProb) f *= anomalyFactor;
  return f;
}

/** Exposed for differential tests of the noise stream. */
export function noiseFactor(
  seed: u32, episode: u32, kind: u32, stage: u32, mb: u32,
  cv: f64, floor: f64, anomalyProb: f64, anomalyFactor: f64,
): f64 {
  return factor(opKey(episodeKey(seed, episode), kind, stage, mb), cv, floor, anomalyProb, anomalyFactor);
}
