// Output paths the command cannot write, and checkpoint files it cannot read: one `pprl: error:` line naming the
// path, exit code 2, nothing half-written. Spawned with their own timeouts: a path below /proc once made Node's
// recursive mkdir spin forever, and such a regression must fail rather than hang.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bin, expectUserError, type PprlRun } from './helpers.js';

const tinyConfig = fileURLToPath(new URL('../../rl/configs/tiny.json', import.meta.url));
const bundled = fileURLToPath(new URL('../../rl/checkpoints/h200-6.2b-p4-m16-v1', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'pprl-output-paths-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const asRoot = process.getuid?.() === 0;
const hasProc = existsSync('/proc');

/** The command with a timeout well inside the test's: a hang shows as a failed run (code null), not a stuck test. */
function pprl(...args: string[]): PprlRun {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const file = join(root, 'a-file');
writeFileSync(file, 'not a directory\n');

const sweepFile = join(root, 'sweep.yaml');
writeFileSync(
  sweepFile,
  `base:
  problem: { stages: 2, microBatches: 4, cost: { F: 1, B: 1.2, W: 0.8 }, noise: { cv: 0.2, seed: 7 } }
  envs: 8
  stepsPerRollout: 16
  totalSteps: 256
  minibatches: 2
  network: { hidden: [8] }
grid:
  seed: [1, 2]
`,
);

/** The end of the error for an --out under /proc/nonexistent. */
const NO_PROC = /: cannot create \/proc\/nonexistent: ENOENT: no such file or directory$/.source;

describe('pprl train --out', () => {
  it('an existing regular file', () => {
    expectUserError(
      pprl('train', '--config', tinyConfig, '--out', file),
      /^pprl: error: cannot create directory .*a-file: EEXIST: it exists and is not a directory$/m,
    );
  }, 120_000);

  it('a directory below a regular file names the file in the way', () => {
    expectUserError(
      pprl('train', '--config', tinyConfig, '--out', join(file, 'run')),
      /^pprl: error: cannot create directory .*a-file\/run: ENOTDIR: .*a-file is not a directory$/m,
    );
    expectUserError(
      pprl('train', '--config', tinyConfig, '--out', join(file, 'deeper', 'run')),
      /cannot create directory .*a-file\/deeper\/run: ENOTDIR: .*a-file is not a directory$/m,
    );
  }, 120_000);

  it.skipIf(!hasProc)(
    'below /proc: ends at once with the component it cannot create',
    () => {
      const r = pprl('train', '--config', tinyConfig, '--out', '/proc/nonexistent/x');
      expect(r.code, 'pprl train did not end (or crashed)').not.toBeNull();
      expectUserError(
        r,
        new RegExp(/^pprl: error: cannot create directory \/proc\/nonexistent\/x/.source + NO_PROC, 'm'),
      );
    },
    120_000,
  );

  it.skipIf(asRoot)(
    'a read-only directory (as a user other than root)',
    () => {
      const locked = join(root, 'locked');
      mkdirSync(locked);
      chmodSync(locked, 0o555);
      try {
        expectUserError(
          pprl('train', '--config', tinyConfig, '--out', join(locked, 'run')),
          /cannot create directory .*locked\/run: EACCES: permission denied$/m,
        );
      } finally {
        chmodSync(locked, 0o755);
      }
    },
    120_000,
  );

  it('a run directory whose files cannot be written names the file', () => {
    const out = join(root, 'blocked');
    mkdirSync(join(out, 'config.json'), { recursive: true });
    expectUserError(
      pprl('train', '--config', tinyConfig, '--out', out),
      /^pprl: error: cannot write .*blocked\/config\.json: EISDIR: is a directory$/m,
    );
    expect(readdirSync(out).filter((f) => f.includes('.tmp'))).toEqual([]);
  }, 120_000);
});

describe('pprl sweep --out', () => {
  it('a regular file', () => {
    expectUserError(
      pprl('sweep', '--config', sweepFile, '--out', file),
      /^pprl: error: --out: .*a-file is a file, not a sweep directory; give a new or empty directory$/m,
    );
  }, 120_000);

  it('below a regular file', () => {
    expectUserError(
      pprl('sweep', '--config', sweepFile, '--out', join(file, 'sweep')),
      /^pprl: error: cannot create directory .*a-file\/sweep: ENOTDIR: .*a-file is not a directory$/m,
    );
  }, 120_000);

  it.skipIf(!hasProc)(
    'below /proc',
    () => {
      const r = pprl('sweep', '--config', sweepFile, '--out', '/proc/nonexistent/sweep');
      expect(r.code, 'pprl sweep did not end (or crashed)').not.toBeNull();
      expectUserError(
        r,
        new RegExp(/^pprl: error: cannot create directory \/proc\/nonexistent\/sweep/.source + NO_PROC, 'm'),
      );
    },
    120_000,
  );

  it('a sweep directory whose runs/ is a regular file names it, before any training starts', () => {
    const out = join(root, 'sweep-runs-file');
    mkdirSync(out);
    writeFileSync(join(out, 'runs'), '');
    expectUserError(
      pprl('sweep', '--config', sweepFile, '--out', out),
      new RegExp(
        /^pprl: error: cannot create directory .*sweep-runs-file\/runs\/[^ ]+: /.source +
          /ENOTDIR: .*sweep-runs-file\/runs is not a directory$/.source,
        'm',
      ),
    );
  }, 120_000);
});

describe('unreadable checkpoint files', () => {
  /** The end of the error for a params.bin that is a directory. */
  const A_DIRECTORY = /: it is a directory; give a regular file$/.source;
  /** A copy of a bundled policy whose params.bin is a directory. */
  const broken = (name: string) => {
    const dir = join(root, name);
    cpSync(bundled, dir, { recursive: true });
    rmSync(join(dir, 'params.bin'));
    mkdirSync(join(dir, 'params.bin'));
    return dir;
  };

  it('evaluate --policy: a params.bin that is a directory', () => {
    const dir = broken('policy-params-dir');
    expectUserError(
      pprl('evaluate', '--policy', dir, '--episodes', '4'),
      new RegExp(
        /^pprl: error: cannot read checkpoint file .*policy-params-dir\/params\.bin/.source + A_DIRECTORY,
        'm',
      ),
    );
  }, 120_000);

  it('train --resume: a params.bin that is a directory', () => {
    const run = join(root, 'run-params-dir');
    mkdirSync(run);
    cpSync(broken('ckpt-source'), join(run, 'ckpt-000001'), { recursive: true });
    writeFileSync(join(run, 'latest.json'), '{"checkpoint": "ckpt-000001", "iteration": 1}\n');
    expectUserError(
      pprl('train', '--config', tinyConfig, '--out', run, '--resume'),
      new RegExp(
        /^pprl: error: cannot read checkpoint file .*run-params-dir\/ckpt-000001\/params\.bin/.source + A_DIRECTORY,
        'm',
      ),
    );
  }, 120_000);

  it('evaluate --policy: a regular file instead of a checkpoint directory', () => {
    expectUserError(pprl('evaluate', '--policy', file), /^pprl: error: no checkpoint at .*a-file: it is a file/);
  }, 120_000);
});

describe('pprl sweep with a run whose problem leaves nothing to decide', () => {
  it('refuses the whole sweep before any run starts, naming the run and the field', () => {
    const bad = join(root, 'bad-sweep.yaml');
    writeFileSync(
      bad,
      'base:\n  problem: { stages: 2, microBatches: 4 }\n  envs: 8\n  stepsPerRollout: 16\n  totalSteps: 256\ngrid:\n' +
        '  problem.microBatches: [4, 1]\n',
    );
    const out = join(root, 'bad-sweep');
    for (const dryRun of [[], ['--dry-run']])
      expectUserError(
        pprl('sweep', '--config', bad, '--out', out, ...dryRun),
        new RegExp(
          /^pprl: error: --config: run microBatches=1-[0-9a-f]+: /.source +
            /problem\.microBatches: 1 micro-batch on 2 devices leaves a policy nothing to decide.*allowed: at least 2/
              .source,
          'm',
        ),
      );
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});

describe('demo and compare check --out before their work', () => {
  it('an output directory below a regular file fails at once (fuzz: the demo ran for a minute first)', () => {
    for (const command of [['demo', '--episodes', '2'], ['compare']]) {
      const r = pprl(...command, '--out', join(file, 'report'));
      expectUserError(
        r,
        /^pprl: error: cannot create directory .*a-file\/report: ENOTDIR: .*a-file is not a directory$/m,
      );
      expect(r.stdout).toBe('');
    }
  }, 120_000);
});
