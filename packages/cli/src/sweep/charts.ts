// A scatter chart for the sweep report: one point per run (a parameter against the run's result), the mean at each
// distinct parameter value joined by a line, optionally a dashed reference (the best baseline). Plain SVG in the
// style of ../report/charts.ts, whose helpers it uses.
import { escapeXml, niceTicks, seriesStyle } from '../report/charts.js';

export interface ScatterPoint {
  x: number;
  y: number;
  tip: string;
}

export interface ScatterChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  points: ScatterPoint[];
  /** Logarithmic x axis (learning rates and other geometric ranges). */
  xLog?: boolean;
  yRef?: { value: number; label: string };
  width?: number;
  height?: number;
}

const MARGIN = { top: 34, right: 18, bottom: 46, left: 70 };
const px = (x: number) => String(Math.round(x * 10) / 10);

/** Tick labels of one axis in one style: exponents for very small or large values, else the step's decimals. */
function labeller(ticks: number[], step: number): (value: number) => string {
  const largest = Math.max(...ticks.map(Math.abs));
  if (largest > 0 && (largest < 1e-2 || largest >= 1e6))
    return (v) => (v === 0 ? '0' : v.toExponential(1).replace('.0e', 'e'));
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return (v) => v.toFixed(decimals);
}

/** Ticks at powers of ten (and 2x, 5x when the range is narrow) for a log axis. */
function logTicks(lo: number, hi: number): number[] {
  const first = Math.floor(Math.log10(lo));
  const last = Math.ceil(Math.log10(hi));
  const ticks: number[] = [];
  const multiples = last - first <= 2 ? [1, 2, 5] : [1];
  for (let e = first; e <= last; e++) for (const m of multiples) ticks.push(Number((m * 10 ** e).toPrecision(6)));
  const inside = ticks.filter((t) => t >= lo / 1.0001 && t <= hi * 1.0001);
  return inside.length >= 2 ? inside : [10 ** first, 10 ** last];
}

export function scatterChart(o: ScatterChartOptions): string {
  const width = o.width ?? 560;
  const height = o.height ?? 340;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const tx = (x: number) => (o.xLog ? Math.log10(x) : x);
  const xs = o.points.map((p) => p.x);
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  const xTicks = o.xLog ? logTicks(xMin, xMax) : niceTicks(xMin, xMax);
  let [x0, x1] = [Math.min(tx(xMin), tx(xTicks[0]!)), Math.max(tx(xMax), tx(xTicks[xTicks.length - 1]!))];
  if (!(x1 > x0)) [x0, x1] = [x0 - 1, x1 + 1];
  const xPad = (x1 - x0) * 0.04;
  const sx = (x: number) => MARGIN.left + ((tx(x) - x0 + xPad) / (x1 - x0 + 2 * xPad)) * plotWidth;
  const ys = o.points.map((p) => p.y);
  if (o.yRef) ys.push(o.yRef.value);
  const yTicks = niceTicks(Math.min(...ys), Math.max(...ys));
  const [y0, y1] = [yTicks[0]!, yTicks[yTicks.length - 1]!];
  const sy = (y: number) => MARGIN.top + (1 - (y - y0) / (y1 - y0)) * plotHeight;
  const xLabel = labeller(xTicks, o.xLog ? Math.min(...xTicks) : xTicks.length > 1 ? xTicks[1]! - xTicks[0]! : 1);
  const yLabel = labeller(yTicks, yTicks.length > 1 ? yTicks[1]! - yTicks[0]! : 1);
  const style = seriesStyle(0);

  const out: string[] = [];
  out.push(
    `<text class="chart-title" x="${MARGIN.left}" y="20" font-size="14" font-weight="bold">` +
      `${escapeXml(o.title)}</text>`,
  );
  for (const t of yTicks) {
    out.push(
      `<line x1="${MARGIN.left}" y1="${px(sy(t))}" x2="${MARGIN.left + plotWidth}" y2="${px(sy(t))}" ` +
        `stroke="#e4e4e4"/>`,
    );
    out.push(`<text x="${MARGIN.left - 6}" y="${px(sy(t) + 4)}" text-anchor="end" fill="#444">${yLabel(t)}</text>`);
  }
  for (const t of xTicks) {
    out.push(
      `<line x1="${px(sx(t))}" y1="${MARGIN.top}" x2="${px(sx(t))}" y2="${MARGIN.top + plotHeight}" stroke="#f0f0f0"/>`,
    );
    out.push(
      `<text x="${px(sx(t))}" y="${MARGIN.top + plotHeight + 16}" text-anchor="middle" fill="#444">${xLabel(t)}</text>`,
    );
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" ` +
      `fill="none" stroke="#999"/>`,
  );
  if (o.yRef) {
    const y = px(sy(o.yRef.value));
    out.push(
      `<line class="reference" x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotWidth}" y2="${y}" ` +
        `stroke="#c62828" stroke-dasharray="5 3"/>`,
    );
    out.push(
      `<text x="${MARGIN.left + plotWidth - 4}" y="${px(sy(o.yRef.value) - 4)}" text-anchor="end" fill="#c62828">` +
        `${escapeXml(o.yRef.label)}</text>`,
    );
  }
  out.push(
    `<text x="${MARGIN.left + plotWidth / 2}" y="${MARGIN.top + plotHeight + 36}" text-anchor="middle" fill="#222">` +
      `${escapeXml(o.xLabel)}</text>`,
  );
  const yMid = MARGIN.top + plotHeight / 2;
  out.push(
    `<text x="16" y="${px(yMid)}" text-anchor="middle" fill="#222" transform="rotate(-90 16 ${px(yMid)})">` +
      `${escapeXml(o.yLabel)}</text>`,
  );

  // the mean over the runs that share a parameter value
  const groups = new Map<number, number[]>();
  for (const p of o.points) groups.set(p.x, [...(groups.get(p.x) ?? []), p.y]);
  const means = [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([x, list]) => ({ x, y: list.reduce((s, v) => s + v, 0) / list.length, n: list.length }));
  if (means.length > 1 && means.some((m) => m.n > 1))
    out.push(
      `<path class="mean" d="${means.map((m, i) => `${i ? 'L' : 'M'}${px(sx(m.x))} ${px(sy(m.y))}`).join(' ')}" ` +
        `fill="none" stroke="${style.color}" stroke-width="1.5" stroke-opacity="0.7"/>`,
    );
  for (const p of o.points)
    out.push(
      `<circle class="point" cx="${px(sx(p.x))}" cy="${px(sy(p.y))}" r="3.5" fill="${style.color}" ` +
        `fill-opacity="0.75"><title>${escapeXml(p.tip)}</title></circle>`,
    );
  return (
    `<svg class="chart scatter-chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12" role="img" ` +
    `aria-label="${escapeXml(o.title)}">\n` +
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>\n${out.join('\n')}\n</svg>`
  );
}
