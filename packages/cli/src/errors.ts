// How the command reports failures: user errors in one line with exit code 2, internal errors with a way to report.
import { CommanderError } from 'commander';
import { UserError } from '@pprl/core-wasm';

export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 1;

export function reportError(error: unknown, stderr: (line: string) => void): number {
  if (error instanceof CommanderError) {
    // commander already printed its one-line message (or the help text)
    return error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.code === 'commander.help'
      ? 0
      : EXIT_USAGE;
  }
  if (error instanceof UserError) {
    stderr(`pprl: error: ${error.message}`);
    return EXIT_USAGE;
  }
  const e = error instanceof Error ? error : new Error(String(error));
  stderr(`pprl: internal error: ${e.message}`);
  stderr(
    'This is a bug in pprl. Please report it with the command line you ran and the output of PPRL_DEBUG=1 ' +
      '(the stack trace).',
  );
  if (process.env.PPRL_DEBUG) stderr(e.stack ?? '');
  return EXIT_INTERNAL;
}
