// Counter-based noise, mirrored exactly by src/noise.ts.
// Only 32-bit integer ops and IEEE-exact f64 ops (+ - * / sqrt) are used, so WebAssembly and
// the TypeScript reference produce bit-identical streams (no libm transcendental functions).

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
  return mix32(mix32(seed ^ 0x9e3779b9) ^ episode);
}

// @ts-ignore: decorator
@inline
export function opKey(epKey: u32, kind: u32, stage: u32, mb: u32): u32 {
  return mix32(mix32(mix32(epKey ^ ((kind + 1) * 0x85ebca6b)) ^ stage) ^ ((mb + 1) * 0xc2b2ae35));
}

// @ts-ignore: decorator
@inline
function uniform(key: u32, j: u32): f64 {
  // in (0, 1): never 0, never 1
  return <f64>mix32(key + (j + 1) * 0x9e3779b9) * 2.3283064365386963e-10 + 1.1641532182693481e-10;
}

const LN2: f64 = 0.6931471805599453;
const SQRT_HALF: f64 = 0.7071067811865476;

/** Natural log for x in (0, inf), written with exact scaling and a fixed series. */
export function ln(x: f64): f64 {
  let k: f64 = 0;
  while (x < 0.5) { x *= 2; k -= 1; }
  while (x >= 1) { x *= 0.5; k += 1; }
  if (x < SQRT_HALF) { x *= 2; k -= 1; }
  const f = (x - 1) / (x + 1);
  const f2 = f * f;
  let p: f64 = 1.0 / 23.0;
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

/** Standard normal by the Marsaglia polar method; draws 1, 2, ... of the key (draw 0 is the anomaly). */
export function normal(key: u32): f64 {
  let j: u32 = 1;
  while (true) {
    const v1 = 2 * uniform(key, j) - 1;
    const v2 = 2 * uniform(key, j + 1) - 1;
    j += 2;
    const s = v1 * v1 + v2 * v2;
    if (s < 1 && s > 0) return v1 * Math.sqrt(-2 * ln(s) / s);
  }
  return 0;
}

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
