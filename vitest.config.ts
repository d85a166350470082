import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests run against the TypeScript sources (no build step needed); the exports of the
// built packages are checked separately by packages/*/test/exports.test.ts.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@actiongate\/core\/testing$/, replacement: src('./packages/core/src/testing/index.ts') },
      { find: /^@actiongate\/core$/, replacement: src('./packages/core/src/index.ts') },
      { find: /^@actiongate\/memory$/, replacement: src('./packages/adapters-memory/src/index.ts') },
      { find: /^@actiongate\/redis$/, replacement: src('./packages/adapters-redis/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'docs/examples/**/*.test.ts'],
    globalSetup: ['./test/redis-setup.ts'],
    pool: 'forks',
    testTimeout: 20_000,
    // In CI a machine-readable copy of the results lets .ci/run print a plain closing line.
    ...(process.env.CI ? { reporters: ['default', 'json'], outputFile: { json: 'node_modules/.cache/vitest-results.json' } } : {}),
  },
});
