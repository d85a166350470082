/**
 * Condition paths beyond plain member access run on jsonpath-plus. A filter with a syntax error
 * (`$.a[?(@.b ==)]`) passed load, and then every evaluate rejected; a filter that fails on the
 * facts at hand (a null element, a script whose result is no key) rejected that evaluate. Now
 * the first is a PolicyError at load, naming the rule and the condition, and the second selects
 * nothing; filters run in jsonpath-plus's safe mode, so a hostile one cannot reach `process`.
 */
import { JSONPath } from 'jsonpath-plus';
import { describe, expect, it, vi } from 'vitest';
import { compilePolicy, createGuard, PolicyError, type PolicyDocument } from '../../src/index.js';
import { resolveJsonPath } from '../../src/rules/paths.js';

const ruleOn = (path: string, value: unknown = true, operator = 'equal'): PolicyDocument => ({
  name: 'paths',
  rules: [{ name: 'by-path', conditions: { all: [{ fact: 'attributes', path, operator, value }] }, event: { type: 'block' } }],
} as PolicyDocument);

const problemsOf = (policy: PolicyDocument) => {
  try {
    compilePolicy(policy);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return (error as PolicyError).problems.map((p) => ({ pointer: p.pointer, rule: p.rule, message: p.message }));
  }
};

describe('JSONPath syntax is checked at load', () => {
  it.each([
    ['$.a[?(@.b ==)]', /Expected expression after ==/],
    ['$.items[?(@.price > )].id', /Expected expression/],
    ['$.a[(@.length - )]', /Expected expression/],
    ['$.a[?(@.b = = 1)]', /Expected expression/],
    ['$.a[?(@.x),?(@.y ==)]', /Unexpected/],
  ])('%s is a PolicyError at the condition\'s path, naming the rule', (path, message) => {
    const problems = problemsOf(ruleOn(path));
    expect(problems).toEqual([{ pointer: '/rules/0/conditions/all/0/path', rule: 'by-path', message: expect.stringMatching(message) }]);
    expect(problems[0]!.message).toContain(path);
  });

  it('checks the path of a fact a condition compares with, too', () => {
    const policy = ruleOn('$.a', { fact: 'attributes', path: '$.b[?(@.c ==)]' });
    expect(problemsOf(policy)).toEqual([{ pointer: '/rules/0/conditions/all/0/value/path', rule: 'by-path', message: expect.stringContaining('$.b[?(@.c ==)]') }]);
  });

  it.each(['$.items[?(@.price > 10)].id', '$..sku', '$.a[(@.length-1)]', '$.a[?(@.b == "x" && @.c)]', '$.a[0,1]', '$.a[-1:]', '$.a.*', '$.tags[?(@ == "vip")]', '$.a[?(@property === "x")]'])('%s still loads', (path) => {
    expect(problemsOf(ruleOn(path))).toEqual([]);
  });
});

describe('JSONPath at run time', () => {
  it('a filter that fails on one element (null) selects the others instead of rejecting evaluate', async () => {
    const guard = createGuard({ policy: ruleOn('$.items[?(@.price > 10)].price', 20, 'contains') });
    const d = await guard.evaluate({ action: 'buy', attributes: { items: [null, 3, { price: 20 }] } });
    expect(d.verdict).toBe('block');
    expect((await guard.evaluate({ action: 'buy', attributes: { items: [null] } })).verdict).toBe('allow');
  });

  it('a script whose result is no key resolves to nothing (the value is missing), not a rejection', async () => {
    // (@.length-1) of an object is NaN: jsonpath-plus then throws a TypeError of its own.
    const guard = createGuard({ policy: ruleOn('$.a[(@.length-1)]', 1) });
    expect((await guard.evaluate({ action: 'x', attributes: { a: { b: 1 } } })).verdict).toBe('allow');
    expect((await guard.evaluate({ action: 'x', attributes: { a: [0, 1] } })).verdict).toBe('block');
  });

  it('a hostile filter cannot reach process or the global object', () => {
    const key = '__actiongatePwned';
    const hostile = [
      `$.a[?(@.constructor.constructor("globalThis.${key} = process.pid")())]`,
      `$.a[?(@.b.constructor.constructor("globalThis.${key} = 1")())]`,
      `$.a[?(@root.constructor.constructor("globalThis.${key} = 1")())]`,
      `$.a[(this.constructor.constructor("globalThis.${key} = 1")())]`,
    ];
    for (const path of hostile) {
      // Refused at load since calls in filters are (see below); resolved anyway, it still runs nothing.
      expect(problemsOf(ruleOn(path))).toHaveLength(1);
      expect(resolveJsonPath({ a: [{ b: 'x' }, 1, 'y'] }, path)).toBeUndefined();
      expect((globalThis as Record<string, unknown>)[key]).toBeUndefined();
    }
  });

  it('resolveJsonPath runs in safe mode and never throws', () => {
    expect(resolveJsonPath({ a: [{ b: 1 }, null, { b: 2 }] }, '$.a[?(@.b > 1)].b')).toEqual([2]);
    expect(resolveJsonPath({ a: { x: 1 } }, '$.a[(@.length-1)]')).toBeUndefined();
    expect(resolveJsonPath({ a: [1] }, '$.a[?(@.constructor.constructor("return process")())]')).toBeUndefined();
  });
});

describe('JSONPath filters cannot run unbounded code', () => {
  // jsonpath-plus's safe mode still calls any method of the values it reaches: a regular
  // expression in a filter backtracked on the client's text past every ReDoS check content
  // patterns get (30 "a"s and a "!" held the event loop for minutes), `repeat`/`padEnd` allocate
  // without limit, and `push`/`splice` change the facts.
  it.each([
    ['$.a[?(@.match(/(a+)+$/))]', /regular expression/],
    ["$.a[?(@.match('(a+)+$'))]", /"match"/],
    ['$.a[?(@.b.replace(/x/g, "y") == "y")]', /regular expression/],
    ['$.a[?(@.repeat(1000000000).length)]', /"repeat"/],
    ['$.a[?(@root.a.push(1))]', /"push"/],
    ["$.a[?(@['match']('x'))]", /call/],
    ['$.a[(@.splice(0).length)]', /"splice"/],
  ])('%s is a PolicyError at the condition\'s path', (path, message) => {
    const problems = problemsOf(ruleOn(path));
    expect(problems).toEqual([{ pointer: '/rules/0/conditions/all/0/path', rule: 'by-path', message: expect.stringMatching(message) }]);
  });

  it.each(["$.a[?(@.startsWith('x'))]", "$.a[?(@.toLowerCase().includes('vip'))]", "$.tags[?(@.indexOf('x') > -1)]"])('%s (a bounded string or array method) still loads', (path) => {
    expect(problemsOf(ruleOn(path))).toEqual([]);
  });

  it('a refused filter resolves to nothing at run time too, without running what it calls', () => {
    // Not timed (no timing assertions in tests): a value whose own `match` counts its calls shows
    // the refused call never runs, so no regex backtracks on the client's text.
    let calls = 0;
    const spy = { match: () => (calls++, true) };
    expect(resolveJsonPath({ a: [spy, `${'a'.repeat(27)}!`] }, '$.a[?(@.match(/(a+)+$/))]')).toBeUndefined();
    expect(calls).toBe(0);
    expect(resolveJsonPath({ a: ['Vip'] }, "$.a[?(@.toLowerCase() == 'vip')]")).toEqual(['Vip']);
  });
});

describe('JSONPath nested filters are checked at load too', () => {
  // jsonpath-plus runs a filter holding another (`?(@.a[?(…)])`) as that inner filter on each
  // element's `a`, never as a script of its own. The load-time probe stopped at the outer one (on
  // a null element), so a regular expression or a syntax error inside loaded clean, and the rule
  // then silently never matched: the inner filter is refused when it runs.
  it.each([
    ['$.list[?(@.a[?(@.match(/(a+)+$/))])]', /regular expression/],
    ["$.list[?(@.a[?(@.repeat(1000000000).length)])]", /"repeat"/],
    ['$.list[?(@.a[?(@.b ==)])]', /Expected expression/],
    ['$.list[?(@[?(@.a[?(@.match(/x+/))])])]', /regular expression/],
  ])('%s is a PolicyError at the condition\'s path', (path, message) => {
    expect(problemsOf(ruleOn(path))).toEqual([{ pointer: '/rules/0/conditions/all/0/path', rule: 'by-path', message: expect.stringMatching(message) }]);
  });

  it('a sound nested filter still loads, and selects as before', () => {
    const path = "$.list[?(@.a[?(@ == 'x')])]";
    expect(problemsOf(ruleOn(path))).toEqual([]);
    expect(resolveJsonPath({ list: [{ a: ['x'] }, { a: ['y'] }] }, path)).toEqual([{ a: ['x'] }]);
  });
});

describe('JSONPath filters in a union are checked at load too', () => {
  // jsonpath-plus splits a union (`[0,?(…)]`) at its commas and applies each member; the
  // load-time probe took only segments that are a filter or script as a whole, so one in a union
  // loaded clean whatever it held, and then resolved to nothing on every evaluate. A union that
  // starts with a filter or script is all one script to jsonpath-plus, and was not probed either.
  it.each([
    ['$.a[0,?(@.match(/(a+)+$/))]', /regular expression/],
    ['$.a[0,?(@.b ==)]', /Expected expression/],
    ['$.a[0,(@.repeat(9))]', /"repeat"/],
    ['$.a[?(@.match(/x/)),0]', /Unexpected "\?"/],
    ['$.a[(@.repeat(9)),0]', /"repeat"/],
  ])('%s is a PolicyError at the condition\'s path', (path, message) => {
    expect(problemsOf(ruleOn(path))).toEqual([{ pointer: '/rules/0/conditions/all/0/path', rule: 'by-path', message: expect.stringMatching(message) }]);
  });

  it('a sound union still loads, and selects as before', () => {
    for (const path of ["$.a[0,?(@ == 'x')]", '$.a[0,(@.length-1)]', '$.a[0,1]', "$.a[?(@.includes('x', 0))]"]) expect(problemsOf(ruleOn(path)), path).toEqual([]);
    expect(resolveJsonPath({ a: ['x', 'y', 'z'] }, "$.a[0,?(@ == 'y')]")).toEqual(['x', 'y']);
  });
});

describe('JSONPath length is bounded', () => {
  // jsonpath-plus matches each filter against a backtracking regular expression (a nested-filter
  // check) every time it applies it, in time quadratic in the filter's length: a 14,000-character
  // filter took 85 ms of every evaluate that reached it, and 7 s to load at 112,000.
  const long = `$.list[?(${'@.a && '.repeat(150)}@.b)]`;

  it('a path past 1000 characters is a PolicyError at its pointer, on either side', () => {
    expect(long.length).toBeGreaterThan(1000);
    expect(problemsOf(ruleOn(long))).toEqual([{ pointer: '/rules/0/conditions/all/0/path', rule: 'by-path', message: expect.stringMatching(/1000 characters/) }]);
    expect(problemsOf(ruleOn('$.a', { fact: 'attributes', path: long }))).toEqual([{ pointer: '/rules/0/conditions/all/0/value/path', rule: 'by-path', message: expect.stringMatching(/1000 characters/) }]);
    // The message quotes the start of the path, not all of it.
    expect(problemsOf(ruleOn(long))[0]!.message.length).toBeLessThan(300);
  });

  it('a path of 1000 characters still loads, plain or not', () => {
    const filter = `$.list[?(${'@.a && '.repeat(140)}${'@.b'.padEnd(1000 - 11 - 140 * 7, ' ')})]`;
    expect(filter.length).toBe(1000);
    expect(problemsOf(ruleOn(filter))).toEqual([]);
    expect(problemsOf(ruleOn(`$['${'k'.repeat(995)}']`))).toEqual([]);
  });
});

describe('JSONPath filters without jsonpath-plus\'s safe evaluator', () => {
  it('refuses every filter, rather than failing to import, should a release drop it', async () => {
    vi.resetModules();
    const prototype = JSONPath.prototype as unknown as { safeVm?: unknown };
    const saved = prototype.safeVm;
    delete prototype.safeVm;
    try {
      const paths = await import('../../src/rules/paths.js');
      expect(paths.jsonPathProblem('$.a[?(@.b == 1)]')).toMatch(/the filter "\?\(@\.b == 1\)" cannot be checked: this version of jsonpath-plus has no safe evaluator/);
      expect(paths.resolveJsonPath({ a: [{ b: 1 }] }, '$.a[?(@.b == 1)]')).toBeUndefined();
    } finally {
      prototype.safeVm = saved;
      vi.resetModules();
    }
  });
});

describe('JSONPath filters at run time: the parsed-script cache', () => {
  it('keys a parsed filter by its code and a short name for the evaluator, not the evaluator class\'s source', () => {
    expect(resolveJsonPath({ a: [{ b: 1 }, { b: 2 }] }, '$.a[?(@.b == 2)]')).toEqual([{ b: 2 }]);
    const keys = Object.keys((JSONPath as unknown as { cache: Record<string, unknown> }).cache).filter((key) => key.includes('Script:') && key.includes('== 2'));
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.startsWith('boundedScript:')).toBe(true);
  });
});
