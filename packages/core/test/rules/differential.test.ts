import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRules, type FiredEvent } from '../../src/rules/compile.js';
import { createReferenceInterpreter } from '../../src/rules/reference.js';
import { factsArb, leafArb, PLAIN_PATHS, rulesArb } from './arbitraries.js';

/** Events as `index:type`, in order, or "throws" when evaluation fails. */
const outcome = async (run: () => FiredEvent[] | Promise<FiredEvent[]>) => {
  try {
    return (await run()).map((event) => `${event.index}:${event.type}`);
  } catch {
    return 'throws';
  }
};

describe.each([
  ['generated code', true],
  ['closures', false],
])('compiled rules (%s) against json-rules-engine, on random rules and facts', (_, generate) => {
  it('fire the same events in the same order (thousands of fact sets)', async () => {
    let checked = 0;
    let fired = 0;
    let threw = 0;
    await fc.assert(
      fc.asyncProperty(rulesArb(), fc.array(factsArb, { minLength: 6, maxLength: 6 }), async (rules, factSets) => {
        const compiled = compileRules(rules, { facts: null, generate });
        expect(compiled.problems).toEqual([]);
        expect(compiled.compiled).toBe(true);
        const reference = createReferenceInterpreter(rules);
        for (const facts of factSets) {
          const expected = await outcome(() => reference.run(facts));
          const actual = await outcome(() => compiled.evaluate(facts));
          expect(actual, JSON.stringify({ rules, facts })).toEqual(expected);
          checked++;
          if (expected === 'throws') threw++;
          else fired += expected.length;
        }
      }),
      { seed: 20261123, numRuns: 1000 },
    );
    expect(checked).toBeGreaterThanOrEqual(3000);
    // The generators must exercise both outcomes, and errors, to mean anything.
    expect(fired).toBeGreaterThan(checked);
    expect(threw).toBeGreaterThan(0);
  });

  it('merge rules json-rules-engine runs (custom operators, full JSONPath) into the same order', async () => {
    const operators = {
      startsWith: (a: unknown, b: unknown) => typeof a === 'string' && typeof b === 'string' && a.startsWith(b),
      truthy: (a: unknown) => Boolean(a),
    };
    const leaf = fc.oneof(
      leafArb(),
      leafArb([...PLAIN_PATHS, '$.list[*]', '$..m', '$.list[-1:]', '$.*'], ['equal', 'notEqual', 'contains', 'greaterThan']),
      leafArb(PLAIN_PATHS, ['startsWith', 'truthy']),
    );
    let checked = 0;
    let mixed = 0;
    await fc.assert(
      fc.asyncProperty(rulesArb(leaf, 5), fc.array(factsArb, { minLength: 4, maxLength: 4 }), async (rules, factSets) => {
        const compiled = compileRules(rules, { facts: null, operators, generate });
        expect(compiled.problems).toEqual([]);
        if (!compiled.compiled) mixed++;
        const reference = createReferenceInterpreter(rules, { operators });
        for (const facts of factSets) {
          expect(await outcome(() => compiled.evaluate(facts)), JSON.stringify({ rules, facts })).toEqual(await outcome(() => reference.run(facts)));
          checked++;
        }
      }),
      { seed: 7, numRuns: 250 },
    );
    expect(checked).toBe(1000);
    expect(mixed).toBeGreaterThan(100);
  });
});
