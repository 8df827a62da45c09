// Value arbitraries for option values: valid, boundary and garbage strings, per kind of option.
//
// Every kind has three pools: `valid` values keep a case small enough to finish quickly (stages <= 8,
// micro-batches <= 32, episodes <= 50, ...), `bad` values are boundaries and garbage that a careful command
// rejects (or, for the few that parse to a small valid number, accepts), and `huge` values are valid but large.
// Huge values are only drawn in the deliberately huge cases (a small fraction): they must produce a prompt
// size-guard error or finish within the time limit.
//
// No value contains a NUL byte: a real argv cannot (C strings), so a NUL would only test the harness.
import fc from 'fast-check';

/** Control characters a shell can pass ($'\e...'): ESC sequences, CR, BEL, backspace, DEL, a C1 control. */
export const CONTROL_STRINGS = [
  '\x1b[31mred\x1b[0m',
  '\x1b]0;title\x07',
  'a\rb',
  'a\bb',
  '\x7f',
  '\x07',
  'x\x1b[2J',
  '\u009b31m',
  'tab\there',
  'line\nbreak',
];

/** Unicode that is not ASCII: letters, digits of other scripts, a full-width digit, an emoji, bidi controls, a BOM. */
export const UNICODE_STRINGS = [
  'ünïcödé',
  '日本語',
  '٣',
  '３',
  '😀',
  '\u202eevil',
  '\ufeff4',
  'Ⅳ',
  '−1',
  'ﬁ',
  'e\u0301',
];

/** Strings no option accepts as a number, and a few it may take for one (`0x10`, ` 4 `). */
export const GARBAGE = [
  '',
  ' ',
  'abc',
  'NaN',
  'nan',
  'Infinity',
  '-Infinity',
  'inf',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '1,',
  ',1',
  '1..2',
  '1e',
  'e5',
  '0x',
  '0b2',
  '1_000',
  '--',
  '-',
  '--stages',
  '$HOME',
  '%s%n',
  '../../etc/passwd',
  '9'.repeat(400),
  'a'.repeat(2000),
  ...CONTROL_STRINGS,
  ...UNICODE_STRINGS,
];

/** Numbers at the edges of every range: zero, negatives, fractions, overflow, float edge cases. */
export const NUMERIC_EDGES = [
  '0',
  '-0',
  '-1',
  '0.5',
  '1.5',
  '-1.5',
  '1e308',
  '-1e308',
  '1e309',
  '1e-400',
  '5e-324',
  '9007199254740993',
  '18446744073709551616',
  '2147483648',
  '4294967296',
  '-2147483649',
  '1e21',
];

const oneOf = (...arbs) => fc.oneof(...arbs);
const str = (xs) => fc.constantFrom(...xs.map(String));

/** Small integers in [lo, hi], also written in forms Number() accepts (`+4`, ` 4 `, `4.0`, `0x4`, `4e0`). */
export function smallInt(lo, hi) {
  return fc.tuple(fc.integer({ min: lo, max: hi }), fc.nat(19)).map(([n, form]) => {
    if (form === 0) return `+${n}`;
    if (form === 1) return ` ${n} `;
    if (form === 2) return `${n}.0`;
    if (form === 3) return `0x${n.toString(16)}`;
    if (form === 4) return `${n}e0`;
    return String(n);
  });
}

/** Small decimals in [lo, hi]. */
export function smallFloat(lo, hi) {
  return oneOf(
    fc
      .double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true })
      .map((x) => String(Math.round(x * 1000) / 1000)),
    fc.constantFrom(String(lo), String(hi)),
  );
}

/** The edges that are not large positive numbers: for options without an upper bound, where a large value is valid. */
export const SMALL_EDGES = NUMERIC_EDGES.filter((e) => !(Number(e) > 1e6));

/**
 * The bad pool of a numeric option: its own boundaries (just outside the range), the common edges and garbage.
 * `bounded: false` leaves out the large edges, for options that accept any large value (those are huge cases).
 */
export function badNumber(own = [], { bounded = true, edges = 3 } = {}) {
  return oneOf(
    { arbitrary: str(own.length ? own : ['0']), weight: 3 },
    { arbitrary: str(bounded ? NUMERIC_EDGES : SMALL_EDGES), weight: edges },
    { arbitrary: str(GARBAGE), weight: 2 },
  );
}

/**
 * Option kinds: `valid` / `bad` / `huge` arbitraries of the value string. `huge` is absent where no valid value is
 * costly. Ranges follow the commands' help texts (and the problem schema of @pprl/core-wasm).
 */
export const KINDS = {
  stages: {
    valid: smallInt(1, 8),
    bad: badNumber(['0', '1025', '2.5', '-4'], { edges: 1 }),
    huge: str(['1024', '512', '1000']),
  },
  microBatches: {
    valid: smallInt(1, 32),
    bad: badNumber(['0', '65537', '3.5', '-8'], { edges: 1 }),
    huge: str(['65536', '20000', '50000']),
  },
  chunks: { valid: smallInt(1, 4), bad: badNumber(['0', '17', '1.5'], { edges: 1 }), huge: str(['16']) },
  placement: {
    valid: str(['loop', 'v']),
    bad: str(['V', 'LOOP', 'zigzag', 'loop,v', '', ' v', ...CONTROL_STRINGS.slice(0, 2), '日本語']),
  },
  cost: {
    valid: costList(0.1, 3),
    bad: badList(['-1', '0,-1', '1,,1', '1,', 'NaN,1', '1e309', '1;2']),
    huge: str(['1e15', '1e300']),
  },
  comm: { valid: costList(0, 1), bad: badList(['-0.1', '1,,1', 'Infinity']), huge: str(['1e300']) },
  memF: { valid: str(['1', '2', '0.5', '1,1,1,1']), bad: badList(['-1', '0', 'x']) },
  memB: { valid: str(['0', '-1', '-0.5']), bad: badList(['1', 'x']) },
  memW: { valid: str(['-1', '-2', '0', '-0.5']), bad: badList(['1', 'x']) },
  memLimit: { valid: smallFloat(1, 16), bad: badNumber(['0', '-1', '0.1']), huge: str(['1e300']) },
  cv: { valid: str(['0', '0.1', '0.2', '0.3', '1', '3']), bad: badNumber(['3.0001', '-0.1', '4']) },
  prob: { valid: str(['0', '0.01', '0.1', '0.5', '1']), bad: badNumber(['1.01', '-0.01', '2']) },
  floor: { valid: str(['0', '0.05', '0.5', '1']), bad: badNumber(['1.5', '-0.5']) },
  factor: { valid: str(['1', '2', '3', '10', '1000']), bad: badNumber(['0.5', '1001', '0']) },
  seed: {
    valid: oneOf(smallInt(0, 100), str(['4294967295', '123456789'])),
    bad: badNumber(['-1', '4294967296', '0.5']),
  },
  model: {
    valid: str(['1.5B', '6.2B', '14.6B', '6', '1']),
    bad: str(['', 'nope', 'B', '6.2b', '7B', ...UNICODE_STRINGS.slice(0, 4), ...CONTROL_STRINGS.slice(0, 3)]),
  },
  microBatchSize: { valid: smallInt(1, 4), bad: badNumber(['0', '-1', '3.5', '1000']) },
  bandwidth: { valid: smallFloat(1, 400), bad: badNumber(['0', '-50']), huge: str(['1e-300']) },
  latency: { valid: smallFloat(0, 20), bad: badNumber(['-1']), huge: str(['1e300']) },
  // per command: simulate, evaluate and compare episodes
  episodes: {
    valid: smallInt(1, 50),
    bad: badNumber(['0', '10000001', '2.5', '-3']),
    huge: str(['10000000', '1000000']),
  },
  evalEpisodes: {
    valid: smallInt(2, 20),
    bad: badNumber(['0', '1', '10000001', '2.5']),
    huge: str(['10000000', '1000000']),
  },
  compareEpisodes: {
    valid: smallInt(1, 30),
    bad: badNumber(['0', '10000001', '2.5']),
    huge: str(['10000000', '1000000']),
  },
  boundEpisodes: { valid: smallInt(1, 3), bad: badNumber(['0', '10000001', '2.5']), huge: str(['100000', '1000000']) },
  oracleEpisodes: {
    valid: fc.oneof(
      { arbitrary: str(['0', '0', '0', '0e0', ' 0']), weight: 3 },
      { arbitrary: smallInt(1, 1), weight: 1 },
    ),
    bad: badNumber(['-1', '1.5', '1000000000']),
    huge: str(['1000', '100000']),
  },
  evaluations: { valid: smallInt(1, 300), bad: badNumber(['0', '-1', '1.5']), huge: str(['1000000000', '100000000']) },
  timeLimit: {
    valid: smallFloat(0.15, 0.3),
    bad: badNumber(['0', '-1', '0.001', '86401'], { bounded: false }),
    huge: str(['86400', '3600']),
  },
  episode: { valid: smallInt(0, 10), bad: badNumber(['-1', '1.5', '4294967296']), huge: str(['1000000000']) },
  format: {
    valid: str(['json', 'torch-csv', 'chrome-trace', 'svg']),
    bad: str(['JSON', 'csv', 'png', '', 'json,svg', ...CONTROL_STRINGS.slice(0, 2)]),
  },
  threads: { valid: smallInt(1, 2), bad: badNumber(['0', '65', '-1', '1.5']), huge: str(['64', '32']) },
  envs: {
    valid: str(['64', '8', '64,256', '16,32']),
    bad: str(['0', '-1', '64,', ',', 'a,b', '1e309', '64,,64', '4097', ...GARBAGE.slice(0, 6)]),
    huge: str(['4096', '64,256,1024,4096']),
  },
  qualityEpisodes: { valid: smallInt(1, 5), bad: badNumber(['0', '-1', '2.5']), huge: str(['100000', '10000000']) },
  workers: { valid: smallInt(1, 2), bad: badNumber(['0', '1025', '-1', '1.5']), huge: str(['1024']) },
  shard: {
    valid: str(['0/1', '0/2', '1/2', ' 0 / 1 ']),
    bad: str(['1/1', '2/2', '-1/2', '0/0', '0', '/', '1/', 'a/b', '0/1/2', '1e3/1e4', '０/１', ...GARBAGE.slice(0, 4)]),
  },
  shards: { valid: str(['1', '2']), bad: badNumber(['0', '-1', '1.5']) },
  demoEpisodes: {
    valid: str(['abc', '0', '-1', '1.5', '', 'NaN']),
    bad: str(['abc', '0', '-1', '1.5', '', 'NaN', 'Infinity', '1e309']),
  },
  text: { valid: str(['x', 'name']), bad: str(GARBAGE) },
};

/** A comma list of decimals: one value, or several (a per-stage list of a random length). */
function costList(lo, hi) {
  return fc.array(smallFloat(lo, hi), { minLength: 1, maxLength: 8 }).map((xs) => xs.join(','));
}

function badList(own) {
  return oneOf(
    { arbitrary: str(own), weight: 3 },
    { arbitrary: str(NUMERIC_EDGES), weight: 1 },
    { arbitrary: str(GARBAGE), weight: 2 },
  );
}

/**
 * A value of `kind`: valid most of the time, a bad value with probability `badWeight` / 100, a huge one only when
 * `huge` is set (the case's one deliberately huge option).
 */
export function valueOfKind(kind, { huge = false, badWeight = 3 } = {}) {
  const k = KINDS[kind];
  if (!k) throw new Error(`fuzz: no value kind ${kind}`);
  if (huge && k.huge) return k.huge;
  return fc.oneof({ arbitrary: k.valid, weight: 100 - badWeight }, { arbitrary: k.bad, weight: badWeight });
}
