import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, root, tempDir, withBuildLock } from '../cli/bin.js';

// What a user gets from the registry: `pnpm pack` of each package (workspace:^ rewritten to
// versions), the three tarballs installed together with npm in a scratch project outside the
// workspace (third-party dependencies from the registry; optional peers such as
// @opentelemetry/api and the Redis clients NOT installed), then imported with ESM `import` and
// CommonJS `require`, and type-checked against the published declarations.

const run = promisify(execFile);
const PACKAGES = ['core', 'adapters-memory', 'adapters-redis'] as const;
/** Without pnpm's NODE_PATH, which would let the scratch project find the workspace's packages. */
const { NODE_PATH: _nodePath, ...env } = process.env;

const POLICY = { name: 'scratch', limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }] };

/** The same checks from both module systems; prints one JSON line. */
const probe = (load: string, top: string) => `${load}
${top}
  const out = {};
  const guard = core.createGuard({ policy: ${JSON.stringify(POLICY)}, store: new memory.MemoryStore({ maxKeys: 10 }) });
  out.verdicts = [];
  for (let i = 0; i < 2; i++) out.verdicts.push((await guard.evaluate({ action: 'a', ip: '::ffff:192.0.2.1' })).verdict);
  out.http = core.toHttpResponse(await guard.evaluate({ action: 'a', ip: '192.0.2.1' })).status;
  out.metrics = guard.metrics().decisions;
  out.prometheus = core.prometheusText(guard).includes('actiongate_decisions_total{verdict="throttle"} 2');
  try { core.compilePolicy({ name: 'x', limits: [{ id: 'l', by: 'ip', window: '5 minutes', max: 1 }] }); } catch (e) { out.policyError = [e.name, e.code, core.isActiongateError(e)]; }
  out.redisStore = typeof redis.RedisStore;
  try { new redis.RedisStore({ client: {} }); } catch (e) { out.redisClientError = e.message; }
  out.keySlot = redis.keySlot('foo');
  out.otelInstalled = await import('@opentelemetry/api').then(() => true, () => false);
  try { core.createGuard({ policy: { name: 't' }, telemetry: true }); } catch (e) { out.telemetryTrue = e.code; }
  const spans = [];
  const tracer = { startSpan: (name) => ({ setAttribute() {}, setStatus() {}, recordException() {}, isRecording: () => true, end: () => spans.push(name) }) };
  const meter = { createCounter: () => ({ add() {} }), createHistogram: () => ({ record() {} }) };
  await core.createGuard({ policy: { name: 't' }, telemetry: { tracer, meter } }).evaluate({ action: 'a' });
  out.spans = spans;
  await guard.close();
  console.log(JSON.stringify(out));
`;

const ESM = probe(
  `import * as core from '@actiongate/core';\nimport * as memory from '@actiongate/memory';\nimport * as redis from '@actiongate/redis';\nimport { createRequire } from 'node:module';\nconst schema = createRequire(import.meta.url)('@actiongate/core/schema/policy.schema.json');`,
  `{ const outSchema = schema.title;`,
).replace('console.log(JSON.stringify(out));', 'out.schema = outSchema; console.log(JSON.stringify(out)); }');

const CJS = probe(
  `const core = require('@actiongate/core');\nconst memory = require('@actiongate/memory');\nconst redis = require('@actiongate/redis');\nconst schema = require('@actiongate/core/schema/policy.schema.json');`,
  `(async () => { const outSchema = schema.title;`,
).replace('console.log(JSON.stringify(out));', 'out.schema = outSchema; console.log(JSON.stringify(out)); })();');

/** Uses the published declarations, from both module systems, without @types for the optional peers. */
const TYPES_ESM = `import { createGuard, type Decision, type TelemetryOptions } from '@actiongate/core';
import { MemoryStore } from '@actiongate/memory';
import { RedisStore } from '@actiongate/redis';
const telemetry: TelemetryOptions = {};
const guard = createGuard({ policy: { name: 't' }, store: new MemoryStore(), telemetry });
export const verdict: Promise<Decision['verdict']> = guard.evaluate({ action: 'a' }).then((d) => d.verdict);
export const Store: typeof RedisStore = RedisStore;
`;
const TYPES_CJS = `import core = require('@actiongate/core');
import memory = require('@actiongate/memory');
export const guard = core.createGuard({ policy: { name: 't' }, store: new memory.MemoryStore() });
`;

describe('published packages', () => {
  const scratch = tempDir('ag-pack-');

  beforeAll(ensureBuilt, 200_000);
  afterAll(() => scratch.remove());

  it('pack, install from the tarballs, import with ESM and CommonJS, and type-check', async () => {
    const tarballs: string[] = [];
    const packs = await withBuildLock(() =>
      Promise.all(PACKAGES.map((dir) => run('pnpm', ['pack', '--json', '--pack-destination', scratch.dir], { cwd: join(root, 'packages', dir), env, timeout: 60_000 }))),
    );
    for (const { stdout } of packs) {
      const packed = JSON.parse(stdout) as { name: string; filename: string; files: { path: string }[] };
      const files = packed.files.map((f) => f.path);
      expect(files, packed.name).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts']));
      // Only what is built: no sources, tests or configuration.
      expect(files.filter((f) => !/^(dist\/|schema\/|LICENSE$|README\.md$|package\.json$)/.test(f) && !(packed.name === '@actiongate/core' && f.startsWith('rules/'))), packed.name).toEqual([]);
      // The reference policies and their lists ship with core (the demo's default policy).
      if (packed.name === '@actiongate/core') expect(files).toEqual(expect.arrayContaining(['rules/classifieds.json', 'rules/lists/known-spam.txt', 'rules/signup.json', 'rules/api.json']));
      tarballs.push(packed.filename);
    }
    const manifests = PACKAGES.map((dir) => JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as Record<string, unknown>);
    for (const manifest of manifests) {
      for (const field of ['description', 'keywords', 'license', 'exports', 'types', 'engines', 'files']) expect(manifest[field], `${String(manifest.name)} ${field}`).toBeTruthy();
      expect(manifest.sideEffects, String(manifest.name)).toBe(false);
      expect(manifest.license).toBe('MIT');
    }

    const project = join(scratch.dir, 'app');
    await run('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--loglevel=error', ...tarballs], { cwd: project, env, timeout: 150_000 });
    const installed = JSON.parse(readFileSync(join(project, 'node_modules/@actiongate/redis/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(installed.dependencies['@actiongate/core']).toBe('^0.1.0'); // workspace:^ rewritten

    writeFileSync(join(project, 'probe.mjs'), ESM);
    writeFileSync(join(project, 'probe.cjs'), CJS);
    for (const file of ['probe.mjs', 'probe.cjs']) {
      const { stdout } = await run(process.execPath, [file], { cwd: project, env, timeout: 30_000 });
      const out = JSON.parse(stdout) as Record<string, unknown>;
      expect(out, file).toEqual({
        verdicts: ['allow', 'throttle'], // ::ffff:192.0.2.1 and 192.0.2.1 are one client
        http: 429,
        metrics: { allow: 1, challenge: 0, throttle: 2, block: 0 },
        prometheus: true,
        policyError: ['PolicyError', 'POLICY_INVALID', true],
        redisStore: 'function',
        redisClientError: 'RedisStore: client must be an ioredis Redis/Cluster or a node-redis (v4+) client/cluster',
        keySlot: 12182,
        otelInstalled: false, // the optional peer is absent, and the core loads anyway
        telemetryTrue: 'TELEMETRY_UNAVAILABLE',
        spans: ['actiongate.evaluate'],
        schema: 'Actiongate policy',
      });
    }

    // The bin works from the installed package.
    writeFileSync(join(project, 'policy.json'), JSON.stringify(POLICY));
    const validated = await run(join(project, 'node_modules/.bin/actiongate'), ['validate', 'policy.json'], { cwd: project, env, timeout: 30_000 });
    expect(validated.stdout).toMatch(/scratch/);
    // The demo runs on the reference policy the package ships, with no rules/ of the project's own.
    const demo = await run(join(project, 'node_modules/.bin/actiongate'), ['demo', '--out', join(scratch.dir, 'demo')], { cwd: project, env, timeout: 120_000 });
    expect(demo.stdout).toMatch(/validate .*node_modules\/@actiongate\/core\/rules\/classifieds\.json/);
    expect(readFileSync(join(scratch.dir, 'demo', 'report.html'), 'utf8')).toMatch(/<html/i);

    // The declarations type-check for a user without @opentelemetry/api or a Redis client.
    writeFileSync(join(project, 'types.mts'), TYPES_ESM);
    writeFileSync(join(project, 'types.cts'), TYPES_CJS);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(root, 'node_modules/@types')] },
      files: ['types.mts', 'types.cts'],
    }));
    const tsc = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: project, env, timeout: 60_000 }).catch((e: { stdout: string }) => ({ stdout: e.stdout, failed: true }));
    expect(tsc.stdout).toBe('');
  }, 240_000);
});
