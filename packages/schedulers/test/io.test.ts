import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { oneFOneB, rng, scheduleErrorOf } from './helpers.js';
import { createSimulator, resolveProblem, type Op, type Problem, type Schedule, type Timeline } from '@pprl/core-wasm';
import { scheduleFromJson, scheduleToJson } from '../src/io/json.js';
import { scheduleFromTorchCsv, scheduleToTorchCsv } from '../src/io/torch-csv.js';
import { timelineToChromeTrace, type TraceEvent } from '../src/io/chrome-trace.js';
import { escapeXml, timelineToSvg } from '../src/io/svg.js';

const sim = await createSimulator();

/** A random runnable schedule: a random topological order of all ops (backward fused or split at random) per device. */
function randomSchedule(problem: Problem, random: () => number): Schedule {
  const { stages: P, numStages: S, microBatches: M, stageDevice } = problem;
  const fused = Array.from({ length: S * M }, () => random() < 0.4);
  const devices: Op[][] = Array.from({ length: P }, () => []);
  const ready: Op[] = Array.from({ length: M }, (_, mb) => ({ kind: 'F', mb, stage: 0 }));
  const backward = (stage: number, mb: number): Op => ({ kind: fused[stage * M + mb] ? 'BW' : 'B', mb, stage });
  while (ready.length) {
    const op = ready.splice(Math.floor(random() * ready.length), 1)[0]!;
    devices[stageDevice[op.stage]!]!.push(op);
    if (op.kind === 'F')
      ready.push(op.stage + 1 < S ? { kind: 'F', mb: op.mb, stage: op.stage + 1 } : backward(op.stage, op.mb));
    else if (op.kind !== 'W') {
      if (op.kind === 'B') ready.push({ kind: 'W', mb: op.mb, stage: op.stage });
      if (op.stage > 0) ready.push(backward(op.stage - 1, op.mb));
    }
  }
  return { stages: P, chunksPerDevice: problem.chunks, placement: problem.placement, microBatches: M, devices };
}

const torchCases = JSON.parse(readFileSync(new URL('./fixtures/torch-schedules-pp4.json', import.meta.url), 'utf8'))
  .cases as Record<string, { order: (string | null)[][] }>;
const torchCsv = (name: string) =>
  torchCases[name]!.order.map((row) => row.map((c) => c ?? '').join(',')).join('\n') + '\n';

const interleaved = scheduleFromTorchCsv(torchCsv('InterleavedZeroBubble/pp4/mb8/spr2'));
const dualPipeV = scheduleFromTorchCsv(torchCsv('DualPipeV/pp4/mb8/spr2'));
const randomV = randomSchedule(resolveProblem({ stages: 3, chunks: 2, placement: 'v', microBatches: 5 }), rng(7));
const randomLoop3 = randomSchedule(
  resolveProblem({ stages: 2, chunks: 3, placement: 'loop', microBatches: 4 }),
  rng(11),
);

const samples: [string, Schedule][] = [
  ['1F1B fused', oneFOneB(4, 8)],
  ['1F1B split B/W', oneFOneB(4, 8, true)],
  ['1 device', oneFOneB(1, 3, true)],
  ['interleaved zero bubble (loop, V=2)', interleaved],
  ['DualPipeV (v, V=2, fused and split)', dualPipeV],
  ['random v, V=2', randomV],
  ['random loop, V=3', randomLoop3],
];

describe('JSON', () => {
  it('writes one line per device in torch text form', () => {
    const text = scheduleToJson(oneFOneB(2, 2));
    expect(text).toBe(
      [
        '{',
        '  "stages": 2,',
        '  "chunksPerDevice": 1,',
        '  "placement": "loop",',
        '  "microBatches": 2,',
        '  "name": "1f1b",',
        '  "devices": [',
        '    ["0F0","0F1","0B0","0B1"],',
        '    ["1F0","1B0","1F1","1B1"]',
        '  ]',
        '}',
        '',
      ].join('\n'),
    );
  });

  it.each(samples)('round-trips %s', (_, schedule) => {
    expect(scheduleFromJson(scheduleToJson(schedule))).toEqual(schedule);
  });

  it('accepts the object form, mixed with text, and defaults chunksPerDevice and placement', () => {
    const text = JSON.stringify({
      stages: 1,
      microBatches: 1,
      devices: [[{ kind: 'F', mb: 0, stage: 0 }, '0I0', { kind: 'W', mb: 0, stage: 0 }]],
    });
    expect(scheduleFromJson(text)).toEqual({
      stages: 1,
      chunksPerDevice: 1,
      placement: 'loop',
      microBatches: 1,
      devices: [
        [
          { kind: 'F', mb: 0, stage: 0 },
          { kind: 'B', mb: 0, stage: 0 },
          { kind: 'W', mb: 0, stage: 0 },
        ],
      ],
    });
  });

  const base = {
    stages: 2,
    chunksPerDevice: 1,
    placement: 'loop',
    microBatches: 2,
    devices: [
      ['0F0', '0F1'],
      ['1F0', '1F1'],
    ],
  };
  it.each<[string, unknown, RegExp]>([
    ['not JSON', '{', /not valid JSON/],
    ['not an object', [1], /expected an object/],
    ['an unknown field', { ...base, colour: 'red' }, /unknown field "colour"/],
    ['a missing field', { ...base, microBatches: undefined }, /"microBatches" is missing/],
    ['a non-integer', { ...base, stages: 1.5 }, /"stages" must be a positive integer \(got 1.5\)/],
    ['a bad placement', { ...base, placement: 'zigzag' }, /"placement" must be "loop" or "v"/],
    ['a device count mismatch', { ...base, devices: [['0F0']] }, /lists 1 devices but "stages" is 2/],
    ['a device that is not a list', { ...base, devices: [['0F0'], '1F0'] }, /device 1: expected a list of ops/],
    ['a bad action string', { ...base, devices: [['0F0'], ['1F0', '1X1']] }, /device 1, op 1: not an action: "1X1"/],
    [
      'a bad kind',
      { ...base, devices: [[{ kind: 'Q', mb: 0, stage: 0 }], []] },
      /device 0, op 0: kind must be F, B, W or BW/,
    ],
    [
      'a negative micro-batch',
      { ...base, devices: [[], [{ kind: 'F', mb: -1, stage: 1 }]] },
      /device 1, op 0: mb must be an integer >= 0/,
    ],
    [
      'an extra op field',
      { ...base, devices: [[{ kind: 'F', mb: 0, stage: 0, t: 1 }], []] },
      /device 0, op 0: unknown field "t"/,
    ],
    ['a stage out of range', { ...base, devices: [['0F0', '2F0'], []] }, /device 0, op 1 \(2F0\): stage must be < 2/],
    [
      'a micro-batch out of range',
      { ...base, devices: [['0F2'], []] },
      /device 0, op 0 \(0F2\): micro-batch must be < 2/,
    ],
  ])('rejects %s', (_, value, message) => {
    const e = scheduleErrorOf(() => scheduleFromJson(typeof value === 'string' ? value : JSON.stringify(value)));
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('\n');
  });

  it('quotes bad values short and escaped, however long or deep', () => {
    const action = scheduleErrorOf(() =>
      scheduleFromJson(JSON.stringify({ ...base, devices: [['\u001b[2J0F0' + 'y'.repeat(1000)], []] })),
    );
    expect(action.message).toMatch(/device 0, op 0: not an action: "\\u001b\[2J0F0y{73}"\.\.\. \(1007 characters\)/);
    expect(action.message).not.toMatch(/[\u0000-\u001f]/);
    // a value nested 100,000 levels deep: JSON.stringify of it would overflow the stack
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const nested = scheduleErrorOf(() => scheduleFromJson(`{"stages":1,"microBatches":1,"devices":[${deep}]}`));
    expect(nested.message).toBe(
      'schedule JSON: device 0, op 0: expected an action string such as "3F0" or {kind, mb, stage} (got [[[[...]]]])',
    );
    const name = scheduleErrorOf(() =>
      scheduleFromJson(JSON.stringify({ ...base, name: Array.from({ length: 10_000 }, (_, i) => i) })),
    );
    expect(name.message.length).toBeLessThan(160);
  });
});

describe('torch compute-only CSV', () => {
  it('writes one row per rank with torch letters (I = our B, B = our fused BW)', () => {
    expect(scheduleToTorchCsv(oneFOneB(2, 2))).toBe('0F0,0F1,0B0,0B1\n1F0,1B0,1F1,1B1\n');
    expect(scheduleToTorchCsv(oneFOneB(1, 1, true))).toBe('0F0,0I0,0W0\n');
  });

  it.each(samples)('round-trips %s', (_, schedule) => {
    const back = scheduleFromTorchCsv(
      scheduleToTorchCsv(schedule),
      schedule.name !== undefined ? { name: schedule.name } : {},
    );
    expect(back).toEqual(schedule);
  });

  it('round-trips 50 random schedules of random shapes', () => {
    const random = rng(2024);
    for (let i = 0; i < 50; i++) {
      const P = 1 + Math.floor(random() * 4);
      const V = 1 + Math.floor(random() * 3);
      const placement = V > 1 && random() < 0.5 ? 'v' : 'loop';
      const schedule = randomSchedule(
        resolveProblem({ stages: P, chunks: V, placement, microBatches: 1 + Math.floor(random() * 6) }),
        random,
      );
      // with V = 1 (or P = 1) both placements coincide and import names it loop
      if (V === 1 || P === 1) schedule.placement = 'loop';
      expect(scheduleFromTorchCsv(scheduleToTorchCsv(schedule))).toEqual(schedule);
    }
  });

  it('skips idle cells, accepts \\r\\n, whitespace and overlapped pairs (listed order)', () => {
    const s = scheduleFromTorchCsv(' 0F0 ,,(0F1;0B0)OVERLAP_F_B,0B1\r\n,1F0,1B0,,1F1,1B1\r\n');
    expect(s).toEqual({
      stages: 2,
      chunksPerDevice: 1,
      placement: 'loop',
      microBatches: 2,
      devices: [
        [
          { kind: 'F', mb: 0, stage: 0 },
          { kind: 'F', mb: 1, stage: 0 },
          { kind: 'BW', mb: 0, stage: 0 },
          { kind: 'BW', mb: 1, stage: 0 },
        ],
        [
          { kind: 'F', mb: 0, stage: 1 },
          { kind: 'BW', mb: 0, stage: 1 },
          { kind: 'F', mb: 1, stage: 1 },
          { kind: 'BW', mb: 1, stage: 1 },
        ],
      ],
    });
  });

  it('infers loop and v placement, V and M', () => {
    expect(interleaved).toMatchObject({ stages: 4, chunksPerDevice: 2, placement: 'loop', microBatches: 8 });
    expect(dualPipeV).toMatchObject({ stages: 4, chunksPerDevice: 2, placement: 'v', microBatches: 8 });
    // every op of an overlapped pair is imported: 8 stages * 8 micro-batches forwards
    expect(dualPipeV.devices.flat().filter((o) => o.kind === 'F')).toHaveLength(64);
  });

  it('lets options override the inference, and checks them', () => {
    const text = '0F0,0F1\n1F0,1F1\n';
    expect(
      scheduleFromTorchCsv(text, { microBatches: 4, chunksPerDevice: 1, stages: 2, placement: 'v', name: 'x' }),
    ).toMatchObject({
      microBatches: 4,
      placement: 'v',
      name: 'x',
    });
    // stage 2 alone on row 1 of 2: S = 3 is not a multiple of P, unless V is given
    expect(scheduleFromTorchCsv('0F0\n2F0\n', { chunksPerDevice: 2 })).toMatchObject({
      chunksPerDevice: 2,
      placement: 'v',
    });
  });

  it.each<[string, string, object, RegExp]>([
    [
      'a malformed cell',
      '0F0,0F1\n1F0,1Q1\n',
      {},
      /row 2, column 2 \(1-based; row r is rank r-1\): "1Q1" is not an action/,
    ],
    ['a communication action', '0F0,0SEND_F0\n', {}, /row 1, column 2 .*communication or sharding action/],
    ['a quoted cell', '"0F0"\n', {}, /row 1, column 1 .*quoted cells are not supported/],
    ['a broken pair', '(0F0;1B0\n', {}, /row 1, column 1 .*not an overlapped pair/],
    ['a one-action pair', '(0F0)OVERLAP_F_B\n', {}, /at least two actions/],
    ['an empty file', '', {}, /empty/],
    ['no actions', ',,\n', {}, /holds no actions/],
    ['stages not a multiple of rows', '0F0\n1F0\n2F0,4F0\n', {}, /5 stages .* not a multiple of its 3 rows/],
    [
      'a placement neither loop nor v',
      '0F0,1F0\n2F0,3F0\n',
      {},
      /fits neither loop nor v placement: 1F0 is on row 1 \(rank 0\) but stage 1 belongs to rank 1 \(loop\)/,
    ],
    [
      'a placement option that does not fit',
      '0F0,3F0\n1F0,2F0\n',
      { placement: 'loop' },
      /3F0 is on row 1 .* which loop placement does not allow/,
    ],
    ['too few micro-batches', '0F3\n', { microBatches: 2 }, /uses micro-batch 3 but 2 micro-batches/],
    ['a rank count mismatch', '0F0\n', { stages: 2 }, /has 1 rows .* but 2 stages/],
    [
      'too few chunks',
      '0F0\n2F0\n',
      { chunksPerDevice: 1 },
      /uses stage 2 but 2 ranks with 1 chunks each have stages 0..1/,
    ],
  ])('rejects %s', (_, text, opts, message) => {
    const e = scheduleErrorOf(() => scheduleFromTorchCsv(text, opts));
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('\n');
  });

  it.each<[string, string, RegExp]>([
    [
      'ESC and CR in a cell',
      '0F0,\u001b[2J\u001b[31mRED\rok\n',
      /column 2 .*: "\\u001b\[2J\\u001b\[31mRED\\rok" is not an action/,
    ],
    [
      'NUL, DEL and a C1 CSI in a cell',
      '0F0,a\u0000b\u007fc\u009bd\n',
      /column 2 .*: "a\\u0000b\\u007fc\\u009bd" is not an action/,
    ],
    [
      'a bidirectional override in a pair',
      '(0F0;\u202e1B0)OVERLAP_F_B\n',
      /column 1 .*: "\\u202e1B0" is not an action/,
    ],
    [
      'a quoted cell with ESC',
      '"\u001b]0;title\u0007"\n',
      /quoted cells are not supported \(got "\\"\\u001b\]0;title\\u0007\\""\)/,
    ],
    [
      'a long cell',
      `0F0,${'9'.repeat(100_000)}X\n`,
      /column 2 .*: "9{80}"\.\.\. \(100001 characters\) is not an action/,
    ],
  ])('quotes %s escaped and short', (_, text, message) => {
    const e = scheduleErrorOf(() => scheduleFromTorchCsv(text));
    expect(e.message).toMatch(message);
    expect(e.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(e.message.length).toBeLessThan(300);
  });
});

/** A problem with unequal costs and a comm time, and its timeline under noise (so durations are not round). */
async function noisyTimeline(): Promise<{ problem: Problem; schedule: Schedule; timeline: Timeline }> {
  const problem = resolveProblem({
    stages: 4,
    chunks: 2,
    placement: 'loop',
    microBatches: 8,
    cost: { F: 1, B: 1.5, W: 0.5 },
    comm: { time: 0.25 },
    noise: { cv: 0.2, seed: 3 },
  });
  const schedule = interleaved;
  const r = sim.replay(problem, schedule, { timelineEpisode: 0 });
  return { problem, schedule, timeline: r.timeline! };
}

describe('Chrome trace', async () => {
  const { problem, timeline } = await noisyTimeline();
  const trace = timelineToChromeTrace(problem, timeline, { name: 'interleaved-zb' });
  const parsed = JSON.parse(JSON.stringify(trace)) as { traceEvents: TraceEvent[]; displayTimeUnit: string };
  const opEvents = parsed.traceEvents.filter((e) => e.ph === 'X' && e.tid === 0);
  const commEvents = parsed.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'comm');

  it('is plain JSON in the Trace Event Format object form', () => {
    expect(parsed).toEqual(trace);
    expect(parsed.displayTimeUnit).toBe('ms');
    for (const e of parsed.traceEvents) expect(['X', 'M']).toContain(e.ph);
  });

  it('has exactly one complete event per op, with the timeline times', () => {
    expect(timeline.ops).toHaveLength(4 * 2 * 8 * 3);
    expect(opEvents).toHaveLength(timeline.ops.length);
    const byKey = new Map(opEvents.map((e) => [`${e.pid}:${e.name}`, e]));
    expect(byKey.size).toBe(opEvents.length);
    for (const o of timeline.ops) {
      const name = `${o.op.stage}${{ F: 'F', B: 'I', W: 'W', BW: 'B' }[o.op.kind]}${o.op.mb}`;
      const e = byKey.get(`${o.device}:${name}`)!;
      expect(e).toBeDefined();
      expect(e.cat).toBe(o.op.kind);
      expect(e.ts).toBe(o.start);
      expect(e.dur).toBeCloseTo(o.end - o.start, 12);
      expect(e.args).toEqual({ stage: o.op.stage, mb: o.op.mb, chunk: Math.floor(o.op.stage / 4), kind: o.op.kind });
    }
  });

  it('puts transfers on comm threads of the sending device, never overlapping on one thread', () => {
    expect(timeline.transfers.length).toBeGreaterThan(0);
    expect(commEvents).toHaveLength(timeline.transfers.length);
    for (const e of commEvents) expect(e.tid).toBeGreaterThanOrEqual(1);
    const threads = new Map<string, TraceEvent[]>();
    for (const e of commEvents) threads.set(`${e.pid}:${e.tid}`, [...(threads.get(`${e.pid}:${e.tid}`) ?? []), e]);
    for (const events of threads.values()) {
      events.sort((a, b) => a.ts! - b.ts!);
      for (let i = 1; i < events.length; i++)
        expect(events[i]!.ts!).toBeGreaterThanOrEqual(events[i - 1]!.ts! + events[i - 1]!.dur! - 1e-9);
    }
  });

  it('names every device process and every thread', () => {
    const names = parsed.traceEvents
      .filter((e) => e.ph === 'M' && e.name === 'process_name')
      .map((e) => [e.pid, e.args!.name]);
    expect(names).toEqual([0, 1, 2, 3].map((d) => [d, `device ${d}`]));
    const threads = new Set(
      parsed.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => `${e.pid}:${e.tid}`),
    );
    for (const e of [...opEvents, ...commEvents]) expect(threads.has(`${e.pid}:${e.tid}`)).toBe(true);
  });

  it('scales times', () => {
    const scaled = timelineToChromeTrace(problem, timeline, { scale: 1000 });
    const first = scaled.traceEvents.find((e) => e.ph === 'X' && e.tid === 0 && e.pid === 0 && e.name === '0F1')!;
    const o = timeline.ops.find((t) => t.device === 0 && t.op.kind === 'F' && t.op.stage === 0 && t.op.mb === 1)!;
    expect(first.ts).toBeCloseTo(o.start * 1000, 9);
    expect(first.dur).toBeCloseTo((o.end - o.start) * 1000, 9);
    expect(() => timelineToChromeTrace(problem, timeline, { scale: 0 })).toThrow(/scale must be a positive number/);
  });
});

/**
 * A strict well-formedness check for the XML this exporter writes: every tag balanced and properly nested,
 * attributes quoted and unique, text and attribute values free of raw `<` and of `&` outside an entity.
 */
function checkWellFormed(xml: string): string[] {
  const stack: string[] = [];
  const elements: string[] = [];
  const entity = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>|([^<]+)/gy;
  let pos = 0;
  for (let m = token.exec(xml); m; m = token.exec(xml)) {
    pos = token.lastIndex;
    const [, close, name, attrs, selfClose, text] = m;
    if (text !== undefined) {
      if (text.replace(entity, '').includes('&')) throw new Error(`raw & in text: ${text}`);
      continue;
    }
    if (close) {
      if (attrs || selfClose) throw new Error(`malformed closing tag </${name}>`);
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      continue;
    }
    const seen = new Set<string>();
    for (const a of attrs!.matchAll(/([\w:-]+)="([^"]*)"/g)) {
      if (seen.has(a[1]!)) throw new Error(`duplicate attribute ${a[1]} on <${name}>`);
      seen.add(a[1]!);
      if (a[2]!.includes('<') || a[2]!.replace(entity, '').includes('&'))
        throw new Error(`unescaped attribute ${a[1]}="${a[2]}"`);
    }
    if (elements.length > 0 && stack.length === 0) throw new Error(`second root element <${name}>`);
    elements.push(name!);
    if (!selfClose) stack.push(name!);
  }
  if (pos !== xml.length) throw new Error(`unparsable at ${pos}: ${xml.slice(pos, pos + 40)}`);
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return elements;
}

describe('SVG Gantt', async () => {
  const { problem, timeline } = await noisyTimeline();
  const title = 'interleaved <ZB> & "friends"';
  const svg = timelineToSvg(problem, timeline, { title, width: 1000 });

  it('the well-formedness check itself rejects broken XML', () => {
    expect(() => checkWellFormed('<svg><rect></svg>')).toThrow(/closes <rect>/);
    expect(() => checkWellFormed('<svg><text>a & b</text></svg>')).toThrow(/raw &/);
    expect(() => checkWellFormed('<svg><rect x=1/></svg>')).toThrow(/unparsable/);
    expect(() => checkWellFormed('<svg><rect x="1" x="2"/></svg>')).toThrow(/duplicate attribute/);
    expect(() => checkWellFormed('<svg></svg><svg></svg>')).toThrow(/second root/);
    expect(() => checkWellFormed('<svg><g>')).toThrow(/unclosed/);
    expect(checkWellFormed('<svg><text>a &amp; b &lt; c</text><rect x="1"/></svg>')).toEqual(['svg', 'text', 'rect']);
  });

  it('is well-formed, with a single <svg> root', () => {
    const elements = checkWellFormed(svg.trim());
    expect(elements[0]).toBe('svg');
    expect(elements.filter((e) => e === 'svg')).toHaveLength(1);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain('width="1000"');
  });

  it('has one rect per op, coloured by kind and chunk, each with a tooltip', () => {
    const rects = [
      ...svg.matchAll(
        new RegExp(
          String.raw`<rect class="op op-(\w+)" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"[^>]*fill="(#[0-9a-f]{6})"` +
            String.raw`[^>]*><title>([^<]*)<\/title><\/rect>`,
          'g',
        ),
      ),
    ];
    expect(rects).toHaveLength(timeline.ops.length);
    const colours = new Map<string, Set<string>>();
    for (const r of rects) colours.set(r[1]!, (colours.get(r[1]!) ?? new Set()).add(r[4]!));
    expect([...colours.keys()].sort()).toEqual(['B', 'F', 'W']);
    // two chunks: two shades per kind, and no colour shared between kinds
    for (const set of colours.values()) expect(set.size).toBe(2);
    expect(new Set(rects.map((r) => r[4])).size).toBe(6);
    expect(rects[0]![5]).toMatch(/^0F0: forward, stage 0 \(chunk 0\), micro-batch 0, device 0, 0 to [\d.]+$/);
  });

  it('escapes the title and draws labels, an axis and a legend', () => {
    expect(svg).toContain(`<title>${escapeXml(title)}</title>`);
    expect(escapeXml(title)).toBe('interleaved &lt;ZB&gt; &amp; &quot;friends&quot;');
    expect(svg).not.toContain('<ZB>');
    expect(
      svg.match(/text-anchor="middle" fill="#[0-9a-f]{6}" pointer-events="none">\d+<\/text>/g)!.length,
    ).toBeGreaterThan(0);
    expect(svg).toContain('>time</text>');
    expect(svg).toContain('F forward');
    expect(svg).toContain('W weight-gradient backward');
    expect(svg).not.toContain('BW fused backward');
    for (let d = 0; d < 4; d++) expect(svg).toContain(`>device ${d}</text>`);
  });

  it('draws a fused backward in its own colour and omits labels that do not fit', async () => {
    const p = resolveProblem({ stages: 2, microBatches: 12 });
    const tl = sim.replay(p, oneFOneB(2, 12), { timelineEpisode: 0 }).timeline!;
    const narrow = timelineToSvg(p, tl, { width: 200 });
    checkWellFormed(narrow.trim());
    expect(narrow).toContain('BW fused backward');
    expect(narrow.match(/<rect class="op op-BW"/g)).toHaveLength(24);
    // at 112 px for 39 time units an F is under 3 px wide: no micro-batch labels
    expect(narrow).not.toMatch(/pointer-events="none">\d+<\/text>/);
  });
});
