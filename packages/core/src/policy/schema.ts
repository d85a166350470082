/**
 * Structural validation of a policy document against the published JSON Schema (draft 2020-12),
 * with ajv collecting every error. Errors are reported as JSON pointers to the offending value,
 * in words an operator can act on, without the noise of every failed `oneOf` branch.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { PolicyProblem } from '../errors.js';
import schema from '../../schema/policy.schema.json';

/** The policy JSON Schema, as published at `@actiongate/core/schema/policy.schema.json`. */
export const policySchema: Readonly<Record<string, unknown>> = schema;

let validator: ValidateFunction | undefined;

// Compiled lazily and once: ajv compilation costs milliseconds, and most imports never validate.
function validate(): ValidateFunction {
  validator ??= new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true }).compile(schema);
  return validator;
}

/** Every schema violation of `document`, or an empty array. */
export function schemaProblems(document: unknown): PolicyProblem[] {
  const check = validate();
  if (check(document)) return [];
  return describe(check.errors ?? []);
}

function describe(errors: readonly ErrorObject[]): PolicyProblem[] {
  // A failed oneOf/anyOf reports each branch's failure too; keep the summary only.
  const composites = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  const inComposite = (e: ErrorObject) =>
    composites.some((c) => c !== e && e.instancePath.startsWith(c.instancePath) && e.schemaPath.startsWith(c.schemaPath.replace(/\/(oneOf|anyOf)$/, '/')));
  const problems: PolicyProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (inComposite(error) || error.keyword === 'if') continue;
    const problem = toProblem(error);
    const key = `${problem.pointer}\u0000${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  return problems;
}

function toProblem(error: ErrorObject): PolicyProblem {
  const pointer = error.instancePath;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return { pointer: `${pointer}/${escape(String(params.additionalProperty))}`, message: 'is not a known property' };
    case 'required':
      return { pointer: `${pointer}/${escape(String(params.missingProperty))}`, message: 'is required' };
    case 'propertyNames':
      return { pointer: `${pointer}/${escape(String(params.propertyName))}`, message: 'is not a valid name (letters, digits, _ . : -, starting with a letter or digit)' };
    case 'pattern':
      return { pointer, message: patternMessage(error) };
    case 'enum':
      return { pointer, message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'oneOf':
    case 'anyOf': {
      const description = (error.parentSchema as { description?: string } | undefined)?.description;
      return { pointer, message: `${JSON.stringify(error.data)} is not valid${description ? `: ${description}` : ''}` };
    }
    default:
      return { pointer, message: error.message ?? 'is invalid' };
  }
}

function patternMessage(error: ErrorObject): string {
  const pattern = String((error.params as { pattern?: string }).pattern);
  if (pattern.includes('ms|s|m|h|d|w')) {
    return `${JSON.stringify(error.data)} is not a duration (use e.g. "90s", "5m", "24h", "7d"${pattern.includes('permanent') ? ' or "permanent"' : ''})`;
  }
  return `${JSON.stringify(error.data)} does not match ${pattern}`;
}

/** RFC 6901 escaping of one pointer segment. */
export function escape(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
