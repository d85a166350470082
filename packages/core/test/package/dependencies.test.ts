import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// What a user installs with each package: only what the design names (json-rules-engine,
// lru-cache, ipaddr.js, ajv) plus what an issue asked for (recheck for the ReDoS check,
// mailchecker for disposable e-mail domains, jsonpath-plus: json-rules-engine's own path library,
// named so that paths resolve in its safe mode and load checks them with the same copy, no new
// install; tlds, the root zone's top-level domains, for where a link written into CJK text ends).
// A new runtime dependency must be added here on purpose.
const ALLOWED: Record<string, string[]> = {
  '@actiongate/core': ['@actiongate/memory', 'ajv', 'ipaddr.js', 'json-rules-engine', 'jsonpath-plus', 'mailchecker', 'recheck', 'tlds'],
  '@actiongate/memory': ['lru-cache'],
  '@actiongate/redis': ['@actiongate/core', '@actiongate/memory'],
};

const read = (dir: string) => JSON.parse(readFileSync(fileURLToPath(new URL(`../../../${dir}/package.json`, import.meta.url)), 'utf8')) as { name: string; dependencies?: Record<string, string>; peerDependenciesMeta?: Record<string, { optional?: boolean }>; peerDependencies?: Record<string, string> };

describe('production dependencies', () => {
  for (const dir of ['core', 'adapters-memory', 'adapters-redis']) {
    it(`${dir} depends only on what the design allows`, () => {
      const pkg = read(dir);
      expect(Object.keys(pkg.dependencies ?? {}).sort()).toEqual(ALLOWED[pkg.name]);
      // Peers (Redis clients, OpenTelemetry, vitest for the conformance suite) are all optional.
      for (const peer of Object.keys(pkg.peerDependencies ?? {})) expect(pkg.peerDependenciesMeta?.[peer]?.optional, `${pkg.name} peer ${peer}`).toBe(true);
    });
  }
});
