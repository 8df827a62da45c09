// The markers around the generalization section of RESULTS.md: scripts/generalization.mjs writes between them,
// scripts/results.mjs keeps what is there when it regenerates the rest.
export const GENERALIZATION_START = '<!-- generalization: written by scripts/generalization.mjs -->';
export const GENERALIZATION_END = '<!-- end of generalization -->';
