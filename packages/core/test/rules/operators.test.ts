import { describe, expect, it } from 'vitest';
import type { RulePolicy } from '../../src/policy/types.js';
import { compileRules, type FiredEvent } from '../../src/rules/compile.js';
import { resolveOperator } from '../../src/rules/operators.js';
import { createReferenceInterpreter } from '../../src/rules/reference.js';

/**
 * Each case runs one condition both ways — compiled, and on json-rules-engine — and expects
 * `true` (fires), `false`, or `'throws'`.
 */
type Outcome = boolean | 'throws';
const leafRule = (condition: Record<string, unknown>): RulePolicy => ({ conditions: { all: [condition] } as RulePolicy['conditions'], event: { type: 'block' } });

async function bothWays(rule: RulePolicy, facts: Record<string, unknown>): Promise<[Outcome, Outcome]> {
  const compiled = compileRules([rule], { facts: null });
  expect(compiled.problems).toEqual([]);
  expect(compiled.compiled).toBe(true);
  const settle = async (run: () => FiredEvent[] | Promise<FiredEvent[]>): Promise<Outcome> => {
    try {
      return (await run()).length === 1;
    } catch {
      return 'throws';
    }
  };
  return [await settle(() => compiled.evaluate(facts)), await settle(() => createReferenceInterpreter([rule]).run(facts))];
}

const MISSING = Symbol('missing');
const check = async (operator: string, fact: unknown, value: unknown, expected: Outcome) => {
  const facts = fact === MISSING ? {} : { x: fact };
  expect(await bothWays(leafRule({ fact: 'x', operator, value }), facts)).toEqual([expected, expected]);
};

describe('built-in operators, json-rules-engine semantics', () => {
  it.each<[string, unknown, unknown, Outcome]>([
    ['equal', 5, 5, true],
    ['equal', '5', 5, false],
    ['equal', [1], [1], false], // strict equality: arrays by identity
    ['equal', null, null, true],
    ['equal', MISSING, null, false],
    ['notEqual', 5, 6, true],
    ['notEqual', MISSING, 5, true], // trap: passes on a missing fact
    ['notEqual', null, 'verified', true],
  ])('%s: fact %o, value %o → %s', (op, fact, value, expected) => check(op, fact, value, expected));

  it.each<[string, unknown, unknown, Outcome]>([
    ['in', 'b', ['a', 'b'], true],
    ['in', 'c', ['a', 'b'], false],
    ['in', 'ell', 'hello', true], // trap: a string value matches substrings
    ['in', '', 'hello', true],
    ['in', MISSING, 'an undefined value', true], // indexOf(undefined) searches "undefined"
    ['in', 1, '312', true], // indexOf coerces the fact to a string
    ['in', MISSING, ['a'], false],
    ['notIn', 'z', ['a'], true],
    ['notIn', 'ell', 'hello', false],
    ['notIn', MISSING, ['a'], true], // passes on a missing fact, like notEqual
  ])('%s: fact %o, value %o → %s', (op, fact, value, expected) => check(op, fact, value, expected));

  it.each<[string, unknown, unknown, Outcome]>([
    ['contains', ['a', 'b'], 'b', true],
    ['contains', 'abc', 'b', false], // trap: only arrays contain
    ['contains', MISSING, 'b', false],
    ['contains', [[1]], [1], false],
    ['doesNotContain', ['a'], 'b', true],
    ['doesNotContain', 'abc', 'z', false], // not an array: false, not true
    ['doesNotContain', MISSING, 'z', false],
  ])('%s: fact %o, value %o → %s', (op, fact, value, expected) => check(op, fact, value, expected));

  it.each<[string, unknown, unknown, Outcome]>([
    ['lessThan', 3, 5, true],
    ['lessThan', '3', 5, true], // trap: numeric strings pass the validator
    ['lessThan', 'abc', 5, false],
    ['lessThan', MISSING, 5, false],
    ['lessThan', null, 5, false], // parseFloat(null) is NaN, though null < 5
    ['lessThan', true, 5, false],
    ['lessThan', [2], 3, true], // parseFloat([2]) is 2, and [2] < 3
    ['lessThan', '', 5, false],
    ['lessThanInclusive', 5, 5, true],
    ['greaterThan', '10px', 9, false], // passes parseFloat, then '10px' > 9 is NaN > 9
    ['greaterThan', 'Infinity', 9, true],
    ['greaterThan', '9', '10', true], // trap: a string value compares strings
    ['greaterThan', Number.NaN, 0, false],
    ['greaterThanInclusive', '10', 10, true],
    ['greaterThanInclusive', ' 10 ', 10, true],
  ])('%s: fact %o, value %o → %s', (op, fact, value, expected) => check(op, fact, value, expected));
});

describe('operator decorators', () => {
  it.each<[string, unknown, unknown, Outcome]>([
    ['not:equal', MISSING, 'x', true],
    ['not:in', 'b', ['a', 'b'], false],
    ['someFact:equal', [1, 2], 2, true],
    ['someFact:equal', 2, 2, false], // the fact must be an array
    ['everyFact:greaterThan', [3, 4], 2, true],
    ['everyFact:greaterThan', [], 2, true],
    ['someValue:equal', 'b', ['a', 'b'], true],
    ['everyValue:lessThan', 1, [2, 3], true],
    ['swap:contains', 'b', ['a', 'b'], true], // swap: the value contains the fact
    ['swap:contains', 'z', ['a', 'b'], false],
    ['swap:in', ['a', 'b'], 'b', true],
    ['not:someFact:equal', [1, 2], 3, true],
    ['someFact:someValue:equal', [1, 2], [5, 2], true],
    ['someFact:in', ['bit.ly', 'x.org'], ['bit.ly'], true],
  ])('%s: fact %o, value %o → %s', (op, fact, value, expected) => check(op, fact, value, expected));

  it('resolves names like json-rules-engine: custom operators win, unknown decorators fail', () => {
    expect(resolveOperator('not:equal', new Set())).toMatchObject({ kind: 'builtin', base: 'equal', decorators: ['not'] });
    expect(resolveOperator('equal', new Set(['equal']))).toMatchObject({ kind: 'custom' });
    expect(resolveOperator('not:startsWith', new Set(['startsWith']))).toMatchObject({ kind: 'custom', decorators: ['not'] });
    expect(resolveOperator('a:b', new Set(['a:b']))).toMatchObject({ kind: 'custom', base: 'a:b' });
    expect(resolveOperator('maybe:equal', new Set())).toBeUndefined();
    expect(resolveOperator(':equal', new Set())).toBeUndefined();
    expect(resolveOperator('toString', new Set())).toBeUndefined();
  });
});

describe('errors are json-rules-engine errors', () => {
  // Constant values that would throw are refused at load; through fact references they reach run time.
  it.each<[string, unknown]>([
    ['in', 5],
    ['in', null],
    ['in', { a: 1 }],
    ['notIn', undefined],
    ['someValue:equal', 'abc'],
    ['everyValue:equal', 3],
  ])('%s against a referenced %o throws both ways', async (operator, referenced) => {
    const rule = leafRule({ fact: 'x', operator, value: { fact: 'y' } });
    const facts = referenced === undefined ? { x: 1 } : { x: 1, y: referenced };
    expect(await bothWays(rule, facts)).toEqual(['throws', 'throws']);
  });

  it('a throwing condition throws even when its set already passed, as json-rules-engine evaluates whole sets', async () => {
    const rule: RulePolicy = { conditions: { any: [{ fact: 'x', operator: 'equal', value: 1 }, { fact: 'x', operator: 'in', value: { fact: 'missing' } }] }, event: { type: 'block' } };
    expect(await bothWays(rule, { x: 1 })).toEqual(['throws', 'throws']);
  });

  it('a condition in a later, short-circuited set is never evaluated, so cannot throw', async () => {
    const rule: RulePolicy = { conditions: { any: [{ fact: 'x', operator: 'equal', value: 1, priority: 2 }, { fact: 'x', operator: 'in', value: { fact: 'missing' } }] }, event: { type: 'block' } };
    expect(await bothWays(rule, { x: 1 })).toEqual([true, true]);
  });
});

describe('groups', () => {
  it.each<[string, RulePolicy['conditions'], Outcome]>([
    ['empty all', { all: [] }, true],
    ['empty any', { any: [] }, true], // json-rules-engine 7.3: an empty any passes too
    ['not of an empty all', { not: { all: [] } }, false],
    ['not of an empty any', { not: { any: [] } }, false],
    ['nested empty any', { all: [{ any: [] }, { fact: 'x', operator: 'equal', value: 1 }] }, true],
  ])('%s → %s', async (_, conditions, expected) => {
    expect(await bothWays({ conditions, event: { type: 'block' } }, { x: 1 })).toEqual([expected, expected]);
  });

  it('fact references compare two facts, with paths on both sides', async () => {
    const rule = leafRule({ fact: 'limits', path: '$.day.count', operator: 'greaterThanInclusive', value: { fact: 'limits', path: '$.day.max' } });
    expect(await bothWays(rule, { limits: { day: { count: 5, max: 5 } } })).toEqual([true, true]);
    expect(await bothWays(rule, { limits: { day: { count: 4, max: 5 } } })).toEqual([false, false]);
    expect(await bothWays(rule, {})).toEqual([false, false]);
  });

  it('paths apply to objects only; a non-object fact is compared as it is', async () => {
    const rule = leafRule({ fact: 'x', path: '$.y', operator: 'equal', value: 'plain' });
    expect(await bothWays(rule, { x: 'plain' })).toEqual([true, true]);
    expect(await bothWays(rule, { x: { y: 'plain' } })).toEqual([true, true]);
    expect(await bothWays(rule, { x: { z: 'plain' } })).toEqual([false, false]);
  });
});
