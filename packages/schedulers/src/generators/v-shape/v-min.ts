// V-Min (arXiv 2405.15362): the controllable-memory V schedule at about a third of 1F1B's activation memory,
// built from the building block (block.ts) with V-Min's slot offsets.
import type { Generator } from '../../types.js';
import { buildFromBlock } from './block.js';

/** First-slot offsets of (F0, F1, B1, B0) on device i of V-Min's stable pattern. */
function minOffsets(P: number): number[][] {
  return Array.from({ length: P }, (_, i) => {
    const gap = P % 3 === 0 ? 2 : 0;
    return [i, 2 * P - i - 1, 2 * P + gap + i, 4 * P + gap - i - 1];
  });
}

/** V-Min: about a third of 1F1B's activation memory ((P+4)/3 device-stage units); more bubble than V-Half. */
export const vMin: Generator = (problem) => buildFromBlock(problem, minOffsets, 'v-min');
