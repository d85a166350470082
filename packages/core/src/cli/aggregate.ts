/**
 * The operator's report, built from decisions one at a time (a decision log, or a replay as it
 * runs): verdicts and reasons over time, the most blocked IPs, subnets and actors with their
 * bans, rate-limit violations, allowed submissions, challenges and degraded decisions. Memory is
 * bounded whatever the log holds: heavy hitters are kept by Space-Saving (topk.ts), time by
 * widening buckets (timeline.ts), challenged subjects up to a cap and as 8-byte hashes
 * (seen-once.ts), so a million decisions from a million addresses cost the same as a thousand.
 */
import { hashedSet } from '../engine/seen-once.js';
import type { Decision, Reason, Verdict } from '../types.js';
import { createTimeline, type Timeline } from './timeline.js';
import { createTopK, type TopEntry } from './topk.js';

/** The part of a `Decision` the report reads (what every decision-log line carries). */
export type LoggedDecision = Pick<Decision, 'at' | 'verdict' | 'reasons' | 'limits' | 'ip' | 'actor' | 'degraded'> &
  Partial<Pick<Decision, 'action' | 'wouldBe' | 'challenge' | 'banUntil' | 'policy'>>;

export interface ReportOptions {
  /** Rows in each top list. @default 10 */
  top?: number;
  /** Keys each heavy-hitter structure keeps (exact counts below this many distinct keys). @default 1024 */
  capacity?: number;
  /** Challenged subjects remembered for the pass-rate estimate. @default 100000 */
  maxChallenged?: number;
}

export interface Counted {
  key: string;
  count: number;
  /** Counts are exact when 0; otherwise the true count is between `count - error` and `count`. */
  error: number;
}

export interface SubjectRow extends Counted {
  /** Bans that started (a ban extended while it was running counts once). */
  bans: number;
  /** End of the latest ban seen: epoch ms, `null` = permanent, absent = never banned. */
  banUntil?: number | null;
  /** Time of the subject's last blocked decision. */
  lastBlocked: number;
}

export interface DecisionReport {
  decisions: number;
  /**
   * Decisions by policy id (`name@version`), the most first: a log that spans a policy change
   * (a rollout, a hot reload) holds the decisions of each, and every other count mixes them.
   */
  policies: PolicyRow[];
  /** Times of the first and the last decision (null for an empty log). */
  from: number | null;
  to: number | null;
  byVerdict: Record<Verdict, number>;
  /** Decisions whose `wouldBe` is stricter than their verdict (monitor mode): what enforcing would give. */
  monitored: { decisions: number; wouldBe: Record<Verdict, number>; reasons: Counted[] };
  /** Reasons behind challenges, throttles and blocks: decisions each appeared in. */
  reasons: Counted[];
  timeline: Timeline;
  /** Blocked decisions by IP address, by subnet (IPv4 /24, IPv6 the policy's prefix) and by actor. */
  blocked: { ips: SubjectRow[]; subnets: SubjectRow[]; actors: SubjectRow[] };
  bans: { started: number; permanent: number };
  /** Decisions in which each limit was exceeded, and the keys that exceeded most. */
  limits: { violations: Counted[]; keys: (Counted & { limit: string; subject: string })[] };
  /** Allowed decisions: the legitimate submissions, by action. */
  allowed: { decisions: number; byAction: Counted[] };
  challenges: ChallengeSummary;
  degraded: { decisions: number; byVerdict: Record<Verdict, number> };
  /** Sections whose counts are estimates because the log had more distinct keys than kept. */
  approximate: string[];
}

export interface ChallengeSummary {
  issued: number;
  byKind: Counted[];
  /** Distinct challenged subjects (by actor, else by IP subject) tracked. */
  subjects: number;
  /** Of those, subjects a later decision shows passing (see `note`). */
  passed: number;
  /** passed / subjects, or null without challenges. */
  passRate: number | null;
  /** What the pass rate can and cannot tell from a decision log. */
  note: string;
}

/** A policy's share of the log: its decisions (`count`), when it decided first and last, and how. */
export interface PolicyRow extends Counted {
  from: number;
  to: number;
  byVerdict: Record<Verdict, number>;
}

export interface ReportBuilder {
  add(decision: LoggedDecision): void;
  build(): DecisionReport;
}

const VERDICTS: readonly Verdict[] = ['allow', 'challenge', 'throttle', 'block'];
const emptyVerdicts = (): Record<Verdict, number> => ({ allow: 0, challenge: 0, throttle: 0, block: 0 });

export const PASS_RATE_NOTE =
  'The decision log does not record guard.passChallenge() calls. A pass is counted when a later decision of a challenged subject (actor, or IP without an actor) is let through because a challenge was passed (a challenge reason, yet allowed): a lower bound, since subjects that passed and did not come back are not seen.';

interface SubjectData {
  bans: number;
  banUntil: number | null | undefined;
  lastBlocked: number;
}

/** The key a reason is counted under: `source:id`, except bans, which are grouped by subject kind (a key per banned IP would be a subject list, not a reason). */
export function reasonKey(reason: Pick<Reason, 'source' | 'id'>): string {
  if (reason.source === 'ban') {
    const colon = reason.id.indexOf(':');
    return `ban:${colon > 0 ? reason.id.slice(0, colon) : 'subject'}`;
  }
  return `${reason.source}:${reason.id}`;
}

/** Whether a reason shaped a non-allow verdict: enforced, and either stricter than allow or adding points. */
export const contributes = (reason: Reason): boolean => !reason.monitor && (reason.verdict !== 'allow' || (reason.score ?? 0) !== 0);

/** IPv4 /24 of an address, or the IPv6 subject (already the policy's prefix). */
export function subnetOf(ip: NonNullable<Decision['ip']>): string {
  if (ip.version === 6) return ip.subnet;
  const last = ip.address.lastIndexOf('.');
  return `${ip.address.slice(0, last)}.0/24`;
}

/**
 * A decision let through only because its subject passed a challenge recently: an enforced
 * challenge reason, nothing stricter, yet allowed (decide.ts turns such a challenge into allow).
 */
export function passedThrough(decision: LoggedDecision): boolean {
  if (decision.verdict !== 'allow' || (decision.wouldBe !== undefined && decision.wouldBe !== 'allow')) return false;
  let challenge = false;
  for (const reason of decision.reasons) {
    if (reason.monitor) continue;
    if (reason.verdict === 'challenge') challenge = true;
    else if (reason.verdict !== 'allow') return false;
    else if (reason.source === 'list' || (reason.source === 'ban' && reason.verdict === 'allow')) return false; // allowlisted
  }
  return challenge;
}

/** The end of a ban a rule imposed in this decision: epoch ms, null = permanent, undefined = none. */
export function ruleBanUntil(decision: LoggedDecision): number | null | undefined {
  if (decision.banUntil === undefined) return undefined;
  let until: number | null | undefined;
  for (const r of decision.reasons) {
    if (r.source === 'rule' && r.verdict === 'block' && !r.monitor && r.retryAfterMs !== undefined) until = Math.max(until ?? 0, decision.at + r.retryAfterMs);
  }
  if (until !== undefined || decision.banUntil !== null) return until;
  const permanentBan = decision.reasons.some((r) => r.source === 'ban' && !r.monitor && r.retryAfterMs === undefined);
  const blockRule = decision.reasons.some((r) => r.source === 'rule' && r.verdict === 'block' && !r.monitor);
  return blockRule && !permanentBan ? null : undefined;
}

export function createReportBuilder(options: ReportOptions = {}): ReportBuilder {
  const top = options.top ?? 10;
  const capacity = options.capacity ?? 1024;
  const maxChallenged = options.maxChallenged ?? 100_000;
  const subjectData = (): SubjectData => ({ bans: 0, banUntil: undefined, lastBlocked: 0 });

  let decisions = 0;
  let from: number | null = null;
  let to: number | null = null;
  const byVerdict = emptyVerdicts();
  const wouldBe = emptyVerdicts();
  let monitoredDecisions = 0;
  const monitorReasons = createTopK(capacity);
  const reasons = createTopK(capacity);
  const timeline = createTimeline();
  const ips = createTopK(capacity, subjectData);
  const subnets = createTopK(capacity, subjectData);
  const actors = createTopK(capacity, subjectData);
  const bans = { started: 0, permanent: 0 };
  const violations = createTopK(capacity);
  const limitedKeys = createTopK<{ limit: string; subject: string }>(capacity, () => ({ limit: '', subject: '' }));
  let allowedDecisions = 0;
  const allowedByAction = createTopK(capacity);
  let issued = 0;
  const kinds = createTopK(capacity);
  // Challenged subjects, and those of them seen passing, as 64-bit hashes: ~16-32 bytes a
  // subject in each set, where the subject strings (actor ids of up to MAX_LOG_TEXT characters)
  // cost up to ~2 KB each, ~200 MB at the cap. Two subjects of one hash (odds ~n²/2^65: about one
  // log in 3.7 billion that fills the 100,000) count as one: `subjects` one fewer, and a pass of
  // either counts for both; a subject not followed passes for the one of its hash with odds
  // ~n/2^64 a pass (one in ~180,000 billion). Far below anything an inferred pass rate can show.
  const challenged = hashedSet();
  const passedSubjects = hashedSet();
  let degraded = 0;
  const degradedByVerdict = emptyVerdicts();
  const policies = createTopK(capacity, () => ({ from: Number.POSITIVE_INFINITY, to: Number.NEGATIVE_INFINITY, byVerdict: emptyVerdicts() }));

  /** Records a ban seen on a subject row; true when it is a new ban (none was running at `at`). */
  const banSeen = (entry: TopEntry<SubjectData> | undefined, at: number, until: number | null): boolean => {
    if (!entry) return false;
    const data = entry.data;
    if (data.banUntil === undefined || (data.banUntil !== null && data.banUntil <= at)) {
      data.bans++;
      data.banUntil = until;
      return true;
    }
    if (data.banUntil !== null) data.banUntil = until === null ? null : Math.max(data.banUntil, until);
    return false;
  };

  /** Who a challenge is for: its actor, else its IP subject. */
  const challengeSubject = (decision: LoggedDecision): string | null =>
    decision.actor !== null ? `actor:${decision.actor}` : decision.ip ? `ip:${decision.ip.subnet}` : null;

  function countReasons(decision: LoggedDecision): void {
    const keys = new Set<string>();
    if (decision.verdict !== 'allow') for (const reason of decision.reasons) if (contributes(reason)) keys.add(reasonKey(reason));
    for (const key of keys) reasons.add(key);
    timeline.add(decision.at, decision.verdict, keys);
  }

  function countMonitored(decision: LoggedDecision): void {
    if (decision.wouldBe === undefined || VERDICTS.indexOf(decision.wouldBe) <= VERDICTS.indexOf(decision.verdict)) return;
    monitoredDecisions++;
    wouldBe[decision.wouldBe]++;
    // Monitored parts carry `monitor`; a policy in monitor mode flags none, and then every
    // reason that would have counted is what monitoring held back.
    const stricter = decision.reasons.filter((r) => r.verdict !== 'allow' || (r.score ?? 0) !== 0);
    const flagged = stricter.filter((r) => r.monitor);
    for (const key of new Set((flagged.length > 0 ? flagged : stricter).map(reasonKey))) monitorReasons.add(key);
  }

  function countBlocked(decision: LoggedDecision): void {
    if (decision.verdict !== 'block') return;
    const { ip, at } = decision;
    const ipRow = ip ? ips.add(ip.address) : undefined;
    const subnetRow = ip ? subnets.add(subnetOf(ip)) : undefined;
    const actorRow = decision.actor !== null ? actors.add(decision.actor) : undefined;
    for (const row of [ipRow, subnetRow, actorRow]) if (row) row.data.lastBlocked = Math.max(row.data.lastBlocked, at);
    // The row of the banned subject itself counts a ban; the others only show it. An IP ban is
    // on `ip:<subnet>`: the address for IPv4, the prefix for IPv6.
    const ipOwn = ip?.version === 6 ? subnetRow : ipRow;
    const ipOther = ip?.version === 6 ? ipRow : subnetRow;
    const started = (own: TopEntry<SubjectData> | undefined, until: number | null) => {
      if (!banSeen(own, at, until)) return;
      bans.started++;
      if (until === null) bans.permanent++;
    };
    for (const reason of decision.reasons) {
      if (reason.source !== 'ban' || reason.verdict !== 'block' || reason.monitor) continue;
      const until = reason.retryAfterMs === undefined ? null : at + reason.retryAfterMs;
      if (reason.id.startsWith('actor:')) started(actorRow, until);
      else if (reason.id.startsWith('ip:')) {
        started(ipOwn, until);
        banSeen(ipOther, at, until);
      } else started(subnetRow, until); // a range ban (cidr:)
    }
    // A rule's ban (`"ban": "7d"`) has no ban reason in the decision that imposes it; it is on
    // every subject of the action.
    const ruleBan = ruleBanUntil(decision);
    if (ruleBan !== undefined) {
      started(ipOwn, ruleBan);
      started(actorRow, ruleBan);
      banSeen(ipOther, at, ruleBan);
    }
  }

  function countLimits(decision: LoggedDecision): void {
    for (const limit of decision.limits) {
      if (!limit.exceeded) continue;
      violations.add(limit.id);
      const row = limitedKeys.add(`${limit.id}\u0000${limit.key}`);
      row.data.limit = limit.id;
      row.data.subject = limit.key;
    }
  }

  function countChallenges(decision: LoggedDecision): void {
    const subject = challengeSubject(decision);
    if (decision.verdict === 'challenge') {
      issued++;
      kinds.add(decision.challenge?.kind ?? '(unknown)');
      if (subject !== null && challenged.size < maxChallenged) challenged.add(subject);
    } else if (subject !== null && passedThrough(decision) && challenged.has(subject)) {
      passedSubjects.add(subject); // once per subject, however often it comes back
    }
  }

  return {
    add(decision) {
      decisions++;
      from = from === null ? decision.at : Math.min(from, decision.at);
      to = to === null ? decision.at : Math.max(to, decision.at);
      byVerdict[decision.verdict]++;
      const policy = policies.add(decision.policy ?? '(unknown)').data;
      policy.from = Math.min(policy.from, decision.at);
      policy.to = Math.max(policy.to, decision.at);
      policy.byVerdict[decision.verdict]++;
      countReasons(decision);
      countMonitored(decision);
      countBlocked(decision);
      countLimits(decision);
      if (decision.verdict === 'allow') {
        allowedDecisions++;
        allowedByAction.add(decision.action ?? '(unknown)');
      }
      countChallenges(decision);
      if (decision.degraded) {
        degraded++;
        degradedByVerdict[decision.verdict]++;
      }
    },

    build() {
      const counted = (entries: TopEntry<unknown>[]): Counted[] => entries.map(({ key, count, error }) => ({ key, count, error }));
      const rows = (entries: TopEntry<SubjectData>[]): SubjectRow[] =>
        entries.map(({ key, count, error, data }) => ({ key, count, error, bans: data.bans, ...(data.banUntil !== undefined ? { banUntil: data.banUntil } : {}), lastBlocked: data.lastBlocked }));
      const approximate = Object.entries({ policies, reasons, monitorReasons, ips, subnets, actors, violations, limitedKeys, allowedByAction, kinds })
        .filter(([, structure]) => structure.approximate)
        .map(([name]) => name);
      if (challenged.size >= maxChallenged) approximate.push('challenges');
      return {
        decisions,
        policies: policies.top(top).map(({ key, count, error, data }) => ({ key, count, error, from: data.from, to: data.to, byVerdict: { ...data.byVerdict } })),
        from,
        to,
        byVerdict: { ...byVerdict },
        monitored: { decisions: monitoredDecisions, wouldBe: { ...wouldBe }, reasons: counted(monitorReasons.top(top)) },
        reasons: counted(reasons.top(Math.max(top, 15))),
        timeline: timeline.build(),
        blocked: { ips: rows(ips.top(top)), subnets: rows(subnets.top(top)), actors: rows(actors.top(top)) },
        bans: { ...bans },
        limits: {
          violations: counted(violations.top()),
          keys: limitedKeys.top(top).map(({ count, error, data }) => ({ key: `${data.limit} ${data.subject}`, count, error, limit: data.limit, subject: data.subject })),
        },
        allowed: { decisions: allowedDecisions, byAction: counted(allowedByAction.top(top)) },
        challenges: { issued, byKind: counted(kinds.top()), subjects: challenged.size, passed: passedSubjects.size, passRate: challenged.size === 0 ? null : passedSubjects.size / challenged.size, note: PASS_RATE_NOTE },
        degraded: { decisions: degraded, byVerdict: { ...degradedByVerdict } },
        approximate,
      };
    },
  };
}
