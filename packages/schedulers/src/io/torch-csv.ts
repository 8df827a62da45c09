// PyTorch's compute-only schedule CSV, as torch.distributed.pipelining's `_load_csv` / `_dump_csv` read and write
// it: one row per rank, no header, each cell one action (`0F0`, `4I3`, `4W3`, `0B1`; torch's I is our B and its
// fused B our BW), an empty cell an idle step. DualPipeV's overlapped pairs `(0F7;7B3)OVERLAP_F_B` are read as
// their sub-actions in the listed order. Cells never need quoting in this format, so quoting is rejected.
import {
  deviceOfStage,
  formatAction,
  quoteInput,
  ScheduleError,
  type Op,
  type OpKind,
  type Placement,
  type Schedule,
} from '@pprl/core-wasm';

const KIND_OF_LETTER: Record<string, OpKind> = { F: 'F', I: 'B', W: 'W', B: 'BW' };
const ACTION = /^(\d+)([FIWB])(\d+)$/;
const OVERLAP = /^\((.*)\)OVERLAP_F_B$/;
/** Actions torch knows that a compute-only schedule must not contain. */
const NON_COMPUTE = /^\d+(UNSHARD|RESHARD|REDUCE_GRAD|SEND_F|RECV_F|SEND_B|RECV_B)\d*$/;

export interface TorchCsvOptions {
  /**
   * Placement of chunk stages; inferred when omitted (`loop` if every stage s is on row s mod P, else `v` if it fits).
   */
  placement?: Placement;
  /** V; inferred as S / P with S = largest stage + 1. */
  chunksPerDevice?: number;
  /** P; must equal the number of rows when given. */
  stages?: number;
  /** M; inferred as largest micro-batch + 1. */
  microBatches?: number;
  /** Name to give the schedule (CSV has no place for one). */
  name?: string;
}

/** One row per device, ops in torch action text, comma-separated, newline-terminated. */
export function scheduleToTorchCsv(schedule: Schedule): string {
  return schedule.devices.map((ops) => ops.map(formatAction).join(',')).join('\n') + '\n';
}

function cellError(row: number, col: number, detail: string): ScheduleError {
  return new ScheduleError(`torch CSV row ${row}, column ${col} (1-based; row r is rank r-1): ${detail}`);
}

function parseSingle(text: string, row: number, col: number): Op {
  const m = ACTION.exec(text);
  if (m) return { stage: Number(m[1]), kind: KIND_OF_LETTER[m[2]!]!, mb: Number(m[3]) };
  if (NON_COMPUTE.test(text))
    throw cellError(
      row,
      col,
      `${quoteInput(text)} is a communication or sharding action; ` +
        'a compute-only schedule holds only F, I, W, B actions',
    );
  throw cellError(
    row,
    col,
    `${quoteInput(text)} is not an action ` +
      '(expected <stage><F|I|W|B><micro-batch> such as 3F0, or (aFm;bBn)OVERLAP_F_B)',
  );
}

/** The ops of one cell, in execution order (empty for an idle step). */
function parseCell(raw: string, row: number, col: number): Op[] {
  const text = raw.trim();
  if (text === '') return [];
  if (text.includes('"')) throw cellError(row, col, `quoted cells are not supported (got ${quoteInput(raw)})`);
  if (text.startsWith('(')) {
    const m = OVERLAP.exec(text);
    if (!m) throw cellError(row, col, `${quoteInput(text)} is not an overlapped pair (expected (aFm;bBn)OVERLAP_F_B)`);
    const parts = m[1]!.split(';').map((s) => s.trim());
    if (parts.length < 2 || parts.some((s) => s === ''))
      throw cellError(row, col, `${quoteInput(text)} must list at least two actions separated by ';'`);
    return parts.map((s) => parseSingle(s, row, col));
  }
  return [parseSingle(text, row, col)];
}

function fits(rows: readonly Op[][], P: number, placement: Placement): boolean {
  return rows.every((ops, d) => ops.every((op) => deviceOfStage(op.stage, P, placement) === d));
}

/**
 * Reads a compute-only CSV into a schedule: P = rows, S = largest stage + 1, V = S / P, M = largest
 * micro-batch + 1, placement inferred (see TorchCsvOptions); each option, when given, overrides the inference
 * and is checked against the rows. Idle cells are dropped (replay starts every op as soon as it can).
 */
export function scheduleFromTorchCsv(text: string, opts: TorchCsvOptions = {}): Schedule {
  if (text === '') throw new ScheduleError('torch CSV is empty (expected one row of actions per rank)');
  // csv.writer ends every row with \r\n; one trailing line break closes the last row rather than adding a rank
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/);
  const rows = lines.map((line, r) => line.split(',').flatMap((cell, c) => parseCell(cell, r + 1, c + 1)));
  const P = rows.length;
  if (opts.stages !== undefined && opts.stages !== P)
    throw new ScheduleError(`torch CSV has ${P} rows (ranks) but ${opts.stages} stages were asked for`);
  let maxStage = -1;
  let maxMb = -1;
  for (const ops of rows)
    for (const op of ops) {
      maxStage = Math.max(maxStage, op.stage);
      maxMb = Math.max(maxMb, op.mb);
    }
  if (maxStage < 0) throw new ScheduleError('torch CSV holds no actions');

  let V: number;
  if (opts.chunksPerDevice !== undefined) {
    V = opts.chunksPerDevice;
    if (maxStage >= P * V)
      throw new ScheduleError(
        `torch CSV uses stage ${maxStage} but ${P} ranks with ${V} chunks each have stages 0..${P * V - 1}`,
      );
  } else {
    const S = maxStage + 1;
    if (S % P !== 0)
      throw new ScheduleError(
        `torch CSV uses ${S} stages (0..${maxStage}), not a multiple of its ${P} rows; give chunksPerDevice`,
      );
    V = S / P;
  }

  let placement: Placement;
  if (opts.placement !== undefined) {
    placement = opts.placement;
    if (!fits(rows, P, placement))
      throw new ScheduleError(
        `torch CSV: ${misplacedOp(rows, P, placement)}, which ${placement} placement does not allow`,
      );
  } else if (fits(rows, P, 'loop')) placement = 'loop';
  else if (fits(rows, P, 'v')) placement = 'v';
  else
    throw new ScheduleError(
      `torch CSV fits neither loop nor v placement: ${misplacedOp(rows, P, 'loop')} (loop), ` +
        `${misplacedOp(rows, P, 'v')} (v)`,
    );

  let M = maxMb + 1;
  if (opts.microBatches !== undefined) {
    if (maxMb >= opts.microBatches)
      throw new ScheduleError(
        `torch CSV uses micro-batch ${maxMb} but ${opts.microBatches} micro-batches were asked for`,
      );
    M = opts.microBatches;
  }
  const schedule: Schedule = { stages: P, chunksPerDevice: V, placement, microBatches: M, devices: rows };
  if (opts.name !== undefined) schedule.name = opts.name;
  return schedule;
}

function misplacedOp(rows: readonly Op[][], P: number, placement: Placement): string {
  for (let d = 0; d < rows.length; d++)
    for (const op of rows[d]!) {
      const want = deviceOfStage(op.stage, P, placement);
      if (want !== d)
        return `${formatAction(op)} is on row ${d + 1} (rank ${d}) but stage ${op.stage} belongs to rank ${want}`;
    }
  return 'every op fits';
}
