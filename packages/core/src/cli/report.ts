/**
 * Aggregating decisions into an operator's report: verdicts, reasons, top blocked subjects,
 * rate-limit violations, and (when the traffic is labelled) how well spam was stopped without
 * hurting legitimate users. Streaming: feed decisions one by one, memory bounded by the number
 * of distinct reasons and subjects kept (top lists are capped).
 */
import type { Decision, Verdict } from '../types.js';

export interface Report {
  decisions: number;
  byVerdict: Record<Verdict, number>;
  /** `source:id` → decisions it appeared in with a non-allow verdict. */
  byReason: Record<string, number>;
  topBlocked: { subject: string; count: number; banUntil: number | null | undefined }[];
  limitViolations: Record<string, number>;
  degraded: number;
  labelled: null | {
    spam: number;
    ham: number;
    spamStopped: number;
    hamAllowed: number;
    hamBlocked: number;
    hamChallenged: number;
    hamThrottled: number;
  };
  /** Per scenario (when given): verdict counts. */
  byScenario: Record<string, Record<Verdict, number>>;
}

const MAX_SUBJECTS = 100_000;

export function createReportBuilder() {
  const byVerdict: Record<Verdict, number> = { allow: 0, challenge: 0, throttle: 0, block: 0 };
  const byReason = new Map<string, number>();
  const blocked = new Map<string, { count: number; banUntil: number | null | undefined }>();
  const limitViolations = new Map<string, number>();
  const byScenario = new Map<string, Record<Verdict, number>>();
  let decisions = 0;
  let degraded = 0;
  const labels = { spam: 0, ham: 0, spamStopped: 0, hamAllowed: 0, hamBlocked: 0, hamChallenged: 0, hamThrottled: 0 };
  let labelled = false;

  return {
    add(decision: Decision, label?: 'spam' | 'ham', scenario?: string): void {
      decisions++;
      byVerdict[decision.verdict]++;
      if (decision.degraded) degraded++;
      if (decision.verdict !== 'allow') {
        for (const key of new Set(decision.reasons.filter((r) => r.verdict !== 'allow' || r.score).map((r) => `${r.source}:${r.id}`))) {
          byReason.set(key, (byReason.get(key) ?? 0) + 1);
        }
      }
      for (const limit of decision.limits) {
        if (limit.exceeded) limitViolations.set(limit.id, (limitViolations.get(limit.id) ?? 0) + 1);
      }
      if (decision.verdict === 'block' || decision.verdict === 'throttle') {
        const subject = decision.ip ? `ip:${decision.ip.subnet}` : decision.actor ? `actor:${decision.actor}` : null;
        if (subject && (blocked.has(subject) || blocked.size < MAX_SUBJECTS)) {
          const entry = blocked.get(subject) ?? { count: 0, banUntil: undefined };
          entry.count++;
          if (decision.banUntil !== undefined) entry.banUntil = decision.banUntil;
          blocked.set(subject, entry);
        }
      }
      if (scenario !== undefined) {
        let counts = byScenario.get(scenario);
        if (!counts) byScenario.set(scenario, (counts = { allow: 0, challenge: 0, throttle: 0, block: 0 }));
        counts[decision.verdict]++;
      }
      if (label) {
        labelled = true;
        if (label === 'spam') {
          labels.spam++;
          if (decision.verdict !== 'allow') labels.spamStopped++;
        } else {
          labels.ham++;
          if (decision.verdict === 'allow') labels.hamAllowed++;
          else if (decision.verdict === 'block') labels.hamBlocked++;
          else if (decision.verdict === 'challenge') labels.hamChallenged++;
          else labels.hamThrottled++;
        }
      }
    },
    build(top = 10): Report {
      return {
        decisions,
        byVerdict: { ...byVerdict },
        byReason: Object.fromEntries([...byReason].sort((a, b) => b[1] - a[1])),
        topBlocked: [...blocked].sort((a, b) => b[1].count - a[1].count).slice(0, top).map(([subject, v]) => ({ subject, ...v })),
        limitViolations: Object.fromEntries(limitViolations),
        degraded,
        labelled: labelled ? { ...labels } : null,
        byScenario: Object.fromEntries(byScenario),
      };
    },
  };
}

const percent = (part: number, whole: number) => (whole === 0 ? '–' : `${((100 * part) / whole).toFixed(1)}%`);

/** The report as plain text for a terminal. */
export function formatReport(report: Report, extra: { title?: string; decisionsPerSecond?: number } = {}): string {
  const lines: string[] = [];
  const pad = (text: string, width: number) => text.padEnd(width);
  lines.push(extra.title ?? 'Actiongate report', '');
  lines.push(`Decisions: ${report.decisions}${extra.decisionsPerSecond ? ` (${Math.round(extra.decisionsPerSecond).toLocaleString('en')} decisions/s)` : ''}${report.degraded ? `, degraded: ${report.degraded}` : ''}`);
  lines.push('', 'By verdict:');
  for (const [verdict, count] of Object.entries(report.byVerdict)) lines.push(`  ${pad(verdict, 10)} ${String(count).padStart(7)}  ${percent(count, report.decisions)}`);
  lines.push('', 'Reasons behind challenges, throttles and blocks:');
  for (const [reason, count] of Object.entries(report.byReason).slice(0, 15)) lines.push(`  ${pad(reason, 40)} ${String(count).padStart(7)}`);
  lines.push('', 'Rate-limit violations:');
  const violations = Object.entries(report.limitViolations);
  if (violations.length === 0) lines.push('  none');
  for (const [id, count] of violations) lines.push(`  ${pad(id, 20)} ${String(count).padStart(7)}`);
  lines.push('', 'Top blocked or throttled subjects:');
  for (const s of report.topBlocked) {
    const ban = s.banUntil === undefined ? '' : s.banUntil === null ? '  banned permanently' : `  banned until ${new Date(s.banUntil).toISOString()}`;
    lines.push(`  ${pad(s.subject, 40)} ${String(s.count).padStart(7)}${ban}`);
  }
  if (Object.keys(report.byScenario).length > 0) {
    lines.push('', 'By scenario:            allow challenge throttle   block');
    for (const [scenario, c] of Object.entries(report.byScenario)) {
      lines.push(`  ${pad(scenario, 20)} ${[c.allow, c.challenge, c.throttle, c.block].map((n) => String(n).padStart(8)).join('')}`);
    }
  }
  if (report.labelled) {
    const l = report.labelled;
    lines.push('', 'Against the labels:');
    lines.push(`  spam stopped          ${percent(l.spamStopped, l.spam)} (${l.spamStopped} of ${l.spam})`);
    lines.push(`  legitimate allowed    ${percent(l.hamAllowed, l.ham)} (${l.hamAllowed} of ${l.ham})`);
    lines.push(`  legitimate blocked    ${l.hamBlocked}`);
    lines.push(`  legitimate challenged ${l.hamChallenged}, throttled ${l.hamThrottled}`);
  }
  return lines.join('\n');
}
