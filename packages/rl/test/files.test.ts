// Output directories and file errors: makeDirectory always ends and names the path in the way; file-system failures
// of run directories and checkpoints are one-line UserErrors naming the file.
import { UserError } from '@pprl/core-wasm';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledPolicyDir } from '../src/bundled.js';
import { loadCheckpoint } from '../src/checkpoint.js';
import { loadPolicy } from '../src/evaluate.js';
import { makeDirectory, writeFileAtomic } from '../src/files.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'pprl-files-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const asRoot = process.getuid?.() === 0;

/** The thrown error's message, which must be a UserError of one line. */
function userError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    const message = (e as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    return message;
  }
  throw new Error('expected a UserError');
}

describe('makeDirectory', () => {
  it('creates missing parents, and accepts an existing directory', () => {
    const dir = path.join(root, 'a', 'b', 'c');
    makeDirectory(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
    makeDirectory(dir);
    makeDirectory(root);
  });

  it('names an existing file, or the file below which the directory was asked for', () => {
    const file = path.join(root, 'file');
    writeFileSync(file, 'x');
    expect(userError(() => makeDirectory(file))).toBe(
      `cannot create directory ${file}: EEXIST: it exists and is not a directory`,
    );
    expect(userError(() => makeDirectory(path.join(file, 'x', 'y')))).toBe(
      `cannot create directory ${path.join(file, 'x', 'y')}: ENOTDIR: ${file} is not a directory`,
    );
    expect(existsSync(path.join(file, 'x'))).toBe(false);
  });

  it.skipIf(asRoot)('names a directory it may not write (as a user other than root)', () => {
    const locked = path.join(root, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    try {
      expect(userError(() => makeDirectory(path.join(locked, 'run')))).toMatch(
        /^cannot create directory .*locked\/run: EACCES: permission denied$/,
      );
    } finally {
      chmodSync(locked, 0o755);
    }
  });

  // in a child process with a timeout: Node's recursive mkdir spins forever below /proc, and a synchronous loop
  // cannot be stopped from inside the test
  it.skipIf(!existsSync('/proc'))(
    'ends below /proc, where each mkdir of a missing parent answers ENOENT',
    () => {
      const files = fileURLToPath(new URL('../dist/files.js', import.meta.url));
      const script =
        `import { makeDirectory } from ${JSON.stringify(files)}; try { ` +
        `makeDirectory('/proc/nonexistent/x'); } catch (e) { console.log(e.name + ': ' + e.message); }`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.error).toBeUndefined();
      expect(r.stdout.trim()).toBe(
        'UserError: cannot create directory /proc/nonexistent/x: cannot create /proc/nonexistent: ENOENT: no such ' +
          'file or directory',
      );
    },
    60_000,
  );
});

describe('file errors of run directories and checkpoints', () => {
  it('writeFileAtomic names the file it cannot write and leaves no temporary behind', () => {
    const dir = path.join(root, 'run');
    mkdirSync(path.join(dir, 'config.json'), { recursive: true });
    expect(userError(() => writeFileAtomic(path.join(dir, 'config.json'), '{}'))).toMatch(
      /^cannot write .*run\/config\.json: EISDIR: is a directory$/,
    );
    expect(userError(() => writeFileAtomic(path.join(root, 'missing', 'x.json'), '{}'))).toMatch(
      /^cannot write .*missing\/x\.json: ENOENT: /,
    );
  });

  it('a checkpoint file that is a directory, or unreadable, is named', () => {
    const ckpt = path.join(root, 'policy');
    cpSync(bundledPolicyDir('h200-6.2b-p4-m16-v1'), ckpt, { recursive: true });
    loadPolicy(ckpt);
    rmSync(path.join(ckpt, 'params.bin'));
    mkdirSync(path.join(ckpt, 'params.bin'));
    expect(userError(() => loadPolicy(ckpt))).toBe(
      `cannot read checkpoint file ${path.join(ckpt, 'params.bin')}: it is a directory; give a regular file`,
    );
    rmSync(path.join(ckpt, 'meta.json'));
    mkdirSync(path.join(ckpt, 'meta.json'));
    expect(userError(() => loadCheckpoint(ckpt, false))).toBe(
      `cannot read checkpoint file ${path.join(ckpt, 'meta.json')}: it is a directory; give a regular file`,
    );
    const file = path.join(root, 'not-a-checkpoint');
    writeFileSync(file, 'x');
    expect(userError(() => loadPolicy(file))).toMatch(/^no checkpoint at .*not-a-checkpoint: it is a file/);
  });
});
