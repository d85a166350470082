import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@actiongate/memory';
import { createGuard, toHttpResponse, type Decision, type PolicyDocument, type Store } from '../../src/index.js';
import { boundedContent } from '../../src/guard.js';

const minute = 60_000;
const hour = 60 * minute;

function clock(start = Date.UTC(2026, 0, 1)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms), set: (ms: number) => (t = ms) };
}

const base: PolicyDocument = {
  name: 'test',
  version: '1',
  network: { trustedProxies: ['10.0.0.0/8'] },
  limits: [
    { id: 'burst', actions: ['ad.submit'], by: 'actor', window: '5m', max: { anonymous: 2, registered: 5, verified: 10 }, onExceed: 'throttle' },
    { id: 'daily', actions: ['ad.submit'], by: 'actor', window: '24h', max: { anonymous: 3, registered: 50, verified: 200 }, onExceed: 'block' },
  ],
  bans: { after: 100 },
};

const ad = (actor: string, status = 'anonymous', ip = '198.51.100.1') => ({ action: 'ad.submit', ip, actor: { id: actor, status } });

describe('evaluate: limits', () => {
  it('throttles past the short window with an exact retryAfterMs, then admits again', async () => {
    const c = clock();
    const guard = createGuard({ policy: base, now: c.now });
    const first = await guard.evaluate(ad('u1'));
    expect(first.verdict).toBe('allow');
    // With room, resetMs is when the oldest counted hit (this one) leaves: its 5 s slot, then 5 min.
    expect(first.limits.find((l) => l.id === 'burst')).toMatchObject({ exceeded: false, resetMs: 5 * minute + 5_000 });
    c.advance(10_000);
    expect((await guard.evaluate(ad('u1'))).verdict).toBe('allow');
    const third = await guard.evaluate(ad('u1'));
    expect(third.verdict).toBe('throttle');
    expect(third.reasons).toContainEqual(expect.objectContaining({ source: 'limit', id: 'burst', verdict: 'throttle' }));
    // The first hit's slot (5 s wide for a 5 min window) leaves 5 min after the slot ends.
    expect(third.retryAfterMs).toBe(5 * minute + 5_000 - 10_000);
    c.advance(third.retryAfterMs! - 1);
    expect((await guard.evaluate(ad('u1'))).verdict).toBe('throttle');
    c.advance(1);
    expect((await guard.evaluate(ad('u1'))).verdict).toBe('allow');
  });

  it('is all or nothing: a denied attempt consumes from no window', async () => {
    const c = clock();
    const guard = createGuard({ policy: base, now: c.now });
    await guard.evaluate(ad('u2'));
    await guard.evaluate(ad('u2'));
    for (let i = 0; i < 20; i++) expect((await guard.evaluate(ad('u2'))).verdict).toBe('throttle');
    c.advance(6 * minute);
    // 20 throttled attempts ate nothing from the 24h window (max 3 for anonymous): one more fits.
    const next = await guard.evaluate(ad('u2'));
    expect(next.verdict).toBe('allow');
    expect(next.limits.find((l) => l.id === 'daily')).toMatchObject({ count: 3, max: 3, remaining: 0 });
    c.advance(6 * minute);
    const over = await guard.evaluate(ad('u2'));
    expect(over.verdict).toBe('block');
    expect(over.reasons.find((r) => r.id === 'daily')!.verdict).toBe('block');
  });

  it('tiers capacity by account status', async () => {
    const guard = createGuard({ policy: base, now: clock().now });
    const counts: Record<string, number> = {};
    for (const status of ['anonymous', 'registered', 'verified', 'invented']) {
      let allowed = 0;
      for (let i = 0; i < 12; i++) if ((await guard.evaluate(ad(`t-${status}`, status))).verdict === 'allow') allowed++;
      counts[status] = allowed;
    }
    expect(counts).toEqual({ anonymous: 2, registered: 5, verified: 10, invented: 2 });
  });

  it('counts an action without an actor as anonymous; a status change mid-window keeps the count and moves the capacity', async () => {
    const policy: PolicyDocument = { name: 'tiers', limits: [{ id: 'ip', by: 'ip', window: '1h', max: { anonymous: 1, verified: 3 } }], bans: { after: 100 } };
    const guard = createGuard({ policy, now: clock().now });
    const ip = '192.0.2.30';
    expect((await guard.evaluate({ action: 'a', ip })).verdict).toBe('allow');
    expect((await guard.evaluate({ action: 'a', ip })).verdict).toBe('throttle');
    // The same address verifies: its one hit still counts, against 3 now.
    const verified = { action: 'a', ip, actor: { id: 'v', status: 'verified' } };
    expect((await guard.evaluate(verified)).limits[0]).toMatchObject({ count: 2, max: 3, remaining: 1 });
    expect((await guard.evaluate(verified)).limits[0]).toMatchObject({ count: 3, max: 3, remaining: 0 });
    expect((await guard.evaluate(verified)).verdict).toBe('throttle');
    // And back to anonymous: over its capacity, refused, and told when the window has room for it.
    const back = await guard.evaluate({ action: 'a', ip });
    expect(back).toMatchObject({ verdict: 'throttle' });
    expect(back.limits[0]).toMatchObject({ count: 3, max: 1, remaining: 0 });
  });

  it('is all or nothing whatever refuses: a list, a ban, a rule or the score consumes from no window', async () => {
    const c = clock();
    const guard = createGuard({
      policy: {
        name: 'refusals',
        lists: { bad: { cidrs: ['203.0.113.0/24'], verdict: 'block' } },
        limits: [{ id: 'ip', by: 'ip', window: '1h', max: 10 }, { id: 'actor', by: 'actor', window: '1h', max: 10 }],
        content: { terms: { casino: 100 } },
        scoring: { block: 100 },
        rules: [{ name: 'no', conditions: { all: [{ fact: 'attributes', path: '$.no', operator: 'equal', value: true }] }, event: { type: 'throttle' } }],
        bans: { after: 100 },
      },
      now: c.now,
    });
    await guard.block('actor:banned');
    const refused = [
      { action: 'a', ip: '203.0.113.5', actor: { id: 'listed' } },
      { action: 'a', ip: '192.0.2.31', actor: { id: 'banned' } },
      { action: 'a', ip: '192.0.2.32', actor: { id: 'ruled' }, attributes: { no: true } },
      { action: 'a', ip: '192.0.2.33', actor: { id: 'scored' }, content: { body: 'casino' } },
    ];
    for (const action of refused) {
      expect((await guard.evaluate(action)).verdict).not.toBe('allow');
      const [ipCount, actorCount] = await Promise.all([guard.inspect(`ip:${action.ip}`), guard.inspect(`actor:${action.actor.id}`)]);
      expect([ipCount.counters[0]!.count, actorCount.counters[0]!.count], action.actor.id).toEqual([0, 0]);
    }
  });

  it('charges a limit its cost per action', async () => {
    const guard = createGuard({ policy: { name: 'cost', limits: [{ id: 'units', by: 'ip', window: '1h', max: 10, cost: 4 }] }, now: clock().now });
    const verdicts = [];
    for (let i = 0; i < 3; i++) verdicts.push((await guard.evaluate({ action: 'x', ip: '192.0.2.1' })).verdict);
    expect(verdicts).toEqual(['allow', 'allow', 'throttle']);
  });

  it('keeps per-IP limits and per-actor limits in separate windows (multi-window per action)', async () => {
    const c = clock();
    const guard = createGuard({
      policy: { name: 'multi', limits: [{ id: 'minute', by: 'ip', window: '1m', max: 3 }, { id: 'hour', by: 'ip', window: '1h', max: 5 }] },
      now: c.now,
    });
    const run = async (n: number) => {
      const out = [];
      for (let i = 0; i < n; i++) out.push((await guard.evaluate({ action: 'a', ip: '192.0.2.7' })).verdict);
      return out;
    };
    expect(await run(4)).toEqual(['allow', 'allow', 'allow', 'throttle']);
    c.advance(2 * minute);
    const second = await guard.evaluate({ action: 'a', ip: '192.0.2.7' });
    expect(second.verdict).toBe('allow');
    expect(await run(2)).toEqual(['allow', 'throttle']);
    const blocked = await guard.evaluate({ action: 'a', ip: '192.0.2.7' });
    expect(blocked.reasons.map((r) => r.id)).toContain('hour');
  });
});

describe('evaluate: retryAfterMs', () => {
  it('waits for the latest refusal to lift: a throttle limit resetting after the block limit that won', async () => {
    const c = clock();
    const policy: PolicyDocument = {
      name: 'two-refusals',
      limits: [
        { id: 'burst', by: 'ip', window: '10m', max: 1, onExceed: 'throttle' },
        { id: 'hourly', by: 'actor', window: '1h', max: 1, onExceed: 'block' },
      ],
      bans: { after: 100 },
    };
    const guard = createGuard({ policy, now: c.now });
    await guard.evaluate({ action: 'a', ip: '192.0.2.1', actor: { id: 'u' } });
    c.advance(58 * minute);
    await guard.evaluate({ action: 'a', ip: '192.0.2.2', actor: { id: 'v' } });
    // u's hourly window frees in ~3 minutes, 192.0.2.2's burst window in ~10.
    const refused = await guard.evaluate({ action: 'a', ip: '192.0.2.2', actor: { id: 'u' } });
    expect(refused.verdict).toBe('block');
    const burst = refused.reasons.find((r) => r.id === 'burst')!;
    expect(refused.retryAfterMs).toBe(burst.retryAfterMs);
    expect(refused.retryAfterMs).toBeGreaterThan(refused.reasons.find((r) => r.id === 'hourly')!.retryAfterMs!);
    c.advance(refused.retryAfterMs!);
    expect((await guard.evaluate({ action: 'a', ip: '192.0.2.2', actor: { id: 'u' } })).verdict).toBe('allow');
  });

  it('outlasts a short ban when a limit stays exceeded longer; banUntil stays the ban end', async () => {
    const c = clock();
    const guard = createGuard({ policy: { name: 'short-ban', limits: [{ id: 'hourly', by: 'ip', window: '1h', max: 1 }], bans: { after: 2, within: '1h', ladder: ['1m', '1h', 'permanent'] } }, now: c.now });
    const act = { action: 'a', ip: '192.0.2.3' };
    await guard.evaluate(act);
    expect((await guard.evaluate(act)).verdict).toBe('throttle');
    const banned = await guard.evaluate(act);
    expect(banned).toMatchObject({ verdict: 'block', banUntil: c.now() + minute, banRung: 1 });
    expect(banned.retryAfterMs).toBeGreaterThan(59 * minute);
    c.advance(banned.retryAfterMs!);
    expect((await guard.evaluate(act)).verdict).toBe('allow');
  });

  it('gives none when the cost can never fit (a tier of 0), so a client is not told to come back', async () => {
    const c = clock();
    const guard = createGuard({ policy: { name: 'members-only', limits: [{ id: 'posts', by: 'ip', window: '5m', max: { anonymous: 0, registered: 5 } }], bans: { after: 100 } }, now: c.now });
    const anonymous = await guard.evaluate({ action: 'a', ip: '192.0.2.5' });
    expect(anonymous.verdict).toBe('throttle');
    expect(anonymous.retryAfterMs).toBeNull();
    expect(toHttpResponse(anonymous).headers).not.toHaveProperty('Retry-After');
    c.advance(10 * minute);
    expect((await guard.evaluate({ action: 'a', ip: '192.0.2.5' })).verdict).toBe('throttle');
    expect((await guard.evaluate({ action: 'a', ip: '192.0.2.5', actor: { id: 'm', status: 'registered' } })).verdict).toBe('allow');
  });

  it('gives none when a refusing limit can never fit, even beside one that lifts', async () => {
    // Waiting for the burst window to free does not help while the tier-0 limit refuses too.
    const c = clock();
    const guard = createGuard({
      policy: {
        name: 'members-and-burst',
        limits: [
          { id: 'members', by: 'ip', window: '5m', max: { anonymous: 0, registered: 5 } },
          { id: 'burst', by: 'actor', window: '1m', max: 1 },
        ],
        bans: { after: 100 },
      },
      now: c.now,
    });
    await guard.evaluate({ action: 'a', ip: '192.0.2.6', actor: { id: 'x', status: 'registered' } });
    const refused = await guard.evaluate({ action: 'a', ip: '192.0.2.7', actor: { id: 'x' } });
    expect(refused.verdict).toBe('throttle');
    expect(refused.reasons.map((r) => r.id)).toEqual(['members', 'burst']);
    expect(refused.retryAfterMs).toBeNull();
  });

  it('gives none for a block that has no end, whatever else would lift', async () => {
    const guard = createGuard({
      policy: {
        name: 'untimed',
        lists: { bad: { cidrs: ['192.0.2.0/24'], verdict: 'block' } },
        limits: [{ id: 'hourly', by: 'ip', window: '1h', max: 0, onExceed: 'block' }],
      },
      now: clock().now,
    });
    const d = await guard.evaluate({ action: 'a', ip: '192.0.2.4' });
    expect(d.verdict).toBe('block');
    expect(d.reasons.map((r) => r.id)).toEqual(expect.arrayContaining(['bad', 'hourly']));
    expect(d.retryAfterMs).toBeNull();
  });
});

describe('evaluate: tightened limits', () => {
  const tightening = (limits: PolicyDocument['limits']): PolicyDocument => ({
    name: 'tight',
    limits,
    bans: { after: 100 },
    rules: [{ name: 'shady', conditions: { all: [{ fact: 'attributes', path: '$.shady', operator: 'equal', value: true }] }, event: { type: 'tighten', params: { factor: 0.5, for: '5h' } } }],
  });
  const ip = '192.0.2.77';

  it('gives a retryAfterMs after which the tightened capacity has room, not only the policy one', async () => {
    const c = clock();
    const guard = createGuard({ policy: tightening([{ id: 'posts', by: 'ip', window: '1h', max: 4 }]), now: c.now });
    // Three posts 10 minutes apart, the third tightening 4/h to 2/h.
    for (let i = 0; i < 3; i++) {
      c.advance(10 * minute);
      expect((await guard.evaluate({ action: 'a', ip, attributes: { shady: i === 2 } })).verdict).toBe('allow');
    }
    c.advance(10 * minute);
    const denied = await guard.evaluate({ action: 'a', ip });
    expect(denied.verdict).toBe('throttle');
    expect(denied.limits[0]).toMatchObject({ count: 3, max: 2, exceeded: true });
    // The first post leaving (what the policy's 4/h needs) leaves two: still no room under 2/h.
    expect(denied.retryAfterMs).toBeGreaterThan(30 * minute);
    expect(denied.retryAfterMs).toBeLessThanOrEqual(hour + minute);
    c.advance(denied.retryAfterMs!);
    expect((await guard.evaluate({ action: 'a', ip })).verdict).toBe('allow');
  });

  it('compounds repeated tightening and keeps the later end, never shortening it', async () => {
    const c = clock();
    const policy: PolicyDocument = {
      name: 'compound',
      limits: [{ id: 'posts', by: 'ip', window: '1h', max: 8 }],
      rules: [
        { name: 'long', conditions: { all: [{ fact: 'attributes', path: '$.long', operator: 'equal', value: true }] }, event: { type: 'tighten', params: { factor: 0.5, for: '2h' } } },
        { name: 'short', conditions: { all: [{ fact: 'attributes', path: '$.short', operator: 'equal', value: true }] }, event: { type: 'tighten', params: { factor: 0.5, for: '30m' } } },
      ],
    };
    const guard = createGuard({ policy, now: c.now });
    const start = c.now();
    await guard.evaluate({ action: 'a', ip, attributes: { long: true } });
    c.advance(hour);
    await guard.evaluate({ action: 'a', ip, attributes: { short: true } });
    expect((await guard.inspect(`ip:${ip}`)).tighten).toEqual({ factor: 0.25, until: start + 2 * hour });
    expect((await guard.evaluate({ action: 'a', ip })).limits[0]).toMatchObject({ max: 2 });
    c.advance(hour);
    expect((await guard.inspect(`ip:${ip}`)).tighten).toBeNull();
    expect((await guard.evaluate({ action: 'a', ip })).limits[0]).toMatchObject({ max: 8 });
  });

  it('judges a tightened limit whose take fitted in a batch another limit denied, counting it once', async () => {
    const c = clock();
    const guard = createGuard({
      policy: tightening([
        { id: 'hourly', by: 'ip', window: '1h', max: 4 },
        { id: 'burst', by: 'ip', window: '1m', max: 1 },
      ]),
      now: c.now,
    });
    expect((await guard.evaluate({ action: 'a', ip, attributes: { shady: true } })).verdict).toBe('allow');
    c.advance(10 * minute);
    expect((await guard.evaluate({ action: 'a', ip })).verdict).toBe('allow'); // hourly 2 of 2 (tightened)
    c.advance(1_000);
    const denied = await guard.evaluate({ action: 'a', ip });
    expect(denied.verdict).toBe('throttle');
    // burst denied the batch; hourly fitted the store's 4 but not the tightened 2.
    expect(denied.limits.find((l) => l.id === 'hourly')).toMatchObject({ count: 2, max: 2, remaining: 0, exceeded: true });
    expect(denied.reasons.map((r) => r.id)).toEqual(expect.arrayContaining(['hourly', 'burst']));
    c.advance(denied.retryAfterMs!);
    expect((await guard.evaluate({ action: 'a', ip })).verdict).toBe('allow');
  });
});

describe('evaluate: network', () => {
  const policy: PolicyDocument = { name: 'net', network: { trustedProxies: ['10.0.0.0/8'] }, limits: [{ id: 'ip', by: 'ip', window: '1h', max: 2 }] };

  it('groups an IPv6 /64 into one subject', async () => {
    const guard = createGuard({ policy, now: clock().now });
    const verdicts = [];
    for (const host of ['::1', '::2', ':abcd:1234:5678:9abc', '::ffff']) {
      verdicts.push((await guard.evaluate({ action: 'a', ip: `2001:db8:1:2${host}` })).verdict);
    }
    expect(verdicts).toEqual(['allow', 'allow', 'throttle', 'throttle']);
    expect((await guard.evaluate({ action: 'a', ip: '2001:db8:1:3::1' })).verdict).toBe('allow');
  });

  it('keeps an IPv4-mapped IPv6 address in its IPv4 bucket, not a shared one', async () => {
    const guard = createGuard({ policy, now: clock().now });
    const a = await guard.evaluate({ action: 'a', ip: '::ffff:192.0.2.1' });
    expect(a.ip).toEqual({ address: '192.0.2.1', version: 4, subnet: '192.0.2.1' });
    await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    expect((await guard.evaluate({ action: 'a', ip: '::FFFF:c000:0201' })).verdict).toBe('throttle');
    expect((await guard.evaluate({ action: 'a', ip: '::ffff:192.0.2.2' })).verdict).toBe('allow');
  });

  it('ignores X-Forwarded-For from an untrusted peer and believes a trusted proxy', async () => {
    const guard = createGuard({ policy, now: clock().now });
    const spoofed = await guard.evaluate({ action: 'a', request: { remoteAddress: '198.51.100.9', headers: { 'x-forwarded-for': '1.2.3.4' } } });
    expect(spoofed.ip!.address).toBe('198.51.100.9');
    const proxied = await guard.evaluate({ action: 'a', request: { remoteAddress: '10.1.2.3', headers: { 'X-Forwarded-For': '6.6.6.6, 198.51.100.20, 10.0.0.1' } } });
    expect(proxied.ip!.address).toBe('198.51.100.20');
  });
});

describe('evaluate: lists', () => {
  const policy: PolicyDocument = {
    name: 'lists',
    lists: {
      spam: { cidrs: ['203.0.113.0/24', '2001:db8:bad::/48'], verdict: 'block', reason: 'spam range' },
      staff: { cidrs: ['203.0.113.10'], verdict: 'allow' },
      risky: { cidrs: ['198.51.100.0/24'], score: 50 },
    },
    limits: [{ id: 'ip', by: 'ip', window: '1h', max: 1 }],
    scoring: { challenge: 40, block: 80 },
  };

  it('blocks a listed address with the list as reason', async () => {
    const guard = createGuard({ policy, now: clock().now });
    const d = await guard.evaluate({ action: 'a', ip: '2001:db8:bad:1::5' });
    expect(d.verdict).toBe('block');
    expect(d.reasons).toContainEqual(expect.objectContaining({ source: 'list', id: 'spam', message: 'spam range' }));
  });

  it('lets an allowlist beat every blocklist, limit and score', async () => {
    const guard = createGuard({ policy, now: clock().now });
    for (let i = 0; i < 5; i++) {
      const d = await guard.evaluate({ action: 'a', ip: '203.0.113.10' });
      expect(d.verdict).toBe('allow');
      expect(d.reasons).toEqual([expect.objectContaining({ source: 'list', id: 'staff', verdict: 'allow' })]);
    }
  });

  it('adds a list score and challenges at the threshold', async () => {
    const guard = createGuard({ policy, now: clock().now });
    const d = await guard.evaluate({ action: 'a', ip: '198.51.100.3' });
    expect(d.score).toBe(50);
    expect(d.verdict).toBe('challenge');
    expect(d.challenge).toEqual({ kind: 'captcha', token: expect.stringMatching(/^[A-Za-z0-9_-]{24}$/) });
  });
});

describe('evaluate: rules and modes', () => {
  const policy: PolicyDocument = {
    name: 'rules',
    content: { terms: { casino: 30 } },
    scoring: { challenge: 40, block: 80 },
    rules: [
      { name: 'tor', conditions: { all: [{ fact: 'attributes', path: '$.tor', operator: 'equal', value: true }] }, event: { type: 'score', params: { add: 20 } } },
      { name: 'bad-country', conditions: { all: [{ fact: 'attributes', path: '$.country', operator: 'in', value: ['XX'] }] }, event: { type: 'block', params: { reason: 'embargoed' } } },
      { name: 'watch', mode: 'monitor', conditions: { all: [{ fact: 'score', operator: 'greaterThan', value: 0 }] }, event: { type: 'throttle', params: { reason: 'watching' } } },
    ],
  };

  it('adds rule scores to content scores against the thresholds', async () => {
    const guard = createGuard({ policy, now: clock().now });
    const d = await guard.evaluate({ action: 'a', ip: '192.0.2.1', content: { body: 'casino' }, attributes: { tor: true } });
    expect(d.score).toBe(50);
    expect(d.verdict).toBe('challenge');
    expect(d.wouldBe).toBe('throttle');
    expect(d.reasons.map((r) => `${r.source}:${r.id}`)).toEqual(expect.arrayContaining(['content:term:casino', 'rule:tor', 'rule:watch', 'score:score']));
  });

  it("a score challenge asks for scoring.challengeKind, a rule's own challenge kind wins", async () => {
    const scored: PolicyDocument = {
      ...policy,
      scoring: { challenge: 40, block: 80, challengeKind: 'email' },
      challenges: { kind: 'captcha' },
      rules: [...policy.rules!, { name: 'sms', conditions: { all: [{ fact: 'attributes', path: '$.phone', operator: 'equal', value: true }] }, event: { type: 'challenge', params: { challenge: 'sms' } } }],
    };
    const guard = createGuard({ policy: scored, now: clock().now });
    const byScore = await guard.evaluate({ action: 'a', ip: '192.0.2.1', content: { body: 'casino' }, attributes: { tor: true } });
    expect(byScore.challenge?.kind).toBe('email');
    const byRule = await guard.evaluate({ action: 'a', ip: '192.0.2.2', content: { body: 'casino' }, attributes: { tor: true, phone: true } });
    expect(byRule.challenge?.kind).toBe('sms');
    // Without challengeKind a score challenge asks for challenges.kind.
    const plain = createGuard({ policy: { ...scored, scoring: { challenge: 40, block: 80 }, challenges: { kind: 'totp' } }, now: clock().now });
    expect((await plain.evaluate({ action: 'a', ip: '192.0.2.3', content: { body: 'casino' }, attributes: { tor: true } })).challenge?.kind).toBe('totp');
  });

  it('blocks on a rule event with its reason', async () => {
    const guard = createGuard({ policy, now: clock().now });
    const d = await guard.evaluate({ action: 'a', ip: '192.0.2.1', attributes: { country: 'XX' } });
    expect(d.verdict).toBe('block');
    expect(d.reasons).toContainEqual(expect.objectContaining({ source: 'rule', id: 'bad-country', message: 'embargoed', verdict: 'block' }));
  });

  it('in monitor mode returns allow and reports wouldBe', async () => {
    const guard = createGuard({ policy: { ...policy, mode: 'monitor' }, now: clock().now });
    const d = await guard.evaluate({ action: 'a', ip: '192.0.2.1', attributes: { country: 'XX' } });
    expect(d.verdict).toBe('allow');
    expect(d.wouldBe).toBe('block');
  });

  it('rules see a limit whose id is an Object.prototype name (constructor, toString) as its own fact', async () => {
    for (const id of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      const guard = createGuard({
        policy: {
          name: 'proto-ids',
          limits: [{ id, by: 'ip', window: '1m', max: 0 }],
          rules: [{ name: 'spent', conditions: { all: [{ fact: 'limits', path: `$.${id}.exceeded`, operator: 'equal', value: true }] }, event: { type: 'block', params: { reason: `${id} spent` } } }],
        },
        now: clock().now,
      });
      const d = await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
      expect(d.verdict, id).toBe('block');
      expect(d.reasons.map((r) => `${r.source}:${r.id}`), id).toEqual(expect.arrayContaining([`limit:${id}`, 'rule:spent']));
    }
  });

  it('dryRun consumes nothing', async () => {
    const guard = createGuard({ policy: base, now: clock().now });
    for (let i = 0; i < 5; i++) {
      const d = await guard.evaluate(ad('dry'), { dryRun: true });
      expect(d.verdict).toBe('allow');
      expect(d.dryRun).toBe(true);
    }
    expect((await guard.evaluate(ad('dry'))).limits.find((l) => l.id === 'burst')!.count).toBe(1);
  });
});

describe('evaluate: decision log and failures', () => {
  it('calls onDecision for every decision and survives a throwing sink', async () => {
    const seen: Decision[] = [];
    const errors: unknown[] = [];
    const guard = createGuard({
      policy: base,
      now: clock().now,
      onDecision: (d) => {
        seen.push(d);
        throw new Error('sink down');
      },
      onError: (e) => errors.push(e),
    });
    const d = await guard.evaluate(ad('log'));
    expect(seen).toEqual([d]);
    expect(errors).toHaveLength(1);
    expect(JSON.parse(JSON.stringify(d))).toMatchObject({ id: d.id, policy: 'test@1', verdict: 'allow' });
  });

  const broken = (mode: 'reject' | 'hang'): Store => ({
    name: 'broken',
    apply: () => (mode === 'reject' ? Promise.reject(new Error('ECONNREFUSED')) : new Promise(() => {})),
    close: async () => {},
  });

  it.each([
    ['open', 'allow'],
    ['closed', 'block'],
  ] as const)('failMode %s decides when the store is down, marked degraded', async (failMode, verdict) => {
    const guard = createGuard({ policy: { ...base, failMode }, store: broken('reject'), now: clock().now });
    const d = await guard.evaluate(ad('f'));
    expect(d.verdict).toBe(verdict);
    expect(d.degraded).toBe(true);
    expect(d.reasons).toContainEqual(expect.objectContaining({ source: 'store', id: 'store-unavailable' }));
  });

  it('failMode memory: a challenge issued during an outage can be passed, during it and after the store is back', async () => {
    // Its token went to the local fallback: passChallenge threw while the store was down, and
    // answered false (a "forged" token) once it was back.
    let down = true;
    const real = new MemoryStore();
    const flaky: Store = { name: 'flaky', apply: (batch) => (down ? Promise.reject(new Error('ECONNREFUSED')) : real.apply(batch)), close: async () => {} };
    const policy: PolicyDocument = { name: 'captcha', content: { terms: { casino: 10 } }, scoring: { challenge: 10, block: 100 }, challenges: { remember: '30m' } };
    const guard = createGuard({ policy, store: flaky, now: clock().now });
    const ask = (ip: string) => guard.evaluate({ action: 'a', ip, content: { body: 'casino night' } });
    const during = await ask('192.0.2.60');
    const later = await ask('192.0.2.61');
    expect([during, later].map((d) => [d.verdict, d.degraded])).toEqual([['challenge', true], ['challenge', true]]);
    expect(await guard.passChallenge(during.challenge!.token)).toBe(true);
    expect(await ask('192.0.2.60')).toMatchObject({ verdict: 'allow', degraded: true });
    await expect(guard.passChallenge('never-issued')).rejects.toThrow(/ECONNREFUSED/);
    down = false;
    expect(await guard.passChallenge(later.challenge!.token)).toBe(true);
    expect(await guard.passChallenge(later.challenge!.token)).toBe(false);
    expect(await guard.passChallenge('never-issued')).toBe(false);
    await guard.close();
  });

  it('failMode memory falls back to a local store that still enforces limits, within the timeout', async () => {
    const guard = createGuard({ policy: base, store: broken('hang'), now: clock().now, storeTimeoutMs: 20 });
    const started = performance.now();
    const verdicts = [];
    for (let i = 0; i < 3; i++) verdicts.push(await guard.evaluate(ad('m')));
    expect(performance.now() - started).toBeLessThan(3 * 20 + 500);
    expect(verdicts.map((d) => d.verdict)).toEqual(['allow', 'allow', 'throttle']);
    expect(verdicts.every((d) => d.degraded)).toBe(true);
  });

  it('failMode memory: a refused attempt consumes nothing from the fallback either, so an outage does not eat a customer\'s daily limit', async () => {
    // The ip burst refuses; the actor's daily window, taken in the same round trip on another
    // subject, must be given back on the fallback store as it would be on the real one.
    const c = clock();
    const policy: PolicyDocument = {
      name: 'outage',
      limits: [
        { id: 'burst', by: 'ip', window: '1m', max: 1 },
        { id: 'daily', by: 'actor', window: '24h', max: 3 },
      ],
      bans: { after: 100 },
    };
    const guard = createGuard({ policy, store: broken('reject'), now: c.now });
    const act = (ip: string) => ({ action: 'a', ip, actor: { id: 'customer' } });
    expect((await guard.evaluate(act('192.0.2.1'))).verdict).toBe('allow');
    for (let i = 0; i < 4; i++) expect((await guard.evaluate(act('192.0.2.1'))).verdict).toBe('throttle');
    c.advance(2 * minute);
    const next = await guard.evaluate(act('192.0.2.2'));
    expect(next).toMatchObject({ verdict: 'allow', degraded: true });
    expect(next.limits.find((l) => l.id === 'daily')).toMatchObject({ count: 2, max: 3 });
    expect((await guard.evaluate(act('192.0.2.3'))).verdict).toBe('allow');
    await guard.close();
  });

  it('a tight loop of degraded decisions still lets the event loop run, so a store that comes back is used again', async () => {
    // A store that fails at once while down, and is brought back by a timer: the timer can only
    // fire if the decisions give the event loop a turn.
    let down = true;
    const inner = new MemoryStore();
    const flaky: Store = { name: 'flaky', apply: (batch) => (down ? Promise.reject(new Error('ECONNREFUSED')) : inner.apply(batch)), close: async () => {} };
    const guard = createGuard({ policy: base, store: flaky, now: clock().now });
    setTimeout(() => (down = false), 20);
    const started = Date.now();
    let degraded = 0;
    let recovered = false;
    while (Date.now() - started < 5_000) {
      if ((await guard.evaluate(ad('loop'))).degraded) degraded++;
      else {
        recovered = true;
        break;
      }
    }
    expect(degraded).toBeGreaterThan(0);
    expect(recovered).toBe(true);
    await guard.close();
  });

  it('rejects for a rule that throws at run time (POLICY_INVALID) and after close (GUARD_CLOSED), as getting-started says', async () => {
    // "in" against a list taken from a fact throws when the host leaves that fact out (a policy warning).
    const rule = { name: 'host-blocklist', conditions: { all: [{ fact: 'ip', path: '$.address', operator: 'in', value: { fact: 'attributes', path: '$.blocked' } }] }, event: { type: 'block' } };
    const guard = createGuard({ policy: { ...base, rules: [rule] } as PolicyDocument });
    await expect(guard.evaluate(ad('r1'))).rejects.toMatchObject({ code: 'POLICY_INVALID', message: expect.stringContaining('a rule failed at run time') });
    // The guard keeps deciding the actions the rule can read.
    expect((await guard.evaluate({ ...ad('r2'), attributes: { blocked: ['198.51.100.1'] } })).verdict).toBe('block');
    expect((await guard.evaluate({ ...ad('r3'), attributes: { blocked: [] } })).verdict).toBe('allow');
    await guard.close();
    await expect(guard.evaluate(ad('r4'))).rejects.toMatchObject({ code: 'GUARD_CLOSED' });
  });

  it('a clock that reads NaN, Infinity or beyond the Date range rejects with CLOCK_INVALID, never a decision that counts nothing', async () => {
    for (const reading of [NaN, Infinity, -Infinity, 1e300, '1700000000000' as unknown as number]) {
      const guard = createGuard({ policy: base, now: () => reading });
      await expect(guard.evaluate(ad('clock')), String(reading)).rejects.toMatchObject({ code: 'CLOCK_INVALID', message: expect.stringContaining('epoch milliseconds') });
      await expect(guard.block('ip:192.0.2.1')).rejects.toMatchObject({ code: 'CLOCK_INVALID' });
      await expect(guard.inspect('ip:192.0.2.1')).rejects.toMatchObject({ code: 'CLOCK_INVALID' });
    }
    // The edges of the Date range still count.
    for (const edge of [8.64e15 - 24 * hour, -8.64e15]) {
      const guard = createGuard({ policy: base, now: () => edge });
      const verdicts = [];
      for (let i = 0; i < 3; i++) verdicts.push((await guard.evaluate(ad('edge'))).verdict);
      expect(verdicts, String(edge)).toEqual(['allow', 'allow', 'throttle']);
    }
  });

  it('a rejecting close and late answers leave no unhandled rejection', async () => {
    const guard = createGuard({ policy: base, store: new MemoryStore(), now: clock().now });
    await guard.close();
    await expect(guard.evaluate(ad('x'))).rejects.toMatchObject({ code: 'GUARD_CLOSED' });
  });

  it('operator calls after close() reject GUARD_CLOSED as evaluate does, never reaching the closed store; close() waits for one under way', async () => {
    const calls: string[] = [];
    const inner = new MemoryStore();
    let release: (() => void) | undefined;
    const store: Store = {
      name: 'recording',
      apply: async (b) => {
        calls.push('apply');
        if (release === undefined && calls.length === 1) await new Promise<void>((r) => (release = r));
        return inner.apply(b);
      },
      scan: (name, o) => inner.scan!(name, o),
      close: async () => {
        calls.push('close');
      },
    };
    const guard = createGuard({ policy: base, store, now: clock().now });
    // A block under way at close() finishes before the store is closed.
    const blocking = guard.block('ip:192.0.2.9');
    await new Promise((r) => setTimeout(r, 1));
    const closing = guard.close();
    release!();
    await expect(blocking).resolves.toMatchObject({ subject: 'ip:192.0.2.9' });
    await closing;
    expect(calls.at(-1)).toBe('close');
    const before = calls.length;
    const refused: [string, () => Promise<unknown>][] = [
      ['block', () => guard.block('ip:192.0.2.1')],
      ['unblock', () => guard.unblock('ip:192.0.2.1')],
      ['allow', () => guard.allow('ip:192.0.2.1')],
      ['inspect', () => guard.inspect('ip:192.0.2.1')],
      ['listBlocks', () => guard.listBlocks()],
      ['passChallenge', () => guard.passChallenge('token')],
      ['feedback', () => guard.feedback(ad('x'), 'spam')],
    ];
    for (const [name, call] of refused) {
      await expect(call(), name).rejects.toMatchObject({ code: 'GUARD_CLOSED', message: `${name}() called after close()` });
    }
    expect(calls.length).toBe(before);
  });
});

describe('escalation', () => {
  it('bans a repeat offender for the first rung after `after` violations within the window', async () => {
    const c = clock();
    const guard = createGuard({
      policy: { name: 'esc', limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }], bans: { after: 3, within: '1h', ladder: ['24h', '7d', 'permanent'] } },
      now: c.now,
    });
    const ip = { action: 'a', ip: '192.0.2.50' };
    expect((await guard.evaluate(ip)).verdict).toBe('allow');
    const throttled = [];
    for (let i = 0; i < 3; i++) throttled.push(await guard.evaluate(ip));
    // The attempt that earns the ban is answered as the ban, with its rung.
    expect(throttled.map((d) => d.verdict)).toEqual(['throttle', 'throttle', 'block']);
    expect(throttled[2]).toMatchObject({ banUntil: c.now() + 24 * hour, banRung: 1, retryAfterMs: 24 * hour });
    expect(throttled[2]!.reasons).toContainEqual(expect.objectContaining({ source: 'ban', rung: 1, message: expect.stringMatching(/rung 1 of 3/) }));
    c.advance(2 * minute);
    const banned = await guard.evaluate(ip);
    expect(banned.verdict).toBe('block');
    expect(banned.reasons[0]).toMatchObject({ source: 'ban', id: 'ip:192.0.2.50' });
    expect(banned.retryAfterMs).toBe(24 * hour - 2 * minute);
  });

  it('counts strikes within `bans.within` only, and none while banned', async () => {
    const c = clock();
    const guard = createGuard({ policy: { name: 'within', limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }], bans: { after: 3, within: '1h', forget: '30d' } }, now: c.now });
    const act = { action: 'a', ip: '192.0.2.52' };
    await guard.evaluate(act);
    expect((await guard.evaluate(act)).verdict).toBe('throttle');
    expect((await guard.evaluate(act)).verdict).toBe('throttle');
    expect((await guard.inspect('ip:192.0.2.52')).strikes).toBe(2);
    // An hour and a slot later both strikes have left the window: the third is a first again.
    c.advance(hour + 2 * minute);
    await guard.evaluate(act);
    expect((await guard.evaluate(act)).verdict).toBe('throttle');
    expect((await guard.inspect('ip:192.0.2.52')).strikes).toBe(1);
    expect((await guard.evaluate(act)).verdict).toBe('throttle');
    const banned = await guard.evaluate(act);
    expect(banned).toMatchObject({ verdict: 'block', banRung: 1 });
    for (let i = 0; i < 5; i++) expect((await guard.evaluate(act)).verdict).toBe('block');
    expect((await guard.inspect('ip:192.0.2.52')).strikes).toBe(3);
  });

  it("a rule's ban never cuts short a longer ban the subject has or earns; of two rule bans the longer stands", async () => {
    const c = clock();
    const when = (flag: string) => ({ all: [{ fact: 'attributes', path: `$.${flag}`, operator: 'equal' as const, value: true }] });
    const guard = createGuard({
      policy: {
        name: 'rule-bans',
        limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }],
        bans: { after: 2, ladder: ['24h', 'permanent'] },
        rules: [
          { name: 'forever', conditions: when('forever'), event: { type: 'block', params: { ban: 'permanent' } } },
          { name: 'hour', conditions: when('bad'), event: { type: 'block', params: { ban: '1h' } } },
        ],
      },
      now: c.now,
    });
    // An operator's permanent ban, then a rule's hour.
    await guard.block('actor:perma', { for: 'permanent' });
    expect(await guard.evaluate({ action: 'a', ip: '192.0.2.60', actor: { id: 'perma' }, attributes: { bad: true } })).toMatchObject({ verdict: 'block', banUntil: null });
    // Two rule bans at once, the permanent one listed first.
    expect(await guard.evaluate({ action: 'a', ip: '192.0.2.61', attributes: { forever: true, bad: true } })).toMatchObject({ verdict: 'block', banUntil: null });
    // An escalation to 24h and a rule's hour in the same attempt.
    await guard.evaluate({ action: 'a', ip: '192.0.2.62' });
    await guard.evaluate({ action: 'a', ip: '192.0.2.62' });
    expect(await guard.evaluate({ action: 'a', ip: '192.0.2.62', attributes: { bad: true } })).toMatchObject({ verdict: 'block', banUntil: c.now() + 24 * hour, banRung: 1 });

    c.advance(2 * hour);
    expect((await guard.evaluate({ action: 'a', ip: '192.0.2.63', actor: { id: 'perma' } })).verdict).toBe('block');
    expect((await guard.evaluate({ action: 'a', ip: '192.0.2.61' })).verdict).toBe('block');
    expect((await guard.inspect('ip:192.0.2.61')).ban).toMatchObject({ until: null });
    expect(await guard.evaluate({ action: 'a', ip: '192.0.2.62' })).toMatchObject({ verdict: 'block', banUntil: c.now() + 22 * hour });
  });

  it("a rule's ban never cuts short a longer ban another process wrote after the decision read the subject", async () => {
    const c = clock();
    const shared = new MemoryStore();
    let raced = false;
    // Between this decision's read and its writes, another process bans the IP for good.
    const store: Store = {
      name: 'racing',
      async apply(batch) {
        const result = await shared.apply(batch);
        if (!raced && batch.subjects.some((s) => s.subject === 'ip:192.0.2.70' && s.get?.includes('ban'))) {
          raced = true;
          await shared.apply({ now: batch.now, subjects: [{ subject: 'ip:192.0.2.70', set: [{ name: 'ban', value: { until: null, rung: 2, reason: 'the other process', at: batch.now }, until: null }] }] });
        }
        return result;
      },
      close: () => shared.close(),
    };
    const guard = createGuard({
      policy: { name: 'race', rules: [{ name: 'hour', conditions: { all: [{ fact: 'attributes', path: '$.bad', operator: 'equal', value: true }] }, event: { type: 'block', params: { ban: '1h' } } }] },
      store,
      now: c.now,
    });
    expect(await guard.evaluate({ action: 'a', ip: '192.0.2.70', attributes: { bad: true } })).toMatchObject({ verdict: 'block', banUntil: c.now() + hour });
    expect(raced).toBe(true);
    expect((await guard.inspect('ip:192.0.2.70')).ban).toMatchObject({ until: null, reason: 'the other process' });
    c.advance(2 * hour);
    expect((await guard.evaluate({ action: 'a', ip: '192.0.2.70' })).verdict).toBe('block');
  });

  it("an escalation's rung follows the ban that stands: a concurrent longer or permanent ban keeps its rung and its memory", async () => {
    // Between this decision's read and its writes, another process escalates the IP first: to the
    // same rung with a longer (jittered) ban, or (with a longer ladder) to a permanent ban.
    for (const other of [{ rung: 1, ban: 2 * hour }, { rung: 3, ban: null }]) {
      const c = clock();
      const shared = new MemoryStore();
      let raced = false;
      const subject = 'ip:192.0.2.71';
      const store: Store = {
        name: 'racing',
        async apply(batch) {
          const result = await shared.apply(batch);
          if (!raced && batch.subjects.some((s) => s.subject === subject && s.get?.includes('rung'))) {
            raced = true;
            const until = other.ban === null ? null : batch.now + other.ban;
            await shared.apply({ now: batch.now, subjects: [{ subject, set: [
              { name: 'ban', value: { until, rung: other.rung, reason: 'the other process', at: batch.now }, until, ifLater: true },
              { name: 'rung', value: other.rung, until: until === null ? null : until + 30 * 24 * hour, ifLater: true },
            ] }] });
          }
          return result;
        },
        close: () => shared.close(),
      };
      const guard = createGuard({ policy: { name: 'esc', limits: [{ id: 'l', by: 'ip', window: '1m', max: 0 }], bans: { after: 1, ladder: ['1h', '7d'] } }, store, now: c.now });
      expect(await guard.evaluate({ action: 'a', ip: '192.0.2.71' }), String(other.ban)).toMatchObject({ verdict: 'block', banRung: 1, banUntil: c.now() + hour });
      expect(raced).toBe(true);
      await new Promise((r) => setTimeout(r, 1)); // the decision's writes land
      expect(await guard.inspect(subject), String(other.ban)).toMatchObject({ ban: { reason: 'the other process' }, rung: other.rung });
      if (other.ban !== null) {
        // `forget` (30d) after the ban that stood ends, not after the shorter one that lost.
        c.advance(other.ban + 30 * 24 * hour - minute);
        expect((await guard.inspect(subject)).rung).toBe(1);
      }
    }
  });

  it('the attempt that earns a ban is an enforced block, not a monitored one', async () => {
    const guard = createGuard({ policy: { name: 'esc', limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }], bans: { after: 1 } }, now: clock().now });
    const act = { action: 'a', ip: '192.0.2.51' };
    await guard.evaluate(act);
    const banned = await guard.evaluate(act);
    expect(banned).toMatchObject({ verdict: 'block', banRung: 1 });
    expect(banned.wouldBe).toBeUndefined();
    expect(guard.metrics().monitored).toBe(0);
  });
});

describe('setPolicy', () => {
  it('swaps atomically; an invalid policy throws PolicyError and the old one stays', async () => {
    const guard = createGuard({ policy: { name: 'one', version: '1' }, now: clock().now });
    expect((await guard.evaluate({ action: 'a', ip: '192.0.2.1' })).policy).toBe('one@1');
    expect(() => guard.setPolicy({ name: 'two', limits: [{ id: 'x', by: 'ip', window: 'soon', max: 1 }] } as PolicyDocument)).toThrow(/limits\/0\/window/);
    expect(guard.policy.id).toBe('one@1');
    const inFlight = guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    guard.setPolicy({ name: 'two', version: '2' });
    expect((await inFlight).policy).toBe('one@1');
    expect((await guard.evaluate({ action: 'a', ip: '192.0.2.1' })).policy).toBe('two@2');
  });
});

describe('escalation ladder', () => {
  it('walks 24h → 7d → permanent for a repeat offender, and forgets after `forget`', async () => {
    const c = clock();
    const guard = createGuard({
      policy: { name: 'ladder', limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }], bans: { after: 3, within: '1h', ladder: ['24h', '7d', 'permanent'], forget: '30d' } },
      now: c.now,
    });
    const offend = async () => {
      await guard.evaluate({ action: 'a', ip: '192.0.2.80' });
      let last;
      for (let i = 0; i < 3; i++) last = await guard.evaluate({ action: 'a', ip: '192.0.2.80' });
      return last!;
    };
    expect((await offend()).banUntil).toBe(c.now() + 24 * hour);
    c.advance(24 * hour + 2 * minute);
    expect((await offend()).banUntil).toBe(c.now() + 7 * 24 * hour);
    c.advance(7 * 24 * hour + 2 * minute);
    const third = await offend();
    expect(third.banUntil).toBeNull();
    c.advance(400 * 24 * hour);
    expect(await guard.evaluate({ action: 'a', ip: '192.0.2.80' })).toMatchObject({ verdict: 'block', banUntil: null });

    // Another subject whose rung is forgotten starts again at 24h.
    expect((await (async () => {
      await guard.evaluate({ action: 'a', ip: '192.0.2.81' });
      for (let i = 0; i < 2; i++) await guard.evaluate({ action: 'a', ip: '192.0.2.81' });
      return guard.evaluate({ action: 'a', ip: '192.0.2.81' });
    })()).banUntil).toBe(c.now() + 24 * hour);
    c.advance(24 * hour + 31 * 24 * hour);
    await guard.evaluate({ action: 'a', ip: '192.0.2.81' });
    let again;
    for (let i = 0; i < 3; i++) again = await guard.evaluate({ action: 'a', ip: '192.0.2.81' });
    expect(again!.banUntil).toBe(c.now() + 24 * hour);
  });
});

describe('a passed challenge', () => {
  it('waives a challenge limit, yet the attempts it lets through count against the other limits of that subject', async () => {
    const c = clock();
    const guard = createGuard({
      policy: {
        name: 'soft-hard',
        limits: [
          { id: 'soft', by: 'ip', window: '1m', max: 2, onExceed: 'challenge' },
          { id: 'hard', by: 'ip', window: '1h', max: 5, onExceed: 'throttle' },
        ],
        bans: { after: 100 },
      },
      now: c.now,
    });
    const act = { action: 'a', ip: '192.0.2.80' };
    await guard.evaluate(act);
    await guard.evaluate(act);
    const challenged = await guard.evaluate(act);
    expect(challenged.verdict).toBe('challenge');
    expect(await guard.passChallenge(challenged.challenge!.token)).toBe(true);
    const verdicts: string[] = [];
    for (let i = 0; i < 10; i++) {
      c.advance(100);
      verdicts.push((await guard.evaluate(act)).verdict);
    }
    // One solved CAPTCHA buys the rest of the hour's 5, not unlimited attempts.
    expect(verdicts).toEqual([...Array(3).fill('allow'), ...Array(7).fill('throttle')]);
    expect((await guard.inspect('ip:192.0.2.80')).counters).toEqual([{ id: 'soft', count: 2, max: 2 }, { id: 'hard', count: 5, max: 5 }]);
  });
});

describe('ham feedback after the ban has ended', () => {
  const policy: PolicyDocument = { name: 'late-ham', limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }], bans: { after: 3, within: '1h', ladder: ['24h', '7d', 'permanent'], forget: '30d' } };
  const offend = async (guard: ReturnType<typeof createGuard>, ip: string) => {
    let last: Decision | undefined;
    for (let i = 0; i < 4; i++) last = await guard.evaluate({ action: 'a', ip });
    return last!;
  };

  it('still takes back the escalation: the next offence starts again from the first rung', async () => {
    const c = clock();
    const guard = createGuard({ policy, now: c.now });
    const banned = await offend(guard, '192.0.2.70');
    expect(banned).toMatchObject({ verdict: 'block', banRung: 1 });
    c.advance(3 * 24 * hour); // the moderator gets to it after the 24h ban is over
    expect(await guard.inspect('ip:192.0.2.70')).toMatchObject({ ban: null, rung: 1 });
    expect(await guard.feedback(banned.id, 'ham')).toMatchObject({ found: true, bansLifted: [] });
    expect((await guard.inspect('ip:192.0.2.70')).rung).toBe(0);
    expect(await offend(guard, '192.0.2.70')).toMatchObject({ banRung: 1, banUntil: c.now() + 24 * hour });
  });

  it('leaves a rung a later escalation reached', async () => {
    const c = clock();
    const guard = createGuard({ policy, now: c.now });
    const first = await offend(guard, '192.0.2.71');
    c.advance(2 * 24 * hour);
    expect(await offend(guard, '192.0.2.71')).toMatchObject({ banRung: 2 });
    c.advance(8 * 24 * hour);
    await guard.feedback(first.id, 'ham');
    expect((await guard.inspect('ip:192.0.2.71')).rung).toBe(2);
  });
});

describe('feedback by decision id', () => {
  it('finds the decision whatever the case of its id, as isDecisionId accepts it (a database may hand UUIDs back in upper case)', async () => {
    const c = clock();
    const guard = createGuard({ policy: { name: 'case', limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }], bans: { after: 2 } }, now: c.now });
    const act = { action: 'a', ip: '192.0.2.95' };
    await guard.evaluate(act);
    await guard.evaluate(act);
    const banned = await guard.evaluate(act);
    expect(banned).toMatchObject({ verdict: 'block', banRung: 1 });
    expect(await guard.feedback(banned.id.toUpperCase(), 'ham')).toMatchObject({ found: true, decision: banned.id, bansLifted: ['ip:192.0.2.95'] });
    c.advance(2 * minute);
    expect((await guard.evaluate(act)).verdict).toBe('allow');
  });
});

describe('ban jitter', () => {
  it('adds up to `jitter` × the rung, from the injected randomness', async () => {
    for (const [random, expected] of [[0, 60 * minute], [0.5, 75 * minute], [0.999, 60 * minute + Math.round(60 * minute * 0.4995)]] as const) {
      const c = clock();
      const guard = createGuard({ policy: { name: 'jitter', limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }], bans: { after: 1, ladder: ['1h'], jitter: 0.5 } }, now: c.now, random: () => random });
      await guard.evaluate({ action: 'a', ip: '192.0.2.90' });
      const banned = await guard.evaluate({ action: 'a', ip: '192.0.2.90' });
      expect(banned.banUntil).toBe(c.now() + expected);
    }
  });
});

describe('feedback trains the content model', () => {
  it('learns from reports by action and by decision id, then rates new content', async () => {
    const c = clock();
    const guard = createGuard({
      policy: { name: 'model', content: { model: { minSpam: 3, minHam: 3, threshold: 0.9, score: 50 } }, scoring: { challenge: 40 } },
      now: c.now,
    });
    const spam = (i: number) => ({ action: 'ad', ip: `192.0.2.${i}`, content: { body: `cheap replica watches casino bonus win money now offer ${i}` } });
    const ham = (i: number) => ({ action: 'ad', ip: `198.51.100.${i}`, content: { body: `selling my old bicycle in good condition, pick up in town ${i}` } });
    for (let i = 1; i <= 3; i++) expect(await guard.feedback(spam(i), 'spam')).toMatchObject({ learned: true, strikes: 1 });
    for (let i = 1; i <= 2; i++) expect(await guard.feedback(ham(i), 'ham')).toMatchObject({ learned: true });
    // Still inert (2 of 3 ham): no model reason.
    expect((await guard.evaluate(spam(9))).reasons.map((r) => r.id)).not.toContain('model');
    // A decision of this process remembers its content: feedback by id teaches too, once.
    const decided = await guard.evaluate(ham(3));
    expect(await guard.feedback(decided.id, 'ham')).toMatchObject({ found: true, learned: true });
    expect(await guard.feedback(decided.id, 'ham')).toMatchObject({ repeated: true, learned: false });
    // Content with no text the model reads teaches nothing, and the result says so.
    expect(await guard.feedback({ action: 'ad', ip: '203.0.113.1', content: { body: ' \u200b ' } }, 'ham')).toMatchObject({ found: true, learned: false });
    const rated = await guard.evaluate(spam(10));
    expect(rated.reasons).toContainEqual(expect.objectContaining({ source: 'content', id: 'model', score: 50 }));
    expect(rated.verdict).toBe('challenge');
    expect((await guard.evaluate(ham(11))).verdict).toBe('allow');
  });
});

describe('content kept for feedback', () => {
  it('keeps a bounded prefix, and a field named __proto__ as a field', () => {
    const content = JSON.parse(`{ "__proto__": "hidden spam", ${Array.from({ length: 9 }, (_, i) => `"f${i}": "${'x'.repeat(i === 0 ? 9000 : 3)}"`).join(', ')} }`) as Record<string, string>;
    const kept = boundedContent(content);
    expect(Object.keys(kept)).toEqual(['__proto__', 'f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6']);
    expect(Object.getOwnPropertyDescriptor(kept, '__proto__')?.value).toBe('hidden spam');
    expect(kept.f0).toHaveLength(8192);
    const small = { title: 'a', body: 'b' };
    expect(boundedContent(small)).toBe(small); // within the bounds: kept as it is
  });

  it('keeps a copy of a long field\'s prefix, not the whole field it was cut from', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const guard = createGuard({ policy: { name: 'kept', content: { model: { minSpam: 3, minHam: 3 } } } });
    gc();
    const before = process.memoryUsage().heapUsed;
    let last = '';
    for (let i = 0; i < 100; i++) {
      const body = `ad ${i} `.padEnd(1_000_000, 'lorem ipsum ');
      last = (await guard.evaluate({ action: 'post', ip: `10.0.0.${i}`, content: { title: 'bike', body } })).id;
    }
    gc();
    // A prefix that is a view into its field kept all 100 MB of the bodies alive; copies are ~1.6 MB.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(30e6);
    // The prefix is still what feedback teaches the model from.
    await expect(guard.feedback(last, 'spam')).resolves.toMatchObject({ found: true, learned: true });
    await guard.close();
  });
});
