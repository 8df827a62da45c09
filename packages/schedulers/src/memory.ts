// Peak memory of a schedule depends only on each device's order (F allocates at start, B/W free at end).
import { ScheduleError, type Problem, type Schedule } from '@pprl/core-wasm';

/** Peak memory per device of the per-device orders. */
export function peakMemory(problem: Problem, schedule: Schedule): Float64Array {
  const peak = new Float64Array(schedule.devices.length);
  schedule.devices.forEach((ops, d) => {
    let cur = 0;
    let max = 0;
    for (const op of ops) {
      const s = op.stage;
      if (op.kind === 'F') cur += problem.memF[s]!;
      else if (op.kind === 'B') cur += problem.memB[s]!;
      else if (op.kind === 'W') cur += problem.memW[s]!;
      else cur += problem.memB[s]! + problem.memW[s]!;
      if (cur > max) max = cur;
    }
    peak[d] = max;
  });
  return peak;
}

/** Throws a ScheduleError naming the first device over the problem's limit and by how much. */
export function checkMemoryLimit(problem: Problem, schedule: Schedule, what: string): void {
  const limit = problem.memLimit;
  if (!Number.isFinite(limit)) return;
  const peak = peakMemory(problem, schedule);
  const d = peak.findIndex((p) => p > limit * (1 + 1e-9));
  if (d >= 0)
    throw new ScheduleError(
      `${what} needs ${peak[d]} memory on device ${d} but the limit is ${limit} (over by ${peak[d]! - limit}); ` +
        'raise the limit or choose a schedule that holds fewer activations',
    );
}
