/**
 * fast-check generators for the differential tests: random json-rules-engine rules (nested
 * all/any/not, condition priorities, every built-in operator and decorator, plain paths, fact
 * references) and random facts (missing, undefined, null, numbers, NaN, -0, numeric strings,
 * strings that would break out of a literal, arrays with and without holes, objects with odd
 * and prototype-named keys), drawn from small pools so that rules and facts actually meet.
 */
import fc from 'fast-check';
import type { RulePolicy } from '../../src/policy/types.js';

export const FACT_NAMES = ['a', 'b', 'c', 'score'] as const;

// Arrays with holes (JSON has none, a host may build them): `someFact:` and `everyFact:` skip holes, `indexOf` too.
const holey = (first: boolean): unknown[] => (first ? Object.assign(new Array<unknown>(2), { 1: 1 }) : Object.assign(new Array<unknown>(3), { 0: 1, 2: 2 }));

// The odd values are rarer, so that rules and facts still meet often.
const scalar = fc.oneof(
  { arbitrary: fc.integer({ min: -3, max: 3 }), weight: 4 },
  { arbitrary: fc.constantFrom('1', '2', '3.5', '10px', '-1', 'x', 'ab', 'b', '', 'NaN', 'undefined', 'Infinity'), weight: 4 },
  { arbitrary: fc.boolean(), weight: 4 },
  { arbitrary: fc.constant(null), weight: 4 },
  { arbitrary: fc.constantFrom(0.5, Number.POSITIVE_INFINITY, Number.NaN, -0, 1e21, -1e-7, 2 ** 53), weight: 2 },
  { arbitrary: fc.constantFrom(' 1', '1e3', '.5', '0x10', '-0', '1,5', 'true', 'null', '[1]', '__proto__', 'constructor', 'length'), weight: 1 },
  // Text that would end a string literal or a line were it pasted into the generated source.
  { arbitrary: fc.constantFrom('"); x = 1; ("', "'", '`${x}`', '\\', '\u2028', '\uD800', '</script>'), weight: 1 },
);
const list = fc.oneof(fc.array(scalar, { maxLength: 4 }), fc.array(fc.array(scalar, { maxLength: 2 }), { maxLength: 2 }), fc.boolean().map(holey));
const object = fc.record(
  { k: fc.oneof(scalar, list), 'a-b': scalar, 'a.b': scalar, ' k': scalar, '01': scalar, length: scalar, n: fc.oneof(scalar, fc.record({ m: scalar }, { requiredKeys: [] })), list, 'odd key': scalar, '0': scalar },
  { requiredKeys: [] },
);
const factValue = fc.oneof(scalar, list, object, fc.constant(undefined), fc.array(object, { maxLength: 2 }));

/** Facts with any subset of FACT_NAMES present (a key holding `undefined` is present). */
export const factsArb = fc
  .record(Object.fromEntries(FACT_NAMES.map((name) => [name, factValue])) as Record<(typeof FACT_NAMES)[number], fc.Arbitrary<unknown>>, { requiredKeys: [] })
  // Plain objects, as a host builds them (fast-check may make null-prototype ones).
  .map((facts) => Object.assign({}, facts) as Record<string, unknown>);

export const PLAIN_PATHS = ['$', '$.k', '$.n.m', '$.n', '$.list[0]', '$.list[1]', '$["k"]', "$['odd key']", '$[0]', '$.0', '$.missing', '$.list.length', '$.k.length', '$.k[0]'];
/** Plain paths through odd keys (dots and spaces in quotes, leading zeros, prototype names), drawn less often. */
const ODD_PATHS = ['$.length', '$.a-b', "$['a.b']", "$[' k']", '$.01', '$[01]', '$.__proto__', '$.constructor', '$.k.constructor', "$['length']", '$.list[0][0]', '$.0.k', '$[0].list.length'];
export const BASE_OPERATORS = ['equal', 'notEqual', 'in', 'notIn', 'contains', 'doesNotContain', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'];
const DECORATOR_CHAINS = [[], [], [], ['not'], ['someFact'], ['everyFact'], ['someValue'], ['everyValue'], ['swap'], ['not', 'someFact'], ['someFact', 'swap']];
/** Longer and rarer chains, drawn less often (most of them throw or fail more often than not). */
const MORE_CHAINS = [['swap', 'someValue'], ['swap', 'not'], ['not', 'not'], ['everyFact', 'someValue'], ['everyFact', 'someFact'], ['swap', 'everyFact'], ['someValue', 'swap'], ['not', 'swap', 'someFact']];

const valueFor = (base: string, decorators: string[]): fc.Arbitrary<unknown> => {
  const usesValueElements = decorators.includes('someValue') || decorators.includes('everyValue');
  const swapped = decorators.includes('swap');
  const single: fc.Arbitrary<unknown> = (base === 'in' || base === 'notIn') && !swapped ? fc.oneof(list, fc.constantFrom('abc', 'xab', '1 2 3', 'undefined', '')) : fc.oneof(scalar, list);
  return usesValueElements ? fc.array(single, { maxLength: 3 }) : single;
};

const reference = fc.record({ fact: fc.constantFrom(...FACT_NAMES), path: fc.option(fc.constantFrom(...PLAIN_PATHS), { nil: undefined }) }).map(({ fact, path }) => (path ? { fact, path } : { fact }));

export const leafArb = (paths: readonly string[] = PLAIN_PATHS, operators: readonly string[] = BASE_OPERATORS) =>
  fc
    .record({ base: fc.constantFrom(...operators), decorators: fc.oneof({ arbitrary: fc.constantFrom(...DECORATOR_CHAINS), weight: 6 }, { arbitrary: fc.constantFrom(...MORE_CHAINS), weight: 1 }), fact: fc.constantFrom(...FACT_NAMES), path: fc.option(fc.oneof({ arbitrary: fc.constantFrom(...paths), weight: 5 }, { arbitrary: fc.constantFrom(...ODD_PATHS), weight: 1 }), { nil: undefined }), priority: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined, freq: 3 }), ref: fc.integer({ min: 0, max: 7 }) })
    .chain(({ base, decorators, fact, path, priority, ref }) =>
      (ref === 0 ? reference : valueFor(base, decorators)).map((value) => ({
        fact,
        operator: [...decorators, base].join(':'),
        value,
        ...(path ? { path } : {}),
        ...(priority ? { priority } : {}),
      })),
    );

export const conditionsArb = (leaf: fc.Arbitrary<Record<string, unknown>>) => {
  const tree = fc.letrec<{ node: unknown; all: unknown; any: unknown; not: unknown }>((tie) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, leaf, tie('all'), tie('any'), tie('not')),
    all: fc.record({ all: fc.array(tie('node'), { maxLength: 4 }), priority: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined, freq: 3 }) }).map(dropUndefined),
    any: fc.record({ any: fc.array(tie('node'), { maxLength: 4 }), priority: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined, freq: 3 }) }).map(dropUndefined),
    not: fc.record({ not: tie('node'), priority: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined, freq: 3 }) }).map(dropUndefined),
  }));
  return fc.oneof(
    fc.array(tree.node, { maxLength: 4 }).map((all) => ({ all })),
    fc.array(tree.node, { maxLength: 4 }).map((any) => ({ any })),
    tree.node.map((not) => ({ not })),
  );
};

export const rulesArb = (leaf: fc.Arbitrary<Record<string, unknown>> = leafArb(), maxRules = 6) =>
  fc.array(
    fc.record({ conditions: conditionsArb(leaf), priority: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }), type: fc.constantFrom('block', 'challenge', 'throttle', 'allow') }),
    { minLength: 1, maxLength: maxRules },
  ).map((rules) => rules.map(({ conditions, priority, type }, i) => ({ name: `r${i}`, conditions, ...(priority ? { priority } : {}), event: { type } }) as RulePolicy));

function dropUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
