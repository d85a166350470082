/**
 * The built packages (`packages/<name>/dist`), as users run them and as the peers run: plain
 * JavaScript. A plain `import … from '@actiongate/core'` in a benchmark does not give them: tsx
 * applies the root tsconfig's `paths`, which map the package names to the TypeScript sources, and
 * esbuild's transform of those sources wraps every function they create in a `__name` call (11%
 * of a `page.view` decision in a CPU profile). Types still come from the sources' declarations.
 *
 * A build older than its sources would measure yesterday's code, so that is an error here, not
 * a figure: `pnpm build` first (`pnpm bench` does).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Core from '@actiongate/core';
import type * as Memory from '@actiongate/memory';
import type * as Redis from '@actiongate/redis';

/** The newest modification time of any file under `dir`. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

async function load<T>(folder: string): Promise<T> {
  const packageDir = fileURLToPath(new URL(`../packages/${folder}/`, import.meta.url));
  const entry = join(packageDir, 'dist/index.js');
  let builtAt: number;
  try {
    builtAt = statSync(entry).mtimeMs;
  } catch {
    throw new Error(`${entry} is missing: run \`pnpm build\` first`);
  }
  if (newest(join(packageDir, 'src')) > builtAt) throw new Error(`${entry} is older than packages/${folder}/src: run \`pnpm build\` first`);
  return (await import(entry)) as T;
}

export const core = await load<typeof Core>('core');
export const memory = await load<typeof Memory>('adapters-memory');
export const redis = await load<typeof Redis>('adapters-redis');
