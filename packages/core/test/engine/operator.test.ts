import { describe, expect, it } from 'vitest';
import { MAX_PINNED, MemoryStore, PINNED_PREFIXES, PINNED_SUBJECTS, TRANSIENT_MARKS } from '@actiongate/memory';
import { MAX_RANGES, REGISTRY, REGISTRY_VERSION } from '../../src/engine/ranges.js';
import { MARK } from '../../src/engine/state.js';
import { createGuard, type PolicyDocument } from '../../src/index.js';

const hour = 3_600_000;
const policy: PolicyDocument = {
  name: 'ops',
  limits: [{ id: 'ip', by: 'ip', window: '1m', max: 2 }, { id: 'actor', by: 'actor', window: '1h', max: 5 }],
  scoring: { challenge: 10, block: 100 },
  content: { terms: { casino: 10 } },
  challenges: { remember: '30m' },
};

function setup() {
  let t = Date.UTC(2026, 0, 1);
  const store = new MemoryStore();
  const guard = createGuard({ policy, store, now: () => t });
  return { guard, store, advance: (ms: number) => (t += ms), now: () => t };
}

describe('operator actions', () => {
  it('block bans an IP for every actor and an actor from every IP, until it ends', async () => {
    const { guard, advance, now } = setup();
    expect(await guard.block('ip:192.0.2.1', { for: '24h', reason: 'abuse report' })).toEqual({ subject: 'ip:192.0.2.1', until: now() + 24 * hour });
    await guard.block('actor:u1', { for: 'permanent' });
    const byIp = await guard.evaluate({ action: 'a', ip: '192.0.2.1', actor: { id: 'other' } });
    expect(byIp).toMatchObject({ verdict: 'block', banUntil: now() + 24 * hour, retryAfterMs: 24 * hour });
    expect(byIp.reasons[0]).toMatchObject({ source: 'ban', id: 'ip:192.0.2.1', message: 'abuse report' });
    expect(await guard.evaluate({ action: 'a', ip: '198.51.100.1', actor: { id: 'u1' } })).toMatchObject({ verdict: 'block', banUntil: null, retryAfterMs: null });
    advance(24 * hour);
    expect((await guard.evaluate({ action: 'a', ip: '192.0.2.1', actor: { id: 'other' } })).verdict).toBe('allow');
  });

  it('a ban on a full MemoryStore outlasts a flood of fresh texts and refused attempts from elsewhere', async () => {
    // One LRU for everything let ~maxKeys new subjects (texts, decision records, other IPs) push
    // an idle banned client out, and it came back unbanned.
    let t = Date.UTC(2026, 0, 1);
    const flooded: PolicyDocument = { ...policy, content: { terms: { casino: 10 }, duplicates: { window: '1h', score: 1, near: { bands: 2 } } }, bans: { after: 1000, within: '1h' } };
    const guard = createGuard({ policy: flooded, store: new MemoryStore({ maxKeys: 200 }), now: () => t });
    await guard.block('ip:192.0.2.1', { for: 'permanent', reason: 'abuse report' });
    await guard.block('actor:spammer', { for: '7d' });
    const verdicts = new Set<string>();
    for (let i = 0; i < 1_000; i++) {
      t += 1_000;
      const flood = await guard.evaluate({ action: 'ad.submit', ip: '198.51.100.9', actor: { id: `sock-${i}` }, content: { body: `fresh text number ${i} with words ${i * 7919}` } });
      verdicts.add(flood.verdict);
    }
    expect(verdicts).toEqual(new Set(['allow', 'throttle'])); // refused attempts, each with a decision record
    expect(await guard.evaluate({ action: 'ad.submit', ip: '192.0.2.1' })).toMatchObject({ verdict: 'block', banUntil: null });
    expect((await guard.evaluate({ action: 'ad.submit', ip: '203.0.113.5', actor: { id: 'spammer' } })).verdict).toBe('block');
  });

  it('permanent bans and range blocks on a full MemoryStore outlast a flood of automatic day-long bans', async () => {
    // Fresh IPv6 /64s, each banned on its first ad: with one LRU for all bans, the flood pushed
    // out the permanent ban and the range registry, and the next range edit rewrote the registry
    // from nothing, lifting every range block.
    let t = Date.UTC(2026, 0, 1);
    const flooded: PolicyDocument = { name: 'flood', content: { terms: { casino: 100 } }, scoring: { block: 100 }, bans: { after: 1 } };
    const guard = createGuard({ policy: flooded, store: new MemoryStore({ maxKeys: 200 }), now: () => t });
    await guard.block('ip:192.0.2.1', { for: 'permanent' });
    await guard.block('cidr:198.51.100.0/24', { for: 'permanent', reason: 'hosting range' });
    for (let i = 0; i < 1_000; i++) {
      t += 1_000;
      const flood = await guard.evaluate({ action: 'ad.submit', ip: `2001:db8:${i.toString(16)}::1`, content: { body: 'casino' } });
      expect(flood.banUntil).toBe(t + 24 * hour);
    }
    expect(await guard.evaluate({ action: 'ad.submit', ip: '192.0.2.1' })).toMatchObject({ verdict: 'block', banUntil: null });
    await guard.block('cidr:203.0.113.0/24');
    for (const ip of ['198.51.100.7', '203.0.113.9']) expect((await guard.evaluate({ action: 'ad.submit', ip })).verdict).toBe('block');
    expect((await guard.evaluate({ action: 'ad.submit', ip: `2001:db8:${(999).toString(16)}::2` })).verdict).toBe('block'); // the newest flood bans stand
    expect((await guard.listBlocks({ limit: 1_000 })).entries.map((b) => b.subject)).toEqual(expect.arrayContaining(['ip:192.0.2.1', 'cidr:198.51.100.0/24', 'cidr:203.0.113.0/24']));
  });

  it('writes its once-per-decision marks under the names MemoryStore lets go with its counters', () => {
    expect([...TRANSIENT_MARKS].sort()).toEqual([MARK.record, MARK.token].sort());
  });

  it('keeps the range registry under the subjects MemoryStore never evicts while it can help it', () => {
    expect([...PINNED_SUBJECTS].sort()).toEqual([REGISTRY, REGISTRY_VERSION].sort());
  });

  it('writes a range\'s own mark under the prefix MemoryStore pins, no more ranges than it holds', async () => {
    const { guard } = setup();
    await guard.block('cidr:203.0.113.0/24', { for: '1d' });
    const [entry] = (await guard.listBlocks()).entries;
    expect(PINNED_PREFIXES.some((prefix) => entry!.subject.startsWith(prefix))).toBe(true);
    expect(MAX_PINNED).toBe(MAX_RANGES + PINNED_SUBJECTS.length);
  });

  it('an IPv6 block covers the subnet', async () => {
    const { guard } = setup();
    await guard.block('ip:2001:db8:1:2::99');
    expect((await guard.evaluate({ action: 'a', ip: '2001:db8:1:2:ffff::1' })).verdict).toBe('block');
    expect((await guard.evaluate({ action: 'a', ip: '2001:db8:1:3::1' })).verdict).toBe('allow');
  });

  it('takes back the IPv6 subject it hands out (listBlocks, inspect, onBan): ip:<network>/<ipv6Subnet>', async () => {
    const { guard } = setup();
    await guard.block('ip:2001:db8:1:2::99', { reason: 'x' });
    const [entry] = (await guard.listBlocks({ limit: 10 })).entries;
    expect(entry!.subject).toBe('ip:2001:db8:1:2::/64');
    expect((await guard.inspect(entry!.subject)).ban).toMatchObject({ reason: 'x' });
    await guard.unblock(entry!.subject);
    expect((await guard.evaluate({ action: 'a', ip: '2001:db8:1:2::99' })).verdict).toBe('allow');
    expect(await guard.block('ip:2001:DB8:1:2:0::/64')).toMatchObject({ subject: 'ip:2001:db8:1:2::/64' });
    // Another prefix is a range, not a client's subject: said so, not silently widened.
    await expect(guard.block('ip:2001:db8::/48')).rejects.toMatchObject({ code: 'TARGET_INVALID', message: expect.stringContaining('cidr:2001:db8::/48') });
    await expect(guard.block('ip:192.0.2.0/24')).rejects.toMatchObject({ code: 'TARGET_INVALID', message: expect.stringContaining('cidr:192.0.2.0/24') });
  });

  it('unblock lifts the ban and forgets strikes; inspect shows them', async () => {
    const { guard } = setup();
    for (let i = 0; i < 4; i++) await guard.evaluate({ action: 'a', ip: '192.0.2.9' });
    const before = await guard.inspect('ip:192.0.2.9');
    expect(before).toMatchObject({ subject: 'ip:192.0.2.9', strikes: 2, ban: null, counters: [{ id: 'ip', count: 2 }] });
    await guard.block('ip:192.0.2.9', { reason: 'x' });
    expect((await guard.inspect('ip:192.0.2.9')).ban).toMatchObject({ reason: 'x', rung: 0 });
    await guard.unblock('ip:192.0.2.9');
    expect(await guard.inspect('ip:192.0.2.9')).toMatchObject({ ban: null, strikes: 0, rung: 0 });
  });

  it("inspect's counters carry max: the capacity an anonymous actor gets, under the subject's adaptive limits", async () => {
    const guard = createGuard({
      policy: {
        name: 'inspect-max',
        limits: [
          { id: 'by-ip', by: 'ip', window: '1h', max: 10 },
          { id: 'tiers', by: 'actor', window: '1h', max: { anonymous: 2, registered: 20 } },
          // No anonymous tier and no default: an unknown status gets the strictest tier.
          { id: 'no-anon', by: 'actor', window: '1h', max: { registered: 8, verified: 30 } },
          { id: 'with-default', by: 'actor', window: '1h', max: { verified: 30, default: 5 } },
        ],
        rules: [{ name: 'shady', conditions: { all: [{ fact: 'attributes', path: '$.shady', operator: 'equal', value: true }] }, event: { type: 'tighten', params: { factor: 0.5 } } }],
      },
      now: () => Date.UTC(2026, 0, 1),
    });
    await guard.evaluate({ action: 'a', ip: '192.0.2.40', actor: { id: 'u1', status: 'registered' } });
    expect((await guard.inspect('actor:u1')).counters).toEqual([
      { id: 'tiers', count: 1, max: 2 },
      { id: 'no-anon', count: 1, max: 8 },
      { id: 'with-default', count: 1, max: 5 },
    ]);
    expect((await guard.inspect('ip:192.0.2.40')).counters).toEqual([{ id: 'by-ip', count: 1, max: 10 }]);
    // Adaptive limits halve the subject's capacities (never below 1), as a decision sees them.
    await guard.evaluate({ action: 'a', ip: '192.0.2.40', actor: { id: 'u1', status: 'registered' }, attributes: { shady: true } });
    expect((await guard.inspect('ip:192.0.2.40')).counters).toEqual([{ id: 'by-ip', count: 2, max: 5 }]);
    expect((await guard.inspect('actor:u1')).counters.map((c) => c.max)).toEqual([1, 4, 2]);
  });

  it('unblock after an escalation forgets the rung, the strikes and adaptive limits: no re-ban at once, the ladder starts over', async () => {
    const t = Date.UTC(2026, 0, 1);
    const guard = createGuard({
      policy: {
        name: 'unblock-ladder',
        limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }],
        bans: { after: 3, within: '1h', ladder: ['24h', '7d', 'permanent'] },
        rules: [{ name: 'shady', conditions: { all: [{ fact: 'attributes', path: '$.shady', operator: 'equal', value: true }] }, event: { type: 'tighten', params: { factor: 0.5 } } }],
      },
      now: () => t,
    });
    const act = { action: 'a', ip: '192.0.2.40' };
    await guard.evaluate({ ...act, attributes: { shady: true } });
    for (let i = 0; i < 3; i++) await guard.evaluate(act);
    expect(await guard.inspect('ip:192.0.2.40')).toMatchObject({ ban: { rung: 1 }, rung: 1, strikes: 3, tighten: { factor: 0.5 } });
    await guard.unblock('ip:192.0.2.40');
    expect(await guard.inspect('ip:192.0.2.40')).toMatchObject({ ban: null, rung: 0, strikes: 0, tighten: null });
    expect((await guard.evaluate(act)).verdict).toBe('throttle'); // the window is still full: a first strike, no ban
    expect((await guard.evaluate(act)).verdict).toBe('throttle');
    const again = await guard.evaluate(act);
    expect(again).toMatchObject({ verdict: 'block', banRung: 1, banUntil: t + 24 * hour });
  });

  it('allow beats limits and bans while it lasts', async () => {
    const { guard, advance } = setup();
    await guard.block('actor:vip');
    await guard.allow('actor:vip', { for: '1h', reason: 'partner' });
    for (let i = 0; i < 8; i++) {
      const d = await guard.evaluate({ action: 'a', ip: '192.0.2.20', actor: { id: 'vip' } });
      expect(d.verdict).toBe('allow');
      expect(d.reasons).toEqual([expect.objectContaining({ message: 'partner', verdict: 'allow' })]);
    }
    advance(hour);
    expect((await guard.evaluate({ action: 'a', ip: '192.0.2.21', actor: { id: 'vip' } })).verdict).toBe('block');
  });

  it('a whole policy in monitor mode enforces no ban already in the store, and only shows it in wouldBe (docs/operations.md)', async () => {
    const store = new MemoryStore();
    const enforcing = createGuard({ policy, store });
    await enforcing.block('ip:192.0.2.50', { for: '1h' });
    const monitoring = createGuard({ policy: { ...policy, mode: 'monitor' }, store });
    expect(await monitoring.evaluate({ action: 'a', ip: '192.0.2.50' })).toMatchObject({ verdict: 'allow', wouldBe: 'block', retryAfterMs: null });
    expect((await enforcing.evaluate({ action: 'a', ip: '192.0.2.50' })).verdict).toBe('block');
  });

  it('block takes back an allow of the same target, as a range entry is replaced: the latest operator action wins', async () => {
    // Before, an ip: or actor: allow stayed and beat the new ban: the block resolved and changed nothing.
    const { guard } = setup();
    for (const target of ['ip:192.0.2.40', 'actor:former-partner', 'cidr:198.51.100.0/24'] as const) {
      await guard.allow(target);
      await guard.block(target, { for: '1h', reason: 'partnership ended' });
    }
    expect(await guard.inspect('actor:former-partner')).toMatchObject({ allow: null, ban: { reason: 'partnership ended' } });
    expect((await guard.evaluate({ action: 'a', ip: '192.0.2.40' })).verdict).toBe('block');
    expect((await guard.evaluate({ action: 'a', ip: '192.0.2.41', actor: { id: 'former-partner' } })).verdict).toBe('block');
    expect((await guard.evaluate({ action: 'a', ip: '198.51.100.7' })).verdict).toBe('block');
  });

  it('unblock takes back an allow too: the target is limited again', async () => {
    // Before, nothing could revoke an ip: or actor: allow short of its end (permanent by default).
    const { guard, advance } = setup();
    await guard.allow('ip:192.0.2.30');
    for (let i = 0; i < 5; i++) expect((await guard.evaluate({ action: 'a', ip: '192.0.2.30' })).verdict).toBe('allow');
    await guard.unblock('ip:192.0.2.30');
    expect(await guard.inspect('ip:192.0.2.30')).toMatchObject({ allow: null });
    advance(2 * 60_000); // the allowed attempts were counted: a fresh window
    const verdicts = [];
    for (let i = 0; i < 3; i++) verdicts.push((await guard.evaluate({ action: 'a', ip: '192.0.2.30' })).verdict);
    expect(verdicts).toEqual(['allow', 'allow', 'throttle']); // the ip limit: 2 a minute
  });

  it('lists active blocks', async () => {
    const { guard } = setup();
    await guard.block('ip:192.0.2.1');
    await guard.block('actor:a', { for: '1h' });
    const page = await guard.listBlocks({ limit: 10 });
    expect(page.entries.map((e) => e.subject).sort()).toEqual(['actor:a', 'ip:192.0.2.1']);
  });

  it('refuses to list blocks on a store without scan, with a typed error naming the store', async () => {
    const inner = new MemoryStore();
    const guard = createGuard({ policy, store: { name: 'no-scan', apply: (batch) => inner.apply(batch), close: () => inner.close() } });
    await expect(guard.listBlocks()).rejects.toMatchObject({ code: 'TARGET_INVALID', field: 'store', message: expect.stringContaining('no-scan') });
  });

  it('rejects malformed targets and durations with typed errors', async () => {
    const { guard } = setup();
    await expect(guard.block('ip:999.1.1.1')).rejects.toMatchObject({ code: 'TARGET_INVALID', field: 'target' });
    await expect(guard.block('user:1')).rejects.toMatchObject({ code: 'TARGET_INVALID' });
    await expect(guard.block('cidr:10.0.0.0/33')).rejects.toMatchObject({ code: 'TARGET_INVALID', field: 'target' });
    await expect(guard.block('cidr:example.com/8')).rejects.toMatchObject({ code: 'TARGET_INVALID' });
    await expect(guard.block('actor:x', { for: 'forever' })).rejects.toMatchObject({ field: 'for' });
    await expect(guard.block(42 as never)).rejects.toMatchObject({ code: 'TARGET_INVALID' });
  });
});

describe('challenges', () => {
  it('a passed challenge spares the subject further challenges for `remember`; tokens work once', async () => {
    const { guard, advance } = setup();
    const ask = () => guard.evaluate({ action: 'a', ip: '192.0.2.30', actor: { id: 'c1' }, content: { body: 'casino night' } });
    const first = await ask();
    expect(first.verdict).toBe('challenge');
    expect(first.challenge).toMatchObject({ kind: 'captcha' });
    expect(await guard.passChallenge('forged-token')).toBe(false);
    expect(await guard.passChallenge(first.challenge!.token)).toBe(true);
    expect(await guard.passChallenge(first.challenge!.token)).toBe(false);
    const spared = await ask();
    expect(spared.verdict).toBe('allow');
    expect(spared.wouldBe).toBeUndefined();
    advance(31 * 60_000);
    expect((await ask()).verdict).toBe('challenge');
  });

  it('a token expires unredeemed after 15 minutes', async () => {
    const { guard, advance } = setup();
    const d = await guard.evaluate({ action: 'a', ip: '192.0.2.31', content: { body: 'casino' } });
    advance(16 * 60_000);
    expect(await guard.passChallenge(d.challenge!.token)).toBe(false);
  });
});

describe('events', () => {
  it('reports bans, escalations and store errors through typed callbacks that may throw', async () => {
    const t = Date.UTC(2026, 0, 1);
    const bans: unknown[] = [];
    const escalations: unknown[] = [];
    const storeErrors: unknown[] = [];
    const errors: unknown[] = [];
    const guard = createGuard({
      policy: { name: 'ev', limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }], bans: { after: 2, ladder: ['1h'] } },
      now: () => t,
      onBan: (e) => {
        bans.push(e);
        throw new Error('sink broke');
      },
      onEscalate: (e) => escalations.push(e),
      onError: (e) => errors.push(e),
    });
    for (let i = 0; i < 3; i++) await guard.evaluate({ action: 'a', ip: '192.0.2.5' });
    expect(escalations).toEqual([expect.objectContaining({ subject: 'ip:192.0.2.5', rung: 1, until: t + 3_600_000, source: 'escalation', decisionId: expect.any(String) })]);
    await guard.block('actor:z', { reason: 'manual' });
    expect(bans).toEqual([expect.objectContaining({ source: 'escalation' }), expect.objectContaining({ subject: 'actor:z', source: 'operator', reason: 'manual' })]);
    expect(errors).toHaveLength(2);

    const broken = createGuard({
      policy: { name: 'down', failMode: 'open' },
      store: { name: 'down', apply: () => Promise.reject(new Error('ECONNREFUSED')), close: async () => {} },
      onStoreError: (e) => storeErrors.push(e),
    });
    expect((await broken.evaluate({ action: 'a', ip: '192.0.2.5' })).degraded).toBe(true);
    expect(storeErrors).toEqual([expect.objectContaining({ code: 'STORE_FAILED', adapter: 'down' })]);
  });
});
