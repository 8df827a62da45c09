// The dynamic executor (docs/SEMANTICS.md sections 1 and 4): no fixed order; whenever a device is idle and more
// than one op class is eligible, a policy picks one. The event core (src/engine/core.ts) driven by a policy
// callback; the heuristics of @pprl/schedulers run on it. Same duration formulas and noise keys as the replay, so
// an order realized here replays to the same times.
import { DeadlockError } from './errors.js';
import { EventCore } from './engine/core.js';
import { MEMORY_RULES, type MemoryRule } from './engine/memory.js';
import type { Problem } from './problem.js';
import { buildTimeline, newRawTimeline, type Timeline } from './result.js';
import { decodeOp, type CompiledSchedule, type Op, type Schedule } from './schedule.js';

export { MEMORY_RULES, type MemoryRule };

/**
 * What a policy sees at a decision. One object is reused for every decision of a run (no allocation): read it,
 * never keep it. Classes of the deciding device: index c * 3 + kind (kind F = 0, B = 1, W = 2) for its local
 * chunk c (the c-th model stage on the device in increasing stage order); action `wait` (= classes) stays idle
 * until the next event.
 */
export interface DynamicView {
  readonly problem: Problem;
  /** The idle device that decides. */
  readonly device: number;
  readonly time: number;
  /** V: chunks per device. */
  readonly chunks: number;
  /** 3V op classes; also the index of the wait action. */
  readonly classes: number;
  /** Length 3V + 1: 1 where the class is eligible; the last entry is 1 when waiting is allowed. */
  readonly mask: Uint8Array;
  /** Length V: model stage of each local chunk of this device. */
  readonly stage: Int32Array;
  /** Length 3V: the class's next micro-batch (M when the class is exhausted). */
  readonly nextMb: Int32Array;
  /** Length 3V: ops of the class not yet started. */
  readonly remaining: Int32Array;
  /** Length 3V: base (noise-free) compute cost of the class's next op; 0 when exhausted. */
  readonly nextCost: Float64Array;
  /** Length P: current memory of every device. */
  readonly memory: Float64Array;
  /** Per-device memory limit (Infinity when none). */
  readonly memLimit: number;
  /** Ops running plus transfers in flight, on all devices. */
  readonly inFlight: number;
  /** Eligible classes (at least 2 at a decision). */
  readonly eligible: number;
}

/** Returns a class index c * 3 + kind that is eligible, or `view.classes` to wait. */
export type DynamicPolicy = (view: DynamicView) => number;

export interface DynamicOptions {
  /** Episode index: the noise draw (common random numbers with the static replay). Default 0. */
  episode?: number;
  /** Default `reserve`. */
  memoryRule?: MemoryRule;
  /** Record the timeline. */
  timeline?: boolean;
  /** Name given to the realized schedule. */
  name?: string;
}

export interface DynamicResult {
  episode: number;
  makespan: number;
  /** Max over devices of (end of the last op - start of the first op). */
  span: number;
  /** Per device: summed op durations. */
  busy: Float64Array;
  peakMemory: Float64Array;
  /** Policy calls (only made when more than one class is eligible). */
  decisions: number;
  /** Decisions that chose to wait. */
  waits: number;
  /** The realized per-device order in the simulators' flat form (every device holds 3 V M ops). */
  order: CompiledSchedule;
  /** The same order as a schedule (kinds F, B and W). */
  schedule: Schedule;
  timeline?: Timeline;
}

/**
 * Runs a problem dynamically (docs/SEMANTICS.md section 4): a class's next op is its lowest micro-batch not yet
 * started; eligibility (inputs delivered, memory under the rule of `memoryRule`) is the core's. At each event time,
 * after every op end and arrival at that time, idle devices are visited in ascending order: no eligible class ->
 * idle; one -> it starts; more -> the policy picks a class or waits (allowed only while some op runs or some
 * transfer is in flight, so time always advances; the device is asked again at the next event).
 * Allocates its state once; `run` may be called for any number of episodes and policies.
 */
export class DynamicExecutor {
  private readonly core: EventCore;
  private readonly view: {
    -readonly [K in keyof DynamicView]: DynamicView[K];
  };

  constructor(readonly problem: Problem) {
    const V = problem.chunks;
    this.core = new EventCore(problem);
    this.view = {
      problem,
      device: 0,
      time: 0,
      chunks: V,
      classes: 3 * V,
      mask: new Uint8Array(3 * V + 1),
      stage: new Int32Array(V),
      nextMb: new Int32Array(3 * V),
      remaining: new Int32Array(3 * V),
      nextCost: new Float64Array(3 * V),
      memory: this.core.curMem,
      memLimit: problem.memLimit,
      inFlight: 0,
      eligible: 0,
    };
  }

  run(policy: DynamicPolicy, opts: DynamicOptions = {}): DynamicResult {
    const episode = opts.episode ?? 0;
    if (!Number.isInteger(episode) || episode < 0 || episode > 0x7fffffff)
      throw new RangeError(`episode must be an integer in [0, 2^31) (got ${episode})`);
    const memoryRule = opts.memoryRule ?? 'reserve';
    if (!MEMORY_RULES.includes(memoryRule))
      throw new RangeError(`memoryRule must be one of ${MEMORY_RULES.join(', ')} (got ${String(memoryRule)})`);
    const { core, view } = this;
    const { P, V, S, M, perDevice, runKind, events } = core;
    core.beginDynamic(episode, memoryRule);
    const order = new Int32Array(P * perDevice);
    const raw = opts.timeline ? newRawTimeline(P * perDevice, S * M) : undefined;
    core.order = order;
    core.timeline = raw ?? null;
    const classes = 3 * V;
    const mask = view.mask;
    let decisions = 0;
    let waits = 0;
    do {
      for (let d = 0; d < P; d++) {
        if (runKind[d]! >= 0) continue;
        const count = core.fillMask(d, mask);
        if (count === 0) continue;
        let action = -1;
        if (count === 1) {
          action = mask.indexOf(1);
        } else {
          // waiting needs something to run or be in flight, so that time advances
          mask[classes] = events.size > 0 ? 1 : 0;
          this.fillView(d, count);
          action = policy(view);
          decisions++;
          if (action === classes && mask[classes] === 1) {
            waits++;
            continue;
          }
          if (!(Number.isInteger(action) && action >= 0 && action < classes && mask[action] === 1))
            throw new RangeError(
              `policy chose action ${action} on device ${d} at time ${core.time}, which is not allowed ` +
                `(mask ${Array.from(mask).join('')}; the last entry is wait)`,
            );
        }
        core.start(d, action);
      }
      if (!core.advance()) throw new DeadlockError(core.blockedClasses());
    } while (core.done < core.total);
    core.order = null;
    core.timeline = null;

    const devStart = Int32Array.from({ length: P + 1 }, (_, d) => d * perDevice);
    const compiled: CompiledSchedule = { ops: order, devStart };
    const devices: Op[][] = [];
    for (let d = 0; d < P; d++) {
      const ops: Op[] = [];
      for (let h = d * perDevice; h < (d + 1) * perDevice; h++) ops.push(decodeOp(order[h]!, S));
      devices.push(ops);
    }
    const schedule: Schedule = {
      stages: P,
      chunksPerDevice: V,
      placement: this.problem.placement,
      microBatches: M,
      devices,
    };
    if (opts.name !== undefined) schedule.name = opts.name;
    const result: DynamicResult = {
      episode,
      makespan: core.makespan(),
      span: core.span(),
      busy: core.busy.slice(),
      peakMemory: core.peak.slice(),
      decisions,
      waits,
      order: compiled,
      schedule,
    };
    if (raw) result.timeline = buildTimeline(this.problem, compiled, raw, episode);
    return result;
  }

  private fillView(d: number, count: number): void {
    const { V, S, M, devStages, nextMb, cost } = this.core;
    const view = this.view;
    view.device = d;
    view.time = this.core.time;
    view.inFlight = this.core.events.size;
    view.eligible = count;
    for (let c = 0; c < V; c++) {
      const s = devStages[d * V + c]!;
      view.stage[c] = s;
      for (let kind = 0; kind < 3; kind++) {
        const k = c * 3 + kind;
        const m = nextMb[kind * S + s]!;
        view.nextMb[k] = m;
        view.remaining[k] = M - m;
        view.nextCost[k] = m < M ? cost[kind * S + s]! : 0;
      }
    }
  }
}

/** Runs one episode of `problem` under `policy` (see DynamicExecutor for the semantics). */
export function runDynamic(problem: Problem, policy: DynamicPolicy, opts: DynamicOptions = {}): DynamicResult {
  return new DynamicExecutor(problem).run(policy, opts);
}
