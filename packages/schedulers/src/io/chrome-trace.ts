// A simulated timeline as Chrome's Trace Event Format (JSON object form), which Perfetto and chrome://tracing
// open: one process per device, compute ops on thread 0, transfers on comm threads below it.
import { formatAction, type Problem, type Timeline } from '@pprl/core-wasm';

export interface ChromeTraceOptions {
  /** Microseconds per problem time unit (default 1: the problem's unit is taken as a microsecond). */
  scale?: number;
  /** Shown in the trace's metadata (e.g. the schedule name). */
  name?: string;
}

/** One event of the Trace Event Format (the fields this exporter writes). */
export interface TraceEvent {
  name: string;
  ph: 'X' | 'M';
  pid: number;
  tid: number;
  cat?: string;
  ts?: number;
  dur?: number;
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms' | 'ns';
  otherData: Record<string, unknown>;
}

/** Thread ids: compute on 0, transfers from 1 (more lanes when transfers from one device overlap). */
export const COMPUTE_TID = 0;
export const COMM_TID = 1;

/**
 * The timeline as a trace: a complete event ('X') per op (pid = device, tid 0, name = torch action text,
 * cat = F|B|W|BW, args stage/mb/chunk) and per transfer (on the sending device, cat 'comm'), plus process and
 * thread names. Overlapping transfers of one device go to separate lanes, because complete events on one
 * thread must nest.
 */
export function timelineToChromeTrace(
  problem: Problem,
  timeline: Timeline,
  opts: ChromeTraceOptions = {},
): ChromeTrace {
  const scale = opts.scale ?? 1;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`scale must be a positive number (got ${scale})`);
  const P = problem.stages;
  const events: TraceEvent[] = [];
  for (let d = 0; d < P; d++) {
    events.push({ name: 'process_name', ph: 'M', pid: d, tid: COMPUTE_TID, args: { name: `device ${d}` } });
    events.push({ name: 'process_sort_index', ph: 'M', pid: d, tid: COMPUTE_TID, args: { sort_index: d } });
    events.push({ name: 'thread_name', ph: 'M', pid: d, tid: COMPUTE_TID, args: { name: 'compute' } });
  }
  for (const { device, op, start, end } of timeline.ops)
    events.push({
      name: formatAction(op),
      cat: op.kind,
      ph: 'X',
      pid: device,
      tid: COMPUTE_TID,
      ts: start * scale,
      dur: (end - start) * scale,
      args: { stage: op.stage, mb: op.mb, chunk: Math.floor(op.stage / P), kind: op.kind },
    });

  // Greedy interval partitioning per device: a transfer takes the first lane that is free when it starts.
  const laneFree: number[][] = Array.from({ length: P }, () => []);
  const namedLanes = new Set<string>();
  const transfers = [...timeline.transfers].sort((a, b) => a.start - b.start || a.end - b.end);
  for (const t of transfers) {
    const lanes = laneFree[t.fromDevice]!;
    let lane = lanes.findIndex((free) => free <= t.start);
    if (lane < 0) lane = lanes.push(t.end) - 1;
    else lanes[lane] = t.end;
    const tid = COMM_TID + lane;
    const key = `${t.fromDevice}:${tid}`;
    if (!namedLanes.has(key)) {
      namedLanes.add(key);
      events.push({
        name: 'thread_name',
        ph: 'M',
        pid: t.fromDevice,
        tid,
        args: { name: lane === 0 ? 'comm' : `comm ${lane + 1}` },
      });
    }
    const what = t.kind === 'F' ? 'activation' : 'gradient';
    events.push({
      name: `${what} mb ${t.mb}: stage ${t.fromStage} -> ${t.toStage}`,
      cat: 'comm',
      ph: 'X',
      pid: t.fromDevice,
      tid,
      ts: t.start * scale,
      dur: (t.end - t.start) * scale,
      args: {
        kind: t.kind,
        mb: t.mb,
        fromStage: t.fromStage,
        toStage: t.toStage,
        fromDevice: t.fromDevice,
        toDevice: t.toDevice,
      },
    });
  }
  const otherData: Record<string, unknown> = {
    devices: P,
    chunks: problem.chunks,
    placement: problem.placement,
    microBatches: problem.microBatches,
    episode: timeline.episode,
    microsecondsPerTimeUnit: scale,
  };
  if (opts.name !== undefined) otherData.schedule = opts.name;
  return { traceEvents: events, displayTimeUnit: 'ms', otherData };
}
