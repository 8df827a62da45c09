/** How much of a user's value an error message quotes (characters of a string, or of a value's preview). */
export const QUOTE_LIMIT = 80;

/**
 * Characters a terminal acts on or hides that JSON.stringify leaves as they are: DEL, the C1 controls (0x9b is a
 * CSI), line and paragraph separators, zero-width and bidirectional marks.
 */
const INVISIBLE = /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

const hexEscape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `text` with every control or invisible character written as an escape (ESC as \u001b, CR as \r): one safe line. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => SHORT_ESCAPES[c] ?? hexEscape(c));
}

/** Cuts `text` to `max` UTF-16 units without splitting a surrogate pair. */
function cut(text: string, max: number): string {
  const head = text.slice(0, max);
  const last = head.charCodeAt(head.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? head.slice(0, -1) : head;
}

function quoteString(text: string, max: number): string {
  const quoted = (s: string) => JSON.stringify(s).replace(INVISIBLE, hexEscape);
  return text.length <= max ? quoted(text) : `${quoted(cut(text, max))}... (${text.length} characters)`;
}

/**
 * A short preview of a parsed value: nesting below 3 levels as [...] / {...}, stopping after about `room`
 * characters.
 */
function preview(value: unknown, depth: number, room: number): string {
  if (typeof value === 'string') return quoteString(value, Math.max(8, room));
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value !== 'object' || value === null)
    return typeof value === 'function' || typeof value === 'symbol' ? typeof value : String(value);
  const array = Array.isArray(value);
  const [open, close] = array ? ['[', ']'] : ['{', '}'];
  if (depth >= 3) return `${open}...${close}`;
  const parts: string[] = [];
  let used = 2;
  const entries: Iterable<[string | undefined, unknown]> = array
    ? (value as unknown[]).map((v): [undefined, unknown] => [undefined, v])
    : Object.entries(value as Record<string, unknown>);
  for (const [key, item] of entries) {
    if (used >= room) {
      parts.push('...');
      break;
    }
    const head = key === undefined ? '' : `${quoteString(key, 20)}:`;
    const part = head + preview(item, depth + 1, room - used - head.length);
    parts.push(part);
    used += part.length + 1;
  }
  return `${open}${parts.join(',')}${close}`;
}

/**
 * A fragment of the user's input as an error message may quote it: a string JSON-quoted with control and invisible
 * characters escaped (`"\u001b[31m"`, `"a\rb"`), cut to `max` characters (saying how long it was); any other value
 * as a short JSON-like preview of at most about `max` characters, whatever its size or nesting.
 */
export function quoteInput(value: unknown, max = QUOTE_LIMIT): string {
  if (typeof value === 'string') return quoteString(value, max);
  const text = preview(value, 0, max);
  return text.length <= max ? text : `${cut(text, max)}...`;
}

/**
 * Errors caused by the user's input (a bad config, schedule or file). Front ends print the message as one line
 * and exit with code 2; anything else is an internal error. The message is made one safe line: any control
 * character that reached it (a line break, ESC, CR in a file name or a quoted value) is shown as an escape.
 */
export class UserError extends Error {
  override name = 'UserError';
  constructor(message: string, options?: ErrorOptions) {
    super(escapeControl(message), options);
  }
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

/** Blocked ops a deadlock message names (the line stays readable at P = 1024; `blocked` holds them all). */
const DEADLOCK_OPS_SHOWN = 2;

function isCause(b: { device: number; waitsFor: string }): boolean {
  return b.waitsFor.includes(`on device ${b.device}`) || b.waitsFor.startsWith('memory');
}

/** The per-device orders wait on each other; `blocked` names each stuck head op and what it waits for. */
export class DeadlockError extends ScheduleError {
  override name = 'DeadlockError';
  constructor(readonly blocked: readonly { device: number; op: string; waitsFor: string }[]) {
    // the first few say what is wrong; all of them stay in `blocked` (and `ops`) for programs. Ops that wait on
    // their own device (an order that puts a consumer before its producer) or on memory are the likely causes, so
    // they come first; ops waiting on other devices' blocked heads are their consequences.
    const causeFirst = [...blocked].sort((a, b) => Number(!isCause(a)) - Number(!isCause(b)));
    const shown = causeFirst
      .slice(0, DEADLOCK_OPS_SHOWN)
      .map((b) => `device ${b.device} is blocked at ${b.op} (waits for ${b.waitsFor})`);
    const more = blocked.length > shown.length ? `; and ${blocked.length - shown.length} more blocked op(s)` : '';
    super(
      `schedule deadlocks: ${shown.join('; ')}${more}`,
      blocked.map((b) => b.op),
    );
  }
}
