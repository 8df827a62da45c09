// Paired evaluation (docs/SEMANTICS.md section 2): the trained policy (greedy), static schedules replayed and the
// dynamic heuristics all run the same episode indices inside the WebAssembly environment, so episode e meets the same
// realized durations in every one of them; differences are reported per paired episode with a 95% CI.
import {
  UserError,
  createSimulator,
  pairedDifference,
  summarize,
  WasmEnv,
  WasmMlp,
  type BuiltinPolicy,
  type MlpLayout,
  type Problem,
  type Schedule,
  type Summary,
  type WasmEnvOptions,
  OBS_GLOBAL,
  OBS_PER_CLASS,
} from '@pprl/core-wasm';
import { loadCheckpoint, type CheckpointMeta } from './checkpoint.js';
import {
  configProblem,
  envOptionsOf,
  parseTrainConfig,
  teacherLabel,
  teacherScheduleName,
  type TrainConfig,
} from './config.js';

/** Episode indices from here on are never used for training (a run would need 2^30 episodes to reach them). */
export const EVAL_EPISODE_START = 2 ** 30;

export type MakespanStats = Summary;

/** A trained policy read from a checkpoint directory or a run directory (its latest checkpoint). */
export interface LoadedPolicy {
  dir: string;
  meta: CheckpointMeta;
  config: TrainConfig;
  layout: MlpLayout;
  params: Float32Array;
  /** The problem it was trained on (undefined for policies trained on problem ranges). */
  problem: Problem | undefined;
}

export function loadPolicy(dir: string): LoadedPolicy {
  const ckpt = loadCheckpoint(dir, false);
  let config: TrainConfig;
  try {
    config = parseTrainConfig(ckpt.meta.config);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    throw new UserError(`corrupt checkpoint ${dir}: the training config in its meta.json is not valid (${e.message})`);
  }
  return {
    dir,
    meta: ckpt.meta,
    config,
    layout: ckpt.meta.layout,
    params: ckpt.params,
    problem: configProblem(config),
  };
}

/** Vmax of an environment whose observations a network of this layout reads (D = OBS_GLOBAL + 3 OBS_PER_CLASS Vmax). */
export function chunksOfLayout(layout: MlpLayout): number {
  return (layout.obsDim - OBS_GLOBAL) / (3 * OBS_PER_CLASS);
}

/**
 * What evaluating a policy needs: its network, and the environment options it was trained with (the wait action,
 * the memory rule, the feature groups; defaults when absent).
 */
export type PolicyLike = Pick<LoadedPolicy, 'layout' | 'params'> & {
  config?: Pick<TrainConfig, 'allowWait' | 'memoryRule' | 'features' | 'teacher'>;
  /**
   * The plan the policy observes (its teacher's schedule, `config.teacher.schedule`, built for the problem it runs
   * on): required for a policy trained with a teacher, whose observations show the plan's next op.
   */
  plan?: Schedule;
};

/**
 * The plan's name of a policy trained with a teacher for a problem with `chunks` chunks per device (undefined: it
 * needs none; a teacher named per chunk count without this one: undefined too, and checkPlan refuses the problem).
 */
export function planName(policy: PolicyLike, chunks: number): string | undefined {
  return teacherScheduleName(policy.config?.teacher, chunks);
}

/**
 * Throws unless the policy can run `problem`: its network reads observations of at most chunksOfLayout chunks per
 * device, and a policy that observes a plan needs one.
 */
export function checkPlan(policy: PolicyLike, problem?: Pick<Problem, 'chunks'>): void {
  const most = chunksOfLayout(policy.layout);
  if (problem && problem.chunks > most)
    throw new UserError(
      `this policy reads observations of at most ${most} chunk${most === 1 ? '' : 's'} per device (its network's ` +
        `input); the problem has ${problem.chunks} (--chunks)`,
    );
  const teacher = policy.config?.teacher;
  if (teacher === undefined || policy.plan) return;
  const name = problem ? planName(policy, problem.chunks) : undefined;
  if (problem && name === undefined)
    throw new UserError(
      `this policy observes the plan of its teacher (${teacherLabel(teacher)}), which names no schedule for ` +
        `${problem.chunks} chunks per device`,
    );
  throw new UserError(
    `this policy observes the plan of its teacher ${name ?? teacherLabel(teacher)}: give that schedule, built for ` +
      `the problem it runs on, as \`plan\``,
  );
}

/** The environment options a policy runs with. */
export function policyEnvOptions(policy: PolicyLike): Pick<WasmEnvOptions, 'wait' | 'memoryRule' | 'features'> {
  return policy.config ? envOptionsOf(policy.config) : {};
}

/** Makespans of episode indices start .. start + count - 1, in index order, from runEpisodes' env-major output. */
function inIndexOrder(makespan: Float64Array, N: number, perEnv: number, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < N; i++)
    for (let k = 0; k < perEnv; k++) if (i + k * N < count) out[i + k * N] = makespan[i * perEnv + k]!;
  return out;
}

type Runner = (env: WasmEnv, perEnv: number, start: number) => Float64Array;

/** Runs `count` episodes from index `start` on `problem` (enough environments to share the work). */
async function runOn(
  problem: Problem,
  maxChunks: number,
  count: number,
  start: number,
  run: Runner,
  options: Pick<WasmEnvOptions, 'wait' | 'memoryRule' | 'features'> = {},
  plan?: Schedule,
): Promise<Float64Array> {
  const N = Math.min(count, 256);
  const perEnv = Math.ceil(count / N);
  const env = await WasmEnv.create({ ...options, numEnvs: N, problem, maxChunks: Math.max(maxChunks, problem.chunks) });
  try {
    if (plan) env.setReplaySchedule(plan);
    return inIndexOrder(run(env, perEnv, start), N, perEnv, count);
  } finally {
    env.dispose();
  }
}

/** The greedy policy's makespans over `count` episodes from `start` in an existing environment vector. */
export function evaluateInEnv(env: WasmEnv, mlp: WasmMlp, count: number, start: number): MakespanStats {
  const perEnv = Math.ceil(count / env.numEnvs);
  return summarize(
    inIndexOrder(env.runEpisodes({ mlp, greedy: true }, perEnv, start).makespan, env.numEnvs, perEnv, count),
  );
}

/**
 * A baseline: a built-in heuristic (run in the environment), or a static schedule replayed by the simulator, on its
 * own problem if given (e.g. the model split into 2 chunks per device: then paired by episode index only).
 */
export type Baseline = BuiltinPolicy | { schedule: Schedule; problem?: Problem };

export interface EvaluateOptions {
  /** The problem with the noise to evaluate at (its seed picks the held-out noise). */
  problem: Problem;
  episodes: number;
  /** First episode index. Default 0 (the indices every `pprl compare` contender uses). */
  start?: number;
  baselines: Record<string, Baseline>;
}

/** docs/SEMANTICS.md section 5: `pprl evaluate --json`. diffToPolicy = baseline - policy per paired episode. */
export interface EvaluationReport {
  policy: { makespan: Summary };
  baselines: Record<string, { makespan: Summary; diffToPolicy: { mean: number; ci95: [number, number] } }>;
  episodes: number;
  noise: number;
}

/** Makespans of the policy (greedy) on `problem`, episodes start .. start + count - 1 in index order. */
export async function policyMakespans(
  policy: PolicyLike,
  problem: Problem,
  count: number,
  start = 0,
): Promise<Float64Array> {
  checkPlan(policy, problem);
  const mlp = await WasmMlp.create(policy.layout, policy.params);
  try {
    const run: Runner = (env, perEnv, s) => env.runEpisodes({ mlp, greedy: true }, perEnv, s).makespan;
    return await runOn(
      problem,
      chunksOfLayout(policy.layout),
      count,
      start,
      run,
      policyEnvOptions(policy),
      policy.plan,
    );
  } finally {
    mlp.dispose();
  }
}

/** Makespans of a baseline on the same episodes. */
export async function baselineMakespans(
  baseline: Baseline,
  problem: Problem,
  count: number,
  start = 0,
): Promise<Float64Array> {
  if (typeof baseline === 'string')
    return runOn(problem, 1, count, start, (env, perEnv, s) => env.runEpisodes(baseline, perEnv, s).makespan);
  // static schedules through the replay engine: its episode e meets the noise of the environment's episode e
  const own = baseline.problem ?? problem;
  const sim = await createSimulator();
  return sim.replay(own, baseline.schedule, { episodes: count, episodeStart: start }).makespan;
}

export async function evaluatePolicy(policy: PolicyLike, opts: EvaluateOptions): Promise<EvaluationReport> {
  const { problem, episodes } = opts;
  const start = opts.start ?? 0;
  const mine = await policyMakespans(policy, problem, episodes, start);
  const baselines: EvaluationReport['baselines'] = {};
  for (const [name, baseline] of Object.entries(opts.baselines)) {
    const theirs = await baselineMakespans(baseline, problem, episodes, start);
    const d = pairedDifference(theirs, mine);
    baselines[name] = { makespan: summarize(theirs), diffToPolicy: { mean: d.mean, ci95: d.ci95 } };
  }
  return { policy: { makespan: summarize(mine) }, baselines, episodes, noise: problem.noise.cv };
}
