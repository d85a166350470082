/**
 * A policy's rules, compiled once: rules whose conditions the compiler covers become plain
 * synchronous predicates (no promises, no JSONPath at run time); the rest run on
 * json-rules-engine. Events come out in json-rules-engine's priority order (higher first) and,
 * within a priority, in policy order. Every rule is checked at load, so an unknown operator or
 * fact fails the policy naming the rule instead of surfacing at run time.
 */
import type { PolicyProblem } from '../errors.js';
import type { RulePolicy } from '../policy/types.js';
import { compileCondition, type ConditionContext, type Facts, type Predicate } from './conditions.js';
import { createReferenceInterpreter, type CustomOperators, type FiredEvent } from './reference.js';

export type { FiredEvent };

/** The facts DESIGN gives rules. */
export const RULE_FACTS = Object.freeze(['action', 'ip', 'actor', 'content', 'limits', 'history', 'score', 'attributes']);

const EVENT_TYPES = new Set(['allow', 'challenge', 'throttle', 'block', 'score', 'tighten']);

export interface CompiledRules {
  readonly problems: readonly PolicyProblem[];
  readonly warnings: readonly PolicyProblem[];
  /** True when every rule runs compiled (then `evaluate` answers synchronously). */
  readonly compiled: boolean;
  evaluate(facts: Facts): FiredEvent[] | Promise<FiredEvent[]>;
}

export interface CompileRulesOptions {
  /** JSON pointer of the rules array. @default "/rules" */
  pointer?: string;
  /** Extra operators; rules using them run on json-rules-engine. */
  operators?: CustomOperators;
  /** Fact names rules may use; `null` allows any. @default RULE_FACTS */
  facts?: readonly string[] | null;
}

export function compileRules(rules: readonly RulePolicy[], options: CompileRulesOptions = {}): CompiledRules {
  const pointer = options.pointer ?? '/rules';
  const operators = options.operators ?? {};
  const problems: PolicyProblem[] = [];
  const warnings: PolicyProblem[] = [];
  const knownFacts = options.facts === null ? null : new Set(options.facts ?? RULE_FACTS);
  const compiled: { predicate: Predicate; event: FiredEvent }[] = [];
  const fallback: { rule: RulePolicy; index: number }[] = [];

  rules.forEach((rule, index) => {
    const name = rule.name ?? `rules[${index}]`;
    const at = `${pointer}/${index}`;
    const ctx: ConditionContext = { rule: name, knownFacts, customOperators: new Set(Object.keys(operators)), problems, warnings };
    const type = rule.event?.type;
    if (!EVENT_TYPES.has(type)) problems.push({ pointer: `${at}/event/type`, message: `unknown event type ${JSON.stringify(type)} (use allow, challenge, throttle, block, score or tighten)`, rule: name });
    if (type === 'tighten') warnings.push({ pointer: `${at}/event/type`, message: 'tighten events are not applied yet (adaptive limits are planned): this rule has no effect', rule: name });
    if (type === 'score' && typeof rule.event.params?.add !== 'number') problems.push({ pointer: `${at}/event/params/add`, message: 'a score event needs a numeric "add"', rule: name });
    if (rule.priority !== undefined && !(Number.isInteger(rule.priority) && rule.priority > 0)) problems.push({ pointer: `${at}/priority`, message: 'priority is a positive integer', rule: name });
    const before = problems.length;
    const conditions = rule.conditions as unknown;
    const roots = typeof conditions === 'object' && conditions !== null ? ['all', 'any', 'not'].filter((k) => Object.hasOwn(conditions, k)) : [];
    if (roots.length !== 1) problems.push({ pointer: `${at}/conditions`, message: 'conditions must have exactly one of all, any, not', rule: name });
    const predicate = compileCondition(conditions, `${at}/conditions`, ctx);
    if (problems.length > before) return;
    const event: FiredEvent = { type, params: rule.event.params as Record<string, unknown> | undefined, rule: name, index, priority: rule.priority ?? 1, mode: rule.mode ?? 'enforce' };
    if (predicate) compiled.push({ predicate, event: Object.freeze(event) as FiredEvent });
    else fallback.push({ rule, index });
  });

  // Stable sort: higher priority first, policy order within a priority.
  compiled.sort((a, b) => b.event.priority - a.event.priority || a.event.index - b.event.index);

  const runCompiled = (facts: Facts): FiredEvent[] => {
    const events: FiredEvent[] = [];
    for (const { predicate, event } of compiled) if (predicate(facts)) events.push(event);
    return events;
  };

  if (fallback.length === 0) return { problems, warnings, compiled: true, evaluate: runCompiled };

  const reference = createReferenceInterpreter(fallback, operators);
  return {
    problems,
    warnings,
    compiled: false,
    async evaluate(facts) {
      const [fast, slow] = [runCompiled(facts), await reference.run(facts)];
      return [...fast, ...slow].sort((a, b) => b.priority - a.priority || a.index - b.index);
    },
  };
}
