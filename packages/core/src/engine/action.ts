/**
 * Normalisation of the action a host passes to `evaluate`: type checks with the offending
 * field named, the client IP resolved through trusted proxies and canonicalised, and nothing
 * read from the prototype chain. Everything downstream works on this shape only.
 */
import { emptyRecord } from '@actiongate/memory';
import { ActionError } from '../errors.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { ClientIp } from '../network/client-ip.js';
import type { Action } from '../types.js';

/** Longest accepted action type, actor id or status: these become store keys. */
export const MAX_KEY_TEXT = 512;
/** Most content fields and attribute keys read from one action. */
export const MAX_FIELDS = 64;

export interface NormalisedAction {
  action: string;
  ip: ClientIp | null;
  actor: { id: string; status: string; createdAt?: number } | null;
  content: Readonly<Record<string, string>> | undefined;
  attributes: Readonly<Record<string, unknown>>;
}

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});

export function normaliseAction(input: unknown, policy: CompiledPolicy): NormalisedAction {
  if (!isRecord(input)) throw new ActionError('action', `expected an object, got ${describe(input)}`);
  const action = own(input, 'action');
  if (typeof action !== 'string' || action.length === 0) throw new ActionError('action', `expected a non-empty string, got ${describe(action)}`);
  if (action.length > MAX_KEY_TEXT) throw new ActionError('action', `longer than ${MAX_KEY_TEXT} characters`);

  const ip = own(input, 'ip');
  const request = own(input, 'request');
  if (ip !== undefined && typeof ip !== 'string') throw new ActionError('ip', `expected a string, got ${describe(ip)}`);
  if (request !== undefined && !isRecord(request)) throw new ActionError('request', `expected an object, got ${describe(request)}`);

  return {
    action,
    ip: policy.resolveIp({ ip, request }),
    actor: normaliseActor(own(input, 'actor')),
    content: normaliseContent(own(input, 'content')),
    attributes: normaliseAttributes(own(input, 'attributes')),
  };
}

function normaliseActor(actor: unknown): NormalisedAction['actor'] {
  if (actor === undefined || actor === null) return null;
  if (!isRecord(actor)) throw new ActionError('actor', `expected an object, got ${describe(actor)}`);
  const id = own(actor, 'id');
  if (typeof id !== 'string' || id.length === 0) throw new ActionError('actor.id', `expected a non-empty string, got ${describe(id)}`);
  if (id.length > MAX_KEY_TEXT) throw new ActionError('actor.id', `longer than ${MAX_KEY_TEXT} characters`);
  const status = own(actor, 'status') ?? 'anonymous';
  if (typeof status !== 'string' || status.length === 0 || status.length > 64) throw new ActionError('actor.status', `expected a status string of 1 to 64 characters, got ${describe(status)}`);
  const createdAt = own(actor, 'createdAt');
  if (createdAt !== undefined && (typeof createdAt !== 'number' || !Number.isFinite(createdAt))) {
    throw new ActionError('actor.createdAt', `expected epoch milliseconds, got ${describe(createdAt)}`);
  }
  return createdAt === undefined ? { id, status } : { id, status, createdAt };
}

function normaliseContent(content: unknown): NormalisedAction['content'] {
  if (content === undefined || content === null) return undefined;
  if (!isRecord(content)) throw new ActionError('content', `expected an object of strings, got ${describe(content)}`);
  const keys = Object.keys(content);
  if (keys.length > MAX_FIELDS) throw new ActionError('content', `more than ${MAX_FIELDS} fields`);
  // A copy without a reachable prototype: a field named `__proto__` or `constructor` is just a field.
  const fields = emptyRecord<string>();
  for (const key of keys) {
    const value = content[key];
    if (typeof value !== 'string') throw new ActionError(`content.${key}`, `expected a string, got ${describe(value)}`);
    fields[key] = value;
  }
  return fields;
}

function normaliseAttributes(attributes: unknown): NormalisedAction['attributes'] {
  if (attributes === undefined || attributes === null) return EMPTY;
  if (!isRecord(attributes)) throw new ActionError('attributes', `expected an object, got ${describe(attributes)}`);
  if (Object.keys(attributes).length > MAX_FIELDS) throw new ActionError('attributes', `more than ${MAX_FIELDS} keys`);
  return attributes;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own property only: an inherited `action` or a polluted prototype must not be read. */
function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value).slice(0, 40)}`;
}

export type { Action };
