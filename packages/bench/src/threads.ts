// Worker threads for the suites: a pool of `node:worker_threads` workers, each with its own WebAssembly instance
// (src/worker.ts). Throughput is measured by timing the same workload in t workers at once and summing their
// rates over the shared wall-clock window; jobs (quality) are split across the workers and reassembled in order.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { rateOf, type Rate } from './measure.js';
import type { EnvPolicyName } from './suites/env.js';
import type { QualityJob, QualityJobResult } from './suites/quality.js';

/** The most workers a suite starts (`--threads` is checked against it). */
export const MAX_THREADS = 64;

/** A workload that a worker sets up once and then times on request. */
export type ThroughputWorkload = { suite: 'replay' } | { suite: 'env'; envs: number; policy: EnvPolicyName };

export type WorkerRequest =
  | { type: 'setup'; workload: ThroughputWorkload }
  | { type: 'time'; seconds: number }
  | { type: 'job'; job: QualityJob };

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'rate'; perSecond: number }
  | { type: 'result'; value: QualityJobResult }
  | { type: 'error'; message: string; stack?: string };

/** Aggregate throughput of t threads running the same workload at once. */
export interface ThreadPoint {
  threads: number;
  /** Sum of the workers' rates (units per second) per repetition: median, min, max. */
  rate: Rate;
  /** rate.median / rate.median at 1 thread. */
  speedup: number;
  /** speedup / threads. */
  efficiency: number;
  /**
   * Median CPU time the process got per thread and wall second during the windows: about 1 when every thread had
   * a core to itself; lower when other work on the machine took part of the cores.
   */
  cpuShare?: number;
}

/** Wall time of the same jobs split across t threads. */
export interface ThreadTiming {
  threads: number;
  /** Seconds per repetition: median, min, max. */
  seconds: Rate;
  /** seconds.median at 1 thread / seconds.median. */
  speedup: number;
  /** Median CPU time per thread and wall second (as ThreadPoint.cpuShare). */
  cpuShare?: number;
}

/**
 * The compiled worker beside this module. Under vitest this module runs from src/ (TypeScript), where no worker.js
 * exists, so the build's copy in dist/ is used instead (the package is built before its tests).
 */
function workerUrl(): URL {
  const beside = new URL('./worker.js', import.meta.url);
  return existsSync(fileURLToPath(beside)) ? beside : new URL('../dist/worker.js', import.meta.url);
}

/** One worker, answering one request at a time. */
class PoolWorker {
  private queue: Promise<unknown> = Promise.resolve();
  private failure: Error | undefined;
  private pending: ((reply: WorkerReply) => void) | undefined;
  private reject: ((e: Error) => void) | undefined;

  constructor(private readonly worker: Worker) {
    worker.on('message', (reply: WorkerReply) => this.pending?.(reply));
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => this.fail(new Error(`bench worker exited with code ${code}`)));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.reject?.(e);
  }

  request(req: WorkerRequest): Promise<WorkerReply> {
    const next = this.queue.then(
      () =>
        new Promise<WorkerReply>((resolve, reject) => {
          if (this.failure) return reject(this.failure);
          this.reject = reject;
          this.pending = (reply) => {
            this.pending = undefined;
            this.reject = undefined;
            if (reply.type === 'error') {
              const e = new Error(`bench worker: ${reply.message}`);
              if (reply.stack) e.stack = reply.stack;
              reject(e);
            } else resolve(reply);
          };
          this.worker.postMessage(req);
        }),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  async terminate(): Promise<void> {
    this.failure ??= new Error('bench worker terminated');
    await this.worker.terminate();
  }
}

/** A fixed set of workers; `close()` ends them. */
export class WorkerPool {
  private constructor(private readonly workers: PoolWorker[]) {}

  static start(size: number): WorkerPool {
    checkThreads(size);
    const url = workerUrl();
    return new WorkerPool(Array.from({ length: size }, () => new PoolWorker(new Worker(url))));
  }

  get size(): number {
    return this.workers.length;
  }

  /** Every worker sets up `workload` (its previous one is disposed). */
  async setup(workload: ThroughputWorkload): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request({ type: 'setup', workload })));
  }

  /**
   * The first `threads` workers time their workload for `seconds`, all at once; returns the sum of their rates and
   * the CPU share per thread (this thread only waits meanwhile, so the process's CPU time is the workers').
   */
  async time(threads: number, seconds: number): Promise<{ rate: number; cpuShare: number }> {
    const share = cpuMeter(threads);
    const replies = await Promise.all(this.workers.slice(0, threads).map((w) => w.request({ type: 'time', seconds })));
    return { rate: replies.reduce((sum, r) => sum + (r.type === 'rate' ? r.perSecond : 0), 0), cpuShare: share() };
  }

  /** Runs `jobs` on the first `threads` workers, each taking the next job when free; results in job order. */
  async run(jobs: readonly QualityJob[], threads: number): Promise<QualityJobResult[]> {
    const results: QualityJobResult[] = new Array(jobs.length);
    let next = 0;
    const drain = async (w: PoolWorker) => {
      while (next < jobs.length) {
        const i = next++;
        const reply = await w.request({ type: 'job', job: jobs[i]! });
        if (reply.type !== 'result') throw new Error(`bench worker answered a job with ${reply.type}`);
        results[i] = reply.value;
      }
    };
    await Promise.all(this.workers.slice(0, threads).map(drain));
    return results;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Starts measuring; the returned function gives the process's CPU seconds per wall second and per thread since. */
export function cpuMeter(threads: number): () => number {
  const cpu = process.cpuUsage();
  const start = performance.now();
  return () => {
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / 1e6 / ((performance.now() - start) / 1000) / threads;
  };
}

/** Throws a RangeError unless `threads` is an integer in [1, MAX_THREADS]. */
export function checkThreads(threads: number): void {
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= MAX_THREADS))
    throw new RangeError(`threads must be an integer in [1, ${MAX_THREADS}] (got ${threads})`);
}

/**
 * Throughput of `workload` at 1..maxThreads threads: a warm-up in every worker, then repetitions that alternate
 * the thread counts, so that machine noise hits every count alike.
 */
export async function measureThreadScaling(
  workload: ThroughputWorkload,
  maxThreads: number,
  seconds: number,
  repetitions: number,
): Promise<ThreadPoint[]> {
  const pool = WorkerPool.start(maxThreads);
  try {
    await pool.setup(workload);
    await pool.time(maxThreads, seconds / 2);
    const samples: number[][] = Array.from({ length: maxThreads }, () => []);
    const shares: number[][] = Array.from({ length: maxThreads }, () => []);
    for (let r = 0; r < repetitions; r++)
      for (let t = 1; t <= maxThreads; t++) {
        const { rate, cpuShare } = await pool.time(t, seconds);
        samples[t - 1]!.push(rate);
        shares[t - 1]!.push(cpuShare);
      }
    return scalingPoints(samples, shares);
  } finally {
    await pool.close();
  }
}

/** Points from per-thread-count rate samples (index t - 1), with the CPU shares measured beside them if given. */
export function scalingPoints(samples: number[][], cpuShares?: number[][]): ThreadPoint[] {
  const rates = samples.map((s) => rateOf(s));
  const base = rates[0]!.median;
  return rates.map((rate, i) => {
    const speedup = rate.median / base;
    const shares = cpuShares?.[i];
    return {
      threads: i + 1,
      rate,
      speedup,
      efficiency: speedup / (i + 1),
      ...(shares?.length ? { cpuShare: rateOf(shares).median } : {}),
    };
  });
}
