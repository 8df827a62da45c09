// One process trains a run at a time: a lock file created exclusively (O_EXCL, which NFS v3+ honours) in the run
// directory, naming the host and the processes holding it. A lock is stale, and taken over, when its processes are
// gone (same host) or, seen from another host, when its heartbeat has stopped for STALE_MS: so a rerun after a crash,
// a requeued Slurm task or a replaced Kubernetes pod picks the run up, while two live sweeps never train it twice.
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError } from '@pprl/core-wasm';
import { fileErrorText, readRegularFile } from '@pprl/rl';
import { writeFileAtomic } from '../output.js';
import { LOCK_FILE } from './files.js';

export const HEARTBEAT_MS = 30_000;
export const STALE_MS = 5 * 60_000;

interface LockOwner {
  host: string;
  /** The sweep process. */
  pid: number;
  /** Its `pprl train` child, once started (it may outlive a killed sweep process). */
  child?: number;
  since: string;
}

export interface RunLock {
  /** Records the training process, which keeps the lock alive should the sweep process die first. */
  setChild(pid: number): void;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock's text if it is stale (its holder is gone), else undefined. */
function staleText(path: string): string | undefined {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
    const read = readRegularFile(path);
    if (!('text' in read)) return undefined;
    text = read.text;
  } catch {
    // vanished: look again next time
    return undefined;
  }
  let owner: Partial<LockOwner>;
  try {
    owner = JSON.parse(text) as Partial<LockOwner>;
  } catch {
    // being written (its creator writes right after creating it), or torn by a crash: judge by its age
    return Date.now() - mtimeMs > STALE_MS ? text : undefined;
  }
  if (owner.host === hostname())
    return [owner.pid, owner.child].some((pid) => typeof pid === 'number' && alive(pid)) ? undefined : text;
  return Date.now() - mtimeMs > STALE_MS ? text : undefined;
}

/**
 * Moves a stale lock out of the way. Two processes may judge the same lock stale at once: each moves whatever lock
 * is there to its own name and checks that it moved the one it judged; the loser puts back the lock it took (with
 * link, which never overwrites) and gives up.
 */
function removeStale(path: string, judged: string): boolean {
  const grave = `${path}.stale.${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, grave);
  } catch {
    return false;
  }
  const read = readRegularFile(grave);
  const moved = 'text' in read ? read.text : undefined;
  if (moved !== judged) {
    try {
      linkSync(grave, path);
    } catch {
      // someone has created a fresh lock meanwhile; theirs stands
    }
    rmSync(grave, { force: true });
    return false;
  }
  rmSync(grave, { force: true });
  return true;
}

/** Takes the run's lock, or returns undefined if a live process holds it. */
export function acquireLock(dir: string): RunLock | undefined {
  const path = join(dir, LOCK_FILE);
  const owner: LockOwner = { host: hostname(), pid: process.pid, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new UserError(`cannot create the lock file ${path}: ${fileErrorText(e)}`);
      const judged = attempt === 0 ? staleText(path) : undefined;
      if (judged === undefined || !removeStale(path, judged)) return undefined;
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(owner)}\n`);
    } catch (e) {
      closeSync(fd);
      rmSync(path, { force: true });
      throw new UserError(`cannot write the lock file ${path}: ${fileErrorText(e)}`);
    }
    closeSync(fd);
    const heartbeat = setInterval(() => {
      try {
        const now = new Date();
        utimesSync(path, now, now);
      } catch {
        // a missing lock is noticed by whoever takes it over; nothing to do here
      }
    }, HEARTBEAT_MS);
    heartbeat.unref();
    return {
      setChild(pid) {
        owner.child = pid;
        try {
          writeFileAtomic(path, `${JSON.stringify(owner)}\n`);
        } catch {
          // best effort: the lock still names this process, which outlives the training unless killed with it
        }
      },
      release() {
        clearInterval(heartbeat);
        rmSync(path, { force: true });
      },
    };
  }
  return undefined;
}
