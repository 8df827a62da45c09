#!/usr/bin/env node
// pnpm fuzz: a long fuzz run of the pprl command (README.md). Prints a progress line and the summary by outcome
// class, writes the findings (reproducible cases of every distinct failure) as JSON, exits 1 if anything failed.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FAIL_CLASSES } from './src/classify.mjs';
import { runFuzz } from './src/fuzz.mjs';

const USAGE = `usage: pnpm fuzz [--cases N] [--seed S] [--workers W] [--time-limit SEC] [--out findings.json]
                 [--only I[,I...]] [--replay findings.json] [--keep]

  --cases N        cases to run (default 100000)
  --seed S         seed of the run; case I of seed S is always the same case (default: random, printed)
  --workers W      worker threads running cases (default 2)
  --time-limit SEC a case running longer is a hang; its worker is replaced (default 60)
  --repeat-hang-limit SEC
                   once a group of hangs (command and kind of case) has hung twice, its later cases get this
                   shorter limit (default 10; 0: always --time-limit)
  --out FILE       findings JSON (default fuzz-findings.json in the current directory)
  --only I,...     run only these case indices of --seed (to reproduce a finding)
  --replay FILE    rerun the stored examples of a findings file (all classes, or --class C)
  --class C        with --replay: only this outcome class
  --kind K,...     only these kinds of case: flags, top-level, schedule-file, train-config, sweep, checkpoint
  --command C,...  flags cases of only these commands (simulate, "bench env", ...)
  --log FILE       one JSON line per case: class, exit code, time, argv, first stderr line
  --keep           keep the case directories (printed) for a look at what a case wrote`;

let args;
try {
  args = parseArgs({
    options: {
      cases: { type: 'string' },
      seed: { type: 'string' },
      workers: { type: 'string' },
      'time-limit': { type: 'string' },
      'repeat-hang-limit': { type: 'string' },
      out: { type: 'string' },
      only: { type: 'string' },
      replay: { type: 'string' },
      class: { type: 'string' },
      keep: { type: 'boolean' },
      kind: { type: 'string' },
      log: { type: 'string' },
      command: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    // pnpm passes a lone "--" through: ignore it
    args: process.argv.slice(2).filter((a) => a !== '--'),
  }).values;
} catch (e) {
  console.error(`fuzz: ${e.message}\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

function int(name, text, fallback, min) {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    console.error(`fuzz: --${name} must be an integer >= ${min} (got "${text}")`);
    process.exit(2);
  }
  return n;
}

const seed = int('seed', args.seed, Math.floor(Math.random() * 2 ** 31), 0);
const cases = int('cases', args.cases, 100_000, 1);
const workers = int('workers', args.workers, 2, 1);
const timeLimitSec = Number(args['time-limit'] ?? 60);
if (!(timeLimitSec > 0)) {
  console.error(`fuzz: --time-limit must be a positive number of seconds (got "${args['time-limit']}")`);
  process.exit(2);
}
const repeatHangLimitSec = Number(args['repeat-hang-limit'] ?? 10);
if (!(repeatHangLimitSec >= 0)) {
  console.error(`fuzz: --repeat-hang-limit must be a number of seconds >= 0 (got "${args['repeat-hang-limit']}")`);
  process.exit(2);
}
const out = resolve(args.out ?? 'fuzz-findings.json');
const only = args.only?.split(',').map((s) => int('only', s.trim(), 0, 0));
let replay;
if (args.replay) {
  const stored = JSON.parse(readFileSync(args.replay, 'utf8'));
  replay = FAIL_CLASSES.filter((c) => !args.class || c === args.class).flatMap((c) =>
    (stored.findings?.[c] ?? []).flatMap((g) => g.examples),
  );
  console.error(`fuzz: replaying ${replay.length} stored cases from ${args.replay}`);
}

const fmtSec = (s) =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`
      : `${Math.round(s)}s`;
console.error(
  `fuzz: seed ${seed}, ${replay ? replay.length : (only?.length ?? cases)} cases, ${workers} workers, ` +
    `time limit ${timeLimitSec} s; making fixtures...`,
);
const { report, findings } = await runFuzz({
  seed,
  cases,
  workers,
  timeLimitSec,
  repeatHangLimitSec,
  only,
  replay,
  out,
  keep: args.keep,
  log: args.log && resolve(args.log),
  kinds: args.kind?.split(',').map((s) => s.trim()),
  commands: args.command?.split(',').map((s) => s.trim()),
  onProgress: (p) => {
    if (p.final) return;
    const fails = FAIL_CLASSES.map((c) => `${c} ${p.counts[c]}`).join(' ');
    const eta = (p.of - p.done) / Math.max(p.rate, 1e-9);
    console.error(
      `fuzz: ${p.done}/${p.of} (${((100 * p.done) / p.of).toFixed(1)}%) ${p.rate.toFixed(1)} cases/s, ` +
        `${fmtSec(p.sec)} elapsed, eta ${fmtSec(eta)} | ` +
        `ok ${p.counts.ok} user-error ${p.counts['user-error']} help ${p.counts.help} | ${fails}`,
    );
  },
});
console.log(findings.table());
console.log(
  `\nseed ${seed}: ${report.total} cases in ${fmtSec(report.runSec)} (${report.casesPerSec.toFixed(1)} cases/s, ` +
    `mean ${report.meanCaseMs.toFixed(0)} ms per case, ${workers} workers; ` +
    `fixtures ${report.setupSec.toFixed(1)} s); ` +
    `${report.failures} failures in ${report.distinct} distinct groups`,
);
if (report.relativeOutputs.length)
  console.log(`relative outputs written to the scratch directory: ${report.relativeOutputs.join(', ')}`);
if (report.dir) console.log(`case directories kept in ${report.dir}`);
console.log(`findings: ${out}`);
process.exitCode = report.failures > 0 ? 1 : 0;
