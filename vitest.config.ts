import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources of every workspace package (the "source" export
// condition), so `pnpm test` never depends on a stale dist/.
export default defineConfig({
  // Vite applies resolve.conditions to client code only; tests run as server (SSR) code.
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['packages/*/test/**/*.spec.ts', 'simulations/test/**/*.spec.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
