// Fails when a README or docs page cites a file that a clone does not have: markdown links to local paths and
// `code spans` that look like repository paths (a slash and a file ending, or a top-level folder of this repository).
// A path may be relative to the page, to its package, or to the repository root. Generated outputs the README tells
// the user to create (runs/, report/, ...) are listed in GENERATED.
// Also fails on any mention of DESIGN.md (the design note is not part of the repository; docs/SEMANTICS.md is).
// Usage: node scripts/check-links.mjs
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

/** Folders and files that commands write, which a page may name before they exist. */
const GENERATED = [
  /^(runs|sweeps|report|bench-results|pprl-report|docs\/api|out)(\/|$)/,
  /(^|\/)(dist|build|node_modules)\//,
  /\.(svg|csv|html|json|jsonl|bin|tgz)$/,
];
/** A path with a folder and a file ending, or anything below one of the repository's top-level folders. */
const FILE_PATH = /^(\.{0,2}\/)?([\w.@-]+\/)+[\w.@-]+\.(ts|mjs|js|md|json|yaml|yml|sh|wasm|wat)$/;
const TOP_FOLDER = /^(packages|docs|scripts|e2e|fuzz)\/[\w./@-]*$/;
const pathLike = (s) => FILE_PATH.test(s) || TOP_FOLDER.test(s);

const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
  encoding: 'utf8',
});
const pages = listed.split('\0').filter((f) => f.endsWith('.md'));
const missing = [];
for (const page of pages) {
  const text = readFileSync(page, 'utf8');
  const pkg = page.match(/^(packages\/[^/]+|e2e|fuzz)\//)?.[1];
  const cited = new Set();
  for (const m of text.matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)) if (!/^[a-z]+:/.test(m[1])) cited.add(m[1]);
  for (const m of text.matchAll(/`([^`\s]+)`/g)) if (pathLike(m[1])) cited.add(m[1]);
  for (const path of cited) {
    const clean = path.replace(/[:,.]+$/, '');
    const bases = [dirname(page), '.', ...(pkg ? [pkg] : [])];
    if (bases.some((b) => existsSync(normalize(join(b, clean))))) continue;
    if (GENERATED.some((re) => re.test(normalize(clean)))) continue;
    missing.push(`${page}: cites ${path}, which is not in the repository`);
  }
}
// the design note the project started from is not part of the repository: nothing may send a reader to it
const SOURCES = /\.(ts|mjs|js|md|sh|json|yaml|yml)$/;
for (const file of listed.split('\0').filter((f) => SOURCES.test(f) && f !== 'scripts/check-links.mjs')) {
  if (!existsSync(file)) continue;
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.includes('DESIGN.md')) missing.push(`${file}:${i + 1}: cites DESIGN.md, which is not in the repository`);
    });
}
for (const line of missing) console.log(line);
console.log(
  missing.length ? `links: ${missing.length} missing` : `links: ${pages.length} pages, every cited file exists`,
);
process.exit(missing.length ? 1 : 0);
