// How much work a command is about to do, before it starts: large valid sizes (P = 1024, M = 65536 is allowed) can
// take minutes and many GiB. Above a limit the command stops with an estimate unless --force; above a few seconds
// it says what it is doing on stderr. The rates are rough figures measured on a 2-core VM (one core), not promises.
import { ConfigError, type Problem } from '@pprl/core-wasm';

/** What one command will do with its problem. */
export interface Work {
  /** A static schedule (replayed in WebAssembly) or a dynamic heuristic (the WebAssembly environment's copy). */
  scheduler: 'static' | 'heuristic';
  /** The generator that builds the static schedule, if one does (not for a schedule file). */
  generator?: string;
  /** Episodes replayed (simulate) or simulated (heuristics). */
  episodes: number;
  /** Output written for every op: none, a text schedule (JSON, torch CSV) or a drawing (SVG, Chrome trace). */
  output?: 'none' | 'text' | 'drawing';
}

export interface Estimate {
  ops: number;
  seconds: number;
  bytes: number;
  /** Seconds spent per episode (replays, heuristic runs) rather than once. */
  episodeSeconds: number;
}

// measured rates (seconds and bytes per op unless said otherwise)
const BUILD_SECONDS = 1e-6;
const SCHEDULE_BYTES = 170;
const REPLAY_SECONDS_PER_EVENT = 1 / 15e6;
// The TypeScript executor's rate, kept although heuristics now run in the WebAssembly environment at about 1e-7 s
// per op: the estimate has no per-episode term, and on small problems the work around each episode (compare's
// summaries and pairings, about 25 us per episode at P = 2, M = 9) outweighs the engine by far, so a million
// episodes of such a problem still take minutes; the engine's rate would let them through.
const HEURISTIC_SECONDS_PER_EVENT = 2.5e-6;
const TEXT_SECONDS = 1.3e-6;
const DRAWING_SECONDS = 17e-6;
const DRAWING_BYTES = 2100;
/** zb-auto's list builds take about P^2 M decisions. */
const ZB_AUTO_SECONDS_PER_P2M = 0.3e-6;

/** Work beyond either limit needs --force. */
export const LIMIT_SECONDS = 60;
export const LIMIT_BYTES = 4 * 2 ** 30;
/** Work beyond this is announced on stderr. */
const ANNOUNCE_SECONDS = 5;

export function estimateWork(problem: Problem, work: Work): Estimate {
  const ops = 3 * problem.numStages * problem.microBatches;
  const episodeSeconds =
    ops * work.episodes * (work.scheduler === 'heuristic' ? HEURISTIC_SECONDS_PER_EVENT : REPLAY_SECONDS_PER_EVENT);
  let seconds = episodeSeconds;
  let bytes = ops * SCHEDULE_BYTES;
  if (work.generator !== undefined) {
    seconds += ops * BUILD_SECONDS;
    if (work.generator === 'zb-auto') seconds += problem.stages ** 2 * problem.microBatches * ZB_AUTO_SECONDS_PER_P2M;
  }
  if (work.output === 'text') seconds += ops * TEXT_SECONDS;
  if (work.output === 'drawing') {
    seconds += ops * DRAWING_SECONDS;
    bytes += ops * DRAWING_BYTES;
  }
  return { ops, seconds, bytes, episodeSeconds };
}

function describe(problem: Problem, e: Estimate): string {
  const { stages: P, chunks: V, microBatches: M } = problem;
  const time = e.seconds < 120 ? `${Math.ceil(e.seconds)} s` : `${Math.ceil(e.seconds / 60)} min`;
  const memory = e.bytes >= 2 ** 30 ? `${(e.bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.ceil(e.bytes / 2 ** 20)} MiB`;
  return `P=${P} x V=${V} x M=${M} is ${e.ops.toLocaleString('en-US')} ops: about ${time} and ${memory}`;
}

/**
 * Stops work beyond the limits unless forced (naming the flag that sets most of it: --episodes or --micro-batches),
 * and announces long work on `note` (stderr). Returns the estimate.
 */
export function guardWork(
  problem: Problem,
  work: Work,
  options: { force?: boolean | undefined; note: (line: string) => void },
): Estimate {
  const e = estimateWork(problem, work);
  return enforce(e, describe(problem, e), options);
}

/** Stops an estimate beyond the limits (unless forced) and announces a long one; `what` describes the work. */
function enforce(
  e: Estimate,
  what: string,
  options: { force?: boolean | undefined; note: (line: string) => void },
): Estimate {
  const over = e.seconds > LIMIT_SECONDS || e.bytes > LIMIT_BYTES;
  const flag = e.episodeSeconds > e.seconds / 2 && e.bytes <= LIMIT_BYTES ? '--episodes' : '--micro-batches';
  if (over && !options.force)
    throw new ConfigError(
      flag,
      `${what} (limits ${LIMIT_SECONDS} s, ${LIMIT_BYTES / 2 ** 30} GiB); lower the size or pass --force`,
    );
  if (e.seconds > ANNOUNCE_SECONDS) options.note(`pprl: ${what}`);
  return e;
}

/**
 * The same for several schedulers run on one base problem (compare): their estimates add up. The message names the
 * base problem, the number of schedulers and the episodes each runs.
 */
export function guardWorks(
  base: Problem,
  items: readonly { problem: Problem; work: Work }[],
  options: { force?: boolean | undefined; note: (line: string) => void },
): Estimate {
  const total: Estimate = { ops: 0, seconds: 0, bytes: 0, episodeSeconds: 0 };
  for (const { problem, work } of items) {
    const e = estimateWork(problem, work);
    total.ops = Math.max(total.ops, e.ops);
    total.seconds += e.seconds;
    total.bytes = Math.max(total.bytes, e.bytes);
    total.episodeSeconds += e.episodeSeconds;
  }
  const episodes = Math.max(0, ...items.map((i) => i.work.episodes));
  return enforce(
    total,
    `${items.length} scheduler(s) x ${episodes.toLocaleString('en-US')} episode(s) on ${describe(base, total)}`,
    options,
  );
}
