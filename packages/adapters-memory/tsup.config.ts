import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  tsconfig: '../../tsconfig.base.json',
  clean: true,
  target: 'node20',
});
