/**
 * fast-check generators for the differential tests: random json-rules-engine rules (nested
 * all/any/not, condition priorities, every built-in operator and decorator, plain paths, fact
 * references) and random facts (missing, undefined, null, numbers, numeric strings, strings,
 * arrays, objects), drawn from small pools so that rules and facts actually meet.
 */
import fc from 'fast-check';
import type { RulePolicy } from '../../src/policy/types.js';

export const FACT_NAMES = ['a', 'b', 'c', 'score'] as const;

const scalar = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom('1', '2', '3.5', '10px', '-1', 'x', 'ab', 'b', '', 'NaN', 'undefined', 'Infinity'),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(0.5, Number.POSITIVE_INFINITY),
);
const list = fc.array(scalar, { maxLength: 4 });
const object = fc.record(
  { k: fc.oneof(scalar, list), n: fc.oneof(scalar, fc.record({ m: scalar }, { requiredKeys: [] })), list, 'odd key': scalar, '0': scalar },
  { requiredKeys: [] },
);
const factValue = fc.oneof(scalar, list, object, fc.constant(undefined), fc.array(object, { maxLength: 2 }));

/** Facts with any subset of FACT_NAMES present (a key holding `undefined` is present). */
export const factsArb = fc
  .record(Object.fromEntries(FACT_NAMES.map((name) => [name, factValue])) as Record<(typeof FACT_NAMES)[number], fc.Arbitrary<unknown>>, { requiredKeys: [] })
  // Plain objects, as a host builds them (fast-check may make null-prototype ones).
  .map((facts) => Object.assign({}, facts) as Record<string, unknown>);

export const PLAIN_PATHS = ['$', '$.k', '$.n.m', '$.n', '$.list[0]', '$.list[1]', '$["k"]', "$['odd key']", '$[0]', '$.0', '$.missing', '$.list.length', '$.k.length', '$.k[0]'];
export const BASE_OPERATORS = ['equal', 'notEqual', 'in', 'notIn', 'contains', 'doesNotContain', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'];
const DECORATOR_CHAINS = [[], [], [], ['not'], ['someFact'], ['everyFact'], ['someValue'], ['everyValue'], ['swap'], ['not', 'someFact'], ['someFact', 'swap']];

const valueFor = (base: string, decorators: string[]): fc.Arbitrary<unknown> => {
  const usesValueElements = decorators.includes('someValue') || decorators.includes('everyValue');
  const swapped = decorators.includes('swap');
  const single: fc.Arbitrary<unknown> = (base === 'in' || base === 'notIn') && !swapped ? fc.oneof(list, fc.constantFrom('abc', 'xab', '1 2 3', 'undefined', '')) : fc.oneof(scalar, list);
  return usesValueElements ? fc.array(single, { maxLength: 3 }) : single;
};

const reference = fc.record({ fact: fc.constantFrom(...FACT_NAMES), path: fc.option(fc.constantFrom(...PLAIN_PATHS), { nil: undefined }) }).map(({ fact, path }) => (path ? { fact, path } : { fact }));

export const leafArb = (paths: readonly string[] = PLAIN_PATHS, operators: readonly string[] = BASE_OPERATORS) =>
  fc
    .record({ base: fc.constantFrom(...operators), decorators: fc.constantFrom(...DECORATOR_CHAINS), fact: fc.constantFrom(...FACT_NAMES), path: fc.option(fc.constantFrom(...paths), { nil: undefined }), priority: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined, freq: 3 }), ref: fc.integer({ min: 0, max: 7 }) })
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
