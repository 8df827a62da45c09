// Every `npx pprl` line of the repository's README runs as written (after the two set-up commands), except the few
// that take minutes, each skipped for a stated reason. The lines run in a scratch directory whose `packages` links
// to the repository's, so that the README's paths resolve and its outputs land outside the repository.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bin } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** Lines too slow for the test suite, and why. */
const SLOW: [RegExp, string][] = [
  [/^npx pprl train /, 'trains for about four minutes'],
  [/^npx pprl evaluate --policy runs\/p4/, 'needs the run the train line makes'],
  [/^npx pprl bench /, 'full benchmark runs (CI smoke-runs every suite with --quick)'],
];

function readmeCommands(): string[] {
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.startsWith('npx pprl '));
}

describe('the README', () => {
  const commands = readmeCommands();

  it('gives its commands as npx pprl (pnpm is not on PATH after the set-up)', () => {
    expect(commands.length).toBeGreaterThanOrEqual(15);
    expect(readme).not.toMatch(/^pnpm pprl/m);
  });

  const dir = mkdtempSync(join(tmpdir(), 'pprl-readme-'));
  symlinkSync(join(root, 'packages'), join(dir, 'packages'));
  for (const line of commands) {
    const slow = SLOW.find(([pattern]) => pattern.test(line));
    it.skipIf(slow !== undefined)(`${line}${slow ? ` (skipped: ${slow[1]})` : ''}`, () => {
      const shell = line.replaceAll('npx pprl ', `"${process.execPath}" "${bin}" `);
      const r = spawnSync('bash', ['-c', shell], { cwd: dir, encoding: 'utf8', timeout: 280_000 });
      expect(r.stderr).not.toMatch(/error/i);
      expect(r.status).toBe(0);
    });
  }
});
