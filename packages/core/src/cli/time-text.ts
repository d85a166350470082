/**
 * Times as text for the reports and explanations. The times come from logs, traffic and actions
 * (a ban that ends past year 275760, an `actor.createdAt` of 1e20, a bucket start below the
 * earliest Date): `Date#toISOString` throws a RangeError on any of them, which would end a whole
 * report on one line's value. Beyond the Date range the number itself is shown instead.
 */

/** The range of a JavaScript Date (ms either side of the epoch). */
const MAX_DATE_MS = 8.64e15;

const inRange = (ms: number) => Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS;
const outOfRange = (ms: number) => `${ms} ms (beyond the date range)`;

/** `2026-01-05T09:00:15Z`, to the second. */
export function isoSecond(ms: number): string {
  return inRange(ms) ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : outOfRange(ms);
}

/** `2026-01-05 09:00`, to the minute (UTC). */
export function utcMinute(ms: number): string {
  return inRange(ms) ? new Date(ms).toISOString().replace('T', ' ').replace(/:\d\d\.\d{3}Z$/, '') : outOfRange(ms);
}

/** `01-05 09:00`: `utcMinute` without its year, for a chart axis. */
export function utcMinuteNoYear(ms: number): string {
  return inRange(ms) ? utcMinute(ms).replace(/^[+-]?\d+-/, '') : outOfRange(ms);
}

/** `2026-01-05T09:00:15.000Z`, to the millisecond. */
export function isoMillis(ms: number): string {
  return inRange(ms) ? new Date(ms).toISOString() : outOfRange(ms);
}
