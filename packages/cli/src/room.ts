// Gap columns for compare, evaluate and the demo: how far each scheduler is from the lower bound (every episode,
// cheap) and from the clairvoyant oracle (the first few episodes, costly), each measured on the problem the
// scheduler itself ran (its chunks, memory limit and noise), on the same episodes.
import { z } from 'zod';
import { ConfigError, type Problem, quoteInput } from '@pprl/core-wasm';
import { lowerBounds, measureRoom } from '@pprl/opt';
import type { ContenderRun } from './contenders.js';
import type { PointGap, SweepRun } from './report/sweep.js';

export interface GapSettings {
  /** Episodes 0..n-1 get the oracle; 0 computes only the lower bound. */
  oracleEpisodes: number;
  /** Local-search replays per oracle episode. */
  evaluations: number;
}

export const DEFAULT_ORACLE_EPISODES = 8;

const oracleEpisodesSchema = z.coerce
  .number({ error: 'expected a number' })
  .int('must be an integer')
  .min(0, 'must be in [0, 10000]')
  .max(10_000, 'must be in [0, 10000]');

/** `--oracle-episodes n`: an integer in [0, 10000], at most the run's episodes. */
export function oracleEpisodesOption(
  text: string | undefined,
  episodes: number,
  fallback = DEFAULT_ORACLE_EPISODES,
): number {
  if (text === undefined) return Math.min(fallback, episodes);
  const parsed = oracleEpisodesSchema.safeParse(text.trim() === '' ? Number.NaN : text);
  if (!parsed.success)
    throw new ConfigError('--oracle-episodes', `${parsed.error.issues[0]!.message} (got ${quoteInput(text)})`);
  if (parsed.data > episodes)
    throw new ConfigError('--oracle-episodes', `must be at most --episodes (${episodes}), got ${parsed.data}`);
  return parsed.data;
}

interface Room {
  lowerBound: Float64Array;
  oracle: Float64Array;
}

const mean = (a: ArrayLike<number>, n = a.length) => {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i]!;
  return s / n;
};

/** Bounds and oracles per distinct problem, so schedulers that ran the same problem share them. */
export class RoomCache {
  private readonly rooms = new Map<string, Promise<Room>>();

  constructor(
    readonly settings: GapSettings,
    private readonly onOracleEpisode?: () => void,
  ) {}

  room(problem: Problem, episodes: number): Promise<Room> {
    const key = `${episodes}:${JSON.stringify(problem.config)}`;
    let r = this.rooms.get(key);
    if (!r) {
      r = (async () => {
        const oracle =
          this.settings.oracleEpisodes > 0
            ? (
                await measureRoom(problem, this.settings.oracleEpisodes, {
                  evaluations: this.settings.evaluations,
                  onEpisode: this.onOracleEpisode,
                })
              ).oracle
            : new Float64Array(0);
        return { lowerBound: lowerBounds(problem, episodes), oracle };
      })();
      this.rooms.set(key, r);
    }
    return r;
  }

  /** The gap of one run of episodes 0..K-1 on `problem`. */
  async gap(problem: Problem, run: ContenderRun): Promise<PointGap> {
    const K = run.makespan.length;
    const room = await this.room(problem, K);
    const n = room.oracle.length;
    return {
      toLowerBound: mean(run.makespan) / mean(room.lowerBound) - 1,
      toOracle: n > 0 ? mean(run.makespan, n) / mean(room.oracle) - 1 : null,
      oracleEpisodes: n,
    };
  }
}

/** Fills `gap` in every point of a sweep's result. */
export async function addSweepGaps(run: SweepRun, cache: RoomCache): Promise<void> {
  for (const sch of run.result.schedulers) {
    const runs = run.runs.get(sch.name)!;
    const problems = run.problems.get(sch.name)!;
    for (let i = 0; i < sch.points.length; i++) sch.points[i]!.gap = await cache.gap(problems[i]!, runs[i]!);
  }
}

/** How many oracle episodes a sweep will run (for a progress bar): one set per distinct problem. */
export function oracleWork(run: SweepRun, settings: GapSettings): number {
  const distinct = new Set<string>();
  for (const problems of run.problems.values()) for (const p of problems) distinct.add(JSON.stringify(p.config));
  return distinct.size * settings.oracleEpisodes;
}

export const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(100 * x).toFixed(2)}%`);
