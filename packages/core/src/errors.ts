/**
 * Typed errors. Every error Actiongate throws or rejects with is an `ActiongateError` with a
 * stable `code`; `isActiongateError` checks the code rather than `instanceof`, because two copies
 * of the package (a monorepo, a bundler) make `instanceof` lie.
 */

export type ActiongateErrorCode =
  | 'POLICY_INVALID'
  | 'POLICY_FILE'
  | 'ACTION_INVALID'
  | 'STORE_FAILED'
  | 'STORE_TIMEOUT'
  | 'TARGET_INVALID'
  | 'GUARD_CLOSED'
  | 'CLOCK_INVALID'
  | 'TELEMETRY_UNAVAILABLE';

const BRAND = Symbol.for('actiongate.error');

export class ActiongateError extends Error {
  readonly code: ActiongateErrorCode;
  readonly [BRAND] = true;

  constructor(code: ActiongateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem of a policy: where (`pointer`, RFC 6901) and what. */
export interface PolicyProblem {
  /** JSON pointer into the policy, `""` for the whole document. */
  pointer: string;
  message: string;
  /** The file the problem is in, when the policy came from (or refers to) a file. */
  file?: string;
  /** The rule's name, for problems inside a rule. */
  rule?: string;
}

/** A policy that does not validate or compile. Lists every problem, never only the first. */
export class PolicyError extends ActiongateError {
  readonly problems: readonly PolicyProblem[];
  readonly file: string | undefined;

  constructor(problems: readonly PolicyProblem[], options?: { file?: string; cause?: unknown; code?: 'POLICY_INVALID' | 'POLICY_FILE' }) {
    const where = options?.file ? ` in ${options.file}` : '';
    const lines = problems.map((p) => `  ${p.file && p.file !== options?.file ? `${p.file}: ` : ''}${p.pointer || '/'}: ${p.message}`);
    super(
      options?.code ?? 'POLICY_INVALID',
      `Invalid policy${where} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
      { cause: options?.cause },
    );
    this.problems = problems;
    this.file = options?.file;
  }
}

/** An action passed to `evaluate` that cannot be evaluated; `field` names the offending input. */
export class ActionError extends ActiongateError {
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown; code?: 'ACTION_INVALID' | 'TARGET_INVALID' }) {
    super(options?.code ?? 'ACTION_INVALID', `${field}: ${message}`, { cause: options?.cause });
    this.field = field;
  }
}

/** A store adapter failed or timed out. */
export class StoreError extends ActiongateError {
  readonly adapter: string;
  readonly operation: string;

  constructor(adapter: string, operation: string, message: string, options?: { cause?: unknown; code?: 'STORE_FAILED' | 'STORE_TIMEOUT' }) {
    super(options?.code ?? 'STORE_FAILED', `${adapter}.${operation}: ${message}`, { cause: options?.cause });
    this.adapter = adapter;
    this.operation = operation;
  }
}

export function isActiongateError(error: unknown): error is ActiongateError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<PropertyKey, unknown>)[BRAND] === true &&
    typeof (error as { code?: unknown }).code === 'string'
  );
}

/**
 * A value as a message shows it: JSON, cut to `max` characters. Never throws: values from code
 * rather than from a JSON file (a BigInt, a cycle, nesting deep enough to overflow the stack)
 * would otherwise turn a plain "bad value" error into a TypeError or RangeError about the message.
 */
export function shown(value: unknown, max = 240): string {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value));
  } catch (error) {
    return `(not shown: ${(error as Error).message})`;
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
