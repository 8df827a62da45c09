// The packages as another project gets them: `pnpm pack` each one (workspace:* becomes the real version), install the
// tarballs with plain npm into a fresh project outside the workspace, check what the tarballs hold, and run each
// README's example there as a script, so the READMEs stay true.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGES = ['core-wasm', 'schedulers', 'opt', 'rl', 'bench', 'cli'] as const;
type Dir = (typeof PACKAGES)[number];

interface Manifest {
  name: string;
  version: string;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: Record<string, string | Record<string, string>>;
  dependencies?: Record<string, string>;
}

/** pnpm's and vitest's own variables would leak into npm and the examples; everything else (proxy, CA) is kept. */
const RUNNER_PREFIXES = [
  'npm_config_user_agent',
  'npm_package_',
  'npm_lifecycle_',
  'npm_execpath',
  'npm_node_execpath',
  'npm_command',
  'pnpm_',
  'PNPM_',
  'VITEST',
  'TINYPOOL',
];
const RUNNER_VARIABLES = new RegExp(`^(${RUNNER_PREFIXES.join('|')})`, 'i');
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !RUNNER_VARIABLES.test(k)));

/** Paths a packed tarball must not hold: tests, AssemblyScript sources, build and test state, local configs. */
const LEAKS = new RegExp(
  [
    /^(test|assembly|node_modules|\.turbo)\//.source,
    /(^|\/)(test-results\.json|tsconfig[^/]*\.json|vitest\.config\.[^/]+)$/.source,
    /\.(tgz|wat|tsbuildinfo)$/.source,
    /\.test\.[jt]s$/.source,
  ].join('|'),
);

interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command; a failure throws with the command, exit code and stderr, so the test says what broke. */
function run(cmd: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env: cleanEnv, timeout: timeoutMs, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error)
        reject(
          new Error(
            `\`${cmd} ${args.join(' ')}\` in ${cwd} failed (${error.code ?? error.signal}):\n${stderr}${stdout}`,
          ),
        );
      else resolve({ stdout, stderr });
    });
  });
}

/** The fenced blocks of a language in a package README, in order. */
async function readmeBlocks(dir: Dir, lang: 'js' | 'sh'): Promise<string[]> {
  const readme = await readFile(join(repo, 'packages', dir, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!);
  if (blocks.length === 0) throw new Error(`packages/${dir}/README.md has no \`\`\`${lang} block`);
  return blocks;
}

/** A package README's example: its first ```js block. */
async function readmeExample(dir: Dir): Promise<string> {
  return (await readmeBlocks(dir, 'js'))[0]!;
}

/** A flat object of numbers as util.inspect prints it (`{ mean: 1.5, p50: 2 }`, on one line or several). */
function parseNumbers(line: string): Record<string, number> {
  return Object.fromEntries([...line.matchAll(/(\w+): (-?[\d.e+-]+)/g)].map((m) => [m[1]!, Number(m[2])]));
}

let work = '';
let consumer = '';
const manifests = {} as Record<Dir, Manifest>;
const tarballs = {} as Record<Dir, string>;
const contents = {} as Record<Dir, string[]>;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pprl-e2e-'));
  const packs = join(work, 'tarballs');
  consumer = join(work, 'consumer');
  await mkdir(packs);
  await mkdir(consumer);
  for (const dir of PACKAGES) {
    const pkgDir = join(repo, 'packages', dir);
    manifests[dir] = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as Manifest;
    if (!existsSync(join(pkgDir, 'dist/index.js')))
      throw new Error(`packages/${dir} is not built: run \`pnpm build\` at the repository root first`);
    await run('pnpm', ['pack', '--pack-destination', packs], pkgDir);
    const { name, version } = manifests[dir];
    tarballs[dir] = join(packs, `${name.replace('@', '').replace('/', '-')}-${version}.tgz`);
    contents[dir] = (await run('tar', ['-tzf', tarballs[dir]], packs)).stdout
      .split('\n')
      .filter(Boolean)
      .map((p) => p.replace(/^package\//, ''));
  }
  await writeFile(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'pprl-consumer', private: true, type: 'module' }, null, 2),
  );
  // plain npm, as a project outside the workspace would; third-party dependencies come from the registry
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--loglevel=error', ...PACKAGES.map((d) => tarballs[d])],
    consumer,
    150_000,
  );
}, 170_000);

afterAll(async () => {
  if (work && !process.env.PPRL_E2E_KEEP) await rm(work, { recursive: true, force: true });
});

describe('tarballs', () => {
  it.each(PACKAGES)(
    '%s: pinned @pprl versions, every entry point present, no tests or build leftovers',
    async (dir) => {
      const files = contents[dir];
      const packed = JSON.parse(
        await readFile(join(consumer, 'node_modules', manifests[dir].name, 'package.json'), 'utf8'),
      ) as Manifest;
      expect(JSON.stringify(packed)).not.toContain('workspace:');
      for (const [dep, range] of Object.entries(packed.dependencies ?? {}))
        if (dep.startsWith('@pprl/')) expect(range, dep).toBe(manifests[dir].version);

      const targets = [packed.main, packed.types, ...Object.values(packed.bin ?? {})];
      for (const target of Object.values(packed.exports ?? {}))
        targets.push(...(typeof target === 'string' ? [target] : Object.values(target)));
      for (const target of targets.filter((t): t is string => !!t))
        expect(files, `entry point ${target}`).toContain(posix.normalize(target));

      const leaks = files.filter((f) => LEAKS.test(f));
      expect(leaks).toEqual([]);

      // every compiled module has its types and its source (the source maps point at ../src), and nothing in dist is
      // stale (a module whose source is gone would still be published)
      const js = files.filter((f) => f.startsWith('dist/') && f.endsWith('.js'));
      expect(js.length).toBeGreaterThan(0);
      for (const f of js) {
        expect(files, `types of ${f}`).toContain(f.replace(/\.js$/, '.d.ts'));
        expect(files, `source of ${f}`).toContain(f.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'));
      }
      const installed = join(consumer, 'node_modules', manifests[dir].name);
      for (const f of files.filter((f) => f.endsWith('.map'))) {
        const map = JSON.parse(await readFile(join(installed, f), 'utf8')) as { sources: string[] };
        for (const source of map.sources)
          expect(files, `${f} -> ${source}`).toContain(posix.join(posix.dirname(f), source));
      }
    },
  );

  it('core-wasm holds the WebAssembly engine, the compiled modules with types, and the H200 profile', () => {
    const files = contents['core-wasm'];
    expect(files).toContain('build/pprl.wasm');
    expect(files).toContain('profiles/h200-fbw-profiles.json');
    expect(files).toEqual(
      expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/wasm.js', 'dist/simulator.d.ts']),
    );
    // the engine, and the loader and declarations asc generates for it (dist/wasm.js imports them)
    expect(files.filter((f) => f.startsWith('build/')).sort()).toEqual([
      'build/pprl.d.ts',
      'build/pprl.js',
      'build/pprl.wasm',
    ]);
  });

  it('cli ships its executable', () => {
    expect(contents.cli).toContain('bin/pprl.js');
    expect(existsSync(join(consumer, 'node_modules/.bin/pprl'))).toBe(true);
  });

  it('npm resolved the @pprl dependencies to the installed tarballs, not to registry copies', () => {
    for (const dir of PACKAGES)
      for (const other of PACKAGES)
        expect(
          existsSync(join(consumer, 'node_modules', manifests[dir].name, 'node_modules', manifests[other].name)),
        ).toBe(false);
  });
});

describe('README examples, run in the consumer project', () => {
  it('@pprl/core-wasm: replays 1F1B for 1000 noisy episodes and prints the makespan summary', async () => {
    await writeFile(join(consumer, 'core-wasm-readme.mjs'), await readmeExample('core-wasm'));
    const { stdout } = await run('node', ['core-wasm-readme.mjs'], consumer);
    const summary = parseNumbers(stdout);
    expect(Object.keys(summary)).toEqual(['mean', 'p50', 'p95', 'p99', 'min', 'max']);
    const { mean, p50, p95, p99, min, max } = summary as Record<'mean' | 'p50' | 'p95' | 'p99' | 'min' | 'max', number>;
    expect(min).toBeLessThanOrEqual(p50);
    expect(p50).toBeLessThanOrEqual(p95);
    expect(p95).toBeLessThanOrEqual(p99);
    expect(p99).toBeLessThanOrEqual(max);
    expect(mean).toBeGreaterThan(min);
    expect(mean).toBeLessThan(max);
    // without noise this 1F1B takes 11 (F + BW) + 6 transfers = 11 * 3.1 + 0.6 = 35.7; 20% noise on every op
    // lengthens the critical path on average
    expect(mean).toBeGreaterThan(35.7);
    expect(mean).toBeLessThan(45);
    // the noise is seeded and counter-based: a second run prints the same numbers
    expect((await run('node', ['core-wasm-readme.mjs'], consumer)).stdout).toBe(stdout);
  });

  it('@pprl/schedulers: builds ZB-H1, validates it, exports the torch CSV and replays it in 27', async () => {
    await writeFile(join(consumer, 'schedulers-readme.mjs'), await readmeExample('schedulers'));
    const lines = (await run('node', ['schedulers-readme.mjs'], consumer)).stdout.split('\n').filter(Boolean);
    expect(lines[0]).toBe('true');
    expect(lines.at(-1)).toBe('27'); // M(F+B+W) + (P-1)(F+B-W) = 24 + 3
    const rows = lines.slice(1, -1);
    expect(rows).toHaveLength(4);
    rows.forEach((row, rank) => {
      const actions = row.split(',');
      // torch's letters: F forward, I input-gradient backward (our B), W weight gradient; each once per micro-batch
      const expected = ['F', 'I', 'W'].flatMap((k) => Array.from({ length: 8 }, (_, m) => `${rank}${k}${m}`));
      expect([...actions].sort()).toEqual(expected.sort());
    });
    expect(rows[0]!.startsWith('0F0,0F1,0F2,0F3,0I0,0W0')).toBe(true); // P forwards before the first backward
    expect(rows[3]!.startsWith('3F0,3I0,3F1,3I1')).toBe(true); // the last stage backs up at once
  });

  it('@pprl/opt: the oracle sits between the lower bound and ZB-H1, and robust replays', async () => {
    await writeFile(join(consumer, 'opt-readme.mjs'), await readmeExample('opt'));
    const [first, second, third] = (await run('node', ['opt-readme.mjs'], consumer)).stdout.trim().split('\n');
    const [lower, makespan] = first!.split(/\s+/).map(Number);
    expect(lower).toBeGreaterThan(0);
    expect(lower).toBeLessThanOrEqual(makespan! + 1e-9);
    const above = Number(/zb-h1 is (-?[\d.]+)% above the oracle/.exec(second!)?.[1]);
    expect(above).toBeGreaterThanOrEqual(0);
    expect(Number(third)).toBeGreaterThan(lower!);
  });

  it('@pprl/rl: loads the bundled checkpoint and evaluates it on one episode against greedy-zb', async () => {
    await writeFile(join(consumer, 'rl-readme.mjs'), await readmeExample('rl'));
    const [policyMean, diff] = (await run('node', ['rl-readme.mjs'], consumer)).stdout.trim().split(/\s+/).map(Number);
    // one episode of the 6.2B P = 4 M = 16 problem at noise cv 0.3: about 158 ms (microseconds here)
    expect(policyMean).toBeGreaterThan(140_000);
    expect(policyMean).toBeLessThan(180_000);
    expect(Number.isFinite(diff)).toBe(true);
  });

  it('rl ships its bundled checkpoints and training configs', () => {
    for (const name of ['h200-6.2b-p4-m16-v2', 'h200-14.6b-p8-m32-v2', 'h200-6.2b-p4-m16-v1', 'h200-14.6b-p8-m32-v1'])
      expect(contents.rl).toEqual(
        expect.arrayContaining([
          `checkpoints/${name}/meta.json`,
          `checkpoints/${name}/params.bin`,
          `configs/${name}.json`,
        ]),
      );
  });

  it('@pprl/bench: the quick replay benchmark prints the WebAssembly and reference rates and their ratio', async () => {
    await writeFile(join(consumer, 'bench-readme.mjs'), await readmeExample('bench'));
    const [wasm, reference, ratio] = (await run('node', ['bench-readme.mjs'], consumer)).stdout
      .trim()
      .split(/\s+/)
      .map(Number);
    expect(wasm).toBeGreaterThan(0);
    expect(reference).toBeGreaterThan(0);
    expect(ratio).toBeCloseTo(wasm! / reference!, 9);
  });

  it('@pprl/cli: `npx pprl simulate 1f1b --stages 4 --micro-batches 8 --json` gives makespan 33', async () => {
    const { stdout } = await run(
      'npx',
      ['pprl', 'simulate', '1f1b', '--stages', '4', '--micro-batches', '8', '--json'],
      consumer,
    );
    const r = JSON.parse(stdout);
    expect(r).toMatchObject({
      schedule: '1f1b',
      stages: 4,
      microBatches: 8,
      episodes: 1,
      engine: 'wasm',
      makespan: { mean: 33, p50: 33, p95: 33, p99: 33, min: 33, max: 33 },
      peakMemory: [4, 3, 2, 1],
    });
    expect(r.bubbleRate.mean).toBeCloseTo(1 - 24 / 33, 12); // each device busy M(F+BW) = 24 of 33
    expect((await run('npx', ['pprl', '--version'], consumer)).stdout.trim()).toBe(manifests.cli.version);
  });

  it('@pprl/cli: every command of the README runs (demo, compare, schedule, train, ' +
    'evaluate, sweep, bench)', async () => {
    // the README's `simulate my-schedule.csv` reads a torch CSV: write one first, as a user would
    await run(
      'npx',
      [
        'pprl',
        'schedule',
        '1f1b',
        '--stages',
        '4',
        '--micro-batches',
        '8',
        '--format',
        'torch-csv',
        '--out',
        'my-schedule.csv',
      ],
      consumer,
    );
    const commands = (await readmeBlocks('cli', 'sh'))
      .flatMap((block) => block.split('\n'))
      .map((line) => line.replace(/#.*/, '').trim())
      .filter((line) => line.startsWith('pprl '))
      // the full replay benchmark takes 10+ s: the quick one runs the same code
      .map((line) => (line.startsWith('pprl bench ') ? `${line} --quick` : line));
    expect(commands.length).toBeGreaterThanOrEqual(6);
    // in order, as a reader would run them (`sweep report` reads what `sweep` wrote)
    const results: ({ line: string } & RunResult)[] = [];
    for (const line of commands) results.push({ line, ...(await run('npx', line.split(/\s+/), consumer)) });
    for (const { line, stdout } of results)
      if (line.includes('--json')) expect(() => JSON.parse(stdout), line).not.toThrow();
    expect(existsSync(join(consumer, 'pprl-report/report.html'))).toBe(true); // pprl demo
    expect(existsSync(join(consumer, 'report/report.html'))).toBe(true); // pprl compare --out report
    expect(await readFile(join(consumer, 'zbv.svg'), 'utf8')).toMatch(/^<svg|<\?xml/);
    expect(existsSync(join(consumer, 'runs/tiny/result.json'))).toBe(true); // pprl train
    expect(existsSync(join(consumer, 'sweeps/tiny/report.html'))).toBe(true); // pprl sweep report
  }, 240_000);

  it('TypeScript: a strict NodeNext project type-checks against the installed declarations ' +
    '(skipLibCheck off)', async () => {
    await writeFile(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: false,
          noEmit: true,
          types: [],
        },
        include: ['consumer.ts'],
      }),
    );
    await writeFile(
      join(consumer, 'consumer.ts'),
      [
        "import { createSimulator, resolveProblem, ScheduleError, type Op, type Schedule } from '@pprl/core-wasm';",
        "import { findSchedule, scheduleToTorchCsv } from '@pprl/schedulers';",
        "import { runReplayBench } from '@pprl/bench';",
        "import { loadPolicy, type TrainConfig } from '@pprl/rl';",
        "import { main } from '@pprl/cli';",
        'const problem = resolveProblem({ stages: 4, microBatches: 8 });',
        "const schedule: Schedule = findSchedule('1f1b').build(problem);",
        'const first: Op | undefined = schedule.devices[0]?.[0];',
        'const sim = await createSimulator();',
        'const makespan: number | undefined = sim.replay(problem, schedule).makespan[0];',
        'const csv: string = scheduleToTorchCsv(schedule);',
        'export const used = [first, makespan, csv, runReplayBench, main, ScheduleError, loadPolicy];',
        'export type Used = TrainConfig;',
        '',
      ].join('\n'),
    );
    // the workspace's TypeScript (a root devDependency): the consumer project has none of its own
    const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin/tsc');
    await run('node', [tsc, '-p', 'tsconfig.json'], consumer);
  }, 60_000);
});
