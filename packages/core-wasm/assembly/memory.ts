// Accessors of the flat memory blocks every engine module works on (replay.ts, env/*, mlp.ts): element i of a
// typed block at a byte address, bit sets of u64 words, and the rounding the block layouts use. All @inline, so
// the hot loops compile to plain loads and stores (no calls, no allocation).

// @ts-ignore: decorator
@inline export function f64At(base: usize, i: i32): f64 { return load<f64>(base + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline export function setF64(base: usize, i: i32, v: f64): void { store<f64>(base + (<usize>i << 3), v); }
// @ts-ignore: decorator
@inline export function i32At(base: usize, i: i32): i32 { return load<i32>(base + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline export function setI32(base: usize, i: i32, v: i32): void { store<i32>(base + (<usize>i << 2), v); }
// @ts-ignore: decorator
@inline export function u8At(base: usize, i: i32): i32 { return <i32>load<u8>(base + <usize>i); }
// @ts-ignore: decorator
@inline export function setU8(base: usize, i: i32, v: i32): void { store<u8>(base + <usize>i, <u8>v); }
// @ts-ignore: decorator
@inline export function u64At(base: usize, i: i32): u64 { return load<u64>(base + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline export function setU64(base: usize, i: i32, v: u64): void { store<u64>(base + (<usize>i << 3), v); }
/** Stores v rounded to f32 (observations, rewards). */
// @ts-ignore: decorator
@inline export function setF32(base: usize, i: i32, v: f64): void { store<f32>(base + (<usize>i << 2), <f32>v); }

/** Address of element i of a block of 8-byte elements (f64, u64). */
// @ts-ignore: decorator
@inline export function ptr64(base: usize, i: i32): usize { return base + (<usize>i << 3); }
/** Address of element i of a block of 4-byte elements (i32, u32, f32). */
// @ts-ignore: decorator
@inline export function ptr32(base: usize, i: i32): usize { return base + (<usize>i << 2); }

/** n rounded up to a multiple of 8 (every block of a layout starts 8-aligned). */
// @ts-ignore: decorator
@inline export function align8(n: usize): usize { return (n + 7) & ~(<usize>7); }

/** u64 words of a bit set of n bits. */
// @ts-ignore: decorator
@inline export function bitWords(n: i32): i32 { return (n + 63) >> 6; }

/** Sets bit d of the bit set at `words`. */
// @ts-ignore: decorator
@inline export function setBit(words: usize, d: i32): void {
  const a = words + (<usize>(d >> 6) << 3);
  store<u64>(a, load<u64>(a) | (<u64>1 << <u64>(d & 63)));
}

/** Clears bit d of the bit set at `words`. */
// @ts-ignore: decorator
@inline export function clearBit(words: usize, d: i32): void {
  const a = words + (<usize>(d >> 6) << 3);
  store<u64>(a, load<u64>(a) & ~(<u64>1 << <u64>(d & 63)));
}

/** Bit d of the bit set at `words`, as 0 or 1. */
// @ts-ignore: decorator
@inline export function bitAt(words: usize, d: i32): u64 {
  return (load<u64>(words + (<usize>(d >> 6) << 3)) >> <u64>(d & 63)) & 1;
}

/**
 * Clears the lowest set bit of the u64 word at `word` and returns its index, or -1 when the word is 0: visits a
 * word's members in ascending order, including ones set while the visit goes on.
 */
// @ts-ignore: decorator
@inline export function takeLowest(word: usize): i32 {
  const pending = load<u64>(word);
  if (pending == 0) return -1;
  store<u64>(word, pending & (pending - 1));
  return <i32>ctz(pending);
}

/** Bit f of a byte-addressed bit set (the environment's input flags), as 0 or 1. */
// @ts-ignore: decorator
@inline export function flagAt(flags: usize, f: i32): i32 {
  return (<i32>load<u8>(flags + <usize>(f >> 3)) >> (f & 7)) & 1;
}

/** Sets bit f of a byte-addressed bit set. */
// @ts-ignore: decorator
@inline export function setFlag(flags: usize, f: i32): void {
  const a = flags + <usize>(f >> 3);
  store<u8>(a, <u8>(<i32>load<u8>(a) | (1 << (f & 7))));
}
