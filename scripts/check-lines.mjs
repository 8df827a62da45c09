// Fails when a line of code is longer than 120 characters (the formatter wraps code, but not comments or strings).
// Checks the files git tracks or would track (not ignored): TypeScript, AssemblyScript, JavaScript and shell.
// Usage: node scripts/check-lines.mjs [--max N]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const at = process.argv.indexOf('--max');
const max = at >= 0 ? Number(process.argv[at + 1]) : 120;
const CODE = /\.(ts|mts|cts|js|mjs|cjs|sh)$/;

const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
  encoding: 'utf8',
});
const files = [...new Set(listed.split('\0'))].filter((f) => CODE.test(f));
let long = 0;
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    continue; // deleted in the working tree
  }
  text.split('\n').forEach((line, i) => {
    if (line.length > max) {
      long++;
      console.log(`${file}:${i + 1}: ${line.length} characters (at most ${max})`);
    }
  });
}
console.log(long === 0 ? `lines: ${files.length} files, none over ${max} characters` : `lines: ${long} over ${max}`);
process.exit(long === 0 ? 0 : 1);
