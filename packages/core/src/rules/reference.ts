/**
 * json-rules-engine itself: the reference interpreter the compiled rules are proven against, and
 * the runner for rules the compiler leaves to it (custom operators, full JSONPath).
 *
 * An Engine is never shared by two runs in flight: `engine.status` is per engine, so with
 * several priorities one run could otherwise skip another's rules (json-rules-engine #303).
 * Engines are pooled instead: a run takes an idle one or builds a new one, and gives it back
 * unless the run rejected.
 */
import { Engine, type RuleProperties } from 'json-rules-engine';
import type { RulePolicy } from '../policy/types.js';
import type { Facts } from './conditions.js';

export interface FiredEvent {
  type: RulePolicy['event']['type'];
  params: Record<string, unknown> | undefined;
  /** The rule's name, or `rules[i]` when it has none. */
  rule: string;
  /** Index of the rule in the policy's `rules`. */
  index: number;
  priority: number;
  mode: 'enforce' | 'monitor';
}

export interface ReferenceInterpreter {
  run(facts: Facts): Promise<FiredEvent[]>;
  /** Per rule: whether it fired and each leaf condition's fact value and result. */
  explain(facts: Facts): Promise<RuleExplanation[]>;
}

export interface RuleExplanation {
  rule: string;
  index: number;
  result: boolean;
  conditions: unknown;
}

export type CustomOperators = Readonly<Record<string, (factValue: unknown, jsonValue: unknown) => boolean>>;

/** `rules` with their policy indexes (the reference interpreter may run a subset). */
export function createReferenceInterpreter(rules: readonly { rule: RulePolicy; index: number }[], operators: CustomOperators = {}): ReferenceInterpreter {
  const idle: Engine[] = [];
  const build = () => {
    const engine = new Engine([], { allowUndefinedFacts: true });
    for (const [name, fn] of Object.entries(operators)) engine.addOperator(name, fn);
    rules.forEach(({ rule, index }) => {
      // The index rides in the rule name so results can be mapped back whatever their order.
      engine.addRule({ conditions: rule.conditions, event: rule.event, priority: rule.priority ?? 1, name: String(index) } as RuleProperties);
    });
    return engine;
  };
  const byIndex = new Map(rules.map((entry) => [entry.index, entry.rule]));
  const label = (index: number) => byIndex.get(index)?.name ?? `rules[${index}]`;

  async function withEngine<T>(fn: (engine: Engine) => Promise<T>): Promise<T> {
    const engine = idle.pop() ?? build();
    const result = await fn(engine);
    // Only an engine whose run settled normally goes back: after a rejected run an Engine
    // silently skips rules on its next runs (measured here), so it is dropped.
    idle.push(engine);
    return result;
  }

  return {
    run: (facts) =>
      withEngine(async (engine) => {
        const { results } = await engine.run(facts);
        return results
          .map((result) => {
            const index = Number(result.name);
            const rule = byIndex.get(index)!;
            return { type: rule.event.type, params: rule.event.params as Record<string, unknown> | undefined, rule: label(index), index, priority: rule.priority ?? 1, mode: rule.mode ?? 'enforce' } satisfies FiredEvent;
          })
          // json-rules-engine settles rules of one priority in parallel, in no fixed order; the
          // policy order is the deterministic one.
          .sort((a, b) => b.priority - a.priority || a.index - b.index);
      }),
    explain: (facts) =>
      withEngine(async (engine) => {
        const { results, failureResults } = await engine.run(facts);
        return [...results, ...failureResults]
          .map((result) => ({ rule: label(Number(result.name)), index: Number(result.name), result: result.result, conditions: result.toJSON(false) }))
          .sort((a, b) => a.index - b.index);
      }),
  };
}
