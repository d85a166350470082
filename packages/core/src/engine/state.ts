/**
 * The store side of one evaluation: which subjects the action touches, the one batch that reads
 * their bans and allows and takes every applicable limit, and the reading of the answer back
 * into plain state. The follow-up batch (refunds, violations, bans) is planned here too, so
 * the store layout (subject and mark names) lives in one module.
 *
 * Loops on the way of every evaluation are indexed rather than `for…of`: here V8 compiled
 * `for…of` over these arrays into calls of its iterator, each step a new result object (a heap
 * sample of Redis decisions put ~6% of their allocation in them).
 */
import { slotMsOf } from '@actiongate/memory';
import type { ContentSignals } from '../content/signals.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { planLimits, type CompiledLimit, type LimitSubjects, type PlannedTake } from '../limits/limits.js';
import { laterEnd } from '../policy/duration.js';
import type { MarkValue, StoreBatch, StoreResult, SubjectOps, SubjectResult, WindowAdd, WindowRef, WindowTake } from '../store/types.js';
import type { LimitState } from '../types.js';
import type { NormalisedAction } from './action.js';
import { appended } from './append.js';

/**
 * Mark and window names inside a subject. `record` and `token` are written once per decision: a
 * MemoryStore lets them go with its counters (`TRANSIENT_MARKS`), the others it keeps longer.
 */
export const MARK = { ban: 'ban', allow: 'allow', pass: 'pass', rung: 'rung', tighten: 'tighten', record: 'record', token: 'token' } as const;
export const WINDOW = { violations: 'violations', copies: 'copies' } as const;

/**
 * The marks every ban subject reads, one list for all decisions (frozen: a store must not write
 * to a batch): each evaluation made its own before.
 */
const BAN_READS = Object.freeze([MARK.ban, MARK.allow, MARK.pass, MARK.rung, MARK.tighten]) as unknown as string[];

/** What duplicate counting needs of the content signals: the exact fingerprint and the near-duplicate band keys. */
export type ContentKeys = Pick<ContentSignals, 'fingerprint' | 'nearKeys'>;

export interface BanRecord {
  until: number | null;
  rung: number;
  reason: string;
  /** The decision that banned, when one did (feedback can undo it). */
  decision?: string;
}

/** Adaptive limits in force for a subject: its capacities scaled by `factor` until `until`. */
export interface Tightening {
  factor: number;
  until: number;
}

/** What a decision did to its subjects, kept so `guard.feedback` can undo or confirm it. */
export interface DecisionRecord {
  at: number;
  /** The ban subjects of the action (ip, actor). */
  subjects: string[];
  /** Subjects that got a strike (from the decision or a spam report). */
  violations: string[];
  /** When a spam report added the strikes (the decision's own strikes count at `at`). */
  struckAt?: number;
  /**
   * Bans the decision caused. `from`: the decision whose ladder rung it climbed from (the one
   * below `rung`), when the rung mark named one, so ham can give that rung back to its owner.
   */
  bans: { subject: string; rung: number; from?: string }[];
  /** The feedback already applied, so a second identical report changes nothing. */
  feedback?: 'spam' | 'ham';
}

export interface Plan {
  batch: StoreBatch;
  takes: readonly PlannedTake[];
  /** Subjects that can be banned, allowed and escalated (ip and actor), in batch order first. */
  subjects: string[];
  duplicateSubject: string | null;
  /** One subject per near-duplicate band (`near:<band>:<key>`). */
  nearSubjects: string[];
  /** The policy is in monitor mode: no limit denies. */
  monitor: boolean;
}

/** What a ban subject's answer says of its past. */
export interface History {
  subject: string;
  violations: number;
  rung: number;
  /** The decision that reached `rung`, when its mark names one. */
  rungBy: string | undefined;
  tighten: Tightening | null;
}

/** The history of `subject` in `state`, if it is one of the decision's ban subjects. */
export function historyOf(state: State, subject: string): History | undefined {
  const history = state.history;
  for (let i = 0; i < history.length; i++) if (history[i]!.subject === subject) return history[i];
  return undefined;
}

export interface State {
  /** Active bans found on the subjects. */
  bans: { subject: string; ban: BanRecord }[];
  /** An operator allow on a subject. */
  allow: { subject: string; reason: string } | null;
  /** A challenge was passed recently for one of the subjects. */
  passed: boolean;
  /**
   * Per ban subject (ip, actor), in the plan's order: violations within `bans.within`, ladder rung
   * reached (0 = none), adaptive limits. An array, not a Map: it holds one or two subjects, and a
   * Map (its table and iterators) was a tenth of what a light decision allocated.
   */
  history: History[];
  /** The strictest adaptive-limit factor of the subjects (1 = none). */
  factor: number;
  limits: { take: PlannedTake; state: LimitState }[];
  /** Subjects whose takes were consumed. */
  consumed: string[];
  /** Earlier copies of this content within the duplicates window. */
  duplicates: number;
  /** Earlier submissions sharing a near-duplicate band with this one (the most of any band; exact copies included). */
  nearDuplicates: number;
}

export function subjectsOf(action: NormalisedAction): { ip: string | null; actor: string | null } {
  return { ip: ipSubject(action), actor: actorSubject(action) };
}

const ipSubject = (action: NormalisedAction): string | null => (action.ip ? `ip:${action.ip.subnet}` : null);
const actorSubject = (action: NormalisedAction): string | null => (action.actor ? `actor:${action.actor.id}` : null);

export function planState(
  policy: CompiledPolicy,
  action: NormalisedAction,
  content: ContentKeys,
  now: number,
  dryRun: boolean,
  skipLimits: boolean,
  /** Reads that ride along (the range registry's version). */
  extra: readonly SubjectOps[],
): Plan {
  const ip = ipSubject(action);
  const actor = actorSubject(action);
  // Most actions (a page view) count against no limit: they pay neither the planner's arguments nor its array.
  const takes = skipLimits || !limitApplies(policy.limits, action.action)
    ? NO_TAKES
    : planLimits(policy.limits, new ActionSubjects(action, ip, actor));
  const peek = violationsPeek(policy.bans.withinMs);
  // Each ban subject's entry in one literal (its reads shared by every decision), and the
  // subjects' list made at its size: the usual batch is these entries and `extra`, nothing more.
  let subjects: string[];
  let entries: SubjectOps[];
  if (ip === null) {
    subjects = actor === null ? [] : [actor];
    entries = actor === null ? [] : [{ subject: actor, get: BAN_READS, peek }];
  } else {
    subjects = actor === null ? [ip] : [ip, actor];
    entries = actor === null ? [{ subject: ip, get: BAN_READS, peek }] : [{ subject: ip, get: BAN_READS, peek }, { subject: actor, get: BAN_READS, peek }];
  }
  const ops = new BatchBuilder(entries);
  for (let i = 0; i < takes.length; i++) {
    const take = takes[i]!;
    const entry = ops.for(take.subject);
    if (take.limit.monitor) {
      // A monitored limit counts every attempt and never denies, so it stays out of the
      // all-or-nothing takes of the enforced limits.
      // (`appended` copies the shared violations peek rather than writing to it.)
      entry.peek = appended(entry.peek, { name: take.name, windowMs: take.limit.windowMs });
      if (!dryRun) entry.add = appended(entry.add, { name: take.name, windowMs: take.limit.windowMs, cost: take.limit.cost });
    } else {
      const windowTake: WindowTake = { name: take.name, windowMs: take.limit.windowMs, max: take.max, cost: take.limit.cost };
      if (dryRun) windowTake.dryRun = true;
      entry.take = appended(entry.take, windowTake);
    }
  }
  let duplicateSubject: string | null = null;
  let nearSubjects: string[] = NO_SUBJECTS;
  const duplicates = policy.content.duplicates;
  if (duplicates && content.fingerprint) {
    // Counted across every subject: a campaign pastes one text from many addresses and accounts.
    duplicateSubject = `content:${content.fingerprint}`;
    countCopies(ops.for(duplicateSubject), duplicates.windowMs, dryRun);
    const nearKeys = content.nearKeys;
    // At its length: filled by `push`, it grew to 17 entries for two bands.
    nearSubjects = new Array<string>(nearKeys.length);
    for (let i = 0; i < nearKeys.length; i++) {
      const subject = `near:${nearKeys[i]!}`;
      nearSubjects[i] = subject;
      countCopies(ops.for(subject), duplicates.windowMs, dryRun);
    }
  }
  return { batch: { now, subjects: ops.list(extra) }, takes, subjects, duplicateSubject, nearSubjects, monitor: policy.mode === 'monitor' };
}

/** What the limit planner reads of an action: one object, its fact reader a method rather than a closure. */
class ActionSubjects implements LimitSubjects {
  readonly action: string;
  readonly status: string;
  readonly #source: NormalisedAction;

  constructor(
    source: NormalisedAction,
    readonly ip: string | null,
    readonly actor: string | null,
  ) {
    this.#source = source;
    this.action = source.action;
    this.status = source.actor?.status ?? 'anonymous';
  }

  fact(path: readonly string[]): unknown {
    return readPath(this.#source, path);
  }
}

/** A plan's takes when no limit applies: shared, never written to. */
const NO_TAKES: readonly PlannedTake[] = Object.freeze([]);
/** A plan's near-duplicate subjects when it counts none: shared, never written to. */
const NO_SUBJECTS = Object.freeze([]) as unknown as string[];

/** Whether any of `limits` counts the action type `action` (the planner skips the rest: its subject may still be missing). */
function limitApplies(limits: readonly CompiledLimit[], action: string): boolean {
  for (let i = 0; i < limits.length; i++) {
    const only = limits[i]!.actions;
    if (only === null || only.has(action)) return true;
  }
  return false;
}

/**
 * The violations window every ban subject peeks, one list per `bans.within` (frozen: a store
 * must not write to a batch, and a monitored limit on the subject peeks a copy): like
 * `BAN_READS`, made once rather than per decision. Policies rarely change it, so the last one
 * is kept.
 */
let lastPeek: { windowMs: number; reads: WindowRef[] } = { windowMs: Number.NaN, reads: [] };
function violationsPeek(windowMs: number): WindowRef[] {
  if (lastPeek.windowMs !== windowMs) lastPeek = { windowMs, reads: Object.freeze([Object.freeze({ name: WINDOW.violations, windowMs })]) as unknown as WindowRef[] };
  return lastPeek.reads;
}

/**
 * The copies window's peek and add, one pair of lists per duplicates window (frozen, like
 * `violationsPeek`'s): three subjects of every decision that counts content read and write them,
 * and four fresh arrays and objects each were an eighth of what planning allocated.
 */
let lastCopies: { windowMs: number; peek: WindowRef[]; add: WindowAdd[] } = { windowMs: Number.NaN, peek: [], add: [] };

/** The reads and writes that count one more copy of a text on its subject. */
function countCopies(entry: SubjectOps, windowMs: number, dryRun: boolean): void {
  if (lastCopies.windowMs !== windowMs) {
    lastCopies = {
      windowMs,
      peek: Object.freeze([Object.freeze({ name: WINDOW.copies, windowMs })]) as unknown as WindowRef[],
      add: Object.freeze([Object.freeze({ name: WINDOW.copies, windowMs, cost: 1 })]) as unknown as WindowAdd[],
    };
  }
  entry.peek = lastCopies.peek;
  if (!dryRun) entry.add = lastCopies.add;
}

/**
 * The answer for `subject`, or undefined. A linear scan: a batch has a handful of subjects,
 * fewer than it takes a Map to pay for itself. From the end, so a subject answered twice reads
 * as the last answer, as a Map built from the answers would.
 */
function answerFor(result: StoreResult, subject: string): SubjectResult | undefined {
  const answers = result.subjects;
  for (let i = answers.length - 1; i >= 0; i--) if (answers[i]!.subject === subject) return answers[i];
  return undefined;
}

/**
 * Reads a store answer into plain state. `result.now` is the store's clock. `range` is the
 * operator range (dynamic CIDR block or allow) covering the client address, if any.
 */
export function readState(plan: Plan, result: StoreResult, range: { subject: string; kind: 'ban' | 'allow'; until: number | null; reason: string } | null = null): State {
  // The lists most decisions leave empty start as shared empty ones (never written to: the first
  // entry replaces them), so a clean decision allocates none of them.
  const state: State = { bans: NONE, allow: null, passed: false, history: NONE, factor: 1, limits: NONE, consumed: NONE, duplicates: 0, nearDuplicates: 0 };
  for (let i = 0; i < plan.subjects.length; i++) {
    const subject = plan.subjects[i]!;
    const answer = answerFor(result, subject);
    if (!answer) continue;
    const ban = asBan(answer.marks[MARK.ban]);
    if (ban) state.bans = appended(state.bans, { subject, ban });
    const allow = answer.marks[MARK.allow];
    if (allow !== undefined && state.allow === null) state.allow = { subject, reason: reasonOf(allow, 'allowed by an operator') };
    if (answer.marks[MARK.pass] !== undefined) state.passed = true;
    const rung = answer.marks[MARK.rung];
    const tighten = asTightening(answer.marks[MARK.tighten], result.now);
    if (tighten) state.factor = Math.min(state.factor, tighten.factor);
    state.history = appended(state.history, { subject, violations: answer.counts[WINDOW.violations] ?? 0, rung: rungOfMark(rung), rungBy: rungDecisionOf(rung), tighten });
  }
  if (range?.kind === 'ban') state.bans = appended(state.bans, { subject: range.subject, ban: { until: range.until, rung: 0, reason: range.reason } });
  if (range?.kind === 'allow') state.allow ??= { subject: range.subject, reason: range.reason };
  for (let i = 0; i < result.subjects.length; i++) if (result.subjects[i]!.consumed) state.consumed = appended(state.consumed, result.subjects[i]!.subject);
  // One entry per take, so made at its length: appended one by one, the four of an ad's limits
  // cost three short arrays and a fourth grown by 16 places.
  if (plan.takes.length > 0) state.limits = new Array<State['limits'][number]>(plan.takes.length);
  for (let i = 0; i < plan.takes.length; i++) {
    const take = plan.takes[i]!;
    const subject = answerFor(result, take.subject);
    // The store takes against the policy's capacity; adaptive limits deny above the tightened
    // one here, and the decision's refund gives back what the store consumed.
    const max = tightenedMax(take.max, state.factor);
    let count: number;
    let exceeded: boolean;
    let resetMs = 0;
    if (take.limit.monitor) {
      count = (subject?.counts[take.name] ?? 0) + take.limit.cost;
      exceeded = count > max;
    } else {
      const answer = subject && takeAnswer(subject, take.name);
      count = answer?.count ?? 0;
      exceeded = answer ? !answer.admitted : false;
      resetMs = answer?.resetMs ?? 0;
      if (answer && max < take.max) {
        // A take's count includes its cost only when its whole subject was admitted.
        const before = answer.admitted && subject!.takes.every((t) => t.admitted) ? count - take.limit.cost : count;
        if (before + take.limit.cost > max) {
          exceeded = true;
          count = before; // reported like a denied take: without this attempt
          // The store's reset is for the policy's capacity, and when the tightened one has room
          // depends on slots it does not report: wait until every hit counted now has left.
          resetMs = Math.max(resetMs, untilAllLeave(take.limit.windowMs, result.now));
        }
      }
    }
    const limit: LimitState = { id: take.limit.id, key: take.key, count, max, remaining: Math.max(0, max - count), windowMs: take.limit.windowMs, resetMs, exceeded };
    if (plan.monitor || take.limit.monitor) limit.monitor = true;
    state.limits[i] = { take, state: limit };
  }
  if (plan.duplicateSubject) state.duplicates = answerFor(result, plan.duplicateSubject)?.counts[WINDOW.copies] ?? 0;
  const near = plan.nearSubjects;
  for (let i = 0; i < near.length; i++) state.nearDuplicates = Math.max(state.nearDuplicates, answerFor(result, near[i]!)?.counts[WINDOW.copies] ?? 0);
  return state;
}

/** The empty list a state's lists start as: shared, frozen so that a write to it fails loudly rather than leak into the next decision. */
const NONE = Object.freeze([]) as unknown as never[];

export interface Effects {
  /** Give back what this attempt consumed. */
  refund: boolean;
  /**
   * Count the allowed attempt in the windows it fits that its subject's refused batch did not
   * consume (a challenge limit waived by a passed challenge).
   */
  commit: boolean;
  /** Subjects that get a violation. */
  violations: string[];
  bans: { subject: string; until: number | null; rung: number; reason: string }[];
  /** Adaptive limits to write (the combined factor and end per subject). */
  tighten: ({ subject: string; reason: string } & Tightening)[];
}

/** Ms from `now` until every hit a window of `windowMs` counts at `now` has left (the slot of `now` is the last to leave). */
function untilAllLeave(windowMs: number, now: number): number {
  return leavesAt(windowMs, now) - now;
}

/** When a hit counted at `at` in a window of `windowMs` stops counting: its slot's end, then the window. */
export function leavesAt(windowMs: number, at: number): number {
  const slotMs = slotMsOf(windowMs);
  return (Math.floor(at / slotMs) + 1) * slotMs + windowMs;
}

/** The capacity in force under an adaptive-limit factor: scaled down, never below 1. */
export function tightenedMax(max: number, factor: number): number {
  return factor >= 1 ? max : Math.max(Math.min(1, max), Math.floor(max * factor));
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
  decision: string,
): StoreBatch | null {
  // Most decisions (an allow) write nothing: they build nothing either.
  if (!outcome.refund && !outcome.commit && outcome.violations.length === 0 && outcome.bans.length === 0 && outcome.tighten.length === 0) return null;
  const ops = new BatchBuilder();
  // Lists grow by `appended`: a push onto a new `[]` gave each 17 places for one to four entries.
  if (outcome.refund) {
    for (let i = 0; i < state.consumed.length; i++) {
      const subject = state.consumed[i]!;
      const takes = entryOf(plan.batch, subject)!.take!;
      const entry = ops.for(subject);
      for (let k = 0; k < takes.length; k++) {
        const t = takes[k]!;
        entry.add = appended(entry.add, { name: t.name, windowMs: t.windowMs, cost: -t.cost, at: now });
      }
    }
  }
  if (outcome.commit) {
    for (const { take, state: limit } of state.limits) {
      if (take.limit.monitor || limit.exceeded || state.consumed.includes(take.subject)) continue;
      (ops.for(take.subject).add ??= []).push({ name: take.name, windowMs: take.limit.windowMs, cost: take.limit.cost, at: now });
    }
  }
  for (let i = 0; i < outcome.violations.length; i++) {
    const entry = ops.for(outcome.violations[i]!);
    entry.add = appended(entry.add, { name: WINDOW.violations, windowMs: policy.bans.withinMs, cost: 1 });
  }
  for (let i = 0; i < outcome.bans.length; i++) {
    const ban = outcome.bans[i]!;
    const value: MarkValue = { until: ban.until, rung: ban.rung, reason: ban.reason, at: now, decision };
    const entry = ops.for(ban.subject);
    // Only over a ban that ends sooner: another process may have banned the subject for longer
    // since this decision read it, and that ban must stand.
    (entry.set ??= []).push({ name: MARK.ban, value, until: ban.until, ifLater: true });
    // The rung outlives the ban by `forget`, so the next offence climbs the ladder; a permanent
    // ban's rung lasts as long as the ban. Under the same `ifLater` as the ban, so the rung mark
    // is the one of the ban that stands: a concurrent decision whose shorter ban lost neither
    // shortens the rung's memory nor puts its own rung over a permanent ban's. (Escalating needs
    // no live ban, so one process's rungs follow each other with ends ever later.) A rule's ban
    // carries the rung the subject has already reached: when it outlasts the escalation that
    // came with it, or lengthens a ban in force, the rung is still remembered `forget` after the
    // ban that stands ends. One rung mark per subject, from its first ban here.
    let first = true;
    for (let k = 0; k < i; k++) if (outcome.bans[k]!.subject === ban.subject) first = false;
    if (!first) continue;
    const history = historyOf(state, ban.subject);
    let rung = history?.rung ?? 0;
    // The rung names the decision that reached it (this one when it climbed, else the one that
    // did before), so a late ham on another decision that reached the same height leaves it.
    let by = history?.rungBy;
    let ends = ban.until;
    for (let k = i; k < outcome.bans.length; k++) {
      const other = outcome.bans[k]!;
      if (other.subject !== ban.subject) continue;
      if (other.rung > rung) by = decision;
      rung = Math.max(rung, other.rung);
      ends = laterEnd(ends, other.until);
    }
    if (rung > 0) entry.set.push({ name: MARK.rung, value: rungMark(rung, by), until: ends === null ? null : ends + policy.bans.forgetMs, ifLater: true });
  }
  for (const tighten of outcome.tighten) {
    (ops.for(tighten.subject).set ??= []).push({ name: MARK.tighten, value: { factor: tighten.factor, until: tighten.until, reason: tighten.reason, at: now }, until: tighten.until });
  }
  if (outcome.violations.length > 0 || outcome.bans.length > 0) {
    const record: DecisionRecord = { at: now, subjects: plan.subjects, violations: outcome.violations, bans: recordedBans(state, outcome.bans) };
    ops.for(decisionSubject(decision)).set = [{ name: MARK.record, value: record as unknown as MarkValue, until: now + policy.feedback.rememberMs }];
  }
  return ops.size === 0 ? null : { now, subjects: ops.list() };
}

/** The decision that reached the rung an escalation climbed from (none when the ban did not climb, or the rung names none). */
function climbedFrom(state: State, ban: { subject: string; rung: number }): string | undefined {
  const history = historyOf(state, ban.subject);
  return history !== undefined && ban.rung > history.rung ? history.rungBy : undefined;
}

/**
 * A decision's bans as its record keeps them, in the store and in the guard's own memory of its
 * last decisions alike: each with the owner of the rung it climbed from, when known.
 */
export const recordedBans = (state: State, bans: readonly { subject: string; rung: number }[]): DecisionRecord['bans'] => bans.map((b) => recordedBan(b, climbedFrom(state, b)));

/** A ban as its decision's record keeps it: with the owner of the rung it climbed from, when known. */
const recordedBan = (ban: { subject: string; rung: number }, from: string | undefined): DecisionRecord['bans'][number] =>
  from === undefined || ban.rung === 0 ? { subject: ban.subject, rung: ban.rung } : { subject: ban.subject, rung: ban.rung, from };

/**
 * A rung mark's value: `{ rung, decision }`, naming the decision that reached it, or the bare
 * rung when no decision is known (marks written before they named one are bare numbers too).
 */
export const rungMark = (rung: number, decision: string | undefined): MarkValue => (decision === undefined ? rung : { rung, decision });

/** The ladder rung a rung mark holds (0: none, or not a rung mark). */
export function rungOfMark(value: MarkValue | undefined): number {
  if (typeof value === 'number') return value;
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof value.rung === 'number' ? value.rung : 0;
}

/** The decision a rung mark names as having reached it, if any. */
export function rungDecisionOf(value: MarkValue | undefined): string | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof value.decision === 'string' ? value.decision : undefined;
}

/** Where a decision's record lives in the store. */
export const decisionSubject = (id: string): string => `decision:${id}`;

/**
 * One `SubjectOps` per subject, created on first use, in first-use order. A class, not closures,
 * and an array, not a Map: it is built on every evaluation for a handful of subjects, where a
 * short scan costs less than hashing fresh subject strings into a new Map.
 */
class BatchBuilder {
  readonly #ops: SubjectOps[];

  /** `ops`: the entries known from the start (the ban subjects'), the builder's own array from then on. */
  constructor(ops: SubjectOps[] = []) {
    this.#ops = ops;
  }

  get size(): number {
    return this.#ops.length;
  }

  for(subject: string): SubjectOps {
    const all = this.#ops;
    for (let i = 0; i < all.length; i++) if (all[i]!.subject === subject) return all[i]!;
    const entry: SubjectOps = { subject };
    this.#ops.push(entry);
    return entry;
  }

  /**
   * The subjects in first-use order, then `extra`: joined by `appended` (an array of the final
   * size for a short batch; `concat` took a profile's 2% of a page view).
   */
  list(extra?: readonly SubjectOps[]): SubjectOps[] {
    let all = this.#ops;
    if (extra) for (let i = 0; i < extra.length; i++) all = appended(all, extra[i]!);
    return all;
  }
}

/** The first entry of `batch` for `subject`, or undefined. */
function entryOf(batch: StoreBatch, subject: string): SubjectOps | undefined {
  const entries = batch.subjects;
  for (let i = 0; i < entries.length; i++) if (entries[i]!.subject === subject) return entries[i];
  return undefined;
}

/** The answer to the take named `name`, or undefined. */
function takeAnswer(subject: SubjectResult, name: string): SubjectResult['takes'][number] | undefined {
  const takes = subject.takes;
  for (let i = 0; i < takes.length; i++) if (takes[i]!.name === name) return takes[i];
  return undefined;
}

export function asBan(value: MarkValue | undefined): BanRecord | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const until = value.until;
  return {
    until: typeof until === 'number' ? until : null,
    rung: typeof value.rung === 'number' ? value.rung : 0,
    reason: typeof value.reason === 'string' ? value.reason : 'banned',
    ...(typeof value.decision === 'string' ? { decision: value.decision } : {}),
  };
}

/** An adaptive-limit mark still in force, or null. */
export function asTightening(value: MarkValue | undefined, now: number): Tightening | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { factor, until } = value;
  if (typeof factor !== 'number' || typeof until !== 'number' || until <= now || !(factor > 0 && factor < 1)) return null;
  return { factor, until };
}

/** A decision record read back from the store, or null when it is absent or malformed. */
export function asDecisionRecord(value: MarkValue | undefined): DecisionRecord | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const strings = (list: unknown): string[] => (Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string') : []);
  if (typeof value.at !== 'number') return null;
  return {
    at: value.at,
    subjects: strings(value.subjects),
    violations: strings(value.violations),
    bans: Array.isArray(value.bans)
      ? value.bans.flatMap((b) => (typeof b === 'object' && b !== null && !Array.isArray(b) && typeof b.subject === 'string' && typeof b.rung === 'number' ? [recordedBan({ subject: b.subject, rung: b.rung }, typeof b.from === 'string' ? b.from : undefined)] : []))
      : [],
    ...(typeof value.struckAt === 'number' ? { struckAt: value.struckAt } : {}),
    ...(value.feedback === 'spam' || value.feedback === 'ham' ? { feedback: value.feedback } : {}),
  };
}

function reasonOf(value: MarkValue, fallback: string): string {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof value.reason === 'string' ? value.reason : fallback;
}

/** A `by` fact path read from the action: `attributes.deviceId`, `actor.id`, `content.email`. */
export function readPath(action: NormalisedAction, path: readonly string[]): unknown {
  let value: unknown = action;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
