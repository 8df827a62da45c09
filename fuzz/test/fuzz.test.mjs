// A short seeded slice of the fuzz suite: the same cases every run, and none of them may fail (crash, bad message,
// hang, half-written file, odd exit code). A failure prints its reproductions; `pnpm fuzz --seed 20260101 --only I`
// reruns case I alone.
import { expect, it } from 'vitest';
import { FAIL_CLASSES } from '../src/classify.mjs';
import { runFuzz } from '../src/fuzz.mjs';

const SLICE = { seed: 20260101, cases: 400 };

it(`fuzz slice: ${SLICE.cases} cases of seed ${SLICE.seed} without failures`, async () => {
  const { report, findings } = await runFuzz({
    ...SLICE,
    workers: 2,
    timeLimitSec: 60,
    out: new URL('../fuzz-slice-findings.json', import.meta.url).pathname,
  });
  const table = findings.table();
  console.log(
    `${table}\n${report.total} cases in ${report.runSec.toFixed(1)} s (${report.casesPerSec.toFixed(1)}/s); findings ` +
      'in fuzz/fuzz-slice-findings.json',
  );
  expect(report.total).toBe(SLICE.cases);
  // most cases must get somewhere: a generator that only produced errors would test little
  expect(report.counts.ok).toBeGreaterThan(SLICE.cases / 5);
  const failures = Object.fromEntries(FAIL_CLASSES.map((c) => [c, report.counts[c]]));
  expect(failures, table).toEqual(Object.fromEntries(FAIL_CLASSES.map((c) => [c, 0])));
});
