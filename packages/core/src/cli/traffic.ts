/**
 * The traffic format `replay` reads (and `synthetic` writes): one JSON object per line,
 *
 *   { "at": 1767600000000, "action": { …what evaluate() takes… },
 *     "label": "spam" | "ham", "verdict": "allow" | …, "scenario": "…" }
 *
 * `at` is epoch milliseconds or an ISO 8601 string; `action` is required; `label` (what the
 * action really was), `verdict` (what was answered then) and `scenario` (a free group name) are
 * optional. The action itself is checked by `evaluate` (ActionError); this module checks the
 * envelope, reading own properties only.
 */
import type { Action, Verdict } from '../types.js';
import { prefixOf } from '../text.js';
import type { LabelledAction } from './synthetic.js';

export interface TrafficRecord {
  /** 1-based line number in the input. */
  line: number;
  at: number;
  action: Action;
  label?: 'spam' | 'ham';
  verdict?: Verdict;
  scenario?: string;
}

const VERDICTS = new Set(['allow', 'challenge', 'throttle', 'block']);
const MAX_TIME = 8.64e15;
/** Scenario names kept in reports are this long at most. */
const MAX_SCENARIO = 64;

const own = (record: object, key: string): unknown => (Object.hasOwn(record, key) ? (record as Record<string, unknown>)[key] : undefined);

/** A date and time with no zone designator (`Z`, `+01:00`): JavaScript would read it as local time. */
const NO_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;
/** A date alone (UTC in JavaScript), or a date and time with a zone designator. */
const ZONED = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)? ?(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?))?$/i;

/**
 * Epoch ms from a number or an ISO 8601 string, or undefined. A time without a zone is UTC,
 * as a date alone is: read as local time, the same traffic would replay at other times on a
 * machine in another time zone (and across its daylight-saving changes). Anything else is
 * refused, not handed to `Date.parse`, whose fallback parser reads `2026-01-05 9:00:00` or
 * `2026-01-05 09:00 PM` as local time.
 */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && Math.abs(value) <= MAX_TIME ? value : undefined;
  if (typeof value === 'string' && (NO_ZONE.test(value) || ZONED.test(value))) {
    const ms = Date.parse(NO_ZONE.test(value) ? `${value}Z` : value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/** The record on a traffic line, or why the line is not one. */
export function readTrafficRecord(value: unknown, line: number): TrafficRecord | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a traffic object ({ "at", "action", … })';
  const at = parseTime(own(value, 'at'));
  if (at === undefined) return '"at" is not epoch milliseconds or an ISO 8601 time';
  const action = own(value, 'action');
  if (typeof action === 'string' && own(value, 'verdict') !== undefined) return 'a decision-log line, not traffic ("actiongate report" reads decision logs)';
  if (typeof action !== 'object' || action === null || Array.isArray(action)) return '"action" is not an object';
  const record: TrafficRecord = { line, at, action: action as Action };
  const label = own(value, 'label');
  if (label !== undefined) {
    if (label !== 'spam' && label !== 'ham') return '"label" is neither "spam" nor "ham"';
    record.label = label;
  }
  const verdict = own(value, 'verdict');
  if (verdict !== undefined) {
    if (typeof verdict !== 'string' || !VERDICTS.has(verdict)) return '"verdict" is not allow, challenge, throttle or block';
    record.verdict = verdict as Verdict;
  }
  const scenario = own(value, 'scenario');
  // A copy: a cut of a megabyte name would keep the megabyte alive in the report's scenarios.
  if (typeof scenario === 'string') record.scenario = prefixOf(scenario, MAX_SCENARIO);
  return record;
}

/** A synthetic action as a traffic line. */
export function trafficLine(item: LabelledAction): string {
  return JSON.stringify({ at: item.at, action: item.action, label: item.label, scenario: item.scenario });
}
