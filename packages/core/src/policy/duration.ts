/**
 * Durations as policies write them: `"500ms"`, `"90s"`, `"5m"`, `"24h"`, `"7d"`, `"2w"`, or
 * `"permanent"`. A bare number is milliseconds. Parsing is strict: `"5 minutes"` is an error, not 5.
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^(\d{1,9})(ms|s|m|h|d|w)$/;

/** The pattern the JSON Schema uses for a finite duration string. */
export const DURATION_PATTERN = '^[0-9]{1,9}(ms|s|m|h|d|w)$';

/**
 * Milliseconds of a finite duration, or `undefined` when `text` is not one.
 * `"permanent"` is not finite: use {@link parseBanDuration} where it is allowed.
 */
export function parseDuration(text: unknown): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text > 0 ? text : undefined;
  if (typeof text !== 'string') return undefined;
  const match = DURATION.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}

/**
 * Why `text`, which the schema's duration pattern accepts, is still no duration: its length is
 * zero or beyond a safe integer of milliseconds (about 285,000 years).
 */
export function durationProblem(text: unknown): string {
  return `${JSON.stringify(text)} is not a usable duration: it must be longer than 0 and fit a safe integer of milliseconds (at most about 14,800,000w)`;
}

/** Like {@link parseDuration}, but `"permanent"` gives `null` (no end). */
export function parseBanDuration(text: unknown): number | null | undefined {
  return text === 'permanent' ? null : parseDuration(text);
}

/** The shortest exact spelling of a duration, for messages and reports. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return 'permanent';
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** Of two ban ends the later one; `null` (permanent) is the latest, `undefined` (no ban) the earliest. */
export function laterEnd(a: number | null | undefined, b: number | null): number | null {
  if (a === undefined) return b;
  if (a === null || b === null) return null;
  return Math.max(a, b);
}

/** Whether a ban ending at `a` outlasts one ending at `b` (`null`: never ends). */
export function endsLater(a: number | null, b: number | null): boolean {
  return b !== null && (a === null || a > b);
}
