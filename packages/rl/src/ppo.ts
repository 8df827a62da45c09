// PPO (Schulman et al. 2017) in the shape of CleanRL's ppo.py: one pass that reads in the order of the algorithm.
// Rollouts run inside the WebAssembly environment with a WebAssembly copy of the policy (one call per rollout);
// the update differentiates the TensorFlow.js copy and sends the new weights back.
//
//   1. set-up: backend, environments, networks, optimizer, storage; or everything from a checkpoint (--resume)
//   2. per update: anneal the learning rate; roll out N environments x T steps; bootstrap and GAE in one reverse
//      loop; epochs of shuffled minibatches with the clipped surrogate, the (clipped) value loss and the entropy
//      bonus, advantages normalized per minibatch, gradients clipped by their global norm, Adam (eps 1e-5);
//      approx-KL and clip fraction recorded
//   3. log one JSON line per update; evaluate and checkpoint at their intervals and at the end
import {
  EnvError,
  mlpLayers,
  orthogonalInit,
  summarize,
  UserError,
  WasmEnv,
  WasmMlp,
  type MlpLayout,
  type Problem,
  type Schedule,
} from '@pprl/core-wasm';
import { appendFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import seedrandom from 'seedrandom';
import {
  loadCheckpoint,
  removeTemporaries,
  saveCheckpoint,
  savePolicyCheckpoint,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type CheckpointMeta,
} from './checkpoint.js';
import {
  cloneUpdateCount,
  configProblem,
  configProblemSet,
  configRanges,
  envOptionsOf,
  parseTrainConfig,
  ppoUpdateCount,
  teacherLabel,
  type TrainConfig,
  type TrainConfigInput,
} from './config.js';
import { baselineMakespans, evaluateInEnv, EVAL_EPISODE_START, type Baseline, type MakespanStats } from './evaluate.js';
import { checkTrainable } from './feasibility.js';
import { makeDirectory, MAX_INPUT_BYTES, readTextChecked, withFileErrors, writeFileAtomic } from './files.js';
import type { BackendName } from './backends.js';
import { TrainingEnvs } from './vector.js';
import { createTfUpdater, type LossCoefs } from './update.js';

/** One line of log.jsonl. */
export interface UpdateLog {
  update: number;
  updates: number;
  /** `clone`: behaviour cloning from the teacher; `ppo`: PPO (with the teacher's pull when teacher.coef > 0). */
  phase: 'clone' | 'ppo';
  /** The rollout followed the teacher (cloning) instead of the student. */
  followedTeacher: boolean;
  globalStep: number;
  learningRate: number;
  /** Training episodes finished during this update's rollout, and their mean makespan / return. */
  episodes: number;
  meanMakespan: number | null;
  meanReturn: number | null;
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  approxKl: number;
  clipFraction: number;
  explainedVariance: number;
  gradNorm: number;
  /** Weight of the cross-entropy to the teacher in this update's loss, its value and the argmax agreement. */
  cloneCoef: number;
  cloneLoss: number | null;
  cloneAccuracy: number | null;
  /** Environment steps per second over this update (rollout + update). */
  stepsPerSec: number;
  rolloutSeconds: number;
  updateSeconds: number;
  /**
   * Greedy policy on held-out episodes, with the baselines on the same episodes (when evaluated): mean makespans, or
   * with a problem set the mean over its problems of makespan / the teacher's makespan (`teacher` is then 1).
   */
  eval?: { episodes: number; policy: number; baselines: Record<string, number> };
}

export interface TrainOptions {
  /** Run directory: config.json, log.jsonl, checkpoints (ckpt-NNNNNN directories and latest.json), result.json. */
  outDir: string;
  /** Continue from the run directory's latest checkpoint (its config must equal the given one). */
  resume?: boolean;
  /** Static schedules evaluated on the same held-out episodes, for the log (fixed problems only). */
  baselines?: Record<string, Schedule>;
  /** The schedule `config.teacher.schedule` names, built for the config's problem (required with a teacher). */
  teacher?: Schedule;
  /** With a problem set and a teacher: each problem's teacher schedule, in the order of the set (required). */
  teachers?: readonly Schedule[];
  /** After every update (progress displays). */
  onUpdate?: (log: UpdateLog) => void;
  /** Checked after every update: true stops the run there with a checkpoint (SIGINT). */
  shouldStop?: () => boolean;
  /** Stop after this many updates of this session, with a checkpoint (tests: a run killed part-way). */
  stopAfter?: number;
}

export interface TrainResult {
  outDir: string;
  /** True when all updates are done (false: stopped early, resumable). */
  finished: boolean;
  updates: number;
  /** Of which cloning updates (before PPO). */
  cloneUpdates: number;
  globalStep: number;
  seconds: number;
  /** Environment steps per second over the whole run (rollouts and updates). */
  stepsPerSec: number;
  /** Shares of the run's time spent in rollouts and in updates. */
  rolloutShare: number;
  updateShare: number;
  backend: BackendName;
  eval?: UpdateLog['eval'];
  checkpoint: string;
  /**
   * The evaluation with the lowest policy makespan and its policy-only checkpoint (`<out>/best`): model selection
   * on the run's evaluation episodes, which are disjoint from the episodes `pprl evaluate` and `compare` run.
   */
  best?: { update: number; policy: number; checkpoint: string };
}

/**
 * Logit bias of the wait action when it is not allowed: the WebAssembly sampler and argmax then never pick it
 * (exp(-1e9) is 0 in float32), and its gradient is 0, so Adam leaves it there.
 */
const WAIT_REMOVED = -1e9;

/** Trains a PPO policy; see TrainOptions. */
export async function train(input: TrainConfigInput | TrainConfig, opts: TrainOptions): Promise<TrainResult> {
  // ---- 1. set-up -------------------------------------------------------------------------------------------
  const config = parseTrainConfig(input);
  // a problem that deadlocks or offers no decision is refused before anything is written
  await checkTrainable(config);
  // TensorFlow.js loads here, not when the package is imported: evaluation and the CLI's other commands do not need it
  const { initTf } = await import('./tf.js');
  const backend = await initTf(config.backend as BackendName | undefined);
  const dir = opts.outDir;
  makeDirectory(dir);
  removeTemporaries(dir);
  const hasRun = existsSync(path.join(dir, 'latest.json'));
  if (hasRun && !opts.resume)
    throw new UserError(`${dir} already holds a training run; pass --resume to continue it or choose another --out`);
  const resumeFrom = hasRun ? loadCheckpoint(dir, true) : undefined;
  if (resumeFrom && JSON.stringify(resumeFrom.meta.config) !== JSON.stringify(config))
    throw new UserError(`--resume: ${dir} was trained with another config; give the same config or a new --out`);
  writeFileAtomic(path.join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);

  const problem: Problem | undefined = configProblem(config);
  const ranges = configRanges(config);
  const N = config.envs;
  const T = config.stepsPerRollout;
  const batch = N * T;
  const minibatch = Math.floor(batch / config.minibatches);
  const cloneUpdates = cloneUpdateCount(config);
  const ppoUpdates = ppoUpdateCount(config);
  const updates = cloneUpdates + ppoUpdates;
  const problemSet = configProblemSet(config)?.map((d) => d.problem);
  if (config.teacher && !problemSet && !opts.teacher)
    throw new UserError(
      `teacher.schedule "${teacherLabel(config.teacher)}": train() needs the schedule built for the problem ` +
        '(TrainOptions.teacher; pprl train builds it)',
    );
  if (config.teacher && problemSet && opts.teachers?.length !== problemSet.length)
    throw new UserError(
      `teacher.schedule "${teacherLabel(config.teacher)}": train() needs one schedule per problem of the set ` +
        '(TrainOptions.teachers; pprl train builds them)',
    );
  const envOptions = envOptionsOf(config);
  const source = problemSet
    ? { problems: problemSet }
    : problem
      ? { problem, ...(config.noiseLevels ? { noiseLevels: config.noiseLevels } : {}) }
      : { ranges: ranges! };
  const envs = await TrainingEnvs.create(N, T, source, envOptions);
  if (opts.teacher && !problemSet) envs.setTeacher(opts.teacher);
  if (opts.teachers && problemSet) envs.setTeachers(opts.teachers);
  // greedy evaluation runs at the problem's own noise: in the training vector, or one of its own when training mixes
  // levels; a problem set gets one small vector per problem
  const evalEnvs = problemSet
    ? await problemSetEvalEnvs(problemSet, envOptions, config.evalEpisodes, opts.teachers)
    : [
        envs.count === 1
          ? envs.first
          : await WasmEnv.create({ ...envOptions, numEnvs: Math.min(64, config.evalEpisodes), problem: problem! }),
      ];
  const evalEnv = evalEnvs[0]!;
  // a policy with a teacher observes the teacher's plan: the evaluation vector of its own needs it too
  if (!problemSet && opts.teacher && evalEnv !== envs.first) evalEnv.setReplaySchedule(opts.teacher);
  const D = envs.obsDim;
  const A = envs.numActions;
  const layout: MlpLayout = {
    obsDim: D,
    hidden: config.network.hidden,
    actions: A,
    activation: config.network.activation,
    shared: config.network.shared,
  };
  const params0 = resumeFrom
    ? resumeFrom.params
    : initialParams(layout, config.seed, config.allowWait ? config.network.waitBias : WAIT_REMOVED);
  const updater = await createTfUpdater(layout, params0);
  const rolloutPolicy = await WasmMlp.create(layout, params0);
  const rng = seedrandom(`pprl-ppo-${config.seed}`, {
    state: (resumeFrom?.meta.rngState as seedrandom.State.Arc4 | undefined) ?? true,
  });
  // read before anything in the run directory changes: a corrupt best/ must leave the run as it was
  const bestDir = path.join(dir, BEST);
  let best: TrainResult['best'] = existsSync(path.join(bestDir, 'meta.json')) ? bestOf(bestDir) : undefined;
  const logFile = path.join(dir, 'log.jsonl');
  let update = 0;
  let globalStep = 0;
  let logLines = 0;
  let seconds = 0;
  if (resumeFrom) {
    const r = resumeFrom.resume!;
    updater.setOptimizerState({ step: resumeFrom.meta.adamStep, m: r.adamM, v: r.adamV });
    try {
      envs.restoreState(r.envState);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      throw new UserError(
        `--resume: the environment state (env-state.bin.gz) of the latest checkpoint in ${dir} does not fit this ` +
          `config: ${e.message}`,
      );
    }
    update = resumeFrom.meta.iteration;
    globalStep = resumeFrom.meta.globalStep;
    logLines = resumeFrom.meta.logLines;
    seconds = resumeFrom.meta.seconds;
    // log lines written after the checkpoint belong to updates that will run again
    const kept = existsSync(logFile)
      ? readTextChecked(logFile, 'training log', 4 * MAX_INPUT_BYTES)
          .split('\n')
          .slice(0, logLines)
      : [];
    writeFileAtomic(logFile, kept.map((l) => `${l}\n`).join(''));
  } else writeFileAtomic(logFile, '');

  // baselines on the held-out evaluation episodes, once (they do not learn)
  const baselineMeans: Record<string, number> = {};
  if (problem) {
    const baselines: Record<string, Baseline> = { 'greedy-zb': 'greedy-zb' };
    for (const [name, schedule] of Object.entries(opts.baselines ?? {})) baselines[name] = { schedule };
    for (const [name, baseline] of Object.entries(baselines))
      baselineMeans[name] = summarize(
        await baselineMakespans(baseline, problem, config.evalEpisodes, EVAL_EPISODE_START),
      ).mean;
  }
  // a problem set is scored relative to each problem's teacher (greedy-zb without one), whose means come first
  const setReference: number[] = [];
  const setBaselines: Record<string, number[]> = {};
  if (problemSet) {
    const perProblem = evalEnvs[0]!.numEnvs;
    const named: Record<string, (k: number) => Baseline> = { 'greedy-zb': () => 'greedy-zb' };
    if (opts.teachers) named.teacher = (k) => ({ schedule: opts.teachers![k]! });
    for (const [name, baseline] of Object.entries(named))
      setBaselines[name] = await Promise.all(
        problemSet.map(
          async (p, k) => summarize(await baselineMakespans(baseline(k), p, perProblem, EVAL_EPISODE_START)).mean,
        ),
      );
    setReference.push(...(setBaselines.teacher ?? setBaselines['greedy-zb']!));
    const relative = (means: number[]) => means.reduce((sum, m, k) => sum + m / setReference[k]!, 0) / means.length;
    for (const [name, means] of Object.entries(setBaselines)) baselineMeans[name] = relative(means);
  }
  const evaluate = (): NonNullable<UpdateLog['eval']> => {
    if (!problemSet) {
      const stats: MakespanStats = evaluateInEnv(evalEnv, rolloutPolicy, config.evalEpisodes, EVAL_EPISODE_START);
      return { episodes: config.evalEpisodes, policy: stats.mean, baselines: { ...baselineMeans } };
    }
    let sum = 0;
    evalEnvs.forEach(
      (env, k) => (sum += evaluateInEnv(env, rolloutPolicy, env.numEnvs, EVAL_EPISODE_START).mean / setReference[k]!),
    );
    return {
      episodes: evalEnvs[0]!.numEnvs * evalEnvs.length,
      policy: sum / evalEnvs.length,
      baselines: { ...baselineMeans },
    };
  };

  const checkpointMeta = (): CheckpointMeta => ({
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    iteration: update,
    globalStep,
    logLines,
    layout,
    config,
    rngState: rng.state(),
    adamStep: updater.optimizerState().step,
    backend,
    seconds,
    createdAt: new Date().toISOString(),
  });
  const checkpoint = (): string => {
    const moments = updater.optimizerState();
    return saveCheckpoint(dir, {
      meta: checkpointMeta(),
      params: updater.flatParams(),
      resume: { adamM: moments.m, adamV: moments.v, envState: envs.saveState() },
    });
  };

  let rolloutTotal = 0;
  let updateTotal = 0;
  let lastEval: UpdateLog['eval'];
  let lastCheckpoint = '';
  const sessionStart = update;
  const adv = new Float32Array(batch);
  const returns = new Float32Array(batch);
  const allowed = new Uint8Array(batch * A);
  const teacher = config.teacher;

  try {
    // ---- 2. updates: cloning (with a teacher), then PPO ---------------------------------------------------
    while (update < updates) {
      // the phase, and this update's place in it (learning rate and teacher pull anneal within a phase)
      const cloning = update < cloneUpdates;
      const k = cloning ? update : update - cloneUpdates;
      const phaseUpdates = cloning ? cloneUpdates : ppoUpdates;
      const baseLr = cloning ? (teacher!.cloneLearningRate ?? config.learningRate) : config.learningRate;
      const lr = config.lrSchedule === 'linear' ? baseLr * (1 - k / phaseUpdates) : baseLr;
      const pull = teacher
        ? teacher.coefSchedule === 'linear'
          ? teacher.coef * (1 - k / phaseUpdates)
          : teacher.coef
        : 0;
      const coefs: LossCoefs = {
        policy: cloning ? 0 : 1,
        entropy: cloning ? 0 : config.entropyCoef,
        value: config.valueCoef,
        clone: cloning ? 1 : pull,
        clip: config.clip,
        clipValueLoss: config.clipValueLoss,
        normalizeAdvantages: config.normalizeAdvantages,
        maxGradNorm: config.maxGradNorm,
      };
      // cloning rollouts follow the teacher first (its own states), then the student labelled by it (DAgger)
      const followTeacher = cloning && k < Math.round(cloneUpdates * (1 - teacher!.studentShare));

      // rollout: T steps of N environments inside WebAssembly, stored [T][N]
      const t0 = performance.now();
      try {
        envs.rollout(followTeacher ? 'teacher' : rolloutPolicy, config.seed);
      } catch (e) {
        // the `plain` memory rule with several chunks can trap the pipeline in an episode (a documented choice)
        const chunks = problemSet
          ? Math.max(...problemSet.map((p) => p.chunks))
          : problem
            ? problem.chunks
            : (ranges!.chunks?.[1] ?? 1);
        if (e instanceof EnvError && /deadlock/.test(e.message) && config.memoryRule === 'plain' && chunks > 1)
          throw new UserError(
            `memoryRule: 'plain' deadlocked during update ${update + 1} ` +
              `(${e.message.replace(/ \(memory rule.*\)$/, '')}); use 'reserve' or 'lowest', which cannot deadlock`,
          );
        throw e;
      }
      // the teacher's rollouts carry no values, so the critic's are computed for their observations (before the
      // rollout's views are taken: a forward may grow the module's memory)
      const teacherValues = followTeacher ? rolloutPolicy.forwardMany(envs.fields().obs, batch).values : undefined;
      const teacherFinal = followTeacher ? rolloutPolicy.forwardMany(envs.fields().finalObs, N).values : undefined;
      const buffers = envs.fields();
      const episodeLog = envs.readLog();
      globalStep += batch;
      const t1 = performance.now();

      // bootstrap and generalized advantage estimation, one reverse loop (nextnonterminal = 1 - done of the step)
      const reward = buffers.reward;
      const done = buffers.done;
      const value = teacherValues ?? buffers.value;
      const finalValue = teacherFinal ?? buffers.finalValue;
      for (let i = 0; i < N; i++) {
        let lastGae = 0;
        for (let t = T - 1; t >= 0; t--) {
          const row = t * N + i;
          const nextValue = t === T - 1 ? finalValue[i]! : value[row + N]!;
          const nonTerminal = 1 - done[row]!;
          const delta = reward[row]! + config.gamma * nextValue * nonTerminal - value[row]!;
          lastGae = delta + config.gamma * config.gaeLambda * nonTerminal * lastGae;
          adv[row] = lastGae;
          returns[row] = lastGae + value[row]!;
        }
      }
      const mask = buffers.mask;
      for (let k = 0; k < batch * A; k++) allowed[k] = mask[k]! === 1 && (config.allowWait || k % A !== A - 1) ? 1 : 0;
      updater.load({
        obs: buffers.obs,
        allowed,
        actions: buffers.actions,
        logProb: buffers.logProb,
        advantages: adv,
        returns,
        values: value,
        ...(coefs.clone > 0 ? { teacher: buffers.teacher } : {}),
      });
      const stats = {
        policyLoss: 0,
        valueLoss: 0,
        entropy: 0,
        approxKl: 0,
        clipFraction: 0,
        gradNorm: 0,
        cloneLoss: 0,
        cloneAccuracy: 0,
        minibatches: 0,
      };
      const order = Int32Array.from({ length: batch }, (_, k) => k);
      let stopEarly = false;
      for (let epoch = 0; epoch < config.epochs && !stopEarly; epoch++) {
        shuffle(order, rng);
        let epochKl = 0;
        let epochMinibatches = 0;
        for (let start = 0; start + minibatch <= batch; start += minibatch) {
          const s = updater.step(order.subarray(start, start + minibatch), coefs, lr);
          stats.policyLoss += s.policyLoss;
          stats.valueLoss += s.valueLoss;
          stats.entropy += s.entropy;
          stats.approxKl += s.approxKl;
          stats.clipFraction += s.clipFraction;
          stats.gradNorm += s.gradNorm;
          stats.cloneLoss += s.cloneLoss;
          stats.cloneAccuracy += s.cloneAccuracy;
          stats.minibatches++;
          epochKl += s.approxKl;
          epochMinibatches++;
        }
        if (config.targetKl !== null && epochKl / epochMinibatches > config.targetKl) stopEarly = true;
      }
      rolloutPolicy.setParams(updater.flatParams());
      update++;
      const t2 = performance.now();
      rolloutTotal += (t1 - t0) / 1000;
      updateTotal += (t2 - t1) / 1000;
      seconds += (t2 - t0) / 1000;

      // ---- 3. log, evaluate, checkpoint --------------------------------------------------------------------
      const n = stats.minibatches;
      const entry: UpdateLog = {
        update,
        updates,
        phase: cloning ? 'clone' : 'ppo',
        followedTeacher: followTeacher,
        globalStep,
        learningRate: lr,
        episodes: episodeLog.episodes,
        meanMakespan: episodeLog.episodes > 0 ? episodeLog.meanMakespan : null,
        meanReturn: episodeLog.episodes > 0 ? -episodeLog.meanScaledMakespan : null,
        policyLoss: stats.policyLoss / n,
        valueLoss: stats.valueLoss / n,
        entropy: stats.entropy / n,
        approxKl: stats.approxKl / n,
        clipFraction: stats.clipFraction / n,
        explainedVariance: explainedVariance(buffers.value, returns),
        gradNorm: stats.gradNorm / n,
        cloneCoef: coefs.clone,
        cloneLoss: coefs.clone > 0 ? stats.cloneLoss / n : null,
        cloneAccuracy: coefs.clone > 0 ? stats.cloneAccuracy / n : null,
        stepsPerSec: batch / ((t2 - t0) / 1000),
        rolloutSeconds: (t1 - t0) / 1000,
        updateSeconds: (t2 - t1) / 1000,
      };
      const last = update === updates;
      if (last || (config.evalInterval > 0 && update % config.evalInterval === 0)) {
        entry.eval = lastEval = evaluate();
        if (best === undefined || entry.eval.policy < best.policy) {
          const meta = { ...checkpointMeta(), evalMakespan: entry.eval.policy };
          best = {
            update,
            policy: entry.eval.policy,
            checkpoint: savePolicyCheckpoint(dir, BEST, { meta, params: updater.flatParams() }),
          };
        }
      }
      withFileErrors(`cannot write ${logFile}`, () => appendFileSync(logFile, `${JSON.stringify(entry)}\n`));
      logLines++;
      opts.onUpdate?.(entry);
      // let signal handlers and progress output run between updates (an update itself is synchronous)
      await new Promise((resolve) => setImmediate(resolve));
      const stop =
        (opts.stopAfter !== undefined && update - sessionStart >= opts.stopAfter) || (opts.shouldStop?.() ?? false);
      if (last || stop || update % config.checkpointInterval === 0) lastCheckpoint = checkpoint();
      if (stop && !last) break;
    }
    if (!lastCheckpoint) lastCheckpoint = checkpoint();
    const finished = update === updates;
    // a run resumed after its last checkpoint but before result.json still reports its final evaluation
    if (finished && !lastEval) lastEval = evaluate();
    const result: TrainResult = {
      outDir: dir,
      finished,
      updates: update,
      cloneUpdates: Math.min(update, cloneUpdates),
      globalStep,
      seconds,
      stepsPerSec: globalStep / Math.max(seconds, 1e-9),
      rolloutShare: rolloutTotal / Math.max(rolloutTotal + updateTotal, 1e-9),
      updateShare: updateTotal / Math.max(rolloutTotal + updateTotal, 1e-9),
      backend,
      ...(lastEval ? { eval: lastEval } : {}),
      checkpoint: lastCheckpoint,
      ...(best ? { best } : {}),
    };
    if (finished) writeFileAtomic(path.join(dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    rolloutPolicy.dispose();
    for (const env of evalEnvs) if (env !== envs.first) env.dispose();
    envs.dispose();
    updater.dispose();
  }
}

/**
 * One evaluation vector per problem of a set, each with ceil(evalEpisodes / count) environments (one episode each)
 * and its problem's teacher as the plan.
 */
async function problemSetEvalEnvs(
  problems: readonly Problem[],
  options: ReturnType<typeof envOptionsOf>,
  evalEpisodes: number,
  teachers: readonly Schedule[] | undefined,
): Promise<WasmEnv[]> {
  const perProblem = Math.ceil(evalEpisodes / problems.length);
  const maxChunks = Math.max(...problems.map((p) => p.chunks));
  const out: WasmEnv[] = [];
  for (const [k, problem] of problems.entries()) {
    const env = await WasmEnv.create({ ...options, numEnvs: perProblem, problem, maxChunks });
    if (teachers) env.setReplaySchedule(teachers[k]!);
    out.push(env);
  }
  return out;
}

/** The policy-only checkpoint of the best evaluation so far, in a run directory. */
const BEST = 'best';

function bestOf(bestDir: string): NonNullable<TrainResult['best']> {
  const file = path.join(bestDir, 'meta.json');
  const text = readTextChecked(file, 'checkpoint file');
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(text) as CheckpointMeta;
  } catch (e) {
    throw new UserError(`corrupt checkpoint ${bestDir}: meta.json is not valid JSON (${(e as Error).message})`);
  }
  return { update: meta.iteration, policy: meta.evalMakespan ?? Number.POSITIVE_INFINITY, checkpoint: bestDir };
}

/** CleanRL's orthogonal initialization, with the wait action's logit bias set (the last action). */
function initialParams(layout: MlpLayout, seed: number, waitBias: number): Float32Array {
  const params = orthogonalInit(layout, seed);
  const head = mlpLayers(layout).find((l) => l.network === 'actor' && l.index === layout.hidden.length)!;
  params[head.biasOffset + layout.actions - 1] = waitBias;
  return params;
}

/** Fisher-Yates with the run's seeded generator (its state is in every checkpoint). */
function shuffle(a: Int32Array, random: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

/** 1 - Var(returns - values) / Var(returns). */
function explainedVariance(values: Float32Array, returns: Float32Array): number {
  const n = returns.length;
  let mr = 0;
  let md = 0;
  for (let k = 0; k < n; k++) {
    mr += returns[k]!;
    md += returns[k]! - values[k]!;
  }
  mr /= n;
  md /= n;
  let vr = 0;
  let vd = 0;
  for (let k = 0; k < n; k++) {
    vr += (returns[k]! - mr) ** 2;
    vd += (returns[k]! - values[k]! - md) ** 2;
  }
  return vr === 0 ? 0 : 1 - vd / vr;
}
