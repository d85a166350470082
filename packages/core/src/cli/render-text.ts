/**
 * Reports as plain text for a terminal: the decision report (`report`, and the tail of
 * `replay`), a replay's label and hit-rate tables, and a two-policy comparison. Pure functions
 * from report objects to strings; every count comes from the objects, nothing is recomputed.
 */
import type { Verdict } from '../types.js';
import type { Counted, DecisionReport, SubjectRow } from './aggregate.js';
import type { ReplayResult } from './replay.js';
import type { ChangedLine, HitRow, LabelCounts, PolicyStats } from './replay-stats.js';
import { cell, printable } from './terminal.js';
import { isoSecond, utcMinute } from './time-text.js';
import { bucketLabel, type Bucket } from './timeline.js';

const VERDICTS: readonly Verdict[] = ['allow', 'challenge', 'throttle', 'block'];
/** Rows of the text timeline; the HTML report draws every bucket. */
const TEXT_TIMELINE_ROWS = 24;

export const int = (n: number): string => Math.round(n).toLocaleString('en');
export const percent = (part: number, whole: number): string => (whole === 0 ? '–' : `${((100 * part) / whole).toFixed(1)}%`);
const pct = (value: number | null) => (value === null ? '–' : `${value.toFixed(1)}%`);
const time = utcMinute;
const iso = isoSecond;
const approx = (c: Counted) => (c.error > 0 ? ` (±${int(c.error)})` : '');

/** `actiongate report`'s text: everything in the decision report. */
export function renderDecisionReport(report: DecisionReport, title = 'Decision report'): string {
  const out: string[] = [title, ''];
  if (report.decisions === 0) {
    out.push('No decisions.');
    return out.join('\n');
  }
  out.push(`Decisions: ${int(report.decisions)} from ${time(report.from!)} to ${time(report.to!)} UTC`);
  for (const v of VERDICTS) out.push(`  ${v.padEnd(10)} ${int(report.byVerdict[v]).padStart(9)}  ${percent(report.byVerdict[v], report.decisions).padStart(6)}`);
  // One policy is the usual log; more (a rollout, a hot reload) mix in every count below.
  if ((report.policies[0]?.count ?? 0) < report.decisions) {
    out.push(`  by policy (every count below mixes them):`);
    for (const p of report.policies) {
      out.push(`    ${cell(p.key, 30)} ${int(p.count).padStart(9)}${approx(p)}  ${time(p.from)} to ${time(p.to)}  ${VERDICTS.filter((v) => p.byVerdict[v]).map((v) => `${v} ${int(p.byVerdict[v])}`).join(', ')}`);
    }
  }
  if (report.monitored.decisions > 0) {
    const m = report.monitored;
    out.push(`  monitor: ${int(m.decisions)} decision${m.decisions === 1 ? ' was' : 's were'} answered less strictly than enforcing would (${VERDICTS.filter((v) => m.wouldBe[v]).map((v) => `${v} ${int(m.wouldBe[v])}`).join(', ')})`);
    for (const r of m.reasons) out.push(`    ${cell(r.key, 40)} ${int(r.count).padStart(9)}${approx(r)}`);
  }

  out.push('', timelineTitle(report), ...timelineRows(report.timeline.buckets));

  out.push('', 'Reasons behind challenges, throttles and blocks (decisions):');
  if (report.reasons.length === 0) out.push('  none');
  for (const r of report.reasons) out.push(`  ${cell(r.key, 40)} ${int(r.count).padStart(9)}${approx(r)}`);

  for (const [title, rows] of [['IPs', report.blocked.ips], ['subnets (IPv4 /24, IPv6 prefix)', report.blocked.subnets], ['actors', report.blocked.actors]] as const) {
    out.push('', `Top blocked ${title}:`);
    if (rows.length) out.push(`  ${'subject'.padEnd(40)} ${'blocked'.padStart(7)} ${'bans'.padStart(6)}  ban ends`);
    if (rows.length === 0) out.push('  none');
    for (const row of rows) out.push(subjectRow(row));
  }
  out.push('', `Bans started: ${int(report.bans.started)}${report.bans.permanent ? ` (${int(report.bans.permanent)} permanent)` : ''}`);

  out.push('', 'Rate-limit violations (decisions that exceeded each limit):');
  if (report.limits.violations.length === 0) out.push('  none');
  for (const r of report.limits.violations) out.push(`  ${cell(r.key, 40)} ${int(r.count).padStart(9)}${approx(r)}`);
  if (report.limits.keys.length > 0) {
    out.push('  most limited:');
    for (const k of report.limits.keys) out.push(`    ${cell(k.limit, 16)} ${cell(k.subject, 36)} ${int(k.count).padStart(7)}${approx(k)}`);
  }

  out.push('', `Allowed submissions: ${int(report.allowed.decisions)}${report.allowed.byAction.length ? '' : ''}`);
  for (const r of report.allowed.byAction) out.push(`  ${cell(r.key, 40)} ${int(r.count).padStart(9)}${approx(r)}`);

  const c = report.challenges;
  out.push('', `Challenges issued: ${int(c.issued)}${c.byKind.length ? ` (${c.byKind.map((k) => `${printable(k.key)} ${int(k.count)}`).join(', ')})` : ''}`);
  if (c.subjects > 0) {
    out.push(`  pass rate (inferred): ${percent(c.passed, c.subjects)}, ${int(c.passed)} of ${int(c.subjects)} challenged subjects seen passing`);
    out.push(...wrap(c.note, '  '));
  }

  out.push('', `Degraded decisions (store unavailable, failMode decided): ${int(report.degraded.decisions)}${report.degraded.decisions ? ` (${VERDICTS.filter((v) => report.degraded.byVerdict[v]).map((v) => `${v} ${int(report.degraded.byVerdict[v])}`).join(', ')})` : ''}`);
  if (report.approximate.length > 0) {
    out.push('', `Approximate (more distinct keys than kept; counts are upper bounds, ± the possible excess): ${report.approximate.join(', ')}`);
  }
  return out.join('\n');
}

function subjectRow(row: SubjectRow): string {
  const ends = row.banUntil === undefined ? '' : row.banUntil === null ? 'permanent' : iso(row.banUntil);
  return `  ${cell(row.key, 40)} ${int(row.count).padStart(7)}${approx(row)} ${String(row.bans).padStart(6)}  ${ends}`.trimEnd();
}

function timelineTitle(report: DecisionReport): string {
  const rows = Math.ceil(report.timeline.buckets.length / TEXT_TIMELINE_ROWS);
  return `Over time (${bucketLabel(report.timeline.bucketMs * rows)} per row):\n  ${'from (UTC)'.padEnd(16)}  ${VERDICTS.map((v) => v.padStart(9)).join(' ')}  ${'stopped'.padStart(7)}  top reason`;
}

/** `text` wrapped at `width` columns, each line indented. */
function wrap(text: string, indent: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

function timelineRows(buckets: readonly Bucket[]): string[] {
  const per = Math.ceil(buckets.length / TEXT_TIMELINE_ROWS);
  const rows: string[] = [];
  let quiet = 0; // empty rows in a row, printed as one line
  const flushQuiet = () => {
    if (quiet > 0) rows.push(`  … ${quiet} row${quiet === 1 ? '' : 's'} without decisions`);
    quiet = 0;
  };
  for (let i = 0; i < buckets.length; i += per) {
    const group = buckets.slice(i, i + per);
    const v = { allow: 0, challenge: 0, throttle: 0, block: 0 };
    const reasons = new Map<string, number>();
    for (const b of group) {
      for (const verdict of VERDICTS) v[verdict] += b.verdicts[verdict];
      for (const [key, n] of Object.entries(b.reasons)) reasons.set(key, (reasons.get(key) ?? 0) + n);
    }
    const total = v.allow + v.challenge + v.throttle + v.block;
    if (total === 0) {
      quiet++;
      continue;
    }
    flushQuiet();
    const stopped = total - v.allow;
    const topReason = [...reasons].sort((a, b) => b[1] - a[1])[0];
    rows.push(
      `  ${time(group[0]!.start)}  ${VERDICTS.map((verdict) => int(v[verdict]).padStart(9)).join(' ')}  ${percent(stopped, total).padStart(7)}  ${topReason ? `${printable(topReason[0])} (${int(topReason[1])})` : ''}`.trimEnd(),
    );
  }
  return rows;
}

/** The lines about labels; the demo's test reads `spam stopped` and `legitimate blocked`. */
export function labelLines(l: LabelCounts): string[] {
  return [
    `  spam stopped          ${percent(l.spamStopped, l.spam)} (${int(l.spamStopped)} of ${int(l.spam)})`,
    `  legitimate allowed    ${percent(l.hamAllowed, l.ham)} (${int(l.hamAllowed)} of ${int(l.ham)})`,
    `  legitimate blocked    ${int(l.hamBlocked)}`,
    `  legitimate challenged ${int(l.hamChallenged)}, throttled ${int(l.hamThrottled)}`,
  ];
}

const HITS_HEADER = 'SpamAssassin-style: SPAM% / HAM% = share of the labelled spam / ham actions hit; S/O = SPAM% / (SPAM% + HAM%)';

function hitRows(rows: readonly HitRow[], limit: number): string[] {
  const out = ['      hits    SPAM%     HAM%    S/O  reason'];
  for (const r of rows.slice(0, limit)) {
    out.push(`  ${int(r.hits).padStart(8)} ${pct(r.spamPercent).padStart(8)} ${pct(r.hamPercent).padStart(8)} ${r.so === null ? '     –' : r.so.toFixed(2).padStart(6)}  ${printable(r.key)}`);
  }
  if (rows.length > limit) out.push(`  … ${rows.length - limit} more (--format json lists them all)`);
  return out;
}

function run(file: string, result: ReplayResult): string {
  const skipped = result.skipped.count ? `; ${int(result.skipped.count)} line${result.skipped.count === 1 ? '' : 's'} skipped (see stderr)` : '';
  const order = result.outOfOrder ? `; ${int(result.outOfOrder)} out of time order (evaluated at the latest time seen)` : '';
  return `${int(result.actions)} actions from ${file} in ${result.seconds.toFixed(2)} s (${int(result.actionsPerSecond)} actions/s, peak RSS ${Math.round(result.peakRssMb)} MB)${skipped}${order}`;
}

/** `actiongate replay`'s text: one policy in full, or the comparison of two. */
export function renderReplay(file: string, result: ReplayResult): string {
  return result.comparison ? renderComparison(file, result) : renderSingle(file, result);
}

function renderSingle(file: string, result: ReplayResult): string {
  const stats = result.stats[0]!;
  const out = [`Replay through ${stats.policy} (fresh MemoryStore, virtual clock)`, run(file, result)];
  if (stats.labels) out.push('', `Against the labels (${int(stats.labels.spam)} spam, ${int(stats.labels.ham)} legitimate):`, ...labelLines(stats.labels));
  if (stats.labelsIfEnforced) out.push('', 'Against the labels if enforced (what monitor mode held back, wouldBe, counted):', ...labelLines(stats.labelsIfEnforced));
  if (stats.recorded) out.push('', ...recordedLines(stats));
  const scenarios = Object.entries(stats.scenarios);
  if (scenarios.length > 0) {
    out.push('', 'By scenario:', `  ${'scenario'.padEnd(28)} ${VERDICTS.map((v) => v.padStart(9)).join(' ')}`);
    for (const [name, c] of scenarios) out.push(`  ${cell(name, 28)} ${VERDICTS.map((v) => int(c[v]).padStart(9)).join(' ')}`);
  }
  if (stats.labels && stats.hits.length > 0) out.push('', `Hits (${HITS_HEADER}):`, ...hitRows(stats.hits, 30));
  out.push('', renderDecisionReport(result.reports[0]!, 'Decision report'));
  return out.join('\n');
}

function recordedLines(stats: PolicyStats): string[] {
  const r = stats.recorded!;
  const changes = Object.entries(r.changes);
  return [
    `Against the recorded verdicts (${int(r.compared)} lines had one): ${int(r.same)} the same, ${int(r.compared - r.same)} changed`,
    ...changes.slice(0, 12).map(([key, n]) => `  ${key.padEnd(20)} ${int(n).padStart(9)}`),
  ];
}

function changedLine(c: ChangedLine): string {
  const who = [c.ip && `ip ${c.ip}`, c.actor !== null && `actor ${JSON.stringify(c.actor)}`, c.scenario && `scenario ${c.scenario}`].filter(Boolean).join(', ');
  return printable(`  line ${c.line}: ${c.action}${who ? ` (${who})` : ''}: ${c.from} → ${c.to}${c.reasons.length ? ` by ${c.reasons.join(', ')}` : ''}`);
}

function renderComparison(file: string, result: ReplayResult): string {
  const [a, b] = result.stats as [PolicyStats, PolicyStats];
  const cmp = result.comparison!;
  const out = [`Replay comparing A = ${a.policy} with B = ${b.policy} (each on a fresh MemoryStore, same virtual clock)`, run(file, result)];
  out.push('', 'Verdicts                  A          B     change');
  for (const v of VERDICTS) {
    const delta = b.byVerdict[v] - a.byVerdict[v];
    out.push(`  ${v.padEnd(16)} ${int(a.byVerdict[v]).padStart(9)}  ${int(b.byVerdict[v]).padStart(9)}  ${(delta > 0 ? '+' : '') + int(delta)}`.trimEnd());
  }
  if (a.labels && b.labels) {
    out.push('', 'Against the labels                   A                    B');
    const row = (name: string, f: (l: LabelCounts) => string) => out.push(`  ${name.padEnd(22)} ${f(a.labels!).padStart(18)}   ${f(b.labels!).padStart(18)}`);
    row('spam stopped', (l) => `${percent(l.spamStopped, l.spam)} (${int(l.spamStopped)})`);
    row('legitimate allowed', (l) => `${percent(l.hamAllowed, l.ham)} (${int(l.hamAllowed)})`);
    row('legitimate challenged', (l) => int(l.hamChallenged));
    row('legitimate throttled', (l) => int(l.hamThrottled));
    row('legitimate blocked', (l) => int(l.hamBlocked));
    // A side in monitor mode: what it would do once enforced (the figures above are what it does).
    if (a.labelsIfEnforced || b.labelsIfEnforced) {
      const enforced = (stats: PolicyStats, f: (l: LabelCounts) => string) => (stats.labelsIfEnforced ? f(stats.labelsIfEnforced) : 'as above');
      out.push('  if enforced (wouldBe: what monitor mode held back, counted)');
      const again = (name: string, f: (l: LabelCounts) => string) => out.push(`  ${name.padEnd(22)} ${enforced(a, f).padStart(18)}   ${enforced(b, f).padStart(18)}`);
      again('spam stopped', (l) => `${percent(l.spamStopped, l.spam)} (${int(l.spamStopped)})`);
      again('legitimate allowed', (l) => `${percent(l.hamAllowed, l.ham)} (${int(l.hamAllowed)})`);
      again('legitimate blocked', (l) => int(l.hamBlocked));
    }
  }
  out.push('', `Decisions changed: ${int(cmp.changed)} of ${int(cmp.actions)} (${percent(cmp.changed, cmp.actions)})`);
  for (const [key, n] of Object.entries(cmp.transitions)) out.push(`  ${key.padEnd(20)} ${int(n).padStart(9)}`);
  if (a.labels) {
    const h = cmp.hamNewlyStopped;
    out.push('', `Legitimate actions newly challenged, throttled or blocked by B: ${int(h.count)}${h.count ? ` (challenge ${int(h.byVerdict.challenge)}, throttle ${int(h.byVerdict.throttle)}, block ${int(h.byVerdict.block)})` : ''}`);
    out.push(...h.examples.map(changedLine));
    out.push(`Legitimate actions B lets through that A stopped: ${int(cmp.hamNewlyAllowed)}`);
    out.push('', `Spam newly stopped by B: ${int(cmp.spamNewlyStopped.count)}`, ...cmp.spamNewlyStopped.examples.map(changedLine));
    out.push(`Spam B lets through that A stopped: ${int(cmp.spamNewlyAllowed.count)}`, ...cmp.spamNewlyAllowed.examples.map(changedLine));
  } else {
    out.push('', 'The traffic has no labels: add "label": "spam" | "ham" to lines to see what changes for spam and for legitimate users.');
  }
  out.push('', `Hits, A then B (${HITS_HEADER}):`);
  const keys = [...new Set([...a.hits, ...b.hits].map((h) => h.key))];
  const find = (rows: readonly HitRow[], key: string) => rows.find((r) => r.key === key);
  const hitColumns = (r: HitRow | undefined) => (r ? `${int(r.hits).padStart(8)} ${pct(r.spamPercent).padStart(7)} ${pct(r.hamPercent).padStart(7)} ${r.so === null ? '    –' : r.so.toFixed(2).padStart(5)}` : `${'0'.padStart(8)} ${'–'.padStart(7)} ${'–'.padStart(7)} ${'–'.padStart(5)}`);
  out.push(`  ${'reason'.padEnd(34)}     hits   SPAM%    HAM%   S/O |     hits   SPAM%    HAM%   S/O`);
  const sorted = keys.sort((x, y) => Math.max(find(b.hits, y)?.hits ?? 0, find(a.hits, y)?.hits ?? 0) - Math.max(find(b.hits, x)?.hits ?? 0, find(a.hits, x)?.hits ?? 0));
  for (const key of sorted.slice(0, 40)) {
    const ra = find(a.hits, key);
    const rb = find(b.hits, key);
    const moved = (ra?.hits ?? 0) !== (rb?.hits ?? 0) ? ' *' : '';
    out.push(`  ${cell(key, 34)} ${hitColumns(ra)} | ${hitColumns(rb)}${moved}`);
  }
  if (sorted.length > 40) out.push(`  … ${sorted.length - 40} more (--format json lists them all)`);
  out.push('  (* hit count changed)');
  return out.join('\n');
}
