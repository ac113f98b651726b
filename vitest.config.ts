import { defineConfig } from 'vitest/config';

export default defineConfig({
  // One tsconfig for every test file. Without it, files under apps/web would be compiled with
  // apps/web/tsconfig.json, which extends the one `svelte-kit sync` generates and so is missing
  // in a fresh clone.
  tsconfig: 'tsconfig.json',
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'apps/*/src/**/*.test.ts',
      'tests/**/*.test.ts',
      'bench/**/*.test.ts',
    ],
    // Dawn and the wasm backend are heavy native singletons per process; forks isolate them
    // and keep a lost device in one file from touching another.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
