/**
 * json-rules-engine itself, as the reference interpreter: what the compiled rules are proven
 * against, what runs the rules the compiler leaves to it, and what `explain` reads.
 *
 * An Engine is never shared by two runs in flight. `engine.status` belongs to the engine, so a
 * run that finishes (or a `stop()`) while another run is between priority sets makes the other
 * skip its remaining rules (json-rules-engine #303). Engines are pooled instead: a run takes an
 * idle one or builds one, and gives it back when it settled normally. After a rejected run the
 * engine is dropped, because json-rules-engine keeps evaluating that run's later priority sets in
 * the background and would flip the status under the next run.
 *
 * Events come out exactly as json-rules-engine reports them: priority order, and within a
 * priority in the order the rules' promise chains settle (see order.ts).
 */
import { Engine, type RuleProperties, type RuleResult } from 'json-rules-engine';
import type { RulePolicy } from '../policy/types.js';
import { firedEvent, ruleLabel, type CustomOperators, type Facts, type FiredEvent } from './types.js';
import { resolveJsonPath } from './paths.js';

/** Options of `createReferenceInterpreter`. */
export interface ReferenceOptions {
  /** Custom operators, registered on every engine. */
  operators?: CustomOperators;
  /** Indexes of the rules to run (the policy indexes stay as they are). @default every rule */
  only?: readonly number[];
}

/** One condition as json-rules-engine evaluated it. */
export interface ConditionExplanation {
  all?: ConditionExplanation[];
  any?: ConditionExplanation[];
  not?: ConditionExplanation;
  fact?: string;
  path?: string;
  operator?: string;
  value?: unknown;
  params?: Record<string, unknown>;
  priority?: number;
  /** False when json-rules-engine never got to it (a set before it decided the group). */
  evaluated: boolean;
  /** The operator's result (leaves) or the group's (all / any / not). */
  result?: unknown;
  /** The fact's value after `path`, as the operator saw it. */
  factResult?: unknown;
  /** The value after resolving a `{ fact, path }` reference. */
  valueResult?: unknown;
}

/** One rule as json-rules-engine evaluated it. */
export interface RuleExplanation {
  rule: string;
  index: number;
  priority: number;
  /** Whether the rule fired. */
  result: boolean;
  event: FiredEvent;
  conditions: ConditionExplanation;
}

/** json-rules-engine behind a run / explain interface, safe under concurrent runs. */
export interface ReferenceInterpreter {
  /** The events json-rules-engine fires, in its order. */
  run(facts: Facts): Promise<FiredEvent[]>;
  /** Every rule, in policy order: whether it fired and what each condition saw. */
  explain(facts: Facts): Promise<RuleExplanation[]>;
}

/** Idle engines kept for reuse; a burst of concurrent runs beyond this builds throwaway ones. */
const MAX_IDLE_ENGINES = 16;

/**
 * A json-rules-engine interpreter of `rules` (`new Engine(rules, { allowUndefinedFacts: true })`,
 * paths resolved by `resolveJsonPath`),
 * correct under concurrent runs. Throws what json-rules-engine throws for a malformed rule.
 */
export function createReferenceInterpreter(rules: readonly RulePolicy[], options: ReferenceOptions = {}): ReferenceInterpreter {
  const operators = Object.entries(options.operators ?? {});
  const selected = options.only ?? rules.map((_, index) => index);
  const events = new Map(selected.map((index) => [index, firedEvent(rules[index]!, index)]));

  const build = () => {
    // Our resolver: jsonpath-plus in safe mode, and a path that fails resolves to nothing (paths.ts).
    const engine = new Engine([], { allowUndefinedFacts: true, pathResolver: resolveJsonPath });
    for (const [name, fn] of operators) engine.addOperator(name, fn);
    for (const index of selected) {
      const rule = rules[index]!;
      // Clones: json-rules-engine writes into condition objects (a leaf's priority), and policies
      // are frozen. The policy index is the rule's name there, to map results back.
      engine.addRule({ name: index, priority: rule.priority, conditions: structuredClone(rule.conditions), event: structuredClone(rule.event) } as unknown as RuleProperties);
    }
    return engine;
  };
  // Built now, so a rule json-rules-engine refuses fails here rather than on the first run.
  const idle: Engine[] = [build()];

  async function withEngine<T>(use: (engine: Engine) => Promise<T>): Promise<T> {
    const engine = idle.pop() ?? build();
    const result = await use(engine); // a rejected run drops the engine
    if (idle.length < MAX_IDLE_ENGINES) idle.push(engine);
    return result;
  }

  return {
    run: (facts) =>
      withEngine(async (engine) => {
        const { results } = await engine.run(facts);
        return results.map((result) => events.get(result.name as unknown as number)!);
      }),
    explain: (facts) =>
      withEngine(async (engine) => {
        const { results, failureResults } = await engine.run(facts);
        return [...results, ...failureResults]
          .map((result) => explainRule(result, rules, events))
          .sort((a, b) => a.index - b.index);
      }),
  };
}

function explainRule(result: RuleResult, rules: readonly RulePolicy[], events: ReadonlyMap<number, FiredEvent>): RuleExplanation {
  const index = result.name as unknown as number;
  const conditions = explainCondition(result.conditions as unknown as JreCondition);
  conditions.evaluated = true;
  conditions.result = result.result;
  return { rule: ruleLabel(rules[index], index), index, priority: result.priority ?? 1, result: Boolean(result.result), event: events.get(index)!, conditions };
}

/** The fields of json-rules-engine's Condition objects that explanations read. */
interface JreCondition {
  all?: JreCondition[];
  any?: JreCondition[];
  not?: JreCondition;
  fact?: string;
  path?: string;
  operator?: string;
  value?: unknown;
  params?: Record<string, unknown>;
  priority?: number;
  result?: unknown;
  factResult?: unknown;
  valueResult?: unknown;
}

function explainCondition(condition: JreCondition): ConditionExplanation {
  // json-rules-engine sets `result` on a condition once it evaluated it.
  const node: ConditionExplanation = { evaluated: Object.hasOwn(condition, 'result') };
  if (condition.priority !== undefined) node.priority = condition.priority;
  if (node.evaluated) node.result = condition.result;
  // Its precedence: any, then all, then not.
  if (Object.hasOwn(condition, 'any')) node.any = condition.any!.map(explainCondition);
  else if (Object.hasOwn(condition, 'all')) node.all = condition.all!.map(explainCondition);
  else if (Object.hasOwn(condition, 'not')) node.not = explainCondition(condition.not!);
  else {
    node.fact = condition.fact;
    node.operator = condition.operator;
    node.value = condition.value;
    if (condition.path) node.path = condition.path;
    if (condition.params) node.params = condition.params;
    if (node.evaluated) {
      node.factResult = condition.factResult;
      node.valueResult = condition.valueResult;
    }
  }
  return node;
}
