// What a trained policy did in an episode, as a static schedule: each device's ops in the order the (greedy)
// policy started them. Replaying that schedule on the episode's noise reproduces the episode exactly when the
// policy cannot wait (the default), which gives timelines, busy time and peak memory through the simulator.
import { ReferenceEnv, WasmMlp, type Problem, type Schedule } from '@pprl/core-wasm';
import { checkPlan, chunksOfLayout, policyEnvOptions, type PolicyLike } from './evaluate.js';

/**
 * The greedy policy's per-device op orders in episodes start .. start + count - 1 of `problem`, stepped in the
 * TypeScript reference environment with the WebAssembly forward (the same decisions as `runEpisodes`).
 */
export async function policySchedules(
  policy: PolicyLike,
  problem: Problem,
  count: number,
  start = 0,
): Promise<Schedule[]> {
  checkPlan(policy, problem);
  const env = new ReferenceEnv({
    ...policyEnvOptions(policy),
    problem,
    maxChunks: Math.max(chunksOfLayout(policy.layout), problem.chunks),
    episodeStart: start,
    recordOrder: true,
  });
  if (policy.plan) env.setTeacher(policy.plan);
  const mlp = await WasmMlp.create(policy.layout, policy.params);
  const obs = new Float32Array(env.obsDim);
  const mask = new Uint8Array(env.numActions);
  const schedules: Schedule[] = [];
  try {
    env.reset();
    while (schedules.length < count) {
      env.observe(obs, mask);
      const { logits } = mlp.forward(obs);
      if (env.step(mlp.argmax(logits, mask)).done)
        schedules.push({
          stages: problem.stages,
          chunksPerDevice: problem.chunks,
          placement: problem.placement,
          microBatches: problem.microBatches,
          devices: env.finishedEpisodeOrder,
          name: 'ppo',
        });
    }
  } finally {
    mlp.dispose();
  }
  return schedules;
}
