// `pnpm bench` in this package: every suite at full length, JSON to stdout.
import { runEnvBench } from './suites/env.js';
import { runQualityBench } from './suites/quality.js';
import { runReplayBench } from './suites/replay.js';
import { runScaleBench } from './suites/scale.js';

const quick = process.argv.includes('--quick');
console.log(JSON.stringify({ replay: await runReplayBench({ quick }), env: await runEnvBench({ quick }), quality: await runQualityBench({ quick }), scale: await runScaleBench({ quick }) }, null, 2));
