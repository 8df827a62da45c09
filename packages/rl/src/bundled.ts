// Trained policies shipped with the package (packages/rl/checkpoints; configs and the command that regenerates
// each are in the package README).
import { fileURLToPath } from 'node:url';

export const BUNDLED_POLICIES = [
  'h200-6.2b-p4-m16-v2',
  'h200-14.6b-p8-m32-v2',
  'h200-6.2b-p4-m16-v1',
  'h200-14.6b-p8-m32-v1',
  // the generalist (a problem set drawn from ranges) and the specialists it is measured against on unseen problems
  'generalist',
  'h200-1.5b-p16-m64-v1',
  'h200-6.2b-seq2048-p8-m32-v1',
] as const;
export type BundledPolicy = (typeof BUNDLED_POLICIES)[number];

/** The checkpoint directory of a bundled policy (for loadPolicy, `pprl evaluate --policy`, `ppo:<dir>`). */
export function bundledPolicyDir(name: BundledPolicy): string {
  return fileURLToPath(new URL(`../checkpoints/${name}/`, import.meta.url));
}
