// Counter-based noise: the TypeScript twin of assembly/noise.ts, bit for bit.
// The noise of op (kind, stage, micro-batch) in episode e is a pure function of (seed, e, kind, stage, mb),
// so every scheduler meets the same realized durations in the same episode (common random numbers).

/** Noise identities: compute kinds F, B, W; transfers keyed by their sending stage. */
export const NOISE_F = 0;
export const NOISE_B = 1;
export const NOISE_W = 2;
export const NOISE_COMM_F = 3;
export const NOISE_COMM_B = 4;

function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

export function episodeKey(seed: number, episode: number): number {
  return mix32(mix32(seed ^ 0x9e3779b9) ^ episode);
}

export function opKey(epKey: number, kind: number, stage: number, mb: number): number {
  return mix32(mix32(mix32(epKey ^ Math.imul(kind + 1, 0x85ebca6b)) ^ stage) ^ Math.imul(mb + 1, 0xc2b2ae35));
}

function uniform(key: number, j: number): number {
  return mix32((key + Math.imul(j + 1, 0x9e3779b9)) | 0) * 2.3283064365386963e-10 + 1.1641532182693481e-10;
}

const LN2 = 0.6931471805599453;
const SQRT_HALF = 0.7071067811865476;

/** Natural log by exact scaling and a fixed series: the same operations as the WebAssembly side. */
export function ln(x: number): number {
  let k = 0;
  while (x < 0.5) { x *= 2; k -= 1; }
  while (x >= 1) { x *= 0.5; k += 1; }
  if (x < SQRT_HALF) { x *= 2; k -= 1; }
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

/** Standard normal (Marsaglia polar method) from draws 1, 2, ... of the key. */
export function normal(key: number): number {
  for (let j = 1; ; j += 2) {
    const v1 = 2 * uniform(key, j) - 1;
    const v2 = 2 * uniform(key, j + 1) - 1;
    const s = v1 * v1 + v2 * v2;
    if (s < 1 && s > 0) return v1 * Math.sqrt((-2 * ln(s)) / s);
  }
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
  seed: number, episode: number, kind: number, stage: number, mb: number,
  cv: number, floor: number, anomalyProb: number, anomalyFactor: number,
): number {
  return factor(opKey(episodeKey(seed, episode), kind, stage, mb), cv, floor, anomalyProb, anomalyFactor);
}
