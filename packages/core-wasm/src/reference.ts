// The plain TypeScript reference simulator: the same semantics and algorithm as assembly/replay.ts,
// used as the oracle in differential tests and as the baseline in throughput benchmarks.
import { episodeKey, factor, mbKey, stageKey, NOISE_COMM_B, NOISE_COMM_F } from './noise.js';
import type { Problem } from './problem.js';
import {
  buildTimeline,
  checkReplayOptions,
  deadlockError,
  memoryViolations,
  type RawTimeline,
  type ReplayOptions,
  type ReplayResult,
} from './result.js';
import type { CompiledSchedule } from './schedule.js';

const KIND_F = 0;
const KIND_B = 1;
const KIND_W = 2;
const KIND_BW = 3;

/** Fills fac[(kind * S + stage) * M + mb] for noise kinds [k0, k1). */
function drawFactors(fac: Float64Array, epKey: number, k0: number, k1: number, S: number, M: number, cv: number, floor: number, anomalyProb: number, anomalyFactor: number): void {
  for (let kind = k0; kind < k1; kind++)
    for (let s = 0; s < S; s++) {
      const key = stageKey(epKey, kind, s);
      const row = (kind * S + s) * M;
      for (let mb = 0; mb < M; mb++) fac[row + mb] = factor(mbKey(key, mb), cv, floor, anomalyProb, anomalyFactor);
    }
}

export function referenceReplay(problem: Problem, schedule: CompiledSchedule, opts: ReplayOptions = {}): ReplayResult {
  const { episodes, episodeStart } = checkReplayOptions(opts);
  const { stages: P, numStages: S, microBatches: M, stageDevice, comm, memF, memB, memW } = problem;
  const cost = [problem.costF, problem.costB, problem.costW];
  const { cv, commCv, floor, anomalyProb, anomalyFactor, seed } = problem.noise;
  const computeNoisy = cv > 0 || anomalyProb > 0;
  const commNoisy = commCv > 0 || anomalyProb > 0;
  const { ops, devStart } = schedule;
  const totalOps = devStart[P]!;
  const SM = S * M;

  const endF = new Float64Array(SM);
  const endB = new Float64Array(SM);
  const freeAt = new Float64Array(P);
  const firstStart = new Float64Array(P);
  const busy = new Float64Array(P);
  const curMem = new Float64Array(P);
  const head = new Int32Array(P);
  const stack = new Int32Array(P);
  const onStack = new Uint8Array(P);
  const fac = new Float64Array(5 * SM); // this episode's duration factors of (noise kind, stage, mb)

  const makespan = new Float64Array(episodes);
  const span = new Float64Array(episodes);
  const busyOut = new Float64Array(episodes * P);
  const peak = new Float64Array(P);
  let raw: RawTimeline | undefined;
  const tl = opts.timelineEpisode;
  if (tl !== undefined && tl >= episodeStart && tl < episodeStart + episodes) {
    raw = {
      opStart: new Float64Array(totalOps),
      opEnd: new Float64Array(totalOps),
      xferFStart: new Float64Array(SM).fill(-1),
      xferFEnd: new Float64Array(SM).fill(-1),
      xferBStart: new Float64Array(SM).fill(-1),
      xferBEnd: new Float64Array(SM).fill(-1),
    };
  }

  for (let k = 0; k < episodes; k++) {
    const ep = episodeStart + k;
    const epKey = episodeKey(seed, ep);
    const record = raw !== undefined && ep === tl;
    const trackMem = k === 0;
    if (computeNoisy) drawFactors(fac, epKey, 0, 3, S, M, cv, floor, anomalyProb, anomalyFactor);
    if (commNoisy) drawFactors(fac, epKey, 3, 5, S, M, commCv, floor, anomalyProb, anomalyFactor);
    endF.fill(-1);
    endB.fill(-1);
    freeAt.fill(0);
    firstStart.fill(-1);
    busy.fill(0);
    curMem.fill(0);
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
      let t0 = freeAt[d]!;
      while (h < hEnd) {
        const code = ops[h]!;
        const kind = code & 3;
        const rest = code >> 2;
        const stage = rest % S;
        const mb = (rest - stage) / S;
        const idx = stage * M + mb;
        let ready = t0;
        let xferStart = -1;
        let xferEnd = -1;
        if (kind === KIND_F) {
          if (stage > 0) {
            const e = endF[idx - M]!;
            if (e < 0) break;
            let t = e;
            if (stageDevice[stage - 1] !== d) {
              let c = comm[stage - 1]!;
              if (commNoisy) c *= fac[NOISE_COMM_F * SM + idx - M]!;
              t = e + c;
              xferStart = e;
              xferEnd = t;
            }
            if (t > ready) ready = t;
          }
        } else if (kind === KIND_W) {
          const e = endB[idx]!;
          if (e < 0) break;
          if (e > ready) ready = e;
        } else {
          const ef = endF[idx]!;
          if (ef < 0) break;
          if (ef > ready) ready = ef;
          if (stage < S - 1) {
            const e = endB[idx + M]!;
            if (e < 0) break;
            let t = e;
            if (stageDevice[stage + 1] !== d) {
              let c = comm[stage]!;
              if (commNoisy) c *= fac[NOISE_COMM_B * SM + idx + M]!;
              t = e + c;
              xferStart = e;
              xferEnd = t;
            }
            if (t > ready) ready = t;
          }
        }
        let dur: number;
        if (kind === KIND_BW) {
          let b = problem.costB[stage]!;
          let w = problem.costW[stage]!;
          if (computeNoisy) {
            b *= fac[KIND_B * SM + idx]!;
            w *= fac[KIND_W * SM + idx]!;
          }
          dur = b + w;
        } else {
          dur = cost[kind]![stage]!;
          if (computeNoisy) dur *= fac[kind * SM + idx]!;
        }
        const end = ready + dur;
        if (trackMem) {
          let m = curMem[d]!;
          if (kind === KIND_F) m += memF[stage]!;
          else if (kind === KIND_B) m += memB[stage]!;
          else if (kind === KIND_W) m += memW[stage]!;
          else m += memB[stage]! + memW[stage]!;
          if (m > peak[d]!) peak[d] = m;
          curMem[d] = m;
        }
        if (firstStart[d]! < 0) firstStart[d] = ready;
        busy[d] = busy[d]! + dur;
        t0 = end;
        if (record) {
          raw!.opStart[h] = ready;
          raw!.opEnd[h] = end;
          if (xferStart >= 0) {
            if (kind === KIND_F) {
              raw!.xferFStart[idx - M] = xferStart;
              raw!.xferFEnd[idx - M] = xferEnd;
            } else {
              raw!.xferBStart[idx + M] = xferStart;
              raw!.xferBEnd[idx + M] = xferEnd;
            }
          }
        }
        h++;
        done++;
        let wake = -1;
        if (kind === KIND_F) {
          endF[idx] = end;
          if (stage + 1 < S) wake = stageDevice[stage + 1]!;
        } else if (kind !== KIND_W) {
          endB[idx] = end;
          if (stage > 0) wake = stageDevice[stage - 1]!;
        }
        if (wake >= 0 && wake !== d && onStack[wake] === 0) {
          stack[sp++] = wake;
          onStack[wake] = 1;
        }
      }
      head[d] = h;
      freeAt[d] = t0;
    }
    if (done < totalOps) throw deadlockError(problem, schedule, head);
    let T = 0;
    let sp2 = 0;
    for (let d = 0; d < P; d++) {
      const f = freeAt[d]!;
      if (f > T) T = f;
      const s0 = firstStart[d]!;
      if (s0 >= 0 && f - s0 > sp2) sp2 = f - s0;
      busyOut[k * P + d] = busy[d]!;
    }
    makespan[k] = T;
    span[k] = sp2;
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
