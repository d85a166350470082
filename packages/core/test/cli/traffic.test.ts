/**
 * Times on traffic lines. A time without a zone is UTC (docs/cli.md: "on every machine"); a
 * string V8 reads with its legacy parser instead (an hour of one digit, a trailing space) was
 * read as the machine's local time, so the same file replayed hours apart in another zone.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { createPolicyStats } from '../../src/cli/replay-stats.js';
import { parseTime, readTrafficRecord } from '../../src/cli/traffic.js';
import type { Decision } from '../../src/types.js';

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

describe('readTrafficRecord', () => {
  it('keeps a copy of a long scenario\'s first 64 characters, not the whole name it was cut from', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const stats = createPolicyStats('p@1');
    const decision = { verdict: 'allow', reasons: [] } as unknown as Decision;
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100; i++) {
      const record = readTrafficRecord(JSON.parse(JSON.stringify({ at: i, action: { action: 'a' }, scenario: `scenario ${i} `.padEnd(1_000_000, 'x') })), i + 1);
      if (typeof record === 'string') throw new Error(record);
      stats.add(record, decision);
    }
    gc();
    // Cuts that were views into their names kept all 100 MB alive in the per-scenario counts.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(30e6);
    expect(Object.keys(stats.build().scenarios)).toContain('scenario 7 '.padEnd(64, 'x'));
  });
});
