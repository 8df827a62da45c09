// Regenerates RESULTS.md: the bundled PPO policies against static schedules and heuristics at noise cv 0 to 0.3,
// all at the same memory limit (P activations per device), paired on common random numbers (`pprl evaluate --json`
// for every policy and noise level), the targets of the learned scheduler checked from the confidence intervals,
// and an ablation of the 6.2B V = 2 policy (variants trained into --ablation-dir, reused when already there).
// Usage: node scripts/results.mjs [--episodes K] [--out RESULTS.md] [--ablation-dir runs/ablation]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERALIZATION_END, GENERALIZATION_START } from './generalization-markers.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const root = fileURLToPath(new URL('..', import.meta.url));
const episodes = Number(arg('--episodes', '2000'));
const out = arg('--out', join(root, 'RESULTS.md'));
const ablationDir = resolve(arg('--ablation-dir', join(root, 'runs/ablation')));
const pprl = join(root, 'packages/cli/bin/pprl.js');
const NOISE = [0, 0.1, 0.2, 0.3];
const BASELINES = ['1f1b', 'zb-h1', 'zb-auto', 'zb-v', 'greedy-zb', 'greedy-ffirst', 'greedy-cp'];
const GiB = 2 ** 30;
// the gap columns: at this noise level, the oracle on this many episodes
const GAP_NOISE = 0.3;
const ORACLE_EPISODES = 8;
const gapText = (x) => (x === null || x === undefined ? '-' : `${x >= 0 ? '+' : '-'}${Math.abs(100 * x).toFixed(2)}%`);

// what each bundled policy is measured against, and the targets it was trained for (relative to that reference)
const POLICIES = [
  {
    name: 'h200-6.2b-p4-m16-v2',
    title: '6.2B, P = 4, M = 16, two chunks per device (V = 2)',
    reference: 'zb-v',
    cv0Slack: 0.3,
    cv03Gain: 1,
  },
  {
    name: 'h200-14.6b-p8-m32-v2',
    title: '14.6B, P = 8, M = 32, two chunks per device (V = 2)',
    reference: 'zb-v',
    cv0Slack: 0.3,
    cv03Gain: 1,
  },
  {
    name: 'h200-6.2b-p4-m16-v1',
    title: '6.2B, P = 4, M = 16, one chunk per device (V = 1)',
    reference: 'zb-h1',
    cv0Slack: 0.1,
    cv03Gain: 1.5,
  },
  {
    name: 'h200-14.6b-p8-m32-v1',
    title: '14.6B, P = 8, M = 32, one chunk per device (V = 1)',
    reference: 'zb-h1',
    cv0Slack: 0.1,
    cv03Gain: 1.5,
  },
];

// the ablation: variants of the 6.2B V = 2 config, each trained like the bundled policy except for one change
const ABLATION_BASE = 'h200-6.2b-p4-m16-v2';
const ABLATIONS = [
  {
    name: 'scratch',
    label: 'from scratch (no teacher, no plan features)',
    edit: (c) => ({ ...without(c, 'teacher'), features: { plan: false } }),
  },
  { name: 'clone-only', label: 'cloned from zb-v only (no PPO)', edit: (c) => ({ ...c, totalSteps: 0 }) },
  { name: 'bundled', label: 'cloned, then PPO (the bundled policy)', bundled: true },
  {
    name: 'no-arrival',
    label: 'cloned, then PPO, without the arrival features',
    edit: (c) => ({ ...c, features: { arrival: false } }),
  },
  {
    name: 'no-memory',
    label: 'cloned, then PPO, without the memory features',
    edit: (c) => ({ ...c, features: { memory: false } }),
  },
  {
    name: 'no-plan',
    label: 'cloned, then PPO, without the plan features',
    edit: (c) => ({ ...c, features: { plan: false } }),
  },
  { name: 'no-wait', label: 'cloned, then PPO, without the wait action', edit: (c) => ({ ...c, allowWait: false }) },
];
const ABLATION_NOISE = [0, 0.3];

function without(o, key) {
  const copy = { ...o };
  delete copy[key];
  return copy;
}

const ms = (us) => (us / 1000).toFixed(2);
const signed = (us) => `${us >= 0 ? '+' : '-'}${Math.abs(us / 1000).toFixed(2)}`;
const pct = (x) => `${x >= 0 ? '+' : '-'}${Math.abs(x).toFixed(2)}%`;

/** `oracleEpisodes`: episodes that also get the clairvoyant oracle for the gap column (0: lower bound only). */
function evaluate(dir, cv, baselines, oracleEpisodes = 0) {
  const args = [
    pprl,
    'evaluate',
    '--policy',
    dir,
    '--noise',
    String(cv),
    '--episodes',
    String(episodes),
    '--schedulers',
    baselines.join(','),
    '--oracle-episodes',
    String(oracleEpisodes),
    '--json',
  ];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`pprl evaluate failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Policy against a reference baseline in percent of the reference's mean: negative = the policy is faster. */
function relative(e, reference) {
  const b = e.baselines[reference];
  const scale = 100 / b.makespan.mean;
  // diffToPolicy is reference - policy; the policy's excess over the reference is its negation
  return {
    mean: -b.diffToPolicy.mean * scale,
    lo: -b.diffToPolicy.ci95[1] * scale,
    hi: -b.diffToPolicy.ci95[0] * scale,
  };
}
const relText = (r) => `${pct(r.mean)} [${pct(r.lo)}, ${pct(r.hi)}]`;

function targetLines(p, byCv) {
  const at = (cv) => relative(byCv[NOISE.indexOf(cv)], p.reference);
  const r0 = at(0);
  const r2 = at(0.2);
  const r3 = at(0.3);
  const verdict = (ok, text, miss) => `- ${ok ? 'met' : 'missed'}: ${text}${ok ? '' : ` (${miss})`}`;
  return [
    verdict(
      r0.mean <= p.cv0Slack,
      `at cv 0 no more than ${p.cv0Slack}% slower than ${p.reference}: ${pct(r0.mean)}`,
      `by ${(r0.mean - p.cv0Slack).toFixed(3)} points`,
    ),
    verdict(
      r2.hi < 0,
      `faster than ${p.reference} at cv 0.2 with the CI excluding 0: ${relText(r2)}`,
      'the CI does not exclude 0 on the faster side',
    ),
    verdict(
      r3.hi < 0,
      `faster than ${p.reference} at cv 0.3 with the CI excluding 0: ${relText(r3)}`,
      'the CI does not exclude 0 on the faster side',
    ),
    verdict(
      -r3.mean >= p.cv03Gain,
      `at least ${p.cv03Gain}% faster than ${p.reference} at cv 0.3: ${(-r3.mean).toFixed(3)}% faster`,
      `short by ${(p.cv03Gain + r3.mean).toFixed(3)} points`,
    ),
  ];
}

// the ablation runs first: the policies' evaluations below are then not slowed by training
await trainAblations();

const summaryRows = [];
const sections = [];
for (const p of POLICIES) {
  const dir = join(root, 'packages/rl/checkpoints', p.name);
  const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
  const config = JSON.parse(readFileSync(join(root, 'packages/rl/configs', `${p.name}.json`), 'utf8'));
  const byCv = NOISE.map((cv) => evaluate(dir, cv, BASELINES, cv === GAP_NOISE ? ORACLE_EPISODES : 0));
  const atGap = byCv[NOISE.indexOf(GAP_NOISE)];
  const gapCells = (g) => `${gapText(g.toLowerBound)} | ${gapText(g.toOracle)}`;
  const peak = (name) =>
    Math.max(...byCv.map((e) => (name === 'ppo' ? e.peakMemoryBytes.policy : e.peakMemoryBytes.baselines[name])));
  const rows = [
    `| ppo (greedy) | ${(peak('ppo') / GiB).toFixed(2)} | ` +
      `${byCv.map((e) => `${ms(e.policy.makespan.mean)} | (policy)`).join(' | ')} | ${gapCells(atGap.gaps.policy)} |`,
    ...BASELINES.map(
      (b) =>
        `| ${b} | ${(peak(b) / GiB).toFixed(2)} | ${byCv
          .map((e) => {
            const x = e.baselines[b];
            const d = x.diffToPolicy;
            return `${ms(x.makespan.mean)} | ${signed(d.mean)} [${signed(d.ci95[0])}, ${signed(d.ci95[1])}]`;
          })
          .join(' | ')} | ${gapCells(atGap.gaps.baselines[b])} |`,
    ),
  ];
  // the verdict per noise level, from the confidence intervals (no hand-written claims)
  const verdicts = NOISE.map((cv, i) => {
    const by = { faster: [], equal: [], slower: [] };
    for (const b of BASELINES) {
      const [lo, hi] = byCv[i].baselines[b].diffToPolicy.ci95;
      (lo > 0 ? by.faster : hi < 0 ? by.slower : by.equal).push(b);
    }
    const list = (xs) => (xs.length ? xs.join(', ') : 'none');
    return (
      `- cv ${cv}: the policy is faster than ${list(by.faster)}; ` +
      `not distinguishable from ${list(by.equal)}; slower than ${list(by.slower)}.`
    );
  });
  const limit = byCv[0].memLimitBytes;
  const targets = targetLines(p, byCv);
  const summaryCells = NOISE.map((_cv, i) => relText(relative(byCv[i], p.reference))).join(' | ');
  const metCount = targets.filter((t) => t.startsWith('- met')).length;
  summaryRows.push(`| ${p.title} | ${p.reference} | ${summaryCells} | ${metCount} of ${targets.length} |`);
  const teacher = config.teacher;
  const trainedBy = teacher
    ? `cloned from ${teacher.schedule} for ${teacher.cloneSteps.toLocaleString('en-US')} steps, ` +
      `then PPO for ${config.totalSteps.toLocaleString('en-US')} steps` +
      `${teacher.coef > 0 ? ` with a pull toward the teacher (coef ${teacher.coef})` : ''}`
    : `PPO for ${config.totalSteps.toLocaleString('en-US')} steps`;
  const selected = result.best
    ? ` The bundled weights are the run's best evaluation (update ${result.best.update} of ${result.updates}, ` +
      "on the run's own evaluation episodes, which are not these)."
    : '';
  const trainedOn = config.noiseLevels
    ? `on noise cv ${config.noiseLevels.join(' and ')} (the environments split evenly)`
    : `at noise cv ${config.problem.noise.cv}`;
  const evaluateCommands = NOISE.map(
    (cv) =>
      `pprl evaluate --policy packages/rl/checkpoints/${p.name} --noise ${cv} --episodes ${episodes} ` +
      `--schedulers ${BASELINES.join(',')} --oracle-episodes ${cv === GAP_NOISE ? ORACLE_EPISODES : 0} --json`,
  ).join('\n');
  sections.push(
    [
      `## ${p.title} (\`packages/rl/checkpoints/${p.name}\`)`,
      '',
      `Trained by \`pprl train --config packages/rl/configs/${p.name}.json\` in ${result.seconds.toFixed(0)} s ` +
        `(${trainedBy}; ${Math.round(result.stepsPerSec).toLocaleString('en-US')} steps/s, TensorFlow.js backend ` +
        `\`${result.backend}\`), ${trainedOn} with noise seed ${config.problem.noise.seed}.${selected} Evaluated on ` +
        `noise seed 0 (held out), ${episodes} episodes per noise level, memory limit ${(limit / GiB).toFixed(2)} GiB ` +
        `per device (P activations) for every scheduler. Mean makespan in ms; "vs policy" is baseline minus policy ` +
        `per paired episode with its 95% CI (positive: the policy is faster); peak GiB is the largest activation ` +
        `memory any device held in any episode. The gaps at cv ${GAP_NOISE} are mean makespan over the mean lower ` +
        `bound (all episodes) or the clairvoyant oracle (episodes 0..${ORACLE_EPISODES - 1}) minus 1, each on the ` +
        `problem that scheduler runs (V = 1, or the model in two chunks).`,
      '',
      `| scheduler | peak GiB | ${NOISE.map((cv) => `cv ${cv} | vs policy`).join(' | ')} | ` +
        `gap to bound @${GAP_NOISE} | gap to oracle @${GAP_NOISE} |`,
      `| --- | --- | ${NOISE.map(() => '--- | ---').join(' | ')} | --- | --- |`,
      ...rows,
      '',
      ...verdicts,
      '',
      `Targets against ${p.reference} (policy minus ${p.reference} in percent of ${p.reference}'s mean, 95% CI; ` +
        'negative: the policy is faster):',
      '',
      ...targets,
      '',
      `\`\`\`sh\n${evaluateCommands}\n\`\`\``,
    ].join('\n'),
  );
}

/** Trains the ablation variants that `ablationDir` lacks, two at a time (each is one single-threaded process). */
async function trainAblations() {
  const base = JSON.parse(readFileSync(join(root, 'packages/rl/configs', `${ABLATION_BASE}.json`), 'utf8'));
  mkdirSync(ablationDir, { recursive: true });
  const todo = ABLATIONS.filter((a) => !a.bundled && !existsSync(join(ablationDir, a.name, 'result.json')));
  const run = (a) =>
    new Promise((done, fail) => {
      const edited = a.edit(base);
      const config = join(ablationDir, `${a.name}.json`);
      writeFileSync(config, `${JSON.stringify(edited, null, 2)}\n`);
      const out = join(ablationDir, a.name);
      const args = [
        pprl,
        'train',
        '--config',
        config,
        '--out',
        out,
        ...(existsSync(join(out, 'latest.json')) ? ['--resume'] : []),
      ];
      console.log(`training ablation ${a.name}`);
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`pprl train ${a.name} exited with ${code}`))));
    });
  const queue = [...todo];
  await Promise.all(
    [0, 1].map(async () => {
      while (queue.length > 0) await run(queue.shift());
    }),
  );
}

const ablationRows = ABLATIONS.map((a) => {
  const dir = a.bundled ? join(root, 'packages/rl/checkpoints', ABLATION_BASE) : join(ablationDir, a.name, 'best');
  const byCv = ABLATION_NOISE.map((cv) => evaluate(dir, cv, ['zb-v']));
  const ablationCells = byCv.map((e) => `${ms(e.policy.makespan.mean)} | ${relText(relative(e, 'zb-v'))}`).join(' | ');
  return `| ${a.label} | ${ablationCells} |`;
});
// a hand-written account of this round's training runs, kept beside the script that regenerates the tables
const NOTES = readFileSync(join(root, 'scripts/results-notes.md'), 'utf8').trimEnd();
const ablation = [
  `## Ablation: where the gain of the 6.2B V = 2 policy comes from`,
  '',
  `Each row is trained like \`packages/rl/configs/${ABLATION_BASE}.json\` except for the change it names (the ` +
    `configs are written beside the runs in \`${ablationDir.replace(root, '')}\`), and evaluated like the tables ` +
    `above (seed 0, ${episodes} episodes, memory limit P activations). Rows other than the bundled policy use their ` +
    `run's best evaluation. "vs zb-v" is the policy minus zb-v in percent of zb-v's mean (negative: the policy is ` +
    `faster), with its 95% CI.`,
  '',
  `| variant | ${ABLATION_NOISE.map((cv) => `cv ${cv} (ms) | vs zb-v`).join(' | ')} |`,
  `| --- | ${ABLATION_NOISE.map(() => '--- | ---').join(' | ')} |`,
  ...ablationRows,
  '',
  '```sh',
  `node scripts/results.mjs --episodes ${episodes} --ablation-dir ${ablationDir.replace(`${root}`, '')}   ` +
    '# trains the missing variants, about 4 minutes each',
  '```',
].join('\n');

// the room section is written by scripts/room.mjs; keep it as it is
const ROOM_START = '<!-- room:start';
const ROOM_END = '<!-- room:end -->';
const previous = existsSync(out) ? readFileSync(out, 'utf8') : '';
const room = previous.includes(ROOM_START)
  ? previous.slice(previous.indexOf(ROOM_START), previous.indexOf(ROOM_END) + ROOM_END.length)
  : '';

// the generalization section (scripts/generalization.mjs) is kept as it is
const existing = existsSync(out) ? readFileSync(out, 'utf8') : '';
const from = existing.indexOf(GENERALIZATION_START);
const to = existing.indexOf(GENERALIZATION_END);
const generalization = from >= 0 && to > from ? `${existing.slice(from, to + GENERALIZATION_END.length)}\n\n` : '';

const text = `# Results: learned scheduling against static schedules and heuristics, at equal memory

Generated by \`node scripts/results.mjs\` (after the build); the commands of each table are listed under it. The
verdict and target lines are computed from the 95% confidence intervals of the paired differences.

Every scheduler here runs under the same memory limit: P activations per device, the peak of 1F1B and ZB-H1. zb-v
and the V = 2 policies run the same model as two half-size chunks per device in V placement (zb-v's peak at that
limit); zb-auto is built under the limit; the heuristics run the policy's problem (two chunks per device in the V = 2
tables) under the limit. ZB-H2 needs about twice that memory and is left out. At a limit of 2P the greedy-zb
heuristic is already within 1% of a clairvoyant optimum, so there is little for a learned policy to win there; at P
there is room, and these policies are cloned from the best static schedule at that memory (zb-v for V = 2, ZB-H1 for
V = 1) and then fine-tuned with PPO at noise cv 0.3 (three of them on cv 0 and 0.3 at once, see each table). \
The policies observe no realized durations ahead of time:
only start times, base costs and what has finished.

## Summary: each policy against its teacher

Policy minus reference in percent of the reference's mean makespan, 95% CI (negative: the policy is faster); the
last column counts the targets met (listed under each table).

| policy | reference | ${NOISE.map((cv) => `cv ${cv}`).join(' | ')} | targets met |
| --- | --- | ${NOISE.map(() => '---').join(' | ')} | --- |
${summaryRows.join('\n')}

${sections.join('\n\n')}

${ablation}

${room}

${generalization}${NOTES}
`;
const tmp = `${out}.tmp-${process.pid}`;
writeFileSync(tmp, text);
renameSync(tmp, out);
console.log(`wrote ${out}`);
