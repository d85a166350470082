/**
 * Running the built `actiongate` bin in tests, as a user runs it: `node packages/core/dist/cli.js`.
 * The build is refreshed when the sources are newer than it (like exports.test.ts does), under a
 * lock directory, so two test files that find it stale do not build over each other.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../../..', import.meta.url));
export const bin = join(root, 'packages/core/dist/cli.js');
export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const newest = (dir: string): number =>
  Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));

/** The build is older than the package's sources or its JSON Schema (bundled into dist). */
const stale = (pkg: string) => {
  const built = join(root, `packages/${pkg}/dist/index.js`);
  if (!existsSync(built)) return true;
  const inputs = [join(root, `packages/${pkg}/src`), join(root, `packages/${pkg}/schema`)].filter((dir) => existsSync(dir));
  return Math.max(...inputs.map(newest)) > statSync(built).mtimeMs;
};

/**
 * Runs `work` holding the build lock (a directory: creating one is atomic), so two test files do
 * not build over each other, and nobody cleans dist/ while another reads it (pack.test.ts).
 */
export async function withBuildLock<T>(work: () => T | Promise<T>): Promise<T> {
  const lock = join(root, 'node_modules/.cache/actiongate-build.lock');
  mkdirSync(join(root, 'node_modules/.cache'), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another test file holds it; a lock older than the deadline is a leftover.
      if (Date.now() > deadline || Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds the packages when a build is missing or older than its sources. */
export async function ensureBuilt(): Promise<void> {
  if (!['core', 'adapters-memory', 'adapters-redis'].some(stale) && existsSync(bin)) return;
  await withBuildLock(() => {
    if (['core', 'adapters-memory', 'adapters-redis'].some(stale) || !existsSync(bin)) {
      execFileSync('pnpm', ['build'], { cwd: root, stdio: 'ignore', timeout: 180_000 });
    }
  });
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the bin with `args`; never rejects for a non-zero exit. */
export function run(args: readonly string[], options: { cwd?: string; input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Without pnpm's NODE_PATH, which would let the bin find packages a user's project does not have.
    const { NODE_PATH: _nodePath, ...env } = { ...process.env, ...options.env };
    const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd ?? root, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix = 'ag-cli-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
