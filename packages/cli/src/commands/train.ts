// pprl train: PPO on a validated config file, into a run directory that can be resumed (packages/rl).
import { Command } from 'commander';
import { ConfigError, type Schedule, escapeControl, quoteInput } from '@pprl/core-wasm';
import {
  checkTrainable,
  configProblem,
  configProblemSet,
  readTrainConfig,
  teacherLabel,
  teacherScheduleName,
  train,
  updateCount,
  type TrainResult,
  type UpdateLog,
} from '@pprl/rl';
import { findSchedule, type ScheduleInfo } from '@pprl/schedulers';
import { fmt, printJson, table } from '../output.js';
import { formatTime, unitsOfConfig, type ReportUnits } from '../units.js';
import { createProgress, progressWanted } from '../progress.js';

interface TrainOptions {
  config?: string;
  out?: string;
  resume?: boolean;
  json?: boolean;
}

/**
 * Static schedules logged beside the policy at each evaluation (those that can be built for the problem): 1F1B and
 * ZB-H1 with one chunk per device, ZB-V with two in V placement, and the teacher.
 */
function logBaselines(
  problem: ReturnType<typeof configProblem>,
  teacher: string | undefined,
): Record<string, Schedule> {
  const out: Record<string, Schedule> = {};
  if (!problem) return out;
  const names =
    problem.chunks === 1 ? ['1f1b', 'zb-h1'] : problem.chunks === 2 && problem.placement === 'v' ? ['zb-v'] : [];
  if (teacher && !names.includes(teacher)) names.push(teacher);
  for (const name of names) {
    try {
      out[name] = findSchedule(name).build(problem);
    } catch {
      // not buildable for this problem (e.g. too few micro-batches): simply not logged
    }
  }
  return out;
}

/** The teacher's schedule, built for the config's problem; errors name the config field. */
function teacherSchedule(
  name: string | undefined,
  problem: ReturnType<typeof configProblem>,
  which = '',
): Schedule | undefined {
  if (name === undefined || !problem) return undefined;
  let info: ScheduleInfo;
  try {
    info = findSchedule(name);
  } catch (e) {
    throw new ConfigError('teacher.schedule', (e as Error).message);
  }
  try {
    return info.build(problem);
  } catch (e) {
    throw new ConfigError(
      'teacher.schedule',
      `${quoteInput(name)} cannot be built for ${which || 'this problem'}: ${(e as Error).message}`,
    );
  }
}

/** The progress bar's text after an update: the phase, training makespan and speed, and at evaluations the
 * greedy policy against the teacher (or ZB-H1 / ZB-V) on the held-out episodes. */
function progressLine(log: UpdateLog, teacher: string | undefined, units: ReportUnits, setScored = false): string {
  const time = (x: number) => formatTime(x, units, fmt);
  const parts: string[] = [
    log.phase === 'clone' ? `cloning${log.followedTeacher ? ' (teacher rollouts)' : ''}` : 'ppo',
  ];
  if (log.meanMakespan !== null) parts.push(`makespan ${time(log.meanMakespan)}`);
  if (log.cloneAccuracy !== null) parts.push(`agrees with teacher ${(100 * log.cloneAccuracy).toFixed(1)}%`);
  if (log.eval) {
    if (setScored)
      parts.push(
        `eval: policy / teacher ${log.eval.policy.toFixed(4)}, ` +
          `greedy-zb / teacher ${(log.eval.baselines['greedy-zb'] ?? NaN).toFixed(4)}`,
      );
    else {
      const ref =
        teacher && log.eval.baselines[teacher] !== undefined
          ? teacher
          : Object.keys(log.eval.baselines).find((b) => b === 'zb-h1' || b === 'zb-v');
      parts.push(`eval: policy ${time(log.eval.policy)}${ref ? ` vs ${ref} ${time(log.eval.baselines[ref]!)}` : ''}`);
    }
  }
  parts.push(`${Math.round(log.stepsPerSec)} steps/s`);
  return parts.join(', ');
}

export function trainCommand(): Command {
  return new Command('train')
    .description(
      'train a PPO scheduling policy (rollouts in WebAssembly, updates on TensorFlow.js) ' +
        'into a resumable run directory',
    )
    .requiredOption('--config <file>', 'training config (JSON; fields in packages/rl/README.md)')
    .requiredOption('--out <dir>', 'run directory: config.json, log.jsonl, checkpoints, result.json')
    .option('--resume', 'continue the run in --out from its latest checkpoint (a fresh start if it has none)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  pprl train --config packages/rl/configs/h200-6.2b-p4-m16-v2.json --out runs/p4\n' +
        '  pprl train --config packages/rl/configs/h200-6.2b-p4-m16-v2.json --out runs/p4 --resume   ' +
        '# after an interruption\n\n' +
        'Ctrl-C stops after the current update with a checkpoint; --resume continues exactly where it stopped.',
    )
    .action(async (opts: TrainOptions) => {
      if (!opts.config) throw new ConfigError('--config', 'is required');
      if (!opts.out) throw new ConfigError('--out', 'is required');
      const config = readTrainConfig(opts.config);
      const problem = configProblem(config);
      // a problem that deadlocks or offers no decision names its field before the teacher is built or --out made
      await checkTrainable(config);
      const units = unitsOfConfig(config);
      const time = (x: number) => formatTime(x, units, fmt);
      const set = configProblemSet(config);
      const teacherName = problem ? teacherScheduleName(config.teacher, problem.chunks) : undefined;
      const teacher = teacherSchedule(teacherName, problem);
      // a problem set: each problem's own teacher, built before anything is written
      const teachers =
        set && config.teacher
          ? set.map(
              ({ problem: p }, k) =>
                teacherSchedule(
                  teacherScheduleName(config.teacher, p.chunks),
                  p,
                  `problem ${k} of the set (P = ${p.stages}, V = ${p.chunks}, M = ${p.microBatches})`,
                )!,
            )
          : undefined;
      const progress = createProgress({
        label: 'train',
        total: updateCount(config),
        enabled: progressWanted(opts.json),
      });
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
          baselines: logBaselines(problem, teacherName),
          ...(teacher ? { teacher } : {}),
          ...(teachers ? { teachers } : {}),
          onUpdate: (log: UpdateLog) => progress.tick(progressLine(log, teacherName, units, set !== undefined)),
          shouldStop: () => interrupted,
        });
      } finally {
        progress.done();
        process.off('SIGINT', onSigint);
      }
      if (opts.json) printJson({ ...result, timeUnit: units.time });
      else {
        const rows: (string | number)[][] = [
          ['updates', `${result.updates}${result.finished ? '' : ' (stopped early; --resume continues)'}`],
          ['environment steps', result.globalStep],
          ['seconds', fmt(result.seconds)],
          ['steps/s (rollout + update)', Math.round(result.stepsPerSec)],
          [
            'time in rollouts / updates',
            `${(100 * result.rolloutShare).toFixed(1)}% / ${(100 * result.updateShare).toFixed(1)}%`,
          ],
          ['TensorFlow.js backend', result.backend],
        ];
        if (result.eval && set) {
          rows.push([
            `greedy policy / teacher, mean over the ${set.length} problems (${result.eval.episodes} held-out episodes)`,
            result.eval.policy.toFixed(4),
          ]);
          for (const [name, ratio] of Object.entries(result.eval.baselines))
            rows.push([
              `  ${name === 'teacher' ? `teacher (${teacherLabel(config.teacher!)})` : name} / teacher, same episodes`,
              ratio.toFixed(4),
            ]);
        } else if (result.eval) {
          rows.push([
            `greedy policy, mean makespan (${result.eval.episodes} held-out episodes)`,
            time(result.eval.policy),
          ]);
          for (const [name, mean] of Object.entries(result.eval.baselines))
            rows.push([`  ${name}, same episodes`, time(mean)]);
        }
        console.log(table(['run', escapeControl(opts.out)], rows));
        console.log(`checkpoint: ${escapeControl(result.checkpoint)}`);
        if (result.best) {
          const score = set
            ? `policy / teacher ${result.best.policy.toFixed(4)}`
            : `mean makespan ${time(result.best.policy)}`;
          console.log(
            `best evaluation: update ${result.best.update}, ${score}; ` +
              `policy in ${escapeControl(result.best.checkpoint)}`,
          );
        }
      }
      if (interrupted && !result.finished) process.exitCode = 130;
    });
}
