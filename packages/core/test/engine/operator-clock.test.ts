/**
 * Operator actions on a store with its own clock (RedisStore's `time: 'server'`: windows and
 * expiries use Redis TIME, and every answer carries that time). Decisions already set ban ends
 * and strikes by the store's time; operator actions used the app server's clock, so on an app
 * server whose clock is 2 hours fast a 1-hour block lasted 3 hours, and a strike from feedback
 * counted for 3 hours instead of 1 (2 hours slow: a 1-hour block never held).
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@actiongate/memory';
import { createGuard, type PolicyDocument, type Store } from '../../src/index.js';
import { MARK } from '../../src/engine/state.js';

const HOUR = 3_600_000;
const policy: PolicyDocument = {
  name: 'clock',
  limits: [{ id: 'ip', by: 'ip', window: '1m', max: 100 }],
  content: { terms: { casino: 50 } },
  scoring: { challenge: 40 },
  bans: { after: 5, within: '1h' },
  challenges: { remember: '30m' },
};

/** A store that, like RedisStore with `time: 'server'`, uses its own clock for every call. */
function serverClock(skewMs: number, policyInForce: PolicyDocument = policy) {
  let server = Date.UTC(2026, 0, 1);
  const inner = new MemoryStore();
  const store: Store = {
    name: 'server-clock',
    apply: async (batch) => inner.apply({ ...batch, now: server }),
    scan: async (name, options) => inner.scan(name, { ...options, now: server }),
    close: () => inner.close(),
  };
  // The app server's clock runs `skewMs` ahead of the store's.
  const guard = createGuard({ policy: policyInForce, store, now: () => server + skewMs });
  return { guard, inner, server: () => server, advance: (ms: number) => (server += ms) };
}

describe.each([2 * HOUR, -2 * HOUR])('operator actions take their times from the store (app clock off by %i ms)', (skew) => {
  it('a block for 1h ends 1h after it was made, by the store clock', async () => {
    const { guard, server, advance } = serverClock(skew);
    const start = server();
    expect(await guard.block('ip:192.0.2.1', { for: '1h' })).toEqual({ subject: 'ip:192.0.2.1', until: start + HOUR });
    expect((await guard.inspect('ip:192.0.2.1')).ban?.until).toBe(start + HOUR);
    expect(await guard.evaluate({ action: 'x', ip: '192.0.2.1' })).toMatchObject({ verdict: 'block', banUntil: start + HOUR });
    advance(HOUR);
    expect((await guard.evaluate({ action: 'x', ip: '192.0.2.1' })).verdict).toBe('allow');
  });

  it('a range block and an allow for 1h end by the store clock too', async () => {
    const { guard, server, advance } = serverClock(skew);
    const start = server();
    expect(await guard.block('cidr:198.51.100.0/24', { for: '1h' })).toEqual({ subject: 'cidr:198.51.100.0/24', until: start + HOUR });
    expect((await guard.inspect('cidr:198.51.100.0/24')).ban?.until).toBe(start + HOUR);
    await guard.allow('actor:u1', { for: '1h' });
    expect((await guard.inspect('actor:u1')).allow?.until).toBe(start + HOUR);
    expect((await guard.evaluate({ action: 'x', ip: '198.51.100.7' })).verdict).toBe('block');
    advance(HOUR);
    expect((await guard.evaluate({ action: 'x', ip: '198.51.100.7' })).verdict).toBe('allow');
    // The next edit still finds the registry unlocked and prunes by the store clock.
    await guard.unblock('cidr:198.51.100.0/24');
  });

  it('listBlocks judges which bans are still on by the store clock, for a store whose scan takes the time it is given (RedisStore)', async () => {
    const { guard, inner, server, advance } = serverClock(skew);
    // RedisStore's scan compares ends with the `now` it is passed, whatever its apply uses.
    (guard.store as { scan: Store['scan'] }).scan = (name, options) => inner.scan(name, options);
    const start = server();
    await guard.block('ip:192.0.2.3', { for: '1h' });
    expect((await guard.listBlocks()).entries).toEqual([expect.objectContaining({ subject: 'ip:192.0.2.3', until: start + HOUR })]);
    advance(HOUR);
    expect((await guard.listBlocks()).entries).toEqual([]);
  });

  it('a strike from feedback counts for bans.within by the store clock', async () => {
    const { guard, advance } = serverClock(skew);
    await guard.feedback({ action: 'x', ip: '192.0.2.9' }, 'spam');
    expect((await guard.inspect('ip:192.0.2.9')).strikes).toBe(1);
    // A window releases up to one slot (1/60 of it) late.
    advance(HOUR + HOUR / 60);
    expect((await guard.inspect('ip:192.0.2.9')).strikes).toBe(0);
  });

  it("a decision's ban ends by the store clock, as an operator's does", async () => {
    const { guard, server, advance } = serverClock(skew, { ...policy, limits: [{ id: 'ip', by: 'ip', window: '1m', max: 1 }], bans: { after: 1, within: '1h', ladder: ['1h'] } });
    const start = server();
    expect((await guard.evaluate({ action: 'x', ip: '192.0.2.7' })).verdict).toBe('allow');
    expect(await guard.evaluate({ action: 'x', ip: '192.0.2.7' })).toMatchObject({ verdict: 'block', banUntil: start + HOUR });
    expect((await guard.inspect('ip:192.0.2.7')).ban?.until).toBe(start + HOUR);
    advance(HOUR);
    expect((await guard.evaluate({ action: 'x', ip: '192.0.2.7' })).verdict).toBe('allow');
  });

  it('a passed challenge is remembered from when it was passed, by the store clock', async () => {
    const { guard, inner, server } = serverClock(skew);
    const challenged = await guard.evaluate({ action: 'x', ip: '192.0.2.5', content: { body: 'casino' } });
    expect(challenged.verdict).toBe('challenge');
    expect(await guard.passChallenge(challenged.challenge!.token)).toBe(true);
    const marks = inner.applyNow({ now: server(), subjects: [{ subject: 'ip:192.0.2.5', get: [MARK.pass] }] }).subjects[0]!.marks;
    expect(marks[MARK.pass]).toMatchObject({ at: server() });
  });
});
