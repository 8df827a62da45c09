// Files of a sweep directory, which several machines may write at once on a shared filesystem:
//
//   <out>/sweep.json                      the expanded plan (every run's id, varied settings and full config)
//   <out>/runs/<id>/train-config.json     the config the sweep hands to `pprl train`
//   <out>/runs/<id>/...                   a `pprl train` run directory (config.json, log.jsonl, checkpoints,
//                                         result.json)
//   <out>/runs/<id>/sweep-sessions.jsonl  one line when the sweep starts a training session of the run, one when it
//                                         ends
//   <out>/runs/<id>/train.log             what those sessions printed
//   <out>/runs/<id>/sweep.lock            present while a sweep process trains the run
//   <out>/report.csv, report.md, report.html   written by `pprl sweep report`
import { closeSync, constants, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { readRegularFile } from '../input-files.js';

export const PLAN_FILE = 'sweep.json';
export const RUNS_DIR = 'runs';
export const TRAIN_CONFIG_FILE = 'train-config.json';
export const SESSIONS_FILE = 'sweep-sessions.jsonl';
export const TRAIN_LOG_FILE = 'train.log';
export const LOCK_FILE = 'sweep.lock';

export const runDir = (out: string, id: string) => join(out, RUNS_DIR, id);

/**
 * Parsed JSON of a file, or undefined when it is missing, (being written by another process) not valid yet, or not a
 * regular file of at most 64 MiB (a named pipe put in a sweep directory is not waited on).
 */
export function readJsonIfValid(path: string): unknown {
  const read = readRegularFile(path);
  if (!('text' in read)) return undefined;
  try {
    return JSON.parse(read.text);
  } catch {
    return undefined;
  }
}

/** Updates done by a train run directory's latest checkpoint (0 without one). */
export function checkpointIteration(dir: string): number {
  const latest = readJsonIfValid(join(dir, 'latest.json')) as { iteration?: unknown } | undefined;
  return typeof latest?.iteration === 'number' ? latest.iteration : 0;
}

/** A run is finished when `pprl train` has written its result.json (atomically, only at the end). */
export function isFinished(dir: string): boolean {
  return existsSync(join(dir, 'result.json'));
}

/** The last complete line of a file that is being appended to, read from its end (cheap on long logs). */
export function lastLine(path: string, maxBytes = 16384): string | undefined {
  let fd: number;
  try {
    // non-blocking: opening a named pipe in place of a log must not wait for a writer
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return undefined;
    const size = stats.size;
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    const lines = buf.toString('utf8').split('\n');
    lines.pop(); // after the last newline: empty, or a line still being written
    return lines.pop();
  } finally {
    closeSync(fd);
  }
}

/** A training log's limit: far above any log `pprl train` writes, below the longest string Node can make. */
const MAX_LOG_BYTES = 256 * 1024 * 1024;

/**
 * Lines of a JSON-lines file that parse (a trailing line still being written is skipped); none unless a regular
 * file.
 */
export function readJsonLines(path: string): unknown[] {
  const read = readRegularFile(path, MAX_LOG_BYTES);
  if (!('text' in read)) return [];
  const text = read.text;
  const out: unknown[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a partial last line of a run that is still writing
    }
  }
  return out;
}
