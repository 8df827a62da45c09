/**
 * Errors caused by the user's input (a bad config, schedule or file). Front ends print the message as one line
 * and exit with code 2; anything else is an internal error.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/** A config field is missing, malformed or out of range; `field` is its dotted path. */
export class ConfigError extends UserError {
  override name = 'ConfigError';
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(field ? `${field}: ${detail}` : detail);
  }
}

/** A schedule is incomplete, duplicates ops, places a stage on the wrong device or cannot run. */
export class ScheduleError extends UserError {
  override name = 'ScheduleError';
  constructor(
    message: string,
    readonly ops: readonly string[] = [],
  ) {
    super(message);
  }
}

/** The per-device orders wait on each other; `blocked` names each stuck head op and what it waits for. */
export class DeadlockError extends ScheduleError {
  override name = 'DeadlockError';
  constructor(readonly blocked: readonly { device: number; op: string; waitsFor: string }[]) {
    super(
      `schedule deadlocks: ${blocked.map((b) => `device ${b.device} is blocked at ${b.op} (waits for ${b.waitsFor})`).join('; ')}`,
      blocked.map((b) => b.op),
    );
  }
}
