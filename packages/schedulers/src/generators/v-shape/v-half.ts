// V-Half (arXiv 2405.15362): the controllable-memory V schedule at about half of 1F1B's activation memory,
// built from the building block (block.ts) with V-Half's slot offsets.
import type { Generator } from '../../types.js';
import { buildFromBlock } from './block.js';

/** First-slot offsets of (F0, F1, B1, B0) on device i of V-Half's stable pattern. */
function halfOffsets(P: number): number[][] {
  return Array.from({ length: P }, (_, i) => {
    const gap = P % 2 === 0 ? 3 : 0;
    return [2 * i, 3 * P - i - 2, 3 * P + gap + 2 * i - 1, 6 * P + gap - i - 2];
  });
}

/**
 * V-Half: about half of 1F1B's activation memory ((P+2)/2 device-stage units, i.e. about P+2 chunk-F units)
 * from the controllable-memory building block; the order does not depend on costs.
 */
export const vHalf: Generator = (problem) => buildFromBlock(problem, halfOffsets, 'v-half');
