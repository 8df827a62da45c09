// The problem model (docs/SEMANTICS.md section 1): config as validated JSON, resolved into flat per-stage arrays.
import { z } from 'zod';
import {
  DEFAULT_ANOMALY_FACTOR,
  DEFAULT_ANOMALY_PROB,
  DEFAULT_MEM_B,
  DEFAULT_MEM_F,
  DEFAULT_MEM_W,
  DEFAULT_NOISE_FLOOR,
  MAX_CHUNKS,
} from './contract.js';
import { ConfigError, quoteInput } from './errors.js';

/** A number, or one number per model stage (S = stages * chunks). */
const perStage = (item: z.ZodNumber) =>
  z.preprocess(
    (v) => (typeof v === 'number' ? [v] : v),
    z.array(item, { error: 'expected a number or a list of numbers' }).min(1, 'give a number or a non-empty list'),
  );

/**
 * The largest time (a cost, a transfer) and memory amount a problem may hold: 1e12 time units is 11.6 days in
 * microseconds, 1e18 memory units an exabyte in bytes. With at most 65536 micro-batches, 16384 model stages and
 * anomalies of 1000x, every makespan, busy time and memory sum stays a finite float.
 */
export const MAX_TIME = 1e12;
export const MAX_MEMORY = 1e18;

const cost = z.number().finite().min(0).max(MAX_TIME);
const signed = z.number().finite().min(-MAX_MEMORY).max(MAX_MEMORY);

export const problemSchema = z
  .strictObject({
    /** P: devices (pipeline ranks). */
    stages: z.number().int().min(1).max(1024),
    /** V: model chunks per device; the model has S = P * V stages. */
    chunks: z.number().int().min(1).max(MAX_CHUNKS).default(1),
    /** Where chunk stages live when V > 1: `loop` (stage s on device s mod P) or `v` (zig-zag). */
    placement: z.enum(['loop', 'v']).default('loop'),
    /** M: micro-batches per iteration. */
    microBatches: z.number().int().min(1).max(65536),
    /** Compute time of F, B (input gradient) and W (weight gradient), per model stage. */
    cost: z
      .strictObject({ F: perStage(cost).default([1]), B: perStage(cost).default([1]), W: perStage(cost).default([1]) })
      .default({ F: [1], B: [1], W: [1] }),
    /** One transfer between adjacent stages on different devices: a fixed `time`, or latency + bytes / bandwidth. */
    comm: z
      .strictObject({
        time: perStage(cost).optional(),
        latency: cost.optional(),
        bytes: perStage(z.number().finite().min(0).max(MAX_MEMORY)).optional(),
        bandwidth: z.number().finite().positive().optional(),
      })
      .default({ time: [0] }),
    /** Memory deltas per op (F allocates at start, B and W free at end; F + B + W = 0) and a per-device limit. */
    memory: z
      .strictObject({
        F: perStage(signed).default([DEFAULT_MEM_F]),
        B: perStage(signed).default([DEFAULT_MEM_B]),
        W: perStage(signed).default([DEFAULT_MEM_W]),
        limit: z.number().finite().positive().max(MAX_MEMORY).nullable().default(null),
      })
      .default({ F: [DEFAULT_MEM_F], B: [DEFAULT_MEM_B], W: [DEFAULT_MEM_W], limit: null }),
    /** Fluctuation: realized = base * max(floor, 1 + cv z), times anomalyFactor with probability anomalyProb. */
    noise: z
      .strictObject({
        cv: z.number().finite().min(0).max(3).default(0),
        commCv: z.number().finite().min(0).max(3).optional(),
        floor: z.number().finite().min(0).max(1).default(DEFAULT_NOISE_FLOOR),
        anomalyProb: z.number().finite().min(0).max(1).default(DEFAULT_ANOMALY_PROB),
        anomalyFactor: z.number().finite().min(1).max(1000).default(DEFAULT_ANOMALY_FACTOR),
        seed: z.number().int().min(0).max(0xffffffff).default(0),
      })
      .default({
        cv: 0,
        floor: DEFAULT_NOISE_FLOOR,
        anomalyProb: DEFAULT_ANOMALY_PROB,
        anomalyFactor: DEFAULT_ANOMALY_FACTOR,
        seed: 0,
      }),
  })
  .superRefine((p, ctx) => {
    const S = p.stages * p.chunks;
    // zod runs this even when stages or chunks failed their own checks: a stages of 2^53 must not loop over stages
    if (!Number.isInteger(S) || S < 1 || S > 1024 * 16) return;
    const lengthOk = (path: (string | number)[], list: number[] | undefined) => {
      if (list && list.length !== 1 && list.length !== S)
        ctx.addIssue({
          code: 'custom',
          path,
          message: `give 1 number or ${S} numbers (one per model stage, S = stages * chunks), got ${list.length}`,
        });
    };
    for (const k of ['F', 'B', 'W'] as const) lengthOk(['cost', k], p.cost[k]);
    for (const k of ['F', 'B', 'W'] as const) lengthOk(['memory', k], p.memory[k]);
    lengthOk(['comm', 'time'], p.comm.time);
    lengthOk(['comm', 'bytes'], p.comm.bytes);
    const fixed = p.comm.time !== undefined;
    const linked = p.comm.bytes !== undefined || p.comm.bandwidth !== undefined || p.comm.latency !== undefined;
    if (fixed && linked)
      ctx.addIssue({
        code: 'custom',
        path: ['comm'],
        message: 'give either time, or latency + bytes / bandwidth, not both',
      });
    if (!fixed && (p.comm.bytes === undefined || p.comm.bandwidth === undefined))
      ctx.addIssue({ code: 'custom', path: ['comm'], message: 'give time, or bytes and bandwidth (latency optional)' });
    else if (!fixed) {
      const largest = (p.comm.latency ?? 0) + Math.max(...p.comm.bytes!) / p.comm.bandwidth!;
      if (!(largest <= MAX_TIME))
        ctx.addIssue({
          code: 'custom',
          path: ['comm'],
          message: `latency + bytes / bandwidth must be at most ${MAX_TIME} (got ${largest})`,
        });
    }
    for (let s = 0; s < S; s++) {
      const at = (l: number[]) => (l.length === 1 ? l[0]! : l[s]!);
      const sum = at(p.memory.F) + at(p.memory.B) + at(p.memory.W);
      const scale = Math.max(Math.abs(at(p.memory.F)), Math.abs(at(p.memory.B)), Math.abs(at(p.memory.W)), 1);
      if (Math.abs(sum) > 1e-9 * scale) {
        ctx.addIssue({
          code: 'custom',
          path: ['memory'],
          message:
            `F + B + W must be 0 on every stage (stage ${s}: ` +
            `${at(p.memory.F)} + ${at(p.memory.B)} + ${at(p.memory.W)} = ${sum})`,
        });
        break;
      }
    }
  });

/** What a user writes (defaults optional). */
export type ProblemConfig = z.input<typeof problemSchema>;
/** A validated config with defaults filled in. */
export type ParsedProblemConfig = z.output<typeof problemSchema>;
export type Placement = 'loop' | 'v';

export interface NoiseParams {
  cv: number;
  commCv: number;
  floor: number;
  anomalyProb: number;
  anomalyFactor: number;
  seed: number;
}

/** A resolved problem: every per-stage quantity as a flat array of length S = stages * chunks. */
export interface Problem {
  /** P: devices. */
  readonly stages: number;
  /** V: chunks per device. */
  readonly chunks: number;
  readonly placement: Placement;
  /** M: micro-batches. */
  readonly microBatches: number;
  /** S = P * V model stages. */
  readonly numStages: number;
  /** Device of each model stage. */
  readonly stageDevice: Int32Array;
  readonly costF: Float64Array;
  readonly costB: Float64Array;
  readonly costW: Float64Array;
  /** comm[s]: one transfer between stage s and s + 1 (either direction); comm[S-1] is unused. */
  readonly comm: Float64Array;
  readonly memF: Float64Array;
  readonly memB: Float64Array;
  readonly memW: Float64Array;
  /** Per-device memory limit; Infinity when there is none. */
  readonly memLimit: number;
  readonly noise: NoiseParams;
  /** The validated config this problem was resolved from. */
  readonly config: ParsedProblemConfig;
}

/** Formats a zod issue path as `cost.F[2]`. */
function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    '',
  );
}

/**
 * Throws a ConfigError naming the first bad field of a zod parse, with the value it got (quoted short: never a whole
 * config). A cross-field check (a refinement) gets the whole object it checked as its input; its message names the
 * values involved, and only the field's own value is added when it can be found and is a plain value.
 */
export function configErrorFrom(error: z.ZodError, prefix = ''): ConfigError {
  const issue = error.issues[0]!;
  const field = fieldName([...(prefix ? [prefix] : []), ...issue.path]);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys
      .slice(0, 3)
      .map((k) => quoteInput(k))
      .join(', ');
    return new ConfigError(
      field,
      `Unrecognized key${issue.keys.length > 1 ? 's' : ''}: ${keys}` +
        `${issue.keys.length > 3 ? `, ... (${issue.keys.length} in all)` : ''}`,
    );
  }
  let input = 'input' in issue ? issue.input : undefined;
  if (issue.code === 'custom' && typeof input === 'object' && input !== null)
    input = valueAtPathSuffix(input, issue.path);
  const got = input !== undefined ? ` (got ${quoteInput(input)})` : '';
  return new ConfigError(field, `${issue.message}${got}`);
}

/**
 * The plain value (not an object or list) a refinement's issue is about: at the longest end of the issue's path that
 * leads from the checked object to one (the path is from the root; the object may be nested in it); else undefined.
 */
function valueAtPathSuffix(object: object, path: readonly PropertyKey[]): unknown {
  for (let from = 0; from < path.length; from++) {
    let at: unknown = object;
    for (const key of path.slice(from))
      at =
        typeof at === 'object' && at !== null && Object.hasOwn(at, key)
          ? (at as Record<PropertyKey, unknown>)[key]
          : undefined;
    if (at !== undefined) return typeof at === 'object' && at !== null ? undefined : at;
  }
  return undefined;
}

/** Device that holds model stage s. */
export function deviceOfStage(s: number, P: number, placement: Placement): number {
  const chunk = Math.floor(s / P);
  const r = s % P;
  return placement === 'v' && chunk % 2 === 1 ? P - 1 - r : r;
}

/** Validates a config (throws ConfigError naming the field) and resolves it into flat arrays. */
export function resolveProblem(config: ProblemConfig | ParsedProblemConfig): Problem {
  const parsed = problemSchema.safeParse(config, { reportInput: true });
  if (!parsed.success) throw configErrorFrom(parsed.error);
  const p = parsed.data;
  const S = p.stages * p.chunks;
  const expand = (list: number[], scale = 1, offset = 0) =>
    Float64Array.from({ length: S }, (_, s) => offset + scale * (list.length === 1 ? list[0]! : list[s]!));
  let comm: Float64Array;
  if (p.comm.time !== undefined) comm = expand(p.comm.time);
  else comm = expand(p.comm.bytes!, 1 / p.comm.bandwidth!, p.comm.latency ?? 0);
  const stageDevice = Int32Array.from({ length: S }, (_, s) => deviceOfStage(s, p.stages, p.placement));
  return {
    stages: p.stages,
    chunks: p.chunks,
    placement: p.placement,
    microBatches: p.microBatches,
    numStages: S,
    stageDevice,
    costF: expand(p.cost.F),
    costB: expand(p.cost.B),
    costW: expand(p.cost.W),
    comm,
    memF: expand(p.memory.F),
    memB: expand(p.memory.B),
    memW: expand(p.memory.W),
    memLimit: p.memory.limit ?? Infinity,
    noise: { ...p.noise, commCv: p.noise.commCv ?? p.noise.cv },
    config: p,
  };
}

/** The same problem with some fields replaced (validated again). */
export function withProblem(problem: Problem, patch: Partial<ParsedProblemConfig>): Problem {
  return resolveProblem({ ...problem.config, ...patch });
}

/** The same problem at noise cv `cv` on compute and transfers alike (the other noise settings kept). */
export function withNoise(problem: Problem, cv: number): Problem {
  return withProblem(problem, { noise: { ...problem.config.noise, cv, commCv: cv } });
}

/** The same problem with a per-device memory limit (null: none). */
export function withLimit(problem: Problem, limit: number | null): Problem {
  return withProblem(problem, { memory: { ...problem.config.memory, limit } });
}

/**
 * The same model and total work cut into V chunks per device: each of the P stages becomes V consecutive model
 * stages with 1/V of its compute and memory; a transfer between two pieces carries the activation of the stage
 * they came from, so it keeps that stage's transfer time (or bytes). The problem must have one chunk per device.
 */
export function splitIntoChunks(problem: Problem, chunks: number, placement: Placement): Problem {
  const c = problem.config;
  if (c.chunks !== 1)
    throw new ConfigError('chunks', `splitting needs a problem with 1 chunk per device (got ${c.chunks})`);
  const S = c.stages * chunks;
  // a list of 1 stays uniform; a list of P gets one entry per piece, piece j from stage floor(j / V)
  const spread = (l: number[], scale: number) =>
    l.length === 1 ? [l[0]! * scale] : Array.from({ length: S }, (_, j) => l[Math.floor(j / chunks)]! * scale);
  const share = (l: number[]) => spread(l, 1 / chunks);
  const comm: ParsedProblemConfig['comm'] = { ...c.comm };
  if (c.comm.time !== undefined) comm.time = spread(c.comm.time, 1);
  if (c.comm.bytes !== undefined) comm.bytes = spread(c.comm.bytes, 1);
  return resolveProblem({
    ...c,
    chunks,
    placement,
    cost: { F: share(c.cost.F), B: share(c.cost.B), W: share(c.cost.W) },
    comm,
    memory: { ...c.memory, F: share(c.memory.F), B: share(c.memory.B), W: share(c.memory.W) },
  });
}

/** Every transfer takes `factor` times as long (fixed times, or latency and bytes, scaled alike). */
export function withCommScale(problem: Problem, factor: number): Problem {
  const comm = { ...problem.config.comm };
  if (comm.time !== undefined) comm.time = comm.time.map((t) => t * factor);
  if (comm.latency !== undefined) comm.latency *= factor;
  if (comm.bytes !== undefined) comm.bytes = comm.bytes.map((b) => b * factor);
  return withProblem(problem, { comm });
}
