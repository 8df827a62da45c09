// Shared by the CLI tests: run the built command as a user would, and check a user error's one line.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const bin = fileURLToPath(new URL('../bin/pprl.js', import.meta.url));

export interface PprlRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function pprl(...args: string[]): PprlRun {
  return pprlWithEnv(args);
}

/** The same with extra environment variables (e.g. a job array's task index). */
export function pprlWithEnv(args: string[], env: NodeJS.ProcessEnv = {}): PprlRun {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit code 2, one line on stderr matching `pattern`, no stack trace. */
export function expectUserError(r: PprlRun, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
}
