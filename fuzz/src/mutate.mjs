// Mutations of structured inputs: a JSON value mutated in its tree (fields removed, wrong types, out-of-range
// values, unknown keys, deep nesting, reordered and duplicated elements), then its text mutated byte by byte
// (truncation, random bytes, CR, ESC, NUL, a BOM). The arbitraries draw plain numbers (the "genes") and the
// mutation is applied deterministically, so a case is a pure function of its seed.
import fc from 'fast-check';
import { CONTROL_STRINGS, UNICODE_STRINGS } from './values.mjs';

/** Values that replace a field: every JSON type, range edges, odd strings, prototype keys. */
export const GARBAGE_VALUES = [
  null,
  true,
  false,
  0,
  -0,
  -1,
  1,
  0.5,
  1.5,
  -1.5,
  1e308,
  -1e308,
  5e-324,
  2 ** 53 + 2,
  4294967296,
  1e21,
  '',
  ' ',
  'x',
  '1',
  'NaN',
  'Infinity',
  'null',
  '0x10',
  ...CONTROL_STRINGS.slice(0, 4),
  ...UNICODE_STRINGS.slice(0, 4),
  'a'.repeat(5000),
  [],
  [null],
  [1, 'x', null],
  {},
  { '': null },
  { __proto__: null, polluted: true },
  { constructor: { prototype: { polluted: true } } },
];

/**
 * `{"__proto__": ...}` as JSON text carries an own `__proto__` key through JSON.parse: keep it in the mutated object.
 */
function protoObject() {
  return JSON.parse('{"__proto__": {"polluted": true}}');
}

/** Every path of a JSON tree, the root first. */
export function pathsOf(value, at = [], out = []) {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...at, i], out));
  else if (value && typeof value === 'object') for (const k of Object.keys(value)) pathsOf(value[k], [...at, k], out);
  return out;
}

function getAt(root, path) {
  return path.reduce((v, k) => (v == null ? undefined : v[k]), root);
}

/** Sets (or with `undefined`, deletes) the value at a path; returns the new root. */
function setAt(root, path, value) {
  if (path.length === 0) return value;
  const parent = getAt(root, path.slice(0, -1));
  const key = path[path.length - 1];
  if (parent == null || typeof parent !== 'object') return root;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(key, 1);
    else delete parent[key];
  } else Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
  return root;
}

/**
 * Deep nesting is written into the text at serialization (a marker string stands for it in the tree), so that the
 * harness's own recursive walks never meet it.
 */
const deepMarker = (depth, kind) => `@@DEEP:${depth}:${kind}@@`;
const DEEP_RE = /"?@@DEEP:(\d+):(array|object)@@"?/g;

/** Text of a value nested `depth` levels deep in JSON (and YAML flow) arrays or objects. */
export function deeplyNestedText(depth, kind = 'array') {
  return kind === 'array'
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Replaces the deep-nesting markers of a serialized tree by the nesting itself. */
export function expandDeep(text) {
  return text.replace(DEEP_RE, (_, depth, kind) => deeplyNestedText(Number(depth), kind));
}

export const TREE_OPS = [
  'delete',
  'set',
  'set',
  'set',
  'wrongType',
  'dupItem',
  'dropItem',
  'swapItems',
  'unknownKey',
  'deepNest',
  'wrapArray',
  'stringify',
  'negate',
  'scale',
  'fraction',
  'empty',
  'proto',
];

/** One tree mutation: which path (an index into pathsOf), which operation, which garbage value, a number. */
export const treeGene = fc.record({
  at: fc.nat(),
  op: fc.constantFrom(...TREE_OPS),
  value: fc.nat(GARBAGE_VALUES.length - 1),
  n: fc.nat(1000),
});

/** Applies tree mutations to a deep copy of `value`. `protect(path)` keeps a path from being chosen. */
export function applyTreeGenes(value, genes, protect = () => false) {
  let root = structuredClone(value);
  for (const g of genes) {
    const paths = pathsOf(root).filter((p) => !protect(p));
    if (paths.length === 0) break;
    const path = paths[g.at % paths.length];
    const cur = getAt(root, path);
    const garbage = structuredClone(GARBAGE_VALUES[g.value]);
    switch (g.op) {
      case 'delete':
        root = path.length ? setAt(root, path, undefined) : root;
        break;
      case 'set':
        root = setAt(root, path, garbage);
        break;
      case 'wrongType':
        root = setAt(
          root,
          path,
          typeof cur === 'number'
            ? String(cur)
            : typeof cur === 'string'
              ? Number(cur.length)
              : Array.isArray(cur)
                ? { ...cur }
                : cur && typeof cur === 'object'
                  ? Object.values(cur)
                  : [cur],
        );
        break;
      case 'dupItem':
        if (Array.isArray(cur) && cur.length) cur.splice(g.n % cur.length, 0, structuredClone(cur[g.n % cur.length]));
        break;
      case 'dropItem':
        if (Array.isArray(cur) && cur.length) cur.splice(g.n % cur.length, 1);
        break;
      case 'swapItems':
        if (Array.isArray(cur) && cur.length > 1) {
          const i = g.n % cur.length;
          const j = (i + 1 + (g.n % (cur.length - 1))) % cur.length;
          [cur[i], cur[j]] = [cur[j], cur[i]];
        }
        break;
      case 'unknownKey':
        if (cur && typeof cur === 'object' && !Array.isArray(cur))
          cur[['extra', 'Stages', 'stages ', 'ünknown', '', 'constructor', 'toString', 'hasOwnProperty'][g.n % 8]] =
            garbage;
        break;
      case 'deepNest':
        root = setAt(root, path, deepMarker([50, 1000, 5000, 20000][g.n % 4], g.n % 2 ? 'array' : 'object'));
        break;
      case 'wrapArray':
        root = setAt(root, path, [cur]);
        break;
      case 'stringify':
        root = setAt(root, path, JSON.stringify(cur) ?? 'undefined');
        break;
      case 'negate':
        if (typeof cur === 'number') root = setAt(root, path, -cur || -1);
        break;
      case 'scale':
        if (typeof cur === 'number') root = setAt(root, path, cur * [10, 1000, 1e6, 1e300][g.n % 4]);
        break;
      case 'fraction':
        if (typeof cur === 'number') root = setAt(root, path, cur + 0.5);
        break;
      case 'empty':
        root = setAt(root, path, Array.isArray(cur) ? [] : cur && typeof cur === 'object' ? {} : '');
        break;
      case 'proto':
        if (cur && typeof cur === 'object' && !Array.isArray(cur)) Object.assign(cur, protoObject());
        else root = setAt(root, path, protoObject());
        break;
    }
  }
  return root;
}

export const BYTE_OPS = [
  'truncate',
  'insertByte',
  'replaceByte',
  'crlf',
  'cr',
  'esc',
  'nul',
  'bom',
  'appendGarbage',
  'dropChar',
  'dupLine',
  'bigWhitespace',
  'invalidUtf8',
];

/** One byte-level mutation of a text. */
export const byteGene = fc.record({ op: fc.constantFrom(...BYTE_OPS), at: fc.nat(), byte: fc.nat(255) });

/** Applies byte-level mutations; returns a Buffer. */
export function applyByteGenes(text, genes) {
  let b = Buffer.from(text, 'utf8');
  for (const g of genes) {
    const i = b.length ? g.at % (b.length + 1) : 0;
    const ins = (bytes) => (b = Buffer.concat([b.subarray(0, i), Buffer.from(bytes), b.subarray(i)]));
    switch (g.op) {
      case 'truncate':
        b = b.subarray(0, i);
        break;
      case 'insertByte':
        ins([g.byte]);
        break;
      case 'replaceByte':
        if (b.length) b[i % b.length] = g.byte;
        break;
      case 'crlf':
        b = Buffer.from(b.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
        break;
      case 'cr':
        ins([13]);
        break;
      case 'esc':
        ins([27, 91, 51, 49, 109]);
        break;
      case 'nul':
        ins([0]);
        break;
      case 'bom':
        b = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b]);
        break;
      case 'appendGarbage':
        b = Buffer.concat([b, Buffer.from(' }]garbage\n')]);
        break;
      case 'dropChar':
        if (b.length) b = Buffer.concat([b.subarray(0, i % b.length), b.subarray((i % b.length) + 1)]);
        break;
      case 'dupLine': {
        const lines = b.toString('latin1').split('\n');
        const k = g.at % lines.length;
        lines.splice(k, 0, lines[k]);
        b = Buffer.from(lines.join('\n'), 'latin1');
        break;
      }
      case 'bigWhitespace':
        ins(Buffer.alloc(20000, 32));
        break;
      case 'invalidUtf8':
        ins([0xc3, 0x28, 0xff, 0xfe]);
        break;
    }
  }
  return b;
}

/** Serializes a mutated JSON value (undefined, from deleting the root, becomes an empty file). */
export function jsonText(value, indent) {
  return value === undefined ? '' : expandDeep(JSON.stringify(value, null, indent) ?? '');
}

/** Random bytes, sometimes only printable ASCII. */
export const randomBytes = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 512 }),
  fc.string({ unit: 'binary-ascii', maxLength: 512 }).map((s) => Buffer.from(s, 'latin1')),
  fc.string({ unit: 'grapheme', maxLength: 200 }).map((s) => Buffer.from(s, 'utf8')),
);
