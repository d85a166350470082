import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createGuard, type Decision } from '@actiongate/core';
import { createReportBuilder, passedThrough, reasonKey, ruleBanUntil } from '../../src/cli/aggregate.js';
import { MAX_LOG_TEXT, readLoggedDecision } from '../../src/cli/log-line.js';
import { renderHtmlReport } from '../../src/cli/render-html.js';
import { renderDecisionReport } from '../../src/cli/render-text.js';

// The report's readings of decisions, checked against decisions the real guard makes.

const T = Date.UTC(2026, 0, 5, 8);

describe('decision report', () => {
  it('counts a rule ban (no ban reason in the decision that imposes it) once per subject, and its extensions not at all', async () => {
    let now = T;
    const guard = createGuard({
      policy: {
        name: 'rule-ban',
        rules: [{ name: 'ban-bad', conditions: { all: [{ fact: 'attributes', path: '$.bad', operator: 'equal', value: true }] }, event: { type: 'block', params: { reason: 'bad', ban: '1h' } } }],
      },
      now: () => now,
    });
    const builder = createReportBuilder();
    const decisions: Decision[] = [];
    for (const minutes of [0, 10, 20, 90]) {
      now = T + minutes * 60_000;
      const d = await guard.evaluate({ action: 'a', ip: '192.0.2.5', actor: { id: 'x' }, attributes: { bad: true } });
      decisions.push(d);
      builder.add(d);
    }
    expect(ruleBanUntil(decisions[0]!)).toBe(T + 3_600_000);
    const report = builder.build();
    // Minute 0 bans ip and actor; 10 and 20 extend the running bans; 90 starts new ones (the last ended at 80).
    expect(report.bans).toEqual({ started: 4, permanent: 0 });
    expect(report.blocked.ips[0]).toMatchObject({ key: '192.0.2.5', count: 4, bans: 2, banUntil: T + 150 * 60_000 });
    expect(report.blocked.actors[0]).toMatchObject({ key: 'x', bans: 2 });
    await guard.close();
  });

  it('splits the decisions by policy when the log spans a policy change, and says every count mixes them', async () => {
    let now = T;
    const limits = [{ id: 'burst', by: 'ip' as const, window: '1h', max: 2 }];
    const guard = createGuard({ policy: { name: 'shop', version: '1', limits }, now: () => now });
    const builder = createReportBuilder();
    for (let i = 0; i < 3; i++, now += 60_000) builder.add(await guard.evaluate({ action: 'a', ip: '192.0.2.5' }));
    guard.setPolicy({ name: 'shop', version: '2', limits: [{ ...limits[0]!, max: 10 }] });
    for (let i = 0; i < 2; i++, now += 60_000) builder.add(await guard.evaluate({ action: 'a', ip: '192.0.2.5' }));
    const report = builder.build();
    expect(report.policies).toEqual([
      { key: 'shop@1', count: 3, error: 0, from: T, to: T + 120_000, byVerdict: { allow: 2, challenge: 0, throttle: 1, block: 0 } },
      { key: 'shop@2', count: 2, error: 0, from: T + 180_000, to: T + 240_000, byVerdict: { allow: 2, challenge: 0, throttle: 0, block: 0 } },
    ]);
    const text = renderDecisionReport(report);
    expect(text).toContain('  by policy (every count below mixes them):');
    expect(text).toMatch(/^ {4}shop@1 +3 {2}2026-01-05 08:00 to 2026-01-05 08:02 {2}allow 2, throttle 1$/m);
    expect(renderHtmlReport(report, { source: 'log', generatedAt: T })).toContain('<h2>Policies <span class="note">(every count on this page mixes them)</span></h2>');
    // A log line without a policy (hand-made, or an older log) counts under "(unknown)".
    const line = readLoggedDecision({ at: T, verdict: 'allow', reasons: [], limits: [], ip: null, actor: null });
    expect(typeof line === 'object' && line.policy).toBe(undefined);
    const single = createReportBuilder();
    single.add(line as Exclude<typeof line, string>);
    expect(single.build().policies).toEqual([{ key: '(unknown)', count: 1, error: 0, from: T, to: T, byVerdict: { allow: 1, challenge: 0, throttle: 0, block: 0 } }]);
    // One policy: nothing said about policies.
    expect(renderDecisionReport(single.build())).not.toContain('by policy');
    await guard.close();
  });

  it('infers a passed challenge from a later decision of the same subject let through by it', async () => {
    let now = T;
    const guard = createGuard({
      policy: { name: 'pass', rules: [{ name: 'ask', conditions: { all: [{ fact: 'action', operator: 'equal', value: 'post' }] }, event: { type: 'challenge' } }] },
      now: () => now,
    });
    const builder = createReportBuilder();
    const first = await guard.evaluate({ action: 'post', actor: { id: 'p1' } });
    expect(first.verdict).toBe('challenge');
    builder.add(first);
    builder.add(await guard.evaluate({ action: 'post', actor: { id: 'p2' } }));
    expect(await guard.passChallenge(first.challenge!.token)).toBe(true);
    now += 60_000;
    const after = await guard.evaluate({ action: 'post', actor: { id: 'p1' } });
    expect(after.verdict).toBe('allow');
    expect(passedThrough(after)).toBe(true);
    builder.add(after);
    expect(builder.build().challenges).toMatchObject({ issued: 2, subjects: 2, passed: 1, passRate: 0.5 });
    await guard.close();
  });

  it('groups ban reasons by subject kind, not by subject', () => {
    expect(reasonKey({ source: 'ban', id: 'ip:203.0.113.7' })).toBe('ban:ip');
    expect(reasonKey({ source: 'ban', id: 'cidr:10.0.0.0/8' })).toBe('ban:cidr');
    expect(reasonKey({ source: 'rule', id: 'r:1' })).toBe('rule:r:1');
  });
});

describe('decision-log lines', () => {
  it('reads what the NDJSON sink writes, and refuses what is not a decision with a reason', async () => {
    const guard = createGuard({ policy: { name: 'log', limits: [{ id: 'one', by: 'ip', window: '1m', max: 1 }] } });
    await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    const d = await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    const read = readLoggedDecision(JSON.parse(JSON.stringify(d)));
    expect(read).toMatchObject({ at: d.at, verdict: 'throttle', ip: d.ip, actor: null, limits: [{ id: 'one', exceeded: true }] });
    await guard.close();

    expect(readLoggedDecision(null)).toBe('not a decision object');
    expect(readLoggedDecision({ at: 'yesterday', verdict: 'allow' })).toBe('"at" is not a time in epoch milliseconds');
    expect(readLoggedDecision({ at: 1, verdict: 'maybe' })).toBe('"verdict" is not allow, challenge, throttle or block');
    expect(readLoggedDecision({ at: 1, verdict: 'allow', reasons: [{ id: 'x' }] })).toBe('reasons[0] lacks a source, id or verdict');
    expect(readLoggedDecision({ at: 1, verdict: 'allow', ip: '1.2.3.4' })).toBe('"ip" is not { address, version, subnet }');
    // The report groups by address and subnet: text that is neither is no client to group.
    const ipLine = (address: string, version: number, subnet: string) => readLoggedDecision({ at: 1, verdict: 'allow', ip: { address, version, subnet } });
    expect(ipLine('x', 4, 'x')).toBe('"ip.address" is not an IPv4 address');
    expect(ipLine('1'.repeat(200_000), 4, '1.2.3.4')).toBe('"ip.address" is not an IPv4 address');
    expect(ipLine('2001:db8::1', 4, '2001:db8::/64')).toBe('"ip.address" is not an IPv4 address');
    expect(ipLine('2001:db8::1', 6, '10.0.0.0/8')).toBe('"ip.subnet" is not an IPv6 address or network');
    expect(ipLine('2001:db8::1', 6, '<script>')).toBe('"ip.subnet" is not an IPv6 address or network');
    expect(ipLine('2001:db8::1', 6, '2001:db8::/64')).toMatchObject({ ip: { address: '2001:db8::1', version: 6, subnet: '2001:db8::/64' } });
    expect(ipLine('192.0.2.7', 4, '192.0.2.7')).toMatchObject({ ip: { address: '192.0.2.7', version: 4, subnet: '192.0.2.7' } });
    // An inherited property is not a field of the line.
    expect(readLoggedDecision(Object.assign(Object.create({ verdict: 'allow' }), { at: 1 }))).toBe('"verdict" is not allow, challenge, throttle or block');
  });

  it('keeps at most MAX_LOG_TEXT characters of each text the report holds on to, so megabyte ids cannot make its thousands of keys cost gigabytes', () => {
    const huge = (c: string) => c.repeat(200_000);
    const builder = createReportBuilder();
    for (const c of 'abcdefghij') {
      const line = {
        at: T,
        verdict: 'block',
        action: huge(c),
        reasons: [{ source: 'rule', id: huge(c), message: '', verdict: 'block' }],
        limits: [{ id: huge(c), key: huge(c), count: 2, max: 1, exceeded: true }],
        ip: { address: '192.0.2.1', version: 4, subnet: '192.0.2.1' },
        actor: huge(c),
      };
      for (const value of [line, { ...line, verdict: 'challenge', challenge: { kind: huge(c), token: 't' } }]) {
        const read = readLoggedDecision(value);
        if (typeof read === 'string') throw new Error(read);
        builder.add(read);
      }
    }
    const report = builder.build();
    const kept = [
      ...report.reasons,
      ...report.blocked.ips,
      ...report.blocked.subnets,
      ...report.blocked.actors,
      ...report.limits.violations,
      ...report.limits.keys.flatMap((k) => [{ key: k.limit }, { key: k.subject }]),
      ...report.challenges.byKind,
    ].map((row) => row.key);
    expect(kept.length).toBeGreaterThan(50);
    for (const key of kept) expect(key.length, key.slice(0, 30)).toBeLessThanOrEqual(MAX_LOG_TEXT + 40);
    expect(report.blocked.actors.map((r) => r.key)).toContain(`${'a'.repeat(MAX_LOG_TEXT)}…(+${200_000 - MAX_LOG_TEXT} chars)`);
    // A short id is kept whole.
    expect(readLoggedDecision({ at: T, verdict: 'allow', actor: 'u1' })).toMatchObject({ actor: 'u1' });
  });

  it('keeps a copy of the cut, not the whole megabyte id it was cut from', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const builder = createReportBuilder();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100; i++) {
      // Parsed, as a log line is: each id is a string of its own, as in a real read.
      const line = JSON.parse(JSON.stringify({ at: T + i, verdict: i % 2 ? 'block' : 'challenge', reasons: [], limits: [], ip: null, actor: `actor ${i} `.padEnd(1_000_000, 'x') }));
      const read = readLoggedDecision(line);
      if (typeof read === 'string') throw new Error(read);
      builder.add(read);
    }
    gc();
    // Cuts that were views into their ids kept all 100 MB alive (blocked actors; challenged
    // subjects did too, before they were kept as hashes); copies are about 200 KB.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(30e6);
    expect(builder.build().blocked.actors[0]!.key).toMatch(/^actor \d+ x+…\(\+998976 chars\)$/);
  });
});
