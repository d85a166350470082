/**
 * json-rules-engine conditions compiled to plain synchronous predicates. The semantics are
 * json-rules-engine 7.3's, traps included, because operators write rules against its docs:
 * `in`/`notIn` use `value.indexOf` (a string value matches substrings), numeric operators accept
 * anything `parseFloat` reads, `notEqual` passes on a missing fact, `contains` needs an array,
 * `any: []` is true like `all: []`, a `path` on a non-object fact yields the fact itself.
 * What the compiler does not cover (custom operators, JSONPath beyond plain member access,
 * condition references) returns `null`, and the rule is left to json-rules-engine itself.
 */
import type { PolicyProblem } from '../errors.js';

export type Facts = Record<string, unknown>;
export type Predicate = (facts: Facts) => boolean;
type Getter = (facts: Facts) => unknown;

const isNumberish = (value: unknown) => Number.parseFloat(value as string).toString() !== 'NaN';

/** json-rules-engine's default operators, with their fact validators. */
export const BUILTIN_OPERATORS: Readonly<Record<string, (a: unknown, b: unknown) => boolean>> = Object.freeze({
  equal: (a, b) => a === b,
  notEqual: (a, b) => a !== b,
  in: (a, b) => (b as unknown[]).indexOf(a) > -1,
  notIn: (a, b) => (b as unknown[]).indexOf(a) === -1,
  contains: (a, b) => Array.isArray(a) && a.indexOf(b) > -1,
  doesNotContain: (a, b) => Array.isArray(a) && a.indexOf(b) === -1,
  lessThan: (a, b) => isNumberish(a) && (a as number) < (b as number),
  lessThanInclusive: (a, b) => isNumberish(a) && (a as number) <= (b as number),
  greaterThan: (a, b) => isNumberish(a) && (a as number) > (b as number),
  greaterThanInclusive: (a, b) => isNumberish(a) && (a as number) >= (b as number),
});

const NUMERIC = new Set(['lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive']);

export interface ConditionContext {
  /** Rule name for problems. */
  rule: string;
  knownFacts: ReadonlySet<string> | null;
  customOperators: ReadonlySet<string>;
  problems: PolicyProblem[];
  warnings: PolicyProblem[];
}

/**
 * Compiles a condition tree, recording problems and warnings. Returns `null` when it is valid
 * but needs json-rules-engine (the tree is still fully checked).
 */
export function compileCondition(node: unknown, pointer: string, ctx: ConditionContext): Predicate | null {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) {
    ctx.problems.push({ pointer, message: 'a condition must be an object', rule: ctx.rule });
    return null;
  }
  const condition = node as Record<string, unknown>;
  const booleans = ['all', 'any', 'not'].filter((key) => Object.hasOwn(condition, key));
  if (Object.hasOwn(condition, 'condition')) {
    ctx.problems.push({ pointer: `${pointer}/condition`, message: 'condition references are not supported: inline the condition', rule: ctx.rule });
    return null;
  }
  if (booleans.length > 1) {
    ctx.problems.push({ pointer, message: `a condition has exactly one of all, any, not (found ${booleans.join(', ')})`, rule: ctx.rule });
    return null;
  }
  if (booleans.length === 1) {
    const key = booleans[0]!;
    if (key === 'not') {
      const inner = compileCondition(condition.not, `${pointer}/not`, ctx);
      return inner && ((facts) => !inner(facts));
    }
    const list = condition[key];
    if (!Array.isArray(list)) {
      ctx.problems.push({ pointer: `${pointer}/${key}`, message: `"${key}" must be an array of conditions`, rule: ctx.rule });
      return null;
    }
    const parts = list.map((child, i) => compileCondition(child, `${pointer}/${key}/${i}`, ctx));
    if (parts.some((p) => p === null)) return null;
    const predicates = parts as Predicate[];
    if (predicates.length === 0) return () => true; // json-rules-engine: an empty all *or any* passes
    if (predicates.length === 1) return predicates[0]!;
    return combine(key as 'all' | 'any', bySetOfPriority(list as Record<string, unknown>[], predicates));
  }
  return compileLeaf(condition, pointer, ctx);
}

/**
 * Children grouped by condition priority, highest first. json-rules-engine evaluates one group
 * entirely (in parallel) and short-circuits only between groups; doing the same keeps even a
 * throwing operator (`in` against a missing list) throwing exactly when it does there.
 */
function bySetOfPriority(children: readonly Record<string, unknown>[], predicates: readonly Predicate[]): Predicate[][] {
  const groups = new Map<number, Predicate[]>();
  children.forEach((child, i) => {
    const priority = typeof child?.priority === 'number' && child.priority > 0 ? child.priority : 1;
    groups.set(priority, [...(groups.get(priority) ?? []), predicates[i]!]);
  });
  return [...groups.entries()].sort((a, b) => b[0] - a[0]).map(([, group]) => group);
}

function combine(operator: 'all' | 'any', sets: readonly Predicate[][]): Predicate {
  const all = operator === 'all';
  return (facts) => {
    for (const set of sets) {
      let outcome = all;
      for (const predicate of set) {
        const result = predicate(facts);
        if (all ? !result : result) outcome = !all;
      }
      if (outcome !== all) return outcome;
    }
    return all;
  };
}

function compileLeaf(condition: Record<string, unknown>, pointer: string, ctx: ConditionContext): Predicate | null {
  const { fact, operator, path } = condition;
  let valid = true;
  const problem = (at: string, message: string) => {
    ctx.problems.push({ pointer: `${pointer}${at}`, message, rule: ctx.rule });
    valid = false;
  };
  if (typeof fact !== 'string' || fact === '') problem('/fact', 'a condition needs a "fact" name');
  else if (ctx.knownFacts && !ctx.knownFacts.has(fact)) problem('/fact', `unknown fact "${fact}" (known: ${[...ctx.knownFacts].join(', ')})`);
  if (typeof operator !== 'string') problem('/operator', 'a condition needs an "operator"');
  else if (!Object.hasOwn(BUILTIN_OPERATORS, operator) && !ctx.customOperators.has(operator)) {
    problem('/operator', `unknown operator "${operator}" (known: ${[...Object.keys(BUILTIN_OPERATORS), ...ctx.customOperators].join(', ')})`);
  }
  if (!Object.hasOwn(condition, 'value')) problem('/value', 'a condition needs a "value"');
  if (path !== undefined && (typeof path !== 'string' || !path.startsWith('$'))) problem('/path', 'a path is a JSONPath string starting with "$"');
  const value = condition.value;
  const valueRef = isFactRef(value);
  if (valueRef) {
    const ref = value as { fact: unknown; path?: unknown };
    if (typeof ref.fact !== 'string' || (ctx.knownFacts && !ctx.knownFacts.has(ref.fact))) problem('/value/fact', `unknown fact ${JSON.stringify(ref.fact)}`);
    if (ref.path !== undefined && (typeof ref.path !== 'string' || !ref.path.startsWith('$'))) problem('/value/path', 'a path is a JSONPath string starting with "$"');
  }
  if (!valid) return null;

  const op = operator as string;
  if ((op === 'in' || op === 'notIn') && !valueRef) {
    if (typeof value === 'string') {
      ctx.warnings.push({ pointer: `${pointer}/value`, message: `"${op}" with a string value matches substrings of it (json-rules-engine semantics); use an array`, rule: ctx.rule });
    } else if (!Array.isArray(value)) {
      problem('/value', `"${op}" needs an array value`);
      return null;
    }
  }
  if (NUMERIC.has(op) && !valueRef && typeof value !== 'number') {
    ctx.warnings.push({ pointer: `${pointer}/value`, message: `"${op}" compares with a non-number value ${JSON.stringify(value)}`, rule: ctx.rule });
  }
  if (op === 'notEqual') {
    ctx.warnings.push({ pointer: `${pointer}/operator`, message: `"notEqual" also passes when the fact${path ? ' path' : ''} is missing`, rule: ctx.rule });
  }

  const compare = BUILTIN_OPERATORS[op];
  const left = getter(fact as string, path as string | undefined);
  const right: Getter | null = valueRef ? getter((value as { fact: string }).fact, (value as { path?: string }).path) : () => value;
  if (!compare || !left || !right) return null;
  return (facts) => compare(left(facts), right(facts));
}

function isFactRef(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, 'fact');
}

/** A fact reader with its path pre-parsed, or null when the path needs full JSONPath. */
function getter(fact: string, path: string | undefined): Getter | null {
  if (path === undefined || path === '') return (facts) => (Object.hasOwn(facts, fact) ? facts[fact] : undefined);
  const keys = parsePath(path);
  if (!keys) return null;
  return (facts) => {
    const root = Object.hasOwn(facts, fact) ? facts[fact] : undefined;
    // json-rules-engine applies a path only to objects; anything else is returned as it is.
    if (root === null || typeof root !== 'object') return root;
    let value: unknown = root;
    for (const key of keys) {
      if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
      value = (value as Record<string, unknown>)[key];
    }
    return value;
  };
}

/**
 * `$.a.b`, `$.a[0]`, `$['a-b']`, `$["x"]` as a key list; null for anything else (wildcards,
 * filters, slices, recursive descent), which json-rules-engine's JSONPath handles instead.
 */
export function parsePath(path: string): string[] | null {
  if (!path.startsWith('$')) return null;
  const keys: string[] = [];
  let i = 1;
  while (i < path.length) {
    if (path[i] === '.') {
      const match = /^[A-Za-z_$][A-Za-z0-9_$-]*/.exec(path.slice(i + 1));
      if (!match || path[i + 1] === '.') return null;
      keys.push(match[0]);
      i += 1 + match[0].length;
    } else if (path[i] === '[') {
      const rest = path.slice(i);
      const index = /^\[(0|[1-9][0-9]*)\]/.exec(rest);
      const quoted = /^\[(?:'([^'\\]*)'|"([^"\\]*)")\]/.exec(rest);
      if (index) {
        keys.push(index[1]!);
        i += index[0].length;
      } else if (quoted) {
        keys.push(quoted[1] ?? quoted[2]!);
        i += quoted[0].length;
      } else {
        return null;
      }
    } else {
      return null;
    }
  }
  // jsonpath-plus gives special meaning to some names (e.g. `$..`, `@`, `~`); keep them to it.
  if (keys.some((key) => /[@~*()?,:]/.test(key) || key === '' || key === '$')) return null;
  return keys;
}

