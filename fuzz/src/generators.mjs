// The case generator: one fast-check arbitrary over every kind of case, and the case at (seed, index).
//
// A case is `{ kind, argv, files, env, huge }`: the argv after `pprl`, with `$CASE` (the case's own directory),
// `$FIXTURES` and `$REPO` for paths; file operations that prepare the case directory; environment variables; and
// the option given a deliberately huge value, if any. Case i of seed s is drawn with its own seed, so any case can
// be regenerated alone (`pnpm fuzz --seed s --only i`).
import fc from 'fast-check';
import { COMMAND_WEIGHTS, flagsCase, topLevelCase } from './commands.mjs';
import { checkpointCase, scheduleFileCase, sweepFileCase, trainConfigCase } from './files.mjs';

/** Share of each kind of case, in percent. */
export const KIND_WEIGHTS = {
  flags: 56,
  'top-level': 2,
  'schedule-file': 16,
  'train-config': 8,
  sweep: 9,
  checkpoint: 9,
};

/** One case in this many is deliberately huge (one size at a large valid value). */
export const HUGE_ONE_IN = 2000;

const weighted = (entries) => fc.oneof(...entries.map(([arbitrary, weight]) => ({ arbitrary, weight })));

/**
 * The arbitraries of every kind, built once for the fixtures. `kinds` and `commands` narrow a run to some kinds of
 * case and (for flags cases) some commands.
 */
export function caseArbitraries(fx, { kinds, commands } = {}) {
  const cmds = Object.entries(COMMAND_WEIGHTS).filter(([cmd]) => !commands || commands.includes(cmd));
  if (cmds.length === 0) throw new Error(`fuzz: no such command among ${Object.keys(COMMAND_WEIGHTS).join(', ')}`);
  const flags = weighted(cmds.map(([cmd, w]) => [flagsCase(cmd, { fx }), w]));
  const tag = (kind) => (c) => ({ kind, env: {}, ...c });
  const all = [
    ['flags', flags],
    ['top-level', topLevelCase],
    ['schedule-file', scheduleFileCase(fx)],
    ['train-config', trainConfigCase(fx)],
    ['sweep', sweepFileCase(fx)],
    ['checkpoint', checkpointCase(fx)],
  ].filter(([kind]) => !kinds || kinds.includes(kind));
  if (all.length === 0) throw new Error(`fuzz: no such kind of case among ${Object.keys(KIND_WEIGHTS).join(', ')}`);
  // without fast-check's bias towards small values: the percentages of the generators are meant as written (the
  // value pools hold the boundaries themselves)
  const normal = fc.noBias(weighted(all.map(([kind, arb]) => [arb.map(tag(kind)), KIND_WEIGHTS[kind]])));
  const hugeCmds = cmds.filter(([cmd]) => cmd !== 'bench all' && cmd !== 'demo' && cmd !== 'train' && cmd !== 'sweep');
  const hugeKinds = [];
  if ((!kinds || kinds.includes('flags')) && hugeCmds.length)
    hugeKinds.push([
      weighted(hugeCmds.map(([cmd, w]) => [flagsCase(cmd, { fx, huge: true }), w])).map(tag('flags')),
      8,
    ]);
  if (!kinds || kinds.includes('train-config'))
    hugeKinds.push([trainConfigCase(fx, { huge: true }).map(tag('train-config')), 2]);
  return { normal, huge: hugeKinds.length ? fc.noBias(weighted(hugeKinds)) : normal };
}

/** The seed of case `index` of a run seeded `seed` (a 32-bit mix, so neighbouring cases are unrelated). */
export function caseSeed(seed, index) {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Case `index` of seed `seed`. */
export function caseAt(arbs, seed, index) {
  const s = caseSeed(seed, index);
  const huge = s % HUGE_ONE_IN === 0;
  const [c] = fc.sample(huge ? arbs.huge : arbs.normal, { seed: s, numRuns: 1 });
  return { index, seed, ...c };
}
