/**
 * Normalisation of the action a host passes to `evaluate`: type checks with the offending
 * field named, the client IP resolved through trusted proxies and canonicalised, and nothing
 * read from the prototype chain. Everything downstream works on this shape only.
 */
import { emptyRecord } from '@actiongate/memory';
import { ActionError, isActiongateError } from '../errors.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { ClientIp } from '../network/client-ip.js';
import type { Action } from '../types.js';

/** Longest accepted action type, actor id or status: these become store keys. */
export const MAX_KEY_TEXT = 512;
/** Most content fields and attribute keys read from one action. */
export const MAX_FIELDS = 64;
/**
 * Deepest nesting of `attributes`, and most values in it at every level together: rules walk
 * them (a `$..x` path recursively), so a deeper or circular one would overflow the stack there,
 * and a huge one would be walked on every decision.
 */
export const MAX_ATTRIBUTE_DEPTH = 32;
export const MAX_ATTRIBUTE_VALUES = 10_000;

export interface NormalisedAction {
  action: string;
  ip: ClientIp | null;
  actor: { id: string; status: string; createdAt?: number } | null;
  content: Readonly<Record<string, string>> | undefined;
  attributes: Readonly<Record<string, unknown>>;
}

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});

export function normaliseAction(input: unknown, policy: CompiledPolicy): NormalisedAction {
  try {
    return normalise(input, policy);
  } catch (error) {
    // A getter or Proxy trap that throws where no finer field was named (the input itself).
    throw isActiongateError(error) ? error : unreadable('action', error);
  }
}

function normalise(input: unknown, policy: CompiledPolicy): NormalisedAction {
  if (!isRecord(input)) throw new ActionError('action', `expected an object, got ${describe(input)}`);
  const action = own(input, 'action', 'action');
  if (typeof action !== 'string' || action.length === 0) throw new ActionError('action', `expected a non-empty string, got ${describe(action)}`);
  if (action.length > MAX_KEY_TEXT) throw new ActionError('action', `longer than ${MAX_KEY_TEXT} characters`);

  const ip = own(input, 'ip', 'ip');
  const request = own(input, 'request', 'request');
  if (ip !== undefined && typeof ip !== 'string') throw new ActionError('ip', `expected a string, got ${describe(ip)}`);
  if (request !== undefined && !isRecord(request)) throw new ActionError('request', `expected an object, got ${describe(request)}`);

  let resolved: ClientIp | null;
  try {
    resolved = policy.resolveIp({ ip, request });
  } catch (error) {
    throw isActiongateError(error) ? error : unreadable('request', error);
  }
  return {
    action,
    ip: resolved,
    actor: normaliseActor(own(input, 'actor', 'actor')),
    content: normaliseContent(own(input, 'content', 'content')),
    attributes: normaliseAttributes(own(input, 'attributes', 'attributes')),
  };
}

function normaliseActor(actor: unknown): NormalisedAction['actor'] {
  if (actor === undefined || actor === null) return null;
  if (!isRecord(actor)) throw new ActionError('actor', `expected an object, got ${describe(actor)}`);
  const id = own(actor, 'id', 'actor.id');
  if (typeof id !== 'string' || id.length === 0) throw new ActionError('actor.id', `expected a non-empty string, got ${describe(id)}`);
  if (id.length > MAX_KEY_TEXT) throw new ActionError('actor.id', `longer than ${MAX_KEY_TEXT} characters`);
  const status = own(actor, 'status', 'actor.status') ?? 'anonymous';
  if (typeof status !== 'string' || status.length === 0 || status.length > 64) throw new ActionError('actor.status', `expected a status string of 1 to 64 characters, got ${describe(status)}`);
  const createdAt = own(actor, 'createdAt', 'actor.createdAt');
  if (createdAt !== undefined && (typeof createdAt !== 'number' || !Number.isFinite(createdAt))) {
    throw new ActionError('actor.createdAt', `expected epoch milliseconds, got ${describe(createdAt)}`);
  }
  return createdAt === undefined ? { id, status } : { id, status, createdAt };
}

function normaliseContent(content: unknown): NormalisedAction['content'] {
  if (content === undefined || content === null) return undefined;
  if (!isRecord(content)) throw new ActionError('content', `expected an object of strings, got ${describe(content)}`);
  const keys = ownKeys(content, 'content');
  if (keys.length > MAX_FIELDS) throw new ActionError('content', `more than ${MAX_FIELDS} fields`);
  // A copy without a reachable prototype: a field named `__proto__` or `constructor` is just a field.
  const fields = emptyRecord<string>();
  for (const key of keys) {
    const value = own(content, key, `content.${key}`);
    if (typeof value !== 'string') throw new ActionError(`content.${key}`, `expected a string, got ${describe(value)}`);
    fields[key] = value;
  }
  return fields;
}

function normaliseAttributes(attributes: unknown): NormalisedAction['attributes'] {
  if (attributes === undefined || attributes === null) return EMPTY;
  if (!isRecord(attributes)) throw new ActionError('attributes', `expected an object, got ${describe(attributes)}`);
  return copyAttributes(attributes, 'attributes', 0, { values: 0 }) as Readonly<Record<string, unknown>>;
}

/**
 * The guard's own copy of the host's attributes, read once: rules run after the store's answer,
 * so they must not see the host change the object meanwhile (nor call its getters again). Plain
 * objects (copied without a prototype) and arrays are copied; any other object (a Date, a Map, a
 * class instance) is a value of its own, kept as it is.
 */
function copyAttributes(value: object, field: string, depth: number, seen: { values: number }): unknown {
  if (depth >= MAX_ATTRIBUTE_DEPTH) throw new ActionError(field, `nested deeper than ${MAX_ATTRIBUTE_DEPTH} levels (or circular)`);
  const isArray = Array.isArray(value);
  // An array's length is checked before its keys are listed: a million-element one is refused, not walked.
  if (isArray && seen.values + value.length > MAX_ATTRIBUTE_VALUES) throw new ActionError('attributes', `more than ${MAX_ATTRIBUTE_VALUES} values in all`);
  const keys = ownKeys(value, field);
  if (depth === 0 && keys.length > MAX_FIELDS) throw new ActionError('attributes', `more than ${MAX_FIELDS} keys`);
  seen.values += keys.length;
  if (seen.values > MAX_ATTRIBUTE_VALUES) throw new ActionError('attributes', `more than ${MAX_ATTRIBUTE_VALUES} values in all`);
  const copy: Record<string, unknown> | unknown[] = isArray ? new Array<unknown>(keys.length) : emptyRecord<unknown>();
  for (const key of keys) {
    const path = isArray ? `${field}[${key}]` : `${field}.${key}`;
    const item = own(value as Record<string, unknown>, key, path);
    (copy as Record<string, unknown>)[key] = typeof item === 'object' && item !== null && isPlain(item, path) ? copyAttributes(item, path, depth + 1, seen) : item;
  }
  return copy;
}

/** An object or array literal (or JSON.parse's), rather than an instance of some class. */
function isPlain(value: object, field: string): boolean {
  try {
    if (Array.isArray(value)) return true;
    const proto: unknown = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
  } catch (error) {
    throw unreadable(field, error);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Own property only: an inherited `action` or a polluted prototype must not be read. A getter or
 * Proxy trap that throws is bad input at `field`, not a crash.
 */
function own(record: Record<string, unknown>, key: string, field: string): unknown {
  try {
    return Object.hasOwn(record, key) ? record[key] : undefined;
  } catch (error) {
    throw unreadable(field, error);
  }
}

function ownKeys(record: object, field: string): string[] {
  try {
    return Object.keys(record);
  } catch (error) {
    throw unreadable(field, error);
  }
}

function unreadable(field: string, error: unknown): ActionError {
  const why = error instanceof Error ? `: ${String(error.message).slice(0, 200)}` : '';
  return new ActionError(field, `could not be read (a getter or Proxy threw${why})`, { cause: error });
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value).slice(0, 40)}`;
}

export type { Action };
