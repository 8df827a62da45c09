// Parsed input the user wrote (sweep files, schedule JSON) is checked for depth before anything walks it
// recursively. Reading such files (regular files only, bounded size) is readUserFile of @pprl/rl.
export { readUserFile, readRegularFile, MAX_INPUT_MIB, MAX_INPUT_BYTES } from '@pprl/rl';
/** Levels of lists and objects a parsed input file may nest (a training config needs 4). */
export const MAX_NESTING = 64;

/**
 * Whether a parsed value nests lists and objects more than `limit` levels deep, found without recursion (a file of
 * 100,000 `[` would overflow the stack of anything that walks it recursively: validation, hashing, cloning, printing).
 */
export function nestsDeeperThan(value: unknown, limit = MAX_NESTING): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v))
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

/** Whether an error is the JavaScript stack running out (a parser that recursed into deeply nested input). */
export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}
