// The problem options every command shares (docs/SEMANTICS.md section 5), turned into a validated problem.
import { readUserFile } from '@pprl/rl';
import type { Command } from 'commander';
import {
  ConfigError,
  UserError,
  quoteInput,
  findProfile,
  problemConfigFromProfile,
  resolveProblem,
  type ParsedProblemConfig,
  type Problem,
  type ProblemConfig,
} from '@pprl/core-wasm';

export interface ProblemOptions {
  stages?: string;
  microBatches?: string;
  chunks?: string;
  placement?: string;
  costF?: string;
  costB?: string;
  costW?: string;
  comm?: string;
  memF?: string;
  memB?: string;
  memW?: string;
  memLimit?: string;
  noise?: string;
  commNoise?: string;
  noiseFloor?: string;
  anomalyProb?: string;
  anomalyFactor?: string;
  seed?: string;
  profile?: string;
  model?: string;
  microBatchSize?: string;
  bandwidth?: string;
  latency?: string;
}

export function addProblemOptions(cmd: Command): Command {
  return cmd
    .option('--stages <P>', 'pipeline devices P')
    .option('--micro-batches <M>', 'micro-batches M per iteration')
    .option('--chunks <V>', 'model chunks per device V (S = P*V model stages)')
    .option('--placement <loop|v>', 'placement of chunk stages when V > 1')
    .option('--cost-f <x[,x...]>', 'forward time, one number or one per model stage (default 1)')
    .option('--cost-b <x[,x...]>', 'input-gradient backward time (default 1)')
    .option('--cost-w <x[,x...]>', 'weight-gradient backward time (default 1)')
    .option('--comm <x[,x...]>', 'time of one transfer between adjacent stages on different devices (default 0)')
    .option('--mem-f <x[,x...]>', 'memory an F allocates (default 1)')
    .option('--mem-b <x[,x...]>', 'memory a B frees, as a negative delta (default 0)')
    .option('--mem-w <x[,x...]>', 'memory a W frees, as a negative delta (default -1); F + B + W = 0')
    .option('--mem-limit <x>', 'memory limit per device (default none)')
    .option('--noise <cv>', 'fluctuation cv of compute and communication times, 0..3 (default 0)')
    .option('--comm-noise <cv>', 'fluctuation cv of communication times (default: --noise)')
    .option('--noise-floor <f>', 'smallest duration factor (default 0.05)')
    .option('--anomaly-prob <p>', 'probability that an op or transfer is abnormally slow (default 0)')
    .option('--anomaly-factor <k>', 'slow-down of an abnormal op or transfer (default 3)')
    .option('--seed <s>', 'noise seed, an integer in [0, 2^32) (default 0)')
    .option(
      '--profile <file>',
      'build costs, memory and comm from a profile file (format of ' +
        'packages/core-wasm/profiles/h200-fbw-profiles.json, the bundled H200 profiles)',
    )
    .option('--model <name>', 'profile entry to use, by name prefix (default: the first entry)')
    .option('--micro-batch-size <b>', 'profile micro-batch size (default 1)')
    .option('--bandwidth <GB/s>', 'link bandwidth for profile comm (default 50)')
    .option('--latency <us>', 'link latency in microseconds for profile comm (default 0)');
}

/** Which flag sets which config field, to name flags in errors. */
const FLAG_OF_FIELD: Record<string, string> = {
  stages: '--stages',
  microBatches: '--micro-batches',
  chunks: '--chunks',
  placement: '--placement',
  'cost.F': '--cost-f',
  'cost.B': '--cost-b',
  'cost.W': '--cost-w',
  comm: '--comm',
  'comm.time': '--comm',
  'memory.F': '--mem-f',
  'memory.B': '--mem-b',
  'memory.W': '--mem-w',
  memory: '--mem-f/--mem-b/--mem-w',
  'memory.limit': '--mem-limit',
  'noise.cv': '--noise',
  'noise.commCv': '--comm-noise',
  'noise.floor': '--noise-floor',
  'noise.anomalyProb': '--anomaly-prob',
  'noise.anomalyFactor': '--anomaly-factor',
  'noise.seed': '--seed',
};

function flagFor(field: string): string | undefined {
  return FLAG_OF_FIELD[field.replace(/\[\d+\]$/, '')];
}

function numberList(flag: string, text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const values = parts.map(Number);
  if (parts.some((p) => p === '') || values.some((v) => !Number.isFinite(v)))
    throw new ConfigError(flag, `expected a number or a comma-separated list of numbers (got ${quoteInput(text)})`);
  return values;
}

export function numberOption(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v))
    throw new ConfigError(flag, `expected a number (got ${quoteInput(text)})`);
  return v;
}

/** Defaults a command can take from elsewhere (e.g. a schedule file) when the user gives no flag. */
export interface ProblemDefaults {
  stages?: number;
  microBatches?: number;
  chunks?: number;
  placement?: 'loop' | 'v';
}

/** Builds and validates the problem; errors name the flag. */
export function problemFromOptions(o: ProblemOptions, defaults: ProblemDefaults = {}): Problem {
  let base: Partial<ParsedProblemConfig> = {};
  const stages = numberOption('--stages', o.stages) ?? defaults.stages ?? 4;
  const microBatches = numberOption('--micro-batches', o.microBatches) ?? defaults.microBatches ?? 8;
  if (o.profile) {
    const text = readUserFile(o.profile, 'profile', '--profile');
    let file: unknown;
    try {
      file = JSON.parse(text);
    } catch (e) {
      throw new UserError(`--profile: ${o.profile} is not valid JSON (${(e as Error).message})`);
    }
    const entry = findProfile(
      file,
      o.model ?? firstModel(file),
      numberOption('--micro-batch-size', o.microBatchSize) ?? 1,
    );
    base = problemConfigFromProfile(entry, {
      stages: Math.max(1, Math.floor(stages)),
      microBatches: Math.max(1, Math.floor(microBatches)),
      link: {
        bandwidthGBps: numberOption('--bandwidth', o.bandwidth) ?? 50,
        latencyUs: numberOption('--latency', o.latency) ?? 0,
      },
    });
  } else if (o.model || o.microBatchSize || o.bandwidth || o.latency) {
    throw new ConfigError('--profile', 'is required by --model, --micro-batch-size, --bandwidth and --latency');
  }
  const list = (flag: string, text: string | undefined) => (text === undefined ? undefined : numberList(flag, text));
  const config: ProblemConfig = {
    ...base,
    stages,
    microBatches,
    chunks: numberOption('--chunks', o.chunks) ?? defaults.chunks ?? base.chunks ?? 1,
    placement: (o.placement ?? defaults.placement ?? base.placement ?? 'loop') as 'loop' | 'v',
    cost: {
      F: list('--cost-f', o.costF) ?? base.cost?.F ?? 1,
      B: list('--cost-b', o.costB) ?? base.cost?.B ?? 1,
      W: list('--cost-w', o.costW) ?? base.cost?.W ?? 1,
    },
    comm: o.comm !== undefined ? { time: list('--comm', o.comm)! } : (base.comm ?? { time: 0 }),
    memory: {
      F: list('--mem-f', o.memF) ?? base.memory?.F ?? 1,
      B: list('--mem-b', o.memB) ?? base.memory?.B ?? 0,
      W: list('--mem-w', o.memW) ?? base.memory?.W ?? -1,
      limit: numberOption('--mem-limit', o.memLimit) ?? base.memory?.limit ?? null,
    },
    noise: {
      cv: numberOption('--noise', o.noise) ?? 0,
      floor: numberOption('--noise-floor', o.noiseFloor) ?? 0.05,
      anomalyProb: numberOption('--anomaly-prob', o.anomalyProb) ?? 0,
      anomalyFactor: numberOption('--anomaly-factor', o.anomalyFactor) ?? 3,
      seed: numberOption('--seed', o.seed) ?? 0,
      ...(o.commNoise !== undefined ? { commCv: numberOption('--comm-noise', o.commNoise)! } : {}),
    },
  };
  try {
    return resolveProblem(config);
  } catch (e) {
    if (e instanceof ConfigError) {
      const flag = flagFor(e.field);
      if (flag) throw new ConfigError(flag, e.detail);
    }
    throw e;
  }
}

function firstModel(file: unknown): string {
  const profiles = (file as { profiles?: { name?: unknown }[] })?.profiles;
  const name = Array.isArray(profiles) ? profiles[0]?.name : undefined;
  return typeof name === 'string' ? name : '';
}
