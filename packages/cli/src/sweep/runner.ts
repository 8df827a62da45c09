// Runs the trainings of a sweep (or of one shard of it) on this machine: at most `workers` `pprl train` processes at
// once, each single-threaded, each resuming its run directory. A finished run (train's result.json) is never
// started again; any other run continues from its latest checkpoint, so rerunning the same command after a crash
// or an interruption completes the sweep.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, openSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SingleBar } from 'cli-progress';
import { makeDirectory, MAX_INPUT_BYTES, readRegularFile, withFileErrors } from '@pprl/rl';
import { fmt, writeFileAtomic } from '../output.js';
import {
  checkpointIteration,
  isFinished,
  lastLine,
  readJsonIfValid,
  runDir,
  SESSIONS_FILE,
  TRAIN_CONFIG_FILE,
  TRAIN_LOG_FILE,
} from './files.js';
import { acquireLock } from './lock.js';
import type { PlannedRun } from './plan.js';

/** The command this package installs; the sweep starts it for every training. */
const CLI = fileURLToPath(new URL('../../bin/pprl.js', import.meta.url));
/** How often runs held by another process are looked at again. */
const HELD_POLL_MS = 2000;

export interface Shard {
  index: number;
  count: number;
}

export type Display = 'bar' | 'lines' | 'none';

export interface RunnerOptions {
  out: string;
  /** The runs of this shard, in plan order. */
  runs: PlannedRun[];
  workers: number;
  shard: Shard | null;
  /** A progress bar (a person at a terminal), a line per event (logs of batch jobs), or nothing (--json). */
  display: Display;
}

export interface FailedRun {
  id: string;
  exitCode: number | null;
  signal: string | null;
  /** The last line the training printed. */
  message: string;
  log: string;
}

export interface SweepOutcome {
  /** Runs of this shard. */
  runs: number;
  /** Finished before this command started. */
  alreadyFinished: number;
  /** Trained to the end by this command. */
  trained: string[];
  /** Finished meanwhile by another process sharing the directory. */
  finishedElsewhere: string[];
  failed: FailedRun[];
  /** Not finished because the command was interrupted. */
  unfinished: string[];
  /** The signal that stopped the command, if one did. */
  interrupted: 'SIGINT' | 'SIGTERM' | null;
}

/**
 * Trainings use one thread each: the sweep's parallelism is the worker count. (The WebAssembly backend is
 * single-threaded already; these bound TensorFlow's native pools and OpenMP should tfjs-node be installed.)
 */
function singleThreadEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS', 'OMP_NUM_THREADS']) env[name] ??= '1';
  return env;
}

function appendSession(dir: string, entry: Record<string, unknown>): void {
  const file = join(dir, SESSIONS_FILE);
  withFileErrors(`cannot write ${file}`, () =>
    appendFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), ...entry })}\n`),
  );
}

/**
 * What a failed training session said: its last `pprl:` error line in train.log (from byte `from`), else its last
 * line.
 */
function lastLogLine(path: string, from: number): string {
  try {
    const read = readRegularFile(path, MAX_INPUT_BYTES, from);
    if (!('text' in read)) return '';
    const lines = read.text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    return lines.filter((l) => l.startsWith('pprl: ')).pop() ?? lines.pop() ?? '';
  } catch {
    return '';
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Progress of a running training from the last line of its log.jsonl: "12/80". */
function trainingProgress(dir: string): string {
  const line = lastLine(join(dir, 'log.jsonl'));
  if (!line) return 'starting';
  try {
    const entry = JSON.parse(line) as { update?: number; updates?: number };
    return `${entry.update}/${entry.updates}`;
  } catch {
    return '';
  }
}

interface Reporter {
  started(run: PlannedRun, fromUpdate: number): void;
  /** `what`: finished, stopped, failed; `detail` follows the run id. */
  ended(run: PlannedRun, what: string, detail?: string): void;
  note(text: string): void;
  close(): void;
}

function createReporter(
  display: Display,
  total: number,
  done: () => number,
  running: () => string[],
  out: string,
): Reporter {
  const line = (text: string) => process.stderr.write(`sweep: ${text}\n`);
  if (display === 'lines')
    return {
      started: (run, from) =>
        line(`[${done()}/${total}] start ${run.id}${from > 0 ? ` (resuming at update ${from})` : ''}`),
      ended: (run, what, detail) => line(`[${done()}/${total}] ${what} ${run.id}${detail ? ` (${detail})` : ''}`),
      note: line,
      close() {},
    };
  if (display === 'none') return { started() {}, ended() {}, note() {}, close() {} };
  // a bar counting finished runs, with the running trainings' updates beside it, drawn after a second
  const startedAt = Date.now();
  let bar: SingleBar | undefined;
  // the slug names a run for a person; its hash suffix only tells runs with the same settings apart
  const name = (id: string) => {
    const slug = id.slice(0, id.lastIndexOf('-'));
    return slug.length > 32 ? `${slug.slice(0, 31)}…` : slug;
  };
  const status = () =>
    running()
      .map((id) => `${name(id)} ${trainingProgress(join(out, 'runs', id))}`)
      .join(', ');
  const timer = setInterval(() => {
    if (!bar && Date.now() - startedAt >= 1000) {
      bar = new SingleBar({
        stream: process.stderr,
        format: 'sweep [{bar}] {value}/{total} runs {item}',
        barsize: 30,
        hideCursor: true,
        clearOnComplete: true,
      });
      bar.start(total, done(), { item: status() });
    } else bar?.update(done(), { item: status() });
  }, 500);
  timer.unref();
  const drawn = (write: () => void) => {
    // a line above the bar: clear the bar, print, draw it again on the next tick
    if (bar) process.stderr.write('\r\x1b[2K');
    write();
  };
  return {
    started() {},
    ended: (run, what, detail) => {
      if (what !== 'finished') drawn(() => line(`${what} ${run.id}${detail ? ` (${detail})` : ''}`));
    },
    note: (text) => drawn(() => line(text)),
    close() {
      clearInterval(timer);
      bar?.stop();
    },
  };
}

export async function runSweep(o: RunnerOptions): Promise<SweepOutcome> {
  const outcome: SweepOutcome = {
    runs: o.runs.length,
    alreadyFinished: 0,
    trained: [],
    finishedElsewhere: [],
    failed: [],
    unfinished: [],
    interrupted: null,
  };
  const queue = o.runs.filter((run) => {
    const finished = isFinished(runDir(o.out, run.id));
    if (finished) outcome.alreadyFinished++;
    return !finished;
  });
  /** Runs another live process is training: looked at again once the queue is empty. */
  const held: PlannedRun[] = [];
  const children = new Map<string, ChildProcess>();
  const done = () => outcome.alreadyFinished + outcome.trained.length + outcome.finishedElsewhere.length;
  const reporter = createReporter(o.display, o.runs.length, done, () => [...children.keys()], o.out);
  const shardText = o.shard ? `${o.shard.index}/${o.shard.count}` : null;
  const env = singleThreadEnv();

  // Ctrl-C (or a batch system's SIGTERM): start nothing new, let the trainings stop at a checkpoint; a second
  // signal stops them at once (their directories resume from the previous checkpoint)
  const sleepers = new Set<() => void>();
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
    const first = outcome.interrupted === null;
    outcome.interrupted ??= signal;
    for (const child of children.values()) child.kill(first ? 'SIGINT' : 'SIGTERM');
    if (first && children.size > 0)
      reporter.note(
        `stopping: waiting for ${children.size} training(s) to checkpoint (interrupt again to stop them now)`,
      );
    for (const wake of sleepers) wake();
  };
  const onSigint = () => onSignal('SIGINT');
  const onSigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });

  const trainRun = async (run: PlannedRun): Promise<void> => {
    const dir = runDir(o.out, run.id);
    if (isFinished(dir)) {
      outcome.finishedElsewhere.push(run.id);
      return;
    }
    makeDirectory(dir);
    const lock = acquireLock(dir);
    if (!lock) {
      held.push(run);
      return;
    }
    try {
      // it may have finished between the look above and the lock
      if (isFinished(dir)) {
        outcome.finishedElsewhere.push(run.id);
        return;
      }
      const configFile = join(dir, TRAIN_CONFIG_FILE);
      writeFileAtomic(configFile, `${JSON.stringify(run.config, null, 2)}\n`);
      const fromUpdate = checkpointIteration(dir);
      const logFile = join(dir, TRAIN_LOG_FILE);
      const logStart = fileSize(logFile);
      appendSession(dir, { event: 'start', host: hostname(), pid: process.pid, shard: shardText, fromUpdate });
      reporter.started(run, fromUpdate);
      const fd = withFileErrors(`cannot open ${logFile}`, () => openSync(logFile, 'a'));
      const started = Date.now();
      let child: ChildProcess;
      try {
        // same process group as the sweep: a terminal's Ctrl-C and a kill of the group reach the trainings too
        child = spawn(process.execPath, [CLI, 'train', '--config', configFile, '--out', dir, '--resume', '--json'], {
          stdio: ['ignore', fd, fd],
          env,
        });
      } finally {
        closeSync(fd);
      }
      children.set(run.id, child);
      const exit = await new Promise<{ code: number | null; signal: string | null; error?: Error }>((resolve) => {
        child.once('error', (error) => resolve({ code: null, signal: null, error }));
        child.once('exit', (code, signal) => resolve({ code, signal }));
        if (child.pid !== undefined) lock.setChild(child.pid);
      });
      children.delete(run.id);
      const finished = isFinished(dir);
      const toUpdate = checkpointIteration(dir);
      appendSession(dir, {
        event: 'end',
        child: child.pid ?? null,
        code: exit.code,
        signal: exit.signal,
        finished,
        toUpdate,
        seconds: (Date.now() - started) / 1000,
      });
      if (finished) {
        outcome.trained.push(run.id);
        const policy = finalPolicyMakespan(dir);
        reporter.ended(run, 'finished', policy !== undefined ? `policy makespan ${fmt(policy)}` : undefined);
      } else if (outcome.interrupted) {
        outcome.unfinished.push(run.id);
        reporter.ended(run, 'stopped', `at update ${toUpdate}; a rerun resumes it`);
      } else {
        const message =
          exit.error?.message ??
          (lastLogLine(logFile, logStart) ||
            (exit.code === 0 ? 'the training ended without a result.json' : 'no output'));
        outcome.failed.push({ id: run.id, exitCode: exit.code, signal: exit.signal, message, log: logFile });
        reporter.ended(run, 'failed', `${exit.signal ?? `exit code ${exit.code}`}: ${message}`);
      }
    } finally {
      lock.release();
    }
  };

  let lastHeldNote = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      if (outcome.interrupted) return;
      const run = queue.shift();
      if (run) {
        await trainRun(run);
        continue;
      }
      if (held.length === 0) return;
      if (held.length !== lastHeldNote)
        reporter.note(`waiting for ${held.length} run(s) that another process is training`);
      lastHeldNote = held.length;
      await sleep(HELD_POLL_MS);
      queue.push(...held.splice(0));
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.workers, queue.length)) }, worker));
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    reporter.close();
  }
  if (outcome.interrupted) {
    const accounted = new Set([
      ...outcome.trained,
      ...outcome.finishedElsewhere,
      ...outcome.failed.map((f) => f.id),
      ...outcome.unfinished,
    ]);
    for (const run of [...queue, ...held]) if (!accounted.has(run.id)) outcome.unfinished.push(run.id);
  }
  return outcome;
}

/** The final evaluation of a finished run: the greedy policy's mean makespan. */
function finalPolicyMakespan(dir: string): number | undefined {
  const result = readJsonIfValid(join(dir, 'result.json')) as { eval?: { policy?: number } } | undefined;
  return result?.eval?.policy;
}
