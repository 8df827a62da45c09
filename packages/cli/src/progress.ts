// Progress bars for people watching a terminal: drawn on stderr, and only once the work has taken more than a
// second, so quick commands stay quiet. Off for --json and when stderr is not a terminal (pipes, CI, tests).
import { SingleBar } from 'cli-progress';

export interface Progress {
  /** One unit of work is done; `item` names the next one (shown beside the bar). */
  tick(item?: string): void;
  /** Removes the bar, if one was drawn. */
  done(): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  enabled: boolean;
  /** Where to draw (default process.stderr). */
  stream?: NodeJS.WriteStream;
  /** Draw only after this much time has passed (default 1000 ms). */
  delayMs?: number;
  now?: () => number;
}

/** Bars are for a person at a terminal: never with --json, never into a pipe or file. */
export function progressWanted(json: boolean | undefined, stream: NodeJS.WriteStream = process.stderr): boolean {
  return !json && stream.isTTY === true;
}

export const silentProgress: Progress = { tick() {}, done() {} };

export function createProgress(o: ProgressOptions): Progress {
  if (!o.enabled || o.total <= 0) return silentProgress;
  const now = o.now ?? Date.now;
  const started = now();
  const delay = o.delayMs ?? 1000;
  let value = 0;
  let bar: SingleBar | undefined;
  return {
    tick(item = '') {
      value++;
      if (!bar && now() - started >= delay) {
        bar = new SingleBar({
          stream: o.stream ?? process.stderr,
          format: `${o.label} [{bar}] {value}/{total} {item}`,
          barsize: 30,
          hideCursor: true,
          clearOnComplete: true,
          // the work is synchronous between ticks, so redraw on update rather than on a timer
          synchronousUpdate: true,
          fps: 10,
        });
        bar.start(o.total, value, { item });
      } else bar?.update(value, { item });
    },
    done() {
      bar?.stop();
      bar = undefined;
    },
  };
}
