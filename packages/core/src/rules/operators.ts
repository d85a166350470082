/**
 * json-rules-engine 7.3's operators and operator decorators as plain functions, with the same
 * expressions (so the same results, the same coercions and the same `TypeError`s):
 * - `in` / `notIn` call `value.indexOf(fact)`: a string value matches substrings, anything
 *   without `indexOf` throws;
 * - `contains` / `doesNotContain` are false unless the fact is an array;
 * - the numeric operators accept any fact `Number.parseFloat` reads (`"10px"`, `[2]`), then
 *   compare with `<` / `>` as JavaScript does;
 * - decorators (`not:`, `swap:`, `someFact:`, `everyFact:`, `someValue:`, `everyValue:`) wrap an
 *   operator, and chain (`not:someFact:equal`), resolved the way its `OperatorMap.get` does.
 */

/** An operator as json-rules-engine evaluates it: its fact validator, then its callback. */
export type OperatorFn = (factValue: unknown, jsonValue: unknown) => boolean;

// json-rules-engine: `Number.parseFloat(factValue).toString() !== 'NaN'`. A number only fails
// when it is NaN; anything else goes through parseFloat's string conversion, as there.
export const isNumeric = (value: unknown): boolean => (typeof value === 'number' ? value === value : !Number.isNaN(Number.parseFloat(value as string)));

type Indexable = { indexOf(value: unknown): number };
type Comparable = number;

/** The default operators, validators folded in. */
export const BUILTIN_OPERATORS: Readonly<Record<string, OperatorFn>> = Object.freeze({
  equal: (a, b) => a === b,
  notEqual: (a, b) => a !== b,
  in: (a, b) => (b as Indexable).indexOf(a) > -1,
  notIn: (a, b) => (b as Indexable).indexOf(a) === -1,
  contains: (a, b) => Array.isArray(a) && a.indexOf(b) > -1,
  doesNotContain: (a, b) => Array.isArray(a) && a.indexOf(b) === -1,
  lessThan: (a, b) => isNumeric(a) && (a as Comparable) < (b as Comparable),
  lessThanInclusive: (a, b) => isNumeric(a) && (a as Comparable) <= (b as Comparable),
  greaterThan: (a, b) => isNumeric(a) && (a as Comparable) > (b as Comparable),
  greaterThanInclusive: (a, b) => isNumeric(a) && (a as Comparable) >= (b as Comparable),
});

/** The operators with json-rules-engine's `parseFloat` fact validator. */
export const NUMERIC_OPERATORS: ReadonlySet<string> = new Set(['lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive']);

/** The default decorators: each turns the next operator into a new one. */
export const BUILTIN_DECORATORS: Readonly<Record<string, (next: OperatorFn) => OperatorFn>> = Object.freeze({
  someFact: (next: OperatorFn): OperatorFn => (fact, value) => Array.isArray(fact) && someFact(fact, value, next),
  everyFact: (next: OperatorFn): OperatorFn => (fact, value) => Array.isArray(fact) && everyFact(fact, value, next),
  someValue: (next: OperatorFn): OperatorFn => (fact, value) => someValue(fact, value, next),
  everyValue: (next: OperatorFn): OperatorFn => (fact, value) => everyValue(fact, value, next),
  swap: (next: OperatorFn): OperatorFn => (fact, value) => next(value, fact),
  not: (next: OperatorFn): OperatorFn => (fact, value) => !next(fact, value),
});

// Loops rather than `list.some((x) => next(x, value))`, which would allocate a closure per call;
// holes are skipped as Array.prototype.some skips them.
function someFact(facts: unknown[], value: unknown, next: OperatorFn): boolean {
  for (let i = 0; i < facts.length; i++) if (i in facts && next(facts[i], value)) return true;
  return false;
}
function everyFact(facts: unknown[], value: unknown, next: OperatorFn): boolean {
  for (let i = 0; i < facts.length; i++) if (i in facts && !next(facts[i], value)) return false;
  return true;
}
// someValue / everyValue have no validator there: a value that is not an array goes through the
// very method call json-rules-engine makes, and throws (or not) alike.
function someValue(fact: unknown, values: unknown, next: OperatorFn): boolean {
  if (!Array.isArray(values)) return (values as unknown[]).some((value) => next(fact, value));
  for (let i = 0; i < values.length; i++) if (i in values && next(fact, values[i])) return true;
  return false;
}
function everyValue(fact: unknown, values: unknown, next: OperatorFn): boolean {
  if (!Array.isArray(values)) return (values as unknown[]).every((value) => next(fact, value));
  for (let i = 0; i < values.length; i++) if (i in values && !next(fact, values[i])) return false;
  return true;
}

/** How an operator name resolves: the built-in function, or `custom` when a custom operator is involved. */
export type ResolvedOperator =
  | { kind: 'builtin'; fn: OperatorFn; base: string; decorators: readonly string[] }
  | { kind: 'custom'; base: string; decorators: readonly string[] };

/**
 * Resolves an operator name the way json-rules-engine's `OperatorMap.get` does: a registered name
 * wins as it is (custom operators replace built-ins of the same name); otherwise each `decorator:`
 * prefix must be a known decorator. `undefined` when json-rules-engine would not find it.
 */
export function resolveOperator(name: string, custom: ReadonlySet<string>): ResolvedOperator | undefined {
  const decorators: string[] = [];
  let base = name;
  while (!custom.has(base) && !Object.hasOwn(BUILTIN_OPERATORS, base)) {
    const colon = base.indexOf(':');
    if (colon <= 0) return undefined;
    const decorator = base.slice(0, colon);
    if (!Object.hasOwn(BUILTIN_DECORATORS, decorator)) return undefined;
    decorators.push(decorator);
    base = base.slice(colon + 1);
  }
  if (custom.has(base)) return { kind: 'custom', base, decorators };
  let fn = BUILTIN_OPERATORS[base]!;
  // The innermost decorator wraps first.
  for (let i = decorators.length - 1; i >= 0; i--) fn = BUILTIN_DECORATORS[decorators[i]!]!(fn);
  return { kind: 'builtin', fn, base, decorators };
}

/** The built-in operator names, for messages. */
export const OPERATOR_NAMES: readonly string[] = Object.freeze(Object.keys(BUILTIN_OPERATORS));
/** The built-in decorator names, for messages. */
export const DECORATOR_NAMES: readonly string[] = Object.freeze(Object.keys(BUILTIN_DECORATORS));
