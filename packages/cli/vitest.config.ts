import { defineConfig } from 'vitest/config';

// Most tests here spawn the CLI, which runs simulations and searches: on a loaded 2-core machine a few take tens
// of seconds, so the default 5 s timeout would only measure the machine's load.
export default defineConfig({
  test: {
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
