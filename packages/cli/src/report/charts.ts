// Small hand-written SVG charts for the HTML report: a line chart with 95% confidence bands and a grouped bar
// chart. Plain strings, no script; every mark carries a <title> so hovering shows its numbers.

/** Ten colours that stay apart for most readers (Tableau 10); more series repeat them with dashes. */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#7f7f7f'];
const DASHES = ['', '6 3', '2 3'];

export interface SeriesStyle {
  color: string;
  /** stroke-dasharray, '' for solid. */
  dash: string;
}

/** The style of the i-th series: the same scheduler gets the same colour in every chart. */
export function seriesStyle(i: number): SeriesStyle {
  return { color: PALETTE[i % PALETTE.length]!, dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length]! };
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const px = (x: number) => String(Math.round(x * 10) / 10);
const CHAR_WIDTH = 6.6; // approximate advance of a 12px sans-serif character

/** Evenly spaced round ticks (1, 2 or 5 times a power of ten) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.05;
    return niceTicks(lo - pad, hi + pad, target);
  }
  const raw = (hi - lo) / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  const first = Math.floor(lo / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let t = first; t < hi + step - 1e-9 * step; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** A tick label with as many decimals as the step needs. */
function tickLabel(value: number, step: number): string {
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return value.toFixed(decimals);
}

interface Legend {
  svg: string;
  height: number;
}

/** Legend rows below the plot: a swatch and the name of each series, wrapped to the width. */
function legend(items: { name: string; style: SeriesStyle; shape: 'line' | 'box' }[], left: number, top: number, width: number): Legend {
  const out: string[] = [];
  let x = left;
  let y = top;
  const rowHeight = 18;
  for (const { name, style, shape } of items) {
    const w = 26 + name.length * CHAR_WIDTH + 16;
    if (x > left && x + w > left + width) {
      x = left;
      y += rowHeight;
    }
    out.push('<g class="legend-item">');
    if (shape === 'line')
      out.push(
        `<line x1="${px(x)}" y1="${px(y - 4)}" x2="${px(x + 20)}" y2="${px(y - 4)}" stroke="${style.color}" stroke-width="2.5"${style.dash ? ` stroke-dasharray="${style.dash}"` : ''}/>`,
      );
    else out.push(`<rect x="${px(x + 4)}" y="${px(y - 10)}" width="12" height="12" fill="${style.color}"/>`);
    out.push(`<text x="${px(x + 26)}" y="${px(y)}">${escapeXml(name)}</text></g>`);
    x += w;
  }
  return { svg: out.join(''), height: y - top + rowHeight };
}

export interface LinePoint {
  x: number;
  y: number;
  /** 95% confidence band around y. */
  lo?: number;
  hi?: number;
  /** Hover text of the point. */
  tip?: string;
}

export interface LineSeries {
  name: string;
  style: SeriesStyle;
  points: LinePoint[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** Where the x ticks go and what they read (the sweep values). */
  xTicks: { value: number; label: string }[];
  /** Logarithmic x axis (for geometric sweeps such as comm x0.5 ... x8). */
  xLog?: boolean;
  /** A dashed horizontal reference line, e.g. 0 for differences. */
  yRef?: number;
  width?: number;
  height?: number;
}

const MARGIN = { top: 34, right: 18, bottom: 46, left: 70 };

export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 560;
  const plotHeight = (o.height ?? 340) - MARGIN.top - MARGIN.bottom;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const tx = (x: number) => (o.xLog ? Math.log2(x) : x);
  const xs = o.xTicks.map((t) => tx(t.value));
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  if (!(x1 > x0)) [x0, x1] = [x0 - 1, x1 + 1];
  const xPad = (x1 - x0) * 0.04;
  const sx = (x: number) => MARGIN.left + ((tx(x) - x0 + xPad) / (x1 - x0 + 2 * xPad)) * plotWidth;

  const ys = o.series.flatMap((s) => s.points.flatMap((p) => [p.y, p.lo ?? p.y, p.hi ?? p.y])).filter(Number.isFinite);
  if (o.yRef !== undefined) ys.push(o.yRef);
  const yTicks = niceTicks(Math.min(...ys), Math.max(...ys));
  const [y0, y1] = [yTicks[0]!, yTicks[yTicks.length - 1]!];
  const sy = (y: number) => MARGIN.top + (1 - (y - y0) / (y1 - y0)) * plotHeight;
  const yStep = yTicks.length > 1 ? yTicks[1]! - yTicks[0]! : 1;

  const out: string[] = [];
  out.push(`<text class="chart-title" x="${MARGIN.left}" y="20" font-size="14" font-weight="bold">${escapeXml(o.title)}</text>`);
  // grid and axes
  for (const t of yTicks) {
    out.push(`<line x1="${MARGIN.left}" y1="${px(sy(t))}" x2="${MARGIN.left + plotWidth}" y2="${px(sy(t))}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${px(sy(t) + 4)}" text-anchor="end" fill="#444">${tickLabel(t, yStep)}</text>`);
  }
  for (const t of o.xTicks) {
    const x = px(sx(t.value));
    out.push(`<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + plotHeight}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${x}" y="${MARGIN.top + plotHeight + 16}" text-anchor="middle" fill="#444">${escapeXml(t.label)}</text>`);
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`);
  if (o.yRef !== undefined)
    out.push(`<line class="reference" x1="${MARGIN.left}" y1="${px(sy(o.yRef))}" x2="${MARGIN.left + plotWidth}" y2="${px(sy(o.yRef))}" stroke="#333" stroke-dasharray="4 3"/>`);
  out.push(`<text x="${MARGIN.left + plotWidth / 2}" y="${MARGIN.top + plotHeight + 36}" text-anchor="middle" fill="#222">${escapeXml(o.xLabel)}</text>`);
  const yMid = MARGIN.top + plotHeight / 2;
  out.push(`<text x="16" y="${px(yMid)}" text-anchor="middle" fill="#222" transform="rotate(-90 16 ${px(yMid)})">${escapeXml(o.yLabel)}</text>`);

  // bands first so that every line stays visible on top of them
  for (const s of o.series) {
    const banded = s.points.filter((p) => p.lo !== undefined && p.hi !== undefined && Number.isFinite(p.lo) && Number.isFinite(p.hi));
    if (banded.length < 2) continue;
    const upper = banded.map((p) => `${px(sx(p.x))},${px(sy(p.hi!))}`);
    const lower = banded.map((p) => `${px(sx(p.x))},${px(sy(p.lo!))}`).reverse();
    out.push(`<polygon class="band" points="${[...upper, ...lower].join(' ')}" fill="${s.style.color}" fill-opacity="0.16" stroke="none"/>`);
  }
  for (const s of o.series) {
    out.push(`<g class="series" data-name="${escapeXml(s.name)}">`);
    if (s.points.length > 1) {
      const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${px(sx(p.x))} ${px(sy(p.y))}`).join(' ');
      out.push(`<path class="line" d="${d}" fill="none" stroke="${s.style.color}" stroke-width="2"${s.style.dash ? ` stroke-dasharray="${s.style.dash}"` : ''}/>`);
    }
    for (const p of s.points) {
      // a lone point shows its interval as a whisker instead of a band
      if (s.points.length === 1 && p.lo !== undefined && p.hi !== undefined)
        out.push(`<line x1="${px(sx(p.x))}" y1="${px(sy(p.lo))}" x2="${px(sx(p.x))}" y2="${px(sy(p.hi))}" stroke="${s.style.color}" stroke-width="1.5"/>`);
      out.push(
        `<circle class="point" cx="${px(sx(p.x))}" cy="${px(sy(p.y))}" r="3" fill="${s.style.color}"><title>${escapeXml(p.tip ?? `${s.name}: ${p.y}`)}</title></circle>`,
      );
    }
    out.push('</g>');
  }
  const leg = legend(
    o.series.map((s) => ({ name: s.name, style: s.style, shape: 'line' })),
    MARGIN.left,
    MARGIN.top + plotHeight + MARGIN.bottom + 10,
    plotWidth,
  );
  const height = MARGIN.top + plotHeight + MARGIN.bottom + leg.height + 6;
  return wrap('line-chart', o.title, width, height, out.join('\n') + leg.svg);
}

export interface BarSeries {
  name: string;
  style: SeriesStyle;
  /** One value per group. */
  values: number[];
  tips?: string[];
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  /** Labels of the groups along x (e.g. devices). */
  groups: string[];
  series: BarSeries[];
  width?: number;
  height?: number;
  /** A dashed horizontal line across the plot, e.g. a memory limit. */
  yRef?: { value: number; label: string };
}

export function barChart(o: BarChartOptions): string {
  const width = o.width ?? 900;
  const plotHeight = (o.height ?? 320) - MARGIN.top - MARGIN.bottom;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const values = o.series.flatMap((s) => s.values).filter(Number.isFinite);
  if (o.yRef) values.push(o.yRef.value);
  const yTicks = niceTicks(0, Math.max(0, ...values) || 1);
  const y1 = yTicks[yTicks.length - 1]!;
  const sy = (y: number) => MARGIN.top + (1 - y / y1) * plotHeight;
  const yStep = yTicks.length > 1 ? yTicks[1]! - yTicks[0]! : 1;
  const groupWidth = plotWidth / Math.max(1, o.groups.length);
  const barWidth = (groupWidth * 0.8) / Math.max(1, o.series.length);

  const out: string[] = [];
  out.push(`<text class="chart-title" x="${MARGIN.left}" y="20" font-size="14" font-weight="bold">${escapeXml(o.title)}</text>`);
  for (const t of yTicks) {
    out.push(`<line x1="${MARGIN.left}" y1="${px(sy(t))}" x2="${MARGIN.left + plotWidth}" y2="${px(sy(t))}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${px(sy(t) + 4)}" text-anchor="end" fill="#444">${tickLabel(t, yStep)}</text>`);
  }
  o.groups.forEach((g, gi) => {
    const gx = MARGIN.left + gi * groupWidth + groupWidth * 0.1;
    o.series.forEach((s, si) => {
      const v = s.values[gi]!;
      if (!Number.isFinite(v)) return;
      const y = sy(Math.max(0, v));
      out.push(
        `<rect class="bar" x="${px(gx + si * barWidth)}" y="${px(y)}" width="${px(Math.max(1, barWidth - 1))}" height="${px(MARGIN.top + plotHeight - y)}" fill="${s.style.color}"><title>${escapeXml(s.tips?.[gi] ?? `${s.name}, ${g}: ${v}`)}</title></rect>`,
      );
    });
    out.push(`<text x="${px(MARGIN.left + (gi + 0.5) * groupWidth)}" y="${MARGIN.top + plotHeight + 16}" text-anchor="middle" fill="#444">${escapeXml(g)}</text>`);
  });
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`);
  if (o.yRef) {
    const y = px(sy(o.yRef.value));
    out.push(`<line class="reference" x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotWidth}" y2="${y}" stroke="#c62828" stroke-dasharray="5 3"/>`);
    // the label sits above the line, or below it when the line runs along the top of the plot
    const labelY = sy(o.yRef.value) - MARGIN.top < 16 ? sy(o.yRef.value) + 14 : sy(o.yRef.value) - 4;
    out.push(`<text x="${MARGIN.left + plotWidth - 4}" y="${px(labelY)}" text-anchor="end" fill="#c62828">${escapeXml(o.yRef.label)}</text>`);
  }
  const yMid = MARGIN.top + plotHeight / 2;
  out.push(`<text x="16" y="${px(yMid)}" text-anchor="middle" fill="#222" transform="rotate(-90 16 ${px(yMid)})">${escapeXml(o.yLabel)}</text>`);
  const leg = legend(
    o.series.map((s) => ({ name: s.name, style: s.style, shape: 'box' })),
    MARGIN.left,
    MARGIN.top + plotHeight + 40,
    plotWidth,
  );
  const height = MARGIN.top + plotHeight + 40 + leg.height + 6;
  return wrap('bar-chart', o.title, width, height, out.join('\n') + leg.svg);
}

function wrap(kind: string, title: string, width: number, height: number, body: string): string {
  return (
    `<svg class="chart ${kind}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${px(height)}" viewBox="0 0 ${width} ${px(height)}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-label="${escapeXml(title)}">\n` +
    `<rect x="0" y="0" width="${width}" height="${px(height)}" fill="#ffffff"/>\n${body}\n</svg>`
  );
}
