/**
 * Load-time checks of one rule. json-rules-engine finds an unknown operator or fact only when a
 * rule runs, and then without naming the rule; here every such mistake is a problem with its JSON
 * pointer and the rule's name, so a bad policy never loads. The traps json-rules-engine's
 * semantics set for rule authors (substring `in`, numeric operators on strings, operators that
 * pass when a fact is missing) are warnings: the semantics stay, for compatibility.
 */
import type { PolicyProblem } from '../errors.js';
import { DECORATOR_NAMES, NUMERIC_OPERATORS, OPERATOR_NAMES, resolveOperator, type ResolvedOperator } from './operators.js';
import { isFactReference } from './order.js';
import { isWellFormedPath, jsonPathProblem, parsePlainPath } from './paths.js';
import { durationProblem, parseBanDuration, parseDuration } from '../policy/duration.js';
import { escape as escapePointer } from '../policy/schema.js';
import { EVENT_PARAMS, EVENT_TYPES, MIN_TIGHTEN_FACTOR, ruleLabel } from './types.js';

export interface CheckOptions {
  /** Fact names rules may read; `null` allows any. */
  knownFacts: ReadonlySet<string> | null;
  /** Names of custom operators. */
  customOperators: ReadonlySet<string>;
}

interface Report {
  rule: string;
  problems: PolicyProblem[];
  warnings: PolicyProblem[];
  options: CheckOptions;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
// Safe integers only: json-rules-engine reads a priority with parseInt, which makes 1e21 ("1e+21") a 1.
const isPositiveInteger = (value: unknown) => Number.isSafeInteger(value) && (value as number) > 0;

/**
 * Checks the rule at `pointer` (e.g. `/rules/3`), appending what it finds. Returns whether the
 * rule is free of problems.
 */
export function checkRule(rule: unknown, index: number, pointer: string, options: CheckOptions, problems: PolicyProblem[], warnings: PolicyProblem[]): boolean {
  const before = problems.length;
  const report: Report = { rule: ruleLabel(isObject(rule) ? rule : null, index), problems, warnings, options };
  const problem = (at: string, message: string) => problems.push({ pointer: `${pointer}${at}`, message, rule: report.rule });
  if (!isObject(rule)) {
    problem('', 'a rule must be an object with conditions and an event');
    return false;
  }
  if (rule.name !== undefined && (typeof rule.name !== 'string' || rule.name === '')) problem('/name', 'a rule name is a non-empty string');
  if (rule.priority !== undefined && !isPositiveInteger(rule.priority)) problem('/priority', 'priority is a positive integer (higher runs first)');
  if (rule.mode !== undefined && rule.mode !== 'enforce' && rule.mode !== 'monitor') problem('/mode', 'mode is "enforce" or "monitor"');
  checkEvent(rule.event, `${pointer}/event`, report);

  const conditions = rule.conditions;
  if (!isObject(conditions)) {
    problem('/conditions', 'a rule needs conditions: an object with one of all, any, not');
  } else if (Object.hasOwn(conditions, 'condition')) {
    problem('/conditions/condition', 'condition references are not supported (a policy has no shared conditions): inline the condition');
  } else if (booleanKeys(conditions).length !== 1) {
    problem('/conditions', `conditions must have exactly one of all, any, not${booleanKeys(conditions).length > 1 ? ` (found ${booleanKeys(conditions).join(', ')})` : ''}`);
  } else {
    checkCondition(conditions, `${pointer}/conditions`, report);
  }
  return problems.length === before;
}

function checkEvent(event: unknown, at: string, report: Report): void {
  const problem = (where: string, message: string) => report.problems.push({ pointer: `${at}${where}`, message, rule: report.rule });
  if (!isObject(event)) {
    problem('', 'a rule needs an event: { "type": …, "params": … }');
    return;
  }
  const type = event.type;
  if (typeof type !== 'string' || !EVENT_TYPES.includes(type)) {
    problem('/type', `unknown event type ${JSON.stringify(type)} (use ${EVENT_TYPES.join(', ')})`);
  }
  const params = event.params;
  if (params !== undefined && !isObject(params)) problem('/params', 'event params are an object');
  if (type === 'score' && !(isObject(params) && typeof params.add === 'number' && Number.isFinite(params.add))) {
    problem('/params/add', 'a score event needs a numeric "add" (the points to add)');
  }
  // Checked here as well as by the schema, whose pattern lets "0s" through: a ban or Retry-After
  // that parses to nothing would be dropped silently when the rule fires.
  if (isObject(params) && params.ban !== undefined && parseBanDuration(params.ban) === undefined) problem('/params/ban', durationProblem(params.ban));
  if (isObject(params) && params.retryAfter !== undefined && parseDuration(params.retryAfter) === undefined) problem('/params/retryAfter', durationProblem(params.retryAfter));
  if (isObject(params) && typeof type === 'string' && EVENT_TYPES.includes(type)) {
    const reads = EVENT_PARAMS[type]!;
    for (const key of Object.keys(params)) {
      if (reads.includes(key)) continue;
      const known = Object.values(EVENT_PARAMS).some((names) => names.includes(key));
      report.warnings.push({
        pointer: `${at}/params/${escapePointer(key)}`,
        message: `${JSON.stringify(key)} ${known ? `does nothing on a ${type} event` : 'is not an event param and does nothing'} (${type} events read ${reads.join(', ')})`,
        rule: report.rule,
      });
    }
  }
  if (type === 'tighten') {
    const factor = isObject(params) ? params.factor : undefined;
    if (!(typeof factor === 'number' && factor > 0 && factor < 1)) {
      problem('/params/factor', `a tighten event needs a "factor" between 0 and 1 (0.5 halves the subject's limits), got ${JSON.stringify(factor)}`);
    } else if (factor < MIN_TIGHTEN_FACTOR) {
      report.warnings.push({ pointer: `${at}/params/factor`, message: `factor ${factor} is below ${MIN_TIGHTEN_FACTOR}: limits are never tightened below a tenth`, rule: report.rule });
    }
    const length = isObject(params) ? params.for : undefined;
    if (length !== undefined && parseDuration(length) === undefined) problem('/params/for', `${JSON.stringify(length)} is not a duration like "1h"`);
  }
}

/** json-rules-engine's boolean keys, in its precedence (any, all, not). */
function booleanKeys(node: Json): string[] {
  return ['any', 'all', 'not'].filter((key) => Object.hasOwn(node, key));
}

function checkCondition(node: unknown, at: string, report: Report): void {
  const problem = (where: string, message: string) => report.problems.push({ pointer: `${at}${where}`, message, rule: report.rule });
  if (!isObject(node)) {
    problem('', 'a condition must be an object: { "fact", "operator", "value" } or { "all" | "any" | "not" }');
    return;
  }
  if (Object.hasOwn(node, 'condition')) {
    problem('/condition', 'condition references are not supported (a policy has no shared conditions): inline the condition');
    return;
  }
  if (node.priority !== undefined && !isPositiveInteger(node.priority)) problem('/priority', 'a condition priority is a positive integer (higher is evaluated first)');
  const booleans = booleanKeys(node);
  if (booleans.length > 1) {
    problem('', `a condition has exactly one of all, any, not (found ${booleans.join(', ')})`);
    return;
  }
  const key = booleans[0];
  if (key === 'not') {
    if (isObject(node.not)) checkCondition(node.not, `${at}/not`, report);
    else problem('/not', '"not" takes one condition (an object, not an array)');
    return;
  }
  if (key === 'all' || key === 'any') {
    const list = node[key];
    if (Array.isArray(list)) list.forEach((child, i) => checkCondition(child, `${at}/${key}/${i}`, report));
    else problem(`/${key}`, `"${key}" takes an array of conditions`);
    return;
  }
  checkLeaf(node, at, report);
}

function checkLeaf(leaf: Json, at: string, report: Report): void {
  const problem = (where: string, message: string) => report.problems.push({ pointer: `${at}${where}`, message, rule: report.rule });
  const warn = (where: string, message: string) => report.warnings.push({ pointer: `${at}${where}`, message, rule: report.rule });
  const { customOperators } = report.options;

  let valid = checkFact(leaf.fact, leaf.path, '', at, report);

  let resolved: ResolvedOperator | undefined;
  if (typeof leaf.operator !== 'string' || leaf.operator === '') {
    problem('/operator', 'a condition needs an "operator"');
    valid = false;
  } else {
    resolved = resolveOperator(leaf.operator, customOperators);
    if (!resolved) {
      const known = [...OPERATOR_NAMES, ...[...customOperators].filter((name) => !OPERATOR_NAMES.includes(name))];
      problem('/operator', `unknown operator "${leaf.operator}" (known: ${known.join(', ')}; decorators: ${DECORATOR_NAMES.map((d) => `${d}:`).join(', ')})`);
      valid = false;
    }
  }
  if (!Object.hasOwn(leaf, 'value')) {
    problem('/value', 'a condition needs a "value" (json-rules-engine refuses it otherwise)');
    valid = false;
  }
  if (leaf.params !== undefined && !isObject(leaf.params)) problem('/params', 'condition params are an object');
  const value = leaf.value;
  const reference = isFactReference(value);
  if (reference) valid = checkFact(value.fact, value.path, '/value', at, report) && valid;
  if (!valid || !resolved || resolved.kind === 'custom') return;

  const subject = describeFact(leaf.fact, leaf.path);
  const rejects = 'json-rules-engine throws too, and evaluate then rejects (POLICY_INVALID) for that action: make sure it is always there';
  if (reference) {
    // A missing fact is undefined; `in` calls undefined.indexOf, `someValue:` undefined.some, and
    // `someFact:in` does so for each element of a present array fact.
    if (throwsOn(resolved, undefined, undefined) || throwsOn(resolved, [0], undefined)) warn('/value', `"${leaf.operator}" throws when ${describeFact(value.fact, value.path)} is missing (${rejects})`);
    return;
  }
  const before = report.problems.length;
  checkOperatorValue(resolved, value, at, report);
  // (A value that always throws is a problem already.)
  if (report.problems.length === before && throwsOn(resolved, undefined, value)) warn('/operator', `"${leaf.operator}" throws when ${subject} is missing (${rejects})`);
  if (passesWhenMissing(resolved, value)) {
    warn('/operator', `"${leaf.operator}" passes when ${subject} is missing (json-rules-engine compares undefined, as with notEqual): add a condition that it exists if that is not meant`);
  }
}

/**
 * The longest `path`. jsonpath-plus tests a filter against a backtracking regular expression
 * (its nested-filter check) each time it applies it, in time quadratic in the filter's length: a
 * 14,000-character filter cost 85 ms of every evaluate that reached it, and took seconds to load.
 * Real paths are tens of characters; at this length the test costs well under a millisecond.
 */
const MAX_PATH_LENGTH = 1000;

/** Checks `fact` (and `path`) of a condition or of a fact-reference value. Returns whether valid. */
function checkFact(fact: unknown, path: unknown, where: string, at: string, report: Report): boolean {
  const problem = (suffix: string, message: string) => report.problems.push({ pointer: `${at}${where}${suffix}`, message, rule: report.rule });
  let valid = true;
  const known = report.options.knownFacts;
  if (typeof fact !== 'string' || fact === '') {
    problem('/fact', 'a condition needs a "fact" name');
    valid = false;
  } else if (known && !known.has(fact)) {
    const head = /^[^.[$]+/.exec(fact)?.[0];
    const hint = head && head !== fact && known.has(head) ? `; fact names are not paths: use "fact": "${head}" with "path": "$${fact.slice(head.length).replace(/^(?=[^.[])/, '.')}"` : '';
    problem('/fact', `unknown fact "${fact}" (known: ${[...known].join(', ')})${hint}`);
    valid = false;
  }
  // json-rules-engine ignores a path that is missing or empty.
  if (path !== undefined && path !== '') {
    if (typeof path === 'string' && path.length > MAX_PATH_LENGTH) {
      problem('/path', `${JSON.stringify(`${path.slice(0, 60)}…`)} is longer than ${MAX_PATH_LENGTH} characters: shorten it, or split the condition`);
      valid = false;
    } else if (typeof path !== 'string' || !isWellFormedPath(path)) {
      problem('/path', `${JSON.stringify(path)} is not a JSONPath (start at "$": "$.field", "$.list[0]", "$['odd key']")`);
      valid = false;
    } else if (parsePlainPath(path) === null) {
      // Left to jsonpath-plus, which parses a filter only once it reaches a value: every
      // evaluate that got that far would fail.
      const syntax = jsonPathProblem(path);
      if (syntax !== null) {
        problem('/path', `${JSON.stringify(path)} is not a valid JSONPath: ${syntax}`);
        valid = false;
      }
    }
  }
  return valid;
}

/**
 * What the operator does with a constant value, following decorators down to the operator that
 * receives it: `someValue:` / `everyValue:` hand it each element, `swap:` hands it the fact.
 */
function checkOperatorValue(resolved: Extract<ResolvedOperator, { kind: 'builtin' }>, value: unknown, at: string, report: Report): void {
  const problem = (message: string) => report.problems.push({ pointer: `${at}/value`, message, rule: report.rule });
  const warn = (message: string) => report.warnings.push({ pointer: `${at}/value`, message, rule: report.rule });
  let values = [value];
  for (const decorator of resolved.decorators) {
    if (decorator === 'swap') return; // the operator's value is the fact: nothing to check here
    if (decorator === 'someValue' || decorator === 'everyValue') {
      if (!values.every(Array.isArray)) {
        problem(`"${decorator}:" needs an array value (json-rules-engine calls value.${decorator === 'someValue' ? 'some' : 'every'} and throws otherwise)`);
        return;
      }
      values = values.flat(1);
    }
  }
  const base = resolved.base;
  if (base === 'in' || base === 'notIn') {
    if (values.some((v) => typeof v !== 'string' && !Array.isArray(v))) {
      problem(`"${base}" needs an array value (json-rules-engine calls value.indexOf and throws otherwise)`);
    } else if (values.some((v) => typeof v === 'string')) {
      warn(`"${base}" with a string value matches substrings of it (json-rules-engine calls value.indexOf: "ad" is in "bad"); use an array`);
    }
  }
  if (NUMERIC_OPERATORS.has(base) && values.some((v) => typeof v !== 'number')) {
    warn(`"${base}" compares with a non-number value ${JSON.stringify(values.find((v) => typeof v !== 'number'))}: JavaScript then compares strings or coerces ("9" > "10"); use a number`);
  }
}

const describeFact = (fact: unknown, path: unknown) => `${String(fact)}${typeof path === 'string' && path ? ` ${path}` : ''}`;

/** Whether the operator throws on these operands. */
function throwsOn(resolved: Extract<ResolvedOperator, { kind: 'builtin' }>, fact: unknown, value: unknown): boolean {
  try {
    resolved.fn(fact, value);
    return false;
  } catch {
    return true;
  }
}

/** Whether the operator is true for a missing fact (undefined, which JSON cannot ask for). */
function passesWhenMissing(resolved: Extract<ResolvedOperator, { kind: 'builtin' }>, value: unknown): boolean {
  try {
    return resolved.fn(undefined, value) === true;
  } catch {
    return false;
  }
}
