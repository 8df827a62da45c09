// The plain TypeScript reference of the static replay (docs/SEMANTICS.md section 4, Schedule IR): the event core
// (src/engine/core.ts) driven by per-device op lists, the oracle of assembly/replay.ts in differential tests and the
// baseline of `pprl bench replay`.
import { KIND_F, KIND_W } from './contract.js';
import { EventCore } from './engine/core.js';
import type { Problem } from './problem.js';
import {
  buildTimeline,
  checkReplayOptions,
  deadlockError,
  memoryViolations,
  newRawTimeline,
  type ReplayOptions,
  type ReplayResult,
} from './result.js';
import type { CompiledSchedule } from './schedule.js';

/**
 * Replays a compiled schedule for `episodes` noise draws. Each op starts at max(device free, inputs delivered). An
 * order fixes every start once its inputs are known, so no event queue is needed: each device runs its list as far
 * as inputs allow, and a device whose output another one waits for wakes that one (a stack of devices to resume).
 */
export function referenceReplay(problem: Problem, schedule: CompiledSchedule, opts: ReplayOptions = {}): ReplayResult {
  const { episodes, episodeStart } = checkReplayOptions(opts);
  const { stages: P, numStages: S, stageDevice } = problem;
  const { ops, devStart } = schedule;
  const totalOps = devStart[P]!;
  const core = new EventCore(problem);
  const { memDelta, lastEnd } = core;
  const head = new Int32Array(P);
  const stack = new Int32Array(P);
  const onStack = new Uint8Array(P);

  const makespan = new Float64Array(episodes);
  const span = new Float64Array(episodes);
  const busyOut = new Float64Array(episodes * P);
  const peak = new Float64Array(P);
  const tl = opts.timelineEpisode;
  const raw =
    tl !== undefined && tl >= episodeStart && tl < episodeStart + episodes
      ? newRawTimeline(totalOps, S * problem.microBatches)
      : undefined;

  for (let k = 0; k < episodes; k++) {
    const ep = episodeStart + k;
    core.begin(ep);
    core.timeline = raw !== undefined && ep === tl ? raw : null;
    // memory depends on the order only: the first episode's curve is every episode's
    const trackMem = k === 0;
    for (let d = 0; d < P; d++) {
      head[d] = devStart[d]!;
      stack[d] = P - 1 - d;
      onStack[d] = 1;
    }
    let sp = P;
    let done = 0;
    while (sp > 0) {
      const d = stack[--sp]!;
      onStack[d] = 0;
      let h = head[d]!;
      const hEnd = devStart[d + 1]!;
      let t0 = lastEnd[d]!;
      while (h < hEnd) {
        const code = ops[h]!;
        const kind = code & 3;
        const rest = code >> 2;
        const stage = rest % S;
        const mb = (rest - stage) / S;
        const inputs = core.inputsAt(kind, stage, mb);
        if (inputs === Infinity) break; // a producer has not run yet: its device wakes this one
        const dur = core.duration(kind, stage, mb);
        if (trackMem) core.addMemory(d, memDelta[kind * S + stage]!);
        if (inputs > t0) t0 = inputs;
        t0 = core.occupy(d, h, t0, dur);
        core.publish(d, kind, stage, mb, t0);
        h++;
        done++;
        let wake = -1;
        if (kind === KIND_F) {
          if (stage + 1 < S) wake = stageDevice[stage + 1]!;
        } else if (kind !== KIND_W) {
          if (stage > 0) wake = stageDevice[stage - 1]!;
        }
        if (wake >= 0 && wake !== d && onStack[wake] === 0) {
          stack[sp++] = wake;
          onStack[wake] = 1;
        }
      }
      head[d] = h;
    }
    if (done < totalOps) throw deadlockError(problem, schedule, head);
    if (trackMem) peak.set(core.peak);
    makespan[k] = core.makespan();
    span[k] = core.span();
    busyOut.set(core.busy, k * P);
  }
  const result: ReplayResult = {
    engine: 'reference',
    episodeStart,
    episodes,
    makespan,
    span,
    busy: busyOut,
    peakMemory: peak,
    memoryViolations: memoryViolations(problem, peak),
  };
  if (raw) result.timeline = buildTimeline(problem, schedule, raw, tl!);
  return result;
}
