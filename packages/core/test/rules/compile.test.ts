import { describe, expect, it } from 'vitest';
import type { RulePolicy } from '../../src/policy/types.js';
import { compileRules, type FiredEvent } from '../../src/rules/compile.js';
import { createReferenceInterpreter } from '../../src/rules/reference.js';

const names = (events: readonly FiredEvent[]) => events.map((event) => event.rule);
const startsWith = (a: unknown, b: unknown) => typeof a === 'string' && typeof b === 'string' && a.startsWith(b);

describe('compileRules', () => {
  const rules: RulePolicy[] = [
    { name: 'low', conditions: { all: [{ fact: 'score', operator: 'greaterThan', value: 0 }] }, event: { type: 'score', params: { add: 1 } } },
    { name: 'nested', priority: 5, conditions: { all: [{ any: [{ fact: 'score', operator: 'greaterThan', value: 0 }] }, { fact: 'action', operator: 'equal', value: 'ad.submit' }] }, event: { type: 'challenge' } },
    { name: 'flat', priority: 5, conditions: { all: [{ fact: 'action', operator: 'equal', value: 'ad.submit' }] }, event: { type: 'throttle' } },
    { name: 'high', priority: 9, mode: 'monitor', conditions: { not: { fact: 'score', operator: 'lessThan', value: 1 } }, event: { type: 'block', params: { reason: 'r', ban: '1h' } } },
  ];

  it('answers synchronously when every rule compiles, in json-rules-engine order', async () => {
    const compiled = compileRules(rules);
    expect(compiled).toMatchObject({ problems: [], warnings: [], compiled: true });
    const facts = { action: 'ad.submit', score: 3 };
    const events = compiled.evaluate(facts);
    expect(Array.isArray(events)).toBe(true);
    // priority 9, then 5 (the flat rule settles before the nested one), then 1
    expect(names(events as FiredEvent[])).toEqual(['high', 'flat', 'nested', 'low']);
    expect(names(await createReferenceInterpreter(rules).run(facts))).toEqual(['high', 'flat', 'nested', 'low']);
  });

  it('says when there is no rule to run, so a guard can skip building the facts', () => {
    const none = compileRules([]);
    expect(none).toMatchObject({ problems: [], compiled: true, empty: true });
    expect(none.evaluate({})).toEqual([]);
    expect(compileRules(rules).empty).toBe(false);
    // Rules json-rules-engine runs, and a broken set (which throws when evaluated), are not empty.
    const custom = compileRules([{ name: 'custom', conditions: { all: [{ fact: 'action', operator: 'startsWith', value: 'ad.' }] }, event: { type: 'allow' } }], { operators: { startsWith } });
    expect(custom).toMatchObject({ compiled: false, empty: false });
    expect(compileRules([{ name: 'x' } as unknown as RulePolicy]).empty).toBe(false);
  });

  it('returns the same frozen event objects on every call', () => {
    const compiled = compileRules(rules);
    const [first] = compiled.evaluate({ score: 3 }) as FiredEvent[];
    const [again] = compiled.evaluate({ score: 5 }) as FiredEvent[];
    expect(first).toBe(again);
    expect(first).toEqual({ type: 'block', params: { reason: 'r', ban: '1h' }, rule: 'high', index: 3, priority: 9, mode: 'monitor' });
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first!.params)).toBe(true);
    // not(lessThan) passes on a missing score, as in json-rules-engine
    expect(names(compiled.evaluate({}) as FiredEvent[])).toEqual(['high']);
  });

  it('leaves custom operators, overridden built-ins and full JSONPath to json-rules-engine, in one order', async () => {
    const mixed: RulePolicy[] = [
      ...rules,
      { name: 'custom', priority: 5, conditions: { all: [{ fact: 'action', operator: 'startsWith', value: 'ad.' }] }, event: { type: 'score', params: { add: 2 } } },
      { name: 'decorated-custom', priority: 5, conditions: { all: [{ fact: 'action', operator: 'not:startsWith', value: 'x' }] }, event: { type: 'score', params: { add: 2 } } },
      { name: 'wildcard', conditions: { all: [{ fact: 'content', path: '$.domains[*]', operator: 'contains', value: 'bit.ly' }] }, event: { type: 'score', params: { add: 3 } } },
      { name: 'overridden', conditions: { all: [{ fact: 'action', operator: 'equal', value: 'AD.SUBMIT' }] }, event: { type: 'allow' } },
    ];
    const operators = { startsWith, equal: (a: unknown, b: unknown) => String(a).toUpperCase() === b };
    const compiled = compileRules(mixed, { operators });
    expect(compiled.problems).toEqual([]);
    expect(compiled.compiled).toBe(false);
    const facts = { action: 'ad.submit', score: 3, content: { domains: ['bit.ly'] } };
    const pending = compiled.evaluate(facts);
    expect(pending).toBeInstanceOf(Promise);
    const expected = names(await createReferenceInterpreter(mixed, { operators }).run(facts));
    // The custom `equal` replaces the built-in for every rule, as it does in json-rules-engine:
    // nested and flat no longer match, overridden does.
    expect(expected).toEqual(['high', 'custom', 'decorated-custom', 'low', 'overridden', 'wildcard']);
    expect(names(await pending)).toEqual(expected);
  });

  it('rejects when a custom operator throws', async () => {
    const compiled = compileRules([{ conditions: { all: [{ fact: 'action', operator: 'explode', value: 1 }] }, event: { type: 'block' } }], {
      operators: {
        explode: () => {
          throw new Error('boom');
        },
      },
    });
    await expect(compiled.evaluate({ action: 'x' })).rejects.toThrow('boom');
  });

  it('takes any fact names when asked, and a custom fact list', () => {
    const r: RulePolicy[] = [{ name: 'c', conditions: { all: [{ fact: 'country', operator: 'in', value: ['KP'] }] }, event: { type: 'block' } }];
    expect(compileRules(r).problems).toHaveLength(1);
    expect(names(compileRules(r, { facts: ['country'] }).evaluate({ country: 'KP' }) as FiredEvent[])).toEqual(['c']);
    expect(names(compileRules(r, { facts: null }).evaluate({ country: 'KP' }) as FiredEvent[])).toEqual(['c']);
  });

  it('compiles an empty rule list', () => {
    const compiled = compileRules([]);
    expect(compiled.compiled).toBe(true);
    expect(compiled.evaluate({})).toEqual([]);
  });
});
