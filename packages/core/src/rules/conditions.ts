/**
 * A checked rule's conditions compiled into one plain synchronous function: closures built once,
 * paths pre-parsed, operators resolved, no promise and no allocation per call. The function
 * returns `ticks * 2 + passed`: whether json-rules-engine would pass the rule, and when its chain
 * would settle (see order.ts), so evaluate can put events in json-rules-engine's order.
 *
 * It evaluates exactly what json-rules-engine evaluates: every condition of a priority set (so an
 * operator that throws there throws here), short-circuiting only between sets.
 *
 * What it does not cover — custom operators, JSONPath beyond plain member access — compiles to
 * `null`, and the rule is left to json-rules-engine.
 */
import type { RuleConditions } from '../policy/types.js';
import { resolveOperator, type OperatorFn } from './operators.js';
import {
  hasFact,
  isFactReference,
  LEAF_TICKS,
  NESTED_GROUP_TICKS,
  NESTED_NOT_TICKS,
  PATH_TICKS,
  prioritySets,
  ROOT_NOT_TICKS,
  SET_RUN_TICKS,
  SET_STEP_TICKS,
} from './order.js';
import { parsePlainPath, pathReader } from './paths.js';
import type { Facts } from './types.js';

/** `ticks * 2 + (passed ? 1 : 0)`. */
export type TimedPredicate = (facts: Facts) => number;

type Node = Record<string, unknown>;

/** Compiles a rule's (already checked) conditions; `null` when json-rules-engine must run it. */
export function compileRuleConditions(conditions: RuleConditions, customOperators: ReadonlySet<string>): TimedPredicate | null {
  const root = conditions as Node;
  // json-rules-engine's Rule.evaluate looks for any, then all, then not.
  if (root.any) return compileGroup(root.any as Node[], 'any', customOperators);
  if (root.all) return compileGroup(root.all as Node[], 'all', customOperators);
  const inner = compileCondition(root.not as Node, customOperators);
  return inner && negate(inner, ROOT_NOT_TICKS);
}

/** json-rules-engine's evaluateCondition. */
function compileCondition(node: Node, custom: ReadonlySet<string>): TimedPredicate | null {
  if (Object.hasOwn(node, 'any') || Object.hasOwn(node, 'all')) {
    const group = Object.hasOwn(node, 'any') ? compileGroup(node.any as Node[], 'any', custom) : compileGroup(node.all as Node[], 'all', custom);
    if (!group) return null;
    return (facts) => group(facts) + 2 * NESTED_GROUP_TICKS;
  }
  if (Object.hasOwn(node, 'not')) {
    const inner = compileCondition(node.not as Node, custom);
    return inner && negate(inner, NESTED_NOT_TICKS);
  }
  return compileLeaf(node, custom);
}

function negate(inner: TimedPredicate, ticks: number): TimedPredicate {
  return (facts) => (inner(facts) ^ 1) + 2 * ticks;
}

/** json-rules-engine's prioritizeAndRun. */
function compileGroup(children: readonly Node[], operator: 'all' | 'any', custom: ReadonlySet<string>): TimedPredicate | null {
  if (children.length === 0) return () => 1; // an empty all *and* an empty any pass, at once
  if (children.length === 1) return compileCondition(children[0]!, custom);
  const sets: TimedPredicate[][] = [];
  for (const set of prioritySets(children)) {
    const compiled = set.map((child) => compileCondition(child, custom));
    if (compiled.some((predicate) => predicate === null)) return null;
    sets.push(compiled as TimedPredicate[]);
  }
  const all = operator === 'all';
  if (sets.length === 1) {
    // The usual group: one priority set, nothing to short-circuit.
    const set = sets[0]!;
    const count = set.length;
    return (facts) => {
      let slowest = 0;
      let passed = 0;
      for (let i = 0; i < count; i++) {
        const settled = set[i]!(facts);
        if (settled >> 1 > slowest) slowest = settled >> 1;
        passed += settled & 1;
      }
      return 2 * (SET_STEP_TICKS + slowest + SET_RUN_TICKS) + ((all ? passed === count : passed > 0) ? 1 : 0);
    };
  }
  return (facts) => {
    let ticks = 0;
    let result = all;
    for (let s = 0; s < sets.length; s++) {
      ticks += SET_STEP_TICKS;
      if (all !== result) continue; // short-circuited: all already failed, any already passed
      const set = sets[s]!;
      let slowest = 0;
      let passed = 0;
      for (let i = 0; i < set.length; i++) {
        const settled = set[i]!(facts);
        if (settled >> 1 > slowest) slowest = settled >> 1;
        passed += settled & 1;
      }
      result = all ? passed === set.length : passed > 0;
      ticks += slowest + SET_RUN_TICKS;
    }
    return ticks * 2 + (result ? 1 : 0);
  };
}

/** One side of a comparison: a fact, and the reader of its path (null for none). */
interface Side {
  fact: string;
  read: ((factValue: unknown) => unknown) | null;
}

function compileLeaf(leaf: Node, custom: ReadonlySet<string>): TimedPredicate | null {
  const resolved = resolveOperator(leaf.operator as string, custom);
  if (!resolved || resolved.kind === 'custom') return null;
  const op = resolved.fn;
  const left = side(leaf.fact as string, leaf.path);
  if (!left) return null;
  const value = leaf.value;
  if (isFactReference(value)) {
    const right = side(value.fact as string, value.path);
    return right && compareFacts(left, right, op);
  }
  return compareValue(left, value, op);
}

function side(fact: string, path: unknown): Side | null {
  // json-rules-engine applies a path only when it is truthy.
  if (!path) return { fact, read: null };
  const keys = parsePlainPath(path as string);
  return keys && { fact, read: pathReader(keys) };
}

const PASS = 2 * LEAF_TICKS + 1;
const FAIL = 2 * LEAF_TICKS;
const PASS_AFTER_PATH = 2 * (LEAF_TICKS + PATH_TICKS) + 1;
const FAIL_AFTER_PATH = 2 * (LEAF_TICKS + PATH_TICKS);

/** The common case, specialised: a fact (maybe with a path) against a constant. */
function compareValue({ fact, read }: Side, value: unknown, op: OperatorFn): TimedPredicate {
  if (!read) return (facts) => (op(hasFact(facts, fact) ? facts[fact] : undefined, value) ? PASS : FAIL);
  return (facts) => {
    // A missing fact resolves at once to undefined, path or not.
    if (!hasFact(facts, fact)) return op(undefined, value) ? PASS : FAIL;
    return op(read(facts[fact]), value) ? PASS_AFTER_PATH : FAIL_AFTER_PATH;
  };
}

/** A fact against another fact (`value: { fact, path }`). */
function compareFacts(left: Side, right: Side, op: OperatorFn): TimedPredicate {
  return (facts) => {
    let ticks = LEAF_TICKS;
    let a: unknown;
    let b: unknown;
    if (hasFact(facts, left.fact)) {
      a = left.read ? left.read(facts[left.fact]) : facts[left.fact];
      if (left.read) ticks = LEAF_TICKS + PATH_TICKS;
    }
    if (hasFact(facts, right.fact)) {
      b = right.read ? right.read(facts[right.fact]) : facts[right.fact];
      if (right.read) ticks = LEAF_TICKS + PATH_TICKS;
    }
    return 2 * ticks + (op(a, b) ? 1 : 0);
  };
}
