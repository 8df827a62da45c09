// pprl train: PPO on a validated config file, into a run directory that can be resumed (packages/rl).
import { Command } from 'commander';
import { ConfigError, type Schedule } from '@pprl/core-wasm';
import { configProblem, readTrainConfig, train, updateCount, type TrainResult, type UpdateLog } from '@pprl/rl';
import { findSchedule } from '@pprl/schedulers';
import { fmt, printJson, table } from '../output.js';
import { createProgress, progressWanted } from '../progress.js';

interface TrainOptions {
  config?: string;
  out?: string;
  resume?: boolean;
  json?: boolean;
}

/** Static schedules logged beside the policy at each evaluation (those that can be built for the problem). */
function logBaselines(problem: ReturnType<typeof configProblem>): Record<string, Schedule> {
  const out: Record<string, Schedule> = {};
  if (!problem || problem.chunks !== 1) return out;
  for (const name of ['1f1b', 'zb-h1']) {
    try {
      out[name] = findSchedule(name).build(problem);
    } catch {
      // not buildable for this problem (e.g. too few micro-batches): simply not logged
    }
  }
  return out;
}

export function trainCommand(): Command {
  return new Command('train')
    .description('train a PPO scheduling policy (rollouts in WebAssembly, updates on TensorFlow.js) into a resumable run directory')
    .requiredOption('--config <file>', 'training config (JSON; fields in packages/rl/README.md)')
    .requiredOption('--out <dir>', 'run directory: config.json, log.jsonl, checkpoints, result.json')
    .option('--resume', 'continue the run in --out from its latest checkpoint (a fresh start if it has none)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  pprl train --config packages/rl/configs/h200-6.2b-p4-m16.json --out runs/p4\n  pprl train --config packages/rl/configs/h200-6.2b-p4-m16.json --out runs/p4 --resume   # after an interruption\n\nCtrl-C stops after the current update with a checkpoint; --resume continues exactly where it stopped.',
    )
    .action(async (opts: TrainOptions) => {
      if (!opts.config) throw new ConfigError('--config', 'is required');
      if (!opts.out) throw new ConfigError('--out', 'is required');
      const config = readTrainConfig(opts.config);
      const problem = configProblem(config);
      const progress = createProgress({ label: 'train', total: updateCount(config), enabled: progressWanted(opts.json) });
      let interrupted = false;
      const onSigint = () => {
        interrupted = true;
      };
      process.on('SIGINT', onSigint);
      let result: TrainResult;
      try {
        result = await train(config, {
          outDir: opts.out,
          resume: opts.resume ?? false,
          baselines: logBaselines(problem),
          onUpdate: (log: UpdateLog) => progress.tick(log.meanMakespan !== null ? `makespan ${fmt(log.meanMakespan)}, ${Math.round(log.stepsPerSec)} steps/s` : ''),
          shouldStop: () => interrupted,
        });
      } finally {
        progress.done();
        process.off('SIGINT', onSigint);
      }
      if (opts.json) printJson(result);
      else {
        const rows: (string | number)[][] = [
          ['updates', `${result.updates}${result.finished ? '' : ' (stopped early; --resume continues)'}`],
          ['environment steps', result.globalStep],
          ['seconds', fmt(result.seconds)],
          ['steps/s (rollout + update)', Math.round(result.stepsPerSec)],
          ['time in rollouts / updates', `${(100 * result.rolloutShare).toFixed(1)}% / ${(100 * result.updateShare).toFixed(1)}%`],
          ['TensorFlow.js backend', result.backend],
        ];
        if (result.eval) {
          rows.push([`greedy policy, mean makespan (${result.eval.episodes} held-out episodes)`, fmt(result.eval.policy)]);
          for (const [name, mean] of Object.entries(result.eval.baselines)) rows.push([`  ${name}, same episodes`, fmt(mean)]);
        }
        console.log(table(['run', opts.out], rows));
        console.log(`checkpoint: ${result.checkpoint}`);
      }
      if (interrupted && !result.finished) process.exitCode = 130;
    });
}
