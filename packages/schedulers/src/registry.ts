// Every static schedule by its CLI name (docs/SEMANTICS.md section 5).
import { quoteInput, UserError } from '@pprl/core-wasm';
import { dualPipeV } from './generators/dualpipe-v.js';
import { gpipe, interleaved1F1B, loopedBfs, oneFOneB, oneFOneBSplit } from './generators/classic.js';
import { vHalf } from './generators/v-shape/v-half.js';
import { vMin } from './generators/v-shape/v-min.js';
import { zbV } from './generators/v-shape/zb-v.js';
import { zbAuto } from './generators/zb-auto/index.js';
import { zbH1, zbH2 } from './generators/zb-handcrafted.js';
import type { ScheduleInfo } from './types.js';

export const SCHEDULES: readonly ScheduleInfo[] = [
  { name: 'gpipe', description: 'all forwards, then all fused backwards (GPipe)', chunks: 1, build: gpipe },
  {
    name: '1f1b',
    description: 'one forward, one fused backward after a warm-up (PipeDream-flush / Megatron)',
    chunks: 1,
    build: oneFOneB,
  },
  {
    name: '1f1b-split',
    description: '1F1B with split backward, each W right after its B',
    chunks: 1,
    build: oneFOneBSplit,
  },
  {
    name: 'interleaved-1f1b',
    description: 'interleaved 1F1B over V >= 2 chunks per device, loop placement (Megatron, PyTorch)',
    placement: 'loop',
    build: interleaved1F1B,
  },
  {
    name: 'looped-bfs',
    description: 'breadth-first over chunks, loop placement (PyTorch LoopedBFS)',
    placement: 'loop',
    build: loopedBfs,
  },
  {
    name: 'zb-h1',
    description: 'zero-bubble handcrafted H1: split backward, W fills the cool-down; 1F1B memory',
    chunks: 1,
    build: zbH1,
  },
  {
    name: 'zb-h2',
    description: 'zero-bubble handcrafted H2: more warm-up forwards, no bubble at twice the memory',
    chunks: 1,
    build: zbH2,
  },
  {
    name: 'zb-auto',
    description: 'zero-bubble automatic (greedy) scheduler under the memory limit, best of its variants',
    chunks: 1,
    build: zbAuto,
  },
  {
    name: 'zb-v',
    description: 'zero-bubble V schedule: two chunks in a V, 1F1B memory',
    chunks: 2,
    placement: 'v',
    build: zbV,
  },
  {
    name: 'v-half',
    description: 'controllable-memory V schedule at about half of 1F1B memory',
    chunks: 2,
    placement: 'v',
    build: vHalf,
  },
  {
    name: 'v-min',
    description: 'controllable-memory V schedule at about a third of 1F1B memory',
    chunks: 2,
    placement: 'v',
    build: vMin,
  },
  {
    name: 'dualpipe-v',
    description: 'DualPipeV (DeepSeek): V placement with forward/backward overlap phases',
    chunks: 2,
    placement: 'v',
    build: dualPipeV,
  },
];

export function scheduleNames(): string[] {
  return SCHEDULES.map((s) => s.name);
}

/** The entry of a schedule name; an unknown name lists the valid ones. */
export function findSchedule(name: string): ScheduleInfo {
  const info = SCHEDULES.find((s) => s.name === name);
  if (!info) throw new UserError(`unknown schedule ${quoteInput(name)}; valid names: ${scheduleNames().join(', ')}`);
  return info;
}
