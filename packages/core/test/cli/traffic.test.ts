/**
 * Times on traffic lines. A time without a zone is UTC (docs/cli.md: "on every machine"); a
 * string V8 reads with its legacy parser instead (an hour of one digit, a trailing space) was
 * read as the machine's local time, so the same file replayed hours apart in another zone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseTime } from '../../src/cli/traffic.js';

const saved = process.env.TZ;
afterEach(() => {
  if (saved === undefined) delete process.env.TZ;
  else process.env.TZ = saved;
});

/** parseTime of `text` in each zone (Node applies a changed process.env.TZ at once). */
const inZones = (text: string) =>
  ['UTC', 'America/New_York', 'Asia/Kolkata'].map((TZ) => {
    process.env.TZ = TZ;
    return parseTime(text);
  });

describe('parseTime', () => {
  it.each(['2026-01-05 9:00:00', '2026-01-05T09:00:00 ', '2026-01-05 09:00 PM', '2026-01-05T9:00'])('%j is refused rather than read as local time', (text) => {
    expect(inZones(text)).toEqual([undefined, undefined, undefined]);
  });

  it.each([
    ['2026-01-05', Date.UTC(2026, 0, 5)],
    ['2026-01-05T09:00:00', Date.UTC(2026, 0, 5, 9)],
    ['2026-01-05 09:00:00.5', Date.UTC(2026, 0, 5, 9, 0, 0, 500)],
    ['2026-01-05T09:00:00Z', Date.UTC(2026, 0, 5, 9)],
    ['2026-01-05T10:00:00+01:00', Date.UTC(2026, 0, 5, 9)],
    ['2026-01-05T10:00:00.000+0100', Date.UTC(2026, 0, 5, 9)],
    ['2026-01-05 09:00:00 UTC', Date.UTC(2026, 0, 5, 9)],
  ])('%j is the same instant in every zone', (text, ms) => {
    expect(inZones(text)).toEqual([ms, ms, ms]);
  });
});
