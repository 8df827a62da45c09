// What the V-placement schedules share (ZB-V, V-Half, V-Min; DualPipeV's check): the V-shape requirement, the six
// op lanes of a device, which stage and which neighbour device each lane belongs to, and the finished schedule.
// Device d holds model stages d (chunk 0, forward runs device 0 -> P-1) and 2P-1-d (chunk 1, forward runs back
// P-1 -> 0); stages P-1 and P meet on device P-1.
import { ScheduleError, type Op, type OpKind, type Problem, type Schedule } from '@pprl/core-wasm';
import { checkMemoryLimit } from '../../memory.js';

/** Throws unless the problem has two chunks per device in V placement. */
export function requireVShape(problem: Problem, name: string): void {
  if (problem.chunks !== 2 || problem.placement !== 'v')
    throw new ScheduleError(
      `${name} needs chunks = 2 and placement 'v' (stage s on device s for s < P, else 2P-1-s), ` +
        `but the problem has chunks = ${problem.chunks}, placement '${problem.placement}'`,
    );
}

/** Per-device op lanes, in the order one micro-batch visits them: F chunk 0, F chunk 1, B chunk 1, B chunk 0, W. */
export const F0 = 0;
export const F1 = 1;
export const B1 = 2;
export const B0 = 3;
export const W1 = 4;
export const W0 = 5;
export const LANE_KIND: readonly OpKind[] = ['F', 'F', 'B', 'B', 'W', 'W'];
const LANE_CHUNK: readonly number[] = [0, 1, 1, 0, 1, 0];

export function laneStage(P: number, device: number, lane: number): number {
  return LANE_CHUNK[lane] === 0 ? device : 2 * P - 1 - device;
}

export function laneOp(P: number, device: number, lane: number, mb: number): Op {
  return { kind: LANE_KIND[lane]!, mb, stage: laneStage(P, device, lane) };
}

/** Device whose op of the same lane and micro-batch this lane waits for, or -1 (turning point / first stage). */
export function neighbour(P: number, device: number, lane: number): number {
  if (lane === F0 || lane === B1) return device > 0 ? device - 1 : -1;
  if (lane === F1 || lane === B0) return device < P - 1 ? device + 1 : -1;
  return -1;
}

/** The schedule of these per-device orders; throws if it breaks the problem's memory limit. */
export function makeSchedule(problem: Problem, devices: Op[][], name: string): Schedule {
  const schedule: Schedule = {
    stages: problem.stages,
    chunksPerDevice: 2,
    placement: 'v',
    microBatches: problem.microBatches,
    devices,
    name,
  };
  checkMemoryLimit(problem, schedule, name);
  return schedule;
}
