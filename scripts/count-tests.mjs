// Sums the vitest JSON reports of every package into the one line CI reads: "tests: N passed, N failed".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
// every workspace package with a test script (pnpm-workspace.yaml: packages/*, e2e and fuzz)
const dirs = [...readdirSync(join(root, 'packages')).map((name) => join('packages', name)), 'e2e', 'fuzz'];
let passed = 0;
let failed = 0;
const missing = [];
for (const name of dirs) {
  const pkg = join(root, name);
  if (!existsSync(join(pkg, 'package.json'))) continue;
  const scripts = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).scripts ?? {};
  if (!scripts.test) continue;
  const report = join(pkg, 'test-results.json');
  if (!existsSync(report)) {
    missing.push(name);
    continue;
  }
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
}
if (missing.length) {
  console.log(`no test report from: ${missing.join(', ')} (build or test run failed)`);
  failed += missing.length;
}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
