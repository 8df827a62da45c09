// Writing results: tables for people, JSON for machines, files written atomically.
import { dirname } from 'node:path';
import Table from 'cli-table3';
import { makeDirectory, writeFileAtomic as writeFileInPlace } from '@pprl/rl';

/** Writes a file atomically (@pprl/rl's writeFileAtomic), creating its directory first. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  makeDirectory(dirname(path));
  writeFileInPlace(path, data);
}

export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const r of rows) t.push(r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  return t.toString();
}

/** Numbers for people: 4 significant digits, no exponent for everyday magnitudes. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return x.toFixed(0);
  if (a >= 1) return x.toPrecision(4);
  if (a === 0) return '0';
  return x.toPrecision(3);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
