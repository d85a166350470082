/**
 * Random timelines through a guard on a MemoryStore with an injected clock, against what a user
 * reads in the policy: a ban in force is never cut short (neither by a later rung nor by a
 * shorter rule ban), an escalation climbs exactly one rung from the rung remembered (never
 * skips one, never repeats a lower one), its ban lasts the rung plus at most `jitter` of it,
 * and the rung is forgotten exactly `forget` after the ban that stands ends (never while a
 * permanent ban lasts). The model below states those rules, not the engine's marks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGuard, type PolicyDocument } from '../../src/index.js';
import { parseBanDuration, parseDuration } from '../../src/policy/duration.js';

const SEED = 20260301;
const when = (flag: string) => ({ all: [{ fact: 'attributes', path: `$.${flag}`, operator: 'equal' as const, value: true }] });

type Step = { wait: number } | { attempt: 'plain' | 'short' | 'long' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ attempt: fc.constantFrom('plain', 'plain', 'short', 'long') as fc.Arbitrary<'plain' | 'short' | 'long'> }) },
  // Seconds (strikes in a row), hours (bans ending) and days (rungs forgotten).
  { weight: 2, arbitrary: fc.record({ wait: fc.oneof(fc.integer({ min: 0, max: 90_000 }), fc.integer({ min: 0, max: 12 * 3_600_000 }), fc.integer({ min: 0, max: 4 * 86_400_000 })) }) },
);

const laterEnd = (a: number | null | undefined, b: number | null): number | null => (a === undefined ? b : a === null || b === null ? null : Math.max(a, b));

describe('dynamic bans on random timelines (property)', () => {
  it('never shorten a ban, never skip or repeat a rung, and forget exactly `forget` after the ban that stands', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          after: fc.integer({ min: 1, max: 3 }),
          ladder: fc.constantFrom<string[]>(['1h', '6h', 'permanent'], ['2h', '1d', '3d'], ['30m'], ['1h', '2h', '4h', '8h']),
          forget: fc.constantFrom<string>('3h', '2d'),
          jitter: fc.constantFrom<number>(0, 0.25),
        }),
        fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 1, maxLength: 8 }),
        fc.array(step, { minLength: 1, maxLength: 40 }),
        async (bans, randoms, steps) => {
          let t = Date.UTC(2026, 2, 1);
          let drawn = 0;
          const policy: PolicyDocument = {
            name: 'timeline',
            limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }],
            bans: { ...bans, within: '1h' },
            rules: [
              { name: 'short', conditions: when('short'), event: { type: 'block', params: { ban: '30m' } } },
              { name: 'long', conditions: when('long'), event: { type: 'block', params: { ban: '10d' } } },
            ],
          };
          const guard = createGuard({ policy, now: () => t, random: () => randoms[drawn++ % randoms.length]! });
          const ladder = bans.ladder.map((rung) => parseBanDuration(rung)!);
          const forgetMs = parseDuration(bans.forget)!;
          const ip = '192.0.2.1';
          // The model: the ban in force (undefined: none; null: permanent), the rung reached and until when it is remembered.
          let banEnd: number | null | undefined;
          let rung = 0;
          let rungUntil: number | null = 0;
          const banLive = () => banEnd === null || (banEnd !== undefined && t < banEnd);
          const rungLive = () => rung > 0 && (rungUntil === null || t < rungUntil);

          for (const s of steps) {
            if ('wait' in s) t += s.wait;
            else {
              const before = banLive() ? banEnd : undefined;
              const remembered = rungLive() ? rung : 0;
              const d = await guard.evaluate({ action: 'a', ip, ...(s.attempt === 'plain' ? {} : { attributes: { [s.attempt]: true } }) });
              if (before !== undefined) {
                // Banned: blocked, and never for less than the ban in force.
                expect(d.verdict).toBe('block');
                expect(d.banUntil).toBe(laterEnd(before, d.banUntil ?? before));
              } else if ((d.banRung ?? 0) > 0) {
                // An escalation: one rung above the one remembered (the top repeats), for the rung plus its jitter.
                const expected = Math.min(remembered + 1, ladder.length);
                expect(d.banRung).toBe(expected);
                const escalation = d.reasons.find((r) => r.source === 'ban' && r.rung === expected)!;
                const length = ladder[expected - 1]!;
                if (length === null) expect(escalation.retryAfterMs).toBeUndefined();
                else {
                  expect(escalation.retryAfterMs).toBeGreaterThanOrEqual(length);
                  expect(escalation.retryAfterMs).toBeLessThanOrEqual(Math.round(length * (1 + bans.jitter)));
                }
                rung = expected;
                rungUntil = d.banUntil === null ? null : d.banUntil! + forgetMs;
              }
              if (d.banUntil !== undefined) banEnd = laterEnd(banLive() ? banEnd : undefined, d.banUntil);
              // The rung reached is remembered `forget` after the ban that stands ends.
              if (rungLive() && banLive()) rungUntil = banEnd === null || rungUntil === null ? null : Math.max(rungUntil, banEnd! + forgetMs);
            }
            const seen = await guard.inspect(`ip:${ip}`);
            expect(seen.rung, `rung at ${t}`).toBe(rungLive() ? rung : 0);
            if (banLive()) expect(seen.ban?.until, `ban at ${t}`).toBe(banEnd);
            else expect(seen.ban).toBeNull();
          }
          await guard.close();
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });
});
