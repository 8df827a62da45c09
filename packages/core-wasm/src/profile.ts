// Builds a problem from a measured per-stage profile (format of shared/data/h200-fbw-profiles.json).
import { z } from 'zod';
import { ConfigError, quoteInput } from './errors.js';
import {
  configErrorFrom,
  resolveProblem,
  type ParsedProblemConfig,
  type Problem,
  type ProblemConfig,
} from './problem.js';

const timing = z.looseObject({ mean_us: z.number().positive(), cv: z.number().min(0).optional() });

/** One measured stage: F, B (= BW - W) and W times in microseconds, activation and p2p bytes per micro-batch. */
export const profileEntrySchema = z.looseObject({
  name: z.string(),
  hidden: z.number().int().positive(),
  heads: z.number().int().positive(),
  seq: z.number().int().positive(),
  micro_batch: z.number().int().positive(),
  F: timing,
  W: timing,
  BW: timing.optional(),
  B_mean_us: z.number().positive(),
  activation_bytes_per_microbatch: z.number().positive(),
  p2p_bytes_per_microbatch: z.number().min(0),
});
export const profileFileSchema = z.looseObject({ profiles: z.array(profileEntrySchema).min(1) });

export type ProfileEntry = z.infer<typeof profileEntrySchema>;

export interface Link {
  /** Link bandwidth in GB/s (1e9 bytes per second). */
  bandwidthGBps: number;
  /** Per-transfer latency in microseconds. */
  latencyUs?: number;
}

export interface FromProfileOptions {
  /** P: devices; every device runs one copy of the profiled stage (chunks = 1). */
  stages: number;
  microBatches: number;
  link: Link;
  /** Per-device memory limit in bytes, or null for none. */
  memLimit?: number | null;
  noise?: ProblemConfig['noise'];
}

/**
 * The problem of P identical stages of a profiled model, in microseconds and bytes.
 * Memory: F holds the measured activation bytes; W frees the share of weight-gradient inputs that the
 * zero-bubble paper gives (32h of 34h + 5as per token), B frees the rest.
 */
export function problemConfigFromProfile(entry: ProfileEntry, opts: FromProfileOptions): ParsedProblemConfig {
  const parsed = profileEntrySchema.safeParse(entry, { reportInput: true });
  if (!parsed.success) throw configErrorFrom(parsed.error, 'profile');
  const e = parsed.data;
  if (!(opts.link.bandwidthGBps > 0))
    throw new ConfigError('link.bandwidth', `must be > 0 GB/s (got ${opts.link.bandwidthGBps})`);
  const memF = e.activation_bytes_per_microbatch;
  const wShare = (32 * e.hidden) / (34 * e.hidden + 5 * e.heads * e.seq);
  const memW = -Math.round(memF * wShare);
  const config = {
    stages: opts.stages,
    chunks: 1,
    placement: 'loop' as const,
    microBatches: opts.microBatches,
    cost: { F: [e.F.mean_us], B: [e.B_mean_us], W: [e.W.mean_us] },
    comm: {
      latency: opts.link.latencyUs ?? 0,
      bytes: [e.p2p_bytes_per_microbatch],
      bandwidth: opts.link.bandwidthGBps * 1e3,
    },
    memory: { F: [memF], B: [-memF - memW], W: [memW], limit: opts.memLimit ?? null },
    noise: opts.noise,
  };
  // resolve once to validate; return the parsed config so callers can patch it
  return resolveProblem(config).config;
}

export function problemFromProfile(entry: ProfileEntry, opts: FromProfileOptions): Problem {
  return resolveProblem(problemConfigFromProfile(entry, opts));
}

/** Finds the entry of a profile file by model name prefix (e.g. "6.2B") and micro-batch size. */
export function findProfile(file: unknown, model: string, microBatchSize: number): ProfileEntry {
  const parsed = profileFileSchema.safeParse(file, { reportInput: true });
  if (!parsed.success) throw configErrorFrom(parsed.error, 'profile');
  const matches = parsed.data.profiles.filter(
    (p) => p.micro_batch === microBatchSize && (p.name === model || p.name.startsWith(`${model}-`)),
  );
  if (matches.length === 0) {
    // one entry per model with its micro-batch sizes, the first few only: the line stays readable for any file
    const sizes = new Map<string, number[]>();
    for (const p of parsed.data.profiles) sizes.set(p.name, [...(sizes.get(p.name) ?? []), p.micro_batch]);
    const shown = [...sizes].slice(0, 4).map(([name, mbs]) => `${quoteInput(name)} (mb ${mbs.join(', ')})`);
    const more = sizes.size > shown.length ? `, and ${sizes.size - shown.length} more` : '';
    throw new ConfigError(
      'profile',
      `no entry for model ${quoteInput(model)} at micro-batch size ${microBatchSize}; ` +
        `available: ${shown.join(', ')}${more}`,
    );
  }
  return matches[0]!;
}

/** Path of the bundled H200 profile file (measured F/B/W times, activation and p2p bytes; see its `source`). */
export const H200_PROFILES_URL = new URL('../profiles/h200-fbw-profiles.json', import.meta.url);
