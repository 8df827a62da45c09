// The WebAssembly replay engine: a problem and a schedule are copied into linear memory once,
// then any number of episodes run in single calls.
import type { Problem } from './problem.js';
import {
  buildTimeline,
  checkReplayOptions,
  deadlockError,
  memoryViolations,
  type ReplayOptions,
  type ReplayResult,
} from './result.js';
import { compileSchedule, type CompiledSchedule, type Schedule } from './schedule.js';
import { NOISE_FIELDS, REPLAY_OK } from './contract.js';
import { loadCore, writeProblem, type WasmCore } from './wasm.js';

/**
 * A problem and schedule resident in WebAssembly memory. `run` replays episodes in one call; results are
 * read through views that stay valid until the next `run` or `dispose`.
 */
export class PreparedReplay {
  private readonly blocks: number[] = [];
  private readonly p: Record<
    | 'stageDevice'
    | 'cost'
    | 'comm'
    | 'mem'
    | 'noise'
    | 'ops'
    | 'devStart'
    | 'scratch'
    | 'makespan'
    | 'span'
    | 'busy'
    | 'peak'
    | 'timeline',
    number
  >;
  private lastEpisodes = 0;
  private disposed = false;
  /** The order currently in WebAssembly memory. */
  readonly schedule: CompiledSchedule;

  constructor(
    private readonly core: WasmCore,
    readonly problem: Problem,
    schedule: CompiledSchedule,
    /** Most episodes one `run` may hold. */
    readonly capacity: number,
  ) {
    // a private copy: setOrder rewrites it, and the caller's schedule stays as it was
    this.schedule = { ops: Int32Array.from(schedule.ops), devStart: Int32Array.from(schedule.devStart) };
    const { stages: P, numStages: S, microBatches: M } = problem;
    const N = schedule.ops.length;
    const take = (bytes: number) => {
      const ptr = core.alloc(bytes);
      this.blocks.push(ptr);
      return ptr;
    };
    this.p = {
      stageDevice: take(4 * S),
      cost: take(8 * 3 * S),
      comm: take(8 * S),
      mem: take(8 * 3 * S),
      noise: take(8 * NOISE_FIELDS),
      ops: take(4 * N),
      devStart: take(4 * (P + 1)),
      scratch: take(core.exports.replayScratchBytes(P, S, M)),
      makespan: take(8 * capacity),
      span: take(8 * capacity),
      busy: take(8 * capacity * P),
      peak: take(8 * P),
      timeline: take(8 * (2 * N + 4 * S * M)),
    };
    writeProblem(core, problem, this.p);
    core.i32(this.p.ops, N).set(schedule.ops);
    core.i32(this.p.devStart, P + 1).set(schedule.devStart);
  }

  /**
   * Replays `episodes` episodes from `episodeStart`; throws DeadlockError if the orders cannot run.
   * With `timelineEpisode` inside the range, that episode's timeline is recorded (see `timeline`).
   */
  run(episodeStart: number, episodes: number, timelineEpisode = -1): void {
    if (this.replayStatus(episodeStart, episodes, timelineEpisode) !== REPLAY_OK) {
      const { stages: P, numStages: S, microBatches: M } = this.problem;
      // replay's scratch: endF, endB f64[S M], then freeAt, firstStart, busy, curMem f64[P], then the heads i32[P]
      const heads = this.core.i32(this.p.scratch + 2 * S * M * 8 + 4 * P * 8, P);
      throw deadlockError(this.problem, this.schedule, Int32Array.from(heads));
    }
  }

  /** One call into WebAssembly: its status, REPLAY_OK when every op ran (shared by `run` and `tryRun`). */
  private replayStatus(episodeStart: number, episodes: number, timelineEpisode: number): number {
    if (this.disposed) throw new Error('PreparedReplay used after dispose()');
    if (episodes > this.capacity) throw new RangeError(`episodes ${episodes} exceeds the capacity ${this.capacity}`);
    const { stages: P, numStages: S, microBatches: M } = this.problem;
    const p = this.p;
    const recording = timelineEpisode >= episodeStart && timelineEpisode < episodeStart + episodes;
    if (recording) {
      const N = this.schedule.ops.length;
      this.core.f64(p.timeline + 16 * N, 4 * S * M).fill(-1);
    }
    const status = this.core.exports.replay(
      P,
      S,
      M,
      p.stageDevice,
      p.cost,
      p.comm,
      p.mem,
      p.noise,
      p.ops,
      p.devStart,
      episodeStart,
      episodes,
      p.scratch,
      p.makespan,
      p.span,
      p.busy,
      p.peak,
      recording ? p.timeline : 0,
      timelineEpisode,
    );
    this.lastEpisodes = episodes;
    return status;
  }

  /**
   * Replaces the op order in place with another order of the same ops per device (same `devStart`), for searches
   * that replay many candidate orders without copying the problem again.
   */
  setOrder(ops: Int32Array): void {
    if (this.disposed) throw new Error('PreparedReplay used after dispose()');
    if (ops.length !== this.schedule.ops.length)
      throw new RangeError(`order has ${ops.length} ops, expected ${this.schedule.ops.length}`);
    this.core.i32(this.p.ops, ops.length).set(ops);
    this.schedule.ops.set(ops);
  }

  /** Like `run` without a timeline, but returns false on a deadlock instead of building the error (for searches). */
  tryRun(episodeStart: number, episodes: number): boolean {
    return this.replayStatus(episodeStart, episodes, -1) === REPLAY_OK;
  }

  /** Per-episode makespans of the last run (a view into WebAssembly memory). */
  get makespan(): Float64Array {
    return this.core.f64(this.p.makespan, this.lastEpisodes);
  }

  get span(): Float64Array {
    return this.core.f64(this.p.span, this.lastEpisodes);
  }

  /** Episode-major busy time per device of the last run. */
  get busy(): Float64Array {
    return this.core.f64(this.p.busy, this.lastEpisodes * this.problem.stages);
  }

  get peakMemory(): Float64Array {
    return this.core.f64(this.p.peak, this.problem.stages);
  }

  /** The timeline recorded by the last run (call only when that run recorded one). */
  timeline(episode: number) {
    const N = this.schedule.ops.length;
    const SM = this.problem.numStages * this.problem.microBatches;
    const base = this.p.timeline;
    const view = (offset: number, len: number) => Float64Array.from(this.core.f64(base + 8 * offset, len));
    return buildTimeline(
      this.problem,
      this.schedule,
      {
        opStart: view(0, N),
        opEnd: view(N, N),
        xferFStart: view(2 * N, SM),
        xferFEnd: view(2 * N + SM, SM),
        xferBStart: view(2 * N + 2 * SM, SM),
        xferBEnd: view(2 * N + 3 * SM, SM),
      },
      episode,
    );
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const ptr of this.blocks) this.core.release(ptr);
  }
}

/** Replays schedules in WebAssembly. Create with `createSimulator()`. */
export class Simulator {
  constructor(readonly core: WasmCore) {}

  /** Copies a problem and schedule into WebAssembly memory for repeated runs; call `dispose()` when done. */
  prepare(problem: Problem, schedule: Schedule | CompiledSchedule, capacity = 1024): PreparedReplay {
    const compiled = 'ops' in schedule ? schedule : compileSchedule(problem, schedule);
    return new PreparedReplay(this.core, problem, compiled, capacity);
  }

  /** Replays K episodes and returns copies of the results. */
  replay(problem: Problem, schedule: Schedule | CompiledSchedule, opts: ReplayOptions = {}): ReplayResult {
    const { episodes, episodeStart } = checkReplayOptions(opts);
    const chunk = Math.min(episodes, 4096);
    const prepared = this.prepare(problem, schedule, chunk);
    try {
      const P = problem.stages;
      const makespan = new Float64Array(episodes);
      const span = new Float64Array(episodes);
      const busy = new Float64Array(episodes * P);
      let timeline: ReplayResult['timeline'];
      const tl = opts.timelineEpisode ?? -1;
      for (let done = 0; done < episodes; done += chunk) {
        const n = Math.min(chunk, episodes - done);
        prepared.run(episodeStart + done, n, tl);
        makespan.set(prepared.makespan, done);
        span.set(prepared.span, done);
        busy.set(prepared.busy, done * P);
        if (tl >= episodeStart + done && tl < episodeStart + done + n) timeline = prepared.timeline(tl);
      }
      const peakMemory = Float64Array.from(prepared.peakMemory);
      const result: ReplayResult = {
        engine: 'wasm',
        episodeStart,
        episodes,
        makespan,
        span,
        busy,
        peakMemory,
        memoryViolations: memoryViolations(problem, peakMemory),
      };
      if (timeline) result.timeline = timeline;
      return result;
    } finally {
      prepared.dispose();
    }
  }
}

let simulator: Promise<Simulator> | undefined;

/** The process-wide simulator (the WebAssembly module is compiled and instantiated once). */
export function createSimulator(): Promise<Simulator> {
  simulator ??= loadCore().then((core) => new Simulator(core));
  return simulator;
}
