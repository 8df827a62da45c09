// pprl bench <suite>: throughput measured side by side in one run (packages/bench).
import { Command } from 'commander';
import { runReplayBench } from '@pprl/bench';
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
  return bench;
}
