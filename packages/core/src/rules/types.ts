/**
 * The vocabulary shared by the rules module: the facts rules read, the events they fire, custom
 * operators, and the fact names and event types a policy may use.
 */
import type { RulePolicy } from '../policy/types.js';

/** The facts of one evaluation: a plain object of JSON-like values, keyed by fact name. */
export type Facts = Record<string, unknown>;

/**
 * A custom operator, as json-rules-engine's `engine.addOperator` takes it. It must be synchronous:
 * json-rules-engine uses its return value directly.
 */
export type CustomOperator = (factValue: unknown, jsonValue: unknown) => boolean;
/** Custom operators by name, as `compileRules` and the reference interpreter take them. */
export type CustomOperators = Readonly<Record<string, CustomOperator>>;

/** One rule that fired. The same frozen object comes back every time the rule fires. */
export interface FiredEvent {
  readonly type: RulePolicy['event']['type'];
  readonly params: Readonly<Record<string, unknown>> | undefined;
  /** The rule's name, or `rules[i]` when it has none. */
  readonly rule: string;
  /** Index of the rule in the policy's `rules`. */
  readonly index: number;
  /** The rule's priority (json-rules-engine's default is 1). */
  readonly priority: number;
  readonly mode: 'enforce' | 'monitor';
}

/** The facts DESIGN gives rules; `attributes` is the host's own, open object. */
export const RULE_FACTS: readonly string[] = Object.freeze(['action', 'ip', 'actor', 'content', 'limits', 'history', 'score', 'attributes']);

/** Event types a rule may fire. */
/** Adaptive limits never go below this fraction of the policy's capacity. */
export const MIN_TIGHTEN_FACTOR = 0.1;

/**
 * The event types, and the params each reads (verdict/decide.ts). The schema lets any param
 * through, so a typo (`"bans": "24h"`) or a param on a type that ignores it (`ban` on a
 * throttle) would load clean and do nothing: `checkRule` warns of each.
 */
export const EVENT_PARAMS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  allow: ['reason'],
  challenge: ['reason', 'challenge'],
  throttle: ['reason', 'retryAfter'],
  block: ['reason', 'ban'],
  score: ['reason', 'add'],
  tighten: ['reason', 'factor', 'for'],
});

export const EVENT_TYPES: readonly string[] = Object.freeze(Object.keys(EVENT_PARAMS));

/** The label a rule goes by in events, problems and explanations. */
export function ruleLabel(rule: { name?: unknown } | null | undefined, index: number): string {
  return typeof rule?.name === 'string' && rule.name !== '' ? rule.name : `rules[${index}]`;
}

/**
 * The event a rule fires, built once and deeply frozen: evaluate hands the same object out on
 * every call, so no caller may change what the next caller sees.
 */
export function firedEvent(rule: RulePolicy, index: number): FiredEvent {
  const params = rule.event.params === undefined ? undefined : deepFreeze(structuredClone(rule.event.params) as Record<string, unknown>);
  return Object.freeze({ type: rule.event.type, params, rule: ruleLabel(rule, index), index, priority: rule.priority ?? 1, mode: rule.mode ?? 'enforce' });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
