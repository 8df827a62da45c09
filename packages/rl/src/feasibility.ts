// Whether a fixed problem can be trained on (or a policy evaluated on it), decided before anything runs or is
// written, with the field to change and the values that work. Two things stop the environment:
//   - a memory limit below what one micro-batch's forwards need on some device: nothing can ever free memory there
//     (every rule deadlocks; with memF >= 0 a device holds all its chunks' forwards of micro-batch 0 before any
//     backward of any micro-batch runs on it);
//   - a problem that offers no decision at all (every op forced, e.g. one micro-batch, or a limit that lets each
//     device hold a single activation): the environment cannot take a step, so a policy has nothing to decide. The
//     environment itself is asked: it gives up after 100 consecutive episodes without a decision.
import {
  ConfigError,
  EnvError,
  UserError,
  WasmEnv,
  withLimit,
  withNoise,
  withProblem,
  type Problem,
} from '@pprl/core-wasm';
import { configProblem, configProblemSet, envOptionsOf, type TrainConfig } from './config.js';
import type { TrainingEnvOptions } from './vector.js';

/** How the caller names the problem's fields in messages (config paths, or command-line flags). */
export interface ProblemFields {
  memLimit: string;
  microBatches: string;
  memoryRule: string;
  /** How to say "no limit" for memLimit, e.g. "null for none" or "omit it for none". */
  noLimit: string;
}

/**
 * The names of a training config's fields (a profile problem's limit is `memLimit`, a plain problem's `memory.limit`).
 */
export function trainConfigFields(config: Pick<TrainConfig, 'problem'>): ProblemFields {
  const profile = config.problem !== undefined && 'profile' in config.problem;
  return {
    memLimit: profile ? 'problem.memLimit' : 'problem.memory.limit',
    microBatches: 'problem.microBatches',
    memoryRule: 'memoryRule',
    noLimit: 'null for none',
  };
}

/** The tolerance of the environment's memory check (memCap of core-wasm's event tables), so both agree on what fits. */
const fits = (need: number, limit: number) => need <= limit * (1 + 1e-9);

/** A number for a message: integers as they are, others to 6 significant digits. */
const num = (x: number) => (Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(6))));

/**
 * Per device, one micro-batch's forward memory on all its chunks; undefined when some memF is negative (no bound then).
 */
function forwardMemory(problem: Problem): Float64Array | undefined {
  if (problem.memF.some((m) => m < 0)) return undefined;
  const perDevice = new Float64Array(problem.stages);
  for (let s = 0; s < problem.numStages; s++) {
    const d = problem.stageDevice[s]!;
    perDevice[d] = perDevice[d]! + problem.memF[s]!;
  }
  return perDevice;
}

type Probe = { kind: 'ok' } | { kind: 'silent' } | { kind: 'deadlock'; message: string };

/** Which environments to look at: as many, from the same episode index, as the caller will run. */
export interface ProbeEnvs {
  numEnvs?: number;
  episodeStart?: number;
}

/** Runs environments of `problem` to their first decisions (deterministic: the same episodes every time). */
async function probe(problem: Problem, options: TrainingEnvOptions, envs: ProbeEnvs = {}): Promise<Probe> {
  let env: WasmEnv;
  try {
    // the constructor runs the first episodes up to a decision; it tolerates a problem without any, but not a deadlock
    env = await WasmEnv.create({
      ...options,
      numEnvs: envs.numEnvs ?? 1,
      episodeStart: envs.episodeStart ?? 0,
      problem,
    });
  } catch (e) {
    if (e instanceof EnvError) return { kind: 'deadlock', message: e.message };
    throw e;
  }
  try {
    // the same episodes again, now failing where they offer no decision
    env.reset();
    return { kind: 'ok' };
  } catch (e) {
    if (e instanceof EnvError) return { kind: 'silent' };
    throw e;
  } finally {
    env.dispose();
  }
}

/** The smallest limit found above `low` (which offers no decision) up to `high` (which does), to 0.1%. */
async function smallestLimitWithDecisions(
  problem: Problem,
  options: TrainingEnvOptions,
  envs: ProbeEnvs,
  low: number,
  high: number,
): Promise<number> {
  while (high - low > high * 1e-3) {
    const mid = (low + high) / 2;
    if ((await probe(withLimit(problem, mid), options, envs)).kind === 'ok') high = mid;
    else low = mid;
  }
  // a number of 3 significant digits when one works as well: rounded down (if still above `low`), else up
  const unit = 10 ** (Math.floor(Math.log10(high)) - 2);
  const down = Number((Math.floor(high / unit) * unit).toPrecision(12));
  const up = Number((Math.ceil(high / unit) * unit).toPrecision(12));
  if (down === high || up === high) return high;
  if (down > low && (await probe(withLimit(problem, down), options, envs)).kind === 'ok') return down;
  if ((await probe(withLimit(problem, up), options, envs)).kind === 'ok') return up;
  return high;
}

/** The fewest micro-batches above the problem's (up to 64 more) whose episodes offer a decision, or undefined. */
async function fewestMicroBatchesWithDecisions(
  problem: Problem,
  options: TrainingEnvOptions,
  envs: ProbeEnvs,
): Promise<number | undefined> {
  const M = problem.microBatches;
  for (let m = M + 1; m <= Math.min(65536, M + 64); m++)
    if ((await probe(withProblem(problem, { microBatches: m }), options, envs)).kind === 'ok') return m;
  return undefined;
}

/**
 * Throws a ConfigError naming the field (in `fields`' words) when episodes of `problem` under these environment
 * options cannot run: a memory limit below one micro-batch's forwards on a device, a deadlock before the first
 * decision (the `plain` memory rule with several chunks), or no decision at all in 100 consecutive episodes. `envs`:
 * the environments the caller will create (their first episodes are the ones looked at; default one, from episode
 * 0); `context` is appended to the message (e.g. which noise level).
 */
export async function checkProblemRunnable(
  problem: Problem,
  options: TrainingEnvOptions,
  fields: ProblemFields,
  envs: ProbeEnvs & { context?: string } = {},
): Promise<void> {
  const context = envs.context ?? '';
  const limit = problem.memLimit;
  const P = problem.stages;
  const V = problem.chunks;
  const M = problem.microBatches;
  const forwards = forwardMemory(problem);
  if (Number.isFinite(limit) && forwards) {
    let device = 0;
    for (let d = 1; d < P; d++) if (forwards[d]! > forwards[device]!) device = d;
    const need = forwards[device]!;
    if (!fits(need, limit))
      throw new ConfigError(
        fields.memLimit,
        `${num(limit)} deadlocks every episode: device ${device} must hold one micro-batch's ` +
          `forwards${V > 1 ? ` on its ${V} chunks` : ''} before a backward frees memory; ` +
          `allowed: at least ${num(need)}, or ${fields.noLimit}${context}`,
      );
  }
  const found = await probe(problem, options, envs);
  if (found.kind === 'ok') return;
  if (found.kind === 'deadlock') {
    if (options.memoryRule === 'plain' && V > 1)
      throw new ConfigError(
        fields.memoryRule,
        "'plain' deadlocks on this problem before its first decision " +
          '(devices fill their memory with forwards of early chunks); ' +
          `use 'reserve' or 'lowest', which cannot deadlock${context}`,
      );
    throw new UserError(
      `this problem deadlocks before its first decision (${found.message}); ` +
        `check ${fields.memLimit} and the memory deltas${context}`,
    );
  }
  // no decision anywhere: the memory limit, if lifting it gives decisions, else the number of micro-batches
  if (Number.isFinite(limit) && (await probe(withLimit(problem, null), options, envs)).kind === 'ok') {
    // with memB, memW <= 0 no device ever holds more than all its forwards of every micro-batch: no limit beyond that
    const high = forwards ? Math.max(limit * 2, M * Math.max(...forwards)) : Infinity;
    if (Number.isFinite(high) && (await probe(withLimit(problem, high), options, envs)).kind === 'ok') {
      const smallest = await smallestLimitWithDecisions(problem, options, envs, limit, high);
      throw new ConfigError(
        fields.memLimit,
        `${num(limit)} leaves a policy nothing to decide ` +
          '(every op is forced: devices hold too few activations for a choice); ' +
          `allowed: at least ${num(smallest)}, or ${fields.noLimit}${context}`,
      );
    }
    throw new ConfigError(
      fields.memLimit,
      `${num(limit)} leaves a policy nothing to decide (every op is forced); raise it, or ${fields.noLimit}${context}`,
    );
  }
  const fewest = await fewestMicroBatchesWithDecisions(problem, options, envs);
  const what =
    `${M} micro-batch${M === 1 ? '' : 'es'} on ${P} device${P === 1 ? '' : 's'}${V > 1 ? ` x ${V} chunks` : ''} ` +
    `leave${M === 1 ? 's' : ''} a policy nothing to decide (every op is forced)`;
  throw new ConfigError(
    fields.microBatches,
    fewest !== undefined ? `${what}; allowed: at least ${fewest} for this problem${context}` : `${what}${context}`,
  );
}

/**
 * Throws a ConfigError naming the config field when a config's fixed problem cannot be trained (see
 * checkProblemRunnable), at its own noise and at each of its noiseLevels; configs on problem ranges pass.
 */
export async function checkTrainable(config: TrainConfig): Promise<void> {
  const set = configProblemSet(config);
  if (set) {
    const fields: ProblemFields = {
      memLimit: 'problemSet.memoryFactor',
      microBatches: 'problemSet.microBatchesPerStage',
      memoryRule: 'memoryRule',
      noLimit: 'a larger factor',
    };
    const n = config.envs / set.length;
    for (const [k, { problem }] of set.entries())
      await checkProblemRunnable(problem, envOptionsOf(config), fields, {
        numEnvs: n,
        context:
          ` (problem ${k} of the set: ` + `P = ${problem.stages}, V = ${problem.chunks}, M = ${problem.microBatches})`,
      });
    return;
  }
  const problem = configProblem(config);
  if (!problem) return;
  const fields = trainConfigFields(config);
  const options = envOptionsOf(config);
  const levels = config.noiseLevels;
  // the environments train() creates: one vector of `envs`, or one per noise level (disjoint episodes), plus the
  // evaluation vector at the problem's own noise
  if (!levels) await checkProblemRunnable(problem, options, fields, { numEnvs: config.envs });
  else {
    const n = config.envs / levels.length;
    for (const [g, cv] of levels.entries())
      await checkProblemRunnable(withNoise(problem, cv), options, fields, {
        numEnvs: n,
        episodeStart: g * n,
        context: ` (at noise level ${cv} of noiseLevels)`,
      });
    await checkProblemRunnable(problem, options, fields, { numEnvs: Math.min(64, config.evalEpisodes) });
  }
}
