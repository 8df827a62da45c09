// The problem a trained policy runs for a command: its own training problem (with the noise flags applied), or the
// problem the options describe. Shared by evaluate and schedule ppo:<dir>.
import { ConfigError, quoteInput, resolveProblem, type Problem } from '@pprl/core-wasm';
import type { Command } from 'commander';
import { modelProblem, type LoadedPolicy } from '@pprl/rl';
import { problemFromOptions, numberOption, type ProblemOptions } from './problem-options.js';
import { problemForPolicy } from './contenders.js';

/**
 * Options that describe the problem itself (the noise and seed flags only change the noise of the policy's own
 * problem).
 */
export const PROBLEM_FLAGS: (keyof ProblemOptions)[] = [
  'stages',
  'microBatches',
  'chunks',
  'placement',
  'costF',
  'costB',
  'costW',
  'comm',
  'memF',
  'memB',
  'memW',
  'memLimit',
  'profile',
  'model',
  'microBatchSize',
  'bandwidth',
  'latency',
];

export interface PolicyProblem {
  /** The model with one chunk per device (static schedules build their problems from it). */
  model: Problem;
  /** What the policy runs: the model split into the policy's chunks when it was trained with more. */
  problem: Problem;
  /** No problem option was given: the policy's own training problem. */
  ownProblem: boolean;
}

/**
 * The policy's problem for these options. Without problem options it is the training problem at --noise (default
 * `defaultCv`, or the training cv when undefined) and --seed (default 0); a policy trained on ranges or a problem set
 * has none, and the message names the options to give.
 */
export function policyProblem(
  policy: LoadedPolicy,
  opts: ProblemOptions & PolicyChunksOptions,
  defaultCv?: number,
): PolicyProblem {
  const ownProblem = !PROBLEM_FLAGS.some((k) => opts[k] !== undefined);
  let model: Problem;
  if (ownProblem) {
    const own = modelProblem(policy.config);
    if (!own)
      throw new ConfigError(
        '--stages',
        `this policy was trained on ${policy.config.problemSet ? 'a problem set' : 'problem ranges'}: ` +
          `give the problem to run it on (--stages, --micro-batches, costs or --profile)`,
      );
    const cv = numberOption('--noise', opts.noise) ?? defaultCv ?? own.noise.cv;
    const base = own.config;
    model = resolveProblem({
      ...base,
      noise: {
        ...base.noise,
        cv,
        commCv: numberOption('--comm-noise', opts.commNoise) ?? cv,
        seed: numberOption('--seed', opts.seed) ?? 0,
      },
    });
  } else model = problemFromOptions(opts);
  return { model, problem: problemForPolicy(policy, model, policyChunksOption(opts.policyChunks)), ownProblem };
}

export interface PolicyChunksOptions {
  policyChunks?: string;
}

/** The --policy-chunks option of the commands that run trained policies. */
export function addPolicyChunksOption(cmd: Command): Command {
  return cmd.option(
    '--policy-chunks <V>',
    'a policy trained on a problem set or ranges runs the model cut into V chunks per device in V placement, ' +
      '1 or 2 (default 1)',
  );
}

export function policyChunksOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const V = Number(text);
  if (!(text.trim() !== '' && Number.isInteger(V) && V >= 1 && V <= 16))
    throw new ConfigError('--policy-chunks', `must be an integer in [1, 16] (got ${quoteInput(text)})`);
  return V;
}
