// The schedule IR (docs/SEMANTICS.md section 4): per-device op lists, with PyTorch's action text form.
import { KIND_B, KIND_BW, KIND_F, KIND_W } from './contract.js';
import { ScheduleError } from './errors.js';
import type { Placement, Problem } from './problem.js';

/** F forward, B input-gradient backward, W weight-gradient backward, BW the two fused. */
export type OpKind = 'F' | 'B' | 'W' | 'BW';

export interface Op {
  kind: OpKind;
  /** Micro-batch index. */
  mb: number;
  /** Model stage index (0 .. stages * chunksPerDevice - 1). */
  stage: number;
}

export interface Schedule {
  /** P: devices. */
  stages: number;
  chunksPerDevice: number;
  placement: Placement;
  microBatches: number;
  /** devices[d]: the order in which device d runs its ops. */
  devices: Op[][];
  name?: string;
}

/** Numeric op kinds used by the simulators (and the WebAssembly module): KIND_* of src/contract.ts. */
export const KIND_CODE: Record<OpKind, number> = { F: KIND_F, B: KIND_B, W: KIND_W, BW: KIND_BW };
/** The kind of each code, in code order (test/contract.test.ts checks it against KIND_CODE). */
export const KIND_OF_CODE: readonly OpKind[] = ['F', 'B', 'W', 'BW'];

/** Our kinds in torch's action letters: our B is torch's I, our fused BW is torch's B. */
const TORCH_LETTER: Record<OpKind, string> = { F: 'F', B: 'I', W: 'W', BW: 'B' };
const KIND_OF_LETTER: Record<string, OpKind> = { F: 'F', I: 'B', W: 'W', B: 'BW' };

/** `3F0`: stage 3, forward, micro-batch 0 (torch's action string). */
export function formatAction(op: Op): string {
  return `${op.stage}${TORCH_LETTER[op.kind]}${op.mb}`;
}

const ACTION = /^(\d+)([FIWB])(\d+)$/;

/** Parses torch's `<stage><F|I|W|B><micro-batch>`; throws ScheduleError on anything else. */
export function parseAction(text: string): Op {
  const m = ACTION.exec(text.trim());
  if (!m) throw new ScheduleError(`not an action: "${text}" (expected <stage><F|I|W|B><micro-batch>, e.g. 3F0)`);
  return { stage: Number(m[1]), kind: KIND_OF_LETTER[m[2]!]!, mb: Number(m[3]) };
}

/** A schedule in the flat form the simulators read. */
export interface CompiledSchedule {
  /** Op codes in device order: ((mb * S + stage) << 2) | kind. */
  readonly ops: Int32Array;
  /** devStart[d] .. devStart[d+1]: device d's ops; length P + 1. */
  readonly devStart: Int32Array;
}

export function encodeOp(op: Op, S: number): number {
  return ((op.mb * S + op.stage) << 2) | KIND_CODE[op.kind];
}

export function decodeOp(code: number, S: number): Op {
  const rest = code >> 2;
  return { kind: KIND_OF_CODE[code & 3]!, stage: rest % S, mb: Math.floor(rest / S) };
}

function listOps(ops: readonly string[], max = 8): string {
  return ops.length <= max ? ops.join(', ') : `${ops.slice(0, max).join(', ')} and ${ops.length - max} more`;
}

/**
 * Checks a schedule against a problem (shape, placement, every op exactly once) and flattens it.
 * Whether the orders can run (deadlock) is found by replaying.
 */
export function compileSchedule(problem: Problem, schedule: Schedule): CompiledSchedule {
  const { stages: P, microBatches: M, numStages: S } = problem;
  if (schedule.stages !== P)
    throw new ScheduleError(`schedule has ${schedule.stages} stages (devices) but the problem has ${P}`);
  if (schedule.microBatches !== M)
    throw new ScheduleError(`schedule has ${schedule.microBatches} micro-batches but the problem has ${M}`);
  if (schedule.chunksPerDevice !== problem.chunks)
    throw new ScheduleError(
      `schedule has ${schedule.chunksPerDevice} chunks per device but the problem has ${problem.chunks}`,
    );
  if (problem.chunks > 1 && schedule.placement !== problem.placement)
    throw new ScheduleError(`schedule uses ${schedule.placement} placement but the problem has ${problem.placement}`);
  if (!Array.isArray(schedule.devices) || schedule.devices.length !== P)
    throw new ScheduleError(`schedule lists ${schedule.devices?.length ?? 0} devices, expected ${P}`);
  // seen[kind][stage * M + mb]: F, B, W; a fused BW marks both B and W
  const seen = [new Uint8Array(S * M), new Uint8Array(S * M), new Uint8Array(S * M)];
  const duplicates: string[] = [];
  const misplaced: string[] = [];
  const total = schedule.devices.reduce((n, list) => n + list.length, 0);
  const ops = new Int32Array(total);
  const devStart = new Int32Array(P + 1);
  let i = 0;
  for (let d = 0; d < P; d++) {
    devStart[d] = i;
    for (const op of schedule.devices[d]!) {
      if (!op || !(op.kind in KIND_CODE) || !Number.isInteger(op.stage) || !Number.isInteger(op.mb))
        throw new ScheduleError(
          `device ${d} has a malformed op ${JSON.stringify(op)} (expected {kind: F|B|W|BW, mb, stage})`,
        );
      if (op.stage < 0 || op.stage >= S)
        throw new ScheduleError(`op ${formatAction(op)} on device ${d}: stage must be in [0, ${S - 1}]`);
      if (op.mb < 0 || op.mb >= M)
        throw new ScheduleError(`op ${formatAction(op)} on device ${d}: micro-batch must be in [0, ${M - 1}]`);
      if (problem.stageDevice[op.stage] !== d)
        misplaced.push(
          `${formatAction(op)} on device ${d} (stage ${op.stage} is on device ${problem.stageDevice[op.stage]})`,
        );
      const idx = op.stage * M + op.mb;
      const marks = op.kind === 'BW' ? [1, 2] : [KIND_CODE[op.kind]];
      for (const k of marks) {
        if (seen[k]![idx]) duplicates.push(formatAction(op));
        seen[k]![idx] = 1;
      }
      ops[i++] = encodeOp(op, S);
    }
  }
  devStart[P] = i;
  if (misplaced.length) throw new ScheduleError(`ops on the wrong device: ${listOps(misplaced, 4)}`, misplaced);
  if (duplicates.length) throw new ScheduleError(`duplicated ops: ${listOps([...new Set(duplicates)])}`, duplicates);
  const missing: string[] = [];
  for (let s = 0; s < S; s++)
    for (let m = 0; m < M; m++)
      for (const kind of ['F', 'B', 'W'] as const)
        if (!seen[KIND_CODE[kind]]![s * M + m]) missing.push(formatAction({ kind, stage: s, mb: m }));
  if (missing.length) throw new ScheduleError(`missing ops: ${listOps(missing)}`, missing);
  return { ops, devStart };
}
