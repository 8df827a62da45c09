// One episode with its realized durations: the data every bound, the search and the MILP read.
// Ops are numbered id = (kind * S + stage) * M + mb with kind F = 0, B = 1, W = 2 (split backward only: a fused BW
// is a B followed at once by its W, so the split ops cover every schedule).
import { noiseFactor, NOISE_B, NOISE_COMM_B, NOISE_COMM_F, NOISE_F, NOISE_W, type Problem } from '@pprl/core-wasm';

export const KIND_F = 0;
export const KIND_B = 1;
export const KIND_W = 2;

export interface Instance {
  readonly problem: Problem;
  /** Episode index whose noise draw this is. */
  readonly episode: number;
  readonly P: number;
  readonly S: number;
  readonly M: number;
  /** 3 S M ops. */
  readonly N: number;
  /** Realized duration of each op id. */
  readonly dur: Float64Array;
  /** Device of each op id. */
  readonly device: Int32Array;
  /** Memory delta of each op id (F allocates at its start, B and W free at their end). */
  readonly memDelta: Float64Array;
  /** Per-device limit (Infinity when none). */
  readonly memLimit: number;
  /** lagF[s * M + mb]: realized transfer from F(s, mb) to F(s + 1, mb); 0 on one device or at s = S - 1. */
  readonly lagF: Float64Array;
  /** lagB[s * M + mb]: realized transfer from B(s, mb) to B(s - 1, mb); 0 on one device or at s = 0. */
  readonly lagB: Float64Array;
}

export const opId = (kind: number, stage: number, mb: number, S: number, M: number): number =>
  (kind * S + stage) * M + mb;

/** The simulators' op code ((mb * S + stage) << 2 | kind) of an op id. */
export function codeOfId(id: number, S: number, M: number): number {
  const mb = id % M;
  const ks = (id - mb) / M;
  const stage = ks % S;
  const kind = (ks - stage) / S;
  return ((mb * S + stage) << 2) | kind;
}

/** The op id of a simulator op code (kinds F, B, W only). */
export function idOfCode(code: number, S: number, M: number): number {
  const kind = code & 3;
  const rest = code >> 2;
  const stage = rest % S;
  return opId(kind, stage, (rest - stage) / S, S, M);
}

/**
 * The realized durations of `episode`, drawn with the replay's own noise keys (common random numbers), so the
 * WebAssembly replay of any order on this episode meets exactly these durations.
 */
export function episodeInstance(problem: Problem, episode: number): Instance {
  const { stages: P, numStages: S, microBatches: M, stageDevice, comm } = problem;
  const { cv, commCv, floor, anomalyProb, anomalyFactor, seed } = problem.noise;
  const N = 3 * S * M;
  const dur = new Float64Array(N);
  const device = new Int32Array(N);
  const memDelta = new Float64Array(N);
  const cost = [problem.costF, problem.costB, problem.costW];
  const mem = [problem.memF, problem.memB, problem.memW];
  const noiseKind = [NOISE_F, NOISE_B, NOISE_W];
  const computeNoisy = cv > 0 || anomalyProb > 0;
  const commNoisy = commCv > 0 || anomalyProb > 0;
  for (let kind = 0; kind < 3; kind++)
    for (let s = 0; s < S; s++)
      for (let mb = 0; mb < M; mb++) {
        const id = opId(kind, s, mb, S, M);
        const f = computeNoisy
          ? noiseFactor(seed, episode, noiseKind[kind]!, s, mb, cv, floor, anomalyProb, anomalyFactor)
          : 1;
        dur[id] = cost[kind]![s]! * f;
        device[id] = stageDevice[s]!;
        memDelta[id] = mem[kind]![s]!;
      }
  const lagF = new Float64Array(S * M);
  const lagB = new Float64Array(S * M);
  const commFactor = (noise: number, s: number, mb: number) =>
    commNoisy ? noiseFactor(seed, episode, noise, s, mb, commCv, floor, anomalyProb, anomalyFactor) : 1;
  for (let s = 0; s < S; s++)
    for (let mb = 0; mb < M; mb++) {
      if (s + 1 < S && stageDevice[s] !== stageDevice[s + 1])
        lagF[s * M + mb] = comm[s]! * commFactor(NOISE_COMM_F, s, mb);
      if (s > 0 && stageDevice[s] !== stageDevice[s - 1])
        lagB[s * M + mb] = comm[s - 1]! * commFactor(NOISE_COMM_B, s, mb);
    }
  return { problem, episode, P, S, M, N, dur, device, memDelta, memLimit: problem.memLimit, lagF, lagB };
}

/** Calls `visit(pred, lag)` for every direct predecessor of op `id` (the lag is the transfer time, if any). */
export function forEachPredecessor(inst: Instance, id: number, visit: (pred: number, lag: number) => void): void {
  const { S, M } = inst;
  const mb = id % M;
  const ks = (id - mb) / M;
  const s = ks % S;
  const kind = (ks - s) / S;
  if (kind === KIND_F) {
    if (s > 0) visit(opId(KIND_F, s - 1, mb, S, M), inst.lagF[(s - 1) * M + mb]!);
  } else if (kind === KIND_B) {
    visit(opId(KIND_F, s, mb, S, M), 0);
    if (s + 1 < S) visit(opId(KIND_B, s + 1, mb, S, M), inst.lagB[(s + 1) * M + mb]!);
  } else visit(opId(KIND_B, s, mb, S, M), 0);
}

/**
 * Op ids in an order where every op comes after its predecessors: per micro-batch F(0..S-1), B(S-1..0), then W.
 * The dependency graph only links ops of one micro-batch, so this order serves every longest-path pass.
 */
export function topologicalOrder(inst: Instance): Int32Array {
  const { S, M } = inst;
  const out = new Int32Array(inst.N);
  let i = 0;
  for (let mb = 0; mb < M; mb++) {
    for (let s = 0; s < S; s++) out[i++] = opId(KIND_F, s, mb, S, M);
    for (let s = S - 1; s >= 0; s--) out[i++] = opId(KIND_B, s, mb, S, M);
    for (let s = 0; s < S; s++) out[i++] = opId(KIND_W, s, mb, S, M);
  }
  return out;
}

/**
 * Heads and tails of the dependency graph without device conflicts: head = longest path from time 0 to the op's
 * start, tail = longest path from its end to the end of the iteration (both without the op's own duration).
 */
export function headsAndTails(inst: Instance): { head: Float64Array; tail: Float64Array } {
  const head = new Float64Array(inst.N);
  const tail = new Float64Array(inst.N);
  const topo = topologicalOrder(inst);
  for (const id of topo) {
    let h = 0;
    forEachPredecessor(inst, id, (p, lag) => {
      const t = head[p]! + inst.dur[p]! + lag;
      if (t > h) h = t;
    });
    head[id] = h;
  }
  for (let i = topo.length - 1; i >= 0; i--) {
    const id = topo[i]!;
    const through = tail[id]! + inst.dur[id]!;
    forEachPredecessor(inst, id, (p, lag) => {
      if (through + lag > tail[p]!) tail[p] = through + lag;
    });
  }
  return { head, tail };
}
