// pprl bench <suite>: throughput measured side by side in one run (packages/bench).
import { Command } from 'commander';
import { runEnvBench, runQualityBench, runReplayBench, runScaleBench } from '@pprl/bench';
import { ConfigError } from '@pprl/core-wasm';
import { printJson, table, writeFileAtomic } from '../output.js';

export function benchCommand(): Command {
  const bench = new Command('bench').description('benchmarks (figures in BENCHMARKS.md come from these)');
  bench
    .command('replay')
    .description('static replay throughput: WebAssembly engine against the TypeScript reference, same run')
    .option('--quick', 'short run (smoke test)')
    .option('--json', 'print JSON')
    .option('--out <file>', 'also write the JSON to a file')
    .addHelpText('after', '\nExample:\n  pprl bench replay --json')
    .action(async (opts: { quick?: boolean; json?: boolean; out?: string }) => {
      const result = await runReplayBench({ quick: opts.quick ?? false });
      if (opts.out) writeFileAtomic(opts.out, `${JSON.stringify(result, null, 2)}\n`);
      if (opts.json) return printJson(result);
      const w = result.workload;
      console.log(`replay: P=${w.stages} M=${w.microBatches} ${w.schedule}, ${w.opsPerEpisode} ops/episode, noise cv ${w.noise}; ${result.machine.cpu}, node ${result.machine.node}`);
      const row = (name: string, r: typeof result.wasm) => [name, (r.opEventsPerSec / 1e6).toFixed(2), (r.rate.min / 1e6).toFixed(2), (r.rate.max / 1e6).toFixed(2), Math.round(r.episodesPerSec)];
      console.log(table(['engine', 'M op-events/s (median)', 'min', 'max', 'episodes/s'], [row('wasm', result.wasm), row('ts reference', result.reference)]));
      console.log(`ratio wasm / reference: ${result.ratio.toFixed(2)}x`);
    });
  bench
    .command('env')
    .description('environment throughput: decisions per second of whole rollouts in WebAssembly (greedy, 2x64 MLP and shared-trunk 2x64 MLP policies)')
    .option('--quick', 'short run (smoke test)')
    .option('--json', 'print JSON')
    .option('--out <file>', 'also write the JSON to a file')
    .option('--envs <list>', 'numbers of environments to measure, comma-separated (default 64,256,1024)')
    .addHelpText('after', '\nExample:\n  pprl bench env --envs 64,1024 --json')
    .action(async (opts: { quick?: boolean; json?: boolean; out?: string; envs?: string }) => {
      let envs: number[] | undefined;
      if (opts.envs !== undefined) {
        envs = opts.envs.split(',').map(Number);
        if (envs.some((n) => !Number.isInteger(n) || n < 1 || n > 65536)) throw new ConfigError('--envs', `expected integers in [1, 65536], comma-separated (got "${opts.envs}")`);
      }
      const result = await runEnvBench({ quick: opts.quick ?? false, ...(envs ? { envs } : {}) });
      if (opts.out) writeFileAtomic(opts.out, `${JSON.stringify(result, null, 2)}\n`);
      if (opts.json) return printJson(result);
      const w = result.workload;
      console.log(`env: P=${w.stages} M=${w.microBatches}, noise cv ${w.noise}, memory limit ${w.memLimit}, ${w.stepsPerCall} steps per call; ${result.machine.cpu}, node ${result.machine.node}`);
      const m = (x: number) => (x / 1e6).toFixed(2);
      console.log(
        table(
          [
            'envs', 'greedy M decisions/s (median)', 'min-max',
            `MLP ${result.mlp.hidden.join('x')} M decisions/s`, 'min-max',
            `shared-trunk MLP ${result.mlpShared.hidden.join('x')} M decisions/s`, 'min-max',
          ],
          result.byEnvs.map((p) => [
            p.envs, m(p.greedy.median), `${m(p.greedy.min)}-${m(p.greedy.max)}`,
            m(p.mlp.median), `${m(p.mlp.min)}-${m(p.mlp.max)}`,
            m(p.mlpShared.median), `${m(p.mlpShared.min)}-${m(p.mlpShared.max)}`,
          ]),
        ),
      );
    });
  bench
    .command('quality')
    .description('schedule quality: bubble rates next to the zero-bubble reference, then makespans under noise paired against zb-h1')
    .option('--quick', 'fewer noisy episodes (smoke test)')
    .option('--json', 'print JSON')
    .option('--out <file>', 'also write the JSON to a file')
    .option('--episodes <n>', 'noisy episodes per schedule and noise level (default 200, 20 with --quick)')
    .addHelpText('after', '\nExample:\n  pprl bench quality --quick')
    .action(async (opts: { quick?: boolean; json?: boolean; out?: string; episodes?: string }) => {
      let episodes: number | undefined;
      if (opts.episodes !== undefined) {
        episodes = Number(opts.episodes);
        if (!Number.isInteger(episodes) || episodes < 2 || episodes > 100_000) throw new ConfigError('--episodes', `expected an integer in [2, 100000] (got "${opts.episodes}")`);
      }
      const result = await runQualityBench({ quick: opts.quick ?? false, ...(episodes !== undefined ? { episodes } : {}) });
      if (opts.out) writeFileAtomic(opts.out, `${JSON.stringify(result, null, 2)}\n`);
      if (opts.json) return printJson(result);
      const w = result.workload;
      console.log(`quality: ${w.cases} cases of the zero-bubble reference; noise cv ${w.noise.join(', ')}, ${w.episodes} episodes each (common random numbers, seed ${w.seed})`);
      for (const c of result.cases) {
        console.log(`\nP=${c.stages} M=${c.microBatches} F=${c.cost.F} B=${c.cost.B} W=${c.cost.W} comm=${c.cost.comm} (interleaved V=${c.chunks})`);
        const header = ['schedule', 'bubble ours', 'upstream', 'diff', 'timed by', ...c.noisy.map((n) => `cv ${n.cv}: mean makespan`), ...c.noisy.map((n) => `cv ${n.cv}: vs zb-h1 [95% CI]`)];
        const rows = c.rows.map((r, i) => [
          r.schedule,
          r.ours.toFixed(4),
          r.upstream.toFixed(4),
          signed(r.difference, 4),
          r.timedBy,
          ...c.noisy.map((n) => Math.round(n.rows[i]!.meanMakespan)),
          ...c.noisy.map((n) => {
            const d = n.rows[i]!.vsZbH1;
            return `${signed(d.mean, 0)} [${Math.round(d.ci95[0])}, ${Math.round(d.ci95[1])}]${n.rows[i]!.commonRandomNumbers ? '' : '*'}`;
          }),
        ]);
        console.log(table(header, rows));
      }
      console.log('\n* interleaved 1F1B has P*V model stages, so its noise draws differ from the others (paired by episode only)');
    });
  bench
    .command('scale')
    .description('replay scaling: seconds per episode of the WebAssembly engine as P and M grow, fitted to time ~ ops^k')
    .option('--quick', 'small grid, short run (smoke test)')
    .option('--json', 'print JSON')
    .option('--out <file>', 'also write the JSON to a file')
    .addHelpText('after', '\nExample:\n  pprl bench scale --json')
    .action(async (opts: { quick?: boolean; json?: boolean; out?: string }) => {
      const result = await runScaleBench({ quick: opts.quick ?? false });
      if (opts.out) writeFileAtomic(opts.out, `${JSON.stringify(result, null, 2)}\n`);
      if (opts.json) return printJson(result);
      const w = result.workload;
      console.log(`scale: ${w.schedule}, cost F=${w.cost.F} B=${w.cost.B} W=${w.cost.W}, comm ${w.comm}, noise cv ${w.noise}; ${result.machine.cpu}, node ${result.machine.node}`);
      const us = (s: number) => (s * 1e6).toFixed(2);
      console.log(
        table(
          ['P', 'M', 'ops/episode', 'us/episode (median)', 'min-max', 'ns/op'],
          result.points.map((p) => [p.stages, p.microBatches, p.opsPerEpisode, us(p.secondsPerEpisode), `${us(1 / p.rate.max)}-${us(1 / p.rate.min)}`, ((p.secondsPerEpisode / p.opsPerEpisode) * 1e9).toFixed(1)]),
        ),
      );
      console.log(`fit: time per episode ~ ops^${result.fit.k.toFixed(3)} (R^2 ${result.fit.r2.toFixed(4)}; 1.0 = linear in the number of ops)`);
    });
  return bench;
}

/** A signed figure with no '-0' when it rounds to zero. */
function signed(x: number, digits: number): string {
  const text = Math.abs(x).toFixed(digits);
  return Number(text) === 0 ? text : `${x < 0 ? '-' : '+'}${text}`;
}
