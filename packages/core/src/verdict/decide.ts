/**
 * From findings to a decision: every source (lists, bans, limits, content, rules, score) becomes
 * reasons; `compose` picks the verdict; then the consequences are worked out (retry-after, ban
 * end, the writes that follow: refunds, violations, escalation up the ban ladder). Pure: time
 * and randomness come in as arguments. Its loops are indexed, not `for…of`, for the reason
 * engine/state.ts gives (every evaluation runs them).
 */
import type { ContentSignals } from '../content/signals.js';
import type { State, Effects } from '../engine/state.js';
import type { ListMeta } from '../network/lists.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { endsLater, formatDuration, laterEnd, parseBanDuration, parseDuration } from '../policy/duration.js';
import type { FiredEvent } from '../rules/compile.js';
import type { Reason, Verdict } from '../types.js';
import { MIN_TIGHTEN_FACTOR } from '../rules/types.js';
import { compose, scoreVerdict, severity } from './compose.js';
import { appended } from '../engine/append.js';

export interface Outcome {
  verdict: Verdict;
  wouldBe: Verdict | undefined;
  score: number;
  reasons: Reason[];
  retryAfterMs: number | null;
  /** `undefined`: no ban applies; `null`: permanent. */
  banUntil: number | null | undefined;
  /** The highest ladder rung among the bans that apply (0: operator or rule bans only). */
  banRung: number | undefined;
  challengeKind: string | null;
  effects: Effects;
}

export interface Findings {
  lists: readonly ListMeta[];
  content: ContentSignals;
  state: State;
  /** Rule events, or none when rules were not run. */
  events: readonly FiredEvent[];
  /** Score from lists and content before rules ran. */
  baseScore: number;
  /** A store failure decided by `failMode`, or null. */
  degraded: { failMode: 'open' | 'closed' | 'memory'; message: string } | null;
}

/** Points from lists and content: the `score` fact rules see. */
export function baseScore(lists: readonly ListMeta[], content: ContentSignals, duplicateScore: number): number {
  let score = content.score + duplicateScore;
  for (let i = 0; i < lists.length; i++) score += lists[i]!.score ?? 0;
  return score;
}

/** The duplicate-content points this state earns under the policy. */
export function duplicateScore(policy: CompiledPolicy, state: State): number {
  const duplicates = policy.content.duplicates;
  return duplicates && state.duplicates >= duplicates.after ? duplicates.score : 0;
}

/** The static allowlist an IP is on, if any: it beats every other source. */
export function staticAllow(lists: readonly ListMeta[]): ListMeta | undefined {
  for (let i = 0; i < lists.length; i++) if (lists[i]!.verdict === 'allow') return lists[i];
  return undefined;
}

export function decide(policy: CompiledPolicy, findings: Findings, now: number, random: () => number): Outcome {
  const { state } = findings;
  const allowed = staticAllow(findings.lists);
  if (allowed || state.allow) {
    const reason: Reason = allowed
      ? { source: 'list', id: allowed.id, message: allowed.reason ?? `on allowlist ${allowed.id}`, verdict: 'allow' }
      : { source: 'ban', id: state.allow!.subject, message: state.allow!.reason, verdict: 'allow' };
    return { verdict: 'allow', wouldBe: undefined, score: 0, reasons: [reason], retryAfterMs: null, banUntil: undefined, banRung: undefined, challengeKind: null, effects: noEffects() };
  }

  const reasons: Reason[] = [];
  let score = findings.baseScore;
  let shadowScore = score;
  let challengeKind: string | null = null;
  let banUntil: number | null | undefined;
  let ruleBans: { until: number | null; reason: string }[] = NONE;
  let tighten: { factor: number; forMs: number; reason: string } | null = null;

  if (findings.degraded) {
    const verdict: Verdict = findings.degraded.failMode === 'closed' ? 'block' : 'allow';
    reasons.push({ source: 'store', id: 'store-unavailable', message: findings.degraded.message, verdict });
  }
  for (let i = 0; i < findings.lists.length; i++) {
    const list = findings.lists[i]!;
    if (list.verdict || list.score) {
      reasons.push({ source: 'list', id: list.id, message: list.reason ?? `listed in ${list.id}`, verdict: list.verdict ?? 'allow', ...(list.score ? { score: list.score } : {}) });
    }
  }
  let banRung: number | undefined;
  for (let i = 0; i < state.bans.length; i++) {
    const { subject, ban } = state.bans[i]!;
    reasons.push({ source: 'ban', id: subject, message: ban.reason, verdict: 'block', ...(ban.until === null ? {} : { retryAfterMs: ban.until - now }), ...(ban.rung > 0 ? { rung: ban.rung } : {}) });
    banUntil = laterEnd(banUntil, ban.until);
    banRung = Math.max(banRung ?? 0, ban.rung);
  }
  for (let i = 0; i < state.limits.length; i++) {
    const { take, state: limit } = state.limits[i]!;
    if (!limit.exceeded) continue;
    reasons.push({
      source: 'limit',
      id: limit.id,
      message: `${limit.count} of ${limit.max} per ${formatDuration(take.limit.windowMs)} used by ${limit.key}${state.factor < 1 ? ` (limits tightened ×${round(state.factor)})` : ''}`,
      verdict: take.limit.onExceed,
      // A cost above the capacity (a tier of 0) never fits: waiting does not help.
      ...(take.limit.cost <= limit.max ? { retryAfterMs: limit.resetMs } : {}),
      ...(take.limit.monitor ? { monitor: true } : {}),
    });
  }
  for (let i = 0; i < findings.content.hits.length; i++) {
    const hit = findings.content.hits[i]!;
    reasons.push({ source: 'content', id: hit.id, message: hit.message, verdict: 'allow', score: hit.score });
  }
  const dupScore = duplicateScore(policy, state);
  if (dupScore) reasons.push({ source: 'content', id: 'duplicates', message: `the same text was submitted ${state.duplicates} time(s) before`, verdict: 'allow', score: dupScore });

  for (let i = 0; i < findings.events.length; i++) {
    const event = findings.events[i]!;
    const monitor = event.mode === 'monitor';
    const params = event.params ?? {};
    const reasonText = typeof params.reason === 'string' ? params.reason : event.rule;
    switch (event.type) {
      case 'score': {
        const add = typeof params.add === 'number' ? params.add : 0;
        shadowScore += add;
        if (!monitor) score += add;
        reasons.push({ source: 'rule', id: event.rule, message: reasonText, verdict: 'allow', score: add, ...(monitor ? { monitor } : {}) });
        break;
      }
      case 'tighten': {
        const factor = typeof params.factor === 'number' && params.factor > 0 && params.factor < 1 ? params.factor : 1;
        const forMs = parseDuration(params.for) ?? DEFAULT_TIGHTEN_MS;
        reasons.push({ source: 'rule', id: event.rule, message: `${reasonText}: limits tightened ×${factor} for ${formatDuration(forMs)}`, verdict: 'allow', ...(monitor ? { monitor } : {}) });
        if (!monitor && factor < 1) {
          // Several tighten rules in one evaluation compound, as repeated offences do.
          tighten = tighten ? { factor: tighten.factor * factor, forMs: Math.max(tighten.forMs, forMs), reason: `${tighten.reason}; ${reasonText}` } : { factor, forMs, reason: reasonText };
        }
        break;
      }
      default: {
        const verdict = event.type;
        const reason: Reason = { source: 'rule', id: event.rule, message: reasonText, verdict, ...(monitor ? { monitor } : {}) };
        if (verdict === 'throttle') {
          const retry = parseDuration(params.retryAfter);
          if (retry !== undefined) reason.retryAfterMs = retry;
        }
        if (verdict === 'challenge' && typeof params.challenge === 'string' && !monitor) challengeKind ??= params.challenge;
        if (verdict === 'block' && params.ban !== undefined && !monitor) {
          const length = parseBanDuration(params.ban);
          if (length !== undefined) {
            const until = length === null ? null : now + length;
            ruleBans = appended(ruleBans, { until, reason: reasonText });
            if (until !== null) reason.retryAfterMs = length!;
          }
        }
        reasons.push(reason);
      }
    }
  }

  const enforcedScore = scoreVerdict(score, policy.scoring);
  if (enforcedScore !== 'allow') {
    reasons.push({ source: 'score', id: 'score', message: `score ${score} reached the ${enforcedScore} threshold`, verdict: enforcedScore });
    // A rule that named its challenge keeps it; a score challenge asks for the policy's kind.
    if (enforcedScore === 'challenge') challengeKind ??= policy.scoring.challengeKind;
  } else {
    const shadow = scoreVerdict(shadowScore, policy.scoring);
    if (shadow !== 'allow') reasons.push({ source: 'score', id: 'score', message: `score ${shadowScore} with monitored rules would reach the ${shadow} threshold`, verdict: shadow, monitor: true });
  }

  const composed = compose(reasons);
  let { verdict, wouldBe } = composed;
  // A person who solved a challenge recently is not asked again for the same reasons.
  let waived = false;
  if (state.passed) {
    if (verdict === 'challenge') {
      verdict = 'allow';
      waived = true;
    }
    if (wouldBe === 'challenge') wouldBe = 'allow';
  }

  const effects: Effects = noEffects();
  // Let through, the attempt counts: a limit whose challenge was waived refused its subject's
  // takes all or nothing, and the others there (a throttle, a block) must not go uncounted.
  if (waived && !findings.degraded) effects.commit = true;
  if (tighten && !findings.degraded) {
    for (let i = 0; i < state.history.length; i++) {
      const history = state.history[i]!;
      const current = history.tighten;
      effects.tighten = appended(effects.tighten, {
        subject: history.subject,
        factor: Math.max(MIN_TIGHTEN_FACTOR, (current?.factor ?? 1) * tighten.factor),
        until: Math.max(current?.until ?? 0, now + tighten.forMs),
        reason: tighten.reason,
      });
    }
  }
  // A refused attempt consumes nothing, degraded or not: with failMode memory the takes were
  // consumed on the local fallback, and the guard gives them back there (not to the store that
  // failed, which never counted them). Strikes and bans still need the real store.
  if (verdict !== 'allow') effects.refund = state.consumed.length > 0;
  if (verdict !== 'allow' && !findings.degraded) {
    if (severity(verdict) >= severity('throttle') && state.bans.length === 0) {
      for (let i = 0; i < state.history.length; i++) {
        const history = state.history[i]!;
        const subject = history.subject;
        effects.violations = appended(effects.violations, subject);
        if (history.violations + 1 >= policy.bans.after) {
          const rung = Math.min(history.rung + 1, policy.bans.ladder.length);
          const length = policy.bans.ladder[rung - 1]!;
          const until = length === null ? null : now + Math.round(length * (1 + policy.bans.jitter * random()));
          const reason = `${history.violations + 1} violations within ${formatDuration(policy.bans.withinMs)}: banned ${length === null ? 'for good' : `for ${formatDuration(length)}`} (rung ${rung} of ${policy.bans.ladder.length})`;
          effects.bans = appended(effects.bans, { subject, until, rung, reason });
          // The attempt that earns the ban is already answered as the ban.
          reasons.push({ source: 'ban', id: subject, message: reason, verdict: 'block', rung, ...(until === null ? {} : { retryAfterMs: until - now }) });
          verdict = 'block';
          // Block is the most severe: enforcement gives it too, so nothing was held back.
          wouldBe = 'block';
          banUntil = laterEnd(banUntil, until);
          banRung = Math.max(banRung ?? 0, rung);
        }
      }
    }
    // Of several rule bans the longest; and never one that would cut short a ban the subject
    // already has or has just earned (a permanent ban must not become a rule's hour).
    let ruleBan: { until: number | null; reason: string } | undefined;
    for (const ban of ruleBans) if (ruleBan === undefined || endsLater(ban.until, ruleBan.until)) ruleBan = ban;
    if (ruleBan !== undefined) {
      for (let i = 0; i < state.history.length; i++) {
        const subject = state.history[i]!.subject;
        let current: number | null | undefined;
        for (const held of state.bans) if (held.subject === subject) current = laterEnd(current, held.ban.until);
        for (const earned of effects.bans) if (earned.subject === subject) current = laterEnd(current, earned.until);
        if (current === undefined || endsLater(ruleBan.until, current)) effects.bans = appended(effects.bans, { subject, until: ruleBan.until, rung: 0, reason: ruleBan.reason });
      }
      banUntil = laterEnd(banUntil, ruleBan.until);
      banRung = Math.max(banRung ?? 0, 0);
    }
  }

  if (verdict === 'challenge') challengeKind ??= policy.challenges.kind;
  const retryAfterMs = retryAfter(verdict, reasons, banUntil, now);
  const monitorPolicy = policy.mode === 'monitor';
  return {
    verdict: monitorPolicy ? 'allow' : verdict,
    wouldBe: monitorPolicy || wouldBe !== verdict ? worstOf(wouldBe, verdict) : undefined,
    score,
    reasons,
    retryAfterMs: monitorPolicy ? null : retryAfterMs,
    banUntil: monitorPolicy ? undefined : banUntil,
    banRung: monitorPolicy || banUntil === undefined ? undefined : banRung,
    challengeKind: !monitorPolicy && verdict === 'challenge' ? challengeKind : null,
    effects: monitorPolicy ? noEffects() : effects,
  };
}

/** How long a tighten event lasts without a `for`. */
export const DEFAULT_TIGHTEN_MS = 3_600_000;

/**
 * Effects that write nothing yet. Their lists start as one shared empty list (frozen: the first
 * entry replaces it, `appended`), so a decision that strikes and bans no one, most of them,
 * allocates none; the guard keeps a decision's `violations` list in its memory of it as it is.
 */
const noEffects = (): Effects => ({ refund: false, commit: false, violations: NONE, bans: NONE, tighten: NONE });
const NONE = Object.freeze([]) as unknown as never[];

const round = (factor: number) => Math.round(factor * 1000) / 1000;

function worstOf(a: Verdict, b: Verdict): Verdict {
  return severity(a) >= severity(b) ? a : b;
}

/**
 * When to try again: when the last enforced refusal (throttle or block) lifts, so a client that
 * waits that long is not refused again by one that lasts longer than the reason that won. A block
 * with no end (a permanent ban, a blocklist, a score or rule block without `ban`) gives none, and
 * so does a limit whose cost never fits (a tier of 0: its reason has no `retryAfterMs`), whatever
 * its verdict: the time another refusing window frees would only send the client back to it.
 */
function retryAfter(verdict: Verdict, reasons: readonly Reason[], banUntil: number | null | undefined, now: number): number | null {
  if (verdict === 'allow' || verdict === 'challenge') return null;
  if (banUntil === null) return null;
  let longest: number | null = banUntil === undefined ? null : Math.max(0, banUntil - now);
  for (let i = 0; i < reasons.length; i++) {
    const reason = reasons[i]!;
    if (reason.monitor || severity(reason.verdict) < severity('throttle')) continue;
    if (reason.retryAfterMs !== undefined) longest = Math.max(longest ?? 0, reason.retryAfterMs);
    else if (reason.verdict === 'block' || reason.source === 'limit') return null;
  }
  return longest;
}
