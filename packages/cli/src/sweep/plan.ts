// The sweep file and its expansion into runs. A sweep file holds a base training config, a grid of values per
// dotted field and/or random samples; the plan is the cross product of the grid times the samples, every run's
// config validated by @pprl/rl before anything runs, each run named by a readable slug of its varied settings and a
// hash of its whole config (the same settings give the same id on every machine and in every order).
import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError, quoteInput } from '@pprl/core-wasm';
import { configProblem, parseTrainConfig, trainConfigSchema, type TrainConfig } from '@pprl/rl';
import { isStackOverflow, MAX_NESTING, nestsDeeperThan, readUserFile } from '../input-files.js';
import { editDistance } from '../suggest.js';

export const PLAN_FORMAT = 'pprl-sweep';
export const PLAN_VERSION = 1;
const MAX_RUNS = 10_000;

const range = z.tuple([z.number().finite(), z.number().finite()]);

/** How a random parameter is drawn: uniform or log-uniform on [lo, hi], an integer in [lo, hi], or one of a list. */
const distributionSchema = z
  .strictObject({
    uniform: range.optional(),
    logUniform: range.optional(),
    int: z.tuple([z.number().int(), z.number().int()]).optional(),
    choice: z.array(z.unknown()).min(1, 'empty list; give at least one value').optional(),
  })
  .superRefine((d, ctx) => {
    const kinds = Object.entries(d).filter(([, v]) => v !== undefined);
    if (kinds.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one of uniform: [lo, hi], logUniform: [lo, hi], int: [lo, hi] or choice: [values]',
      });
    for (const kind of ['uniform', 'logUniform', 'int'] as const) {
      const r = d[kind];
      if (r && r[0] > r[1])
        ctx.addIssue({ code: 'custom', path: [kind], message: `lo must not exceed hi (got [${r[0]}, ${r[1]}])` });
    }
    if (d.logUniform && d.logUniform[0] <= 0)
      ctx.addIssue({
        code: 'custom',
        path: ['logUniform'],
        message: `bounds must be > 0 (got [${d.logUniform[0]}, ${d.logUniform[1]}])`,
      });
  });
type Distribution = z.output<typeof distributionSchema>;

export const sweepFileSchema = z
  .strictObject({
    /** A training config (packages/rl); fields the grid or the samples set may be left out. */
    base: z.record(z.string(), z.unknown()),
    /** Dotted training-config field -> the values it takes. */
    grid: z.record(z.string(), z.array(z.unknown()).min(1, 'empty list; give at least one value')).optional(),
    random: z
      .strictObject({
        samples: z.number().int().min(1).max(MAX_RUNS),
        seed: z.number().int().min(0).max(0xffffffff).default(0),
        params: z.record(z.string(), distributionSchema),
      })
      .optional(),
  })
  .superRefine((s, ctx) => {
    if (!s.grid && !s.random) ctx.addIssue({ code: 'custom', path: ['grid'], message: 'give grid, random or both' });
    if (s.grid && Object.keys(s.grid).length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['grid'],
        message: 'empty grid; give at least one field with a list of values',
      });
    if (s.random && Object.keys(s.random.params).length === 0)
      ctx.addIssue({ code: 'custom', path: ['random', 'params'], message: 'give at least one parameter' });
  });
export type SweepFile = z.output<typeof sweepFileSchema>;

export interface PlannedRun {
  /** `<slug of the varied settings>-<hash>`: also the run's directory name. */
  id: string;
  /** sha256 (hex, first 12) of the canonical JSON of the validated config; decides the shard. */
  hash: string;
  /** Varied field -> value, in the order of `SweepPlan.fields`. */
  params: Record<string, unknown>;
  /** The validated training config (defaults filled in), exactly as `pprl train` gets it. */
  config: TrainConfig;
}

export interface SweepPlan {
  format: typeof PLAN_FORMAT;
  version: number;
  /** Varied fields: the grid's, then the random parameters'. */
  fields: string[];
  runs: PlannedRun[];
}

/** Reads a sweep file (.json, .yaml or .yml) and expands it; errors name the sweep file's field. */
export function readSweepPlan(file: string): { plan: SweepPlan; duplicates: number } {
  const ext = extname(file).toLowerCase();
  if (ext !== '.json' && ext !== '.yaml' && ext !== '.yml')
    throw new ConfigError('--config', `expected a .json, .yaml or .yml sweep file (got ${quoteInput(file)})`);
  const text = readUserFile(file, 'sweep file', '--config');
  const tooDeep = () =>
    new ConfigError('--config', `sweep file ${file} nests deeper than ${MAX_NESTING} levels of lists and objects`);
  let raw: unknown;
  if (ext === '.json') {
    try {
      raw = JSON.parse(text);
    } catch (e) {
      if (isStackOverflow(e)) throw tooDeep();
      throw new ConfigError('--config', `${file} is not valid JSON (${(e as Error).message})`);
    }
  } else raw = parseSweepYaml(text, file, tooDeep);
  // everything after this walks the file recursively (validation, cloning, hashing, messages)
  if (nestsDeeperThan(raw)) throw tooDeep();
  return expandSweep(raw);
}

/**
 * A YAML sweep file as plain data, strictly: an error or a warning of the parser (an unknown tag such as
 * `!!python/object`, a duplicate key, a second document) is one line naming where; nothing is printed.
 */
function parseSweepYaml(text: string, file: string, tooDeep: () => ConfigError): unknown {
  const invalid = (detail: string) => new ConfigError('--config', `${file} is not valid YAML (${detail})`);
  const firstLine = (message: string) => message.split('\n')[0]!.replace(/:$/, '');
  try {
    // logLevel 'error': the parser would otherwise print its warnings (process.emitWarning) as it turns the document
    // into data
    const doc = parseDocument(text, { logLevel: 'error', prettyErrors: true, uniqueKeys: true });
    const error = doc.errors[0];
    if (error)
      throw error.code === 'RESOURCE_EXHAUSTION' && /call stack/i.test(error.message)
        ? tooDeep()
        : invalid(firstLine(error.message));
    const warning = doc.warnings[0];
    if (warning) {
      const at = warning.linePos ? ` at line ${warning.linePos[0].line}, column ${warning.linePos[0].col}` : '';
      if (warning.code === 'TAG_RESOLVE_FAILED')
        throw invalid(
          `unknown tag ${quoteInput(text.slice(warning.pos[0], warning.pos[1]))}${at}; ` +
            `a sweep file takes plain values, without tags`,
        );
      throw invalid(firstLine(warning.message));
    }
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    if (isStackOverflow(e)) throw tooDeep();
    throw invalid(firstLine((e as Error).message));
  }
}

/** Validates a parsed sweep file and expands it into runs. */
export function expandSweep(raw: unknown): { plan: SweepPlan; duplicates: number } {
  const parsed = sweepFileSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw sweepFileError(parsed.error);
  const sweep = parsed.data;
  const grid = Object.entries(sweep.grid ?? {});
  const random = Object.entries(sweep.random?.params ?? {});
  for (const [field] of grid) checkField(field, `grid.${keyText(field)}`);
  for (const [field] of random) {
    checkField(field, `random.params.${keyText(field)}`);
    if (sweep.grid && field in sweep.grid)
      throw new ConfigError(`random.params.${field}`, 'is also in the grid; vary a field in one of them');
  }
  for (const [field, values] of grid) {
    const seen = new Map<string, number>();
    values.forEach((v, i) => {
      const key = canonicalJson(v);
      const first = seen.get(key);
      if (first !== undefined)
        throw new ConfigError(`grid.${field}[${i}]`, `duplicate of grid.${field}[${first}] (${quoteInput(v)})`);
      seen.set(key, i);
    });
  }
  const samples = sweep.random?.samples ?? 1;
  const count = grid.reduce((n, [, values]) => n * values.length, 1) * samples;
  if (count > MAX_RUNS)
    throw new ConfigError(
      sweep.grid ? 'grid' : 'random.samples',
      `the sweep expands to ${count} runs; at most ${MAX_RUNS}`,
    );

  const fields = [...grid.map(([f]) => f), ...random.map(([f]) => f)];
  const short = shortNames(fields);
  const draws = Array.from({ length: sweep.random ? samples : 0 }, (_, k) =>
    random.map(([field, d]) => draw(d, unitDraw(sweep.random!.seed, k, field))),
  );
  checkRandomBounds(sweep, grid, random);

  const runs: PlannedRun[] = [];
  const ids = new Set<string>();
  let duplicates = 0;
  // the first grid field varies slowest, the samples fastest
  const gridIndex = grid.map(() => 0);
  for (let n = 0; n < count; n++) {
    let rest = Math.floor(n / samples);
    for (let g = grid.length - 1; g >= 0; g--) {
      const size = grid[g]![1].length;
      gridIndex[g] = rest % size;
      rest = Math.floor(rest / size);
    }
    const sample = n % samples;
    const params: Record<string, unknown> = {};
    grid.forEach(([field, values], g) => (params[field] = values[gridIndex[g]!]));
    random.forEach(([field], r) => (params[field] = draws[sample]![r]));
    const config = validateRun(sweep.base, params, (field) => {
      const g = grid.findIndex(([f]) => f === field);
      if (g >= 0) return `grid.${field}[${gridIndex[g]}]`;
      return `random.params.${field} (sample ${sample}: ${quoteInput(params[field])})`;
    });
    const hash = sha256(canonicalJson(config)).slice(0, 12);
    const id = `${slug(fields, short, params)}-${hash}`;
    if (ids.has(id)) {
      duplicates++;
      continue;
    }
    ids.add(id);
    runs.push({ id, hash, params, config });
  }
  return { plan: { format: PLAN_FORMAT, version: PLAN_VERSION, fields, runs }, duplicates };
}

/** A key of the user's file as a field name in a message: as it is when plain, else quoted (escaped and cut short). */
function keyText(key: PropertyKey): string {
  const text = String(key);
  return /^[\w.$-]{1,80}$/.test(text) ? text : quoteInput(text);
}

/** The first issue of the sweep file, naming its field (an unknown key by its own name). */
function sweepFileError(error: z.ZodError): ConfigError {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const field = [...issue.path, issue.keys[0]!].map(keyText).join('.');
    return new ConfigError(
      field,
      issue.path.length === 0 ? 'unknown field; a sweep file has base, grid and random' : 'unknown field',
    );
  }
  const field = issue.path
    .map((k) => (typeof k === 'number' ? `[${k}]` : `.${keyText(k)}`))
    .join('')
    .replace(/^\./, '');
  // the input is worth showing for a value or a list (cut short), not for a whole object
  const input = 'input' in issue ? issue.input : undefined;
  const got =
    input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))
      ? ` (got ${quoteInput(input)})`
      : '';
  if (issue.code === 'invalid_type' && input === undefined) return new ConfigError(field, 'is required');
  return new ConfigError(field || '--config', `${issue.message}${got}`);
}

/** The base with `params` set, validated as `pprl train` will; errors are put on the sweep field that caused them. */
function validateRun(
  base: Record<string, unknown>,
  params: Record<string, unknown>,
  where: (field: string) => string,
): TrainConfig {
  const input = structuredClone(base);
  for (const [field, value] of Object.entries(params)) setField(input, field, value);
  const blame = (field: string, detail: string): ConfigError => {
    const varied = Object.keys(params).find((p) => related(p, field));
    if (varied === undefined) return new ConfigError(field ? `base.${field}` : 'base', detail);
    return new ConfigError(where(varied), field === varied ? detail : `${field}: ${detail}`);
  };
  let config: TrainConfig;
  try {
    config = parseTrainConfig(input);
  } catch (e) {
    throw e instanceof ConfigError ? blame(e.field, e.detail) : e;
  }
  try {
    // resolving the problem checks what the schema cannot see alone (e.g. a profile's model name)
    configProblem(config);
  } catch (e) {
    // its fields are named relative to the problem
    throw e instanceof ConfigError
      ? blame(e.field.startsWith('problem') ? e.field : `problem.${e.field}`, e.detail)
      : e;
  }
  return config;
}

/** Whether an error at `field` can be caused by setting `varied` (one contains the other). */
function related(varied: string, field: string): boolean {
  const inside = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`);
  return inside(field, varied) || (field !== '' && inside(varied, field));
}

/**
 * Each random parameter at each end of its range (every option of a choice), on the base and the first grid point:
 * a range that leaves the allowed values is rejected whatever the samples happen to draw.
 */
function checkRandomBounds(sweep: SweepFile, grid: [string, unknown[]][], random: [string, Distribution][]): void {
  for (const [field, d] of random) {
    const ends: [string, unknown][] = d.choice
      ? d.choice.map((v, i) => [`choice[${i}]`, v])
      : (['uniform', 'logUniform', 'int'] as const).flatMap((k) =>
          d[k]
            ? ([
                [`${k}[0]`, d[k][0]],
                [`${k}[1]`, d[k][1]],
              ] as [string, unknown][])
            : [],
        );
    for (const [at, value] of ends) {
      const params: Record<string, unknown> = Object.fromEntries(grid.map(([f, values]) => [f, values[0]]));
      params[field] = value;
      try {
        validateRun(sweep.base, params, (f) => (f === field ? `random.params.${field}.${at}` : 'another field'));
      } catch (e) {
        // only errors of this parameter; the others are reported with the run that meets them
        if (e instanceof ConfigError && e.field.startsWith(`random.params.${field}.`)) throw e;
      }
    }
  }
}

// ---- fields of the training config ---------------------------------------------------------------------------

/** The zod internals a schema walk needs (zod 4 keeps each schema's definition in `_zod.def`). */
interface SchemaNode {
  _zod: {
    def: {
      type: string;
      innerType?: SchemaNode;
      in?: SchemaNode;
      out?: SchemaNode;
      options?: SchemaNode[];
      shape?: Record<string, SchemaNode>;
    };
  };
}

/** The object shapes a schema can take (through defaults, optionals, preprocessing and unions). */
function objectShapes(node: SchemaNode): Record<string, SchemaNode>[] {
  const def = node._zod.def;
  if (def.type === 'object') return [def.shape!];
  if (def.innerType) return objectShapes(def.innerType);
  if (def.type === 'pipe') return objectShapes(def.in!._zod.def.type === 'transform' ? def.out! : def.in!);
  if (def.type === 'union') return def.options!.flatMap(objectShapes);
  return [];
}

/** Fields an unknown-field message lists (the training config has about 30: the line stays short). */
const KNOWN_FIELDS_SHOWN = 8;

/** Rejects a dotted path that is not a field of the training config, naming the sweep field `where`. */
function checkField(path: string, where: string): void {
  const keys = path.split('.');
  if (keys.some((k) => k === ''))
    throw new ConfigError(where, 'expected a dotted field name such as network.hidden or problem.noise.cv');
  let nodes: SchemaNode[] = [trainConfigSchema as unknown as SchemaNode];
  keys.forEach((key, i) => {
    const shapes = nodes.flatMap(objectShapes);
    const parent = keys.slice(0, i).join('.');
    if (shapes.length === 0) throw new ConfigError(where, `unknown field: ${parent} has no fields`);
    const next = shapes.filter((s) => Object.hasOwn(s, key)).map((s) => s[key]!);
    if (next.length === 0) {
      const known = [...new Set(shapes.flatMap((s) => Object.keys(s)))];
      const near = known.filter(
        (k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= Math.max(2, Math.floor(key.length / 3)),
      );
      const more =
        known.length > KNOWN_FIELDS_SHOWN ? `, ... (${known.length} fields; packages/rl/README.md lists them)` : '';
      const hint =
        near.length > 0
          ? `did you mean ${near.map((k) => [parent, k].filter(Boolean).join('.')).join(' or ')}?`
          : `${parent || 'the training config'} has ${known.slice(0, KNOWN_FIELDS_SHOWN).join(', ')}${more}`;
      throw new ConfigError(where, `unknown field; ${hint}`);
    }
    nodes = next;
  });
}

/** Sets a dotted field, creating the objects on the way. */
function setField(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let at = target;
  for (const key of keys.slice(0, -1)) {
    const next = at[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) at[key] = {};
    at = at[key] as Record<string, unknown>;
  }
  at[keys[keys.length - 1]!] = structuredClone(value);
}

// ---- random draws --------------------------------------------------------------------------------------------

/**
 * A uniform number in [0, 1) that depends only on (seed, sample, field): adding or removing another parameter does
 * not change this one's draws.
 */
function unitDraw(seed: number, sample: number, field: string): number {
  return parseInt(sha256(`${seed}:${sample}:${field}`).slice(0, 13), 16) / 2 ** 52;
}

/** 6 significant digits keep tables and run ids readable; the draw stays in [lo, hi]. */
function round6(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Number(x.toPrecision(6))));
}

function draw(d: Distribution, u: number): unknown {
  if (d.uniform) return round6(d.uniform[0] + u * (d.uniform[1] - d.uniform[0]), ...d.uniform);
  if (d.logUniform) {
    const [lo, hi] = d.logUniform;
    return round6(Math.exp(Math.log(lo) + u * (Math.log(hi) - Math.log(lo))), lo, hi);
  }
  if (d.int) return d.int[0] + Math.floor(u * (d.int[1] - d.int[0] + 1));
  return d.choice![Math.floor(u * d.choice!.length)];
}

// ---- ids and shards ------------------------------------------------------------------------------------------

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted at every level (undefined members dropped): equal values, equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The last part of each field (`problem.noise.cv` -> `cv`), or the whole path where two would collide. */
function shortNames(fields: string[]): Map<string, string> {
  const last = (f: string) => f.slice(f.lastIndexOf('.') + 1);
  return new Map(fields.map((f) => [f, fields.filter((g) => last(g) === last(f)).length > 1 ? f : last(f)]));
}

/** A setting as text for people: numbers as JS prints them, lists of numbers as 64x64. */
export function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return value.join('x');
  return canonicalJson(value);
}

/** `seed=1_lr=0.000755_hidden=64x64`: 3 significant digits are enough to recognize a run (the hash tells it apart). */
function slug(fields: string[], short: Map<string, string>, params: Record<string, unknown>): string {
  const text = fields
    .map((f) => {
      const v = params[f];
      const shown = typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(3)) : v;
      return `${short.get(f)}=${valueText(shown)}`.replace(/[^A-Za-z0-9._=+-]+/g, '-');
    })
    .join('_');
  return text.length > 80 ? text.slice(0, 80) : text;
}

/** Which of `count` shards runs a run: from its config hash, so it does not depend on the order of the plan. */
export function shardOf(run: Pick<PlannedRun, 'hash'>, count: number): number {
  return parseInt(run.hash.slice(0, 8), 16) % count;
}
