// Counting outcomes and keeping the reproductions of failures: cases are grouped by signature (class, command and
// the normalized message), and the first few cases of each group are kept whole (argv, environment, the files
// they need, what they printed), so that every distinct failure can be rerun.
import { CLASSES, commandOf, FAIL_CLASSES } from './classify.mjs';

const EXAMPLES_PER_SIGNATURE = 3;
const MAX_FILE_CHARS = 200_000;

/** A word for a POSIX shell: single quotes, or $'...' when it holds control characters. */
export function shellWord(s) {
  if (/^[\w@%+=:,./$-]+$/.test(s) && !s.includes('$')) return s;
  if (/[\x00-\x1f\x7f-\x9f]/.test(s)) {
    const escaped = s
      .replace(/[\\']/g, (c) => `\\${c}`)
      .replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    return `$'${escaped}'`;
  }
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command line of a case, for a person (paths keep their placeholders). */
export function commandLine(c) {
  const env = Object.entries(c.env ?? {})
    .map(([k, v]) => `${k}=${shellWord(v)} `)
    .join('');
  return `${env}pprl ${c.argv.map(shellWord).join(' ')}`;
}

function fileForReport(op) {
  if (op.op !== 'write') return op;
  if (op.base64 !== undefined)
    return op.base64.length > MAX_FILE_CHARS
      ? {
          ...op,
          base64: undefined,
          truncated: `${op.base64.length} base64 characters; regenerate the case with --only`,
        }
      : op;
  return op.text.length > MAX_FILE_CHARS
    ? {
        ...op,
        text: `${op.text.slice(0, 2000)}…`,
        truncated: `${op.text.length} characters; regenerate the case with --only`,
      }
    : op;
}

export class Findings {
  constructor() {
    this.counts = Object.fromEntries(CLASSES.map((c) => [c, 0]));
    this.groups = new Map();
    this.total = 0;
    this.ms = 0;
    this.time = {};
  }

  add(c, r, verdict) {
    this.total++;
    this.counts[verdict.cls]++;
    this.ms += r.ms ?? 0;
    const key = `${c.kind} ${commandOf(c.argv)}`;
    this.time[key] ??= { cases: 0, ms: 0, ok: 0 };
    const t = this.time[key];
    t.cases++;
    t.ms += r.ms ?? 0;
    if (verdict.cls === 'ok') t.ok++;
    if (!FAIL_CLASSES.includes(verdict.cls)) return;
    let g = this.groups.get(verdict.signature);
    if (!g) {
      g = {
        class: verdict.cls,
        signature: verdict.signature,
        count: 0,
        commands: [],
        message: verdict.line,
        reasons: verdict.reasons,
        examples: [],
      };
      this.groups.set(verdict.signature, g);
    }
    g.count++;
    const cmd = commandOf(c.argv);
    if (!g.commands.includes(cmd)) g.commands.push(cmd);
    if (g.examples.length < EXAMPLES_PER_SIGNATURE)
      g.examples.push({
        seed: c.seed,
        index: c.index,
        kind: c.kind,
        huge: c.huge ?? null,
        command: commandLine(c),
        argv: c.argv,
        env: c.env ?? {},
        files: c.files.map(fileForReport),
        exitCode: r.code ?? null,
        ms: Math.round(r.ms ?? 0),
        reasons: verdict.reasons,
        stderr: r.stderr?.text.slice(0, 4000) ?? null,
        stdout: r.stdout?.text.slice(0, 1000) ?? null,
        uncaught: r.uncaught ?? [],
        workerError: r.workerError ?? null,
        leftovers: [...(r.tmp ?? []), ...(r.partial ?? [])],
      });
  }

  failures() {
    return FAIL_CLASSES.reduce((n, c) => n + this.counts[c], 0);
  }

  /** Groups of one class, most frequent first. */
  groupsOf(cls) {
    return [...this.groups.values()].filter((g) => g.class === cls).sort((a, b) => b.count - a.count);
  }

  /** The summary table by outcome class, then one line per distinct failure. */
  table() {
    const lines = ['outcome        cases      share  distinct'];
    for (const cls of CLASSES) {
      const n = this.counts[cls];
      const distinct = FAIL_CLASSES.includes(cls) ? String(this.groupsOf(cls).length) : '';
      lines.push(
        `${cls.padEnd(13)} ${String(n).padStart(6)}  ` +
          `${((100 * n) / Math.max(1, this.total)).toFixed(2).padStart(8)}%  ${distinct.padStart(8)}`,
      );
    }
    lines.push(`${'total'.padEnd(13)} ${String(this.total).padStart(6)}`);
    for (const cls of FAIL_CLASSES)
      for (const g of this.groupsOf(cls)) {
        lines.push('');
        lines.push(`[${cls}] x${g.count}  ${g.signature}  (${g.commands.join(', ')})`);
        lines.push(`  ${g.reasons.join('; ')}`.slice(0, 400));
        if (g.message) lines.push(`  ${JSON.stringify(g.message).slice(0, 400)}`);
        lines.push(`  e.g. ${g.examples[0].command}`.slice(0, 600));
      }
    return lines.join('\n');
  }

  toJSON() {
    const byClass = {};
    for (const cls of FAIL_CLASSES) byClass[cls] = this.groupsOf(cls);
    const time = Object.fromEntries(
      Object.entries(this.time)
        .sort((a, b) => b[1].ms - a[1].ms)
        .map(([k, t]) => [k, { ...t, ms: Math.round(t.ms), meanMs: Math.round(t.ms / t.cases) }]),
    );
    return {
      counts: this.counts,
      total: this.total,
      failures: this.failures(),
      distinct: this.groups.size,
      findings: byClass,
      timeByKindAndCommand: time,
    };
  }
}
