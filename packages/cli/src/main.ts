// The pprl command.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { runTrainBench, type TrainBenchResult } from '@pprl/bench';
import { benchCommand, printTrain, type ExternalBenchSuite } from './commands/bench.js';
import { boundCommand } from './commands/bound.js';
import { compareCommand } from './commands/compare.js';
import { demoCommand } from './commands/demo.js';
import { evaluateCommand } from './commands/evaluate.js';
import { scheduleCommand } from './commands/schedule.js';
import { simulateCommand } from './commands/simulate.js';
import { sweepCommand } from './commands/sweep.js';
import { trainCommand } from './commands/train.js';
import { escapeControl } from '@pprl/core-wasm';
import { reportError } from './errors.js';

/** PPO training throughput (packages/bench/src/suites/train.ts): `pprl bench train`, and part of `bench all`. */
const TRAIN_BENCH: ExternalBenchSuite<TrainBenchResult> = {
  name: 'train',
  description:
    'PPO training throughput: environment steps per second including updates, and the time in rollouts versus updates',
  run: (opts) => runTrainBench({ quick: opts.quick }),
  print: printTrain,
};

/**
 * A parse error of commander as one `pprl: error: ...` line: it quotes what the user typed (an unknown command or
 * option), so control characters are shown escaped and a very long line is cut.
 */
function commanderError(text: string): string {
  const line = escapeControl(text.trimEnd());
  return `pprl: ${line.length > MAX_ERROR_LINE ? `${line.slice(0, MAX_ERROR_LINE)}... (cut)` : line}\n`;
}

const MAX_ERROR_LINE = 300;

/** The version `pprl --version` prints: this package's own (src/ and dist/ both sit one level below it). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export function buildProgram(): Command {
  const program = new Command('pprl')
    .description('Simulate, schedule, learn to schedule and benchmark pipeline-parallel training (PPRL)')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(commanderError(text)) })
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  pprl demo\n' +
        '  pprl simulate 1f1b --stages 4 --micro-batches 8 --json\n' +
        '  pprl schedule zb-h1 --stages 4 --micro-batches 8 --format torch-csv\n' +
        '  pprl train --config packages/rl/configs/h200-6.2b-p4-m16-v2.json --out runs/p4\n' +
        '  pprl evaluate --policy runs/p4 --noise 0.3\n' +
        '  pprl bound --stages 4 --micro-batches 8 --mem-limit 4 --noise 0.3\n' +
        '  pprl bench replay',
    );
  for (const cmd of [
    demoCommand(),
    simulateCommand(),
    compareCommand(),
    boundCommand(),
    scheduleCommand(),
    trainCommand(),
    sweepCommand(),
    evaluateCommand(),
    benchCommand([TRAIN_BENCH]),
  ])
    program.addCommand(cmd);
  // subcommands inherit exit override so that their parse errors come back here
  const override = (c: Command) => {
    c.exitOverride();
    c.configureOutput({ outputError: (text, write) => write(commanderError(text)) });
    c.commands.forEach(override);
  };
  program.commands.forEach(override);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // a reader that stops early (`pprl ... | head`) is not an error
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    return reportError(error, (line) => process.stderr.write(`${line}\n`));
  }
}
