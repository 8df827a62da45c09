// `pnpm bench` in this package: every suite at full length, JSON to stdout.
import { runEnvBench } from './suites/env.js';
import { runReplayBench } from './suites/replay.js';

const quick = process.argv.includes('--quick');
console.log(JSON.stringify({ replay: await runReplayBench({ quick }), env: await runEnvBench({ quick }) }, null, 2));
