// Small hand-written SVG charts for the HTML report: a line chart with 95% confidence bands and a grouped bar
// chart. Plain strings, no script; every mark carries a <title> so hovering shows its numbers.

/**
 * Tableau 10, the categorical palette of Tableau (Maureen Stone's 2016 redesign): ten hues chosen to stay apart
 * for most readers, including the common colour-vision deficiencies. Colour alone is not enough (greyscale
 * prints, more than ten series), so every series also gets a marker and a dash pattern, see seriesStyle.
 */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#7f7f7f',
] as const;
/** Filled shapes that read apart at 8 px, also without colour. */
export const MARKERS = ['circle', 'square', 'triangle', 'diamond', 'triangle-down', 'plus', 'cross'] as const;
/** stroke-dasharray of a 2 px line: solid, dashed, dotted, dash-dot. */
export const DASHES = ['', '7 3', '2 2.5', '9 3 2 3'] as const;

export type Marker = (typeof MARKERS)[number];

export interface SeriesStyle {
  color: string;
  /** stroke-dasharray, '' for solid. */
  dash: string;
  /** Shape of the line's points and of the mark on its bars. */
  marker: Marker;
}

/**
 * The style of the i-th series. Colour, marker and dash cycle with coprime lengths (10, 7, 4), so neighbours (often
 * one family, e.g. zb-h1, zb-auto, zb-v) differ in all three; any two of the first 10 series differ in colour, any
 * two of the first 28 in marker or dash (apart in greyscale) and any two of the first 140 in the three together.
 * Give a scheduler one index for the whole report (see seriesStyles) and it looks the same in every chart.
 */
export function seriesStyle(i: number): SeriesStyle {
  return {
    color: PALETTE[i % PALETTE.length]!,
    marker: MARKERS[i % MARKERS.length]!,
    dash: DASHES[i % DASHES.length]!,
  };
}

/** One style per distinct name, by first appearance: the assignment every chart of one report uses. */
export function seriesStyles(names: Iterable<string>): Map<string, SeriesStyle> {
  const styles = new Map<string, SeriesStyle>();
  for (const name of names) if (!styles.has(name)) styles.set(name, seriesStyle(styles.size));
  return styles;
}

/**
 * A marker centred on (x, y), `size` about its radius (the shapes have about the area of that circle). `attrs` go
 * on the element (fill, stroke, class); `title` becomes its hover text.
 */
export function markerSvg(marker: Marker, x: number, y: number, size: number, attrs: string, title?: string): string {
  const body = title === undefined ? '' : `<title>${escapeXml(title)}</title>`;
  const close = body ? `>${body}</` : '/>';
  const end = (tag: string) => (body ? `${close}${tag}>` : close);
  if (marker === 'circle')
    return `<circle cx="${px(x)}" cy="${px(y)}" r="${px(size)}" data-marker="circle" ${attrs}${end('circle')}`;
  const shape = (points: [number, number][], turn = 0) => {
    const [c, s] = [Math.cos(turn), Math.sin(turn)];
    const path = points.map(([u, v], i) => `${i ? 'L' : 'M'}${px(x + u * c - v * s)} ${px(y + u * s + v * c)}`);
    return `${path.join(' ')} Z`;
  };
  const h = 0.89 * size; // half the side of a square of the circle's area
  const t = 1.56 * size; // circumradius of an equilateral triangle of the circle's area
  const arm = 1.45 * size;
  const w = 0.5 * size;
  const plus: [number, number][] = [
    [-w, -arm],
    [w, -arm],
    [w, -w],
    [arm, -w],
    [arm, w],
    [w, w],
    [w, arm],
    [-w, arm],
    [-w, w],
    [-arm, w],
    [-arm, -w],
    [-w, -w],
  ];
  const triangle: [number, number][] = [
    [0, -t],
    [t * 0.866, t / 2],
    [-t * 0.866, t / 2],
  ];
  const d = {
    square: shape([
      [-h, -h],
      [h, -h],
      [h, h],
      [-h, h],
    ]),
    diamond: shape([
      [0, -1.3 * size],
      [1.05 * size, 0],
      [0, 1.3 * size],
      [-1.05 * size, 0],
    ]),
    triangle: shape(triangle.map(([u, v]) => [u, v + t * 0.1])),
    'triangle-down': shape(triangle.map(([u, v]) => [u, -v - t * 0.1])),
    plus: shape(plus),
    cross: shape(plus, Math.PI / 4),
  }[marker];
  return `<path d="${d}" data-marker="${marker}" ${attrs}${end('path')}`;
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const px = (x: number) => String(Math.round(x * 10) / 10);
const CHAR_WIDTH = 6.6; // approximate advance of a 12px sans-serif character

/** Evenly spaced round ticks (1, 2 or 5 times a power of ten) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  // no finite data (a run's result without numbers): an empty unit axis
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  // a range within rounding noise of its values (29.16 and 29.16 + 4e-15) is one value: a step below the values'
  // precision would never advance `t` below and fill memory with ticks
  if (!(hi - lo > 1e-9 * Math.max(Math.abs(lo), Math.abs(hi)))) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.05;
    return niceTicks(lo - pad, hi + pad, target);
  }
  const raw = (hi - lo) / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  const first = Math.floor(lo / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0, t = first; t < hi + step - 1e-9 * step && i <= 4 * target + 4; i++, t = first + i * step)
    ticks.push(Number(t.toPrecision(12)));
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

/** Marks on a bar: white with a dark outline, legible on every palette colour and in greyscale. */
const BAR_MARK = 'fill="#ffffff" stroke="#222222" stroke-width="1"';
/** Points of a line: the series colour, outlined in white so that overlapping points stay apart. */
const pointMark = (style: SeriesStyle) => `fill="${style.color}" stroke="#ffffff" stroke-width="0.75"`;
const dashAttr = (style: SeriesStyle) => (style.dash ? ` stroke-dasharray="${style.dash}"` : '');

/** Legend rows below the plot: a swatch (with the series' marker) and the name of each series, wrapped to the width. */
function legend(
  items: { name: string; style: SeriesStyle; shape: 'line' | 'box' }[],
  left: number,
  top: number,
  width: number,
): Legend {
  const out: string[] = [];
  let x = left;
  let y = top;
  const rowHeight = 20;
  for (const { name, style, shape } of items) {
    const w = 36 + name.length * CHAR_WIDTH + 16;
    if (x > left && x + w > left + width) {
      x = left;
      y += rowHeight;
    }
    out.push(
      `<g class="legend-item" data-name="${escapeXml(name)}" data-color="${style.color}" data-dash="${style.dash}" ` +
        `data-marker="${style.marker}">`,
    );
    if (shape === 'line')
      out.push(
        `<line x1="${px(x)}" y1="${px(y - 4)}" x2="${px(x + 30)}" y2="${px(y - 4)}" stroke="${style.color}" ` +
          `stroke-width="2"${dashAttr(style)}/>`,
        markerSvg(style.marker, x + 15, y - 4, 4, pointMark(style)),
      );
    else
      out.push(
        `<rect x="${px(x + 7)}" y="${px(y - 12)}" width="16" height="16" fill="${style.color}"/>`,
        markerSvg(style.marker, x + 15, y - 4, 3.5, BAR_MARK),
      );
    out.push(`<text x="${px(x + 36)}" y="${px(y)}">${escapeXml(name)}</text></g>`);
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
  out.push(
    `<text class="chart-title" x="${MARGIN.left}" y="20" font-size="14" font-weight="bold">` +
      `${escapeXml(o.title)}</text>`,
  );
  // grid and axes
  for (const t of yTicks) {
    out.push(
      `<line x1="${MARGIN.left}" y1="${px(sy(t))}" x2="${MARGIN.left + plotWidth}" y2="${px(sy(t))}" ` +
        `stroke="#e4e4e4"/>`,
    );
    out.push(
      `<text x="${MARGIN.left - 6}" y="${px(sy(t) + 4)}" text-anchor="end" fill="#444">${tickLabel(t, yStep)}</text>`,
    );
  }
  for (const t of o.xTicks) {
    const x = px(sx(t.value));
    out.push(`<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + plotHeight}" stroke="#f0f0f0"/>`);
    out.push(
      `<text x="${x}" y="${MARGIN.top + plotHeight + 16}" text-anchor="middle" fill="#444">` +
        `${escapeXml(t.label)}</text>`,
    );
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" ` +
      `fill="none" stroke="#999"/>`,
  );
  if (o.yRef !== undefined)
    out.push(
      `<line class="reference" x1="${MARGIN.left}" y1="${px(sy(o.yRef))}" x2="${MARGIN.left + plotWidth}" ` +
        `y2="${px(sy(o.yRef))}" stroke="#333" stroke-dasharray="4 3"/>`,
    );
  out.push(
    `<text x="${MARGIN.left + plotWidth / 2}" y="${MARGIN.top + plotHeight + 36}" text-anchor="middle" fill="#222">` +
      `${escapeXml(o.xLabel)}</text>`,
  );
  const yMid = MARGIN.top + plotHeight / 2;
  out.push(
    `<text x="16" y="${px(yMid)}" text-anchor="middle" fill="#222" transform="rotate(-90 16 ${px(yMid)})">` +
      `${escapeXml(o.yLabel)}</text>`,
  );

  // bands first so that every line stays visible on top of them
  for (const s of o.series) {
    const banded = s.points.filter(
      (p) => p.lo !== undefined && p.hi !== undefined && Number.isFinite(p.lo) && Number.isFinite(p.hi),
    );
    if (banded.length < 2) continue;
    const upper = banded.map((p) => `${px(sx(p.x))},${px(sy(p.hi!))}`);
    const lower = banded.map((p) => `${px(sx(p.x))},${px(sy(p.lo!))}`).reverse();
    out.push(
      `<polygon class="band" points="${[...upper, ...lower].join(' ')}" fill="${s.style.color}" ` +
        `fill-opacity="0.16" stroke="none"/>`,
    );
  }
  for (const s of o.series) {
    out.push(
      `<g class="series" data-name="${escapeXml(s.name)}" data-color="${s.style.color}" data-dash="${s.style.dash}" ` +
        `data-marker="${s.style.marker}">`,
    );
    if (s.points.length > 1) {
      const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${px(sx(p.x))} ${px(sy(p.y))}`).join(' ');
      out.push(
        `<path class="line" d="${d}" fill="none" stroke="${s.style.color}" stroke-width="2"${dashAttr(s.style)}/>`,
      );
    }
    for (const p of s.points) {
      // a lone point shows its interval as a whisker instead of a band
      if (s.points.length === 1 && p.lo !== undefined && p.hi !== undefined)
        out.push(
          `<line x1="${px(sx(p.x))}" y1="${px(sy(p.lo))}" x2="${px(sx(p.x))}" y2="${px(sy(p.hi))}" ` +
            `stroke="${s.style.color}" stroke-width="1.5"/>`,
        );
      out.push(
        markerSvg(
          s.style.marker,
          sx(p.x),
          sy(p.y),
          4,
          `class="point" ${pointMark(s.style)}`,
          p.tip ?? `${s.name}: ${p.y}`,
        ),
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
  /** Labelled dashed horizontal lines across the plot, e.g. memory limits; the y axis always reaches them. */
  yRefs?: { value: number; label: string }[];
}

export function barChart(o: BarChartOptions): string {
  const width = o.width ?? 900;
  const plotHeight = (o.height ?? 320) - MARGIN.top - MARGIN.bottom;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const values = o.series.flatMap((s) => s.values).filter(Number.isFinite);
  const refs = (o.yRefs ?? []).filter((r) => Number.isFinite(r.value)).sort((a, b) => b.value - a.value);
  // headroom above the highest line for its label, so that it never sits on the bars
  for (const r of refs) values.push(r.value * 1.08);
  const yTicks = niceTicks(0, Math.max(0, ...values) || 1);
  const y1 = yTicks[yTicks.length - 1]!;
  const sy = (y: number) => MARGIN.top + (1 - y / y1) * plotHeight;
  const yStep = yTicks.length > 1 ? yTicks[1]! - yTicks[0]! : 1;
  const groupWidth = plotWidth / Math.max(1, o.groups.length);
  const barWidth = (groupWidth * 0.8) / Math.max(1, o.series.length);

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
    out.push(
      `<text x="${MARGIN.left - 6}" y="${px(sy(t) + 4)}" text-anchor="end" fill="#444">${tickLabel(t, yStep)}</text>`,
    );
  }
  o.groups.forEach((g, gi) => {
    const gx = MARGIN.left + gi * groupWidth + groupWidth * 0.1;
    o.series.forEach((s, si) => {
      const v = s.values[gi]!;
      if (!Number.isFinite(v)) return;
      const y = sy(Math.max(0, v));
      const tip = escapeXml(s.tips?.[gi] ?? `${s.name}, ${g}: ${v}`);
      const x = gx + si * barWidth;
      out.push(
        `<rect class="bar" data-name="${escapeXml(s.name)}" x="${px(x)}" y="${px(y)}" ` +
          `width="${px(Math.max(1, barWidth - 1))}" height="${px(MARGIN.top + plotHeight - y)}" ` +
          `fill="${s.style.color}"><title>${tip}</title></rect>`,
      );
      // the series' marker near the top of the bar (above a bar too short to hold it), when the bar is wide enough
      const size = Math.min(4, (barWidth - 1) / 2 - 1.5);
      if (size >= 2) {
        const inside = MARGIN.top + plotHeight - y >= 2 * size + 6;
        out.push(
          markerSvg(
            s.style.marker,
            x + (barWidth - 1) / 2,
            inside ? y + size + 3 : y - size - 2,
            size,
            `class="bar-mark" ${BAR_MARK}`,
            s.tips?.[gi] ?? `${s.name}, ${g}: ${v}`,
          ),
        );
      }
    });
    out.push(
      `<text x="${px(MARGIN.left + (gi + 0.5) * groupWidth)}" y="${MARGIN.top + plotHeight + 16}" ` +
        `text-anchor="middle" fill="#444">${escapeXml(g)}</text>`,
    );
  });
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" ` +
      `fill="none" stroke="#999"/>`,
  );
  // labels above their lines, highest first; a label that would overlap the one above moves below its line.
  // A white halo (paint-order stroke) keeps a label legible where it crosses bars.
  let previousLabel = -Infinity;
  for (const r of refs) {
    const y = sy(r.value);
    out.push(
      `<line class="reference" data-value="${r.value}" x1="${MARGIN.left}" y1="${px(y)}" ` +
        `x2="${MARGIN.left + plotWidth}" y2="${px(y)}" stroke="#c62828" stroke-width="1.5" stroke-dasharray="5 3">` +
        `<title>${escapeXml(r.label)}</title></line>`,
    );
    const labelY = y - 5 - previousLabel < 14 ? y + 15 : y - 5;
    previousLabel = labelY;
    out.push(
      `<text class="reference-label" x="${MARGIN.left + plotWidth - 6}" y="${px(labelY)}" text-anchor="end" ` +
        `fill="#c62828" stroke="#ffffff" stroke-width="3" paint-order="stroke">${escapeXml(r.label)}</text>`,
    );
  }
  const yMid = MARGIN.top + plotHeight / 2;
  out.push(
    `<text x="16" y="${px(yMid)}" text-anchor="middle" fill="#222" transform="rotate(-90 16 ${px(yMid)})">` +
      `${escapeXml(o.yLabel)}</text>`,
  );
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
    `<svg class="chart ${kind}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${px(height)}" ` +
    `viewBox="0 0 ${width} ${px(height)}" font-family="system-ui, sans-serif" font-size="12" role="img" ` +
    `aria-label="${escapeXml(title)}">\n` +
    `<rect x="0" y="0" width="${width}" height="${px(height)}" fill="#ffffff"/>\n${body}\n</svg>`
  );
}
