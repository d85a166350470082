import { describe, expect, it } from 'vitest';
import type { RulePolicy } from '../../src/policy/types.js';
import { compileRules } from '../../src/rules/compile.js';

const r = (rule: unknown) => rule as RulePolicy;
const problemsOf = (rules: unknown[], options = {}) => compileRules(rules as RulePolicy[], options).problems.map((p) => [p.rule, p.pointer, p.message]);
const warningsOf = (rules: unknown[], options = {}) => compileRules(rules as RulePolicy[], options).warnings.map((p) => [p.rule, p.pointer, p.message]);

describe('load-time problems name the rule and point at the spot', () => {
  it('unknown operators, facts and event types, score without add', () => {
    expect(problemsOf([
      { name: 'r0', conditions: { all: [{ fact: 'score', operator: 'greaterThan', value: 1 }, { fact: 'score', operator: 'bigger', value: 1 }] }, event: { type: 'block' } },
      { name: 'r1', conditions: { any: [{ fact: 'sore', operator: 'equal', value: 1 }] }, event: { type: 'explode' } },
      { name: 'r2', conditions: { all: [] }, event: { type: 'score', params: { add: '5' } } },
      { conditions: { not: { fact: 'ip.address', operator: 'equal', value: 1 } }, event: { type: 'score' } },
      { name: 'r4', conditions: { all: [{ fact: 'action', operator: 'maybe:equal', value: 'x' }] }, event: { type: 'block' } },
    ])).toEqual([
      ['r0', '/rules/0/conditions/all/1/operator', expect.stringMatching(/unknown operator "bigger" \(known: equal, notEqual, .*decorators: someFact:/)],
      ['r1', '/rules/1/event/type', expect.stringMatching(/unknown event type "explode"/)],
      ['r1', '/rules/1/conditions/any/0/fact', expect.stringMatching(/unknown fact "sore" \(known: action, ip, actor, content, limits, history, score, attributes\)/)],
      ['r2', '/rules/2/event/params/add', expect.stringMatching(/numeric "add"/)],
      ['rules[3]', '/rules/3/event/params/add', expect.any(String)],
      ['rules[3]', '/rules/3/conditions/not/fact', expect.stringMatching(/fact names are not paths: use "fact": "ip" with "path": "\$\.address"/)],
      ['r4', '/rules/4/conditions/all/0/operator', expect.stringMatching(/unknown operator "maybe:equal"/)],
    ]);
  });

  it('malformed conditions', () => {
    const problems = problemsOf([
      { name: 'a', conditions: { all: [{ all: [], any: [] }] }, event: { type: 'block' } },
      { name: 'b', conditions: { all: [{ operator: 'equal', value: 1 }, { fact: 'score', value: 1 }, { fact: 'score', operator: 'equal' }] }, event: { type: 'block' } },
      { name: 'c', conditions: { all: [5, null, [], { not: [] }, { any: {} }] }, event: { type: 'block' } },
      { name: 'd', conditions: { all: [], any: [] }, event: { type: 'block' } },
      { name: 'e', conditions: { some: [] }, event: { type: 'block' } },
      { name: 'f', conditions: { all: [{ condition: 'shared' }] }, event: { type: 'block' } },
      { name: 'g', conditions: { condition: 'shared' }, event: { type: 'block' } },
      { name: 'h', event: { type: 'block' } },
      { name: 'i', conditions: { all: [] } },
      'not a rule',
    ]);
    expect(problems.map(([rule, pointer]) => `${rule} ${pointer}`)).toEqual([
      'a /rules/0/conditions/all/0',
      'b /rules/1/conditions/all/0/fact',
      'b /rules/1/conditions/all/1/operator',
      'b /rules/1/conditions/all/2/value',
      'c /rules/2/conditions/all/0',
      'c /rules/2/conditions/all/1',
      'c /rules/2/conditions/all/2',
      'c /rules/2/conditions/all/3/not',
      'c /rules/2/conditions/all/4/any',
      'd /rules/3/conditions',
      'e /rules/4/conditions',
      'f /rules/5/conditions/all/0/condition',
      'g /rules/6/conditions/condition',
      'h /rules/7/conditions',
      'i /rules/8/event',
      'rules[9] /rules/9',
    ]);
    expect(problems.find(([rule]) => rule === 'f')![2]).toMatch(/condition references are not supported/);
  });

  it('priorities past a safe integer, which json-rules-engine reads as 1 (parseInt("1e+21"))', () => {
    expect(problemsOf([
      { name: 'huge', priority: 1e21, conditions: { any: [{ fact: 'score', operator: 'equal', value: 1, priority: 1e21 }, { fact: 'score', operator: 'equal', value: 2 }] }, event: { type: 'block' } },
    ]).map(([rule, pointer]) => `${rule} ${pointer}`)).toEqual(['huge /rules/0/priority', 'huge /rules/0/conditions/any/0/priority']);
    expect(problemsOf([{ priority: Number.MAX_SAFE_INTEGER, conditions: { all: [] }, event: { type: 'block' } }])).toEqual([]);
  });

  it('priorities, modes, names, paths and values json-rules-engine would trip on', () => {
    expect(problemsOf([
      { name: 'p', priority: 0, mode: 'shadow', conditions: { all: [{ fact: 'score', operator: 'equal', value: 1, priority: 1.5 }] }, event: { type: 'block' } },
      { name: 'q', conditions: { any: [{ fact: 'ip', path: 'lists', operator: 'contains', value: 'x' }, { fact: 'ip', path: '$.lists[0', operator: 'equal', value: 'x' }] }, event: { type: 'block' } },
      { name: 'v', conditions: { all: [{ fact: 'action', operator: 'in', value: 5 }, { fact: 'action', operator: 'someValue:equal', value: 'x' }, { fact: 'action', operator: 'equal', value: { fact: 'nope' } }] }, event: { type: 'block' } },
      { name: '', conditions: { all: [] }, event: { type: 'block' } },
    ]).map(([rule, pointer]) => `${rule} ${pointer}`)).toEqual([
      'p /rules/0/priority',
      'p /rules/0/mode',
      'p /rules/0/conditions/all/0/priority',
      'q /rules/1/conditions/any/0/path',
      'q /rules/1/conditions/any/1/path',
      'v /rules/2/conditions/all/0/value',
      'v /rules/2/conditions/all/1/value',
      'v /rules/2/conditions/all/2/value/fact',
      'rules[3] /rules/3/name',
    ]);
  });

  it('uses the pointer, fact list and operators it is given', () => {
    const rules = [{ name: 'x', conditions: { all: [{ fact: 'country', operator: 'startsWith', value: 'F' }] }, event: { type: 'block' } }];
    expect(problemsOf(rules).map(([, pointer]) => pointer)).toEqual(['/rules/0/conditions/all/0/fact', '/rules/0/conditions/all/0/operator']);
    expect(problemsOf(rules, { facts: ['country'], operators: { startsWith: () => true } })).toEqual([]);
    expect(problemsOf(rules, { facts: null, operators: { startsWith: () => true }, pointer: '/policies/2/rules' })).toEqual([]);
    expect(compileRules(rules as RulePolicy[], { pointer: '/x/rules' }).problems[0]!.pointer).toBe('/x/rules/0/conditions/all/0/fact');
    // attributes is open: any path under it is fine
    expect(problemsOf([{ conditions: { all: [{ fact: 'attributes', path: '$.anything.at.all', operator: 'equal', value: 1 }] }, event: { type: 'block' } }])).toEqual([]);
  });

  it('never throws, and evaluate refuses to run rules with problems', () => {
    const compiled = compileRules([r({ conditions: { all: [{ fact: 'score', operator: 'bigger', value: 1 }] }, event: { type: 'block' } }), r({ conditions: { all: [] }, event: { type: 'block' } })]);
    expect(compiled.problems).toHaveLength(1);
    expect(() => compiled.evaluate({ score: 5 })).toThrow(expect.objectContaining({ code: 'POLICY_INVALID' }));
    expect(compileRules('nope' as never).problems).toEqual([{ pointer: '/rules', message: expect.any(String) }]);
  });
});

describe('warnings for the json-rules-engine traps', () => {
  it('in / notIn with a string value, numeric operators with a non-number, operators passing on a missing fact', () => {
    expect(warningsOf([
      { name: 'w', conditions: { all: [
        { fact: 'action', operator: 'in', value: 'ad.submit' },
        { fact: 'score', operator: 'greaterThan', value: '10' },
        { fact: 'actor', path: '$.status', operator: 'notEqual', value: 'verified' },
        { fact: 'actor', path: '$.status', operator: 'notIn', value: ['verified'] },
        { fact: 'actor', path: '$.status', operator: 'not:equal', value: 'verified' },
        { fact: 'content', path: '$.domains', operator: 'someFact:in', value: 'bit.ly t.co' },
        { fact: 'score', operator: 'everyValue:lessThan', value: [1, '2'] },
      ] }, event: { type: 'block' } },
    ])).toEqual([
      ['w', '/rules/0/conditions/all/0/value', expect.stringMatching(/"in" with a string value matches substrings/)],
      ['w', '/rules/0/conditions/all/1/value', expect.stringMatching(/"greaterThan" compares with a non-number value "10"/)],
      ['w', '/rules/0/conditions/all/2/operator', expect.stringMatching(/"notEqual" passes when actor \$\.status is missing/)],
      ['w', '/rules/0/conditions/all/3/operator', expect.stringMatching(/"notIn" passes when actor \$\.status is missing/)],
      ['w', '/rules/0/conditions/all/4/operator', expect.stringMatching(/"not:equal" passes when/)],
      ['w', '/rules/0/conditions/all/5/value', expect.stringMatching(/substrings/)],
      ['w', '/rules/0/conditions/all/6/value', expect.stringMatching(/non-number value "2"/)],
    ]);
  });

  it('operators that throw when a fact is missing, which makes evaluate reject for the action', async () => {
    const rules = [
      { name: 'ref', conditions: { all: [{ fact: 'ip', path: '$.address', operator: 'in', value: { fact: 'attributes', path: '$.blocked' } }] }, event: { type: 'block' } },
      { name: 'swap', conditions: { all: [{ fact: 'attributes', path: '$.tags', operator: 'swap:in', value: 'spam' }] }, event: { type: 'block' } },
      { name: 'each', conditions: { all: [{ fact: 'score', operator: 'someValue:equal', value: { fact: 'attributes', path: '$.scores' } }] }, event: { type: 'block' } },
      { name: 'some', conditions: { all: [{ fact: 'content', path: '$.domains', operator: 'someFact:in', value: { fact: 'attributes', path: '$.bad' } }] }, event: { type: 'block' } },
    ];
    expect(warningsOf(rules)).toEqual([
      ['ref', '/rules/0/conditions/all/0/value', expect.stringMatching(/"in" throws when attributes \$\.blocked is missing.*rejects/)],
      ['swap', '/rules/1/conditions/all/0/operator', expect.stringMatching(/"swap:in" throws when attributes \$\.tags is missing.*rejects/)],
      ['each', '/rules/2/conditions/all/0/value', expect.stringMatching(/"someValue:equal" throws when attributes \$\.scores is missing/)],
      ['some', '/rules/3/conditions/all/0/value', expect.stringMatching(/"someFact:in" throws when attributes \$\.bad is missing/)],
    ]);
    // What the warnings are about: each rule throws on facts without the attribute.
    for (const rule of rules) expect(() => compileRules([rule as RulePolicy]).evaluate({ ip: { address: '192.0.2.1' }, score: 1, content: { domains: ['x.org'] }, attributes: {} })).toThrow(TypeError);
    // A fact reference that cannot throw is no trap.
    expect(warningsOf([{ conditions: { all: [{ fact: 'score', operator: 'greaterThan', value: { fact: 'limits', path: '$.day.max' } }, { fact: 'actor', path: '$.id', operator: 'contains', value: { fact: 'attributes' } }] }, event: { type: 'block' } }])).toEqual([]);
  });

  it('stays quiet about sound rules, and checks tighten params', () => {
    expect(warningsOf([{ conditions: { all: [{ fact: 'action', operator: 'in', value: ['a'] }, { fact: 'score', operator: 'greaterThan', value: 10 }, { fact: 'attributes', path: '$.ua', operator: 'equal', value: null }, { fact: 'x', operator: 'notEqual', value: { fact: 'y' } }] }, event: { type: 'block' } }], { facts: null })).toEqual([]);
    const tighten = (params: unknown) => [{ name: 't', conditions: { all: [] }, event: { type: 'tighten', params } }];
    expect(warningsOf(tighten({ factor: 0.5, for: '1h' }))).toEqual([]);
    expect(problemsOf(tighten({ factor: 0.5, for: '1h' }))).toEqual([]);
    expect(warningsOf(tighten({ factor: 0.05 }))).toEqual([['t', '/rules/0/event/params/factor', expect.stringMatching(/never tightened below a tenth/)]]);
    expect(problemsOf(tighten({ factor: 1.5, for: 'an hour' }))).toEqual([
      ['t', '/rules/0/event/params/factor', expect.stringMatching(/between 0 and 1/)],
      ['t', '/rules/0/event/params/for', expect.stringMatching(/not a duration/)],
    ]);
    expect(problemsOf(tighten(undefined))).toEqual([['t', '/rules/0/event/params/factor', expect.stringMatching(/between 0 and 1/)]]);
  });
});

describe('event params that do nothing are warned about', () => {
  // The schema lets any param through, and each verdict reads only its own: a block with
  // "bans": "24h" (or "ban" on a throttle) validated clean and banned no one.
  it('an unknown param, and a known one on an event type that ignores it', () => {
    expect(warningsOf([
      { name: 'typo', conditions: { all: [] }, event: { type: 'block', params: { bans: '24h', reason: 'spam' } } },
      { name: 'wrong-type', conditions: { all: [] }, event: { type: 'throttle', params: { ban: '24h', retryAfter: '1m' } } },
      { name: 'fine', conditions: { all: [] }, event: { type: 'tighten', params: { factor: 0.5, for: '1h', reason: 'x' } } },
    ])).toEqual([
      ['typo', '/rules/0/event/params/bans', expect.stringMatching(/"bans" is not an event param and does nothing \(block events read reason, ban\)/)],
      ['wrong-type', '/rules/1/event/params/ban', expect.stringMatching(/"ban" does nothing on a throttle event \(throttle events read reason, retryAfter\)/)],
    ]);
  });
});
