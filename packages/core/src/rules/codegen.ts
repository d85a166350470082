/**
 * Rule conditions compiled to JavaScript source, one function per rule, all made by one
 * `new Function` per policy (up to a source budget; rules past it stay closures): the fast back
 * end of conditions.ts.
 *
 * Why generate code: closures built from one literal share their inline caches, so with a closure
 * per leaf every fact read, path step and operator call of every rule goes through the same few
 * megamorphic call sites and keyed loads; that made the rules the largest single cost of a
 * decision without content. Generated, each leaf reads its fact and path with its own property
 * loads and compares inline, and V8 optimises each rule on its own.
 *
 * Nothing a policy says becomes code: the source holds only this module's text, numbers it
 * computed, and policy strings, numbers, booleans and null as `JSON.stringify` literals (which are
 * valid JavaScript string and number literals); every other policy value (arrays, objects, the
 * resolved operator functions) is passed in as a constant and named by index.
 *
 * Runtimes that forbid code generation from strings (`--disallow-code-generation-from-strings`, a
 * CSP without 'unsafe-eval') make `new Function` throw: then `generatedPredicates` returns null and
 * the closures serve.
 */
import type { ConditionPlan, PlannedSide, TimedPredicate } from './conditions.js';
import { isNumeric } from './operators.js';
import { LEAF_SETTLED, LEAF_TICKS, NESTED_GROUP_TICKS, PATH_LEAF_SETTLED, PATH_TICKS, SET_RUN_TICKS, SET_STEP_TICKS } from './order.js';

let allowed: boolean | undefined;

/** Whether this runtime lets code be generated from strings (asked once). */
export function codeGenerationAllowed(): boolean {
  if (allowed === undefined) {
    try {
      allowed = new Function('return true')() === true;
    } catch {
      allowed = false;
    }
  }
  return allowed;
}

/**
 * Generated source stops growing past this many characters (a few hundred typical rules): the
 * rules after it stay closures. Parsing and compiling source costs policy-load time in proportion
 * to its size, and the 10,000 rules a policy may hold would take seconds to load, most of them
 * never run often enough for V8 to optimise them anyway.
 */
const MAX_SOURCE = 1 << 20;

/**
 * A rule whose own source is longer than this (a hundred-odd conditions) stays a closure: V8
 * does not optimise a function past a size, and one that large would run slower generated.
 */
const MAX_RULE_SOURCE = 1 << 15;

/**
 * One generated function per plan (null for a null plan, for a plan too large on its own, and
 * for the plans past the source budget), or null when code generation is not allowed here.
 */
export function generatedPredicates(plans: readonly (ConditionPlan | null)[]): (TimedPredicate | null)[] | null {
  if (!codeGenerationAllowed()) return null;
  const constants: unknown[] = [];
  let size = 0;
  const functions = plans.map((plan, index) => {
    if (!plan || size > MAX_SOURCE) return 'null';
    const mark = constants.length;
    const source = ruleSource(plan, index, constants);
    if (source.length > MAX_RULE_SOURCE) {
      constants.length = mark; // its constants go with it
      return 'null';
    }
    size += source.length;
    return source;
  });
  const source = `"use strict";\n${constants.map((_, i) => `const k${i} = k[${i}];`).join('\n')}\nreturn [\n${functions.join(',\n')}\n];`;
  // No catch: the probe above answered for the runtime, so a throw here is a bug of this module,
  // and the differential tests are meant to see it rather than a quiet fallback.
  return new Function('k', 'hasOwn', 'num', source)(constants, Object.prototype.hasOwnProperty, isNumeric) as (TimedPredicate | null)[];
}

/** The source of one rule's predicate: `function (facts) { … return ticks * 2 + passed; }`. */
function ruleSource(plan: ConditionPlan, index: number, constants: unknown[]): string {
  let counter = 0;
  const variables: string[] = [];
  const fresh = () => {
    const name = `v${counter++}`;
    variables.push(name);
    return name;
  };
  /** A JavaScript expression for a policy value: a literal for primitives, else a constant. */
  const valueOf = (value: unknown, asObject = false): string => {
    if (!asObject) {
      if (value === undefined) return 'void 0';
      if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
      if (typeof value === 'number' && Number.isFinite(value)) return `(${JSON.stringify(value)})`;
    }
    constants.push(value);
    return `k${constants.length - 1}`;
  };

  /** Lines that read a present side into `target` (a path applies only to objects), then `present`. */
  const read = (side: PlannedSide, target: string, lines: string[], present: string[]) => {
    const name = JSON.stringify(side.fact);
    lines.push(`${target} = facts[${name}];`);
    if (side.keys && side.keys.length > 0) {
      // jsonpath-plus's step, `val && Object.hasOwn(val, loc)`, for each key (paths.ts).
      const steps = side.keys.map((key) => `${target} = ${target} && hasOwn.call(${target}, ${JSON.stringify(key)}) ? ${target}[${JSON.stringify(key)}] : void 0;`);
      lines.push(`if (${target} !== null && typeof ${target} === "object") { ${steps.join(' ')} }`);
    }
    lines.push(...present);
  };
  /** The fact-is-present test: only own keys count (a fact that is not a string name is never present). */
  const has = (fact: string) => `hasOwn.call(facts, ${JSON.stringify(fact)})`;

  /**
   * json-rules-engine's numeric test (`isNumeric`, parseFloat-based) before a comparison, with the
   * usual cases decided inline: a number is numeric unless NaN, and an absent fact (undefined or
   * null, which parseFloat turns into NaN) never is. Only other values pay the call.
   */
  const numeric = (a: string, comparison: string) =>
    `(typeof ${a} === "number" ? ${a} === ${a} && ${comparison} : ${a} != null && num(${a}) && ${comparison})`;

  /** The operator applied to two expressions (variables or literals), inlined when plain. */
  const apply = (operator: Extract<ConditionPlan, { kind: 'leaf' }>['operator'], a: string, b: string): string => {
    if (operator.decorators.length === 0) {
      switch (operator.base) {
        case 'equal':
          return `(${a} === ${b})`;
        case 'notEqual':
          return `(${a} !== ${b})`;
        case 'in':
          return `(${b}.indexOf(${a}) > -1)`;
        case 'notIn':
          return `(${b}.indexOf(${a}) === -1)`;
        case 'contains':
          return `(Array.isArray(${a}) && ${a}.indexOf(${b}) > -1)`;
        case 'doesNotContain':
          return `(Array.isArray(${a}) && ${a}.indexOf(${b}) === -1)`;
        case 'lessThan':
          return numeric(a, `${a} < ${b}`);
        case 'lessThanInclusive':
          return numeric(a, `${a} <= ${b}`);
        case 'greaterThan':
          return numeric(a, `${a} > ${b}`);
        case 'greaterThanInclusive':
          return numeric(a, `${a} >= ${b}`);
      }
    }
    return `${valueOf(operator.fn, true)}(${a}, ${b})`;
  };

  /** Lines that leave `ticks * 2 + passed` of `node` in `target`. */
  const emit = (node: ConditionPlan, target: string, lines: string[]): void => {
    switch (node.kind) {
      case 'pass':
        lines.push(`${target} = 1;`);
        return;
      case 'nested':
        emit(node.inner, target, lines);
        lines.push(`${target} += ${2 * NESTED_GROUP_TICKS};`);
        return;
      case 'not':
        emit(node.inner, target, lines);
        lines.push(`${target} = (${target} ^ 1) + ${2 * node.ticks};`);
        return;
      case 'group': {
        const runSet = (set: readonly ConditionPlan[], slowest: string, passed: string, into: string[]) => {
          into.push(`${slowest} = 0; ${passed} = 0;`);
          for (const child of set) {
            const settled = fresh();
            emit(child, settled, into);
            into.push(`if ((${settled} >> 1) > ${slowest}) ${slowest} = ${settled} >> 1;`, `${passed} += ${settled} & 1;`);
          }
          return node.all ? `${passed} === ${set.length}` : `${passed} > 0`;
        };
        const [slowest, passed] = [fresh(), fresh()];
        if (node.sets.length === 1) {
          const result = runSet(node.sets[0]!, slowest, passed, lines);
          lines.push(`${target} = 2 * (${SET_STEP_TICKS + SET_RUN_TICKS} + ${slowest}) + ((${result}) ? 1 : 0);`);
          return;
        }
        // Priority sets in turn; a set after the outcome is known only costs its step.
        const [ticks, result] = [fresh(), fresh()];
        lines.push(`${ticks} = 0; ${result} = ${node.all};`);
        for (const set of node.sets) {
          const inner: string[] = [];
          const outcome = runSet(set, slowest, passed, inner);
          lines.push(`${ticks} += ${SET_STEP_TICKS};`, `if (${result} === ${node.all}) {`, ...inner, `${result} = ${outcome};`, `${ticks} += ${slowest} + ${SET_RUN_TICKS};`, '}');
        }
        lines.push(`${target} = ${ticks} * 2 + (${result} ? 1 : 0);`);
        return;
      }
      case 'leaf': {
        const a = fresh();
        if (!node.right) {
          // A missing fact resolves at once to undefined, path or not.
          const { pass, fail } = node.left.keys ? PATH_LEAF_SETTLED : LEAF_SETTLED;
          const value = node.operator.decorators.length === 0 && ['in', 'notIn'].includes(node.operator.base) ? valueOf(node.value, true) : valueOf(node.value);
          const missing = `${target} = ${apply(node.operator, '(void 0)', value)} ? ${LEAF_SETTLED.pass} : ${LEAF_SETTLED.fail};`;
          if (typeof node.left.fact !== 'string') {
            lines.push(missing);
            return;
          }
          lines.push(`if (${has(node.left.fact)}) {`);
          read(node.left, a, lines, []);
          lines.push(`${target} = ${apply(node.operator, a, value)} ? ${pass} : ${fail};`, `} else ${missing}`);
          return;
        }
        // A fact against another fact: each side read if present, the later path's tick counts.
        const [b, ticks] = [fresh(), fresh()];
        lines.push(`${ticks} = ${LEAF_TICKS}; ${a} = void 0; ${b} = void 0;`);
        for (const [side, into] of [[node.left, a], [node.right, b]] as const) {
          if (typeof side.fact !== 'string') continue;
          lines.push(`if (${has(side.fact)}) {`);
          read(side, into, lines, side.keys ? [`${ticks} = ${LEAF_TICKS + PATH_TICKS};`] : []);
          lines.push('}');
        }
        lines.push(`${target} = 2 * ${ticks} + (${apply(node.operator, a, b)} ? 1 : 0);`);
        return;
      }
    }
  };

  const result = fresh();
  const body: string[] = [];
  emit(plan, result, body);
  return `function rule${index}(facts) {\nlet ${variables.join(', ')};\n${body.join('\n')}\nreturn ${result};\n}`;
}
