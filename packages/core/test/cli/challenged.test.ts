/**
 * The report's challenged subjects, kept as 64-bit hashes (seen-once.ts) rather than their ids:
 * the pass rate must come out as it did when they were kept as strings in a Map, for ids of any
 * length (up to the kilobyte a log line keeps, and ids cut to it), and at the cap.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createReportBuilder, passedThrough, type ChallengeSummary, type LoggedDecision } from '../../src/cli/aggregate.js';
import { MAX_LOG_TEXT, readLoggedDecision } from '../../src/cli/log-line.js';

const T = Date.UTC(2026, 0, 5, 8);

/** What a log line carries of a subject: an actor id (any length), or an IP without an actor. */
type Who = { actor: string } | { ip: string };

/** A decision-log line, as JSON (what the report reads): a challenge, a pass through one, or a pass held back by monitoring. */
function line(at: number, who: Who, kind: 'challenge' | 'passed' | 'monitored' | 'allow'): unknown {
  const ip = 'ip' in who ? who.ip : '192.0.2.1';
  const v6 = ip.includes(':');
  const reasons = kind === 'allow' ? [] : [{ source: 'rule', id: 'ask', message: '', verdict: 'challenge', ...(kind === 'monitored' ? { monitor: true } : {}) }];
  return {
    at,
    verdict: kind === 'challenge' ? 'challenge' : 'allow',
    reasons,
    limits: [],
    ip: { address: ip, version: v6 ? 6 : 4, subnet: v6 ? `${ip}/128` : ip },
    actor: 'actor' in who ? who.actor : null,
    degraded: false,
    ...(kind === 'challenge' ? { challenge: { kind: 'captcha', token: 't' } } : {}),
  };
}

const read = (value: unknown): LoggedDecision => {
  const decision = readLoggedDecision(JSON.parse(JSON.stringify(value)));
  if (typeof decision === 'string') throw new Error(decision);
  return decision;
};

/** The pass rate as the report computed it with the subjects themselves as keys of a Map. */
function reference(decisions: LoggedDecision[], maxChallenged: number): Pick<ChallengeSummary, 'subjects' | 'passed' | 'passRate'> & { capped: boolean } {
  const challenged = new Map<string, { passed: boolean }>();
  let passed = 0;
  for (const d of decisions) {
    const subject = d.actor !== null ? `actor:${d.actor}` : d.ip ? `ip:${d.ip.subnet}` : null;
    if (d.verdict === 'challenge') {
      if (subject !== null && !challenged.has(subject) && challenged.size < maxChallenged) challenged.set(subject, { passed: false });
    } else if (subject !== null && passedThrough(d)) {
      const record = challenged.get(subject);
      if (record && !record.passed) {
        record.passed = true;
        passed++;
      }
    }
  }
  return { subjects: challenged.size, passed, passRate: challenged.size === 0 ? null : passed / challenged.size, capped: challenged.size >= maxChallenged };
}

function report(decisions: LoggedDecision[], maxChallenged: number) {
  const builder = createReportBuilder({ maxChallenged });
  for (const d of decisions) builder.add(d);
  const built = builder.build();
  const { subjects, passed, passRate } = built.challenges;
  return { subjects, passed, passRate, capped: built.approximate.includes('challenges') };
}

/** Subjects hard to tell apart by their text: long ids that differ in one character, ids cut to the same kept text, an actor named like an IP. */
const subjectPool: Who[] = [
  { actor: 'u1' },
  { actor: '' },
  { actor: '192.0.2.7' },
  { ip: '192.0.2.7' },
  { ip: '2001:db8::7' },
  { actor: 'é🙂\u0000' },
  ...Array.from({ length: 6 }, (_, i) => ({ actor: `${'x'.repeat(MAX_LOG_TEXT - 1)}${i}` })),
  ...Array.from({ length: 3 }, (_, i) => ({ actor: `${i}${'y'.repeat(MAX_LOG_TEXT - 1)}` })),
  // Beyond MAX_LOG_TEXT the line keeps the same cut of both: one subject, as before.
  { actor: `${'z'.repeat(MAX_LOG_TEXT)}a` },
  { actor: `${'z'.repeat(MAX_LOG_TEXT)}b` },
];

describe('challenged subjects kept as hashes', () => {
  it('count subjects and passes as the Map of subject strings did, for long and look-alike ids, at and below the cap', () => {
    const event = fc.record({ who: fc.integer({ min: 0, max: subjectPool.length - 1 }), kind: fc.constantFrom('challenge', 'passed', 'passed', 'monitored', 'allow') as fc.Arbitrary<'challenge' | 'passed' | 'monitored' | 'allow'> });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 120 }), fc.integer({ min: 1, max: subjectPool.length + 2 }), (events, maxChallenged) => {
        const decisions = events.map((e, i) => read(line(T + i * 1000, subjectPool[e.who]!, e.kind)));
        expect(report(decisions, maxChallenged)).toEqual(reference(decisions, maxChallenged));
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same pass rate as the Map did on a generated log of 60,000 decisions from 20,000 subjects, over the cap and under it', () => {
    let seed = 1;
    const random = () => {
      // mulberry32: a fixed log, the same on every run.
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    const decisions: LoggedDecision[] = [];
    for (let i = 0; i < 60_000; i++) {
      const n = Math.floor(random() * 20_000);
      const who: Who = n % 5 === 0 ? { ip: `10.0.${n >> 8}.${n & 255}` } : { actor: n % 2 === 0 ? `user-${n}`.padEnd(900 + (n % 300), '.') : `u${n}` };
      decisions.push(read(line(T + i * 1000, who, random() < 0.55 ? 'challenge' : 'passed')));
    }
    for (const max of [100_000, 5_000]) {
      const expected = reference(decisions, max);
      expect(expected.passed).toBeGreaterThan(1_000); // the log exercises passes, not just challenges
      expect(report(decisions, max)).toEqual(expected);
    }
  });

  it('counts a pass once per challenged subject, however long its id, and none for a subject never challenged', () => {
    const long = (last: string) => `${'a'.repeat(MAX_LOG_TEXT - 1)}${last}`;
    const builder = createReportBuilder();
    for (const [i, [who, kind]] of ([
      [{ actor: long('1') }, 'challenge'],
      [{ actor: long('2') }, 'challenge'],
      [{ actor: long('3') }, 'challenge'],
      [{ actor: long('1') }, 'passed'],
      [{ actor: long('1') }, 'passed'], // back again: still one pass
      [{ actor: long('4') }, 'passed'], // never challenged
      [{ actor: long('2') }, 'monitored'], // held back by monitoring: no pass
      [{ actor: long('3') }, 'allow'], // allowed without a challenge reason: no pass
      [{ ip: '192.0.2.9' }, 'challenge'],
      [{ actor: '192.0.2.9' }, 'passed'], // an actor named like the challenged IP is another subject
      [{ ip: '192.0.2.9' }, 'passed'],
    ] as const).entries()) builder.add(read(line(T + i * 1000, who, kind)));
    expect(builder.build().challenges).toMatchObject({ issued: 4, subjects: 4, passed: 2, passRate: 0.5 });
  });

  it('stops tracking new subjects at maxChallenged, and then counts no pass of an untracked one', () => {
    const builder = createReportBuilder({ maxChallenged: 2 });
    for (const [i, [actor, kind]] of ([['a', 'challenge'], ['b', 'challenge'], ['a', 'challenge'], ['c', 'challenge'], ['c', 'passed'], ['b', 'passed']] as const).entries()) {
      builder.add(read(line(T + i, { actor: actor.repeat(MAX_LOG_TEXT) }, kind)));
    }
    const report = builder.build();
    expect(report.challenges).toMatchObject({ issued: 4, subjects: 2, passed: 1, passRate: 0.5 });
    expect(report.approximate).toContain('challenges');
  });

  it('holds 20,000 challenged kilobyte ids in well under a megabyte (hash tables), not the ~20 MB of the ids', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // The hash tables are typed arrays, whose contents V8 counts outside the heap.
    const used = () => {
      const { heapUsed, arrayBuffers } = process.memoryUsage();
      return heapUsed + arrayBuffers;
    };
    const builder = createReportBuilder();
    gc();
    const before = used();
    for (let i = 0; i < 20_000; i++) builder.add(read(line(T + i, { actor: `actor ${i} `.padEnd(MAX_LOG_TEXT, 'x') }, 'challenge')));
    gc();
    const grown = used() - before;
    expect(builder.build().challenges).toMatchObject({ issued: 20_000, subjects: 20_000 });
    // 8 bytes a slot, 65,536 slots for 20,000 subjects: 512 KB, and the pass set's 8 KB.
    expect(grown).toBeLessThan(5e6);
  });
});
