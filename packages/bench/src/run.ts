// `pnpm bench` in this package: every suite at full length, JSON to stdout (`--quick`, `--threads N` as in the CLI).
import { runEnvBench } from './suites/env.js';
import { runQualityBench } from './suites/quality.js';
import { runReplayBench } from './suites/replay.js';
import { runScaleBench } from './suites/scale.js';
import { runTrainBench } from './suites/train.js';

const quick = process.argv.includes('--quick');
const at = process.argv.indexOf('--threads');
const threads = at >= 0 ? Number(process.argv[at + 1]) : undefined;
const opts = { quick, ...(threads !== undefined ? { threads } : {}) };
console.log(
  JSON.stringify(
    {
      replay: await runReplayBench(opts),
      env: await runEnvBench(opts),
      quality: await runQualityBench(opts),
      scale: await runScaleBench({ quick }),
      train: await runTrainBench({ quick }),
    },
    null,
    2,
  ),
);
