import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy, isActiongateError } from '../../src/index.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const RUNS = Number(process.env.FUZZ_POLICY_RUNS ?? 400);
// A long run (`pnpm fuzz`) needs its time: ~0.8 ms a run on the 2-core machine.
const TIMEOUT_MS = Math.max(120_000, RUNS * 4);
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const references = ['classifieds', 'signup', 'api'].map((name) => JSON.parse(readFileSync(`${root}rules/${name}.json`, 'utf8')) as unknown);

const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 20 }), fc.double(), fc.integer(), fc.boolean(), fc.constant(null),
  fc.constantFrom('__proto__', '(a+)+$', '5 minutes', 'permanent', '-1', '1e309', '::/0', '0.0.0.0/0', '$..*', { __proto__: { polluted: true } }),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'x', 'fact'), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
);

/** Every path to a value inside `value`. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return [prefix, ...keys.flatMap((k) => paths((value as Record<string | number, unknown>)[k], [...prefix, k]))];
}

/** `document` with the value at `path` replaced (or, for an object, a key added). */
function mutate(document: unknown, path: (string | number)[], replacement: unknown, addKey: string | null): unknown {
  const copy = structuredClone(document) as Record<string | number, unknown>;
  if (path.length === 0) return replacement;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (addKey !== null && typeof node[last] === 'object' && node[last] !== null && !Array.isArray(node[last])) Object.defineProperty(node[last], addKey, { value: replacement, enumerable: true, configurable: true, writable: true });
  else node[last] = replacement;
  return copy;
}

describe('fuzzing compilePolicy', () => {
  it('compiles every mutated reference policy or rejects it with a PolicyError, never crashing or polluting', () => {
    const mutation = fc.tuple(fc.nat(references.length - 1), fc.nat(), hostile, fc.option(fc.constantFrom('__proto__', 'constructor', 'extra', 'mode'), { nil: null }));
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        let document = references[mutations[0]![0]];
        for (const [, pick, replacement, addKey] of mutations) {
          const all = paths(document);
          document = mutate(document, all[pick % all.length]!, replacement, addKey);
        }
        try {
          const compiled = compilePolicy(document as never, { baseDir: `${root}rules` });
          expect(compiled.id).toEqual(expect.any(String));
        } catch (error) {
          expect(isActiongateError(error), String(error)).toBe(true);
          expect(['POLICY_INVALID', 'POLICY_FILE']).toContain((error as { code: string }).code);
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { seed: SEED, numRuns: RUNS },
    );
  }, TIMEOUT_MS);
});
