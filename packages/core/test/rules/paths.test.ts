import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWellFormedPath, parsePlainPath, resolvePath } from '../../src/rules/paths.js';

// jsonpath-plus is json-rules-engine's own dependency: load the very copy it uses.
const fromEngine = createRequire(createRequire(import.meta.url).resolve('json-rules-engine'));
const { JSONPath } = fromEngine('jsonpath-plus') as { JSONPath: { toPathArray(path: string): string[] } & ((options: { path: string; json: unknown; wrap: boolean }) => unknown) };
/** json-rules-engine's default path resolver, applied as its almanac applies it. */
const jsonPath = (value: unknown, path: string) => (value !== null && typeof value === 'object' ? JSONPath({ path, json: value, wrap: false }) : value);

describe('parsePlainPath', () => {
  it.each([
    ['$', []],
    ['$.a.b', ['a', 'b']],
    ['$.a[0]', ['a', '0']],
    ['$["x"]', ['x']],
    ["$['a b'][0].c", ['a b', '0', 'c']],
    ["$['example.com']", ['example.com']],
    ['$.limits.actor-daily.remaining', ['limits', 'actor-daily', 'remaining']],
    ['$.__proto__.constructor', ['__proto__', 'constructor']],
  ])('%s → %j', (path, keys) => {
    expect(parsePlainPath(path)).toEqual(keys);
  });

  it.each(['$..a', '$.a[*]', '$.*', '$.a[?(@.b)]', '$.a[-1:]', '$.a[0,1]', '$.a.~', '$.a^', '$.a@string()', '$.$', "$['..']", '$.', 'a.b', '', '$[', "$['a"])('%s is left to jsonpath-plus', (path) => {
    expect(parsePlainPath(path)).toBeNull();
  });

  it('splits every path it accepts exactly as jsonpath-plus does', () => {
    const key = fc.stringMatching(/^[A-Za-z0-9_\-.' "$@*~^,:()?[\]éß]{1,6}$/);
    const segment = fc.oneof(key.map((k) => `.${k}`), key.map((k) => `['${k}']`), key.map((k) => `["${k}"]`), fc.nat(20).map((n) => `[${n}]`));
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 4 }), (segments) => {
        const path = `$${segments.join('')}`;
        const keys = parsePlainPath(path);
        if (keys === null) return;
        accepted++;
        const tokens = JSONPath.toPathArray(path);
        expect(tokens.length > 1 ? tokens.slice(1) : [], path).toEqual(keys);
      }),
      { seed: 11, numRuns: 4000 },
    );
    expect(accepted).toBeGreaterThan(500);
  });
});

describe('resolvePath walks like jsonpath-plus', () => {
  const values: [string, unknown][] = [
    ['object', { a: { b: 1 }, list: [10, 20], name: 'abc', zero: 0, empty: '', no: false, nil: null }],
    ['array', [{ a: 1 }, 'x', [3]]],
    ['own __proto__', JSON.parse('{"__proto__": {"polluted": 1}, "constructor": {"name": "own"}}')],
    ['class instance', new (class { a = 1 })()],
  ];
  const paths = ['$', '$.a', '$.a.b', '$.a.c', '$.list', '$.list[1]', '$.list.length', '$.name.length', '$.name[0]', '$.name.toString', '$.zero.x', '$.empty.length', '$.no.x', '$.nil.x', '$[0].a', '$[1].length', '$[2][0]', '$.__proto__', '$.__proto__.polluted', '$.constructor', '$.constructor.name', '$.toString', '$.hasOwnProperty', '$.prototype', '$.a.constructor'];
  it.each(values)('on %s', (_, value) => {
    for (const path of paths) expect(resolvePath(value, parsePlainPath(path)!), path).toEqual(jsonPath(value, path));
  });
  it('applies paths to objects only, as the almanac does', () => {
    for (const value of ['abc', 5, true, null, undefined]) expect(resolvePath(value, ['length'])).toBe(value);
  });
});

describe('isWellFormedPath', () => {
  it('accepts JSONPath beyond the plain subset and refuses typos', () => {
    for (const path of ['$..a', '$.a[*]', '$.a[?(@.b > 1)]', "$['a]b']"]) expect(isWellFormedPath(path), path).toBe(true);
    for (const path of ['a.b', '$.a[0', '$.a[?(@.b > 1]', "$['a]"]) expect(isWellFormedPath(path), path).toBe(false);
  });
});
