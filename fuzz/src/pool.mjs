// A pool of fuzz workers (worker.mjs). Each worker runs one case at a time; a case that overruns the time limit has
// its worker terminated (and replaced) and is reported as a hang; a worker that dies (out of memory, a fatal
// error, process.exit) is replaced and its case reported with what killed it.
import { Worker } from 'node:worker_threads';

const WORKER = new URL('./worker.mjs', import.meta.url);

export class Pool {
  /**
   * @param {{ size: number, timeLimitMs: number | ((c: object) => number), workerData: object, heapMb?: number }} o
   * `timeLimitMs` may be a function of the case.
   */
  constructor(o) {
    this.o = o;
    this.replaced = 0;
  }

  /**
   * Runs every case that `next()` gives (undefined when there are no more) and calls `onResult(case, result)` for
   * each, in completion order. Resolves when all are done.
   */
  run(next, onResult) {
    return new Promise((resolve, reject) => {
      let running = 0;
      let exhausted = false;
      const slots = [];
      const finish = () => {
        if (exhausted && running === 0) {
          for (const s of slots) if (s.worker) s.worker.terminate();
          resolve();
        }
      };
      const dispatch = (slot) => {
        if (exhausted) return finish();
        let c;
        try {
          c = next();
        } catch (e) {
          exhausted = true;
          return reject(e);
        }
        if (c === undefined) {
          exhausted = true;
          return finish();
        }
        running++;
        slot.case = c;
        slot.started = Date.now();
        const limit = typeof this.o.timeLimitMs === 'function' ? this.o.timeLimitMs(c) : this.o.timeLimitMs;
        slot.timer = setTimeout(() => {
          const worker = slot.worker;
          slot.worker = null;
          worker.terminate();
          report(slot, { hang: true, ms: Date.now() - slot.started, limitMs: limit }, true);
        }, limit);
        slot.worker.postMessage({ type: 'case', case: c });
      };
      // ends the slot's case; with `replace`, the slot's worker is gone: start another
      const report = (slot, result, replace) => {
        clearTimeout(slot.timer);
        const c = slot.case;
        slot.case = null;
        running--;
        try {
          onResult(c, result);
        } catch (e) {
          exhausted = true;
          return reject(e);
        }
        if (replace) {
          this.replaced++;
          spawn(slot);
        } else dispatch(slot);
      };
      const spawn = (slot) => {
        if (exhausted) return finish();
        const worker = new Worker(WORKER, {
          workerData: this.o.workerData,
          resourceLimits: { maxOldGenerationSizeMb: this.o.heapMb ?? 1536 },
          stdout: false,
          stderr: false,
        });
        slot.worker = worker;
        worker.on('message', (m) => {
          if (slot.worker !== worker) return;
          if (m.type === 'ready') dispatch(slot);
          else if (m.type === 'result') {
            if (m.retire) {
              slot.worker = null;
              worker.terminate();
            }
            report(slot, m.result, m.retire);
          }
        });
        worker.on('error', (e) => {
          if (slot.worker !== worker) return;
          slot.worker = null;
          if (slot.case)
            report(
              slot,
              {
                workerError: {
                  code: e.code ?? null,
                  message: `${e.name}: ${e.message}`,
                  stack: String(e.stack ?? '')
                    .split('\n')
                    .slice(0, 8)
                    .join('\n'),
                },
                ms: Date.now() - slot.started,
              },
              true,
            );
          else {
            exhausted = true;
            reject(new Error(`fuzz: a worker failed before running a case: ${e.stack ?? e}`));
          }
        });
        worker.on('exit', (code) => {
          if (slot.worker !== worker) return;
          slot.worker = null;
          if (slot.case) report(slot, { workerExit: code, ms: Date.now() - slot.started }, true);
          else {
            exhausted = true;
            reject(new Error(`fuzz: a worker exited (${code}) before running a case`));
          }
        });
      };
      for (let i = 0; i < this.o.size; i++) {
        const slot = { worker: null, case: null, timer: null, started: 0 };
        slots.push(slot);
        spawn(slot);
      }
    });
  }
}
