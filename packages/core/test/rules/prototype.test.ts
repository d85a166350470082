import { describe, expect, it } from 'vitest';
import type { RulePolicy } from '../../src/policy/types.js';
import { compileRules, type FiredEvent } from '../../src/rules/compile.js';
import { createReferenceInterpreter } from '../../src/rules/reference.js';

const rule = (condition: Record<string, unknown>): RulePolicy => ({ conditions: { all: [condition] } as RulePolicy['conditions'], event: { type: 'block' } });
/** Whether the rule fires compiled: generated code and closures must agree. */
const compiledFires = (r: RulePolicy, facts: Record<string, unknown>) => {
  const [generated, closures] = [true, false].map((generate) => (compileRules([r], { facts: null, generate }).evaluate(facts) as FiredEvent[]).length === 1);
  expect(generated).toBe(closures);
  return generated!;
};
const referenceFires = async (r: RulePolicy, facts: Record<string, unknown>) => (await createReferenceInterpreter([r]).run(facts)).length === 1;

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

describe('prototype keys resolve as own properties only', () => {
  it('as fact names: a missing prototype key is missing, not Object.prototype', async () => {
    for (const fact of PROTOTYPE_KEYS) {
      for (const operator of ['equal', 'notEqual']) {
        const r = rule({ fact, operator, value: null });
        expect(compiledFires(r, {}), `${fact} ${operator}`).toBe(operator === 'notEqual');
        expect(await referenceFires(r, {}), `${fact} ${operator}`).toBe(operator === 'notEqual');
      }
      // …and a path into it finds nothing either
      expect(compiledFires(rule({ fact, path: '$.name', operator: 'equal', value: 'Object' }), {})).toBe(false);
    }
  });

  it('as fact names: an own key of that name (JSON.parse makes them) is read', async () => {
    const facts = JSON.parse('{"__proto__": {"polluted": 1}, "constructor": "own"}');
    for (const r of [rule({ fact: '__proto__', path: '$.polluted', operator: 'equal', value: 1 }), rule({ fact: 'constructor', operator: 'equal', value: 'own' })]) {
      expect(compiledFires(r, facts)).toBe(true);
      expect(await referenceFires(r, facts)).toBe(true);
    }
  });

  it('in paths: every step is an own property, on objects, arrays and strings', async () => {
    const facts = { x: { a: 'text', list: [1] } };
    for (const key of PROTOTYPE_KEYS) {
      for (const path of [`$.${key}`, `$['${key}']`, `$.a.${key}`, `$.list.${key}`, `$.${key}.name`, `$.${key}.${key}`]) {
        const r = rule({ fact: 'x', path, operator: 'equal', value: undefined });
        expect(compiledFires(r, facts), path).toBe(true); // resolves to undefined
        expect(await referenceFires(r, facts), path).toBe(true);
      }
    }
  });

  it('never writes to Object.prototype, whatever the rules and facts', async () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const rules: RulePolicy[] = PROTOTYPE_KEYS.flatMap((key) => [
      rule({ fact: key, path: `$.${key}.polluted`, operator: 'notEqual', value: 1 }),
      rule({ fact: 'x', path: `$.__proto__.${key}`, operator: 'in', value: { fact: key, path: '$.__proto__' } }),
    ]);
    const facts = JSON.parse('{"x": {"__proto__": {"polluted": true}}, "__proto__": {"__proto__": {"polluted": 1}}, "constructor": {"prototype": {"polluted": 1}}}');
    const compiled = compileRules(rules, { facts: null });
    try {
      compiled.evaluate(facts);
    } catch {
      // `in` against a non-array may throw; what matters is what it did not write
    }
    await createReferenceInterpreter(rules).run(facts).catch(() => undefined);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('ignores a polluted Object.prototype (json-rules-engine would not: its for…in reads inherited facts)', () => {
    const proto = Object.prototype as Record<string, unknown>;
    const compiled = compileRules([rule({ fact: 'score', operator: 'greaterThan', value: 50 }), rule({ fact: 'actor', path: '$.status', operator: 'equal', value: 'verified' })]);
    try {
      proto.score = 100;
      proto.status = 'verified';
      expect(compiled.evaluate({ actor: {} })).toEqual([]);
    } finally {
      delete proto.score;
      delete proto.status;
    }
  });
});
