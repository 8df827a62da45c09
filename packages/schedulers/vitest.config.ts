import { defineConfig } from 'vitest/config';

// Differential and training tests run thousands of simulations: on a loaded 2-core machine (CI, or a fuzz run
// beside it) some take several times their quiet time, so the default 5 s timeout would only measure the load.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
