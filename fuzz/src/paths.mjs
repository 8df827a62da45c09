// Path arguments. Every path a case names lives in its own case directory, written `$CASE/...` in the argv and
// replaced by the worker with the absolute directory (worker threads cannot chdir, so nothing may depend on the
// working directory). A few paths are relative or empty on purpose: the pool runs in a scratch working directory,
// so what they create lands there, never in the repository.
import fc from 'fast-check';
import { CONTROL_STRINGS, UNICODE_STRINGS } from './values.mjs';

export const CASE = '$CASE';

/** A `write` file operation (text, or bytes as base64). */
export const writeText = (path, text) => ({ op: 'write', path, text });
export const writeBytes = (path, bytes) => ({ op: 'write', path, base64: Buffer.from(bytes).toString('base64') });

const odd = fc.constantFrom(
  'out dir',
  'ünï',
  '日本',
  ...CONTROL_STRINGS.slice(0, 4).map((s) => s.replace(/\n/g, '')),
  '-rf',
  '.hidden',
  'x'.repeat(300),
);

/**
 * Where a command writes (`--out`, `--out-dir`): `{ value, files }`, mostly a fresh path in the case directory,
 * sometimes one that cannot be written (below a file, a name too long, an existing file where a directory goes,
 * an existing directory where a file goes, empty) or a relative one.
 * @param {string} name file or directory name of the ordinary case
 */
export function outPath(name) {
  return fc.oneof(
    { arbitrary: fc.constant({ value: `${CASE}/${name}`, files: [] }), weight: 70 },
    { arbitrary: fc.constant({ value: `${CASE}/new/deeper/${name}`, files: [] }), weight: 4 },
    {
      arbitrary: fc.constant({ value: `${CASE}/a-file/${name}`, files: [writeText('a-file', 'not a directory\n')] }),
      weight: 4,
    },
    { arbitrary: fc.constant({ value: `${CASE}/${name}`, files: [writeText(name, 'already here\n')] }), weight: 4 },
    {
      arbitrary: fc.constant({
        value: `${CASE}/${name}`,
        files: [{ op: 'mkdir', path: name }, writeText(`${name}/other.txt`, 'x\n')],
      }),
      weight: 4,
    },
    { arbitrary: odd.map((n) => ({ value: `${CASE}/${n}`, files: [] })), weight: 6 },
    { arbitrary: fc.constant({ value: '', files: [] }), weight: 2 },
    { arbitrary: fc.constantFrom('rel-out', 'rel dir/x', '.').map((v) => ({ value: v, files: [] })), weight: 2 },
    { arbitrary: fc.constant({ value: `${CASE}/`, files: [] }), weight: 2 },
    {
      arbitrary: fc.constant({ value: `${CASE}/sym`, files: [{ op: 'symlink', path: 'sym', target: 'sym' }] }),
      weight: 2,
    },
  );
}

/**
 * A file a command reads (`--profile`, `--config`): the given good file most of the time (its `files` already hold
 * it), else a missing file, a directory, an empty file, a self-referencing symlink, an odd name.
 */
export function inPath(good) {
  return fc.oneof(
    { arbitrary: fc.constant(good), weight: 80 },
    { arbitrary: fc.constant({ value: `${CASE}/missing.json`, files: [] }), weight: 4 },
    {
      arbitrary: fc.constant({ value: `${CASE}/a-dir.json`, files: [{ op: 'mkdir', path: 'a-dir.json' }] }),
      weight: 4,
    },
    { arbitrary: fc.constant({ value: `${CASE}/empty.json`, files: [writeText('empty.json', '')] }), weight: 4 },
    {
      arbitrary: fc.constant({
        value: `${CASE}/loop.json`,
        files: [{ op: 'symlink', path: 'loop.json', target: 'loop.json' }],
      }),
      weight: 2,
    },
    {
      arbitrary: fc
        .constantFrom(...UNICODE_STRINGS.slice(0, 3), ...CONTROL_STRINGS.slice(0, 2), '', '-')
        .map((v) => ({ value: v, files: [] })),
      weight: 4,
    },
    { arbitrary: fc.constant({ value: '/dev/null', files: [] }), weight: 2 },
  );
}
