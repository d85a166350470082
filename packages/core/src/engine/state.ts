/**
 * The store side of one evaluation: which subjects the action touches, the one batch that reads
 * their bans and allows and takes every applicable limit, and the reading of the answer back
 * into plain state. The follow-up batch (refunds, violations, bans) is planned here too, so
 * the store layout (subject and mark names) lives in one module.
 */
import type { CompiledPolicy } from '../policy/compile.js';
import { planLimits, type PlannedTake } from '../limits/limits.js';
import type { MarkValue, StoreBatch, StoreResult, SubjectOps, WindowAdd } from '../store/types.js';
import type { LimitState } from '../types.js';
import type { NormalisedAction } from './action.js';

/** Mark and window names inside a subject. */
export const MARK = { ban: 'ban', allow: 'allow', pass: 'pass', rung: 'rung' } as const;
export const WINDOW = { violations: 'violations', copies: 'copies' } as const;

export interface BanRecord {
  until: number | null;
  rung: number;
  reason: string;
}

export interface Plan {
  batch: StoreBatch;
  takes: PlannedTake[];
  /** Subjects that can be banned, allowed and escalated (ip and actor), in batch order first. */
  subjects: string[];
  duplicateSubject: string | null;
}

export interface State {
  /** Active bans found on the subjects. */
  bans: { subject: string; ban: BanRecord }[];
  /** An operator allow on a subject. */
  allow: { subject: string; reason: string } | null;
  /** A challenge was passed recently for one of the subjects. */
  passed: boolean;
  /** Per ban subject (ip, actor): violations within `bans.within`, ladder rung reached (0 = none). */
  history: Map<string, { violations: number; rung: number }>;
  limits: { take: PlannedTake; state: LimitState }[];
  /** Subjects whose takes were consumed. */
  consumed: string[];
  /** Earlier copies of this content within the duplicates window. */
  duplicates: number;
}

export function subjectsOf(action: NormalisedAction): { ip: string | null; actor: string | null } {
  return { ip: action.ip ? `ip:${action.ip.subnet}` : null, actor: action.actor ? `actor:${action.actor.id}` : null };
}

export function planState(
  policy: CompiledPolicy,
  action: NormalisedAction,
  fingerprint: string | null,
  now: number,
  options: { dryRun: boolean; skipLimits: boolean },
): Plan {
  const { ip, actor } = subjectsOf(action);
  const takes = options.skipLimits
    ? []
    : planLimits(policy.limits, {
        action: action.action,
        ip,
        actor,
        status: action.actor?.status ?? 'anonymous',
        fact: (path) => readPath(action, path),
      });
  const { ops, opsFor } = batchBuilder();
  const subjects = [ip, actor].filter((s): s is string => s !== null);
  for (const subject of subjects) {
    const entry = opsFor(subject);
    entry.get = [MARK.ban, MARK.allow, MARK.pass, MARK.rung];
    entry.peek = [{ name: WINDOW.violations, windowMs: policy.bans.withinMs }];
  }
  for (const take of takes) {
    const entry = opsFor(take.subject);
    if (take.limit.monitor) {
      // A monitored limit counts every attempt and never denies, so it stays out of the
      // all-or-nothing takes of the enforced limits.
      (entry.peek ??= []).push({ name: take.name, windowMs: take.limit.windowMs });
      if (!options.dryRun) (entry.add ??= []).push({ name: take.name, windowMs: take.limit.windowMs, cost: take.limit.cost });
    } else {
      (entry.take ??= []).push({ name: take.name, windowMs: take.limit.windowMs, max: take.max, cost: take.limit.cost, ...(options.dryRun ? { dryRun: true } : {}) });
    }
  }
  let duplicateSubject: string | null = null;
  const duplicates = policy.content.duplicates;
  if (duplicates && fingerprint) {
    duplicateSubject = `content:${fingerprint}`;
    const entry = opsFor(duplicateSubject);
    entry.peek = [{ name: WINDOW.copies, windowMs: duplicates.windowMs }];
    if (!options.dryRun) entry.add = [{ name: WINDOW.copies, windowMs: duplicates.windowMs, cost: 1 }];
  }
  return { batch: { now, subjects: [...ops.values()] }, takes, subjects, duplicateSubject };
}

/** Reads a store answer into plain state. `result.now` is the store's clock. */
export function readState(plan: Plan, result: StoreResult): State {
  const state: State = { bans: [], allow: null, passed: false, history: new Map(), limits: [], consumed: [], duplicates: 0 };
  const bySubject = new Map(result.subjects.map((s) => [s.subject, s]));
  for (const subject of plan.subjects) {
    const answer = bySubject.get(subject);
    if (!answer) continue;
    const ban = asBan(answer.marks[MARK.ban]);
    if (ban) state.bans.push({ subject, ban });
    const allow = answer.marks[MARK.allow];
    if (allow !== undefined && state.allow === null) state.allow = { subject, reason: reasonOf(allow, 'allowed by an operator') };
    if (answer.marks[MARK.pass] !== undefined) state.passed = true;
    const rung = answer.marks[MARK.rung];
    state.history.set(subject, { violations: answer.counts[WINDOW.violations] ?? 0, rung: typeof rung === 'number' ? rung : 0 });
  }
  for (const answer of result.subjects) if (answer.consumed) state.consumed.push(answer.subject);
  for (const take of plan.takes) {
    const subject = bySubject.get(take.subject);
    let count: number;
    let exceeded: boolean;
    let resetMs = 0;
    if (take.limit.monitor) {
      count = (subject?.counts[take.name] ?? 0) + take.limit.cost;
      exceeded = count > take.max;
    } else {
      const answer = subject?.takes.find((t) => t.name === take.name);
      count = answer?.count ?? 0;
      exceeded = answer ? !answer.admitted : false;
      resetMs = answer?.resetMs ?? 0;
    }
    state.limits.push({
      take,
      state: {
        id: take.limit.id,
        key: take.key,
        count,
        max: take.max,
        remaining: Math.max(0, take.max - count),
        resetMs,
        exceeded,
      },
    });
  }
  if (plan.duplicateSubject) state.duplicates = bySubject.get(plan.duplicateSubject)?.counts[WINDOW.copies] ?? 0;
  return state;
}

export interface Effects {
  /** Give back what this attempt consumed. */
  refund: boolean;
  /** Subjects that get a violation. */
  violations: string[];
  bans: { subject: string; until: number | null; rung: number; reason: string }[];
}

/**
 * The follow-up writes of a decision that is not allow: refunds, one violation, maybe a ban.
 * `now` is the store's clock of the first round trip, so a refund lands in the slot its take used.
 */
export function planEffects(
  policy: CompiledPolicy,
  plan: Plan,
  state: State,
  outcome: Effects,
  now: number,
): StoreBatch | null {
  const { ops, opsFor } = batchBuilder();
  if (outcome.refund) {
    for (const subject of state.consumed) {
      const refunds: WindowAdd[] = plan.batch.subjects
        .find((s) => s.subject === subject)!
        .take!.map((t) => ({ name: t.name, windowMs: t.windowMs, cost: -t.cost, at: now }));
      (opsFor(subject).add ??= []).push(...refunds);
    }
  }
  for (const subject of outcome.violations) {
    (opsFor(subject).add ??= []).push({ name: WINDOW.violations, windowMs: policy.bans.withinMs, cost: 1 });
  }
  for (const ban of outcome.bans) {
    const value: MarkValue = { until: ban.until, rung: ban.rung, reason: ban.reason, at: now };
    const entry = opsFor(ban.subject);
    (entry.set ??= []).push({ name: MARK.ban, value, until: ban.until });
    // The rung outlives the ban by `forget`, so the next offence climbs the ladder.
    if (ban.rung > 0) entry.set.push({ name: MARK.rung, value: ban.rung, until: (ban.until ?? now) + policy.bans.forgetMs });
  }
  return ops.size === 0 ? null : { now, subjects: [...ops.values()] };
}

/** One `SubjectOps` per subject, created on first use, in first-use order. */
function batchBuilder() {
  const ops = new Map<string, SubjectOps>();
  const opsFor = (subject: string): SubjectOps => {
    let entry = ops.get(subject);
    if (!entry) ops.set(subject, (entry = { subject }));
    return entry;
  };
  return { ops, opsFor };
}

function asBan(value: MarkValue | undefined): BanRecord | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const until = value.until;
  return {
    until: typeof until === 'number' ? until : null,
    rung: typeof value.rung === 'number' ? value.rung : 0,
    reason: typeof value.reason === 'string' ? value.reason : 'banned',
  };
}

function reasonOf(value: MarkValue, fallback: string): string {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof value.reason === 'string' ? value.reason : fallback;
}

/** A `by` fact path read from the action: `attributes.deviceId`, `actor.id`, `content.email`. */
function readPath(action: NormalisedAction, path: readonly string[]): unknown {
  let value: unknown = action;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
