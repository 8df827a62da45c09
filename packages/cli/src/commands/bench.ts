// pprl bench <suite>: throughput measured side by side in one run (packages/bench).
import { Command } from 'commander';
import { runEnvBench, runReplayBench } from '@pprl/bench';
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
    .description('environment throughput: decisions per second of whole rollouts in WebAssembly (greedy and 2x64 MLP policies)')
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
          ['envs', 'greedy M decisions/s (median)', 'min-max', `MLP ${result.mlp.hidden.join('x')} M decisions/s`, 'min-max'],
          result.byEnvs.map((p) => [p.envs, m(p.greedy.median), `${m(p.greedy.min)}-${m(p.greedy.max)}`, m(p.mlp.median), `${m(p.mlp.min)}-${m(p.mlp.max)}`]),
        ),
      );
    });
  return bench;
}
