/**
 * Rate limits: which windows an action counts against, in which subject, with which capacity.
 * Compiled once per policy; `planLimits` is the pure per-call part that turns a normalised
 * action into store takes grouped by subject (the store's unit of atomicity and locality).
 */
import { createHash } from 'node:crypto';
import type { PolicyProblem } from '../errors.js';
import { appended } from '../engine/append.js';
import { parseDuration } from '../policy/duration.js';
import type { LimitPolicy, Verdict } from '../policy/types.js';

export interface CompiledLimit {
  readonly id: string;
  /**
   * `limit:<id>`, the window's name in its subject. Made once: a string built per decision is
   * hashed again by every Map it is looked up in (MemoryStore's windows), one made once keeps its hash.
   */
  readonly windowName: string;
  /** `null` = every action. */
  readonly actions: ReadonlySet<string> | null;
  readonly by: LimitPolicy['by'];
  /** For `by` fact paths: the path split into keys. */
  readonly path: readonly string[] | null;
  readonly windowMs: number;
  /** Capacity for an actor status. */
  readonly maxFor: (status: string) => number;
  readonly cost: number;
  readonly onExceed: Exclude<Verdict, 'allow'>;
  readonly monitor: boolean;
}

/** What the limit planner needs to know of an action. */
export interface LimitSubjects {
  action: string;
  /** `ip:<address or v6 subnet>`, or null when the action has no IP. */
  ip: string | null;
  /** `actor:<id>`, or null when the action has no actor. */
  actor: string | null;
  status: string;
  /** Reads a fact path (`attributes.deviceId`) for `by` paths. */
  fact: (path: readonly string[]) => unknown;
}

export interface PlannedTake {
  limit: CompiledLimit;
  subject: string;
  /** Window name inside the subject. */
  name: string;
  /** What is counted, for reports: the subject, with `|action` for per-action limits. */
  key: string;
  max: number;
}

const STANDARD_BY = new Set(['ip', 'actor', 'ip+action', 'actor+action']);

export function compileLimits(limits: readonly LimitPolicy[] | undefined, problems: PolicyProblem[]): CompiledLimit[] {
  const seen = new Set<string>();
  return (limits ?? []).map((limit, index) => {
    const pointer = `/limits/${index}`;
    if (seen.has(limit.id)) problems.push({ pointer: `${pointer}/id`, message: `duplicate limit id "${limit.id}"` });
    seen.add(limit.id);
    const windowMs = parseDuration(limit.window);
    if (windowMs === undefined) problems.push({ pointer: `${pointer}/window`, message: `${JSON.stringify(limit.window)} is not a duration` });
    const cost = limit.cost ?? 1;
    const maxFor = compileCapacity(limit.max);
    return Object.freeze({
      id: limit.id,
      windowName: `limit:${limit.id}`,
      actions: limit.actions ? new Set(limit.actions) : null,
      by: limit.by,
      path: STANDARD_BY.has(limit.by) ? null : Object.freeze(limit.by.split('.')),
      windowMs: windowMs ?? 1,
      maxFor,
      cost,
      onExceed: limit.onExceed ?? 'throttle',
      monitor: limit.mode === 'monitor',
    });
  });
}

/**
 * Capacity by actor status. Tiers are looked up as own keys only (a status of `constructor` must
 * not find `Object.prototype.constructor`); an unknown status without `default` gets the strictest
 * tier, so inventing a status never buys a higher limit.
 */
export function compileCapacity(max: LimitPolicy['max']): (status: string) => number {
  if (typeof max === 'number') return () => max;
  const tiers = new Map(Object.entries(max));
  const fallback = tiers.get('default') ?? Math.min(...tiers.values());
  return (status) => tiers.get(status) ?? fallback;
}

/** The takes an action makes, in policy order. Limits whose subject is missing do not apply. */
export function planLimits(limits: readonly CompiledLimit[], subjects: LimitSubjects): PlannedTake[] {
  let takes: PlannedTake[] = [];
  // Indexed: see engine/state.ts (every evaluation runs this loop).
  for (let i = 0; i < limits.length; i++) {
    const limit = limits[i]!;
    if (limit.actions && !limit.actions.has(subjects.action)) continue;
    const take = plannedTake(limit, subjects);
    if (take) takes = appended(takes, take);
  }
  return takes;
}

function plannedTake(limit: CompiledLimit, s: LimitSubjects): PlannedTake | null {
  const name = limit.windowName;
  switch (limit.by) {
    case 'ip':
      return s.ip ? take(limit, s, s.ip, name, s.ip) : null;
    case 'actor':
      return s.actor ? take(limit, s, s.actor, name, s.actor) : null;
    // The action goes into the window name, not the subject: the subject stays the unit that is
    // banned and hash-tagged, and the store makes any name safe.
    case 'ip+action':
      return s.ip ? take(limit, s, s.ip, `${name}|${s.action}`, `${s.ip}|${s.action}`) : null;
    case 'actor+action':
      return s.actor ? take(limit, s, s.actor, `${name}|${s.action}`, `${s.actor}|${s.action}`) : null;
    default: {
      const value = s.fact(limit.path!);
      if (typeof value !== 'string' && typeof value !== 'number') return null;
      const subject = `fact:${limit.by}=${factKey(String(value))}`;
      return take(limit, s, subject, name, subject);
    }
  }
}

/** Longest fact value used as it is in a subject (the action type and actor id have the same bound). */
const MAX_FACT_KEY = 512;

/**
 * The value's part of a fact limit's subject. A fact is the client's text (`content.email`, a
 * device id): unbounded, it would make a store key (and the decision's `limits[].key`) of any
 * size, kept for the window's length. A longer one is counted by its digest: still one count per
 * value.
 */
function factKey(value: string): string {
  return value.length <= MAX_FACT_KEY ? value : `#sha256:${createHash('sha256').update(value).digest('base64url')}`;
}

const take = (limit: CompiledLimit, s: LimitSubjects, subject: string, name: string, key: string): PlannedTake => ({ limit, subject, name, key, max: limit.maxFor(s.status) });
