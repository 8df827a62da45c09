// The report people open: one self-contained HTML file (inline CSS and SVG, no script, nothing fetched) with,
// per experiment, makespan / throughput / paired difference against the sweep factor with 95% confidence bands
// and a table; then peak memory per device and a Gantt chart of one episode per scheduler.
import { timelineToSvg } from '@pprl/schedulers';
import { barChart, escapeXml, lineChart, seriesStyles, type LineSeries, type SeriesStyle } from './charts.js';
import { diffTo, sweepLabel, type GanttChart, type PointResult, type SweepResult } from './sweep.js';

/** Units of the problem's numbers: microseconds and bytes for profiled problems, plain units otherwise. */
export interface ReportUnits {
  time: 'us' | null;
  memory: 'bytes' | null;
}

export interface ReportExperiment {
  /** Anchor id in the page. */
  id: string;
  title: string;
  /** What the experiment asks, in a sentence. */
  question: string;
  result: SweepResult;
}

export interface ReportInput {
  title: string;
  intro: string[];
  /** Rows of the problem table: name, value. */
  problem: [string, string][];
  units: ReportUnits;
  experiments: ReportExperiment[];
  gantt?: { caption: string; charts: GanttChart[] };
  /**
   * Per-device memory limit of every scheduler, for results that do not carry their own (SchedulerResult.memLimit,
   * which wins where present). The memory chart draws the limits as labelled lines.
   */
  memoryLimit?: number;
  footer: string;
}

interface Scale {
  label: string;
  /** Label for narrow places (table headers). */
  short?: string;
  /** Display value = raw * factor. */
  factor: number;
}

export function displayScales(units: ReportUnits) {
  return {
    time: units.time === 'us' ? { label: 'ms', factor: 1e-3 } : { label: 'time units', factor: 1 },
    throughput:
      units.time === 'us'
        ? { label: 'micro-batches/s', short: 'per s', factor: 1e6 }
        : { label: 'micro-batches per time unit', short: 'per time unit', factor: 1 },
    memory: units.memory === 'bytes' ? { label: 'GiB', factor: 2 ** -30 } : { label: 'memory units', factor: 1 },
  } satisfies Record<'time' | 'throughput' | 'memory', Scale>;
}

/** 4 significant digits, no exponent for everyday magnitudes. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return x.toFixed(0);
  if (a === 0) return '0';
  return String(Number(x.toPrecision(4)));
}

/** A formatter with the same decimals for every value of a column: 4 significant digits for the largest. */
export function fixedFor(values: number[]): (x: number) => string {
  const largest = Math.max(...values.filter(Number.isFinite).map(Math.abs), 0);
  const decimals = largest > 0 ? Math.max(0, Math.min(4, 3 - Math.floor(Math.log10(largest)))) : 0;
  return (x) => (Number.isFinite(x) ? x.toFixed(decimals) : String(x));
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const signedPct = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}%`;
const esc = escapeXml;

function valueLabel(factor: SweepResult['factor'], v: number): string {
  return factor === 'noise' ? String(v) : `x${v}`;
}

function axisLabel(factor: SweepResult['factor']): string {
  return factor === 'noise' ? 'noise cv (compute and communication)' : 'communication time (multiple of the base)';
}

/** Colour, marker and dash by scheduler name: one assignment for every chart of the report. */
type Styles = Map<string, SeriesStyle>;

function experimentCharts(r: SweepResult, units: ReportUnits, styles: Styles): string[] {
  const s = displayScales(units);
  const xTicks = r.values.map((v) => ({ value: v, label: valueLabel(r.factor, v) }));
  const xLog = r.factor === 'comm' && r.values[0]! > 0 && r.values[r.values.length - 1]! / r.values[0]! >= 4;
  const common = { xTicks, xLog, xLabel: axisLabel(r.factor) };
  // styles come from the report's map by name, so a colour means the same scheduler in every chart even where the
  // baseline has no line (the difference charts)
  const series = (pick: (p: PointResult) => { y: number; lo?: number; hi?: number; tip: string } | null) =>
    r.schedulers
      .map(
        (sch): LineSeries => ({
          name: sch.name,
          style: styles.get(sch.name)!,
          points: sch.points.flatMap((p) => {
            const v = pick(p);
            return v ? [{ x: p.value, ...v }] : [];
          }),
        }),
      )
      .filter((x) => x.points.length > 0);
  const t = s.time;
  const makespan = lineChart({
    ...common,
    title: `Mean makespan (95% CI of the mean, ${r.episodes} episodes)`,
    yLabel: `makespan (${t.label})`,
    series: series((p) => ({
      y: p.makespan.mean * t.factor,
      lo: p.makespan.ci95[0] * t.factor,
      hi: p.makespan.ci95[1] * t.factor,
      tip:
        `${sweepLabel(r.factor, p.value)}: mean ${num(p.makespan.mean * t.factor)} ${t.label} [` +
        `${num(p.makespan.ci95[0] * t.factor)}, ${num(p.makespan.ci95[1] * t.factor)}], ` +
        `p95 ${num(p.makespan.p95 * t.factor)}`,
    })),
  });
  const q = s.throughput;
  const throughput = lineChart({
    ...common,
    title: 'Throughput M / T (95% CI)',
    yLabel: q.label,
    series: series((p) => ({
      y: p.throughput.mean * q.factor,
      lo: p.throughput.ci95[0] * q.factor,
      hi: p.throughput.ci95[1] * q.factor,
      tip: `${sweepLabel(r.factor, p.value)}: ${num(p.throughput.mean * q.factor)} ${q.label}`,
    })),
  });
  // one chart per baseline, from the same numbers the terminal and results.json show (diffTo)
  const diffs = r.baselines.map((b) =>
    lineChart({
      ...common,
      title: `Paired difference to ${b} (negative = faster, 95% CI)`,
      yLabel: `makespan difference (${t.label})`,
      yRef: 0,
      series: series((p) => {
        const d = diffTo(r, p, b);
        return d
          ? {
              y: d.mean * t.factor,
              lo: d.ci95[0] * t.factor,
              hi: d.ci95[1] * t.factor,
              tip:
                `${sweepLabel(r.factor, p.value)}: ` +
                `${num(d.mean * t.factor)} ${t.label} [${num(d.ci95[0] * t.factor)}, ` +
                `${num(d.ci95[1] * t.factor)}] vs ${b}`,
            }
          : null;
      }),
    }),
  );
  const bubble = lineChart({
    ...common,
    title: 'Bubble rate 1 − busy / (P T)',
    yLabel: 'bubble rate (%)',
    series: series((p) => ({
      y: 100 * p.bubbleRate.mean,
      tip: `${sweepLabel(r.factor, p.value)}: bubble ${pct(p.bubbleRate.mean)}`,
    })),
  });
  return [makespan, throughput, ...diffs, bubble];
}

/** Schedulers as rows, sweep values as columns: mean makespan and the relative change against the baseline. */
function overviewTable(r: SweepResult, units: ReportUnits): string {
  const t = displayScales(units).time;
  const base = baselineOf(r);
  const head = r.values.map((v) => `<th>${esc(sweepLabel(r.factor, v))}</th>`).join('');
  const first = r.values[0]!;
  const last = r.values[r.values.length - 1]!;
  const fastest = r.values.map((_, i) => Math.min(...r.schedulers.map((s) => s.points[i]!.makespan.mean)));
  const f = fixedFor(r.schedulers.flatMap((sch) => sch.points.map((p) => p.makespan.mean * t.factor)));
  const rows = r.schedulers.map((sch) => {
    const cells = sch.points.map((p, i) => {
      const rel = p.makespan.mean / base.points[i]!.makespan.mean - 1;
      const best = p.makespan.mean === fastest[i] ? ' class="best"' : '';
      const sub = sch === base ? 'baseline' : signedPct(rel);
      return `<td${best}>${f(p.makespan.mean * t.factor)}<small>${sub}</small></td>`;
    });
    const growth =
      r.values.length > 1
        ? signedPct(sch.points[sch.points.length - 1]!.makespan.mean / sch.points[0]!.makespan.mean - 1)
        : '';
    const growthCell = r.values.length > 1 ? `<td>${growth}</td>` : '';
    return `<tr><th scope="row">${esc(sch.name)}</th>${cells.join('')}${growthCell}</tr>`;
  });
  const growthHead =
    r.values.length > 1 ? `<th>${esc(valueLabel(r.factor, first))} → ${esc(valueLabel(r.factor, last))}</th>` : '';
  return (
    `<table class="overview"><caption>Mean makespan (${t.label}); below, ` +
    `the change against ${esc(r.baseline)} at the same value; bold: fastest; last column: ` +
    `change from the first to the last value</caption>` +
    `<thead><tr><th>scheduler</th>${head}${growthHead}</tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

/** Every number per scheduler and value, folded away by default. */
function detailTable(r: SweepResult, units: ReportUnits): string {
  const s = displayScales(units);
  const t = s.time;
  const points = r.schedulers.flatMap((sch) => sch.points);
  const fm = fixedFor(points.flatMap((p) => [p.makespan.mean * t.factor, p.makespan.p95 * t.factor]));
  const fq = fixedFor(points.map((p) => p.throughput.mean * s.throughput.factor));
  const fd = fixedFor(
    points.flatMap((p) => r.baselines.flatMap((b) => diffTo(r, p, b)?.mean ?? []).map((m) => m * t.factor)),
  );
  // the raw numbers (problem units) ride along in data-* attributes, for checks against results.json
  const diffCell = (p: PointResult, b: string) => {
    const d = diffTo(r, p, b);
    if (!d) return `<td class="diff" data-baseline="${esc(b)}">(baseline)</td>`;
    return (
      `<td class="diff" data-baseline="${esc(b)}" data-mean="${d.mean}" data-lo="${d.ci95[0]}" ` +
      `data-hi="${d.ci95[1]}">` +
      `${fd(d.mean * t.factor)} [${fd(d.ci95[0] * t.factor)}, ${fd(d.ci95[1] * t.factor)}]</td>`
    );
  };
  const rows = r.schedulers.flatMap((sch) =>
    sch.points.map(
      (p) =>
        `<tr data-scheduler="${esc(sch.name)}" data-value="${p.value}"><th scope="row">${esc(sch.name)}</th>` +
        `<td>${esc(valueLabel(r.factor, p.value))}</td><td>${fm(p.makespan.mean * t.factor)}</td>` +
        `<td>${fm(p.makespan.p95 * t.factor)}</td><td>${fq(p.throughput.mean * s.throughput.factor)}</td>` +
        `<td>${pct(p.bubbleRate.mean)}</td>${r.baselines.map((b) => diffCell(p, b)).join('')}</tr>`,
    ),
  );
  return (
    `<details><summary>All numbers (${r.schedulers.length * r.values.length} rows)</summary><table class="detail">` +
    `<thead><tr><th>scheduler</th><th>${r.factor}</th>` +
    `<th>mean (${t.label})</th><th>p95</th><th>M/T (${esc(s.throughput.label)})</th>` +
    `<th>bubble</th>${r.baselines.map((b) => `<th>Δ vs ${esc(b)} (95% CI)</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table></details>`
  );
}

/** A few sentences that read the numbers: who is fastest where, and how much the sweep costs each scheduler. */
function findings(r: SweepResult, units: ReportUnits): string {
  const t = displayScales(units).time;
  const lines: string[] = [];
  const fastest = r.values.map((v, i) => {
    const best = r.schedulers.reduce((a, b) => (b.points[i]!.makespan.mean < a.points[i]!.makespan.mean ? b : a));
    const mean = num(best.points[i]!.makespan.mean * t.factor);
    return `${sweepLabel(r.factor, v)}: <b>${esc(best.name)}</b> (${mean} ${t.label})`;
  });
  lines.push(`Fastest on average at ${fastest.join('; ')}.`);
  if (r.values.length > 1) {
    const last = r.values.length - 1;
    for (const b of r.baselines) {
      const base = r.schedulers.find((sch) => sch.name === b)!;
      const gains = r.schedulers
        .filter((sch) => sch !== base)
        .map((sch) => {
          const rel = (i: number) => diffTo(r, sch.points[i]!, b)!.mean / base.points[i]!.makespan.mean;
          return `${esc(sch.name)} ${signedPct(rel(0))} → ${signedPct(rel(last))}`;
        });
      if (gains.length)
        lines.push(
          `Difference to ${esc(b)} from ${esc(sweepLabel(r.factor, r.values[0]!))} to ` +
            `${esc(sweepLabel(r.factor, r.values[last]!))} (paired, relative to ${esc(b)}'s mean): ` +
            `${gains.join('; ')}.`,
        );
    }
  }
  // lines that coincide hide each other in the charts; say so
  const same = r.schedulers.flatMap((a, i) =>
    r.schedulers
      .slice(i + 1)
      .filter((b) =>
        b.points.every(
          (p, k) => p.makespan.mean === a.points[k]!.makespan.mean && p.makespan.p95 === a.points[k]!.makespan.p95,
        ),
      )
      .map((b) => [a.name, b.name]),
  );
  for (const [a, b] of same)
    lines.push(`${esc(a!)} and ${esc(b!)} give the same makespans at every value: their lines coincide.`);
  return `<ul class="findings">${lines.map((l) => `<li>${l}</li>`).join('')}</ul>`;
}

/** The primary baseline's result: the reference of the overview table's relative changes. */
function baselineOf(r: SweepResult) {
  return r.schedulers.find((sch) => sch.name === r.baseline) ?? r.schedulers[0]!;
}

function experimentSection(x: ReportExperiment, units: ReportUnits, styles: Styles): string {
  const charts = experimentCharts(x.result, units, styles)
    .map((svg) => `<figure class="chart">${svg}</figure>`)
    .join('\n');
  return `<section class="experiment" id="${esc(x.id)}">
<h2>${esc(x.title)}</h2>
<p class="question">${esc(x.question)}</p>
${findings(x.result, units)}
<div class="charts">
${charts}
</div>
${overviewTable(x.result, units)}
${detailTable(x.result, units)}
</section>`;
}

/**
 * The memory limits the schedulers ran with, as lines for the memory chart: one per distinct limit, labelled with
 * the schedulers it binds unless it binds them all; no line for schedulers without a limit (`unlimited` names them).
 */
export function memoryLimitLines(
  schedulers: { name: string; memLimit?: number | null }[],
  scale: { label: string; factor: number },
  fallback?: number,
): { lines: { value: number; label: string }[]; unlimited: string[] } {
  const byLimit = new Map<number, string[]>();
  const unlimited: string[] = [];
  for (const { name, memLimit } of schedulers) {
    // results without the field (older ones) take the limit the caller knows, if any
    const limit = memLimit === undefined ? fallback : memLimit;
    if (limit === null || limit === undefined || !Number.isFinite(limit)) unlimited.push(name);
    else byLimit.set(limit, [...(byLimit.get(limit) ?? []), name]);
  }
  const shared = byLimit.size === 1 && unlimited.length === 0;
  const lines = [...byLimit.entries()].map(([limit, names]) => {
    const whose = shared ? '' : `: ${names.join(', ')}`;
    return {
      value: limit * scale.factor,
      label: `memory limit ${num(limit * scale.factor)} ${scale.label} per device${whose}`,
    };
  });
  return { lines, unlimited };
}

/** Peak memory per device: the largest any experiment saw, per scheduler, with the limits they ran under. */
function memorySection(input: ReportInput, styles: Styles): string {
  const m = displayScales(input.units).memory;
  const byName = new Map<string, { name: string; peak: number[]; limits: (number | null | undefined)[] }>();
  for (const x of input.experiments)
    for (const sch of x.result.schedulers) {
      const seen = byName.get(sch.name);
      byName.set(sch.name, {
        name: sch.name,
        peak: seen ? seen.peak.map((v, d) => Math.max(v, sch.peakMemory[d]!)) : [...sch.peakMemory],
        limits: [...(seen?.limits ?? []), sch.memLimit],
      });
    }
  const entries = [...byName.values()];
  if (entries.length === 0) return '';
  const P = entries[0]!.peak.length;
  const groups = Array.from({ length: P }, (_, d) => `device ${d}`);
  // a scheduler that ran under different limits in different experiments is drawn against each
  const { lines, unlimited } = memoryLimitLines(
    entries.flatMap((e) => [...new Set(e.limits)].map((memLimit) => ({ name: e.name, memLimit }))),
    m,
    input.memoryLimit,
  );
  const chart = barChart({
    width: 1100,
    title: `Peak memory per device (${m.label})`,
    yLabel: `peak memory (${m.label})`,
    groups,
    series: entries.map((e) => ({
      name: e.name,
      style: styles.get(e.name)!,
      values: e.peak.map((v) => v * m.factor),
      tips: e.peak.map((v, d) => `${e.name}, device ${d}: ${num(v * m.factor)} ${m.label}`),
    })),
    yRefs: lines,
  });
  const dashed =
    lines.length === 1 && unlimited.length === 0
      ? ' The dashed line is the memory limit per device every scheduler ran with.'
      : ' Dashed lines: the memory limit per device of the schedulers named on them.';
  const limitText =
    lines.length === 0
      ? ' No scheduler ran with a memory limit.'
      : dashed + (unlimited.length ? ` No limit: ${unlimited.map(esc).join(', ')}.` : '');
  const about =
    'The most memory any device held at once, over all episodes and sweep values. ' +
    'Schedules in V placement hold two chunks of half a stage each.';
  return `<section class="memory" id="memory">
<h2>Peak memory</h2>
<p>${about}${limitText}</p>
<figure class="chart">${chart}</figure>
</section>`;
}

const GANTT_WIDTH = 1100;
/** Left (device labels) and right margins of timelineToSvg, which do not scale with time. */
const GANTT_MARGINS = 88;
/** Wide enough for the title and the legend. */
const MIN_GANTT_WIDTH = 560;

function ganttSection(gantt: NonNullable<ReportInput['gantt']>, units: ReportUnits): string {
  const unit = units.time === 'us' ? 'microseconds' : 'time units';
  const t = displayScales(units).time;
  // one time scale for all charts: a chart's width grows with its makespan, so shorter episodes look shorter
  const end = (g: GanttChart) => g.timeline.ops.reduce((t, o) => Math.max(t, o.end), 0);
  const longest = Math.max(...gantt.charts.map(end), 0);
  const figures = gantt.charts.map((g) => {
    const { stages: P, chunks: V, microBatches: M } = g.problem;
    const width =
      longest > 0 ? Math.round(GANTT_MARGINS + (GANTT_WIDTH - GANTT_MARGINS) * (end(g) / longest)) : GANTT_WIDTH;
    const title = `${g.name}: P=${P} V=${V} M=${M}, makespan ${num(end(g) * t.factor)} ${t.label} (axis in ${unit})`;
    const svg = timelineToSvg(g.problem, g.timeline, {
      title,
      width: Math.max(width, MIN_GANTT_WIDTH),
      ...(units.time === 'us' ? { timeUnit: 'µs' } : {}),
    });
    return `<figure class="gantt" data-scheduler="${esc(g.name)}">${svg}</figure>`;
  });
  return `<section class="gantts" id="gantt">
<h2>One episode per scheduler</h2>
<p>${esc(gantt.caption)} All charts share one time scale. Hover an op for its name and times.</p>
${figures.join('\n')}
</section>`;
}

/** The look every PPRL report shares (the demo / compare report here, the sweep report in src/sweep). */
const BODY_FONT = '15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif';
export const BASE_CSS = `
:root { color-scheme: light; }
body { font: ${BODY_FONT}; color: #1d1d1d; background: #fafafa; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-top: 8px; border-top: 1px solid #ddd; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 12px; }
figure { margin: 0; background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; padding: 6px; overflow-x: auto; }
svg { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 14px 0; background: #fff; font-size: 13.5px; }
td.best { font-weight: 700; background: #eef6ee; }
footer { margin-top: 40px; color: #666; font-size: 13px; }
code { background: #f0f0f0; padding: 1px 4px; border-radius: 3px; }
`;

const CSS = `${BASE_CSS}
nav a { margin-right: 14px; color: #2b5d9b; }
.question { font-style: italic; color: #333; }
.findings li { margin: 2px 0; }
figure.gantt { margin: 12px 0; }
caption { text-align: left; color: #555; font-size: 13px; padding-bottom: 4px; caption-side: top; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: right; vertical-align: top; }
th[scope="row"], thead th:first-child, table.problem th, table.problem td { text-align: left; }
td small { display: block; color: #666; font-size: 11.5px; }
details { margin: 6px 0 12px; }
summary { cursor: pointer; color: #2b5d9b; }
`;

export function renderReport(input: ReportInput): string {
  // one style per scheduler for the whole report, by first appearance
  const styles = seriesStyles(input.experiments.flatMap((x) => x.result.schedulers.map((sch) => sch.name)));
  const nav = [
    ...input.experiments.map((x) => `<a href="#${esc(x.id)}">${esc(x.title)}</a>`),
    '<a href="#memory">Peak memory</a>',
    ...(input.gantt ? ['<a href="#gantt">Gantt charts</a>'] : []),
  ];
  const problemRows = input.problem.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(input.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${esc(input.title)}</h1>
${input.intro.map((p) => `<p>${esc(p)}</p>`).join('\n')}
<nav>${nav.join('')}</nav>
<table class="problem"><caption>Problem</caption><tbody>${problemRows}</tbody></table>
${input.experiments.map((x) => experimentSection(x, input.units, styles)).join('\n')}
${memorySection(input, styles)}
${input.gantt ? ganttSection(input.gantt, input.units) : ''}
<footer>${esc(input.footer)}</footer>
</main>
</body>
</html>
`;
}
