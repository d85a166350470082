/**
 * An explanation as text for a terminal: sections in the order the guard works (action, facts,
 * lists, content, limits, rules, score, verdict), each rule with its condition tree and, for
 * every condition json-rules-engine evaluated, the value the fact had.
 */
import type { ConditionExplanation } from '../rules/reference.js';
import type { Explanation } from './explain.js';
import { formatDuration } from '../policy/duration.js';
import { printable } from './terminal.js';
import { shown } from '../errors.js';
import { isoMillis } from './time-text.js';

/** Longest JSON shown inline; `--format json` has it all. */
const MAX_INLINE = 240;

/** A value inline, at most MAX_INLINE characters. */
export const show = (value: unknown, max = MAX_INLINE): string => shown(value, max);

const mark = (result: unknown, evaluated = true) => (!evaluated ? '·' : result ? '✓' : '✗');

export function renderExplanation(e: Explanation): string {
  const out: string[] = [];
  const section = (title: string) => out.push('', title);
  const d = e.decision;
  out.push(`Explain: ${e.action.action} through ${e.policy} at ${isoMillis(e.at)} (dry run: nothing counted or written)`);
  out.push(`Store: ${e.store}${e.replayedBefore ? `, after replaying the ${e.replayedBefore} earlier traffic lines into it` : ''}`);

  section('Action (normalised)');
  out.push(`  action      ${show(e.action.action)}`);
  out.push(`  ip          ${e.action.ip ? `${e.action.ip.address} (IPv${e.action.ip.version}, counted as ip:${e.action.ip.subnet}) from ${e.action.ip.from}` : 'none'}`);
  const actor = e.action.actor;
  out.push(`  actor       ${actor ? `${show(actor.id)} (${actor.status}${actor.createdAt !== undefined ? `, created ${isoMillis(actor.createdAt)}` : ''})` : 'none'}`);
  const fields = Object.entries(e.action.content);
  out.push(`  content     ${fields.length ? fields.map(([field, length]) => `${field} (${length} chars)`).join(', ') : 'none'}`);
  out.push(`  attributes  ${show(e.action.attributes)}`);

  section('Facts (what the rules see)');
  for (const [name, value] of Object.entries(e.facts)) out.push(`  ${name.padEnd(11)} ${show(value)}`);

  section('Lists');
  if (e.lists.length === 0) out.push('  none in the policy');
  for (const list of e.lists) {
    const effect = [list.verdict && `verdict ${list.verdict}`, list.score && `+${list.score} points`].filter(Boolean).join(', ') || 'a fact for rules only';
    out.push(`  ${list.matched ? '✓' : '·'} ${list.id.padEnd(24)} ${list.matched ? 'matched' : 'no match'} (${effect})`);
  }

  section('Content');
  const c = e.content;
  out.push(`  ${c.length} characters scanned, ${c.links} link${c.links === 1 ? '' : 's'}${c.domains.length ? ` (${c.domains.join(', ')})` : ''}, score ${c.score}`);
  for (const hit of c.hits) out.push(`  +${String(hit.score).padEnd(4)} ${hit.id}: ${hit.message}`);
  const duplicates = (e.facts.content as { duplicates?: number } | undefined)?.duplicates;
  if (duplicates) out.push(`  ${duplicates} earlier cop${duplicates === 1 ? 'y' : 'ies'} of this text in the duplicates window`);

  section('Limits');
  if (e.limits.length === 0) out.push('  none in the policy');
  for (const limit of e.limits) {
    const flag = !limit.applies ? '·' : limit.state?.exceeded ? '✗' : '✓';
    out.push(`  ${flag} ${limit.id.padEnd(20)} ${`${limit.window} by ${limit.by}`.padEnd(22)} ${limit.why}${limit.monitor ? ' [monitor]' : ''}`);
  }

  section(`Rules (json-rules-engine, the reference interpreter${e.rulesAgree ? '; the compiled rules fired the same' : '; WARNING: the compiled rules fired different events'})`);
  if (e.rules.length === 0) out.push('  none in the policy');
  for (const rule of e.rules) {
    const event = rule.event;
    const params = event.params ?? {};
    const what = event.type === 'score' ? `score +${String(params.add ?? 0)}` : event.type === 'tighten' ? `tighten ×${String(params.factor ?? 1)}` : event.type;
    const reason = typeof params.reason === 'string' ? `: ${params.reason}` : '';
    out.push(`  ${mark(rule.result)} ${rule.rule}${rule.priority !== 1 ? ` (priority ${rule.priority})` : ''}${rule.mode === 'monitor' ? ' [monitor]' : ''} → ${rule.result ? '' : 'would '}${what}${reason}`);
    condition(rule.conditions, '      ', out);
  }

  section('Score');
  const scored = d.reasons.filter((r) => r.score);
  for (const r of scored) out.push(`  ${r.score! > 0 ? '+' : ''}${String(r.score).padEnd(4)} ${r.source}:${r.id}${r.monitor ? ' [monitor, not counted]' : ''}`);
  out.push(`  = ${d.score}${thresholds(e)}`);

  section(`Verdict: ${d.verdict.toUpperCase()}${d.wouldBe && d.wouldBe !== d.verdict ? ` (would be ${d.wouldBe} when enforced)` : ''}`);
  // The reasons that answer (score points are listed above).
  for (const r of d.reasons) {
    if (r.verdict === 'allow' && r.score !== undefined) continue;
    out.push(`  ${r.verdict.padEnd(9)} ${r.source}:${r.id}: ${r.message}${r.monitor ? ' [monitor]' : ''}${r.retryAfterMs ? ` (for ${formatDuration(r.retryAfterMs)})` : ''}`);
  }
  if (d.retryAfterMs !== null) out.push(`  retry after ${formatDuration(d.retryAfterMs)}`);
  if (d.banUntil !== undefined) out.push(`  banned ${d.banUntil === null ? 'permanently' : `until ${isoMillis(d.banUntil)}`}`);
  if (d.challenge) out.push(`  challenge: ${d.challenge.kind}`);
  if (d.degraded) out.push('  degraded: the store failed and failMode decided');
  // Values come from the action and the store: no control character reaches the terminal.
  return out.map(printable).join('\n');
}

function thresholds(e: Explanation): string {
  const score = e.decision.reasons.find((r) => r.source === 'score');
  if (score) return ` (${score.message})`;
  const { challenge, block } = e.scoring;
  const set = [challenge !== undefined && `challenge at ${challenge}`, block !== undefined && `block at ${block}`].filter(Boolean);
  return set.length ? ` (below the thresholds: ${set.join(', ')})` : ' (the policy has no score thresholds)';
}

/** A condition tree, one line a node, with what each leaf saw. */
function condition(node: ConditionExplanation, indent: string, out: string[]): void {
  const group = node.all ? 'all' : node.any ? 'any' : node.not ? 'not' : null;
  if (group) {
    out.push(`${indent}${mark(node.result, node.evaluated)} ${group}${node.evaluated ? '' : ' (not evaluated)'}`);
    for (const child of node.all ?? node.any ?? [node.not!]) condition(child, `${indent}  `, out);
    return;
  }
  const value = isReference(node.value) ? `${show(node.value)} = ${show(node.valueResult)}` : show(node.value);
  const saw = node.evaluated ? `  (fact: ${show(node.factResult, 120)})` : '  (not evaluated: the group was already decided)';
  out.push(`${indent}${mark(node.result, node.evaluated)} ${node.fact}${node.path ? ` ${node.path}` : ''} ${node.operator} ${value}${saw}`);
}

const isReference = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, 'fact');
