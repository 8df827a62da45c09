// A simulated timeline as a self-contained SVG Gantt chart: one row per device, one rect per op.
import { formatAction, type OpKind, type Problem, type Timeline } from '@pprl/core-wasm';

export interface SvgOptions {
  /** Heading drawn above the chart (and the document's <title>). */
  title?: string;
  /** Total width in pixels (default 1200). */
  width?: number;
  /** Unit of the timeline's times, named on the time axis (e.g. "µs"); default none (abstract time units). */
  timeUnit?: string;
}

const KIND_COLOR: Record<OpKind, string> = { F: '#3b78e7', B: '#00897b', W: '#43a047', BW: '#ef6c00' };
const KIND_NAME: Record<OpKind, string> = {
  F: 'forward',
  B: 'input-gradient backward',
  W: 'weight-gradient backward',
  BW: 'fused backward',
};
const KIND_ORDER: readonly OpKind[] = ['F', 'B', 'W', 'BW'];

const LEFT = 72;
const RIGHT = 16;
const ROW = 24;
const GAP = 6;
const CHAR_WIDTH = 6.5; // approximate advance of an 11px sans-serif digit

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Rounds pixel coordinates so the file stays small and stable. */
const px = (x: number) => String(Math.round(x * 100) / 100);

/** `#rrggbb` mixed with white by `amount` in [0, 1]. */
function lighten(hex: string, amount: number): string {
  const n = parseInt(hex.slice(1), 16);
  const mix = (c: number) => Math.round(c + (255 - c) * amount);
  const [r, g, b] = [mix(n >> 16), mix((n >> 8) & 255), mix(n & 255)];
  return `#${((r << 16) | (g << 8) | b).toString(16).padStart(6, '0')}`;
}

function isLight(hex: string): boolean {
  const n = parseInt(hex.slice(1), 16);
  return 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255) > 150;
}

/** Colour of an op: its kind's hue, lighter for later chunks (chunk V-1 is 45% lighter than chunk 0). */
function opColor(kind: OpKind, chunk: number, V: number): string {
  return V > 1 ? lighten(KIND_COLOR[kind], (0.45 * chunk) / (V - 1)) : KIND_COLOR[kind];
}

/** A tick step of 1, 2 or 5 times a power of ten giving at most about `target` ticks over `range`. */
function tickStep(range: number, target = 10): number {
  const raw = range / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

/** Formats a time value without floating-point noise (e.g. 0.30000000000000004 -> 0.3). */
const num = (x: number) => String(Number(x.toPrecision(6)));

/**
 * The timeline as an SVG Gantt chart: device rows, a rect per op coloured by kind (F, B, W, BW; later chunks
 * lighter) with a <title> tooltip, the micro-batch number inside rects wide enough, a time axis and a legend.
 */
export function timelineToSvg(problem: Problem, timeline: Timeline, opts: SvgOptions = {}): string {
  const width = opts.width ?? 1200;
  if (!(width >= LEFT + RIGHT + 50) || !Number.isFinite(width))
    throw new RangeError(`width must be at least ${LEFT + RIGHT + 50} pixels (got ${width})`);
  const { stages: P, chunks: V } = problem;
  const makespan = timeline.ops.reduce((t, o) => Math.max(t, o.end), 0);
  const T = makespan > 0 ? makespan : 1;
  const sx = (width - LEFT - RIGHT) / T;
  const top = opts.title !== undefined ? 34 : 10;
  const rowsBottom = top + P * (ROW + GAP);
  const axisY = rowsBottom + 2;
  const legendY = axisY + 34;
  const height = legendY + 26;
  const x = (t: number) => LEFT + t * sx;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      'font-family="sans-serif" font-size="11">',
  );
  if (opts.title !== undefined) out.push(`<title>${escapeXml(opts.title)}</title>`);
  // an opaque background keeps the chart readable in dark-themed viewers
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  if (opts.title !== undefined) {
    out.push(`<text x="${LEFT}" y="22" font-size="15" font-weight="bold">${escapeXml(opts.title)}</text>`);
  }

  for (let d = 0; d < P; d++) {
    const y = top + d * (ROW + GAP);
    out.push(`<rect x="${LEFT}" y="${y}" width="${px(T * sx)}" height="${ROW}" fill="#f3f3f3"/>`);
    out.push(`<text x="${LEFT - 8}" y="${px(y + ROW / 2 + 4)}" text-anchor="end">device ${d}</text>`);
  }

  const kinds = new Set<OpKind>();
  for (const { device, op, start, end } of timeline.ops) {
    kinds.add(op.kind);
    const chunk = Math.floor(op.stage / P);
    const fill = opColor(op.kind, chunk, V);
    const y = top + device * (ROW + GAP);
    const w = (end - start) * sx;
    const tip =
      `${formatAction(op)}: ${KIND_NAME[op.kind]}, stage ${op.stage} (chunk ${chunk}), ` +
      `micro-batch ${op.mb}, device ${device}, ${num(start)} to ${num(end)}`;
    out.push(
      `<rect class="op op-${op.kind}" x="${px(x(start))}" y="${y}" width="${px(w)}" height="${ROW}" fill="${fill}" ` +
        `stroke="#ffffff" stroke-width="0.5"><title>${escapeXml(tip)}</title></rect>`,
    );
    const label = String(op.mb);
    if (w >= label.length * CHAR_WIDTH + 4)
      out.push(
        `<text x="${px(x(start) + w / 2)}" y="${px(y + ROW / 2 + 4)}" text-anchor="middle" ` +
          `fill="${isLight(fill) ? '#1a1a1a' : '#ffffff'}" pointer-events="none">${label}</text>`,
      );
  }

  // time axis
  out.push(`<line x1="${LEFT}" y1="${axisY}" x2="${px(x(T))}" y2="${axisY}" stroke="#555555"/>`);
  const step = tickStep(T);
  for (let i = 0; i * step <= T * (1 + 1e-9); i++) {
    const t = i * step;
    out.push(`<line x1="${px(x(t))}" y1="${axisY}" x2="${px(x(t))}" y2="${axisY + 4}" stroke="#555555"/>`);
    out.push(`<text x="${px(x(t))}" y="${axisY + 16}" text-anchor="middle" fill="#333333">${num(t)}</text>`);
  }
  out.push(
    `<text x="${LEFT - 8}" y="${axisY + 16}" text-anchor="end" fill="#333333">` +
      `${escapeXml(opts.timeUnit ? `time (${opts.timeUnit})` : 'time')}</text>`,
  );

  // legend: the kinds present, in a fixed order
  let lx = LEFT;
  for (const kind of KIND_ORDER) {
    if (!kinds.has(kind)) continue;
    const text = `${kind} ${KIND_NAME[kind]}`;
    out.push(`<rect x="${lx}" y="${legendY - 10}" width="12" height="12" fill="${KIND_COLOR[kind]}"/>`);
    out.push(`<text x="${lx + 16}" y="${legendY}">${escapeXml(text)}</text>`);
    lx += 16 + text.length * CHAR_WIDTH + 14;
  }
  if (V > 1)
    out.push(
      `<text x="${lx}" y="${legendY}" fill="#555555">lighter shade: later chunk (chunk ${V - 1} lightest)</text>`,
    );
  out.push('</svg>');
  return out.join('\n') + '\n';
}
