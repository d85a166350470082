import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy, createGuard, isActiongateError, type Decision } from '../../src/index.js';

// Seeded and reproducible: a failure prints the seed and the shrunk input. Sized for `pnpm test`.
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
// A long run (`pnpm fuzz`, FUZZ_RUNS=1000000) needs its time: ~0.25 ms a run on the 2-core machine.
const TIMEOUT_MS = Math.max(120_000, RUNS);
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const policy = compilePolicy(JSON.parse(readFileSync(`${root}rules/classifieds.json`, 'utf8')), { file: `${root}rules/classifieds.json` });

const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', 'title', 'body', 'email', 'x-forwarded-for', 'forwarded');
const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\uD800', '\uDFFF\uD800', '::ffff:1.2.3.4', '1.2.3.4, 10.0.0.1', 'for="[::1]:80"', '999.1.1.1', '0x7f.1', 'ѵіаgrа', '123', '1e309', 'NaN'),
  fc.integer({ min: 1, max: 200_000 }).map((n) => 'a'.repeat(n)),
);
const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    hostileString, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.bigInt(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 4 }),
  ),
})).value;
/** Mostly `valid`, sometimes anything hostile: so most inputs reach the engine and some test the checks. */
const mostly = <T,>(valid: fc.Arbitrary<T>) => fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: hostileString as fc.Arbitrary<unknown>, weight: 1 }, { arbitrary: hostileValue, weight: 1 });
const text = fc.oneof({ arbitrary: fc.lorem({ maxCount: 30 }), weight: 3 }, { arbitrary: hostileString, weight: 2 });
/** Actions that are mostly well-shaped with hostile parts, and some that are anything at all. */
const action = fc.oneof(
  { weight: 9, arbitrary: fc.record({
    action: mostly(fc.constantFrom('ad.submit', 'signup')),
    ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant(undefined), hostileString),
    request: fc.oneof(fc.constant(undefined), fc.record({ remoteAddress: mostly(fc.ipV4()), headers: fc.dictionary(hostileKey, fc.oneof(hostileString, fc.array(hostileString, { maxLength: 3 })), { maxKeys: 4 }) })),
    actor: fc.oneof(fc.constant(undefined), fc.record({ id: mostly(fc.string({ minLength: 1, maxLength: 30 })), status: mostly(fc.constantFrom('anonymous', 'registered', 'verified', 'odd')) })),
    content: fc.oneof(fc.constant(undefined), fc.dictionary(hostileKey, text, { maxKeys: 4 })),
    attributes: fc.oneof(fc.constant(undefined), fc.dictionary(hostileKey, hostileValue, { maxKeys: 4 })),
  }, { requiredKeys: ['action'] }) },
  { weight: 1, arbitrary: hostileValue },
);

describe('fuzzing guard.evaluate', () => {
  it('answers every input with a decision or a typed ActionError, within a bound, without polluting prototypes', async () => {
    let t = Date.UTC(2026, 0, 1);
    const guard = createGuard({ policy, now: () => (t += 997) });
    let slowest = 0;
    let decided = 0;
    await fc.assert(
      fc.asyncProperty(action, async (input) => {
        const started = performance.now();
        try {
          const decision: Decision = await guard.evaluate(input as never);
          expect(['allow', 'challenge', 'throttle', 'block']).toContain(decision.verdict);
          expect(JSON.parse(JSON.stringify(decision)).id).toBe(decision.id);
          decided++;
        } catch (error) {
          expect(isActiongateError(error), String(error)).toBe(true);
          expect((error as { code: string }).code).toBe('ACTION_INVALID');
        }
        slowest = Math.max(slowest, performance.now() - started);
        for (const proto of [Object.prototype, Array.prototype, Function.prototype]) {
          expect(Object.getOwnPropertyNames(proto).filter((k) => !BUILTIN[proto === Object.prototype ? 0 : proto === Array.prototype ? 1 : 2]!.has(k))).toEqual([]);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // A generous bound, not a benchmark: no input may hang an evaluation.
    expect(slowest).toBeLessThan(1_000);
    // The generator must reach the engine, not only the input checks.
    expect(decided).toBeGreaterThan(RUNS / 5);
  }, TIMEOUT_MS);
});

const BUILTIN = [Object.prototype, Array.prototype, Function.prototype].map((p) => new Set(Object.getOwnPropertyNames(p)));
