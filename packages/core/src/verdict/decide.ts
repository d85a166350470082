/**
 * From findings to a decision: every source (lists, bans, limits, content, rules, score) becomes
 * reasons; `compose` picks the verdict; then the consequences are worked out (retry-after, ban
 * end, the writes that follow: refunds, violations, escalation up the ban ladder). Pure: time
 * and randomness come in as arguments.
 */
import type { ContentSignals } from '../content/signals.js';
import type { State, Effects } from '../engine/state.js';
import type { ListMeta } from '../network/lists.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { formatDuration, parseBanDuration, parseDuration } from '../policy/duration.js';
import type { FiredEvent } from '../rules/compile.js';
import type { Reason, Verdict } from '../types.js';
import { compose, scoreVerdict, severity } from './compose.js';

export interface Outcome {
  verdict: Verdict;
  wouldBe: Verdict | undefined;
  score: number;
  reasons: Reason[];
  retryAfterMs: number | null;
  /** `undefined`: no ban applies; `null`: permanent. */
  banUntil: number | null | undefined;
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
  for (const list of lists) score += list.score ?? 0;
  return score;
}

/** The duplicate-content points this state earns under the policy. */
export function duplicateScore(policy: CompiledPolicy, state: State): number {
  const duplicates = policy.content.duplicates;
  return duplicates && state.duplicates >= duplicates.after ? duplicates.score : 0;
}

/** The static allowlist an IP is on, if any: it beats every other source. */
export function staticAllow(lists: readonly ListMeta[]): ListMeta | undefined {
  return lists.find((list) => list.verdict === 'allow');
}

export function decide(policy: CompiledPolicy, findings: Findings, now: number, random: () => number): Outcome {
  const { state } = findings;
  const allowed = staticAllow(findings.lists);
  if (allowed || state.allow) {
    const reason: Reason = allowed
      ? { source: 'list', id: allowed.id, message: allowed.reason ?? `on allowlist ${allowed.id}`, verdict: 'allow' }
      : { source: 'ban', id: state.allow!.subject, message: state.allow!.reason, verdict: 'allow' };
    return { verdict: 'allow', wouldBe: undefined, score: 0, reasons: [reason], retryAfterMs: null, banUntil: undefined, challengeKind: null, effects: { refund: false, violations: [], bans: [] } };
  }

  const reasons: Reason[] = [];
  let score = findings.baseScore;
  let shadowScore = score;
  let challengeKind: string | null = null;
  let banUntil: number | null | undefined;
  const ruleBans: { until: number | null; reason: string }[] = [];

  if (findings.degraded) {
    const verdict: Verdict = findings.degraded.failMode === 'closed' ? 'block' : 'allow';
    reasons.push({ source: 'store', id: 'store-unavailable', message: findings.degraded.message, verdict });
  }
  for (const list of findings.lists) {
    if (list.verdict || list.score) {
      reasons.push({ source: 'list', id: list.id, message: list.reason ?? `listed in ${list.id}`, verdict: list.verdict ?? 'allow', ...(list.score ? { score: list.score } : {}) });
    }
  }
  for (const { subject, ban } of state.bans) {
    reasons.push({ source: 'ban', id: subject, message: ban.reason, verdict: 'block', ...(ban.until === null ? {} : { retryAfterMs: ban.until - now }) });
    banUntil = laterEnd(banUntil, ban.until);
  }
  for (const { take, state: limit } of state.limits) {
    if (!limit.exceeded) continue;
    reasons.push({
      source: 'limit',
      id: limit.id,
      message: `${limit.count} of ${limit.max} per ${formatDuration(take.limit.windowMs)} used by ${limit.key}`,
      verdict: take.limit.onExceed,
      retryAfterMs: limit.resetMs,
      ...(take.limit.monitor ? { monitor: true } : {}),
    });
  }
  for (const hit of findings.content.hits) {
    reasons.push({ source: 'content', id: hit.id, message: hit.message, verdict: 'allow', score: hit.score });
  }
  const dupScore = duplicateScore(policy, state);
  if (dupScore) reasons.push({ source: 'content', id: 'duplicates', message: `the same text was submitted ${state.duplicates} time(s) before`, verdict: 'allow', score: dupScore });

  for (const event of findings.events) {
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
      case 'tighten':
        break;
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
            ruleBans.push({ until, reason: reasonText });
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
  } else {
    const shadow = scoreVerdict(shadowScore, policy.scoring);
    if (shadow !== 'allow') reasons.push({ source: 'score', id: 'score', message: `score ${shadowScore} with monitored rules would reach the ${shadow} threshold`, verdict: shadow, monitor: true });
  }

  const composed = compose(reasons);
  let { verdict, wouldBe } = composed;
  // A person who solved a challenge recently is not asked again for the same reasons.
  if (state.passed) {
    if (verdict === 'challenge') verdict = 'allow';
    if (wouldBe === 'challenge') wouldBe = 'allow';
  }

  const effects: Effects = { refund: false, violations: [], bans: [] };
  if (verdict !== 'allow' && !findings.degraded) {
    effects.refund = state.consumed.length > 0;
    if (severity(verdict) >= severity('throttle') && state.bans.length === 0) {
      for (const [subject, history] of state.history) {
        effects.violations.push(subject);
        if (history.violations + 1 >= policy.bans.after) {
          const rung = Math.min(history.rung + 1, policy.bans.ladder.length);
          const length = policy.bans.ladder[rung - 1]!;
          const until = length === null ? null : now + Math.round(length * (1 + policy.bans.jitter * random()));
          effects.bans.push({ subject, until, rung, reason: `${history.violations + 1} violations within ${formatDuration(policy.bans.withinMs)}: banned ${formatDuration(length)}` });
          banUntil = laterEnd(banUntil, until);
        }
      }
    }
    for (const ban of ruleBans) {
      for (const subject of state.history.keys()) effects.bans.push({ subject, until: ban.until, rung: 0, reason: ban.reason });
      banUntil = laterEnd(banUntil, ban.until);
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
    challengeKind: !monitorPolicy && verdict === 'challenge' ? challengeKind : null,
    effects: monitorPolicy ? { refund: false, violations: [], bans: [] } : effects,
  };
}

function worstOf(a: Verdict, b: Verdict): Verdict {
  return severity(a) >= severity(b) ? a : b;
}

/** Of two ban ends the later one; `null` (permanent) is the latest. */
function laterEnd(a: number | null | undefined, b: number | null): number | null {
  if (a === undefined) return b;
  if (a === null || b === null) return null;
  return Math.max(a, b);
}

function retryAfter(verdict: Verdict, reasons: readonly Reason[], banUntil: number | null | undefined, now: number): number | null {
  if (verdict === 'allow' || verdict === 'challenge') return null;
  if (verdict === 'block' && banUntil !== undefined) return banUntil === null ? null : Math.max(0, banUntil - now);
  let longest: number | null = null;
  for (const reason of reasons) {
    if (!reason.monitor && reason.verdict === verdict && reason.retryAfterMs !== undefined) {
      longest = Math.max(longest ?? 0, reason.retryAfterMs);
    }
  }
  return longest;
}
