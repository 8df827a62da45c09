// Replay results shared by the WebAssembly engine and the TypeScript reference.
import { DeadlockError } from './errors.js';
import type { Problem } from './problem.js';
import { decodeOp, formatAction, type CompiledSchedule, type Op } from './schedule.js';

export interface ReplayOptions {
  /** Number of episodes (noise draws) to run; default 1. */
  episodes?: number;
  /** Index of the first episode; episode e always meets the same noise for a given seed. Default 0. */
  episodeStart?: number;
  /** Record the full timeline of this episode (absolute index), or leave undefined for none. */
  timelineEpisode?: number;
}

export interface TimelineOp {
  device: number;
  op: Op;
  start: number;
  end: number;
}

/** A transfer between devices: activations forward (kind F) or gradients backward (kind B). */
export interface Transfer {
  kind: 'F' | 'B';
  mb: number;
  fromStage: number;
  toStage: number;
  fromDevice: number;
  toDevice: number;
  start: number;
  end: number;
}

export interface Timeline {
  episode: number;
  ops: TimelineOp[];
  transfers: Transfer[];
}

export interface MemoryViolation {
  device: number;
  peak: number;
  limit: number;
  excess: number;
}

export interface ReplayResult {
  engine: 'wasm' | 'reference';
  episodeStart: number;
  episodes: number;
  /** Per episode: end of the last op. */
  makespan: Float64Array;
  /** Per episode: max over devices of (end of last op - start of first op). */
  span: Float64Array;
  /** Per episode and device (episode-major, P per episode): summed op durations. */
  busy: Float64Array;
  /** Per device: peak memory (it depends on the order only, so it is the same in every episode). */
  peakMemory: Float64Array;
  /** Devices whose peak exceeds the problem's limit. */
  memoryViolations: MemoryViolation[];
  timeline?: Timeline;
}

/** Raw timeline arrays as both engines fill them (-1 = no transfer). */
export interface RawTimeline {
  opStart: Float64Array;
  opEnd: Float64Array;
  xferFStart: Float64Array;
  xferFEnd: Float64Array;
  xferBStart: Float64Array;
  xferBEnd: Float64Array;
}

/** Timeline arrays for `ops` op slots and S * M transfers of each direction, none recorded yet. */
export function newRawTimeline(ops: number, SM: number): RawTimeline {
  return {
    opStart: new Float64Array(ops),
    opEnd: new Float64Array(ops),
    xferFStart: new Float64Array(SM).fill(-1),
    xferFEnd: new Float64Array(SM).fill(-1),
    xferBStart: new Float64Array(SM).fill(-1),
    xferBEnd: new Float64Array(SM).fill(-1),
  };
}

export function buildTimeline(
  problem: Problem,
  schedule: CompiledSchedule,
  raw: RawTimeline,
  episode: number,
): Timeline {
  const { stages: P, numStages: S, microBatches: M, stageDevice } = problem;
  const ops: TimelineOp[] = [];
  for (let d = 0; d < P; d++)
    for (let h = schedule.devStart[d]!; h < schedule.devStart[d + 1]!; h++)
      ops.push({ device: d, op: decodeOp(schedule.ops[h]!, S), start: raw.opStart[h]!, end: raw.opEnd[h]! });
  const transfers: Transfer[] = [];
  const add = (kind: 'F' | 'B', mb: number, fromStage: number, toStage: number, start: number, end: number) =>
    transfers.push({
      kind,
      mb,
      fromStage,
      toStage,
      fromDevice: stageDevice[fromStage]!,
      toDevice: stageDevice[toStage]!,
      start,
      end,
    });
  for (let s = 0; s < S; s++)
    for (let m = 0; m < M; m++) {
      const i = s * M + m;
      if (raw.xferFStart[i]! >= 0) add('F', m, s, s + 1, raw.xferFStart[i]!, raw.xferFEnd[i]!);
      if (raw.xferBStart[i]! >= 0) add('B', m, s, s - 1, raw.xferBStart[i]!, raw.xferBEnd[i]!);
    }
  return { episode, ops, transfers };
}

export function memoryViolations(problem: Problem, peak: Float64Array): MemoryViolation[] {
  const out: MemoryViolation[] = [];
  const limit = problem.memLimit;
  if (!Number.isFinite(limit)) return out;
  peak.forEach((p, device) => {
    if (p > limit * (1 + 1e-9)) out.push({ device, peak: p, limit, excess: p - limit });
  });
  return out;
}

/** Names every blocked head op and the unfinished dependency it waits for. */
export function deadlockError(problem: Problem, schedule: CompiledSchedule, heads: Int32Array): DeadlockError {
  const { stages: P, numStages: S, stageDevice } = problem;
  const position = new Map<string, number>();
  const deviceOf = new Map<string, number>();
  const textOf = new Map<string, string>(); // a fused BW is named as itself (3B0), not as its B part
  for (let d = 0; d < P; d++)
    for (let h = schedule.devStart[d]!; h < schedule.devStart[d + 1]!; h++) {
      const op = decodeOp(schedule.ops[h]!, S);
      const keys =
        op.kind === 'BW' ? [`B:${op.stage}:${op.mb}`, `W:${op.stage}:${op.mb}`] : [`${op.kind}:${op.stage}:${op.mb}`];
      for (const k of keys) {
        position.set(k, h);
        deviceOf.set(k, d);
        textOf.set(k, formatAction(op));
      }
    }
  const done = (kind: 'F' | 'B', stage: number, mb: number) => {
    const k = `${kind}:${stage}:${mb}`;
    return position.get(k)! < heads[deviceOf.get(k)!]!;
  };
  const blocked: { device: number; op: string; waitsFor: string }[] = [];
  for (let d = 0; d < P; d++) {
    const h = heads[d]!;
    if (h >= schedule.devStart[d + 1]!) continue;
    const op = decodeOp(schedule.ops[h]!, S);
    const deps: Op[] = [];
    if (op.kind === 'F') {
      if (op.stage > 0) deps.push({ kind: 'F', stage: op.stage - 1, mb: op.mb });
    } else if (op.kind === 'W') deps.push({ kind: 'B', stage: op.stage, mb: op.mb });
    else {
      deps.push({ kind: 'F', stage: op.stage, mb: op.mb });
      if (op.stage < S - 1) deps.push({ kind: 'B', stage: op.stage + 1, mb: op.mb });
    }
    const missing = deps.filter((x) => !done(x.kind as 'F' | 'B', x.stage, x.mb));
    blocked.push({
      device: d,
      op: formatAction(op),
      waitsFor: missing
        .map(
          (x) => `${textOf.get(`${x.kind}:${x.stage}:${x.mb}`) ?? formatAction(x)} on device ${stageDevice[x.stage]}`,
        )
        .join(' and '),
    });
  }
  return new DeadlockError(blocked);
}

export function checkReplayOptions(opts: ReplayOptions): Required<Pick<ReplayOptions, 'episodes' | 'episodeStart'>> {
  const episodes = opts.episodes ?? 1;
  const episodeStart = opts.episodeStart ?? 0;
  if (!Number.isInteger(episodes) || episodes < 1 || episodes > 1e8)
    throw new RangeError(`episodes must be an integer in [1, 1e8] (got ${episodes})`);
  if (!Number.isInteger(episodeStart) || episodeStart < 0 || episodeStart + episodes > 0x7fffffff)
    throw new RangeError(
      `episodeStart must be an integer >= 0 with episodeStart + episodes < 2^31 (got ${episodeStart})`,
    );
  return { episodes, episodeStart };
}
