// Writes the generalization section of RESULTS.md: the bundled generalist (trained on a problem set, see
// packages/rl/configs/generalist.json) zero-shot on profile problems it never saw, against ZB-H1, the heuristics and a
// specialist trained on that problem alone, all at memory P, paired on common random numbers (`pprl compare --json`
// with the generalist as the baseline, noise cv 0 to 0.3, held-out noise seed 0). The section sits between two
// markers in RESULTS.md; scripts/results.mjs keeps it when it regenerates the rest.
// Usage: node scripts/generalization.mjs [--episodes K] [--out RESULTS.md]
import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERALIZATION_END as END, GENERALIZATION_START as START } from './generalization-markers.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const root = fileURLToPath(new URL('..', import.meta.url));
const episodes = Number(arg('--episodes', '1000'));
const out = arg('--out', join(root, 'RESULTS.md'));
const pprl = join(root, 'packages/cli/bin/pprl.js');
const checkpoints = 'packages/rl/checkpoints';
const NOISE = [0, 0.1, 0.2, 0.3];
const GENERALIST = `${checkpoints}/generalist`;
const HEURISTICS = ['greedy-zb', 'greedy-ffirst'];
const STATIC = ['zb-h1', 'zb-auto', '1f1b'];

// each problem: the profile, P and M, the memory limit (P activations: the peak of 1F1B and ZB-H1), and the policy
// trained on that problem alone; the first two lie outside the generalist's training ranges (P 2 to 8)
const PROBLEMS = [
  {
    title: '1.5B, P = 16, M = 64 (P outside the training ranges)',
    model: '1.5B',
    P: 16,
    M: 64,
    activation: 223169536,
    specialist: 'h200-1.5b-p16-m64-v1',
    target: true,
  },
  {
    title: '6.2B at sequence length 2048, P = 8, M = 32',
    model: '6.2B-stage(4 of 32 layers) seq2048',
    P: 8,
    M: 32,
    activation: 1058148352,
    specialist: 'h200-6.2b-seq2048-p8-m32-v1',
    target: true,
  },
  {
    title: "14.6B, P = 8, M = 32 (the bundled specialists' problem)",
    model: '14.6B',
    P: 8,
    M: 32,
    activation: 493374464,
    specialist: 'h200-14.6b-p8-m32-v1',
    specialistV2: 'h200-14.6b-p8-m32-v2',
  },
  {
    title: "6.2B, P = 4, M = 16 (the bundled specialists' problem)",
    model: '6.2B',
    P: 4,
    M: 16,
    activation: 529076224,
    specialist: 'h200-6.2b-p4-m16-v1',
    specialistV2: 'h200-6.2b-p4-m16-v2',
  },
];

const ms = (us) => (us / 1000).toFixed(2);
const signed = (us) => `${us >= 0 ? '+' : '-'}${Math.abs(us / 1000).toFixed(2)}`;
const pct = (x) => `${x >= 0 ? '+' : '-'}${Math.abs(x).toFixed(2)}%`;
const quote = (s) => (/[^\w./:-]/.test(s) ? `'${s}'` : s);

/** `v2`: the generalist with two chunks per device (--policy-chunks 2) against zb-v and a V = 2 specialist if any. */
function compareArgs(p, v2 = false) {
  const names = v2
    ? [`ppo:${GENERALIST}`, ...(p.specialistV2 ? [`ppo:${checkpoints}/${p.specialistV2}`] : []), 'zb-v', 'greedy-zb']
    : [`ppo:${GENERALIST}`, `ppo:${checkpoints}/${p.specialist}`, ...STATIC, ...HEURISTICS];
  return [
    'compare',
    '--schedulers',
    names.join(','),
    ...(v2 ? ['--policy-chunks', '2'] : []),
    '--profile',
    'packages/core-wasm/profiles/h200-fbw-profiles.json',
    '--model',
    p.model,
    '--stages',
    String(p.P),
    '--micro-batches',
    String(p.M),
    '--mem-limit',
    String(p.P * p.activation),
    '--sweep',
    `noise=${NOISE.join(',')}`,
    '--episodes',
    String(episodes),
    '--oracle-episodes',
    '0',
    '--force',
    '--json',
  ];
}

function compare(p, v2 = false) {
  const r = spawnSync(process.execPath, [pprl, ...compareArgs(p, v2)], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`pprl compare failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The generalist minus a contender in percent of the contender's mean, 95% CI (negative: the generalist is faster). */
function relative(point, basePoint) {
  // diffToBaseline is contender - generalist per paired episode
  const d = point.diffToBaseline;
  const scale = 100 / point.makespan.mean;
  return { mean: -d.mean * scale, lo: -d.ci95[1] * scale, hi: -d.ci95[0] * scale, base: basePoint.makespan.mean };
}
const relText = (r) => `${pct(r.mean)} [${pct(r.lo)}, ${pct(r.hi)}]`;

const generalistResult = JSON.parse(readFileSync(join(root, GENERALIST, 'result.json'), 'utf8'));
const generalistConfig = JSON.parse(readFileSync(join(root, 'packages/rl/configs/generalist.json'), 'utf8'));
const set = generalistConfig.problemSet;
const range = ([lo, hi]) => (lo === hi ? `${lo}` : `${lo} to ${hi}`);

const sections = [];
const sections2 = [];
const summary = [];
const summaryV2 = [];
for (const p of PROBLEMS) {
  console.log(`comparing on ${p.title}, two chunks per device`);
  const c2 = compare(p, true);
  const [gen2] = Object.keys(c2.schedulers);
  const at2 = (n, i) => c2.schedulers[n].points[i];
  const vs2 = (n, i) => relative(at2(n, i), at2(gen2, i));
  const specName = p.specialistV2 ? `ppo:${checkpoints}/${p.specialistV2}` : undefined;
  const v2Cells = NOISE.map(
    (_, i) => `${ms(at2(gen2, i).makespan.mean)} / ${ms(at2('zb-v', i).makespan.mean)}: ${relText(vs2('zb-v', i))}`,
  ).join(' | ');
  const v2Specialist = specName ? relText(vs2(specName, NOISE.length - 1)) : '-';
  summaryV2.push(`| ${p.title} | ${v2Cells} | ${v2Specialist} |`);
  sections2.push(`npx pprl ${compareArgs(p, true).map(quote).join(' ')}`);

  console.log(`comparing on ${p.title}`);
  const c = compare(p);
  const names = Object.keys(c.schedulers);
  const [gen, spec] = names;
  const label = (n) => (n === gen ? 'generalist (greedy)' : n === spec ? `specialist \`${p.specialist}\`` : n);
  const point = (n, i) => c.schedulers[n].points[i];
  const peak = (n) => (Math.max(...c.schedulers[n].peakMemory) / 2 ** 30).toFixed(2);
  const rows = names.map((n) => {
    const cells = NOISE.map((_, i) => {
      const x = point(n, i);
      if (n === gen) return `${ms(x.makespan.mean)} | (generalist)`;
      const d = x.diffToBaseline;
      return `${ms(x.makespan.mean)} | ${signed(d.mean)} [${signed(d.ci95[0])}, ${signed(d.ci95[1])}]`;
    });
    return `| ${label(n)} | ${peak(n)} | ${cells.join(' | ')} |`;
  });
  const last = NOISE.length - 1;
  const vs = (n, i) => relative(point(n, i), point(gen, i));
  const specialistTrained = JSON.parse(readFileSync(join(root, checkpoints, p.specialist, 'result.json'), 'utf8'));
  const lines = [];
  if (p.target) {
    const verdict = (ok, text) => `- ${ok ? 'met' : 'missed'}: ${text}`;
    for (const b of ['zb-h1', 'greedy-zb']) {
      const r = vs(b, last);
      lines.push(verdict(r.hi < 0, `faster than ${b} at cv 0.3 with the CI excluding 0: ${relText(r)}`));
    }
    const r = vs(spec, last);
    lines.push(verdict(r.mean <= 2, `within 2% of the specialist at cv 0.3 (mean): ${relText(r)}`));
    lines.push(verdict(r.hi <= 2, `within 2% of the specialist at cv 0.3 with the whole CI: upper end ${pct(r.hi)}`));
    summary.push(
      `| ${p.title} | ${NOISE.map((_, i) => relText(vs('zb-h1', i))).join(' | ')} | ` +
        `${relText(vs('greedy-zb', last))} | ${relText(vs(spec, last))} |`,
    );
  } else
    summary.push(
      `| ${p.title} | ${NOISE.map((_, i) => relText(vs('zb-h1', i))).join(' | ')} | ` +
        `${relText(vs('greedy-zb', last))} | ${relText(vs(spec, last))} |`,
    );
  sections.push(
    [
      `### ${p.title}`,
      '',
      `Memory limit ${((p.P * p.activation) / 2 ** 30).toFixed(2)} GiB per device (P activations) for every ` +
        `scheduler; ${episodes} episodes per noise level from the held-out seed 0. The specialist was trained on ` +
        `this problem alone by \`pprl train --config packages/rl/configs/${p.specialist}.json\` in ` +
        `${Math.round(specialistTrained.seconds)} s. Mean makespan in ms; "vs generalist" is the contender minus the ` +
        `generalist per paired episode with its 95% CI (positive: the generalist is faster).`,
      '',
      `| scheduler | peak GiB | ${NOISE.map((cv) => `cv ${cv} | vs generalist`).join(' | ')} |`,
      `| --- | --- | ${NOISE.map(() => '--- | ---').join(' | ')} |`,
      ...rows,
      '',
      ...(lines.length > 0
        ? [
            "Targets (the generalist minus the contender in percent of the contender's mean, 95% CI; negative: the " +
              'generalist is faster):',
            '',
            ...lines,
            '',
          ]
        : []),
      '```sh',
      `npx pprl ${compareArgs(p).map(quote).join(' ')}`,
      '```',
    ].join('\n'),
  );
}

const t = generalistConfig.teacher;
const teachers = Object.entries(t.schedule)
  .map(([v, n]) => `${n} for V = ${v}`)
  .join(' and ');
const text = [
  START,
  '## One policy for every pipeline: the generalist, zero-shot',
  '',
  `\`${GENERALIST}\` was trained by \`npx pprl train --config packages/rl/configs/generalist.json --out ` +
    `runs/generalist\` in ${Math.round(generalistResult.seconds)} s ` +
    `(${generalistResult.globalStep.toLocaleString('en-US')} steps, ` +
    `${Math.round(generalistResult.stepsPerSec).toLocaleString('en-US')} steps/s, TensorFlow.js backend ` +
    `\`${generalistResult.backend}\`) on a problem set of ${set.count} fixed problems drawn once from ranges that ` +
    `span the bundled H200 profiles: P ${range(set.stages)}, M from ${set.microBatchesPerStage[0]}P to ` +
    `${set.microBatchesPerStage[1]}P, V ${range(set.chunks)} (V placement), B/F ${range(set.backwardRatio)}, W/F ` +
    `${range(set.weightRatio)}, transfer/F ${range(set.commRatio)}, memory ${range(set.memoryFactor)} times P ` +
    `activations, noise cv ${range(set.cv)} (each problem its own). Each problem has its own teacher, ${teachers}, ` +
    `cloned for ${t.cloneSteps.toLocaleString('en-US')} steps before PPO; the policy observes its teacher's next op ` +
    `(the plan features), so on a new problem the plan is built for that problem and the policy decides where to ` +
    `leave it. The weights are the run's best evaluation (update ${generalistResult.best.update}; the mean over the ` +
    `set's problems of makespan over the teacher's, ${generalistResult.best.policy.toFixed(4)}, on the run's own ` +
    `evaluation episodes).`,
  '',
  'None of the problems below is in the set: the profiles are measured models, not drawn ones, and the first two lie ' +
    'outside its ranges (P = 16; the 6.2B model at sequence length 2048). All run one chunk per device (V = 1) at ' +
    'memory P, the setting with room left (at 2P the greedy heuristic is within 1% of a clairvoyant optimum).',
  '',
  "Summary: the generalist minus each contender in percent of the contender's mean, 95% CI (negative: the generalist " +
    'is faster).',
  '',
  `| problem | ${NOISE.map((cv) => `vs zb-h1, cv ${cv}`).join(' | ')} | vs greedy-zb, cv 0.3 | vs specialist, cv 0.3 |`,
  `| --- | ${NOISE.map(() => '---').join(' | ')} | --- | --- |`,
  ...summary,
  '',
  ...sections.flatMap((s) => [s, '']),
  '### Two chunks per device (V = 2), against zb-v',
  '',
  `The same policy run with two chunks per device in V placement (\`--policy-chunks 2\`: the model cut into two ` +
    `half-size chunks, as zb-v runs it) at the same memory limit, ${episodes} episodes per noise level. Each cell: ` +
    `generalist / zb-v mean makespan in ms, then the generalist minus zb-v in percent of zb-v's mean with its 95% CI ` +
    `(negative: the generalist is faster). The last column compares with the bundled V = 2 specialist where there is ` +
    `one.`,
  '',
  `| problem | ${NOISE.map((cv) => `cv ${cv}`).join(' | ')} | vs V = 2 specialist, cv 0.3 |`,
  `| --- | ${NOISE.map(() => '---').join(' | ')} | --- |`,
  ...summaryV2,
  '',
  '```sh',
  ...sections2,
  '```',
  '',
  'Regenerate this section with `node scripts/generalization.mjs` (after the build; about 10 minutes).',
  END,
].join('\n');

// replace the section between the markers, or append it
const current = readFileSync(out, 'utf8');
const a = current.indexOf(START);
const b = current.indexOf(END);
// a first run puts it before the hand-written notes, where scripts/results.mjs keeps it
const notes = current.indexOf('\n## What was tried');
const next =
  a >= 0 && b > a
    ? `${current.slice(0, a)}${text}${current.slice(b + END.length)}`
    : notes >= 0
      ? `${current.slice(0, notes + 1)}${text}\n\n${current.slice(notes + 1)}`
      : `${current.trimEnd()}\n\n${text}\n`;
const tmp = `${out}.tmp-${process.pid}`;
writeFileSync(tmp, next);
renameSync(tmp, out);
console.log(`wrote ${out}`);
