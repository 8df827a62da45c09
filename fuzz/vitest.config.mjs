import { defineConfig } from 'vitest/config';

// The fuzz slice runs hundreds of CLI cases in worker threads of its own (and changes the working directory of the
// test process, which worker-thread pools do not allow): one forked test process, a generous timeout for a loaded
// 2-core machine.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
