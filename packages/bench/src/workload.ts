// The pipeline the throughput suites (replay and env) both run, so that their figures describe the same problem.
export const THROUGHPUT_PROBLEM = {
  stages: 8,
  microBatches: 32,
  cost: { F: 1, B: 1.2, W: 0.9 },
  /** Transfer time between devices. */
  comm: 0.1,
  /** Noise cv of compute and transfers. */
  noise: 0.2,
};
