import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './cli/bin.js';

// The built packages, as a user gets them: ESM and CommonJS entry points export the same API.
const root = fileURLToPath(new URL('../../..', import.meta.url));
const dist = (path: string) => `${root}/packages/${path}`;
const require = createRequire(import.meta.url);

const CORE_API = [
  'ActionError', 'ActiongateError', 'PolicyError', 'STORE_SLOTS', 'StoreError', 'compilePolicy', 'compose', 'createGuard', 'createNdjsonSink',
  'formatDuration', 'isActiongateError', 'isCompiledPolicy', 'loadPolicy', 'normaliseText', 'parseBanDuration', 'parseDuration',
  'parsePolicyJson', 'policySchema', 'prometheusText', 'requestFrom', 'scoreVerdict', 'severity', 'toHttpResponse', 'validateBatch', 'watchPolicy', 'worst',
];

describe('built packages', () => {
  // Build when a package has no build or its sources changed since, under the lock the CLI
  // tests share, so two test files never build over each other.
  beforeAll(ensureBuilt, 200_000);

  it('@actiongate/core exports the same API from ESM and CommonJS', async () => {
    const esm = await import(pathToFileURL(dist('core/dist/index.js')).href);
    const cjs = require(dist('core/dist/index.cjs'));
    expect(Object.keys(esm).sort()).toEqual(CORE_API);
    expect(Object.keys(cjs).sort()).toEqual(CORE_API);
    const guard = cjs.createGuard({ policy: { name: 'cjs', limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }] } });
    expect((await guard.evaluate({ action: 'a', ip: '192.0.2.1' })).verdict).toBe('allow');
    expect((await guard.evaluate({ action: 'a', ip: '192.0.2.1' })).verdict).toBe('throttle');
  });

  it('@actiongate/memory, @actiongate/redis and @actiongate/core/testing are importable', async () => {
    const memory = await import(pathToFileURL(dist('adapters-memory/dist/index.js')).href);
    expect(Object.keys(memory)).toContain('MemoryStore');
    expect(Object.keys(require(dist('adapters-memory/dist/index.cjs')))).toContain('MemoryStore');
    const redis = await import(pathToFileURL(dist('adapters-redis/dist/index.js')).href);
    expect(Object.keys(redis).sort()).toEqual(['RedisStore', 'keySlot']);
    expect(Object.keys(require(dist('adapters-redis/dist/index.cjs'))).sort()).toEqual(['RedisStore', 'keySlot']);
    expect(existsSync(dist('core/dist/testing.js'))).toBe(true);
    expect(existsSync(dist('core/dist/index.d.ts')) && existsSync(dist('core/dist/index.d.cts'))).toBe(true);
  });

  it('every export map target exists', () => {
    for (const pkg of ['core', 'adapters-memory', 'adapters-redis']) {
      const manifest = require(dist(`${pkg}/package.json`));
      const leaves = (value: unknown): string[] => (typeof value === 'string' ? [value] : Object.values(value as object).flatMap(leaves));
      const targets = [...leaves(manifest.exports), manifest.main, manifest.module, manifest.types, ...Object.values(manifest.bin ?? {})] as string[];
      for (const target of targets) {
        // A subpath pattern (`./rules/*`): its folder exists and holds something to match.
        const path = target.includes('*') ? target.slice(0, target.indexOf('*')) : target;
        expect(existsSync(dist(`${pkg}/${path}`)), `${pkg} ${target}`).toBe(true);
        if (path !== target) expect(readdirSync(dist(`${pkg}/${path}`)).length, `${pkg} ${target}`).toBeGreaterThan(0);
      }
    }
  });

  it('the actiongate bin runs the demo', () => {
    const out = execFileSync(process.execPath, [dist('core/dist/cli.js'), 'demo', '--policy', `${root}/rules/classifieds.json`], { encoding: 'utf8', timeout: 60_000 });
    expect(out).toMatch(/spam stopped\s+\d+\.\d%/);
    expect(out).toMatch(/legitimate blocked\s+0/);
  });
});
