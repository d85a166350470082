/**
 * A checked rule's conditions, planned once and compiled into one plain synchronous function: no
 * promise and no allocation per call. The function returns `ticks * 2 + passed`: whether
 * json-rules-engine would pass the rule, and when its chain would settle (see order.ts), so
 * evaluate can put events in json-rules-engine's order.
 *
 * It evaluates exactly what json-rules-engine evaluates: every condition of a priority set (so an
 * operator that throws there throws here), short-circuiting only between sets.
 *
 * The plan (operators resolved, paths parsed, priority sets grouped) has two back ends: generated
 * JavaScript (codegen.ts), the fast one, and the closures below, for runtimes that forbid code
 * generation from strings. What neither covers — custom operators, JSONPath beyond plain member
 * access — plans to `null`, and the rule is left to json-rules-engine.
 */
import type { RuleConditions } from '../policy/types.js';
import { generatedPredicates } from './codegen.js';
import { resolveOperator, type OperatorFn } from './operators.js';
import {
  hasFact,
  isFactReference,
  LEAF_SETTLED,
  LEAF_TICKS,
  NESTED_GROUP_TICKS,
  NESTED_NOT_TICKS,
  PATH_LEAF_SETTLED,
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

/** One side of a comparison: a fact, and the keys of its plain path (null for none). */
export interface PlannedSide {
  fact: unknown;
  keys: readonly string[] | null;
}

/** A built-in operator, decorators applied: its name parts let a back end inline the plain ones. */
export interface PlannedOperator {
  fn: OperatorFn;
  base: string;
  decorators: readonly string[];
}

/** The conditions of a rule, as both back ends read them. */
export type ConditionPlan =
  /** A fact (maybe with a path) against a constant, or against another fact (`right`). */
  | { kind: 'leaf'; left: PlannedSide; operator: PlannedOperator; value: unknown; right: PlannedSide | null }
  /** `not`: the inner result flipped, `ticks` later. */
  | { kind: 'not'; inner: ConditionPlan; ticks: number }
  /** A nested all / any: settles NESTED_GROUP_TICKS after its group. */
  | { kind: 'nested'; inner: ConditionPlan }
  /** all / any over priority sets, highest first; short-circuits between sets. */
  | { kind: 'group'; all: boolean; sets: readonly (readonly ConditionPlan[])[] }
  /** An empty all or any: passes at once. */
  | { kind: 'pass' };

type Node = Record<string, unknown>;

export interface CompileConditionsOptions {
  /** Generate JavaScript when the runtime allows it. @default true */
  generate?: boolean;
}

/**
 * Compiles each rule's (already checked) conditions, all at once (one generated function per
 * rule from one `new Function`); `null` for a rule json-rules-engine must run.
 */
export function compileConditions(rules: readonly RuleConditions[], customOperators: ReadonlySet<string>, options: CompileConditionsOptions = {}): (TimedPredicate | null)[] {
  const plans = rules.map((conditions) => planConditions(conditions, customOperators));
  const generated = options.generate === false ? null : generatedPredicates(plans);
  return plans.map((plan, index) => plan && (generated?.[index] ?? closurePredicate(plan)));
}

/** The plan of a rule's conditions, in json-rules-engine's Rule.evaluate terms. */
export function planConditions(conditions: RuleConditions, customOperators: ReadonlySet<string>): ConditionPlan | null {
  const root = conditions as Node;
  // json-rules-engine's Rule.evaluate looks for any, then all, then not.
  if (root.any) return planGroup(root.any as Node[], 'any', customOperators);
  if (root.all) return planGroup(root.all as Node[], 'all', customOperators);
  const inner = planCondition(root.not as Node, customOperators);
  return inner && { kind: 'not', inner, ticks: ROOT_NOT_TICKS };
}

/** json-rules-engine's evaluateCondition. */
function planCondition(node: Node, custom: ReadonlySet<string>): ConditionPlan | null {
  if (Object.hasOwn(node, 'any') || Object.hasOwn(node, 'all')) {
    const group = Object.hasOwn(node, 'any') ? planGroup(node.any as Node[], 'any', custom) : planGroup(node.all as Node[], 'all', custom);
    return group && { kind: 'nested', inner: group };
  }
  if (Object.hasOwn(node, 'not')) {
    const inner = planCondition(node.not as Node, custom);
    return inner && { kind: 'not', inner, ticks: NESTED_NOT_TICKS };
  }
  return planLeaf(node, custom);
}

/** json-rules-engine's prioritizeAndRun. */
function planGroup(children: readonly Node[], operator: 'all' | 'any', custom: ReadonlySet<string>): ConditionPlan | null {
  if (children.length === 0) return { kind: 'pass' }; // an empty all *and* an empty any pass, at once
  if (children.length === 1) return planCondition(children[0]!, custom);
  const sets: ConditionPlan[][] = [];
  for (const set of prioritySets(children)) {
    const planned = set.map((child) => planCondition(child, custom));
    if (planned.some((plan) => plan === null)) return null;
    sets.push(planned as ConditionPlan[]);
  }
  return { kind: 'group', all: operator === 'all', sets };
}

function planLeaf(leaf: Node, custom: ReadonlySet<string>): ConditionPlan | null {
  const resolved = resolveOperator(leaf.operator as string, custom);
  if (!resolved || resolved.kind === 'custom') return null;
  const left = side(leaf.fact, leaf.path);
  if (!left) return null;
  const operator = { fn: resolved.fn, base: resolved.base, decorators: resolved.decorators };
  const value = leaf.value;
  if (isFactReference(value)) {
    const right = side(value.fact, value.path);
    return right && { kind: 'leaf', left, operator, value, right };
  }
  return { kind: 'leaf', left, operator, value, right: null };
}

function side(fact: unknown, path: unknown): PlannedSide | null {
  // json-rules-engine applies a path only when it is truthy.
  if (!path) return { fact, keys: null };
  const keys = parsePlainPath(path as string);
  return keys && { fact, keys };
}

/** The closure back end: one closure per node, built once. */
export function closurePredicate(plan: ConditionPlan): TimedPredicate {
  switch (plan.kind) {
    case 'pass':
      return () => 1;
    case 'nested': {
      const group = closurePredicate(plan.inner);
      return (facts) => group(facts) + 2 * NESTED_GROUP_TICKS;
    }
    case 'not': {
      const inner = closurePredicate(plan.inner);
      const ticks = plan.ticks;
      return (facts) => (inner(facts) ^ 1) + 2 * ticks;
    }
    case 'group':
      return closureGroup(plan.sets.map((set) => set.map(closurePredicate)), plan.all);
    case 'leaf':
      return plan.right ? compareFacts(plan.left, plan.right, plan.operator.fn) : compareValue(plan.left, plan.value, plan.operator.fn);
  }
}

function closureGroup(sets: readonly TimedPredicate[][], all: boolean): TimedPredicate {
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

const { pass: PASS, fail: FAIL } = LEAF_SETTLED;
const { pass: PASS_AFTER_PATH, fail: FAIL_AFTER_PATH } = PATH_LEAF_SETTLED;

/** The common case, specialised: a fact (maybe with a path) against a constant. */
function compareValue({ fact, keys }: PlannedSide, value: unknown, op: OperatorFn): TimedPredicate {
  const name = fact as string;
  if (!keys) return (facts) => (op(hasFact(facts, name) ? facts[name] : undefined, value) ? PASS : FAIL);
  const read = pathReader(keys);
  return (facts) => {
    // A missing fact resolves at once to undefined, path or not.
    if (!hasFact(facts, name)) return op(undefined, value) ? PASS : FAIL;
    return op(read(facts[name]), value) ? PASS_AFTER_PATH : FAIL_AFTER_PATH;
  };
}

/** A fact against another fact (`value: { fact, path }`). */
function compareFacts(left: PlannedSide, right: PlannedSide, op: OperatorFn): TimedPredicate {
  const [leftName, rightName] = [left.fact as string, right.fact as string];
  const readLeft = left.keys && pathReader(left.keys);
  const readRight = right.keys && pathReader(right.keys);
  return (facts) => {
    let ticks = LEAF_TICKS;
    let a: unknown;
    let b: unknown;
    if (hasFact(facts, leftName)) {
      a = readLeft ? readLeft(facts[leftName]) : facts[leftName];
      if (readLeft) ticks = LEAF_TICKS + PATH_TICKS;
    }
    if (hasFact(facts, rightName)) {
      b = readRight ? readRight(facts[rightName]) : facts[rightName];
      if (readRight) ticks = LEAF_TICKS + PATH_TICKS;
    }
    return 2 * ticks + (op(a, b) ? 1 : 0);
  };
}
