/**
 * Feedback: someone (a moderator, a user report, the host's own later judgement) says that a
 * decision or an action was spam or ham. A wrong "no" must be undoable and a missed spammer
 * must count, so ham takes back what the decision did to its subjects (its strikes, the ban it
 * caused, their adaptive limits) and spam adds the strike the decision did not give.
 *
 * What a decision did is kept as a small record: in the store for decisions that struck or
 * banned (written with their effects, so every process can undo them), and in a bounded
 * in-process memory for the rest. The record also remembers which label was applied, so the
 * same report twice changes nothing and a spam → ham flip undoes exactly what spam added.
 */
import type { CompiledPolicy } from '../policy/compile.js';
import type { MarkValue, Store, StoreBatch, SubjectOps } from '../store/types.js';
import { asBan, asDecisionRecord, decisionSubject, leavesAt, MARK, WINDOW, type DecisionRecord } from './state.js';

export type FeedbackLabel = 'spam' | 'ham';

export interface FeedbackResult {
  label: FeedbackLabel;
  /** The decision the report was about (`null` when an action was given). */
  decision: string | null;
  /** False when a decision id was given that neither the store nor this process remembers. */
  found: boolean;
  /** The subjects whose history changed (or would have). */
  subjects: string[];
  /** Strikes added (spam, positive) or taken back (ham, negative), per subject. */
  strikes: number;
  /** Subjects whose ban, caused by this decision, was lifted. */
  bansLifted: string[];
  /** The same label was already applied to this decision: nothing changed. */
  repeated: boolean;
  /**
   * The content model learned from it: the policy has a `content.model` and the content was at
   * hand (the action, or a decision of this process's last 1,000 that carried content) with text
   * the model reads.
   */
  learned: boolean;
}

/** What this process remembers of its own decisions. */
export type RecentRecord = DecisionRecord & { content?: Readonly<Record<string, string>> };

/** Recent decisions of this process, by id: oldest forgotten first. */
export interface RecentDecisions {
  get(id: string): RecentRecord | undefined;
  /** Remembers the decision `id`, which is new (the guard's fresh UUIDs): no search for an earlier record. */
  add(id: string, record: RecentRecord): void;
  /** Replaces the record of `id` in its place in line, keeping its content; an id not remembered is added. */
  set(id: string, record: RecentRecord): void;
}

/**
 * The last `max` records in a ring: slot `next` holds the oldest, overwritten (forgotten) by the
 * next decision. Every evaluation with a subject adds one, while only feedback reads, so adding
 * is two array writes and no index: a Map by id cost a hash of the id, an insertion and a
 * deletion per decision, and its periodic rehash. A lookup walks the ring from the newest, a few
 * microseconds for the default 1,000, once per feedback report.
 */
export function recentDecisions(max: number): RecentDecisions {
  const size = Math.max(0, max);
  const ids: (string | undefined)[] = new Array<string | undefined>(size).fill(undefined);
  const records: (RecentRecord | undefined)[] = new Array<RecentRecord | undefined>(size).fill(undefined);
  let next = 0;
  const slotOf = (id: string): number => {
    for (let k = 1; k <= size; k++) {
      const slot = (next - k + size) % size;
      if (ids[slot] === id) return slot;
    }
    return -1;
  };
  const add = (id: string, record: RecentRecord): void => {
    if (size === 0) return;
    ids[next] = id;
    records[next] = record;
    next = next + 1 === size ? 0 : next + 1;
  };
  return {
    get(id) {
      const slot = slotOf(id);
      return slot < 0 ? undefined : records[slot];
    },
    add,
    set(id, record) {
      const slot = slotOf(id);
      if (slot < 0) return add(id, record);
      // An update (feedback) keeps its place in line and its content.
      const previous = records[slot]!;
      records[slot] = previous.content && !record.content ? { ...record, content: previous.content } : record;
    },
  };
}

/** Decision ids are the guard's UUIDs; anything else cannot name a record. */
const DECISION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isDecisionId = (value: string): boolean => DECISION_ID.test(value);

/** Feedback about a decision by id. */
export async function feedbackOnDecision(store: Store, policy: CompiledPolicy, recent: RecentDecisions, id: string, label: FeedbackLabel, callerNow: number): Promise<FeedbackResult> {
  const subject = decisionSubject(id);
  const read = await store.apply({ now: callerNow, subjects: [{ subject, get: [MARK.record] }] });
  // Strikes, rungs and the record are timed by the store's clock, as the decision's were: a
  // store with its own (RedisStore's `time: 'server'`) counts and expires them by it.
  const now = read.now;
  const record = asDecisionRecord(read.subjects[0]?.marks[MARK.record]) ?? recent.get(id);
  if (!record) return { label, decision: id, found: false, subjects: [], strikes: 0, bansLifted: [], repeated: false, learned: false };
  if (record.feedback === label) return { label, decision: id, found: true, subjects: record.subjects, strikes: 0, bansLifted: [], repeated: true, learned: false };

  // A ban is lifted only while it is still the one this decision set: a later ban (another
  // offence, an operator) stands. A ban that has ended by itself leaves its rung behind, which is
  // taken back while it is still the rung this decision reached (no later escalation).
  // Each subject once: a decision may have written two bans for one (an escalation and a
  // longer rule ban), and its one ban mark is lifted once.
  const bannedSubjects = [...new Set(record.bans.map((b) => b.subject))];
  const banned = label === 'ham' && bannedSubjects.length > 0
    ? await store.apply({ now, subjects: bannedSubjects.map((subject) => ({ subject, get: [MARK.ban, MARK.rung] })) })
    : null;
  const bansLifted: string[] = [];
  const rungsUndone: string[] = [];
  for (const answer of banned?.subjects ?? []) {
    const ban = asBan(answer.marks[MARK.ban]);
    if (ban?.decision === id) bansLifted.push(answer.subject);
    else if (ban === null && answer.marks[MARK.rung] === rungOf(record, answer.subject)) rungsUndone.push(answer.subject);
  }

  const { batch, next, strikes } = planFeedback(policy, record, label, bansLifted, now, rungsUndone);
  // The record moves with the feedback, so every process sees the label and the strikes.
  batch.subjects.push({ subject, set: [{ name: MARK.record, value: next as unknown as MarkValue, until: now + policy.feedback.rememberMs }] });
  await store.apply(batch);
  recent.set(id, next);
  return { label, decision: id, found: true, subjects: record.subjects, strikes, bansLifted, repeated: false, learned: false };
}

/** Feedback about an action (no decision to undo): ham takes back one strike, spam adds one. */
export async function feedbackOnSubjects(store: Store, policy: CompiledPolicy, subjects: string[], label: FeedbackLabel, callerNow: number): Promise<FeedbackResult> {
  // The strike is counted at the store's time (see feedbackOnDecision): one read to learn it.
  const now = subjects.length === 0 ? callerNow : (await store.apply({ now: callerNow, subjects: [{ subject: subjects[0]!, get: [MARK.ban] }] })).now;
  const record: DecisionRecord = { at: now, subjects, violations: label === 'ham' ? subjects : [], bans: [] };
  const { batch, strikes } = planFeedback(policy, record, label, [], now);
  if (batch.subjects.length > 0) await store.apply(batch);
  return { label, decision: null, found: true, subjects, strikes, bansLifted: [], repeated: false, learned: false };
}

/**
 * The writes of one report, and the record as it stands after them. Pure. `bansLifted` are the
 * subjects whose current ban this decision caused; `rungsUndone` those whose ban from this
 * decision has ended but whose ladder rung is still the one it reached.
 */
export function planFeedback(policy: CompiledPolicy, record: DecisionRecord, label: FeedbackLabel, bansLifted: readonly string[], now: number, rungsUndone: readonly string[] = []): { batch: StoreBatch; next: DecisionRecord; strikes: number } {
  const ops = new Map<string, SubjectOps>();
  const opsFor = (subject: string) => {
    let entry = ops.get(subject);
    if (!entry) ops.set(subject, (entry = { subject }));
    return entry;
  };
  const strike = (subject: string, cost: number, at: number) =>
    (opsFor(subject).add ??= []).push({ name: WINDOW.violations, windowMs: policy.bans.withinMs, cost, at });

  let next: DecisionRecord;
  let strikes = 0;
  if (label === 'ham') {
    // The strike is taken back in the slot it was counted in (the store falls back to the
    // newest slot when that one has gone), so the window does not lose someone else's strike.
    // Once it has left `bans.within` there is nothing to take back: the store's fallback would
    // take a newer strike, one the subject earned after this decision.
    const struckAt = record.struckAt ?? record.at;
    if (record.violations.length > 0 && now < leavesAt(policy.bans.withinMs, struckAt)) {
      for (const subject of record.violations) strike(subject, -1, struckAt);
      strikes = -1;
    }
    for (const subject of [...bansLifted, ...rungsUndone]) {
      const rung = rungOf(record, subject);
      const entry = opsFor(subject);
      if (bansLifted.includes(subject)) (entry.del ??= []).push(MARK.ban);
      // An escalation is undone too: the next offence starts from the rung below.
      if (rung > 1) (entry.set ??= []).push({ name: MARK.rung, value: rung - 1, until: now + policy.bans.forgetMs });
      else if (rung === 1) (entry.del ??= []).push(MARK.rung);
    }
    // Whatever tightened their limits was wrong about them too.
    for (const subject of record.subjects) (opsFor(subject).del ??= []).push(MARK.tighten);
    next = { ...record, violations: [], bans: record.bans.filter((b) => !bansLifted.includes(b.subject) && !rungsUndone.includes(b.subject)), feedback: 'ham' };
  } else {
    const struck = record.violations.length > 0 ? record.violations : record.subjects;
    if (record.violations.length === 0) {
      for (const subject of struck) strike(subject, 1, now);
      if (struck.length > 0) strikes = 1;
    }
    next = { ...record, violations: struck, ...(record.violations.length === 0 ? { struckAt: now } : {}), feedback: 'spam' };
  }
  return { batch: { now, subjects: [...ops.values()] }, next, strikes };
}

/** The ladder rung a decision's bans reached on `subject` (0: a rule's ban alone, or none). */
function rungOf(record: DecisionRecord, subject: string): number {
  let rung = 0;
  for (const ban of record.bans) if (ban.subject === subject) rung = Math.max(rung, ban.rung);
  return rung;
}
