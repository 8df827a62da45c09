// A fuzz worker thread: runs cases in-process by calling the CLI's main(argv), with process.stdout and
// process.stderr writes captured, and reports for each case its exit code, output, uncaught errors and what it
// left in its directory. The main thread classifies (classify.mjs) and enforces the time limit.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
  cpSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { Capture } from './capture.mjs';

const { casesDir, fixturesDir, repo, keep, retireAfter } = workerData;
const { main } = await import('@pprl/cli');

// ---- output capture -------------------------------------------------------------------------------------------
let current = null;
for (const [stream, which] of [
  [process.stdout, 'stdout'],
  [process.stderr, 'stderr'],
]) {
  stream.write = function write(chunk, encoding, cb) {
    if (typeof encoding === 'function') [cb, encoding] = [encoding, undefined];
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (current) current[which].add(text);
    if (typeof cb === 'function') process.nextTick(cb);
    return true;
  };
}

// errors nobody caught: part of the running case (or of the previous one, if it left work behind)
let stray = [];
const describe = (e) =>
  e instanceof Error
    ? `${e.name}: ${e.message}\n${(e.stack ?? '').split('\n').slice(1, 8).join('\n')}`
    : `non-error thrown: ${String(e)}`;
process.on('uncaughtException', (e) => (current ? current.uncaught : stray).push(`uncaughtException: ${describe(e)}`));
process.on('unhandledRejection', (e) =>
  (current ? current.uncaught : stray).push(`unhandledRejection: ${describe(e)}`),
);

// ---- the case directory -------------------------------------------------------------------------------------------
/** Replaces the path placeholders of the generators. */
function substitute(text, dir) {
  return text
    .replaceAll('$CASE', dir)
    .replaceAll('$FIXTURES', fixturesDir)
    .replaceAll('$REPO', repo.replace(/\/$/, ''));
}

/** Writes back the placeholders into output, so that messages compare across cases. */
function unsubstitute(text, dir) {
  return text
    .replaceAll(dir, '$CASE')
    .replaceAll(fixturesDir, '$FIXTURES')
    .replaceAll(repo.replace(/\/$/, ''), '$REPO');
}

function copySource(from) {
  if (from === '@run') return join(fixturesDir, 'run');
  if (from === '@sweep') return join(fixturesDir, 'sweep');
  if (from.startsWith('@bundled:')) return join(repo, 'packages/rl/checkpoints', from.slice('@bundled:'.length));
  throw new Error(`fuzz: unknown copy source ${from}`);
}

/** Applies the file operations of a case inside its directory. */
function prepare(dir, ops) {
  for (const o of ops) {
    const p = join(dir, o.path);
    if (relative(dir, p).startsWith('..'))
      throw new Error(`fuzz: file operation outside the case directory: ${o.path}`);
    mkdirSync(dirname(p), { recursive: true });
    switch (o.op) {
      case 'write':
        rmSync(p, { recursive: true, force: true });
        writeFileSync(p, o.base64 !== undefined ? Buffer.from(o.base64, 'base64') : o.text);
        break;
      case 'mkdir':
        mkdirSync(p, { recursive: true });
        break;
      case 'rm':
        rmSync(p, { recursive: true, force: true });
        break;
      case 'truncate':
        if (existsSync(p) && statSync(p).isFile()) truncateSync(p, o.length);
        break;
      case 'fill':
        if (existsSync(p) && statSync(p).isFile()) {
          const n = Math.floor(statSync(p).size / 4);
          writeFileSync(p, Buffer.from(new Float32Array(n).fill(o.float).buffer));
        }
        break;
      case 'symlink':
        rmSync(p, { force: true });
        symlinkSync(o.target, p);
        break;
      case 'copy':
        cpSync(copySource(o.from), p, { recursive: true });
        break;
      default:
        throw new Error(`fuzz: unknown file operation ${o.op}`);
    }
  }
}

/** Every entry of a tree (symlinks not followed): path -> { size, mtime, dir }. */
function snapshot(dir) {
  const out = new Map();
  const walk = (d, depth) => {
    let names;
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(d, name);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      out.set(relative(dir, p), { size: st.size, mtime: st.mtimeMs, dir: st.isDirectory() });
      if (st.isDirectory() && depth < 8) walk(p, depth + 1);
    }
  };
  walk(dir, 0);
  return out;
}

const TMP_NAME = /\.tmp($|[.-])|\.partial$|~$/i;

/** Whether a JSON (or JSON lines: its last line) file parses; undefined for other files and unreadable ones. */
function jsonValid(file, size) {
  if (!/\.jsonl?$/.test(file) || size >= 8 << 20) return undefined;
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const doc = file.endsWith('.jsonl')
    ? (text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .pop() ?? '')
    : text;
  try {
    JSON.parse(doc);
    return true;
  } catch {
    return false;
  }
}

/**
 * The JSON files of a snapshot that parse (before the case ran: a file the case itself corrupted is not a leftover).
 */
function validJson(dir, snap) {
  const out = new Set();
  for (const [path, e] of snap) if (!e.dir && jsonValid(join(dir, path), e.size)) out.add(path);
  return out;
}

/**
 * What a case wrote: temporary names left behind, and files that are new or changed and now empty or cut-off
 * JSON (a changed file only if it was whole before).
 */
function leftovers(dir, before, after, wholeBefore) {
  const tmp = [];
  const partial = [];
  for (const [path, e] of after) {
    if (TMP_NAME.test(basename(path))) tmp.push(path);
    const old = before.get(path);
    if (e.dir || (old && old.size === e.size && old.mtime === e.mtime)) continue;
    if (old && old.size > 0 && !old.dir && /\.jsonl?$/.test(path) && !wholeBefore.has(path)) continue;
    if (e.size === 0) {
      if (!old || old.size > 0) partial.push(`${path} (empty)`);
      continue;
    }
    if (jsonValid(join(dir, path), e.size) === false)
      partial.push(`${path} (${path.endsWith('.jsonl') ? 'last line is not' : 'not'} valid JSON, ${e.size} bytes)`);
  }
  return { tmp, partial };
}

// ---- running a case -------------------------------------------------------------------------------------------------
const WATCHED_EVENTS = ['SIGINT', 'SIGTERM', 'exit', 'beforeExit'];

async function runCase(c) {
  const dir = join(casesDir, String(c.index));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  prepare(dir, c.files);
  const before = snapshot(dir);
  const wholeBefore = validJson(dir, before);
  const argv = c.argv.map((a) => substitute(a, dir));
  const savedEnv = {};
  for (const [k, v] of Object.entries(c.env ?? {})) {
    savedEnv[k] = process.env[k];
    process.env[k] = v;
  }
  const listeners = {
    stdout: process.stdout.listeners('error'),
    stderr: process.stderr.listeners('error'),
    ...Object.fromEntries(WATCHED_EVENTS.map((e) => [e, process.listeners(e)])),
  };
  process.exitCode = undefined;
  current = { stdout: new Capture(), stderr: new Capture(), uncaught: stray };
  stray = [];
  const started = performance.now();
  let returned;
  try {
    returned = await main(['node', 'pprl', ...argv]);
  } catch (e) {
    // main() catches everything itself: this would be a bug of main
    current.uncaught.push(`main() rejected: ${describe(e)}`);
  }
  // let work that the command left running report its errors on this case
  await new Promise((r) => setImmediate(r));
  const ms = performance.now() - started;
  const exitCodeSet = process.exitCode;
  const code = returned || exitCodeSet || 0;
  const captured = current;
  current = null;

  // undo what the call changed in the process
  process.exitCode = undefined;
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  for (const [stream, name] of [
    [process.stdout, 'stdout'],
    [process.stderr, 'stderr'],
  ])
    for (const l of stream.listeners('error')) if (!listeners[name].includes(l)) stream.off('error', l);
  const leaked = [];
  for (const e of WATCHED_EVENTS)
    for (const l of process.listeners(e))
      if (!listeners[e].includes(l)) {
        process.off(e, l);
        leaked.push(e);
      }
  const polluted = Object.keys(Object.prototype).concat(Object.keys(Array.prototype));
  for (const k of Object.keys(Object.prototype)) delete Object.prototype[k];
  for (const k of Object.keys(Array.prototype)) delete Array.prototype[k];

  const { tmp, partial } = leftovers(dir, before, snapshot(dir), wholeBefore);
  if (!keep) rmSync(dir, { recursive: true, force: true });
  const un = (t) => unsubstitute(t, dir);
  return {
    code,
    returned: returned ?? null,
    exitCodeSet: exitCodeSet ?? null,
    ms,
    stdout: captured.stdout.result(un),
    stderr: captured.stderr.result(un),
    uncaught: captured.uncaught.map(un),
    polluted,
    leakedListeners: leaked,
    tmp,
    partial,
  };
}

let done = 0;
parentPort.on('message', async (msg) => {
  if (msg.type !== 'case') return;
  let result;
  try {
    result = await runCase(msg.case);
  } catch (e) {
    result = { harnessError: describe(e) };
  }
  done++;
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
  // a fresh worker now and then: whatever the commands keep (caches, tensors, wasm memory) does not pile up
  const retire = done >= retireAfter || heapMb > 900 || (result.uncaught?.length ?? 0) > 0;
  parentPort.postMessage({ type: 'result', index: msg.case.index, result, retire });
});
parentPort.postMessage({ type: 'ready' });
