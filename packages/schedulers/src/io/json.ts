// Schedule <-> JSON. Ops are written in torch's action text (`3F0`) so a file reads like a spreadsheet row per
// device; on input both that text form and the object form ({kind, mb, stage}) are accepted.
import {
  formatAction,
  parseAction,
  quoteInput,
  ScheduleError,
  type Op,
  type OpKind,
  type Placement,
  type Schedule,
} from '@pprl/core-wasm';

const TOP_KEYS = new Set(['stages', 'chunksPerDevice', 'placement', 'microBatches', 'name', 'devices']);
const OP_KEYS = new Set(['kind', 'mb', 'stage']);
const KINDS: readonly OpKind[] = ['F', 'B', 'W', 'BW'];

/** Pretty JSON with one line per device: `{"stages": 4, ..., "devices": [["0F0", "0F1", ...], ...]}`. */
export function scheduleToJson(schedule: Schedule): string {
  const head: [string, unknown][] = [
    ['stages', schedule.stages],
    ['chunksPerDevice', schedule.chunksPerDevice],
    ['placement', schedule.placement],
    ['microBatches', schedule.microBatches],
  ];
  if (schedule.name !== undefined) head.push(['name', schedule.name]);
  const lines = head.map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
  const devices = schedule.devices.map((ops) => `    ${JSON.stringify(ops.map(formatAction))}`);
  return ['{', ...lines, '  "devices": [', devices.join(',\n'), '  ]', '}', ''].join('\n');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function positiveInt(obj: Record<string, unknown>, key: string, fallback?: number): number {
  const v = obj[key] ?? fallback;
  if (v === undefined) throw new ScheduleError(`schedule JSON: "${key}" is missing`);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new ScheduleError(`schedule JSON: "${key}" must be a positive integer (got ${quoteInput(v)})`);
  return v;
}

function parseOp(entry: unknown, where: string): Op {
  if (typeof entry === 'string') {
    try {
      return parseAction(entry);
    } catch {
      // parseAction's message would echo the whole text, whatever its length
      throw new ScheduleError(
        `schedule JSON: ${where}: not an action: ${quoteInput(entry)} ` +
          '(expected <stage><F|I|W|B><micro-batch>, e.g. 3F0)',
      );
    }
  }
  if (!isRecord(entry))
    throw new ScheduleError(
      `schedule JSON: ${where}: expected an action string such as "3F0" or {kind, mb, stage} ` +
        `(got ${quoteInput(entry)})`,
    );
  const extra = Object.keys(entry).filter((k) => !OP_KEYS.has(k));
  if (extra.length)
    throw new ScheduleError(
      `schedule JSON: ${where}: unknown field ${quoteInput(extra[0])} (expected kind, mb, stage)`,
    );
  const { kind, mb, stage } = entry;
  if (typeof kind !== 'string' || !KINDS.includes(kind as OpKind))
    throw new ScheduleError(`schedule JSON: ${where}: kind must be F, B, W or BW (got ${quoteInput(kind)})`);
  for (const [name, v] of [
    ['mb', mb],
    ['stage', stage],
  ] as const)
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw new ScheduleError(`schedule JSON: ${where}: ${name} must be an integer >= 0 (got ${quoteInput(v)})`);
  return { kind: kind as OpKind, mb: mb as number, stage: stage as number };
}

/**
 * Reads a schedule written by `scheduleToJson` (or the same shape with ops as {kind, mb, stage} objects).
 * `chunksPerDevice` defaults to 1 and `placement` to `loop`. Throws ScheduleError naming the bad field, or the
 * device and index of a bad op. Completeness is not checked here (see validateSchedule).
 */
export function scheduleFromJson(text: string): Schedule {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ScheduleError(`schedule JSON: not valid JSON (${(e as Error).message})`);
  }
  if (!isRecord(raw))
    throw new ScheduleError(
      'schedule JSON: expected an object {stages, chunksPerDevice, placement, microBatches, devices}',
    );
  const extra = Object.keys(raw).filter((k) => !TOP_KEYS.has(k));
  if (extra.length)
    throw new ScheduleError(
      `schedule JSON: unknown field ${quoteInput(extra[0])} (expected ${[...TOP_KEYS].join(', ')})`,
    );
  const stages = positiveInt(raw, 'stages');
  const chunksPerDevice = positiveInt(raw, 'chunksPerDevice', 1);
  const microBatches = positiveInt(raw, 'microBatches');
  const placement = raw.placement ?? 'loop';
  if (placement !== 'loop' && placement !== 'v')
    throw new ScheduleError(`schedule JSON: "placement" must be "loop" or "v" (got ${quoteInput(placement)})`);
  const name = raw.name;
  if (name !== undefined && typeof name !== 'string')
    throw new ScheduleError(`schedule JSON: "name" must be a string (got ${quoteInput(name)})`);
  const list = raw.devices;
  if (!Array.isArray(list))
    throw new ScheduleError('schedule JSON: "devices" must be a list with one list of ops per device');
  if (list.length !== stages)
    throw new ScheduleError(`schedule JSON: "devices" lists ${list.length} devices but "stages" is ${stages}`);
  const S = stages * chunksPerDevice;
  const devices = list.map((ops: unknown, d: number) => {
    if (!Array.isArray(ops))
      throw new ScheduleError(`schedule JSON: device ${d}: expected a list of ops (got ${quoteInput(ops)})`);
    return ops.map((entry: unknown, i: number) => {
      const where = `device ${d}, op ${i}`;
      const op = parseOp(entry, where);
      if (op.stage >= S)
        throw new ScheduleError(
          `schedule JSON: ${where} (${formatAction(op)}): stage must be < ${S} (stages * chunksPerDevice)`,
        );
      if (op.mb >= microBatches)
        throw new ScheduleError(`schedule JSON: ${where} (${formatAction(op)}): micro-batch must be < ${microBatches}`);
      return op;
    });
  });
  const schedule: Schedule = { stages, chunksPerDevice, placement: placement as Placement, microBatches, devices };
  if (name !== undefined) schedule.name = name;
  return schedule;
}
