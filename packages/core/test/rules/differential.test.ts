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

describe('many events of one priority, fired out of order', () => {
  it.each([true, false])('come out in json-rules-engine order (generate: %s), past the size where the evaluator sorts instead of inserting', async (generate) => {
    // Rule i checks 1–13 conditions, so the ticks at which rules settle go up and down through
    // policy order, with many ties; rules of two priorities interleave.
    const rules = Array.from({ length: 300 }, (_, i) => ({
      name: `r${i}`,
      priority: i % 3 === 0 ? 2 : 1,
      conditions: { all: Array.from({ length: ((i * 7) % 13) + 1 }, (_, j) => ({ fact: 'a', operator: 'greaterThan', value: -j - 1 })) },
      event: { type: 'score' as const, params: { add: i } },
    }));
    const compiled = compileRules(rules, { facts: null, generate });
    expect(compiled.compiled).toBe(true);
    const reference = createReferenceInterpreter(rules);
    for (const facts of [{ a: 5 }, { a: -3 }, { a: -20 }]) {
      const expected = await outcome(() => reference.run(facts));
      expect(await outcome(() => compiled.evaluate(facts))).toEqual(expected);
    }
    // All fire at a: 5, and not in policy order: the sorting path was taken.
    const all = await outcome(() => compiled.evaluate({ a: 5 }));
    expect(all).toHaveLength(300);
    const indexes = (all as string[]).map((e) => Number(e.split(':')[0]));
    expect(indexes.filter((index) => index % 3 === 0)).not.toEqual(Array.from({ length: 100 }, (_, i) => i * 3));
  });
});
