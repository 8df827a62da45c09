// `pprl sweep report`: whatever runs of a sweep directory have finished (from any shard, on any machine), merged
// into one table (report.csv, report.md) and one self-contained HTML page with learning curves and a chart of each
// varied numeric parameter against the result.
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { UserError } from '@pprl/core-wasm';
import { updateCount } from '@pprl/rl';
import { fmt, writeFileAtomic } from '../output.js';
import { escapeXml, lineChart, niceTicks, seriesStyle, type LineSeries } from '../report/charts.js';
import { BASE_CSS } from '../report/html.js';
import { scatterChart } from './charts.js';
import { checkpointIteration, PLAN_FILE, readJsonIfValid, readJsonLines, runDir } from './files.js';
import { canonicalJson, PLAN_FORMAT, valueText } from './plan.js';

export interface ReportRow {
  id: string;
  /** Varied field -> value. */
  params: Record<string, unknown>;
  /** finished: result.json written; partial: a checkpoint but no result; pending: not started. */
  status: 'finished' | 'partial' | 'pending';
  /** Updates done (of a partial run: at its latest checkpoint). */
  updates: number;
  totalUpdates: number;
  globalStep: number | null;
  /** Final evaluation: the greedy policy's mean makespan on the held-out episodes, and each baseline's. */
  policy: number | null;
  baselines: Record<string, number>;
  /** policy / best baseline - 1: negative when the policy is faster. */
  gapToBestBaseline: number | null;
  stepsPerSec: number | null;
  seconds: number | null;
}

export interface SweepReport {
  out: string;
  fields: string[];
  /** Baselines found in the evaluations, in order of first appearance. */
  baselines: string[];
  counts: { runs: number; finished: number; partial: number; pending: number };
  rows: ReportRow[];
}

/** Columns that measure the machine rather than the training: they differ between two runs of the same sweep. */
export const TIMING_COLUMNS = ['stepsPerSec', 'seconds'];

interface CurvePoint {
  step: number;
  value: number;
}

interface Curves {
  train: CurvePoint[];
  eval: CurvePoint[];
}

const planSchema = z.looseObject({
  format: z.literal(PLAN_FORMAT),
  fields: z.array(z.string()),
  runs: z.array(
    z.looseObject({
      id: z.string(),
      params: z.record(z.string(), z.unknown()),
      config: z.looseObject({ totalSteps: z.number(), envs: z.number(), stepsPerRollout: z.number() }),
    }),
  ),
});

// A run's log lines and result.json are read field by field: a field of the wrong type (a file edited or damaged by
// hand) reads as absent, so the report shows what is there instead of failing on one run.
const maybe = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);
const evaluationSchema = z.object({ policy: z.number(), baselines: z.record(z.string(), z.number()) });
const logEntrySchema = z.object({
  update: maybe(z.number()),
  globalStep: maybe(z.number()),
  meanMakespan: maybe(z.number().nullable()),
  eval: maybe(evaluationSchema),
});
const resultSchema = z.object({
  updates: maybe(z.number()),
  globalStep: maybe(z.number()),
  seconds: maybe(z.number()),
  stepsPerSec: maybe(z.number()),
  eval: maybe(evaluationSchema),
});
type LogEntry = z.output<typeof logEntrySchema>;
type Result = z.output<typeof resultSchema>;

/** A JSON value as a log entry or result: its fields of the right type; undefined unless an object. */
function fieldsOf<T extends z.ZodType>(schema: T, value: unknown): z.output<T> | undefined {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** Reads the plan and every run directory of a sweep. */
export function collectReport(out: string): { report: SweepReport; curves: Map<string, Curves> } {
  const raw = readJsonIfValid(join(out, PLAN_FILE));
  if (raw === undefined)
    throw new UserError(
      `--out: no sweep in ${out} (${PLAN_FILE} is missing); run pprl sweep --config <file> --out ${out} first`,
    );
  const parsed = planSchema.safeParse(raw);
  if (!parsed.success)
    throw new UserError(`--out: ${join(out, PLAN_FILE)} is not a sweep plan (${parsed.error.issues[0]!.message})`);
  const plan = parsed.data;
  const baselines: string[] = [];
  const curves = new Map<string, Curves>();
  const rows = plan.runs.map((run): ReportRow => {
    const dir = runDir(out, run.id);
    const totalUpdates = updateCount(run.config);
    const log = readJsonLines(join(dir, 'log.jsonl')).flatMap((e): LogEntry[] => {
      const entry = fieldsOf(logEntrySchema, e);
      return entry ? [entry] : [];
    });
    curves.set(run.id, {
      train: log.flatMap((e) =>
        typeof e.globalStep === 'number' && typeof e.meanMakespan === 'number'
          ? [{ step: e.globalStep, value: e.meanMakespan }]
          : [],
      ),
      eval: log.flatMap((e) =>
        typeof e.globalStep === 'number' && e.eval ? [{ step: e.globalStep, value: e.eval.policy }] : [],
      ),
    });
    const result: Result | undefined = fieldsOf(resultSchema, readJsonIfValid(join(dir, 'result.json')));
    const row: ReportRow = {
      id: run.id,
      params: run.params,
      status: 'pending',
      updates: checkpointIteration(dir),
      totalUpdates,
      globalStep: null,
      policy: null,
      baselines: {},
      gapToBestBaseline: null,
      stepsPerSec: null,
      seconds: null,
    };
    if (!result) {
      if (row.updates > 0) row.status = 'partial';
      return row;
    }
    // the final update's log line always carries the final evaluation
    const evaluation = result.eval ?? log.find((e) => e.update === totalUpdates)?.eval;
    row.status = 'finished';
    row.updates = result.updates ?? totalUpdates;
    row.globalStep = result.globalStep ?? null;
    row.seconds = result.seconds ?? null;
    row.stepsPerSec = result.stepsPerSec ?? null;
    if (evaluation) {
      row.policy = evaluation.policy;
      row.baselines = evaluation.baselines;
      for (const name of Object.keys(evaluation.baselines)) if (!baselines.includes(name)) baselines.push(name);
      const best = Math.min(...Object.values(evaluation.baselines));
      if (Number.isFinite(best) && best > 0) row.gapToBestBaseline = evaluation.policy / best - 1;
    }
    return row;
  });
  const count = (s: ReportRow['status']) => rows.filter((r) => r.status === s).length;
  return {
    report: {
      out,
      fields: plan.fields,
      baselines,
      counts: { runs: rows.length, finished: count('finished'), partial: count('partial'), pending: count('pending') },
      rows,
    },
    curves,
  };
}

// ---- the table ----------------------------------------------------------------------------------------------

interface Column {
  name: string;
  /** Exact value for CSV (numbers in full precision). */
  raw: (r: ReportRow) => string | number | null;
  /** For people (Markdown, HTML). */
  text: (r: ReportRow) => string;
}

const num = (x: number | null) => (x === null ? '' : fmt(x));
const pct = (x: number | null) => (x === null ? '' : `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}%`);

function columns(report: SweepReport): Column[] {
  return [
    { name: 'id', raw: (r) => r.id, text: (r) => r.id },
    ...report.fields.map(
      (f): Column => ({
        name: f,
        raw: (r) => (typeof r.params[f] === 'string' ? (r.params[f] as string) : canonicalJson(r.params[f])),
        text: (r) => valueText(r.params[f]),
      }),
    ),
    { name: 'status', raw: (r) => r.status, text: (r) => r.status },
    {
      name: 'updates',
      raw: (r) => r.updates,
      text: (r) => (r.status === 'finished' ? String(r.updates) : `${r.updates}/${r.totalUpdates}`),
    },
    { name: 'globalStep', raw: (r) => r.globalStep, text: (r) => num(r.globalStep) },
    { name: 'eval.policy', raw: (r) => r.policy, text: (r) => num(r.policy) },
    ...report.baselines.map(
      (b): Column => ({
        name: `eval.${b}`,
        raw: (r) => r.baselines[b] ?? null,
        text: (r) => num(r.baselines[b] ?? null),
      }),
    ),
    { name: 'gapToBestBaseline', raw: (r) => r.gapToBestBaseline, text: (r) => pct(r.gapToBestBaseline) },
    {
      name: 'stepsPerSec',
      raw: (r) => r.stepsPerSec,
      text: (r) => (r.stepsPerSec === null ? '' : String(Math.round(r.stepsPerSec))),
    },
    { name: 'seconds', raw: (r) => r.seconds, text: (r) => num(r.seconds) },
  ];
}

/** RFC 4180 (csv-stringify): CRLF line ends, fields with a comma, quote or line break quoted; null is empty. */
export function reportCsv(report: SweepReport): string {
  const cols = columns(report);
  return stringify([cols.map((c) => c.name), ...report.rows.map((r) => cols.map((c) => c.raw(r) ?? ''))], {
    record_delimiter: 'windows',
  });
}

export function reportMarkdown(report: SweepReport): string {
  const cols = columns(report);
  const cell = (t: string) => t.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const right = new Set([
    'updates',
    'globalStep',
    'eval.policy',
    'gapToBestBaseline',
    'stepsPerSec',
    'seconds',
    ...report.baselines.map((b) => `eval.${b}`),
  ]);
  const { runs, finished, partial, pending } = report.counts;
  return [
    `# Sweep report: ${report.out}`,
    '',
    `${runs} runs: ${finished} finished, ${partial} partial, ${pending} not started. ` +
      `eval.* is the mean makespan of the final evaluation on held-out episodes (lower is better); ` +
      `gapToBestBaseline is the policy over the best baseline, minus 1.`,
    '',
    `| ${cols.map((c) => cell(c.name)).join(' | ')} |`,
    `| ${cols.map((c) => (right.has(c.name) ? '---:' : '---')).join(' | ')} |`,
    ...report.rows.map((r) => `| ${cols.map((c) => cell(c.text(r))).join(' | ')} |`),
    '',
  ].join('\n');
}

// ---- the HTML page ------------------------------------------------------------------------------------------

/** At most `max` points: the mean of each of `max` consecutive buckets. */
function downsample(points: CurvePoint[], max = 200): CurvePoint[] {
  if (points.length <= max) return points;
  const out: CurvePoint[] = [];
  for (let b = 0; b < max; b++) {
    const bucket = points.slice(Math.floor((b * points.length) / max), Math.floor(((b + 1) * points.length) / max));
    out.push({
      step: bucket.reduce((s, p) => s + p.step, 0) / bucket.length,
      value: bucket.reduce((s, p) => s + p.value, 0) / bucket.length,
    });
  }
  return out;
}

function stepLabel(step: number): string {
  if (step >= 1e6) return `${Number((step / 1e6).toPrecision(3))}M`;
  if (step >= 1e3) return `${Number((step / 1e3).toPrecision(3))}k`;
  return String(step);
}

const MAX_CURVES = 12;

function learningCurves(report: SweepReport, curves: Map<string, Curves>): { charts: string[]; caption: string } {
  const started = report.rows.filter((r) => (curves.get(r.id)?.train.length ?? 0) > 0);
  // many runs: the best ones by final evaluation (then the ones without one)
  const ranked = [...started].sort((a, b) => (a.policy ?? Infinity) - (b.policy ?? Infinity));
  const shown = started.length > MAX_CURVES ? ranked.slice(0, MAX_CURVES) : started;
  const chart = (pick: (c: Curves) => CurvePoint[], title: string, yLabel: string): string | undefined => {
    const series: LineSeries[] = shown
      .map((r) => ({ row: r, points: downsample(pick(curves.get(r.id)!)) }))
      .filter((s) => s.points.length > 0)
      .map((s) => ({
        name: s.row.id,
        style: seriesStyle(report.rows.indexOf(s.row)),
        points: s.points.map((p) => ({
          x: p.step,
          y: p.value,
          tip: `${s.row.id}, step ${stepLabel(Math.round(p.step))}: ${fmt(p.value)}`,
        })),
      }));
    if (series.length === 0) return undefined;
    const maxStep = Math.max(...series.flatMap((s) => s.points.map((p) => p.x)));
    const xTicks = niceTicks(0, maxStep).map((v) => ({ value: v, label: stepLabel(v) }));
    return lineChart({ title, xLabel: 'environment steps', yLabel, series, xTicks, width: 560, height: 340 });
  };
  const charts = [
    chart((c) => c.train, 'Training: mean makespan of the episodes of each update', 'makespan'),
    chart((c) => c.eval, 'Evaluation: greedy policy on held-out episodes', 'mean makespan'),
  ].filter((c): c is string => c !== undefined);
  const caption =
    started.length > MAX_CURVES
      ? `The ${MAX_CURVES} runs with the best final evaluation of ${started.length} started.`
      : `All ${started.length} started runs.`;
  return { charts, caption };
}

function parameterCharts(report: SweepReport): string[] {
  const finished = report.rows.filter((r) => r.status === 'finished' && r.policy !== null);
  // a dashed line for the best baseline when every run has the same one (the problem was not varied)
  const bests = finished
    .map((r) => Object.entries(r.baselines).sort((a, b) => a[1] - b[1])[0])
    .filter((b): b is [string, number] => b !== undefined);
  const common =
    bests.length === finished.length && bests.every((b) => b[0] === bests[0]?.[0] && b[1] === bests[0]?.[1])
      ? bests[0]
      : undefined;
  const charts: string[] = [];
  for (const field of report.fields) {
    const points = finished.flatMap((r) =>
      typeof r.params[field] === 'number' && Number.isFinite(r.params[field])
        ? [
            {
              x: r.params[field],
              y: r.policy!,
              tip: `${r.id}: ${field} = ${r.params[field]}, policy ${fmt(r.policy!)}`,
            },
          ]
        : [],
    );
    if (points.length !== finished.length || new Set(points.map((p) => p.x)).size < 2) continue;
    const xs = points.map((p) => p.x);
    const xLog = Math.min(...xs) > 0 && Math.max(...xs) / Math.min(...xs) >= 20;
    charts.push(
      scatterChart({
        title: `${field} against the final evaluation`,
        xLabel: `${field}${xLog ? ' (log scale)' : ''}`,
        yLabel: 'policy mean makespan',
        points,
        xLog,
        ...(common ? { yRef: { value: common[1], label: `best baseline: ${common[0]} ${fmt(common[1])}` } } : {}),
      }),
    );
  }
  return charts;
}

const CSS = `${BASE_CSS}
.table { overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
tr.partial td, tr.pending td { color: #777; }
`;

export function reportHtml(report: SweepReport, curves: Map<string, Curves>): string {
  const esc = escapeXml;
  const cols = columns(report);
  const best = Math.min(...report.rows.flatMap((r) => (r.policy === null ? [] : [r.policy])));
  const head = cols.map((c) => `<th>${esc(c.name)}</th>`).join('');
  const body = report.rows
    .map((r) => {
      const cells = cols
        .map((c) => `<td${c.name === 'eval.policy' && r.policy === best ? ' class="best"' : ''}>${esc(c.text(r))}</td>`)
        .join('');
      return `<tr class="${r.status}">${cells}</tr>`;
    })
    .join('\n');
  const { runs, finished, partial, pending } = report.counts;
  const curvesPart = learningCurves(report, curves);
  const params = parameterCharts(report);
  const figures = (charts: string[]) =>
    `<div class="charts">${charts.map((c) => `<figure>${c}</figure>`).join('\n')}</div>`;
  const counted = `${runs} runs, ${finished} finished, ${partial} partial, ${pending} not started`;
  const varied = report.fields.map((f) => `<code>${esc(f)}</code>`).join(', ');
  const evalNote =
    'eval.* is the mean makespan of the final evaluation on held-out episodes (lower is better; ' +
    "the best policy is in bold); gapToBestBaseline is the policy's mean over the best baseline's, minus 1 " +
    '(negative: the policy is faster).';
  const paramsPart =
    params.length > 0
      ? `<p>One point per finished run; the line joins the mean at each value.</p>\n${figures(params)}`
      : '<p>No varied numeric parameter with two or more values among the finished runs.</p>';
  const footer =
    `Written by pprl sweep report. Every finished run's directory holds its config, log.jsonl and checkpoints ` +
    `(evaluate one with <code>pprl evaluate --policy ${esc(join(report.out, 'runs'))}/&lt;id&gt;</code>).`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sweep report: ${esc(report.out)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>Sweep report</h1>
<p><code>${esc(report.out)}</code>: ${counted}. Varied: ${varied}.</p>
<p>${evalNote}</p>
<div class="table"><table><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table></div>
<h2>Learning curves</h2>
<p>${esc(curvesPart.caption)} Hover a point for its run and value.</p>
${curvesPart.charts.length > 0 ? figures(curvesPart.charts) : '<p>No run has logged an update yet.</p>'}
<h2>Parameters against the result</h2>
${paramsPart}
<footer>${footer}</footer>
</main>
</body>
</html>
`;
}

/** Writes report.csv, report.md and report.html into the sweep directory. */
export function writeReport(out: string): {
  report: SweepReport;
  files: { csv: string; markdown: string; html: string };
} {
  const { report, curves } = collectReport(out);
  const files = { csv: join(out, 'report.csv'), markdown: join(out, 'report.md'), html: join(out, 'report.html') };
  writeFileAtomic(files.csv, reportCsv(report));
  writeFileAtomic(files.markdown, reportMarkdown(report));
  writeFileAtomic(files.html, reportHtml(report, curves));
  return { report, files };
}
