// Outcome classes of a case, and the signature that groups cases failing the same way.
//
//   ok            exit 0
//   help          exit 0 with the help text (or the version)
//   user-error    exit 2 and exactly one stderr line `pprl: error: ...` (a commander usage error may add its
//                 "(Did you mean ...?)" line), no stack trace, no raw control character
//   crash         exit 1 with "internal error", an uncaught exception or rejection, a worker killed by a fatal
//                 error (out of memory), Object.prototype polluted
//   bad-message   exit 2 with another stderr (none or several lines, a stack trace, a line longer than 300
//                 characters, no `pprl: error:` prefix), or raw control characters in the output of any case
//   hang          the case overran the time limit
//   half-written  a temporary file left in the case directory, or (after a failure) a new file that is empty or
//                 cut-off JSON
//   exit-other    any other exit code (1 without "internal error", 130, ...), or process.exit from inside

export const PASS_CLASSES = ['ok', 'user-error', 'help'];
export const FAIL_CLASSES = ['crash', 'bad-message', 'hang', 'half-written', 'exit-other'];
export const CLASSES = [...PASS_CLASSES, ...FAIL_CLASSES];

export const MAX_LINE = 300;
const STACK = /^\s+at .+[:(]\d+|\bat \S+\.(?:m?js|ts|cjs):\d+|\bat (?:async )?\S+ \(\S+:\d+:\d+\)/m;
const DID_YOU_MEAN = /^\(Did you mean .+\?\)$/;

const linesOf = (text) =>
  text
    .replace(/\n$/, '')
    .split('\n')
    .filter((l, i, all) => l !== '' || i < all.length - 1);

/** The subcommand of a case's argv ("bench env", "sweep report", "simulate"), for signatures. */
export function commandOf(argv) {
  const words = argv.filter((a) => !a.startsWith('-'));
  const first = words[0] ?? '';
  if (first === 'bench' || (first === 'sweep' && words[1] === 'report')) return `${first} ${words[1] ?? ''}`.trim();
  return first || '(none)';
}

/** The group of a hang: the command, and the huge option or the kind of case. */
export function hangKey(c) {
  return `${commandOf(c.argv)} | ${c.huge ? `huge ${c.huge}` : c.kind}`;
}

/** A message with what varies from case to case (numbers, quoted input, paths) blanked out. */
export function normalize(line) {
  return line
    .replace(/\$CASE\S*/g, '$CASE/…')
    .replace(/"(?:[^"\\]|\\.){0,2000}"/g, '"…"')
    .replace(/'(?:[^'\\]|\\.){0,2000}'/g, "'…'")
    .replace(/\b[0-9a-f]{12,}\b/g, 'H')
    .replace(/--[a-z][a-z-]*/g, '--flag')
    .replace(/-?\d+(?:\.\d+)?(?:e[+-]?\d+)?/gi, 'N')
    .slice(0, 240);
}

/**
 * Classifies one case's result. Returns `{ cls, reasons, signature, line }`: `reasons` say why a failure class was
 * chosen, `line` is the message that identifies it (the stderr line, the uncaught error, ...).
 */
export function classify(c, r) {
  const cmd = commandOf(c.argv);
  // crashes and messages are grouped by their message whatever the command (the group lists the commands);
  // hangs and exit codes by command
  const sig = (cls, key) => (cls === 'crash' || cls === 'bad-message' ? `${cls} | ${key}` : `${cls} | ${cmd} | ${key}`);
  if (r.hang)
    return {
      cls: 'hang',
      reasons: [`no exit within the time limit (${Math.round((r.limitMs ?? r.ms) / 1000)} s)`],
      signature: `hang | ${hangKey(c)}`,
      line: '',
    };
  if (r.harnessError)
    return {
      cls: 'crash',
      reasons: ['the fuzz harness failed on this case'],
      signature: sig('crash', `harness ${normalize(r.harnessError.split('\n')[0])}`),
      line: r.harnessError,
    };
  if (r.workerError) {
    const oom = r.workerError.code === 'ERR_WORKER_OUT_OF_MEMORY';
    const line = oom ? 'out of memory (worker heap limit)' : r.workerError.message;
    return {
      cls: 'crash',
      reasons: [oom ? 'ran out of memory' : 'fatal error in the worker'],
      signature: sig('crash', oom ? `out of memory${c.huge ? ` (huge ${c.huge})` : ''}` : normalize(line)),
      line,
    };
  }
  if (r.workerExit !== undefined)
    return {
      cls: 'exit-other',
      reasons: [`process.exit(${r.workerExit}) from inside the command`],
      signature: sig('exit-other', `process.exit ${r.workerExit}`),
      line: '',
    };

  const err = linesOf(r.stderr.text);
  const out = r.stdout.text;
  if (r.uncaught.length) {
    const first = r.uncaught[0].split('\n')[0];
    return {
      cls: 'crash',
      reasons: ['uncaught exception or rejection'],
      signature: sig('crash', normalize(first)),
      line: first,
    };
  }
  if (r.polluted.length)
    return {
      cls: 'crash',
      reasons: [`prototype pollution: ${r.polluted.join(', ')} set on Object.prototype or Array.prototype`],
      signature: sig('crash', `prototype pollution ${r.polluted.join(',')}`),
      line: '',
    };
  const internal = err.find((l) => /internal error/i.test(l));
  if (r.code === 1 && internal)
    return {
      cls: 'crash',
      reasons: ['exit 1: internal error'],
      signature: sig('crash', normalize(internal)),
      line: internal,
    };

  const failed = r.code !== 0;
  if (r.tmp.length || (failed && r.partial.length)) {
    const files = [...r.tmp.map((t) => `${t} (temporary)`), ...(failed ? r.partial : [])];
    const shape = files
      .map((f) =>
        f
          .replace(/.*\//, '')
          .replace(/\d+/g, 'N')
          .replace(/\.[0-9a-f]{8}\./, '.H.'),
      )
      .sort()
      .join(', ');
    return {
      cls: 'half-written',
      reasons: [`left ${files.join('; ')} (exit ${r.code})`],
      signature: sig('half-written', `exit ${r.code}: ${normalize(shape)}`),
      line: err[0] ?? '',
    };
  }

  const control = [
    r.stderr.control && `stderr ${r.stderr.control.context}`,
    r.stdout.control && `stdout ${r.stdout.control.context}`,
  ].filter(Boolean);
  if (r.code === 0) {
    if (control.length)
      return {
        cls: 'bad-message',
        reasons: [`exit 0 but raw control characters in the output: ${control.join('; ')}`],
        signature: sig('bad-message', `exit 0 control characters in ${r.stdout.control ? 'stdout' : 'stderr'}`),
        line: err[0] ?? out.split('\n')[0],
      };
    const help =
      /^Usage: pprl/.test(out) ||
      /^Usage: pprl/.test(r.stderr.text) ||
      out.trim() === '0.1.0' ||
      /^\d+\.\d+\.\d+$/.test(out.trim());
    return { cls: help ? 'help' : 'ok', reasons: [], signature: '', line: '' };
  }
  if (r.code === 2) {
    const reasons = [];
    const [first = '', ...rest] = err;
    const commanderHint = rest.length === 1 && DID_YOU_MEAN.test(rest[0]);
    if (err.length === 0) reasons.push('no message on stderr');
    else if (!first.startsWith('pprl: error:')) reasons.push('the message does not start with "pprl: error:"');
    if (err.length > 1 && !commanderHint) reasons.push(`${err.length} stderr lines`);
    if (STACK.test(r.stderr.text) || STACK.test(out)) reasons.push('a stack trace');
    const longest = r.stderr.truncated ? r.stderr.longest : Math.max(0, ...err.map((l) => l.length));
    if (longest > MAX_LINE) reasons.push(`a stderr line of ${longest} characters`);
    if (control.length) reasons.push(`raw control characters: ${control.join('; ')}`);
    if (reasons.length === 0) return { cls: 'user-error', reasons: [], signature: '', line: first };
    const key = reasons.map((x) => x.replace(/\d+/g, 'N').replace(/:.*/, '')).join(', ');
    return { cls: 'bad-message', reasons, signature: sig('bad-message', `${key}: ${normalize(first)}`), line: first };
  }
  const line = err.find((l) => l.startsWith('pprl:')) ?? err[err.length - 1] ?? '';
  return {
    cls: 'exit-other',
    reasons: [`exit ${r.code}`],
    signature: sig('exit-other', `exit ${r.code}: ${normalize(line)}`),
    line,
  };
}
