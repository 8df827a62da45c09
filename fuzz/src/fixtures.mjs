// What the generators mutate, made once per fuzz run: schedule files exported by `pprl schedule`, a tiny training
// run directory and a tiny finished sweep made by the real `pprl train` / `pprl sweep`, and the repository's
// training configs, sweep examples, profile file and bundled checkpoints.
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';

const run = promisify(execFile);

/** The repository root (fuzz/ is one of its workspace packages). */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** The installed `pprl` command of @pprl/cli (its package directory from the resolved entry point). */
export const CLI_BIN = join(dirname(fileURLToPath(import.meta.resolve('@pprl/cli'))), '..', 'bin', 'pprl.js');

export const PROFILE_FILE = join(REPO, 'packages/core-wasm/profiles/h200-fbw-profiles.json');
export const BUNDLED_CHECKPOINTS = ['h200-6.2b-p4-m16-v2', 'h200-6.2b-p4-m16-v1'].map((n) =>
  join(REPO, 'packages/rl/checkpoints', n),
);
const CONFIG_DIR = join(REPO, 'packages/rl/configs');
const SWEEP_EXAMPLES = join(REPO, 'packages/cli/examples/sweep');

/** Schedules exported as files: name, P, M (V and placement come from the schedule's own defaults). */
export const EXPORTED = [
  ['1f1b', 2, 4],
  ['zb-h1', 4, 8],
  ['gpipe', 3, 3],
  ['zb-v', 2, 4],
  ['interleaved-1f1b', 2, 4],
  ['dualpipe-v', 4, 8],
  ['zb-auto', 3, 6],
];

/** The training config of the fixture run: 4 updates of 64 steps, a checkpoint after each, evaluations at 2 and 4. */
export const FIXTURE_TRAIN_CONFIG = {
  problem: { stages: 2, microBatches: 4, cost: { F: 1, B: 1.2, W: 0.8 }, noise: { cv: 0.2, seed: 7 } },
  envs: 4,
  stepsPerRollout: 16,
  totalSteps: 256,
  minibatches: 2,
  epochs: 1,
  network: { hidden: [8, 8] },
  evalInterval: 2,
  evalEpisodes: 4,
  checkpointInterval: 1,
};

/** The fixture sweep: two runs (seeds) of a 2-update training. */
export const FIXTURE_SWEEP = {
  base: { ...FIXTURE_TRAIN_CONFIG, totalSteps: 128, evalInterval: 0 },
  grid: { seed: [1, 2] },
};

/** Files of a directory tree, relative paths, with sizes. */
export function listTree(dir) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out.push({ path: relative(dir, p), size: st.size });
    }
  };
  walk(dir);
  return out;
}

async function pprl(args) {
  try {
    await run(process.execPath, [CLI_BIN, ...args], { maxBuffer: 64 << 20, env: { ...process.env, PPRL_DEBUG: '1' } });
  } catch (e) {
    throw new Error(`fuzz fixtures: pprl ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

/** Runs the CLI's main() in this process, its output discarded (errors thrown with their message). */
async function pprlHere(args) {
  const { main } = await import('@pprl/cli');
  const writes = [process.stdout.write, process.stderr.write];
  const listeners = process.stdout.listeners('error');
  let err = '';
  const sink = (keep) => (chunk, encoding, cb) => {
    if (keep) err += String(chunk);
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') process.nextTick(done);
    return true;
  };
  process.stdout.write = sink(false);
  process.stderr.write = sink(true);
  let code;
  try {
    code = await main(['node', 'pprl', ...args]);
  } finally {
    [process.stdout.write, process.stderr.write] = writes;
    for (const l of process.stdout.listeners('error')) if (!listeners.includes(l)) process.stdout.off('error', l);
  }
  if (code !== 0) throw new Error(`fuzz fixtures: pprl ${args.join(' ')} failed (exit ${code}): ${err}`);
}

/**
 * Makes the fixtures in `dir` and returns what the generators need. Takes a few seconds (a tiny training and a
 * two-run sweep in child processes, in parallel with the schedule exports).
 */
export async function makeFixtures(dir) {
  mkdirSync(dir, { recursive: true });
  const trainConfigFile = join(dir, 'train.json');
  writeFileSync(trainConfigFile, `${JSON.stringify(FIXTURE_TRAIN_CONFIG, null, 2)}\n`);
  const sweepFile = join(dir, 'sweep.json');
  writeFileSync(sweepFile, `${JSON.stringify(FIXTURE_SWEEP, null, 2)}\n`);
  const runDir = join(dir, 'run');
  const sweepDir = join(dir, 'sweep');
  const schedules = [];
  const jobs = [
    pprl(['train', '--config', trainConfigFile, '--out', runDir, '--json']),
    pprl(['sweep', '--config', sweepFile, '--out', sweepDir, '--workers', '2', '--json']),
  ];
  // meanwhile the schedule files, in this process (a process each would take a second apiece)
  for (const [name, P, M] of EXPORTED) {
    for (const format of ['json', 'torch-csv']) {
      const file = join(dir, 'schedules', `${name}-p${P}-m${M}.${format === 'json' ? 'json' : 'csv'}`);
      schedules.push({ name, stages: P, microBatches: M, format, file });
      await pprlHere([
        'schedule',
        name,
        '--stages',
        String(P),
        '--micro-batches',
        String(M),
        '--format',
        format,
        '--out',
        file,
      ]);
    }
  }
  await Promise.all(jobs);
  for (const s of schedules) s.text = readFileSync(s.file, 'utf8');
  const configs = readdirSync(CONFIG_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f, value: JSON.parse(readFileSync(join(CONFIG_DIR, f), 'utf8')) }));
  // the sweep files among the examples (k8s-job.yaml beside them is a Kubernetes manifest)
  const sweeps = [];
  for (const f of readdirSync(SWEEP_EXAMPLES)
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()) {
    try {
      const value = parseYaml(readFileSync(join(SWEEP_EXAMPLES, f), 'utf8'));
      if (value && typeof value === 'object' && 'base' in value) sweeps.push({ name: f, value });
    } catch {
      // not a single-document YAML file: not a sweep file
    }
  }
  return {
    dir,
    schedules,
    configs,
    sweeps,
    trainConfig: FIXTURE_TRAIN_CONFIG,
    trainConfigText: readFileSync(trainConfigFile, 'utf8'),
    run: { dir: runDir, files: listTree(runDir), json: jsonFiles(runDir) },
    sweep: { dir: sweepDir, files: listTree(sweepDir), json: jsonFiles(sweepDir) },
    profile: { file: PROFILE_FILE, value: JSON.parse(readFileSync(PROFILE_FILE, 'utf8')) },
    bundled: BUNDLED_CHECKPOINTS.map((d) => ({ dir: d, files: listTree(d) })),
  };
}

/** The parsed JSON files of a tree (for mutation), by relative path. */
function jsonFiles(dir) {
  const out = {};
  for (const f of listTree(dir))
    if (f.path.endsWith('.json')) out[f.path] = JSON.parse(readFileSync(join(dir, f.path), 'utf8'));
  return out;
}
