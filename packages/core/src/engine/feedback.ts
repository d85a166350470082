/**
 * Feedback: someone (a moderator, a user report, the host's own later judgement) says that a
 * decision or an action was spam or ham. A wrong "no" must be undoable and a missed spammer
 * must count, so ham takes back what the decision did to its subjects (its strikes, the ban it
 * caused, their adaptive limits) and spam adds the strike the decision did not give.
 *
 * What a decision did is kept as a small record: in the store for decisions that struck or
 * banned (written with their effects, so every process can undo them), and in a bounded
 * in-process memory for the rest. The record also remembers which label was applied, so the
 * same report twice changes nothing (also when the two race: see CLAIM) and a spam → ham flip
 * undoes exactly what spam added.
 */
import type { CompiledPolicy } from '../policy/compile.js';
import { StoreError } from '../errors.js';
import type { MarkValue, Store, StoreBatch, StoreResult, SubjectOps } from '../store/types.js';
import { asBan, asDecisionRecord, decisionSubject, leavesAt, MARK, rungDecisionOf, rungMark, rungOfMark, WINDOW, type DecisionRecord } from './state.js';

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

/**
 * A report takes the decision's next label change as a claim before it writes: a `take` of one
 * (max 1) in a window named after the number of changes so far, on the record's own subject. The
 * store decides takes atomically, so of two reports that read the same record (two moderators at
 * once, a retried webhook, two processes on one store) one applies and the other finds the claim
 * taken, waits for the winner's record, and then answers `repeated` or applies on top of it. The
 * claim is a round trip of its own: a store applies a subject's `set` whatever its takes decided,
 * so the record write cannot ride on it.
 */
const CLAIM = 'feedback:';
/**
 * A report that dies holding a claim (its write failed or never came) holds it this long at most:
 * longer than a write takes to land (operator calls have a 5 s deadline by default). A claim is
 * never given back: the write may still land after an error, and the next change claims another name.
 */
const CLAIM_MS = 10_000;
/** How long a report waits for another report's write on the same decision before giving up. */
const CLAIM_WAIT_MS = 3_000;

/** A decision record as feedback reads and writes it: with the number of label changes applied. */
type Claimed = RecentRecord & { flips?: number };

/**
 * Label changes applied to a record: the counter written with each change, or (a record written
 * before the counter existed) one when it carries a label.
 */
const flipsOf = (record: Claimed): number => record.flips ?? (record.feedback === undefined ? 0 : 1);

/** The stored record with its change counter, or null when it is absent or malformed. */
function readRecord(value: MarkValue | undefined): Claimed | null {
  const record = asDecisionRecord(value);
  if (record === null) return null;
  const flips = (value as { flips?: unknown }).flips;
  return typeof flips === 'number' && Number.isSafeInteger(flips) && flips >= 0 ? { ...record, flips } : record;
}

/** Feedback about a decision by id. */
export async function feedbackOnDecision(store: Store, policy: CompiledPolicy, recent: RecentDecisions, id: string, label: FeedbackLabel, callerNow: number): Promise<FeedbackResult> {
  const subject = decisionSubject(id);
  const read = await store.apply({ now: callerNow, subjects: [{ subject, get: [MARK.record] }] });
  // The store's record, or this process's own of a decision that wrote none (it did not strike
  // or ban); once a report has written it, the store's is the one every report goes by.
  const recordOf = (answer: StoreResult): Claimed | undefined => readRecord(answer.subjects[0]?.marks[MARK.record]) ?? recent.get(id);
  const storedIn = (answer: StoreResult): boolean => readRecord(answer.subjects[0]?.marks[MARK.record]) !== null;
  let record = recordOf(read);
  if (!record) return { label, decision: id, found: false, subjects: [], strikes: 0, bansLifted: [], repeated: false, learned: false };
  // Strikes, rungs and the record are timed by the store's clock, as the decision's were: a
  // store with its own (RedisStore's `time: 'server'`) counts and expires them by it.
  let now = read.now;
  const deadline = Date.now() + CLAIM_WAIT_MS;
  let undo = { flips: -1, ...noBans() };
  for (let attempt = 1; ; attempt++) {
    if (record.feedback === label) return { label, decision: id, found: true, subjects: record.subjects, strikes: 0, bansLifted: [], repeated: true, learned: false };
    const flips = flipsOf(record);
    // Read again only when the record has moved on: waiting for a claim changes nothing here.
    if (label === 'ham' && undo.flips !== flips) undo = { flips, ...(await undoableBans(store, record, id, now)) };
    const { bansLifted, rungsUndone } = undo;
    // The claim reads the record in the same atomic step: admitted while the record is still the
    // one planned on, this report owns the change. Else the record moved on (re-plan on it), or
    // another report holds the claim and has not written yet (wait for it).
    const claim = await store.apply({ now: callerNow, subjects: [{ subject, get: [MARK.record], take: [{ name: `${CLAIM}${flips}`, windowMs: CLAIM_MS, max: 1, cost: 1 }] }] });
    const current = recordOf(claim);
    now = claim.now;
    if (!current) return { label, decision: id, found: false, subjects: [], strikes: 0, bansLifted: [], repeated: false, learned: false };
    if (flipsOf(current) === flips && claim.subjects[0]?.consumed === true) {
      const lost = label === 'ham' && !storedIn(claim) && now < current.at + policy.feedback.rememberMs;
      const { batch, next, strikes } = planFeedback(policy, lost ? unwritten(current) : current, label, bansLifted, now, rungsUndone);
      // This process's content of the decision stays here (the model learns from it), not in the store.
      const { content: _content, ...written } = { ...next, flips: flips + 1 } as Claimed;
      // The record moves with the feedback, so every process sees the label and the strikes. Last
      // in the batch: a report waiting for it finds the strikes before it on a single server.
      batch.subjects.push({ subject, set: [{ name: MARK.record, value: written as unknown as MarkValue, until: now + policy.feedback.rememberMs }] });
      await store.apply(batch);
      recent.set(id, written);
      return { label, decision: id, found: true, subjects: current.subjects, strikes, bansLifted, repeated: false, learned: false };
    }
    if (flipsOf(current) === flips) {
      if (Date.now() >= deadline) {
        throw new StoreError(store.name, 'apply', `feedback on decision ${id}: another report on it has not written its label within ${CLAIM_WAIT_MS} ms (it is slow, or it failed within the last ${CLAIM_MS / 1000} s): try again`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, 5 * attempt)));
    }
    record = current;
  }
}

/**
 * A record only this process holds, within `feedback.remember` of its decision, as ham reads it.
 * A decision that struck writes its record in the write that counts the strike, so a struck
 * decision the store has no record of (and would still have) is one whose write failed: its ban
 * may have been written again since (pending-bans.ts), its strike never is. There is no strike of
 * its in the store to take back, and a refund would take one the subject earned since.
 */
const unwritten = (record: Claimed): Claimed => (record.violations.length === 0 ? record : { ...record, violations: [] });

/** Fresh lists: `bansLifted` goes out with the result, for the caller to keep. */
const noBans = (): { bansLifted: string[]; rungsUndone: string[] } => ({ bansLifted: [], rungsUndone: [] });

/**
 * What a ham report on `record` lifts. A ban is lifted only while it is still the one this
 * decision set: a later ban (another offence, an operator) stands. Its ladder rung is taken back
 * while the rung mark is still this decision's: it names the decision that reached it, so a
 * later decision that climbed to the same height again (after this ban ended and the rung was
 * forgotten or lowered) keeps its rung, as does an earlier one whose rung a ban at the top of the
 * ladder only repeated. A bare number (a mark written before marks named their decision, or one
 * lowered by ham with no owner known) is taken back by its height alone, as before. A ban that has
 * ended by itself leaves its rung behind, taken back under the same rule while it is still the
 * height this decision reached. Each subject once: a decision may have written two bans for one
 * (an escalation and a longer rule ban), and its one ban mark is lifted once.
 */
async function undoableBans(store: Store, record: DecisionRecord, id: string, now: number): Promise<{ bansLifted: string[]; rungsUndone: string[] }> {
  const bannedSubjects = [...new Set(record.bans.map((b) => b.subject))];
  if (bannedSubjects.length === 0) return noBans();
  const banned = await store.apply({ now, subjects: bannedSubjects.map((subject) => ({ subject, get: [MARK.ban, MARK.rung] })) });
  const bansLifted: string[] = [];
  const rungsUndone: string[] = [];
  for (const answer of banned.subjects) {
    const ban = asBan(answer.marks[MARK.ban]);
    const mark = answer.marks[MARK.rung];
    const owner = rungDecisionOf(mark);
    const ours = owner === undefined || owner === id;
    if (ban?.decision === id) {
      bansLifted.push(answer.subject);
      if (ours) rungsUndone.push(answer.subject);
    } else if (ban === null && ours && rungOfMark(mark) === rungOf(record, answer.subject)) rungsUndone.push(answer.subject);
  }
  return { bansLifted, rungsUndone };
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
 * subjects whose current ban this decision caused; `rungsUndone` those whose ladder rung is still
 * the one this decision reached (with its ban lifted, or ended).
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
    for (const subject of bansLifted) (opsFor(subject).del ??= []).push(MARK.ban);
    for (const subject of rungsUndone) {
      const rung = rungOf(record, subject);
      const entry = opsFor(subject);
      // An escalation is undone too: the next offence starts from the rung below, which goes
      // back to the decision that reached it (when the record knows it).
      if (rung > 1) (entry.set ??= []).push({ name: MARK.rung, value: rungMark(rung - 1, ownerOfRungBelow(record, subject)), until: now + policy.bans.forgetMs });
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

/** The decision that reached the rung below the one this decision's escalation reached on `subject`, when known. */
function ownerOfRungBelow(record: DecisionRecord, subject: string): string | undefined {
  const rung = rungOf(record, subject);
  return record.bans.find((ban) => ban.subject === subject && ban.rung === rung && ban.from !== undefined)?.from;
}
