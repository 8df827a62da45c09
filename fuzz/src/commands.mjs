// The flags generator: for every command of `pprl --help`, its options (from `pprl <cmd> --help`) with valid,
// boundary and garbage values, plus unknown, duplicated, value-less and `--flag=value` spellings.
//
// Options whose defaults would make a valid case slow (episodes, oracle episodes, evaluations, the MILP time limit,
// --quick of the benchmarks) are always given, with small values unless they are the case's garbage. Only the
// case's one deliberately huge option (with `huge`) takes a large valid value.
import fc from 'fast-check';
import { CASE, inPath, outPath, writeText } from './paths.mjs';
import { GARBAGE, KINDS, smallFloat, valueOfKind } from './values.mjs';

export const FIXTURES = '$FIXTURES';
export const REPO = '$REPO';

/** Schedules and heuristics of @pprl/schedulers, and their V > 1 defaults. */
export const SCHEDULE_NAMES = [
  'gpipe',
  '1f1b',
  '1f1b-split',
  'interleaved-1f1b',
  'looped-bfs',
  'zb-h1',
  'zb-h2',
  'zb-auto',
  'zb-v',
  'v-half',
  'v-min',
  'dualpipe-v',
];
export const HEURISTIC_NAMES = ['greedy-zb', 'greedy-ffirst', 'greedy-cp'];
/** Searched schedules (`optimal`, `robust`): a local search each, so only in huge cases. */
export const SEARCHED_NAMES = ['optimal', 'robust'];

const PROFILE = `${REPO}/packages/core-wasm/profiles/h200-fbw-profiles.json`;
export const FIXTURE_RUN = `${FIXTURES}/run`;
const BUNDLED_POLICY = `${REPO}/packages/rl/checkpoints/h200-6.2b-p4-m16-v2`;

/** Scalar problem options: [flag, kind, percent present]. The sizes and lists are drawn together (problemArgs). */
const PROBLEM_SCALARS = [
  ['--mem-limit', 'memLimit', 12],
  ['--noise', 'cv', 30],
  ['--comm-noise', 'cv', 8],
  ['--noise-floor', 'floor', 5],
  ['--anomaly-prob', 'prob', 6],
  ['--anomaly-factor', 'factor', 5],
  ['--seed', 'seed', 15],
];
/** Per-stage list options: [flag, kind, lo, hi, percent present]. */
const PROBLEM_LISTS = [
  ['--cost-f', 'cost', 0.1, 3, 15],
  ['--cost-b', 'cost', 0.1, 3, 15],
  ['--cost-w', 'cost', 0.1, 3, 15],
  ['--comm', 'comm', 0, 1, 15],
];
/** Every problem flag (for the huge option and for the help). */
export const PROBLEM_FLAGS = [
  '--stages',
  '--micro-batches',
  '--chunks',
  '--placement',
  ...PROBLEM_LISTS.map(([f]) => f),
  '--mem-f',
  '--mem-b',
  '--mem-w',
  ...PROBLEM_SCALARS.map(([f]) => f),
  '--profile',
  '--model',
  '--micro-batch-size',
  '--bandwidth',
  '--latency',
];

const pct = (p) => fc.integer({ min: 0, max: 99 }).map((r) => r < p);
const opt = (flag, v) => ({ flag, v });
const plain = (value) => ({ value, files: [] });
/** The integer a size option's text stands for, if it is a small valid one. */
const sizeOf = (text, fallback) => {
  const n = Number(text);
  return text !== undefined && Number.isInteger(n) && n >= 1 && n <= 64 ? n : fallback;
};

/**
 * The problem options of a case, drawn together so that a valid case is likely: per-stage lists mostly have one
 * value or exactly S = P * V values, the memory deltas mostly add up to 0, the profile options mostly come with a
 * --profile. `scale` (percent) thins out how often each is given; `hugeFlag` gets a huge value.
 */
function problemArgs({ fx, hugeFlag, scale = 100 }) {
  const p = (x) => pct(Math.round((x * scale) / 100));
  const hv = (flag, kind) => valueOfKind(kind, { huge: flag === hugeFlag });
  const list = ([flag, kind, lo, hi, present]) =>
    fc
      .record({
        on: p(present),
        shape: fc.integer({ min: 0, max: 99 }),
        one: smallFloat(lo, hi),
        many: fc.array(smallFloat(lo, hi), { minLength: 32, maxLength: 32 }),
        bad: KINDS[kind].bad,
        huge: KINDS[kind].huge ?? fc.constant('1'),
      })
      .map((x) => ({ flag, ...x }));
  return fc
    .record({
      stages: fc.tuple(p(60), hv('--stages', 'stages')),
      microBatches: fc.tuple(p(60), hv('--micro-batches', 'microBatches')),
      chunks: fc.tuple(p(10), hv('--chunks', 'chunks')),
      placement: fc.tuple(p(8), valueOfKind('placement')),
      lists: fc.tuple(...PROBLEM_LISTS.map(list)),
      mem: fc.record({
        on: p(8),
        consistent: pct(80),
        a: fc.constantFrom(1, 2, 0.5),
        share: fc.constantFrom(0, 0.5, 1),
        f: valueOfKind('memF'),
        b: valueOfKind('memB'),
        w: valueOfKind('memW'),
      }),
      scalars: fc.tuple(
        ...PROBLEM_SCALARS.map(([flag, kind, present]) =>
          fc.tuple(p(present), hv(flag, kind)).map(([on, v]) => (on ? opt(flag, plain(v)) : null)),
        ),
      ),
      profile: fc.record({
        on: p(8),
        path: profilePath(fx),
        model: fc.tuple(pct(70), valueOfKind('model')),
        mbs: fc.tuple(
          pct(30),
          fc.oneof(
            { arbitrary: fc.constantFrom('1', '2', '4'), weight: 9 },
            { arbitrary: KINDS.microBatchSize.bad, weight: 1 },
          ),
        ),
        bandwidth: fc.tuple(pct(30), hv('--bandwidth', 'bandwidth')),
        latency: fc.tuple(pct(30), hv('--latency', 'latency')),
        stray: fc.integer({ min: 0, max: 99 }),
      }),
    })
    .map(({ stages, microBatches, chunks, placement, lists, mem, scalars, profile }) => {
      const out = [];
      const on = (flag, [present, v]) => (present || flag === hugeFlag) && out.push(opt(flag, plain(v)));
      on('--stages', stages);
      on('--micro-batches', microBatches);
      on('--chunks', chunks);
      on('--placement', placement);
      const S = sizeOf(stages[0] ? stages[1] : undefined, 4) * sizeOf(chunks[0] ? chunks[1] : undefined, 1);
      for (const l of lists) {
        if (!l.on && l.flag !== hugeFlag) continue;
        const value =
          l.flag === hugeFlag
            ? l.huge
            : l.shape < 3
              ? l.bad
              : l.shape < 75
                ? l.one
                : l.shape < 95
                  ? l.many.slice(0, S).join(',')
                  : l.many.slice(0, 1 + (l.shape % 7)).join(',');
        out.push(opt(l.flag, plain(value)));
      }
      if (mem.on) {
        const [f, b, w] = mem.consistent
          ? [mem.a, -mem.a * mem.share, -mem.a * (1 - mem.share)].map(String)
          : [mem.f, mem.b, mem.w];
        out.push(opt('--mem-f', plain(f)), opt('--mem-b', plain(b)), opt('--mem-w', plain(w)));
      }
      out.push(...scalars.filter(Boolean));
      if (profile.on) {
        out.push(opt('--profile', profile.path));
        for (const [flag, [present, v]] of [
          ['--model', profile.model],
          ['--micro-batch-size', profile.mbs],
          ['--bandwidth', profile.bandwidth],
          ['--latency', profile.latency],
        ])
          if (present) out.push(opt(flag, plain(v)));
      } else if (profile.stray < 2)
        out.push(opt(['--model', '--micro-batch-size', '--bandwidth', '--latency'][profile.stray % 4], plain('1')));
      return out;
    });
}

/** Option sizes that a huge case may blow up. */
const SIZE_KINDS = new Set([
  'stages',
  'microBatches',
  'chunks',
  'episodes',
  'evalEpisodes',
  'compareEpisodes',
  'boundEpisodes',
  'oracleEpisodes',
  'evaluations',
  'timeLimit',
  'episode',
  'threads',
  'envs',
  'qualityEpisodes',
  'cost',
  'comm',
  'latency',
  'bandwidth',
  'memLimit',
]);

/** A scheduler list: names, heuristics, trained policies, garbage entries, duplicates, empty items. */
function schedulerList(huge) {
  const item = fc.oneof(
    { arbitrary: fc.constantFrom(...SCHEDULE_NAMES), weight: 10 },
    { arbitrary: fc.constantFrom(...HEURISTIC_NAMES), weight: 4 },
    { arbitrary: fc.constantFrom(`ppo:${FIXTURE_RUN}`, `ppo:${FIXTURE_RUN}/best`, `ppo:${BUNDLED_POLICY}`), weight: 2 },
    {
      arbitrary: fc.constantFrom(
        'ppo:',
        `ppo:${CASE}/missing`,
        'ppo',
        'PPO:x',
        'nope',
        '1F1B',
        ' zb-h1',
        '',
        ...GARBAGE.slice(0, 8),
      ),
      weight: 1,
    },
    { arbitrary: fc.constantFrom(...SEARCHED_NAMES), weight: huge ? 6 : 0 },
  );
  // mostly distinct names (a name given twice is an error)
  return fc
    .tuple(fc.array(item, { minLength: 1, maxLength: 4 }), pct(85))
    .map(([xs, unique]) => plain((unique ? [...new Set(xs)] : xs).join(',')));
}

/** `--sweep factor=values` of compare. */
const sweepSpec = fc
  .oneof(
    {
      arbitrary: fc
        .tuple(
          fc.constantFrom('noise', 'comm'),
          fc.array(fc.constantFrom('0', '0.1', '0.3', '0.5', '1', '2'), { minLength: 1, maxLength: 3 }),
        )
        .map(([f, v]) => `${f}=${v.join(',')}`),
      weight: 8,
    },
    {
      arbitrary: fc.constantFrom(
        'noise=',
        'noise',
        '=1',
        'foo=1',
        'noise=a',
        'noise=-1',
        'noise=4',
        'comm=-1',
        'comm=1e309',
        'noise=0,,1',
        'noise=0;comm=1',
        'NOISE=0.1',
        'noise=0.1=2',
        ...GARBAGE.slice(0, 6),
      ),
      weight: 2,
    },
  )
  .map((value) => ({ value, files: [] }));

/** A profile file: the bundled one, a mutated copy or an unreadable path. */
function profilePath(fx) {
  const good = { value: PROFILE, files: [] };
  if (!fx) return inPath(good);
  const mutated = fc
    .record({
      drop: fc.nat(),
      field: fc.constantFrom('name', 'F', 'B', 'W', 'activation_bytes', 'p2p_bytes', 'profiles', 'microBatchSize'),
      value: fc.constantFrom(null, -1, 0, 'x', [], 1e308, ''),
    })
    .map(({ drop, field, value }) => {
      const p = structuredClone(fx.profile.value);
      const entries = Array.isArray(p.profiles) ? p.profiles : [];
      if (field === 'profiles') p.profiles = value;
      else if (entries.length) entries[drop % entries.length][field] = value;
      return { value: `${CASE}/profile.json`, files: [writeText('profile.json', JSON.stringify(p))] };
    });
  return fc.oneof({ arbitrary: inPath(good), weight: 3 }, { arbitrary: mutated, weight: 1 });
}

/** The value arbitrary of one option: `{ value, files }`. */
function optionValue(kind, { huge, fx }) {
  if (kind === 'profile') return profilePath(fx);
  if (kind === 'schedulers') return schedulerList(huge);
  if (kind === 'sweepSpec') return sweepSpec;
  if (kind.startsWith('out:')) return outPath(kind.slice(4));
  if (kind === 'policy')
    return fc
      .oneof(
        { arbitrary: fc.constantFrom(FIXTURE_RUN, `${FIXTURE_RUN}/best`, `${FIXTURE_RUN}/ckpt-000004`), weight: 8 },
        { arbitrary: fc.constantFrom(BUNDLED_POLICY), weight: 1 },
        { arbitrary: fc.constantFrom(`${CASE}/missing`, `${CASE}`, '', '-', FIXTURES), weight: 2 },
      )
      .map((value) => ({ value, files: [] }));
  if (kind === 'benchIn')
    return fc.constantFrom(`${CASE}/missing`, `${CASE}`, FIXTURES, '').map((value) => ({ value, files: [] }));
  return valueOfKind(kind, { huge }).map(plain);
}

/**
 * Commands: the positional arguments and options of each. `always` options are given in every case (with small
 * values) so that no default makes a case slow; `p` is the percent of cases that give an optional one.
 */
export const COMMANDS = {
  simulate: {
    positional: 'schedule',
    problem: 100,
    options: [
      ['--episodes', 'episodes', 90],
      ['--json', null, 40],
    ],
  },
  schedule: {
    positional: 'schedule',
    problem: 100,
    options: [
      ['--format', 'format', 70],
      ['--out', 'out:schedule.out', 30],
      ['--episode', 'episode', 15],
    ],
  },
  compare: {
    problem: 100,
    options: [
      ['--episodes', 'compareEpisodes', 100],
      ['--oracle-episodes', 'oracleEpisodes', 100],
      ['--schedulers', 'schedulers', 60],
      ['--sweep', 'sweepSpec', 20],
      ['--out', 'out:report', 10],
      ['--json', null, 40],
    ],
  },
  bound: {
    problem: 100,
    options: [
      ['--episodes', 'boundEpisodes', 100],
      ['--time-limit', 'timeLimit', 100],
      ['--evaluations', 'evaluations', 100],
      ['--schedulers', 'schedulers', 50],
      ['--json', null, 40],
    ],
  },
  evaluate: {
    problem: 40,
    options: [
      ['--policy', 'policy', 97],
      ['--episodes', 'evalEpisodes', 100],
      ['--oracle-episodes', 'oracleEpisodes', 100],
      ['--schedulers', 'schedulers', 70],
      ['--json', null, 40],
    ],
  },
  train: {
    // flags only: the configs are the train-config generator's; here a missing or odd --config / --out
    options: [
      ['--config', 'trainConfigPath', 80],
      ['--out', 'out:run', 80],
      ['--resume', null, 20],
      ['--json', null, 30],
    ],
  },
  sweep: {
    positional: 'sweepAction',
    options: [
      ['--config', 'sweepConfigPath', 70],
      ['--out', 'out:sweep', 80],
      ['--workers', 'workers', 20],
      ['--shard', 'shard', 15],
      ['--shards', 'shards', 8],
      ['--dry-run', null, 97],
      ['--json', null, 30],
    ],
  },
  demo: {
    // a valid demo takes tens of seconds: only bad episodes (the demo must reject them before it starts)
    options: [
      ['--episodes', 'demoEpisodes', 100],
      ['--stages', 'stages', 20],
      ['--micro-batches', 'microBatches', 20],
      ['--model', 'model', 20],
      ['--out', 'out:demo', 30],
      ['--json', null, 30],
      ['--policy', 'policy', 10],
    ],
  },
  'bench replay': {
    options: [
      ['--quick', null, 100],
      ['--json', null, 70],
      ['--out', 'out:bench.json', 20],
      ['--threads', 'threads', 20],
    ],
  },
  'bench env': {
    options: [
      ['--quick', null, 100],
      ['--json', null, 70],
      ['--out', 'out:bench.json', 20],
      ['--envs', 'envs', 40],
      ['--threads', 'threads', 10],
    ],
  },
  'bench quality': {
    options: [
      ['--quick', null, 100],
      ['--json', null, 70],
      ['--out', 'out:bench.json', 20],
      ['--episodes', 'qualityEpisodes', 80],
      ['--threads', 'threads', 15],
    ],
  },
  'bench scale': {
    options: [
      ['--quick', null, 100],
      ['--json', null, 70],
      ['--out', 'out:bench.json', 20],
    ],
  },
  'bench train': {
    options: [
      ['--quick', null, 100],
      ['--json', null, 70],
      ['--out', 'out:bench.json', 20],
      ['--threads', 'threads', 10],
    ],
  },
  'bench report': {
    options: [
      ['--in', 'benchIn', 90],
      ['--out', 'out:BENCHMARKS.md', 40],
    ],
  },
  // bench all runs every suite (tens of seconds even with --quick): only with a bad --threads
  'bench all': {
    options: [
      ['--out-dir', 'out:bench', 70],
      ['--quick', null, 100],
      ['--threads', 'badThreads', 100],
      ['--report', 'out:BENCHMARKS.md', 20],
    ],
  },
};

/** How often each command is drawn in a flags case (the cost of a valid case keeps the slow ones rare). */
export const COMMAND_WEIGHTS = {
  simulate: 260,
  schedule: 200,
  compare: 120,
  bound: 60,
  evaluate: 60,
  train: 40,
  sweep: 50,
  demo: 20,
  // a valid benchmark takes seconds even with --quick
  'bench replay': 3,
  'bench env': 2,
  'bench quality': 6,
  'bench scale': 6,
  'bench train': 2,
  'bench report': 20,
  'bench all': 5,
};

/** Positional arguments. */
function positional(kind, fx) {
  if (kind === 'schedule')
    return fc
      .oneof(
        { arbitrary: fc.constantFrom(...SCHEDULE_NAMES), weight: 12 },
        { arbitrary: fc.constantFrom(...HEURISTIC_NAMES), weight: 4 },
        // a trained policy's order (its own problem, or the one the flags give; the generalist has none of its own)
        {
          arbitrary: fc.constantFrom(
            `ppo:${BUNDLED_POLICY}`,
            `ppo:${FIXTURE_RUN}`,
            `ppo:${REPO}/packages/rl/checkpoints/generalist`,
            'ppo:',
            `ppo:${CASE}/missing`,
          ),
          weight: 3,
        },
        {
          arbitrary: fc.constantFrom(
            ...(fx ? fx.schedules.map((s) => s.file.replace(fx.dir, FIXTURES)) : [`${CASE}/missing.json`]),
          ),
          weight: 3,
        },
        {
          arbitrary: fc.constantFrom(
            'nope',
            'ZB-H1',
            '1f1b ',
            'optimal',
            'robust',
            'ppo:x',
            `${CASE}/missing.json`,
            `${CASE}/missing.CSV`,
            `${CASE}`,
            '-',
            ...GARBAGE.slice(0, 10),
          ),
          weight: 1,
        },
      )
      .map((value) => ({ args: [value], files: [] }));
  if (kind === 'sweepAction')
    return fc
      .oneof(
        { arbitrary: fc.constant([]), weight: 20 },
        { arbitrary: fc.constantFrom(['report'], ['REPORT'], ['run'], [''], ['report', 'extra']), weight: 2 },
      )
      .map((args) => ({ args, files: [] }));
  return fc.constant({ args: [], files: [] });
}

/** A training config file for the flags generator: the fixture's, a repository config or an odd path. */
function configPath(kind, _fx) {
  if (kind === 'trainConfigPath') {
    // the repository's configs train for hours: the train-config generator gives them with tiny step budgets
    return inPath({ value: `${FIXTURES}/train.json`, files: [] });
  }
  return inPath({ value: `${FIXTURES}/sweep.json`, files: [] });
}

/** Extra argv noise: an unknown flag, a typo, a flag without its value, `--`, an odd positional. */
const EXTRAS = fc.constantFrom(
  ['--nope'],
  ['--stage', '4'],
  ['-x'],
  ['--STAGES', '4'],
  ['--json=true'],
  ['--episodes'],
  ['--'],
  ['extra-positional'],
  ['-'],
  ['--help'],
  ['-h'],
  ['--version'],
  ['--no-json'],
  ['---stages', '4'],
  ['\x1b[31m'],
  ['ünï'],
  ['--stages', '--json'],
);

/**
 * The argv of one flags case of `command`: `{ argv, files, huge }`. `huge` names the option (if any) given a large
 * valid value.
 */
export function flagsCase(command, { fx, huge = false } = {}) {
  const spec = COMMANDS[command];
  const sizeFlags = [
    ...spec.options.filter(([, kind]) => kind && SIZE_KINDS.has(kind)).map(([f]) => f),
    ...(spec.problem ? ['--stages', '--micro-batches', '--chunks', '--cost-f', '--comm', '--latency'] : []),
  ];
  const hugeFlag = huge && sizeFlags.length ? fc.constantFrom(...sizeFlags) : fc.constant(null);
  return hugeFlag.chain((hf) => {
    const own = spec.options.map(([flag, kind, p]) => {
      let value;
      if (kind === null) value = fc.constant(null);
      else if (kind === 'trainConfigPath' || kind === 'sweepConfigPath') value = configPath(kind, fx);
      else if (kind === 'badThreads') value = fc.constantFrom('0', '-1', '65', 'abc', '', '1.5').map(plain);
      else value = optionValue(kind, { huge: flag === hf, fx });
      return fc.tuple(pct(p), value).map(([on, v]) => (on || flag === hf ? opt(flag, v) : null));
    });
    return fc
      .record({
        pos: positional(spec.positional, fx),
        own: fc.tuple(...own),
        problem: spec.problem ? problemArgs({ fx, hugeFlag: hf, scale: spec.problem }) : fc.constant([]),
        shape: fc.array(fc.record({ key: fc.nat(), r: fc.integer({ min: 0, max: 99 }) }), {
          minLength: 40,
          maxLength: 40,
        }),
        extras: fc.array(fc.tuple(EXTRAS, fc.nat()), { maxLength: 2 }),
        extraRate: fc.integer({ min: 0, max: 99 }),
        posFirst: fc.integer({ min: 0, max: 99 }),
        dupValue: fc.constantFrom('4', '2', '0.1', 'x', ''),
      })
      .map(({ pos, own, problem, shape, extras, extraRate, posFirst, dupValue }) => {
        const files = [...pos.files];
        const given = [...own.filter(Boolean), ...problem];
        // a stable shuffle by drawn keys; now and then `--flag=value`, or the flag twice
        const keyed = given.map((o, i) => ({ ...o, ...shape[i % shape.length] })).sort((a, b) => a.key - b.key);
        const args = [];
        const boundaries = [0];
        for (const { flag, v, r } of keyed) {
          if (args.length) boundaries.push(args.length);
          if (v === null) args.push(flag);
          else {
            files.push(...v.files);
            if (r < 5) args.push(`${flag}=${v.value}`);
            else args.push(flag, v.value);
            if (r >= 98) args.push(flag, dupValue);
          }
        }
        // the positional mostly first, sometimes between or after the options
        const at = posFirst < 70 ? 0 : posFirst < 85 ? args.length : boundaries[posFirst % boundaries.length];
        args.splice(at, 0, ...pos.args);
        if (extraRate < 4) for (const [extra, where] of extras) args.splice(where % (args.length + 1), 0, ...extra);
        return { argv: [...command.split(' '), ...args], files, huge: hf };
      });
  });
}

/** Top-level cases: no command, help, version, unknown commands. */
export const topLevelCase = fc
  .constantFrom(
    [],
    ['--help'],
    ['-h'],
    ['help'],
    ['help', 'simulate'],
    ['help', 'nope'],
    ['--version'],
    ['-V'],
    ['nope'],
    ['simulat'],
    ['bench'],
    ['bench', 'nope'],
    ['bench', 'help', 'replay'],
    ['SIMULATE'],
    ['--stages', '4'],
    ['\x1b[2J'],
    ['日本語'],
    ['simulate'],
    ['schedule'],
    ['evaluate'],
    ['train'],
    ['sweep', 'report'],
    ['bound', '--help'],
    ['simulate', '--help', 'nope'],
  )
  .map((argv) => ({ argv, files: [], huge: null }));
