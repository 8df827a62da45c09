// Entry of a bench worker thread (started by src/threads.ts): it holds one timed workload on its own WebAssembly
// instance, times it on request, and runs quality jobs. One request at a time, one reply each.
import { parentPort } from 'node:worker_threads';
import { createSimulator, type Simulator } from '@pprl/core-wasm';
import { timeRate, type TimedBatch } from './measure.js';
import { envRolloutBatch } from './suites/env.js';
import { loadUpstreamCases, runQualityJob, type UpstreamCase } from './suites/quality.js';
import { wasmReplayBatch } from './suites/replay.js';
import type { WorkerReply, WorkerRequest } from './threads.js';

const port = parentPort;
if (!port) throw new Error('src/worker.ts runs as a worker thread only');

let workload: TimedBatch | undefined;
let quality: { sim: Simulator; cases: UpstreamCase[] } | undefined;

async function handle(req: WorkerRequest): Promise<WorkerReply> {
  switch (req.type) {
    case 'setup': {
      workload?.dispose();
      workload = undefined;
      const w = req.workload;
      workload = w.suite === 'replay' ? await wasmReplayBatch() : await envRolloutBatch(w.policy, w.envs);
      return { type: 'ready' };
    }
    case 'time': {
      if (!workload) throw new Error('time before setup');
      return { type: 'rate', perSecond: timeRate(workload.run, req.seconds) };
    }
    case 'job': {
      quality ??= { sim: await createSimulator(), cases: loadUpstreamCases().cases };
      return { type: 'result', value: runQualityJob(quality.sim, quality.cases, req.job) };
    }
  }
}

port.on('message', (req: WorkerRequest) => {
  handle(req).then(
    (reply) => port.postMessage(reply),
    (e: unknown) => {
      const error = e instanceof Error ? e : new Error(String(e));
      port.postMessage({
        type: 'error',
        message: error.message,
        ...(error.stack ? { stack: error.stack } : {}),
      } satisfies WorkerReply);
    },
  );
});
