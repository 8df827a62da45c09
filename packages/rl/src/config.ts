// The training config: one validated JSON object holding everything a run depends on (CleanRL's arguments block
// as data). Unknown keys and out-of-range values are rejected with the field's dotted path.
import {
  ConfigError,
  configErrorFrom,
  findProfile,
  H200_PROFILES_URL,
  problemFromProfile,
  problemRangesSchema,
  problemSchema,
  resolveProblem,
  withCommScale,
  type Problem,
  type ProblemConfig,
  type ProblemRanges,
} from '@pprl/core-wasm';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { BACKENDS } from './backends.js';

/** A problem built from a measured GPU profile (the bundled H200 profiles unless `file` names another). */
const profileProblemSchema = z.strictObject({
  profile: z.strictObject({
    /** Entry name prefix, e.g. "6.2B". */
    model: z.string().min(1),
    microBatchSize: z.number().int().min(1).default(1),
    /** Link bandwidth for the p2p transfers, GB/s. */
    bandwidthGBps: z.number().finite().positive().default(50),
    latencyUs: z.number().finite().min(0).default(0),
    /** A profile file of the bundled format; default the bundled H200 profiles. */
    file: z.string().min(1).optional(),
  }),
  stages: z.number().int().min(1).max(1024),
  microBatches: z.number().int().min(1).max(65536),
  memLimit: z.number().finite().positive().nullable().default(null),
  noise: problemSchema.shape.noise,
});

export const trainConfigSchema = z
  .strictObject({
    /** The problem to learn: a problem config (@pprl/core-wasm), or one built from a profile. Give this or `ranges`. */
    problem: z.union([profileProblemSchema, problemSchema]).optional(),
    /**
     * Train on several noise levels at once (with `problem`): the environments are split evenly among these cvs of
     * compute and transfer time, replacing the problem's; evaluation stays at the problem's own cv.
     */
    noiseLevels: z.array(z.number().finite().min(0).max(3)).min(1).max(16).optional(),
    /** Every transfer of the problem takes this many times its base time (the comm-delay experiment). */
    commScale: z.number().finite().min(0).max(1e6).default(1),
    /** Fresh problems drawn per episode (generalization). Give this or `problem`. */
    ranges: problemRangesSchema.optional(),
    /** Vectorized environments N. */
    envs: z.number().int().min(1).max(4096).default(64),
    /** Steps per environment per rollout T (a batch is N * T decisions). */
    stepsPerRollout: z.number().int().min(1).max(65536).default(128),
    /** Total environment steps (decisions) of the run. */
    totalSteps: z.number().int().min(1).max(1e12).default(2_000_000),
    /** Passes over each batch. */
    epochs: z.number().int().min(1).max(100).default(2),
    /** Minibatches per epoch. */
    minibatches: z.number().int().min(1).max(4096).default(4),
    learningRate: z.number().finite().positive().max(1).default(1e-3),
    /** Linear annealing of the learning rate to 0 over the run (CleanRL's anneal_lr), or constant. */
    lrSchedule: z.enum(['linear', 'constant']).default('linear'),
    /** Discount. The objective is the makespan (the undiscounted return), so the default is close to 1. */
    gamma: z.number().finite().min(0).max(1).default(0.999),
    /** GAE lambda. */
    gaeLambda: z.number().finite().min(0).max(1).default(0.95),
    /** PPO clip coefficient (ratio clipped to 1 +- clip; also the value clip). */
    clip: z.number().finite().positive().max(10).default(0.2),
    clipValueLoss: z.boolean().default(true),
    normalizeAdvantages: z.boolean().default(true),
    entropyCoef: z.number().finite().min(0).max(10).default(0.003),
    valueCoef: z.number().finite().min(0).max(100).default(0.5),
    /** Global gradient-norm clip. */
    maxGradNorm: z.number().finite().positive().max(1e6).default(0.5),
    /** Stop an update's epochs early once the approximate KL passes this (null: never). */
    targetKl: z.number().finite().positive().nullable().default(null),
    network: z
      .strictObject({
        hidden: z.array(z.number().int().min(1).max(1024)).min(1).max(8).default([64, 64]),
        activation: z.enum(['tanh', 'relu']).default('tanh'),
        /** One trunk shared by actor and critic (half the arithmetic), or two networks as in CleanRL. */
        shared: z.boolean().default(true),
        /**
         * Initial logit bias of the wait action (with allowWait): a uniform start idles devices a quarter of the time,
         * which on long episodes buries the learning signal; -3 starts from a policy that rarely waits.
         */
        waitBias: z.number().finite().min(-20).max(20).default(-3),
      })
      .default({ hidden: [64, 64], activation: 'tanh', shared: true, waitBias: -3 }),
    /**
     * Let the policy keep an idle device waiting. Off by default: a learned policy that samples a wait now and then
     * trains well, but its greedy (argmax) version can wait in the same state at every event and stall (observed
     * at P = 8, M = 32). Off removes the action: its logit is pinned far below the others.
     */
    allowWait: z.boolean().default(false),
    /** Seeds everything: initial weights, minibatch order, sampling, training episodes. */
    seed: z.number().int().min(0).max(0xffffffff).default(1),
    /** Evaluate (greedy policy, held-out episodes) every this many updates; 0: only at the end. */
    evalInterval: z.number().int().min(0).max(1e6).default(10),
    evalEpisodes: z.number().int().min(1).max(100_000).default(256),
    /** Write a checkpoint every this many updates (and always at the end). */
    checkpointInterval: z.number().int().min(1).max(1e6).default(10),
    /** TensorFlow.js backend; default the fastest available (tensorflow, else wasm, else cpu). */
    backend: z.enum(BACKENDS as [string, ...string[]]).optional(),
  })
  .superRefine((c, ctx) => {
    if ((c.problem === undefined) === (c.ranges === undefined))
      ctx.addIssue({ code: 'custom', path: c.problem ? ['ranges'] : ['problem'], message: 'give either problem or ranges, not both or neither' });
    if (c.noiseLevels && c.problem === undefined) ctx.addIssue({ code: 'custom', path: ['noiseLevels'], message: 'needs a fixed problem (ranges draw their own cv)' });
    if (c.noiseLevels && c.envs % c.noiseLevels.length !== 0)
      ctx.addIssue({ code: 'custom', path: ['noiseLevels'], message: `envs (${c.envs}) must be a multiple of the number of levels (${c.noiseLevels.length})` });
    const batch = c.envs * c.stepsPerRollout;
    if (c.minibatches > batch) ctx.addIssue({ code: 'custom', path: ['minibatches'], message: `must not exceed the batch envs * stepsPerRollout = ${batch}` });
  });

export type TrainConfigInput = z.input<typeof trainConfigSchema>;
export type TrainConfig = z.output<typeof trainConfigSchema>;

/** Validates a config (ConfigError naming the field, e.g. `network.hidden[0]`). */
export function parseTrainConfig(input: unknown): TrainConfig {
  const parsed = trainConfigSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw configErrorFrom(parsed.error);
  return parsed.data;
}

/** Updates of a run: its total steps in whole batches of envs x stepsPerRollout, rounded up. */
export function updateCount(config: Pick<TrainConfig, 'totalSteps' | 'envs' | 'stepsPerRollout'>): number {
  return Math.ceil(config.totalSteps / (config.envs * config.stepsPerRollout));
}

/** Reads and validates a JSON config file. */
export function readTrainConfig(file: string): TrainConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('--config', `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError('--config', `${file} is not valid JSON (${(e as Error).message})`);
  }
  return parseTrainConfig(json);
}

/** The fixed problem of a config (undefined when it trains on ranges). */
export function configProblem(config: Pick<TrainConfig, 'problem' | 'commScale'>): Problem | undefined {
  const base = baseProblem(config.problem);
  return base === undefined || config.commScale === 1 ? base : withCommScale(base, config.commScale);
}

function baseProblem(p: TrainConfig['problem']): Problem | undefined {
  if (p === undefined) return undefined;
  if ('profile' in p) {
    const file = p.profile.file ?? H200_PROFILES_URL;
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError('problem.profile.file', `cannot read ${String(file)} as JSON (${(e as Error).message})`);
    }
    const entry = findProfile(json, p.profile.model, p.profile.microBatchSize);
    return problemFromProfile(entry, {
      stages: p.stages,
      microBatches: p.microBatches,
      link: { bandwidthGBps: p.profile.bandwidthGBps, latencyUs: p.profile.latencyUs },
      memLimit: p.memLimit,
      noise: p.noise,
    });
  }
  return resolveProblem(p as ProblemConfig);
}

export function configRanges(config: Pick<TrainConfig, 'ranges'>): ProblemRanges | undefined {
  return config.ranges as ProblemRanges | undefined;
}
