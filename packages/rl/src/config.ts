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
  splitIntoChunks,
  withCommScale,
  MEMORY_RULES,
  FEATURE_GROUPS,
  type FeatureGroup,
  type MemoryRule,
  type Problem,
  type ProblemConfig,
  type ProblemRanges,
} from '@pprl/core-wasm';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { BACKENDS } from './backends.js';
import { readUserFile } from './files.js';
import { drawProblemSet, problemSetSchema, type DrawnProblem } from './problem-set.js';

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
  /**
   * The model cut into this many chunks per device (each profile stage becomes V consecutive model stages with 1/V
   * of its compute and memory; splitIntoChunks of @pprl/core-wasm), as ZB-V runs it.
   */
  chunks: z.number().int().min(1).max(16).default(1),
  placement: z.enum(['loop', 'v']).default('loop'),
  /** Per device, in bytes, for the whole device (all its chunks). */
  memLimit: z.number().finite().positive().nullable().default(null),
  noise: problemSchema.shape.noise,
});

/**
 * Behaviour cloning from a static schedule, then PPO from the cloned weights. The schedule is built by the caller
 * (the CLI builds it by name for the config's problem) and passed to `train` as `TrainOptions.teacher`.
 */
const teacherSchema = z.strictObject({
  /**
   * A schedule name of @pprl/schedulers (e.g. zb-v for two chunks per device, zb-h1 for one), or one name per chunk
   * count, e.g. {"1": "zb-h1", "2": "zb-v"} (a problem set mixing V = 1 and 2).
   */
  schedule: z.union([
    z.string().min(1),
    z.partialRecord(
      z.enum(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13', '14', '15', '16']),
      z.string().min(1),
    ),
  ]),
  /** Environment steps of cloning before PPO (0: no cloning; PPO then starts from scratch, pulled by `coef`). */
  cloneSteps: z.number().int().min(0).max(1e12).default(0),
  /**
   * Share of the cloning updates whose rollouts follow the student (sampling), labelled by the teacher (DAgger);
   * the others follow the teacher itself. The teacher's come first.
   */
  studentShare: z.number().finite().min(0).max(1).default(0.5),
  /** Adam step size while cloning (default: learningRate). */
  cloneLearningRate: z.number().finite().positive().max(1).optional(),
  /** Weight of the cross-entropy to the teacher's action during PPO (0: none), annealed by `coefSchedule`. */
  coef: z.number().finite().min(0).max(100).default(0),
  coefSchedule: z.enum(['linear', 'constant']).default('linear'),
});

export const trainConfigSchema = z
  .strictObject({
    /**
     * The problem to learn: a problem config (@pprl/core-wasm), or one built from a profile. Give one of problem,
     * ranges, problemSet.
     */
    problem: z.union([profileProblemSchema, problemSchema]).optional(),
    /**
     * Train on several noise levels at once (with `problem`): the environments are split evenly among these cvs of
     * compute and transfer time, replacing the problem's; evaluation stays at the problem's own cv.
     */
    noiseLevels: z.array(z.number().finite().min(0).max(3)).min(1).max(16).optional(),
    /** Every transfer of the problem takes this many times its base time (the comm-delay experiment). */
    commScale: z.number().finite().min(0).max(1e6).default(1),
    /** Fresh problems drawn per episode (generalization, no teacher). */
    ranges: problemRangesSchema.optional(),
    /** A set of fixed problems drawn once from ranges, each with its own teacher (a generalist; src/problem-set.ts). */
    problemSet: problemSetSchema.optional(),
    /** Vectorized environments N. */
    envs: z.number().int().min(1).max(4096).default(64),
    /** Steps per environment per rollout T (a batch is N * T decisions). */
    stepsPerRollout: z.number().int().min(1).max(65536).default(128),
    /** Total environment steps (decisions) of the run. */
    totalSteps: z.number().int().min(0).max(1e12).default(2_000_000),
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
    /**
     * How the environment checks forwards against the memory limit with several chunks per device (src/dynamic.ts
     * of @pprl/core-wasm): `reserve` (per-device banker's rule), `lowest` (deadlock-free and admits ZB-V's order:
     * the rule to learn from a V-shape teacher), `plain` (can deadlock).
     */
    memoryRule: z.enum(MEMORY_RULES as unknown as [MemoryRule, ...MemoryRule[]]).default('reserve'),
    /** Observation feature groups; false writes the group as zeros (ablations). */
    features: z
      .strictObject(
        Object.fromEntries(FEATURE_GROUPS.map((g) => [g, z.boolean().default(true)])) as Record<
          FeatureGroup,
          z.ZodDefault<z.ZodBoolean>
        >,
      )
      .default({ arrival: true, memory: true, plan: true }),
    /** Behaviour cloning from a static schedule before (and optionally during) PPO. */
    teacher: teacherSchema.optional(),
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
    const sources = [c.problem, c.ranges, c.problemSet].filter((x) => x !== undefined).length;
    if (sources !== 1)
      ctx.addIssue({
        code: 'custom',
        path: [c.problem ? (c.ranges ? 'ranges' : 'problemSet') : 'problem'],
        message: 'give exactly one of problem, ranges and problemSet',
      });
    if (c.noiseLevels && c.problem === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['noiseLevels'],
        message: 'needs a fixed problem (ranges and problem sets draw their own cv)',
      });
    if (c.noiseLevels && c.envs % c.noiseLevels.length !== 0)
      ctx.addIssue({
        code: 'custom',
        path: ['noiseLevels'],
        message: `envs (${c.envs}) must be a multiple of the number of levels (${c.noiseLevels.length})`,
      });
    if (c.problemSet && c.envs % c.problemSet.count !== 0)
      ctx.addIssue({
        code: 'custom',
        path: ['problemSet', 'count'],
        message: `must divide envs (${c.envs}): the environments are split evenly among the problems`,
      });
    if (c.totalSteps === 0 && !(c.teacher && c.teacher.cloneSteps > 0))
      ctx.addIssue({
        code: 'custom',
        path: ['totalSteps'],
        message: 'must be at least 1 (0 only for a cloning-only run: teacher.cloneSteps > 0)',
      });
    if (c.teacher && c.ranges !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['teacher'],
        message: 'needs a fixed problem or a problem set (a schedule is built for one problem)',
      });
    if (c.teacher && typeof c.teacher.schedule !== 'string') {
      const [lo, hi] = c.problemSet?.chunks ?? [1, 16];
      const chunks = c.problem
        ? [c.problem.chunks ?? 1]
        : c.problemSet
          ? Array.from({ length: hi - lo + 1 }, (_, i) => lo + i)
          : [];
      for (const v of chunks)
        if (c.teacher.schedule[String(v) as '1'] === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['teacher', 'schedule'],
            message:
              `names no schedule for ${v} chunk${v === 1 ? '' : 's'} per device ` +
              '(give a name for every chunk count the problems have)',
          });
    }
    const batch = c.envs * c.stepsPerRollout;
    if (c.minibatches > batch)
      ctx.addIssue({
        code: 'custom',
        path: ['minibatches'],
        message: `must not exceed the batch envs * stepsPerRollout = ${batch}`,
      });
  });

export type TrainConfigInput = z.input<typeof trainConfigSchema>;
export type TrainConfig = z.output<typeof trainConfigSchema>;

/** Validates a config (ConfigError naming the field, e.g. `network.hidden[0]`). */
export function parseTrainConfig(input: unknown): TrainConfig {
  const parsed = trainConfigSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw configErrorFrom(parsed.error);
  return parsed.data;
}

/** PPO updates of a run: its total steps in whole batches of envs x stepsPerRollout, rounded up. */
export function ppoUpdateCount(config: Pick<TrainConfig, 'totalSteps' | 'envs' | 'stepsPerRollout'>): number {
  return Math.ceil(config.totalSteps / (config.envs * config.stepsPerRollout));
}

/** Cloning updates of a run (before PPO): its teacher's cloneSteps in whole batches, rounded up. */
export function cloneUpdateCount(config: Pick<TrainConfig, 'teacher' | 'envs' | 'stepsPerRollout'>): number {
  return Math.ceil((config.teacher?.cloneSteps ?? 0) / (config.envs * config.stepsPerRollout));
}

/** Updates of a run: cloning, then PPO. */
export function updateCount(config: Pick<TrainConfig, 'totalSteps' | 'envs' | 'stepsPerRollout' | 'teacher'>): number {
  return cloneUpdateCount(config) + ppoUpdateCount(config);
}

/** The environment options a config trains (and its policy is evaluated) with. */
export function envOptionsOf(config: Pick<TrainConfig, 'allowWait' | 'memoryRule' | 'features'>): {
  wait: boolean;
  memoryRule: MemoryRule;
  features: Record<FeatureGroup, boolean>;
} {
  return { wait: config.allowWait, memoryRule: config.memoryRule, features: { ...config.features } };
}

/** Reads and validates a JSON config file. */
export function readTrainConfig(file: string): TrainConfig {
  const text = readUserFile(file, 'training config', '--config');
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

/**
 * The model of a config's fixed problem with one chunk per device (a profile problem before `chunks` splits it; any
 * other problem as it is): the problem that static one-chunk schedules such as ZB-H1 run, and from which two-chunk
 * schedules split theirs, for comparisons at equal memory.
 */
export function modelProblem(config: Pick<TrainConfig, 'problem' | 'commScale'>): Problem | undefined {
  const p = config.problem;
  if (p === undefined) return undefined;
  const whole = 'profile' in p ? baseProblem({ ...p, chunks: 1 }) : baseProblem(p);
  return whole === undefined || config.commScale === 1 ? whole : withCommScale(whole, config.commScale);
}

function baseProblem(p: TrainConfig['problem']): Problem | undefined {
  if (p === undefined) return undefined;
  if ('profile' in p) {
    const file = p.profile.file ?? H200_PROFILES_URL;
    const text = readUserFile(
      typeof file === 'string' ? file : fileURLToPath(file),
      'profile file',
      'problem.profile.file',
    );
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new ConfigError('problem.profile.file', `cannot read ${String(file)} as JSON (${(e as Error).message})`);
    }
    const entry = findProfile(json, p.profile.model, p.profile.microBatchSize);
    const whole = problemFromProfile(entry, {
      stages: p.stages,
      microBatches: p.microBatches,
      link: { bandwidthGBps: p.profile.bandwidthGBps, latencyUs: p.profile.latencyUs },
      memLimit: p.memLimit,
      noise: p.noise,
    });
    return p.chunks > 1 ? splitIntoChunks(whole, p.chunks, p.placement) : whole;
  }
  return resolveProblem(p as ProblemConfig);
}

/** The teacher's schedule name for a problem with this many chunks per device (undefined: no teacher). */
export function teacherScheduleName(teacher: TrainConfig['teacher'], chunks: number): string | undefined {
  if (teacher === undefined) return undefined;
  return typeof teacher.schedule === 'string' ? teacher.schedule : teacher.schedule[String(chunks) as '1'];
}

/** The teacher's schedule names as one text, e.g. "zb-h1" or "zb-h1 (V = 1), zb-v (V = 2)". */
export function teacherLabel(teacher: NonNullable<TrainConfig['teacher']>): string {
  if (typeof teacher.schedule === 'string') return teacher.schedule;
  return Object.entries(teacher.schedule)
    .map(([v, name]) => `${name} (V = ${v})`)
    .join(', ');
}

/** The problems of a config's problem set, in order (undefined without one). */
export function configProblemSet(config: Pick<TrainConfig, 'problemSet'>): DrawnProblem[] | undefined {
  return config.problemSet ? drawProblemSet(config.problemSet) : undefined;
}

export function configRanges(config: Pick<TrainConfig, 'ranges'>): ProblemRanges | undefined {
  return config.ranges as ProblemRanges | undefined;
}
