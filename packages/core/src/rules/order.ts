/**
 * The order json-rules-engine reports events in, as a model the compiled rules can follow.
 *
 * json-rules-engine runs the rules of one priority in parallel (one promise chain each) and
 * records a rule's result when its chain settles, so within a priority the events come out in
 * settling order, not policy order: `{ any: [] }` before a flat condition before a path before a
 * nested group. With constant facts that order is deterministic. The microtask queue runs in
 * generations (a job enqueued while generation g runs belongs to g + 1), rules are started in
 * policy order in one job, and no promise is shared between rules, so a rule's chain settles in a
 * generation fixed by its own shape and data — its *ticks* — and rules settling in the same
 * generation keep policy order. Sorting a priority's fired rules by (ticks, index) therefore
 * gives json-rules-engine's order exactly; the differential tests hold the model to it.
 *
 * Ticks, counted through json-rules-engine 7.3's rule.js / condition.js / almanac.js:
 * - leaf: `Promise.all([value, fact]).then(operator)` then evaluateCondition's `.then` = 3, plus 1
 *   when the fact (or a fact-reference value) is present *and* has a path (almanac adds a `.then`
 *   to resolve it; a missing fact resolves at once);
 * - nested all/any: the group + 1 (evaluateCondition's `.then`); nested not: the child + 2
 *   (not's `.then(!r)` and evaluateCondition's); a root not: the child + 1; a root all/any: the
 *   group itself;
 * - group of 0 conditions: 0 (true); of 1: that condition; of more: per priority set, highest
 *   first, 1 for the cursor's `.then`, and unless the set is short-circuited, the slowest
 *   condition of the set + 3 (`Promise.all`, `.then(every|some)`, adopting that promise).
 */

/** `Promise.all([value, fact])`, `.then(operator)`, evaluateCondition's `.then`. */
export const LEAF_TICKS = 3;
/** The almanac's `.then` that resolves a `path` on a fact that is present. */
export const PATH_TICKS = 1;
/** evaluateCondition's `.then` after a nested all / any. */
export const NESTED_GROUP_TICKS = 1;
/** not's `.then(r => !r)` and evaluateCondition's `.then`. */
export const NESTED_NOT_TICKS = 2;
/** not's `.then(r => !r)` at the root. */
export const ROOT_NOT_TICKS = 1;
/** The cursor's `.then` that starts (or skips) a priority set. */
export const SET_STEP_TICKS = 1;
/** A set that runs: `Promise.all`, `.then(every|some)`, then the cursor adopting that promise. */
export const SET_RUN_TICKS = 3;

/** A compiled leaf's `ticks * 2 + passed` (conditions.ts): without a path, or with one on a present fact. */
export const LEAF_SETTLED = { pass: 2 * LEAF_TICKS + 1, fail: 2 * LEAF_TICKS } as const;
export const PATH_LEAF_SETTLED = { pass: 2 * (LEAF_TICKS + PATH_TICKS) + 1, fail: 2 * (LEAF_TICKS + PATH_TICKS) } as const;

/** A condition as far as ordering cares: json-rules-engine's own `Condition` objects fit. */
export interface OrderNode {
  all?: readonly OrderNode[];
  any?: readonly OrderNode[];
  not?: OrderNode;
  priority?: unknown;
  fact?: unknown;
  path?: unknown;
  value?: unknown;
  /** A leaf's operator result, once json-rules-engine evaluated it. */
  result?: unknown;
}

/**
 * A group's children in json-rules-engine's evaluation sets: grouped by condition priority
 * (default 1), highest first, policy order within a set.
 */
export function prioritySets<T extends { priority?: unknown }>(children: readonly T[]): T[][] {
  const sets = new Map<number, T[]>();
  for (const child of children) {
    const priority = Number(child.priority) || 1;
    const set = sets.get(priority);
    if (set) set.push(child);
    else sets.set(priority, [child]);
  }
  return [...sets.entries()].sort((a, b) => b[0] - a[0]).map(([, set]) => set);
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Whether json-rules-engine's almanac knows a fact. run() registers the keys `for…in` lists; for
 * facts as hosts build them (plain objects) those are exactly the own keys, and own keys are all
 * that is read here: an inherited (polluted) one never counts.
 */
export function hasFact(facts: object, name: unknown): boolean {
  return typeof name === 'string' && hasOwn.call(facts, name);
}

/** Extra ticks of a leaf for resolving paths on the fact and on a fact-reference value. */
export function leafPathTicks(facts: object, leaf: OrderNode): number {
  if (leaf.path && hasFact(facts, leaf.fact)) return PATH_TICKS;
  const value = leaf.value as { fact?: unknown; path?: unknown } | null;
  if (isFactReference(value) && value.path && hasFact(facts, value.fact)) return PATH_TICKS;
  return 0;
}

/** json-rules-engine's almanac.getValue test for `{ fact: … }` values. */
export function isFactReference(value: unknown): value is { fact: unknown; path?: unknown; params?: unknown } {
  return value != null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, 'fact');
}

/**
 * Ticks of a rule json-rules-engine has evaluated, read from its result tree (the leaves carry
 * `result`; short-circuited sets were never run). Used to merge rules json-rules-engine ran with
 * compiled ones in one order.
 */
export function evaluatedRuleTicks(conditions: OrderNode, facts: object): number {
  if (conditions.any) return evaluatedGroup(conditions.any, 'any', facts).ticks;
  if (conditions.all) return evaluatedGroup(conditions.all, 'all', facts).ticks;
  if (conditions.not) return evaluatedCondition(conditions.not, facts).ticks + ROOT_NOT_TICKS;
  return 0;
}

interface Settled {
  ticks: number;
  /** As json-rules-engine passes it on: booleans, or whatever a custom operator returned. */
  result: unknown;
}

function evaluatedCondition(node: OrderNode, facts: object): Settled {
  if (node.any || node.all) {
    const group = node.any ? evaluatedGroup(node.any, 'any', facts) : evaluatedGroup(node.all!, 'all', facts);
    return { ticks: group.ticks + NESTED_GROUP_TICKS, result: group.result === true };
  }
  if (node.not) {
    const inner = evaluatedCondition(node.not, facts);
    return { ticks: inner.ticks + NESTED_NOT_TICKS, result: !inner.result };
  }
  return { ticks: LEAF_TICKS + leafPathTicks(facts, node), result: node.result };
}

function evaluatedGroup(children: readonly OrderNode[], operator: 'all' | 'any', facts: object): Settled {
  if (children.length === 0) return { ticks: 0, result: true };
  if (children.length === 1) return evaluatedCondition(children[0]!, facts);
  let ticks = 0;
  let result: unknown = operator === 'all';
  for (const set of prioritySets(children)) {
    ticks += SET_STEP_TICKS;
    if (operator === 'all' ? !result : result) continue;
    let slowest = 0;
    let passed = 0;
    for (const child of set) {
      const settled = evaluatedCondition(child, facts);
      if (settled.ticks > slowest) slowest = settled.ticks;
      if (settled.result === true) passed++;
    }
    result = operator === 'all' ? passed === set.length : passed > 0;
    ticks += slowest + SET_RUN_TICKS;
  }
  return { ticks, result };
}
