// Files of run directories, checkpoints and whatever else the user names: output directories made without Node's
// recursive mkdir (which loops forever where a parent's mkdir keeps failing with ENOENT, as below /proc), input read
// only from regular files of bounded size (a named pipe or a device is refused rather than read forever), writes
// through a temporary name, and failures of the file system turned into one-line UserErrors that name the path.
// The CLI uses these for every file it reads or writes, too.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { ConfigError, escapeControl, UserError } from '@pprl/core-wasm';

export const MAX_INPUT_MIB = 64;
export const MAX_INPUT_BYTES = MAX_INPUT_MIB * 1024 * 1024;

/** Short explanations of the errors a user can cause or fix (after the code, as Node writes them). */
const EXPLAINED: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
  EBUSY: 'resource busy',
  EIO: 'input/output error',
  ENOTEMPTY: 'directory not empty',
};

/** Characters of a path a message shows whole; a longer one keeps its start and its end. */
const PATH_SHOWN = 120;

/** A path for a one-line message: control characters escaped, the middle of a very long path cut out. */
export function pathText(p: string): string {
  const text = escapeControl(p);
  return text.length <= PATH_SHOWN ? text : `${text.slice(0, 40)}...(${text.length} characters)...${text.slice(-60)}`;
}

/** An error of a file-system call: it carries an errno code and the call's name. */
export type FileError = Error & { code: string; syscall: string };

/** Whether `e` is an error of a file-system call, as opposed to a bug. */
export function isFileError(e: unknown): e is FileError {
  return (
    e instanceof Error &&
    typeof (e as Partial<FileError>).code === 'string' &&
    typeof (e as Partial<FileError>).syscall === 'string'
  );
}

/** "EACCES: permission denied": what a file-system error means, without the call and path Node's message repeats. */
export function fileErrorText(e: unknown): string {
  if (!isFileError(e)) return e instanceof Error ? e.message : String(e);
  const code = e.code;
  const known = EXPLAINED[code];
  if (known) return `${code}: ${known}`;
  // Node's own text: "CODE: explanation, syscall 'path'"
  const m = /^[A-Z0-9_]+: ([^,]+)/.exec(e.message);
  return m ? `${code}: ${m[1]}` : `${code}: ${e.message}`;
}

/** Runs `fn`; a file-system error becomes a UserError `${what}: <explanation>` (other errors pass unchanged). */
export function withFileErrors<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isFileError(e)) throw new UserError(`${what}: ${fileErrorText(e)}`);
    throw e;
  }
}

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

/** Components named as the user wrote the path: relative to the working directory when `dir` is relative. */
const shownAs = (dir: string) => (p: string) => (path.isAbsolute(dir) ? p : path.relative(process.cwd(), p) || '.');

/**
 * The directories `mkdir -p dir` would create, outermost first, or a UserError naming what is in the way (a file,
 * an unreadable parent). Changes nothing: a command checks its output directory with it before long work.
 */
export function missingDirectories(dir: string): string[] {
  const target = path.resolve(dir);
  const shown = shownAs(dir);
  const missing: string[] = [];
  let at = target;
  for (;;) {
    let stats: Stats;
    try {
      stats = statSync(at);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const parent = path.dirname(at);
      if ((code === 'ENOENT' || code === 'ENOTDIR') && parent !== at) {
        missing.push(at);
        at = parent;
        continue;
      }
      throw new UserError(
        `cannot create directory ${pathText(dir)}: ` +
          `${at === target ? '' : `${pathText(shown(at))}: `}${fileErrorText(e)}`,
      );
    }
    if (!stats.isDirectory())
      throw new UserError(
        at === target
          ? `cannot create directory ${pathText(dir)}: EEXIST: it exists and is not a directory`
          : `cannot create directory ${pathText(dir)}: ENOTDIR: ${pathText(shown(at))} is not a directory`,
      );
    return missing.reverse();
  }
}

/**
 * Creates directory `dir` and its missing parents (like `mkdir -p`), or throws a UserError naming `dir` and the part
 * of it that is in the way. Walks up to the nearest existing ancestor, checks that it is a directory, then creates
 * each missing component with a plain mkdir, so it always ends (Node's recursive mkdir spins at 100% CPU when a
 * parent's mkdir keeps answering ENOENT, as it does below /proc). A component created meanwhile by another process
 * (shards of a sweep starting together) is fine.
 */
export function makeDirectory(dir: string): void {
  const target = path.resolve(dir);
  const shown = shownAs(dir);
  for (const component of missingDirectories(dir)) {
    try {
      mkdirSync(component);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statOrUndefined(component)?.isDirectory()) continue;
      throw new UserError(
        `cannot create directory ${pathText(dir)}: ` +
          `${component === target ? '' : `cannot create ${pathText(shown(component))}: `}${fileErrorText(e)}`,
      );
    }
  }
}

/**
 * Writes `data` to `file` through a temporary name beside it and a rename, so a reader never sees half a file; a
 * UserError names the file. The temporary name carries the host as well as the pid: processes on different machines
 * (Kubernetes pods are often all pid 1) may write the same file of a shared directory (sweeps).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing was written there, or it is not ours to remove
    }
    throw new UserError(`cannot write ${pathText(file)}: ${fileErrorText(e)}`);
  }
}

/** Opening a named pipe without O_NONBLOCK waits for a writer; with it the open returns and fstat tells what it is. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

function notRegular(stats: Stats): string {
  if (stats.isDirectory()) return 'it is a directory';
  if (stats.isFIFO()) return 'it is a named pipe (FIFO)';
  if (stats.isCharacterDevice()) return 'it is a character device';
  if (stats.isBlockDevice()) return 'it is a block device';
  if (stats.isSocket()) return 'it is a socket';
  return 'it is not a regular file';
}

/**
 * The text of a regular file of at most `maxBytes`, or why it cannot be read: an errno code (ENOENT, EACCES), not
 * a regular file, or too large. Never blocks on a named pipe or reads a device.
 */
function readRegularBytes(path: string, maxBytes: number): { bytes: Uint8Array } | { reason: string } {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (e) {
    // a socket (ENXIO) or a device that cannot be opened: say what it is rather than the code
    let stats: Stats | undefined;
    try {
      stats = statSync(path, { throwIfNoEntry: false });
    } catch {
      stats = undefined;
    }
    if (stats && !stats.isFile()) return { reason: `${notRegular(stats)}; give a regular file` };
    return { reason: isFileError(e) ? fileErrorText(e) : ((e as NodeJS.ErrnoException).code ?? (e as Error).message) };
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return { reason: `${notRegular(stats)}; give a regular file` };
    const tooLarge = { reason: `it is larger than ${sizeText(maxBytes)} (the limit for an input file)` };
    if (stats.size > maxBytes) return tooLarge;
    // read to the end rather than trust the size (a file being written, or /proc's files of size 0), up to the limit
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(Math.max(stats.size - total, 0) + 65536, maxBytes + 1 - total));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > maxBytes) return tooLarge;
    }
    return { bytes: Buffer.concat(chunks, total) };
  } catch (e) {
    return { reason: isFileError(e) ? fileErrorText(e) : ((e as NodeJS.ErrnoException).code ?? (e as Error).message) };
  } finally {
    closeSync(fd);
  }
}

/**
 * The text of a regular file of at most `maxBytes` (from byte `fromByte` on), or why it cannot be read: an errno
 * code with its meaning (ENOENT, EACCES), not a regular file, or too large. Never blocks on a named pipe or reads a
 * device.
 */
export function readRegularFile(
  path: string,
  maxBytes = MAX_INPUT_BYTES,
  fromByte = 0,
): { text: string } | { reason: string } {
  const read = readRegularBytes(path, maxBytes);
  return 'bytes' in read ? { text: textOf(read.bytes, fromByte) } : read;
}

function sizeText(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

/**
 * Reads a file the user named: `what` names it in the one-line error (`cannot read schedule file f.csv: it is a
 * named pipe (FIFO); give a regular file`), put on `field` (a flag such as --config) when given.
 */
export function readUserFile(path: string, what: string, field?: string): string {
  const read = readRegularFile(path);
  if ('text' in read) return read.text;
  const message = `cannot read ${what} ${pathText(path)}: ${read.reason}`;
  throw field === undefined ? new UserError(message) : new ConfigError(field, message);
}

/** The bytes of `file`; a UserError `cannot read <what> <file>: ...` when it is not a readable regular file. */
export function readFileChecked(file: string, what = 'file', maxBytes = MAX_INPUT_BYTES): Uint8Array {
  const read = readRegularBytes(file, maxBytes);
  if ('bytes' in read) return read.bytes;
  throw new UserError(`cannot read ${what} ${pathText(file)}: ${read.reason}`);
}

/** The text of `file` (UTF-8), as readFileChecked. */
export function readTextChecked(file: string, what = 'file', maxBytes = MAX_INPUT_BYTES): string {
  return textOf(readFileChecked(file, what, maxBytes));
}

function textOf(bytes: Uint8Array, fromByte = 0): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + fromByte, Math.max(0, bytes.byteLength - fromByte)).toString(
    'utf8',
  );
}
