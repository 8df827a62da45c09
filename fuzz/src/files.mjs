// File generators: schedule files (JSON and torch CSV exported by `pprl schedule`, then mutated), training configs
// (packages/rl/configs/*.json with tiny step budgets, then mutated), sweep files (JSON and YAML, mutated, with YAML
// tags, aliases and deep nesting) and checkpoints (the fixture run directory, a bundled checkpoint or the fixture
// sweep, corrupted). Every generator returns `{ argv, files, huge }`.
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { FIXTURES } from './commands.mjs';
import {
  applyByteGenes,
  applyTreeGenes,
  byteGene,
  deeplyNestedText,
  expandDeep,
  jsonText,
  randomBytes,
  treeGene,
} from './mutate.mjs';
import { CASE, outPath, writeBytes, writeText } from './paths.mjs';
import { CONTROL_STRINGS, valueOfKind } from './values.mjs';

const writeMaybeBytes = (path, buf) =>
  Buffer.isBuffer(buf) && !isUtf8(buf) ? writeBytes(path, buf) : writeText(path, buf.toString('utf8'));
function isUtf8(buf) {
  return Buffer.from(buf.toString('utf8'), 'utf8').equals(buf);
}

// ---------------------------------------------------------------------------------------------------------------
// schedule files

const ACTION_OPS = [
  'delete',
  'duplicate',
  'swap',
  'move',
  'corrupt',
  'corrupt',
  'reverseDevice',
  'dropDevice',
  'dupDevice',
  'emptyDevice',
];
const actionGene = fc.record({ op: fc.constantFrom(...ACTION_OPS), d: fc.nat(), i: fc.nat(), variant: fc.nat(40) });

/** A corrupted action token ("0F3": stage 0, forward, micro-batch 3). */
function corruptAction(token, variant) {
  const t = typeof token === 'string' ? token : '0F0';
  const m = /^(\d+)([A-Z])(\d+)$/.exec(t) ?? [t, '0', 'F', '0'];
  const [, s, k, mb] = m;
  const options = [
    `${s}X${mb}`,
    `${s}f${mb}`,
    `${s}B${mb}`,
    `${s}I${mb}`,
    `${s}W${mb}`,
    `99${k}${mb}`,
    `-1${k}${mb}`,
    `${s}${k}999`,
    `${s}${k}-1`,
    `${s}${k}`,
    `${k}${mb}`,
    '',
    ' ',
    `${t} `,
    ` ${t}`,
    `0${t}`,
    `${s}${k}0${mb}`,
    `${s}${k}${mb}x`,
    `${s}${k}99999999999999999999`,
    `${s}${k}1e3`,
    `${s}${k}1.5`,
    '０F０',
    `${t}\x1b[31m`,
    `${t}\r`,
    `${t},${t}`,
    `"${t}"`,
    0,
    null,
    true,
    [t],
    { action: t },
    -1,
    1e308,
    'a'.repeat(1000),
  ];
  return options[variant % options.length];
}

/** Applies action-level genes to the device lists of a schedule (arrays of action tokens). */
function mutateDevices(devices, genes) {
  for (const g of genes) {
    if (!Array.isArray(devices) || devices.length === 0) return;
    const d = g.d % devices.length;
    const dev = devices[d];
    if (!Array.isArray(dev)) continue;
    const i = dev.length ? g.i % dev.length : 0;
    switch (g.op) {
      case 'delete':
        dev.splice(i, 1);
        break;
      case 'duplicate':
        if (dev.length) dev.splice(i, 0, dev[i]);
        break;
      case 'swap':
        if (dev.length > 1) [dev[i], dev[(i + 1) % dev.length]] = [dev[(i + 1) % dev.length], dev[i]];
        break;
      case 'move': {
        const to = devices[(d + 1) % devices.length];
        if (dev.length && Array.isArray(to)) to.splice(g.variant % (to.length + 1), 0, ...dev.splice(i, 1));
        break;
      }
      case 'corrupt':
        if (dev.length) dev[i] = corruptAction(dev[i], g.variant);
        break;
      case 'reverseDevice':
        dev.reverse();
        break;
      case 'dropDevice':
        devices.splice(d, 1);
        break;
      case 'dupDevice':
        devices.splice(d, 0, [...dev]);
        break;
      case 'emptyDevice':
        devices[d] = [];
        break;
    }
  }
}

/** The text of a mutated schedule file (a Buffer: byte mutations may leave invalid UTF-8). */
const scheduleText = (fx) =>
  fc
    .record({
      s: fc.nat(),
      actions: fc.array(actionGene, { maxLength: 3 }),
      tree: fc.array(treeGene, { maxLength: 2 }),
      treeRate: fc.integer({ min: 0, max: 99 }),
      bytes: fc.array(byteGene, { minLength: 1, maxLength: 2 }),
      byteRate: fc.integer({ min: 0, max: 99 }),
      random: randomBytes,
      randomRate: fc.integer({ min: 0, max: 99 }),
      indent: fc.constantFrom(undefined, 2, '\t'),
    })
    .map(({ s, actions, tree, treeRate, bytes, byteRate, random, randomRate, indent }) => {
      const src = fx.schedules[s % fx.schedules.length];
      if (randomRate < 4) return { src, data: Buffer.from(random) };
      let text;
      if (src.format === 'json') {
        let value = JSON.parse(src.text);
        mutateDevices(value.devices, actions);
        if (treeRate < 35) value = applyTreeGenes(value, tree);
        text = jsonText(value, indent);
      } else {
        const lines = src.text
          .replace(/\n$/, '')
          .split('\n')
          .map((l) => l.split(','));
        mutateDevices(lines, actions);
        const mutatedRows = lines.map((l) =>
          Array.isArray(l) ? l.map((t) => (typeof t === 'string' ? t : JSON.stringify(t))).join(',') : String(l),
        );
        text = `${mutatedRows.join('\n')}\n`;
      }
      return { src, data: byteRate < 25 ? applyByteGenes(text, bytes) : Buffer.from(text, 'utf8') };
    });

/** `simulate <file>` or `schedule <file>` with a mutated schedule file. */
export function scheduleFileCase(fx) {
  return fc
    .record({
      text: scheduleText(fx),
      ext: fc.integer({ min: 0, max: 99 }),
      cmd: fc.constantFrom('simulate', 'simulate', 'schedule'),
      episodes: valueOfKind('episodes', { badWeight: 5 }),
      noise: fc.constantFrom(null, null, '0.2', '0'),
      json: fc.boolean(),
      format: valueOfKind('format', { badWeight: 5 }),
      out: outPath('converted.out'),
      outRate: fc.integer({ min: 0, max: 99 }),
      override: fc.constantFrom(
        [],
        [],
        [],
        [],
        ['--stages', '3'],
        ['--micro-batches', '2'],
        ['--chunks', '2'],
        ['--placement', 'v'],
        ['--chunks', '1'],
        ['--mem-limit', '2'],
        ['--cost-f', '1,2,3'],
      ),
    })
    .map(({ text, ext, cmd, episodes, noise, json, format, out, outRate, override }) => {
      const real = text.src.format === 'json' ? 'json' : 'csv';
      const name =
        ext < 85
          ? `schedule.${real}`
          : ext < 90
            ? `schedule.${real.toUpperCase()}`
            : ext < 95
              ? `schedule.${real === 'json' ? 'csv' : 'json'}`
              : `schedule.${real}.txt`;
      const files = [writeMaybeBytes(name, text.data)];
      const argv = [cmd, `${CASE}/${name}`, ...override];
      if (cmd === 'simulate') {
        argv.push('--episodes', episodes);
        if (noise) argv.push('--noise', noise);
        if (json) argv.push('--json');
      } else {
        argv.push('--format', format);
        if (outRate < 40) {
          argv.push('--out', out.value);
          files.push(...out.files);
        }
      }
      return { argv, files, huge: null };
    });
}

// ---------------------------------------------------------------------------------------------------------------
// training configs

/** Step budgets and sizes of a training config, capped so that a valid config trains in well under a second. */
const BUDGET_CAPS = {
  totalSteps: 256,
  envs: 4,
  stepsPerRollout: 16,
  epochs: 2,
  minibatches: 4,
  evalEpisodes: 4,
  'teacher.cloneSteps': 64,
  'problem.stages': 4,
  'problem.microBatches': 8,
  'problem.chunks': 2,
  'network.hidden.*': 16,
};

/** Whether a dotted training-config path (or a sweep field) is one of the budgets. */
export function isBudgetPath(path) {
  const p = path.replace(/\.\d+$/, '.*');
  return Object.keys(BUDGET_CAPS).some((k) => k === p || k.startsWith(`${p}.`) || p.startsWith(`${k}.`));
}

/**
 * Caps the budgets of a (mutated) config: a number above its cap becomes the cap. Values of the wrong type or out
 * of range below are left for the validation to reject; the network gets at most 3 layers.
 */
export function tameConfig(config) {
  if (!config || typeof config !== 'object' || Array.isArray(config)) return config;
  const cap = (obj, key, max) => {
    if (obj && typeof obj === 'object' && typeof obj[key] === 'number' && obj[key] > max && Number.isFinite(obj[key]))
      obj[key] = max;
  };
  for (const k of ['totalSteps', 'envs', 'stepsPerRollout', 'epochs', 'minibatches', 'evalEpisodes'])
    cap(config, k, BUDGET_CAPS[k]);
  // an absent budget would take its default (2,000,000 steps, 64 environments): set the small ones
  for (const k of ['totalSteps', 'envs', 'stepsPerRollout', 'evalEpisodes'])
    if (!(k in config)) config[k] = BUDGET_CAPS[k];
  if (config.teacher && typeof config.teacher === 'object')
    cap(config.teacher, 'cloneSteps', BUDGET_CAPS['teacher.cloneSteps']);
  if (config.problem && typeof config.problem === 'object') {
    cap(config.problem, 'stages', BUDGET_CAPS['problem.stages']);
    cap(config.problem, 'microBatches', BUDGET_CAPS['problem.microBatches']);
    cap(config.problem, 'chunks', BUDGET_CAPS['problem.chunks']);
  }
  const net = config.network;
  if (net && typeof net === 'object' && Array.isArray(net.hidden)) {
    if (net.hidden.length > 3) net.hidden.length = 3;
    net.hidden.forEach((_, i) => cap(net.hidden, i, BUDGET_CAPS['network.hidden.*']));
  }
  return config;
}

/** A deliberately huge config: one budget at a large valid value. */
const HUGE_BUDGETS = [
  (c) => (c.totalSteps = 1e12),
  (c) => Object.assign(c, { envs: 4096, stepsPerRollout: 65536 }),
  (c) => (c.problem = { ...(c.problem ?? {}), stages: 1024, microBatches: 65536 }),
  (c) => (c.network = { hidden: Array(8).fill(1024) }),
  (c) => Object.assign(c, { evalEpisodes: 100000, evalInterval: 1 }),
  (c) => (c.teacher = { schedule: 'zb-h1', cloneSteps: 1e12 }),
];

/** A repository config (or the fixture's) with tiny step budgets: what the mutations start from. */
const tinyConfig = (fx) =>
  fc
    .record({
      c: fc.nat(),
      steps: fc.constantFrom(64, 128, 256),
      envs: fc.constantFrom(2, 4),
      rollout: fc.constantFrom(8, 16),
      evalInterval: fc.constantFrom(0, 1, 2),
      evalEpisodes: fc.constantFrom(2, 4),
    })
    .map(({ c, steps, envs, rollout, evalInterval, evalEpisodes }) => {
      const all = [{ name: 'fixture', value: fx.trainConfig }, ...fx.configs];
      const base = structuredClone(all[c % all.length].value);
      Object.assign(base, {
        totalSteps: steps,
        envs,
        stepsPerRollout: rollout,
        evalInterval,
        evalEpisodes,
        checkpointInterval: 1,
        epochs: 1,
        minibatches: 2,
      });
      base.network = { ...(base.network ?? {}), hidden: [8, 8] };
      if (base.teacher) base.teacher.cloneSteps = Math.min(base.teacher.cloneSteps ?? 0, 64);
      if (base.problem) {
        if (base.problem.stages > 4) base.problem.stages = 4;
        if (base.problem.microBatches > 8) base.problem.microBatches = 8;
      }
      return base;
    });

/** `train --config <mutated config> --out <dir>`. */
export function trainConfigCase(fx, { huge = false } = {}) {
  return fc
    .record({
      base: tinyConfig(fx),
      tree: fc.array(treeGene, { minLength: 0, maxLength: 4 }),
      bytes: fc.array(byteGene, { minLength: 1, maxLength: 2 }),
      byteRate: fc.integer({ min: 0, max: 99 }),
      which: fc.nat(HUGE_BUDGETS.length - 1),
      name: fc.constantFrom('config.json', 'config.json', 'config.json', 'config.JSON', 'config.yaml', 'config'),
      out: outPath('run'),
      json: fc.boolean(),
      resume: fc.integer({ min: 0, max: 99 }),
    })
    .map(({ base, tree, bytes, byteRate, which, name, out, json, resume }) => {
      let config = applyTreeGenes(base, tree);
      if (huge) HUGE_BUDGETS[which](config);
      else config = tameConfig(config);
      const text = jsonText(config, 2);
      const data = byteRate < 20 ? applyByteGenes(text, bytes) : Buffer.from(text, 'utf8');
      const argv = ['train', '--config', `${CASE}/${name}`, '--out', out.value];
      if (json) argv.push('--json');
      if (resume < 10) argv.push('--resume');
      return { argv, files: [writeMaybeBytes(name, data), ...out.files], huge: huge ? `config:${which}` : null };
    });
}

// ---------------------------------------------------------------------------------------------------------------
// sweep files

/** Sweep field names: real dotted fields, unknown ones, and prototype keys. */
const SWEEP_FIELDS = [
  'seed',
  'learningRate',
  'entropyCoef',
  'problem.noise.cv',
  'network.hidden',
  'gamma',
  'envs',
  'totalSteps',
  'nope',
  'network.nope',
  'problem..stages',
  '',
  '.',
  'seed.',
  'problem.stages.x',
  '__proto__.polluted',
  'constructor.prototype.polluted',
  'network.__proto__.polluted',
  'ünï',
  'problem',
];
const DISTRIBUTIONS = [
  { uniform: [0, 1] },
  { logUniform: [1e-4, 1e-3] },
  { int: [1, 3] },
  { choice: [1, 2] },
  { uniform: [1, 0] },
  { logUniform: [0, 1] },
  { int: [0.5, 2] },
  { choice: [] },
  { uniform: [0, 1], int: [0, 1] },
  {},
  { uniform: [0] },
  { uniform: [-1e308, 1e308] },
  { logUniform: [1e-300, 1e300] },
  // biome-ignore lint/correctness/noPrecisionLoss: 2^53 + 1 on purpose: the value a JSON reader cannot hold exactly
  { int: [-9007199254740993, 9007199254740993] },
  { normal: [0, 1] },
  { choice: 'abc' },
];

const sweepGene = fc.record({
  op: fc.constantFrom(
    'gridField',
    'gridValues',
    'randomParam',
    'samples',
    'dropGrid',
    'dropRandom',
    'dupGridValue',
    'emptyGrid',
  ),
  f: fc.nat(SWEEP_FIELDS.length - 1),
  d: fc.nat(DISTRIBUTIONS.length - 1),
  n: fc.nat(100),
});

function applySweepGenes(sweep, genes) {
  if (!sweep || typeof sweep !== 'object') return sweep;
  for (const g of genes) {
    const field = SWEEP_FIELDS[g.f];
    switch (g.op) {
      case 'gridField':
        sweep.grid = { ...(sweep.grid && typeof sweep.grid === 'object' ? sweep.grid : {}) };
        Object.defineProperty(sweep.grid, field, {
          value: [1, 2].slice(0, 1 + (g.n % 2)),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        break;
      case 'gridValues':
        if (sweep.grid && typeof sweep.grid === 'object') {
          const keys = Object.keys(sweep.grid);
          if (keys.length)
            sweep.grid[keys[g.n % keys.length]] = [
              [],
              [1, 1],
              [null],
              Array.from({ length: 200 }, (_, i) => i),
              'x',
              {},
              [1e308, -1],
              [[64, 64]],
            ][g.n % 8];
        }
        break;
      case 'randomParam':
        sweep.random = {
          samples: 2,
          seed: 0,
          params: {},
          ...(sweep.random && typeof sweep.random === 'object' ? sweep.random : {}),
        };
        if (!sweep.random.params || typeof sweep.random.params !== 'object') sweep.random.params = {};
        Object.defineProperty(sweep.random.params, field, {
          value: structuredClone(DISTRIBUTIONS[g.d]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        break;
      case 'samples':
        sweep.random = {
          params: { learningRate: { uniform: [1e-4, 1e-3] } },
          ...(sweep.random && typeof sweep.random === 'object' ? sweep.random : {}),
          samples: [0, -1, 1, 2, 3, 10000, 10001, 1.5, 1e308, '2'][g.n % 10],
        };
        break;
      case 'dropGrid':
        delete sweep.grid;
        break;
      case 'dropRandom':
        delete sweep.random;
        break;
      case 'dupGridValue':
        if (sweep.grid && typeof sweep.grid === 'object')
          for (const k of Object.keys(sweep.grid))
            if (Array.isArray(sweep.grid[k]) && sweep.grid[k].length) sweep.grid[k].push(sweep.grid[k][0]);
        break;
      case 'emptyGrid':
        sweep.grid = {};
        break;
    }
  }
  return sweep;
}

/** YAML-only text: tags, anchors and aliases (a billion laughs), merge keys, several documents, tabs. */
const YAML_EXTRAS = [
  (t) => `%YAML 1.1\n---\n${t}`,
  (t) => t.replace(/seed: (\d+)/, 'seed: !!str $1'),
  (t) => t.replace(/seed: (\d+)/, 'seed: !!binary aGVsbG8='),
  (t) => t.replace(/seed: (\d+)/, 'seed: !!timestamp 2001-12-14'),
  (t) => t.replace(/seed: (\d+)/, 'seed: !custom 1'),
  (t) => t.replace(/seed: (\d+)/, 'seed: !!js/function "function(){ return 1 }"'),
  (t) => t.replace(/seed: (\d+)/, 'seed: !!float .nan'),
  (t) => t.replace(/seed: (\d+)/, 'seed: .inf'),
  (t) => `${t}\nextra: !!set { a, b }\n`,
  (t) => `${t}---\nbase: {}\n`,
  (t) =>
    'a: &a [x, x, x, x, x, x, x, x, x]\n' +
    'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n' +
    'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n' +
    'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n' +
    `e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n${t}`,
  (t) => `defaults: &defaults\n  envs: 2\n${t.replace(/^base:\n/m, 'base:\n  <<: *defaults\n')}`,
  (t) => t.replace(/\n {2}/g, '\n\t'),
  (t) => `${t}\nbase: { dup: 1 }\n`,
  (t) => `? [complex, key]\n: 1\n${t}`,
  (t) => `${t}\nref: *nowhere\n`,
  (t) => `${t}\ndeep: ${deeplyNestedText(5000)}\n`,
  (t) => t.replace(/seed: (\d+)/, 'seed: 0o17'),
  (t) => t.replace(/seed: (\d+)/, 'seed: 1_000'),
  (t) => t.replace(/seed: (\d+)/, 'seed: 0x_1'),
  (t) => `${t}\n${CONTROL_STRINGS[0]}: 1\n`,
];

const sweepBase = (fx) =>
  fc.record({ s: fc.nat(), cfg: tinyConfig(fx) }).map(({ s, cfg }) => {
    const all = [
      { name: 'fixture', value: { base: structuredClone(fx.trainConfig), grid: { seed: [1] } } },
      ...fx.sweeps,
    ];
    const sweep = structuredClone(all[s % all.length].value);
    // the examples train for hours: their base gets the budgets of a tiny config
    if (sweep && typeof sweep.base === 'object')
      sweep.base = tameConfig({
        ...sweep.base,
        ...pick(cfg, [
          'totalSteps',
          'envs',
          'stepsPerRollout',
          'evalEpisodes',
          'evalInterval',
          'checkpointInterval',
          'epochs',
          'minibatches',
        ]),
      });
    return sweep;
  });

function pick(o, keys) {
  return Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));
}

/** How many runs a (valid-looking) sweep expands to; Infinity when unknown. */
function runCount(sweep) {
  try {
    const grid = Object.values(sweep.grid ?? {});
    const n =
      grid.reduce((a, v) => a * (Array.isArray(v) ? v.length : Infinity), 1) *
      (sweep.random ? Number(sweep.random.samples) : 1);
    return Number.isFinite(n) ? n : Infinity;
  } catch {
    return Infinity;
  }
}

/** Whether a sweep varies a budget (its runs could train for long). */
function variesBudget(sweep) {
  const fields = [...Object.keys(sweep?.grid ?? {}), ...Object.keys(sweep?.random?.params ?? {})];
  return fields.some((f) => isBudgetPath(f) || f === 'problem' || f === 'network');
}

/** `sweep --config <mutated sweep file> --out <dir>`, mostly --dry-run. */
export function sweepFileCase(fx) {
  return fc
    .record({
      base: sweepBase(fx),
      sweepGenes: fc.array(sweepGene, { maxLength: 3 }),
      tree: fc.array(treeGene, { maxLength: 3 }),
      treeRate: fc.integer({ min: 0, max: 99 }),
      format: fc.constantFrom('json', 'yaml', 'yaml', 'yml', 'txt'),
      yamlExtra: fc.nat(YAML_EXTRAS.length - 1),
      yamlRate: fc.integer({ min: 0, max: 99 }),
      bytes: fc.array(byteGene, { minLength: 1, maxLength: 2 }),
      byteRate: fc.integer({ min: 0, max: 99 }),
      dryRun: fc.integer({ min: 0, max: 99 }),
      json: fc.boolean(),
      shard: fc.option(valueOfKind('shard'), { freq: 6 }),
      shards: fc.option(
        fc.tuple(
          valueOfKind('shards'),
          fc.constantFrom('SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX', null),
          fc.constantFrom('0', '1', '-1', '', 'x', ' 0 ', '99'),
        ),
        { freq: 8 },
      ),
      workers: fc.option(valueOfKind('workers'), { freq: 8 }),
      out: outPath('sweep'),
    })
    .map(
      ({
        base,
        sweepGenes,
        tree,
        treeRate,
        format,
        yamlExtra,
        yamlRate,
        bytes,
        byteRate,
        dryRun,
        json,
        shard,
        shards,
        workers,
        out,
      }) => {
        let sweep = applySweepGenes(base, sweepGenes);
        if (treeRate < 40) sweep = applyTreeGenes(sweep, tree);
        if (sweep && typeof sweep.base === 'object' && sweep.base !== null) tameConfig(sweep.base);
        let text =
          format === 'json'
            ? jsonText(sweep, 2)
            : expandDeep(sweep === undefined ? '' : toYaml(sweep, { aliasDuplicateObjects: false }));
        if (format !== 'json' && yamlRate < 30) text = YAML_EXTRAS[yamlExtra](text);
        const data = byteRate < 15 ? applyByteGenes(text, bytes) : Buffer.from(text, 'utf8');
        const name = `sweep.${format}`;
        const argv = ['sweep', '--config', `${CASE}/${name}`, '--out', out.value];
        // a real sweep trains every run in a child process: only one or two tiny runs, never a varied budget
        const real = dryRun < 8 && runCount(sweep) <= 2 && !variesBudget(sweep) && byteRate >= 15;
        if (!real) argv.push('--dry-run');
        if (json) argv.push('--json');
        if (shard !== null) argv.push('--shard', shard);
        const env = {};
        if (shards !== null) {
          argv.push('--shards', shards[0]);
          if (shards[1]) env[shards[1]] = shards[2];
        }
        if (workers !== null) argv.push('--workers', workers);
        return { argv, files: [writeMaybeBytes(name, data), ...out.files], env, huge: null };
      },
    );
}

// ---------------------------------------------------------------------------------------------------------------
// checkpoints

const CORRUPTIONS = ['truncate', 'truncate', 'delete', 'toDir', 'garbage', 'json', 'json', 'nan', 'latest', 'empty'];
const corruptionGene = fc.record({
  op: fc.constantFrom(...CORRUPTIONS),
  f: fc.nat(),
  n: fc.nat(),
  tree: fc.array(treeGene, { minLength: 1, maxLength: 2 }),
  bytes: randomBytes,
});

const LATEST_VALUES = [
  { checkpoint: 'ckpt-999999', iteration: 999999 },
  { checkpoint: '../best' },
  { checkpoint: 'best' },
  { checkpoint: 'ckpt-000003' },
  { checkpoint: 'ckpt-1e3' },
  { checkpoint: 3 },
  {},
  [],
  null,
  { checkpoint: 'ckpt-000004\n' },
  { checkpoint: 'ckpt-0000004' },
];

/** File operations that corrupt a copied tree (`root`: its path in the case directory; `tree`: its listing). */
function corrupt(root, tree, jsonOf, genes) {
  const ops = [];
  for (const g of genes) {
    const file = tree[g.f % tree.length];
    const path = `${root}/${file.path}`;
    switch (g.op) {
      case 'truncate':
        ops.push({
          op: 'truncate',
          path,
          length: [0, 1, file.size - 1, Math.floor(file.size / 2), Math.max(0, file.size - 3), 4, 7][g.n % 7],
        });
        break;
      case 'delete':
        ops.push({ op: 'rm', path });
        break;
      case 'toDir':
        ops.push({ op: 'rm', path }, { op: 'mkdir', path });
        break;
      case 'garbage':
        ops.push(writeBytes(path, g.bytes));
        break;
      case 'json': {
        const value = jsonOf[file.path];
        if (value !== undefined) ops.push(writeText(path, jsonText(applyTreeGenes(value, g.tree), 2)));
        else ops.push({ op: 'fill', path, float: [NaN, Infinity, -Infinity, 1e38, 0][g.n % 5] });
        break;
      }
      case 'nan':
        if (file.path.endsWith('.bin'))
          ops.push({ op: 'fill', path, float: [NaN, Infinity, -Infinity, 1e38, 0][g.n % 5] });
        else ops.push({ op: 'truncate', path, length: 0 });
        break;
      case 'latest':
        ops.push(writeText(`${root}/latest.json`, JSON.stringify(LATEST_VALUES[g.n % LATEST_VALUES.length])));
        break;
      case 'empty':
        ops.push(writeText(path, ''));
        break;
    }
  }
  return ops;
}

/** A run stopped after update 3 of 4: no result.json, latest.json at ckpt-000003 (what --resume continues). */
const REWIND = (root) => [
  { op: 'rm', path: `${root}/result.json` },
  writeText(`${root}/latest.json`, '{"checkpoint":"ckpt-000003","iteration":3}'),
];

/** `evaluate --policy`, `train --resume`, `compare --schedulers ppo:` and `sweep report` on corrupted copies. */
export function checkpointCase(fx) {
  return fc
    .record({
      what: fc.constantFrom(
        'evaluate',
        'evaluate',
        'evaluate',
        'resume',
        'resume',
        'compare',
        'bundled',
        'sweepReport',
        'sweepResume',
      ),
      genes: fc.array(corruptionGene, { minLength: 0, maxLength: 3 }),
      rewind: fc.boolean(),
      sub: fc.constantFrom('', '', '/best', '/ckpt-000004', '/ckpt-000003'),
      episodes: valueOfKind('evalEpisodes', { badWeight: 5 }),
      oracle: fc.constantFrom('0', '0', '1'),
      schedulers: fc.constantFrom(null, null, '1f1b', 'zb-h1,greedy-zb', 'zb-v'),
      problem: fc.constantFrom(
        [],
        [],
        [],
        ['--noise', '0.3'],
        ['--seed', '5'],
        ['--stages', '3', '--micro-batches', '4'],
        ['--stages', '2', '--micro-batches', '4', '--chunks', '2', '--placement', 'v'],
      ),
      json: fc.boolean(),
      real: fc.integer({ min: 0, max: 99 }),
    })
    .map(({ what, genes, rewind, sub, episodes, oracle, schedulers, problem, json, real }) => {
      const jsonFlag = json ? ['--json'] : [];
      if (what === 'sweepReport' || what === 'sweepResume') {
        const files = [
          { op: 'copy', from: '@sweep', path: 'sweep' },
          ...corrupt(
            'sweep',
            fx.sweep.files,
            fx.sweep.json,
            genes.length ? genes : [{ op: 'delete', f: 0, n: 0, tree: [], bytes: new Uint8Array() }],
          ),
        ];
        const argv =
          what === 'sweepReport'
            ? ['sweep', 'report', '--out', `${CASE}/sweep`, ...jsonFlag]
            : [
                'sweep',
                '--config',
                `${FIXTURES}/sweep.json`,
                '--out',
                `${CASE}/sweep`,
                ...(real < 5 ? [] : ['--dry-run']),
                ...jsonFlag,
              ];
        return { argv, files, huge: null };
      }
      if (what === 'bundled') {
        const b = fx.bundled[genes.length % fx.bundled.length];
        const name = b.dir.split('/').pop();
        const files = [
          { op: 'copy', from: `@bundled:${name}`, path: 'policy' },
          ...corrupt('policy', b.files, {}, genes),
        ];
        return {
          argv: [
            'evaluate',
            '--policy',
            `${CASE}/policy`,
            '--episodes',
            episodes,
            '--oracle-episodes',
            oracle,
            '--schedulers',
            schedulers ?? 'zb-v',
            ...problem,
            ...jsonFlag,
          ],
          files,
          huge: null,
        };
      }
      const files = [
        { op: 'copy', from: '@run', path: 'run' },
        ...(rewind ? REWIND('run') : []),
        ...corrupt('run', fx.run.files, fx.run.json, genes),
      ];
      if (what === 'resume')
        return {
          argv: ['train', '--config', `${FIXTURES}/train.json`, '--out', `${CASE}/run`, '--resume', ...jsonFlag],
          files,
          huge: null,
        };
      if (what === 'compare')
        return {
          argv: [
            'compare',
            '--schedulers',
            `ppo:${CASE}/run${sub},zb-h1`,
            '--stages',
            '2',
            '--micro-batches',
            '4',
            '--episodes',
            episodes,
            '--oracle-episodes',
            oracle,
            ...jsonFlag,
          ],
          files,
          huge: null,
        };
      const argv = [
        'evaluate',
        '--policy',
        `${CASE}/run${sub}`,
        '--episodes',
        episodes,
        '--oracle-episodes',
        oracle,
        ...(schedulers ? ['--schedulers', schedulers] : []),
        ...problem,
        ...jsonFlag,
      ];
      return { argv, files, huge: null };
    });
}
