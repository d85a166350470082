import { cpSync, rmSync } from 'node:fs';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', cli: 'src/cli/main.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' } },
  clean: true,
  target: 'node20',
  external: ['vitest', '@actiongate/memory'],
  // The reference policies and their lists ship with the package (`@actiongate/core/rules/…`,
  // the default of `actiongate demo` outside this repository); the repository's rules/ is the source.
  onSuccess: async () => {
    rmSync('rules', { recursive: true, force: true });
    cpSync('../../rules', 'rules', { recursive: true });
  },
});
