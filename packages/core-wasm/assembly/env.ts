// The RL environment (docs/SEMANTICS.md section 4): N scheduling environments in one module instance, all state in
// flat memory that the TypeScript side allocates (src/env.ts). Semantics mirror src/engine/core.ts exactly and the
// TypeScript reference src/env-reference.ts bit for bit (same noise keys, f64 operations in the same order):
// - a class (F, B or W of one local chunk, index c * 3 + kind) is eligible on an idle device when its next
//   micro-batch exists, its dependencies are done and arrived, and its memory delta fits (with the 'reserve' rule
//   for V > 1); within a class micro-batches run in ascending order;
// - at each event time, after every op end and arrival at that time, idle devices are visited in ascending order:
//   none eligible -> idle, one -> it starts (a forced step), more -> a decision (the action picks a class, or waits
//   while something is in flight);
// - the reward of a step is minus the time to the next decision (or to the makespan), over the scale, the first
//   step also carrying the time from 0, so an episode's return is -makespan / scale.
// Speed-ups that do not change results: only devices whose eligibility can have changed are re-evaluated at an
// event (a device's classes change only through its own op ends and the arrivals addressed to it; events carry
// their device), and built-in policies run inside the module without observations. Dependencies are counters
// and bits, not times: a class finishes its micro-batches in order (doneCnt), and an arrival sets its receiver's
// flag bit when it happens. Op ends are each device's runEnd (found by a SIMD scan), transfers sit in a small heap,
// and a transfer that arrives while its receiver is still busy is no event at all (see transfer). Noise factors
// are drawn one use ahead (drawNext) and the V = 1 case has branch-free eligibility and greedy picks.
//
// The modules under env/, one per part: layout (the memory of a vector), draw (problems), events (op ends and
// transfers), eligible (classes and memory rules), step (episode mechanics), policies (built-in heuristics and the
// teacher), observe (the observation), driver (reset, step, read-outs), rollout (whole episodes and rollouts) and
// stats (the episode statistics of envRunEpisodeStats).
export { envObsDim, envNumActions, envBytes, envInit, envRelocate } from './env/layout';
export { envSetProblem } from './env/draw';
export {
  envReset, envObserve, envStep, envSetReplay, envLogRead, envState, envError, envProblemDump,
} from './env/driver';
export {
  envRunEpisodes, envRunEpisodeStats, envRunEpisodesMlp, envRollout, envRolloutScratchBytes, envSampleUniform,
} from './env/rollout';
