// "Did you mean": the known names closest to a misspelt one, for error messages.

/** Levenshtein distance (insertions, deletions and substitutions of one character each cost 1). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The known names within a third of the name's length in edits (at least 2), nearest first; case is ignored. A name
 * that prefixes a known one (e.g. "zb" for zb-h1, zb-h2, ...) matches too.
 */
export function nearestNames(name: string, known: readonly string[], limit = 3): string[] {
  const key = name.toLowerCase();
  const budget = Math.max(2, Math.floor(key.length / 3));
  return known
    .map((k) => ({ k, d: editDistance(k.toLowerCase(), key) }))
    .filter(({ k, d }) => d <= budget || (key.length >= 2 && k.toLowerCase().startsWith(key)))
    .sort((a, b) => a.d - b.d)
    .slice(0, limit)
    .map(({ k }) => k);
}

/** " (did you mean a or b?)" for the nearest names, or "" when none is near. */
export function didYouMean(name: string, known: readonly string[]): string {
  const near = nearestNames(name, known);
  return near.length === 0 ? '' : ` (did you mean ${near.map((k) => `"${k}"`).join(' or ')}?)`;
}
