// Schedule validation: every op exactly once on the right device, orders that can run, memory within the limit.
import {
  compileSchedule,
  DeadlockError,
  referenceReplay,
  ScheduleError,
  withProblem,
  type CompiledSchedule,
  type MemoryViolation,
  type Problem,
  type Schedule,
} from '@pprl/core-wasm';
import { peakMemory } from './memory.js';

export interface ValidationReport {
  ok: boolean;
  /** One line per problem found, most basic first (shape and completeness, then deadlock, then memory). */
  errors: string[];
  /** Per device, from the orders (empty when the schedule does not compile). */
  peakMemory: number[];
  memoryViolations: MemoryViolation[];
  /** Blocked head ops when the orders deadlock. */
  deadlock: DeadlockError['blocked'] | null;
  /** Makespan and span of one replay at zero noise (null when the schedule cannot run). */
  makespan: number | null;
  span: number | null;
}

interface Checked {
  report: ValidationReport;
  /** The error assertValid throws: the original ScheduleError (a DeadlockError keeps its blocked ops). */
  first: ScheduleError | null;
}

/** The same problem without fluctuation, so the reported makespan is the schedule's nominal one. */
function noiseless(problem: Problem): Problem {
  const n = problem.noise;
  if (n.cv === 0 && n.commCv === 0 && n.anomalyProb === 0) return problem;
  return withProblem(problem, { noise: { ...problem.config.noise, cv: 0, commCv: 0, anomalyProb: 0 } });
}

function check(problem: Problem, schedule: Schedule): Checked {
  const errors: ScheduleError[] = [];
  const report: ValidationReport = {
    ok: false,
    errors: [],
    peakMemory: [],
    memoryViolations: [],
    deadlock: null,
    makespan: null,
    span: null,
  };
  const done = (): Checked => {
    report.errors = errors.map((e) => e.message);
    report.ok = errors.length === 0;
    return { report, first: errors[0] ?? null };
  };

  if (!Array.isArray(schedule.devices) || schedule.devices.some((ops) => !Array.isArray(ops))) {
    errors.push(new ScheduleError('schedule.devices must be a list with one list of ops per device'));
    return done();
  }
  // Shape, placement, every op exactly once: compileSchedule stops at the first kind of fault.
  let compiled: CompiledSchedule;
  try {
    compiled = compileSchedule(problem, schedule);
  } catch (e) {
    if (!(e instanceof ScheduleError)) throw e;
    errors.push(e);
    return done();
  }

  // Memory depends on the orders only, so it is checked even when they deadlock.
  const peak = peakMemory(problem, schedule);
  report.peakMemory = Array.from(peak);
  const limit = problem.memLimit;
  if (Number.isFinite(limit))
    peak.forEach((p, device) => {
      if (p > limit * (1 + 1e-9)) report.memoryViolations.push({ device, peak: p, limit, excess: p - limit });
    });

  try {
    const r = referenceReplay(noiseless(problem), compiled);
    report.makespan = r.makespan[0]!;
    report.span = r.span[0]!;
  } catch (e) {
    if (!(e instanceof DeadlockError)) throw e;
    errors.push(e);
    report.deadlock = e.blocked;
  }
  for (const v of report.memoryViolations)
    errors.push(
      new ScheduleError(`device ${v.device} needs ${v.peak} memory but the limit is ${v.limit} (over by ${v.excess})`),
    );
  return done();
}

/**
 * Checks a schedule against a problem: shape and placement, every op exactly once (compileSchedule), orders
 * that can run (a zero-noise replay; a deadlock names the blocked ops), and the memory limit (naming the
 * device and the excess). Never throws for a bad schedule; see `assertValid`.
 */
export function validateSchedule(problem: Problem, schedule: Schedule): ValidationReport {
  return check(problem, schedule).report;
}

/** Throws the first fault validateSchedule finds as a ScheduleError (a DeadlockError for a deadlock). */
export function assertValid(problem: Problem, schedule: Schedule): void {
  const { first } = check(problem, schedule);
  if (first) throw first;
}
