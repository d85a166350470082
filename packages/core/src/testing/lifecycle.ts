/**
 * The enforcement lifecycle, run through a real guard on the store under test: the ban ladder
 * walked with an injected clock (24h → 7d → permanent, forgetting), operator blocks of addresses,
 * ranges and actors seen by a second guard at once, adaptive limits that tighten and relax,
 * challenges, feedback that undoes a wrong decision, per-rule and per-limit monitor mode. Part
 * of the conformance suite because each of these lives in the store: an adapter that passes
 * the primitives but loses a mark here would fail real users.
 */
import { expect, it, type TestContext } from 'vitest';
import { createGuard, type Guard, type GuardOptions } from '../guard.js';
import type { PolicyDocument } from '../policy/types.js';
import type { Store } from '../store/types.js';
import type { Action, Decision } from '../types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Registers the lifecycle tests; `getStore` gives the suite's store once it exists. */
export function lifecycleSuite(getStore: () => Store, options: { serverTime: boolean }): void {
  let seq = 0;
  /** An IPv4 address no other test uses (198.18.0.0/15, the benchmarking range). */
  const freshIp = () => {
    seq++;
    return `198.18.${(seq >> 8) & 255}.${seq & 255}`;
  };
  const freshActor = (label: string) => `${label}-${++seq}`;

  /** A guard on the suite's store with its own clock; closing it leaves the store open. */
  function guardOn(policy: PolicyDocument, extra: Partial<GuardOptions> = {}) {
    const store = getStore();
    const shared: Store = { name: store.name, apply: (batch) => store.apply(batch), ...(store.scan ? { scan: store.scan.bind(store) } : {}), close: async () => {} };
    let t = Date.UTC(2026, 2, 1);
    // A generous deadline: these tests are about state, and a loaded CI machine can take longer
    // than the default 50 ms, which would turn a decision into a degraded one.
    const guard = createGuard({ policy, store: shared, now: () => t, storeTimeoutMs: 5_000, ...extra });
    return { guard, now: () => t, advance: (ms: number) => (t += ms), twin: (more: Partial<GuardOptions> = {}) => createGuard({ policy, store: shared, now: () => t, storeTimeoutMs: 5_000, ...more }) };
  }

  const lifecycle = (title: string, test: (ctx: TestContext) => Promise<void>) =>
    it(`lifecycle: ${title}`, async (ctx: TestContext) => {
      ctx.skip(options.serverTime, 'the store keeps its own clock (serverTime): the lifecycle walks an injected clock');
      await test(ctx);
    });

  const ladder: PolicyDocument = {
    name: 'ladder',
    limits: [{ id: 'burst', by: 'ip', window: '1m', max: 1, onExceed: 'throttle' }],
    bans: { after: 3, within: '1h', ladder: ['24h', '7d', 'permanent'], forget: '30d' },
  };

  /** One admitted attempt, then three over the limit: the third violation escalates. */
  async function offend(guard: Guard, action: Action): Promise<Decision> {
    await guard.evaluate(action);
    let last: Decision | undefined;
    for (let i = 0; i < 3; i++) last = await guard.evaluate(action);
    return last!;
  }

  lifecycle('walks the ladder 24h → 7d → permanent, each rung reported, then forgets', async () => {
    const bans: { until: number | null; rung: number }[] = [];
    const escalations: number[] = [];
    const { guard, now, advance } = guardOn(ladder, { onBan: (e) => bans.push({ until: e.until, rung: e.rung }), onEscalate: (e) => escalations.push(e.rung) });
    const ip = freshIp();
    const act = { action: 'post', ip };

    const first = await offend(guard, act);
    expect(first).toMatchObject({ verdict: 'block', banUntil: now() + DAY, retryAfterMs: DAY });
    expect((await guard.inspect(`ip:${ip}`))).toMatchObject({ ban: { until: now() + DAY, rung: 1 }, rung: 1 });
    advance(DAY - MINUTE);
    expect((await guard.evaluate(act)).verdict).toBe('block');
    advance(2 * MINUTE);
    const second = await offend(guard, act);
    expect(second).toMatchObject({ verdict: 'block', banUntil: now() + 7 * DAY });
    advance(7 * DAY + MINUTE);
    const third = await offend(guard, act);
    expect(third).toMatchObject({ verdict: 'block', banUntil: null, retryAfterMs: null });
    advance(365 * DAY);
    expect(await guard.evaluate(act)).toMatchObject({ verdict: 'block', banUntil: null });
    expect(bans.map((b) => b.rung)).toEqual([1, 2, 3]);
    expect(escalations).toEqual([1, 2, 3]);

    // A rung is forgotten `forget` after its ban ends: the next offence starts at 24h again.
    const other = { action: 'post', ip: freshIp() };
    expect((await offend(guard, other)).banUntil).toBe(now() + DAY);
    advance(DAY + 31 * DAY);
    expect((await offend(guard, other)).banUntil).toBe(now() + DAY);
  });

  lifecycle('a banned actor stays banned from a new address, a banned address for a new actor', async () => {
    const policy: PolicyDocument = { ...ladder, limits: [{ id: 'burst', by: 'actor', window: '1m', max: 1, onExceed: 'throttle' }] };
    const { guard } = guardOn(policy);
    const actor = freshActor('rotator');
    const ip = freshIp();
    await offend(guard, { action: 'post', ip, actor: { id: actor } });
    expect((await guard.evaluate({ action: 'post', ip: freshIp(), actor: { id: actor } })).verdict).toBe('block');
    expect((await guard.evaluate({ action: 'post', ip, actor: { id: freshActor('new') } })).verdict).toBe('block');
  });

  lifecycle('rules read history: violations, bans and challenges passed', async () => {
    const policy: PolicyDocument = {
      ...ladder,
      bans: { after: 10 },
      rules: [{ name: 'repeat', conditions: { all: [{ fact: 'history', path: '$.violations', operator: 'greaterThanInclusive', value: 2 }] }, event: { type: 'challenge', params: { reason: 'repeat offender' } } }],
    };
    const { guard, advance } = guardOn(policy);
    const act = { action: 'post', ip: freshIp() };
    await offend(guard, act); // three violations
    advance(2 * MINUTE);
    const challenged = await guard.evaluate(act);
    expect(challenged.verdict).toBe('challenge');
    expect(challenged.reasons.map((r) => r.id)).toContain('repeat');
    expect(await guard.passChallenge(challenged.challenge!.token)).toBe(true);
    expect((await guard.evaluate(act)).verdict).toBe('allow');
  });

  lifecycle('operator blocks of an address, a range and an actor reach another process at once; unblock lifts them', async () => {
    const { guard, now, advance, twin } = guardOn({ name: 'ops' });
    const other = twin();
    const ip = freshIp();
    const actor = freshActor('spammer');

    await guard.block(`ip:${ip}`, { for: '24h', reason: 'abuse report' });
    await guard.block(`actor:${actor}`, { for: 'permanent' });
    expect(await guard.block('cidr:203.0.113.77/24', { for: '7d', reason: 'hosting range' })).toEqual({ subject: 'cidr:203.0.113.0/24', until: now() + 7 * DAY });
    await guard.block('cidr:2001:db8:ffff::/48');

    expect(await other.evaluate({ action: 'a', ip })).toMatchObject({ verdict: 'block', banUntil: now() + DAY });
    expect(await other.evaluate({ action: 'a', ip: freshIp(), actor: { id: actor } })).toMatchObject({ verdict: 'block', banUntil: null });
    const ranged = await other.evaluate({ action: 'a', ip: '203.0.113.200' });
    expect(ranged).toMatchObject({ verdict: 'block', banUntil: now() + 7 * DAY });
    expect(ranged.reasons[0]).toMatchObject({ source: 'ban', id: 'cidr:203.0.113.0/24', message: 'hosting range' });
    expect((await other.evaluate({ action: 'a', ip: '::ffff:203.0.113.9' })).verdict).toBe('block');
    expect((await other.evaluate({ action: 'a', ip: '2001:db8:ffff:12::1' })).verdict).toBe('block');
    expect((await other.evaluate({ action: 'a', ip: '203.0.114.1' })).verdict).toBe('allow');

    // An allow inside a blocked range wins, as an allowlist does.
    await other.allow('cidr:203.0.113.128/25', { for: '1h' });
    expect((await guard.evaluate({ action: 'a', ip: '203.0.113.200' })).verdict).toBe('allow');
    expect((await guard.evaluate({ action: 'a', ip: '203.0.113.2' })).verdict).toBe('block');

    expect(await guard.inspect('cidr:203.0.113.0/24')).toMatchObject({ subject: 'cidr:203.0.113.0/24', ban: { until: now() + 7 * DAY, reason: 'hosting range' } });
    const store = getStore();
    if (store.scan) {
      const listed: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await guard.listBlocks({ limit: 50, ...(cursor ? { cursor } : {}) });
        listed.push(...page.entries.map((e) => e.subject));
        cursor = page.cursor ?? undefined;
      } while (cursor);
      expect(listed).toEqual(expect.arrayContaining([`ip:${ip}`, `actor:${actor}`, 'cidr:203.0.113.0/24', 'cidr:2001:db8:ffff::/48']));
    }

    await other.unblock('cidr:203.0.113.0/24');
    await other.unblock('cidr:203.0.113.128/25');
    await other.unblock('cidr:2001:db8:ffff::/48');
    await other.unblock(`ip:${ip}`);
    expect((await guard.evaluate({ action: 'a', ip: '203.0.113.2' })).verdict).toBe('allow');
    expect((await guard.evaluate({ action: 'a', ip: '2001:db8:ffff:12::1' })).verdict).toBe('allow');
    expect((await guard.evaluate({ action: 'a', ip })).verdict).toBe('allow');
    expect((await guard.inspect('cidr:203.0.113.0/24')).ban).toBeNull();

    // A range block ends by itself.
    await guard.block('cidr:198.51.100.0/30', { for: '1h' });
    expect((await other.evaluate({ action: 'a', ip: '198.51.100.3' })).verdict).toBe('block');
    advance(HOUR);
    expect((await other.evaluate({ action: 'a', ip: '198.51.100.3' })).verdict).toBe('allow');
  });

  lifecycle('concurrent range edits from two processes lose nothing', async () => {
    const { guard, twin } = guardOn({ name: 'ops' });
    const other = twin();
    const ranges = Array.from({ length: 12 }, (_, i) => `cidr:100.64.${i}.0/24`);
    await Promise.all(ranges.map((range, i) => (i % 2 ? guard : other).block(range, { for: '1h' })));
    for (let i = 0; i < ranges.length; i++) expect((await guard.evaluate({ action: 'a', ip: `100.64.${i}.9` })).verdict).toBe('block');
    await Promise.all(ranges.map((range, i) => (i % 2 ? other : guard).unblock(range)));
    for (let i = 0; i < ranges.length; i++) expect((await other.evaluate({ action: 'a', ip: `100.64.${i}.9` })).verdict).toBe('allow');
  });

  lifecycle('an operator allow beats limits and bans while it lasts', async () => {
    const { guard, advance } = guardOn(ladder);
    const ip = freshIp();
    await guard.block(`ip:${ip}`);
    await guard.allow(`ip:${ip}`, { for: '1h' });
    for (let i = 0; i < 5; i++) expect((await guard.evaluate({ action: 'post', ip })).verdict).toBe('allow');
    advance(HOUR);
    expect((await guard.evaluate({ action: 'post', ip })).verdict).toBe('block');
  });

  const adaptive: PolicyDocument = {
    name: 'adaptive',
    limits: [{ id: 'posts', by: 'ip', window: '1h', max: 4, onExceed: 'throttle' }],
    bans: { after: 100 },
    scoring: { challenge: 50 },
    rules: [
      { name: 'incomplete', conditions: { all: [{ fact: 'attributes', path: '$.incomplete', operator: 'equal', value: true }] }, event: { type: 'tighten', params: { factor: 0.5, for: '2h', reason: 'incomplete submission' } } },
      { name: 'suspicious', conditions: { all: [{ fact: 'attributes', path: '$.suspicious', operator: 'equal', value: true }] }, event: { type: 'challenge', params: { reason: 'looks automated' } } },
    ],
  };

  lifecycle('tighten scales the subject\'s limits for a while, clamped at a tenth; time relaxes it', async () => {
    const { guard, advance, twin } = guardOn(adaptive);
    const ip = freshIp();
    const post = (attributes: Record<string, unknown> = {}) => guard.evaluate({ action: 'post', ip, attributes });
    expect((await post({ incomplete: true })).limits[0]).toMatchObject({ max: 4, count: 1 });
    // Another process sees the tightened capacity: 4 × 0.5.
    const other = twin();
    expect((await other.evaluate({ action: 'post', ip })).limits[0]).toMatchObject({ max: 2, count: 2, remaining: 0 });
    const denied = await other.evaluate({ action: 'post', ip });
    expect(denied).toMatchObject({ verdict: 'throttle' });
    expect(denied.reasons[0]!.message).toMatch(/tightened ×0\.5/);
    // The denied attempt consumed nothing.
    expect((await guard.inspect(`ip:${ip}`)).counters[0]).toMatchObject({ id: 'posts', count: 2 });
    expect((await guard.inspect(`ip:${ip}`)).tighten).toMatchObject({ factor: 0.5 });

    // Repeated tightening compounds, down to a tenth and no further (4 × 0.1 → 1, never 0).
    for (let i = 0; i < 5; i++) await post({ incomplete: true });
    expect((await guard.inspect(`ip:${ip}`)).tighten?.factor).toBeCloseTo(0.1);
    advance(2 * HOUR);
    expect((await guard.inspect(`ip:${ip}`)).tighten).toBeNull();
    expect((await post()).limits[0]).toMatchObject({ max: 4 });
  });

  lifecycle('a passed challenge and a ham report relax tightened limits', async () => {
    const { guard } = guardOn(adaptive);
    const ip = freshIp();
    const tightened = await guard.evaluate({ action: 'post', ip, attributes: { incomplete: true } });
    expect((await guard.inspect(`ip:${ip}`)).tighten).not.toBeNull();
    const challenged = await guard.evaluate({ action: 'post', ip, attributes: { suspicious: true } });
    expect(challenged.challenge).toMatchObject({ kind: 'captcha', token: expect.any(String) });
    expect(await guard.passChallenge(challenged.challenge!.token)).toBe(true);
    expect((await guard.inspect(`ip:${ip}`)).tighten).toBeNull();

    await guard.evaluate({ action: 'post', ip, attributes: { incomplete: true } });
    expect((await guard.inspect(`ip:${ip}`)).tighten).not.toBeNull();
    expect(await guard.feedback(tightened.id, 'ham')).toMatchObject({ found: true, label: 'ham' });
    expect((await guard.inspect(`ip:${ip}`)).tighten).toBeNull();
  });

  lifecycle('challenges carry the kind and a single-use token; a reused or forged token is refused', async () => {
    const policy: PolicyDocument = { ...adaptive, rules: [{ name: 'email', conditions: { all: [{ fact: 'attributes', path: '$.new', operator: 'equal', value: true }] }, event: { type: 'challenge', params: { challenge: 'email', reason: 'new account' } } }] };
    const { guard, advance, twin } = guardOn(policy);
    const act = { action: 'post', ip: freshIp(), attributes: { new: true } };
    const challenged = await guard.evaluate(act);
    expect(challenged).toMatchObject({ verdict: 'challenge', challenge: { kind: 'email' } });
    expect(await guard.passChallenge(challenged.challenge!.token.slice(1) + 'x')).toBe(false);
    // Any process can redeem it, once.
    expect(await twin().passChallenge(challenged.challenge!.token)).toBe(true);
    expect(await guard.passChallenge(challenged.challenge!.token)).toBe(false);
    expect((await guard.evaluate(act)).verdict).toBe('allow');
    advance(31 * MINUTE); // challenges.remember defaults to 30m
    expect((await guard.evaluate(act)).verdict).toBe('challenge');
  });

  lifecycle('ham feedback undoes the strike, the ban and the escalation a decision caused; spam adds a strike', async () => {
    const { guard, twin } = guardOn(ladder);
    const ip = freshIp();
    const act = { action: 'post', ip };
    const banned = await offend(guard, act);
    expect(banned.verdict).toBe('block');
    expect(await guard.inspect(`ip:${ip}`)).toMatchObject({ strikes: 3, rung: 1, ban: { rung: 1 } });

    // Another process corrects it: the record lives in the store.
    const other = twin();
    expect(await other.feedback(banned.id, 'ham')).toMatchObject({ found: true, strikes: -1, bansLifted: [`ip:${ip}`], repeated: false });
    expect(await guard.inspect(`ip:${ip}`)).toMatchObject({ strikes: 2, rung: 0, ban: null });
    expect(await other.feedback(banned.id, 'ham')).toMatchObject({ repeated: true, strikes: 0 });
    expect((await guard.inspect(`ip:${ip}`)).strikes).toBe(2);

    // Spam on an allowed decision adds the strike it did not give; ham then takes it back.
    const fresh = { action: 'post', ip: freshIp() };
    const allowed = await guard.evaluate(fresh);
    expect(allowed.verdict).toBe('allow');
    expect(await guard.feedback(allowed.id, 'spam')).toMatchObject({ found: true, strikes: 1 });
    expect((await guard.inspect(`ip:${fresh.ip}`)).strikes).toBe(1);
    expect(await other.feedback(allowed.id, 'ham')).toMatchObject({ strikes: -1 });
    expect((await guard.inspect(`ip:${fresh.ip}`)).strikes).toBe(0);

    // By action, without a decision.
    expect(await guard.feedback(fresh, 'spam')).toMatchObject({ decision: null, subjects: [`ip:${fresh.ip}`], strikes: 1 });
    expect((await guard.inspect(`ip:${fresh.ip}`)).strikes).toBe(1);
    expect(await guard.feedback('00000000-0000-4000-8000-000000000000', 'spam')).toMatchObject({ found: false });
  });

  lifecycle('monitored rules and limits show in wouldBe, never in the verdict', async () => {
    const policy: PolicyDocument = {
      name: 'monitor',
      limits: [{ id: 'trial', by: 'ip', window: '1h', max: 1, onExceed: 'block', mode: 'monitor' }],
      rules: [{ name: 'trial-rule', mode: 'monitor', conditions: { all: [{ fact: 'action', operator: 'equal', value: 'risky' }] }, event: { type: 'throttle' } }],
    };
    const { guard } = guardOn(policy);
    const ip = freshIp();
    expect((await guard.evaluate({ action: 'post', ip })).wouldBe).toBeUndefined();
    const over = await guard.evaluate({ action: 'post', ip });
    expect(over).toMatchObject({ verdict: 'allow', wouldBe: 'block' });
    expect(await guard.evaluate({ action: 'risky', ip: freshIp() })).toMatchObject({ verdict: 'allow', wouldBe: 'throttle' });
    // Nothing was struck for what monitoring saw.
    expect((await guard.inspect(`ip:${ip}`)).strikes).toBe(0);
  });
}
