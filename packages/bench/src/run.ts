// `pnpm bench` in this package: every suite at full length, JSON to stdout.
import { runReplayBench } from './suites/replay.js';

const quick = process.argv.includes('--quick');
console.log(JSON.stringify({ replay: await runReplayBench({ quick }) }, null, 2));
