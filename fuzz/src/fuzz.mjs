// A fuzz run: fixtures, then cases 0..N-1 of a seed through the worker pool, each classified and counted.
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classify, hangKey } from './classify.mjs';
import { Findings } from './findings.mjs';
import { makeFixtures, REPO } from './fixtures.mjs';
import { caseArbitraries, caseAt } from './generators.mjs';
import { Pool } from './pool.mjs';

/** Hangs of one group at the full time limit before the group's later cases get the repeat-hang limit. */
const REPEAT_HANGS = 2;

/**
 * @param {{
 *   cases?: number, seed?: number, workers?: number, timeLimitSec?: number, only?: number[], replay?: object[],
 *   out?: string, keep?: boolean, retireAfter?: number, onProgress?: (p: object) => void, progressEveryMs?: number,
 *   kinds?: string[], commands?: string[], log?: string, repeatHangLimitSec?: number,
 * }} o
 * `only`: run just these case indices of the seed; `replay`: run these stored cases (findings examples) instead.
 */
export async function runFuzz(o = {}) {
  const seed = o.seed ?? 1;
  const workers = o.workers ?? 2;
  const timeLimitSec = o.timeLimitSec ?? 60;
  const root = mkdtempSync(join(tmpdir(), 'pprl-fuzz-'));
  const dirs = { fixtures: join(root, 'fixtures'), cases: join(root, 'cases'), cwd: join(root, 'cwd') };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const started = Date.now();
  const fx = await makeFixtures(dirs.fixtures);
  const setupSec = (Date.now() - started) / 1000;
  const arbs = caseArbitraries(fx, { kinds: o.kinds, commands: o.commands });

  // relative paths of the cases ("--out rel-out") land in a scratch directory, never in the repository
  const cwd = process.cwd();
  let chdirOk = true;
  try {
    process.chdir(dirs.cwd);
  } catch {
    chdirOk = false;
  }

  const indices = o.replay
    ? o.replay.map((_, i) => i)
    : (o.only ?? Array.from({ length: o.cases ?? 100_000 }, (_, i) => i));
  let nextAt = 0;
  const next = () => {
    if (nextAt >= indices.length) return undefined;
    const i = indices[nextAt++];
    return o.replay ? { ...o.replay[i], index: i } : caseAt(arbs, seed, i);
  };

  const findings = new Findings();
  // a hang already seen REPEAT_HANGS times (same command, same kind of case or same huge option) is known: later
  // cases of that group get the shorter limit, so that one known hang does not eat the run's time
  const repeatHangLimitSec = o.repeatHangLimitSec ?? 10;
  const hangs = new Map();
  const timeLimitMs = (c) => {
    const seen = hangs.get(hangKey(c)) ?? 0;
    return (
      1000 *
      (repeatHangLimitSec > 0 && seen >= REPEAT_HANGS ? Math.min(repeatHangLimitSec, timeLimitSec) : timeLimitSec)
    );
  };
  const pool = new Pool({
    size: workers,
    timeLimitMs,
    workerData: {
      casesDir: dirs.cases,
      fixturesDir: dirs.fixtures,
      repo: REPO,
      keep: o.keep ?? false,
      retireAfter: o.retireAfter ?? 3000,
    },
  });
  const runStarted = Date.now();
  let lastProgress = runStarted;
  const progress = (final) => {
    const sec = (Date.now() - runStarted) / 1000;
    o.onProgress?.({
      done: findings.total,
      of: indices.length,
      sec,
      rate: findings.total / Math.max(sec, 1e-9),
      counts: findings.counts,
      replaced: pool.replaced,
      final,
    });
  };
  if (o.log) writeFileSync(o.log, '');
  await pool.run(next, (c, r) => {
    const verdict = classify(c, r);
    findings.add(c, r, verdict);
    if (verdict.cls === 'hang') hangs.set(hangKey(c), (hangs.get(hangKey(c)) ?? 0) + 1);
    if (o.log) {
      const logEntry = {
        index: c.index,
        kind: c.kind,
        class: verdict.cls,
        code: r.code ?? null,
        ms: Math.round(r.ms ?? 0),
        argv: c.argv,
        stderr: r.stderr?.text.split('\n')[0].slice(0, 300) ?? null,
      };
      appendFileSync(o.log, `${JSON.stringify(logEntry)}\n`);
    }
    if (Date.now() - lastProgress >= (o.progressEveryMs ?? 10_000)) {
      lastProgress = Date.now();
      progress(false);
    }
  });
  const runSec = (Date.now() - runStarted) / 1000;
  progress(true);

  if (chdirOk) process.chdir(cwd);
  const strayFiles = readdirSync(dirs.cwd);
  if (!o.keep) rmSync(root, { recursive: true, force: true });
  const report = {
    seed,
    cases: indices.length,
    workers,
    timeLimitSec,
    repeatHangLimitSec,
    setupSec,
    runSec,
    casesPerSec: findings.total / runSec,
    meanCaseMs: findings.ms / Math.max(1, findings.total),
    workersReplaced: pool.replaced,
    relativeOutputs: strayFiles,
    dir: o.keep ? root : null,
    ...findings.toJSON(),
  };
  if (o.out) writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  return { report, findings };
}
