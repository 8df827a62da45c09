// The zero-bubble reference's bubble rates (sail-sg/zero-bubble-pipeline-parallelism, branch arxiv,
// megatron/core/pipeline_parallel/efficiency.py, iclr_bubble_rates) reproduced by replaying our schedules.
import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { createSimulator, resolveProblem, type Problem, type Schedule } from '@pprl/core-wasm';
import { interleaved1F1B, oneFOneB } from '../src/generators/classic.js';
import { zbH1, zbH2 } from '../src/generators/zb-handcrafted.js';

interface UpstreamCase {
  stages: number;
  microBatches: number;
  cost: { F: number; B: number; W: number; comm: number };
  model: { layers: number };
  upstreamBubbleRate: Record<string, number>;
}

const data = JSON.parse(readFileSync(new URL('./fixtures/zb-upstream-bubbles.json', import.meta.url), 'utf8')) as {
  cases: UpstreamCase[];
};
const sim = await createSimulator();

/**
 * As-soon-as-possible end times of a fused-backward (F / BW) schedule, in plain TypeScript, with a hook that
 * may drop a dependency. Used only to show how upstream's interleaved timing differs from ours.
 */
function asapMakespan(
  problem: Problem,
  schedule: Schedule,
  keep: (kind: 'F' | 'BW', mb: number, stage: number, dep: number) => boolean,
): number {
  const { numStages: S, microBatches: M, stageDevice } = problem;
  const endF = new Float64Array(S * M).fill(NaN);
  const endB = new Float64Array(S * M).fill(NaN);
  const free = new Float64Array(schedule.devices.length);
  const head = new Int32Array(schedule.devices.length);
  const arrival = (ends: Float64Array, kind: 'F' | 'BW', mb: number, stage: number, dep: number) => {
    if (dep < 0 || dep >= S || !keep(kind, mb, stage, dep)) return 0;
    const hop = stageDevice[dep] === stageDevice[stage] ? 0 : problem.comm[Math.min(dep, stage)]!;
    return ends[dep * M + mb]! + hop;
  };
  let progressed = true;
  while (progressed) {
    progressed = false;
    schedule.devices.forEach((ops, d) => {
      for (; head[d]! < ops.length; head[d]!++) {
        const { kind, mb, stage } = ops[head[d]!]!;
        if (kind !== 'F' && kind !== 'BW') throw new Error('fused-backward schedules only');
        const ready =
          kind === 'F'
            ? arrival(endF, kind, mb, stage, stage - 1)
            : Math.max(endF[stage * M + mb]!, arrival(endB, kind, mb, stage, stage + 1));
        if (Number.isNaN(ready)) break;
        const start = Math.max(free[d]!, ready);
        free[d] = start + (kind === 'F' ? problem.costF[stage]! : problem.costB[stage]! + problem.costW[stage]!);
        (kind === 'F' ? endF : endB)[stage * M + mb] = free[d]!;
        progressed = true;
      }
    });
  }
  return Math.max(...free);
}

describe('zero-bubble reference bubble rates (profiled costs, comm per hop)', () => {
  for (const c of data.cases) {
    const { stages: P, microBatches: M } = c;
    const { F, B, W, comm } = c.cost;
    const ideal = M * (F + B + W);
    const rate = (t: number) => (t - ideal) / t;
    const up = c.upstreamBubbleRate;
    const problem = resolveProblem({ stages: P, microBatches: M, cost: { F, B, W }, comm: { time: comm } });
    const label = `P=${P} M=${M} F=${F} B=${B} W=${W} comm=${comm}`;

    it(`${label}: 1F1B, ZB-H1, ZB-H2 to 4 decimals`, () => {
      // 1F1B and ZB-H1: upstream times them by makespan (end of the last op), comm added on every hop as here;
      // its 1F1B is the H1 order with B+W fused (W cost 0), i.e. our 1F1B.
      expect(Math.abs(rate(sim.replay(problem, oneFOneB(problem)).makespan[0]!) - up['1F1B']!)).toBeLessThan(5e-5);
      expect(Math.abs(rate(sim.replay(problem, zbH1(problem)).makespan[0]!) - up['ZB-H1']!)).toBeLessThan(5e-5);
      // ZB-H2: upstream times it by the span (max over stages of last end - first F start), not the makespan;
      // on the 4096-hidden cases (W = 2/3 F) the makespan is longer and its rate would be 0.1003 / 0.0778 / 0.0405.
      const h2 = sim.replay(problem, zbH2(problem));
      expect(Math.abs(rate(h2.span[0]!) - up['ZB-H2']!)).toBeLessThan(5e-5);
    });

    // Interleaved 1F1B with V = layers / P chunks, each costing F/V, B/V, W/V (backward fused), comm per hop.
    // Our rate is 0.0008-0.0035 HIGHER than upstream's, and that is upstream's bug, not a schedule difference:
    // its timing loop (get_interleave_schedule) makes the first stage of chunk v wait for the last stage of
    // chunk v-1 (and the backward likewise) only for micro-batches k with k % P == 0 (`elif _rk == 0 and v > 0`),
    // so the other micro-batches cross from chunk to chunk for free. Same order, same costs: replaying it with
    // that dependency dropped reproduces upstream to 4 decimals, and with it kept reproduces our simulator.
    const V = c.model.layers / P;
    const chunked = resolveProblem({
      stages: P,
      chunks: V,
      microBatches: M,
      cost: { F: F / V, B: B / V, W: W / V },
      comm: { time: comm },
    });
    it(`${label}: interleaved 1F1B (V=${V}) vs upstream ${up['1F1B-interleaved(layers/p chunks)']}`, () => {
      const schedule = interleaved1F1B(chunked);
      const ours = sim.replay(chunked, schedule).makespan[0]!;
      expect(asapMakespan(chunked, schedule, () => true)).toBeCloseTo(ours, 3);
      const crossesChunk = (stage: number, dep: number) => Math.floor(stage / P) !== Math.floor(dep / P);
      const lenient = asapMakespan(
        chunked,
        schedule,
        (_kind, mb, stage, dep) => !crossesChunk(stage, dep) || mb % P === 0,
      );
      const upstream = up['1F1B-interleaved(layers/p chunks)']!;
      expect(Math.abs(rate(lenient) - upstream)).toBeLessThan(5e-5);
      expect(rate(ours) - upstream).toBeGreaterThan(5e-4);
      expect(rate(ours) - upstream).toBeLessThan(4e-3);
    });
  }
});
