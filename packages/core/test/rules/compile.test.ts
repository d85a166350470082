import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RulePolicy } from '../../src/policy/types.js';
import { compileRules, type FiredEvent } from '../../src/rules/compile.js';
import { parsePath } from '../../src/rules/conditions.js';
import { createReferenceInterpreter } from '../../src/rules/reference.js';

const fixture: RulePolicy[] = JSON.parse(readFileSync(new URL('./fixtures/classifieds-rules.json', import.meta.url), 'utf8'));
const reference = (rules: readonly RulePolicy[]) => createReferenceInterpreter(rules.map((rule, index) => ({ rule, index })));
const rule = (conditions: RulePolicy['conditions'], extra: Partial<RulePolicy> = {}): RulePolicy => ({ conditions, event: { type: 'block' }, ...extra });
const fires = (r: RulePolicy, facts: Record<string, unknown>) => (compileRules([r], { facts: null }).evaluate(facts) as FiredEvent[]).length === 1;

describe('compiled conditions keep json-rules-engine semantics, traps included', () => {
  const leaf = (operator: string, value: unknown, fact = 'x', path?: string) => rule({ all: [{ fact, operator, value, ...(path ? { path } : {}) }] });

  it.each([
    ['equal', 5, 5, true], ['equal', '5', 5, false], ['notEqual', undefined, 5, true],
    ['in', 'b', ['a', 'b'], true], ['in', 'ell', 'hello', true], ['notIn', 'z', 'hello', true],
    ['contains', ['a', 'b'], 'b', true], ['contains', 'abc', 'b', false], ['doesNotContain', 'abc', 'z', false],
    ['lessThan', '3', 5, true], ['lessThan', 'abc', 5, false], ['greaterThanInclusive', '10px', 10, false], ['greaterThanInclusive', '10', 10, true],
    ['greaterThan', null, -1, false], ['lessThanInclusive', [2], 3, true],
  ])('%s: fact %j value %j → %s', async (operator, fact, value, expected) => {
    const r = leaf(operator, value);
    expect(fires(r, { x: fact })).toBe(expected);
    expect((await reference([r]).run({ x: fact })).length === 1).toBe(expected);
  });

  it('treats an empty any like json-rules-engine: true', async () => {
    expect(fires(rule({ any: [] }), {})).toBe(true);
    expect((await reference([rule({ any: [] })]).run({})).length).toBe(1);
  });

  it('applies a path only to objects', async () => {
    const r = leaf('equal', 'plain', 'x', '$.y');
    expect(fires(r, { x: 'plain' })).toBe(true);
    expect((await reference([r]).run({ x: 'plain' })).length).toBe(1);
  });

  it('never reads through prototypes', async () => {
    for (const path of ['$.constructor', '$.__proto__', '$.toString']) {
      const r = leaf('notEqual', null, 'x', path);
      const facts = { x: {} };
      expect(fires(r, facts)).toBe((await reference([r]).run(facts)).length === 1);
    }
    expect(fires(leaf('equal', undefined, 'constructor'), {})).toBe(true);
  });

  it('parses simple JSONPath and leaves the rest to json-rules-engine', () => {
    expect(parsePath('$.a.b')).toEqual(['a', 'b']);
    expect(parsePath('$.limits.actor-daily.remaining')).toEqual(['limits', 'actor-daily', 'remaining']);
    expect(parsePath("$['a b'][0]")).toEqual(['a b', '0']);
    for (const complex of ['$..a', '$.a[*]', '$.a[?(@.b)]', '$.a[-1]', '$.a[0:2]', 'a.b']) expect(parsePath(complex), complex).toBeNull();
  });
});

describe('load-time checks', () => {
  it('reports unknown operators, facts, event types and malformed conditions with pointers and rule names', () => {
    const { problems } = compileRules([
      { name: 'r0', conditions: { all: [{ fact: 'score', operator: 'bigger', value: 1 }] }, event: { type: 'block' } },
      { name: 'r1', conditions: { any: [{ fact: 'sore', operator: 'equal', value: 1 }] }, event: { type: 'explode' as never } },
      { name: 'r2', conditions: { all: [{ all: [], any: [] } as never] }, event: { type: 'score' } },
      { name: 'r3', conditions: { all: [{ fact: 'score', operator: 'in', value: 5 }] }, event: { type: 'block' } },
    ]);
    expect(problems.map((p) => [p.rule, p.pointer])).toEqual(expect.arrayContaining([
      ['r0', '/rules/0/conditions/all/0/operator'],
      ['r1', '/rules/1/conditions/any/0/fact'],
      ['r1', '/rules/1/event/type'],
      ['r2', '/rules/2/event/params/add'],
      ['r2', '/rules/2/conditions/all/0'],
      ['r3', '/rules/3/conditions/all/0/value'],
    ]));
  });

  it('warns about the json-rules-engine traps', () => {
    const { warnings, problems } = compileRules([
      { name: 'w', conditions: { all: [{ fact: 'action', operator: 'in', value: 'ad.submit' }, { fact: 'score', operator: 'greaterThan', value: '10' }, { fact: 'actor', path: '$.status', operator: 'notEqual', value: 'verified' }] }, event: { type: 'block' } },
    ]);
    expect(problems).toEqual([]);
    expect(warnings.map((w) => w.message)).toEqual([expect.stringMatching(/substrings/), expect.stringMatching(/non-number/), expect.stringMatching(/missing/)]);
  });

  it('warns that tighten events are not applied yet', () => {
    const { warnings, problems } = compileRules([{ name: 't', conditions: { all: [] }, event: { type: 'tighten', params: { factor: 0.5, for: '1h' } } }]);
    expect(problems).toEqual([]);
    expect(warnings).toEqual([expect.objectContaining({ pointer: '/rules/0/event/type', rule: 't', message: expect.stringMatching(/not applied yet/) })]);
  });

  it('runs custom operators through json-rules-engine and keeps priority order', async () => {
    const rules: RulePolicy[] = [
      { name: 'low', priority: 1, conditions: { all: [{ fact: 'score', operator: 'greaterThan', value: 0 }] }, event: { type: 'score', params: { add: 1 } } },
      { name: 'custom', priority: 5, conditions: { all: [{ fact: 'action', operator: 'startsWith', value: 'ad.' }] }, event: { type: 'challenge' } },
      { name: 'high', priority: 9, conditions: { all: [{ fact: 'score', operator: 'greaterThan', value: 0 }] }, event: { type: 'block' } },
    ];
    const compiled = compileRules(rules, { operators: { startsWith: (a, b) => typeof a === 'string' && a.startsWith(b as string) } });
    expect(compiled.compiled).toBe(false);
    const events = await compiled.evaluate({ action: 'ad.submit', score: 3 });
    expect(events.map((e) => e.rule)).toEqual(['high', 'custom', 'low']);
  });
});

// ---------------------------------------------------------------------------------------------
// Differential: compiled rules against json-rules-engine on random rules and random facts.

const factNames = ['a', 'b', 'c', 'score'];
const scalar = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('1', '2', 'x', 'ab', '', '3.5', 'NaN'), fc.boolean(), fc.constant(null));
const factValue = fc.oneof(
  scalar,
  fc.constant(undefined),
  fc.array(scalar, { maxLength: 3 }),
  fc.record({ k: scalar, n: fc.oneof(scalar, fc.record({ m: scalar })), list: fc.array(scalar, { maxLength: 3 }) }, { requiredKeys: [] }),
);
const operators = ['equal', 'notEqual', 'in', 'notIn', 'contains', 'doesNotContain', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'];
const leafArb = fc.record({
  fact: fc.constantFrom(...factNames),
  operator: fc.constantFrom(...operators),
  path: fc.option(fc.constantFrom('$.k', '$.n.m', '$.list[0]', '$["k"]', '$.missing'), { nil: undefined }),
  value: fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.constantFrom('ab', 'x1')),
  ref: fc.boolean(),
}).map(({ fact, operator, path, value, ref }) => {
  const needsList = operator === 'in' || operator === 'notIn';
  const v = ref ? { fact: 'c', path: '$.list' } : needsList && !Array.isArray(value) && typeof value !== 'string' ? [value] : value;
  return { fact, operator, value: v, ...(path ? { path } : {}) };
});
const conditionArb: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafArb, tie('all'), tie('any'), tie('not')),
  all: fc.array(tie('node'), { maxLength: 3 }).map((all) => ({ all })),
  any: fc.array(tie('node'), { maxLength: 3 }).map((any) => ({ any })),
  not: tie('node').map((not) => ({ not })),
})).node;
const ruleArb = fc.record({
  conditions: fc.oneof(
    fc.array(conditionArb, { maxLength: 3 }).map((all) => ({ all })),
    fc.array(conditionArb, { maxLength: 3 }).map((any) => ({ any })),
    conditionArb.map((not) => ({ not })),
  ),
  priority: fc.integer({ min: 1, max: 3 }),
  type: fc.constantFrom('block', 'challenge', 'throttle', 'allow'),
}).map(({ conditions, priority, type }) => ({ conditions, priority, event: { type } }) as RulePolicy);
// structuredClone gives ordinary objects (fast-check may build null-prototype ones, which no host sends).
const factsArb = fc.record(Object.fromEntries(factNames.map((f) => [f, factValue])), { requiredKeys: [] }).map((f) => structuredClone(f));

const signature = (events: readonly FiredEvent[]) => events.map((e) => `${e.index}:${e.type}`);

describe('differential test against json-rules-engine', () => {
  it('fires identical events on thousands of random rule sets and fact sets', async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(ruleArb, { minLength: 1, maxLength: 6 }), fc.array(factsArb, { minLength: 5, maxLength: 5 }), async (rules, factSets) => {
        const compiled = compileRules(rules, { facts: null });
        expect(compiled.problems).toEqual([]);
        expect(compiled.compiled).toBe(true);
        const interpreter = reference(rules);
        for (const facts of factSets) {
          // A condition json-rules-engine throws on (`in` against a missing list) must throw here too.
          const expected = await interpreter.run(facts).then(signature, () => 'throws');
          let actual: string[] | 'throws';
          try {
            actual = signature(compiled.evaluate(facts) as FiredEvent[]);
          } catch {
            actual = 'throws';
          }
          expect(actual).toEqual(expected);
          checked++;
        }
      }),
      { seed: 20261123, numRuns: 700 },
    );
    expect(checked).toBeGreaterThanOrEqual(3000);
  });

  it('fires identical events for the reference classifieds rules on random realistic facts', async () => {
    const compiled = compileRules(fixture);
    expect(compiled.problems).toEqual([]);
    const interpreter = reference(fixture);
    const facts = fc.record({
      action: fc.constantFrom('ad.submit', 'comment'),
      ip: fc.option(fc.record({ address: fc.ipV4(), version: fc.constant(4), subnet: fc.ipV4(), lists: fc.subarray(['known-spam', 'staff']), banned: fc.boolean() }), { nil: null }),
      actor: fc.option(fc.record({ id: fc.string(), status: fc.constantFrom('anonymous', 'registered', 'verified', 'other'), ageMs: fc.option(fc.integer({ min: 0, max: 10 * 86_400_000 }), { nil: undefined }) }), { nil: null }),
      content: fc.record({ links: fc.integer({ min: 0, max: 5 }), duplicates: fc.integer({ min: 0, max: 8 }), length: fc.integer({ min: 0, max: 500 }), domains: fc.subarray(['bit.ly', 'a.example']) }),
      limits: fc.record({ 'actor-daily': fc.record({ remaining: fc.integer({ min: 0, max: 10 }) }) }, { requiredKeys: [] }),
      history: fc.record({ violations: fc.integer({ min: 0, max: 4 }) }),
      score: fc.integer({ min: 0, max: 120 }),
      attributes: fc.record({ tor: fc.boolean(), userAgent: fc.constantFrom('', null, 'curl', 'Mozilla/5.0'), countryRisk: fc.double({ min: 0, max: 1, noNaN: true }), emailDisposable: fc.boolean() }, { requiredKeys: [] }),
    });
    await fc.assert(
      fc.asyncProperty(facts, async (f) => {
        expect(signature(compiled.evaluate(f) as FiredEvent[])).toEqual(signature(await interpreter.run(f)));
      }),
      { seed: 5, numRuns: 1500 },
    );
  });

  it('stays correct when reference runs overlap (no shared engine status)', async () => {
    const rules: RulePolicy[] = [
      { priority: 3, conditions: { all: [{ fact: 'score', operator: 'greaterThan', value: 0 }] }, event: { type: 'block' } },
      { priority: 2, conditions: { all: [{ fact: 'score', operator: 'greaterThan', value: 1 }] }, event: { type: 'challenge' } },
      { priority: 1, conditions: { all: [{ fact: 'score', operator: 'greaterThan', value: 2 }] }, event: { type: 'throttle' } },
    ];
    const interpreter = reference(rules);
    const runs = await Promise.all(Array.from({ length: 200 }, (_, i) => interpreter.run({ score: (i % 4) })));
    runs.forEach((events, i) => expect(events.length).toBe(Math.min(i % 4, 3)));
  });
});
