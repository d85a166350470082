/**
 * A ban whose write the store did not take: the decision told the client it is banned and fired
 * onBan, but the shared store never heard of it, so once the store answered again every process
 * let the client through. Kept and written again with the next decision that reaches the store.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@actiongate/memory';
import { createGuard, type Decision, type Guard, type PolicyDocument } from '../../src/index.js';
import { createPendingBans } from '../../src/engine/pending-bans.js';
import type { Store, StoreBatch } from '../../src/store/types.js';

const DAY = 86_400_000;
const policy: PolicyDocument = { name: 'bans', content: { terms: { casino: 100 } }, scoring: { block: 100 }, bans: { after: 1 } };
const writesBan = (batch: StoreBatch) => batch.subjects.some((s) => s.set?.some((w) => w.name === 'ban'));

/** A store whose writes of bans fail while `down.writes` is set (reads still answer), or every call while `down.all` is. */
function flaky() {
  const inner = new MemoryStore();
  const down = { writes: false, all: false };
  const store: Store = {
    name: 'flaky',
    apply: (batch) => (down.all || (down.writes && writesBan(batch)) ? Promise.reject(new Error('ECONNRESET')) : inner.apply(batch)),
    close: async () => {},
  };
  const banOf = async (subject: string) => (await inner.apply({ now: Date.UTC(2026, 0, 1), subjects: [{ subject, get: ['ban', 'rung'] }] })).subjects[0]!.marks;
  return { store, inner, down, banOf };
}

describe('a ban the store did not take', () => {
  it.each(['open', 'closed', 'memory'] as const)('is written again once the store answers (failMode %s)', async (failMode) => {
    let t = Date.UTC(2026, 0, 1);
    const { store, inner, down, banOf } = flaky();
    const errors: Error[] = [];
    const guard = createGuard({ policy: { ...policy, failMode }, store, now: () => t, onError: (error) => errors.push(error) });
    down.writes = true;
    const spam = await guard.evaluate({ action: 'ad.submit', ip: '192.0.2.1', content: { body: 'casino' } });
    expect(spam).toMatchObject({ verdict: 'block', banUntil: t + DAY, degraded: false });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await banOf('ip:192.0.2.1')).toEqual({}); // lost, so far
    expect(errors).toEqual([expect.objectContaining({ message: expect.stringContaining('ECONNRESET') })]);

    down.writes = false;
    t += 60_000;
    expect((await guard.evaluate({ action: 'page.view', ip: '198.51.100.7' })).verdict).toBe('allow');
    await guard.close(); // waits for the writes
    // The rung mark names the decision that reached it (a late ham on another decision leaves it).
    expect(await banOf('ip:192.0.2.1')).toMatchObject({ ban: { until: spam.banUntil, rung: 1 }, rung: { rung: 1, decision: spam.id } });
    // Every process sharing the store now enforces it.
    const other = createGuard({ policy, store: inner, now: () => t });
    expect(await other.evaluate({ action: 'page.view', ip: '192.0.2.1' })).toMatchObject({ verdict: 'block', banUntil: spam.banUntil });
  });

  it('is kept through failed retries, and never shortens a longer ban written since', async () => {
    let t = Date.UTC(2026, 0, 1);
    const { store, down, banOf } = flaky();
    const guard = createGuard({ policy, store, now: () => t, onError: () => {} });
    down.writes = true;
    await guard.evaluate({ action: 'ad.submit', ip: '192.0.2.1', content: { body: 'casino' } });
    // The retry that goes with the next decision fails too: the ban stays kept, and a later one lands.
    await guard.evaluate({ action: 'page.view', ip: '198.51.100.7' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await banOf('ip:192.0.2.1')).toEqual({});
    down.writes = false;
    await guard.evaluate({ action: 'page.view', ip: '198.51.100.8' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await banOf('ip:192.0.2.1')).toMatchObject({ ban: { until: t + DAY, rung: 1 } });
    // And a second lost ban, kept while an operator bans the same address for good.
    down.writes = true;
    await guard.evaluate({ action: 'ad.submit', ip: '192.0.2.2', content: { body: 'casino' } });
    down.writes = false;
    // Meanwhile an operator banned the address for good.
    await guard.block('ip:192.0.2.2', { for: 'permanent', reason: 'abuse report' });
    t += 60_000;
    await guard.evaluate({ action: 'page.view', ip: '198.51.100.7' });
    await guard.close();
    expect(await banOf('ip:192.0.2.2')).toMatchObject({ ban: { until: null, reason: 'abuse report' } });
  });

  it('gets a last try at close(), and is reported lost when that fails too', async () => {
    const t = Date.UTC(2026, 0, 1);
    for (const stillDown of [false, true]) {
      const { store, down, banOf } = flaky();
      const errors: Error[] = [];
      const guard = createGuard({ policy, store, now: () => t, onError: (error) => errors.push(error) });
      down.writes = true;
      await guard.evaluate({ action: 'ad.submit', ip: '192.0.2.1', content: { body: 'casino' } });
      down.writes = stillDown;
      await guard.close();
      if (stillDown) {
        expect(await banOf('ip:192.0.2.1')).toEqual({});
        expect(errors.at(-1)).toMatchObject({ code: 'STORE_FAILED', message: expect.stringContaining("close(): 1 subjects' bans the store never took are lost") });
      } else {
        expect(await banOf('ip:192.0.2.1')).toMatchObject({ ban: { until: t + DAY } });
        expect(errors.map((e) => e.message).join()).not.toContain('close()');
      }
    }
  });

  // A false positive, lifted while the store was taking no bans: by the operator, or by a report.
  it.each([
    ['an operator has lifted it (unblock)', (guard: Guard) => guard.unblock('ip:192.0.2.1')],
    ['its decision is reported ham', (guard: Guard, wrong: Decision) => guard.feedback(wrong.id, 'ham')],
  ])('is not written again once %s', async (_, lift: (guard: Guard, wrong: Decision) => Promise<unknown>) => {
    let t = Date.UTC(2026, 0, 1);
    const { store, down, banOf } = flaky();
    const guard = createGuard({ policy, store, now: () => t, onError: () => {} });
    down.writes = true;
    const wrong = await guard.evaluate({ action: 'ad.submit', ip: '192.0.2.1', content: { body: 'casino' } });
    await guard.evaluate({ action: 'ad.submit', ip: '192.0.2.2', content: { body: 'casino' } });
    down.writes = false;
    await lift(guard, wrong);
    t += 60_000;
    await guard.evaluate({ action: 'page.view', ip: '198.51.100.7' });
    await guard.close();
    expect(await banOf('ip:192.0.2.1')).toEqual({});
    expect((await banOf('ip:192.0.2.2')).ban).toBeDefined();
  });

  it('is lifted by ham without taking back its strike, which the store never counted', async () => {
    let t = Date.UTC(2026, 0, 1);
    const { store, down, banOf } = flaky();
    const guard = createGuard({ policy: { name: 'strikes', limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }], bans: { after: 2, within: '1h' } }, store, now: () => t, onError: () => {} });
    const act = { action: 'a', ip: '192.0.2.1' };
    await guard.evaluate(act);
    expect((await guard.evaluate(act)).verdict).toBe('throttle'); // strike 1, counted
    down.writes = true;
    const banned = await guard.evaluate(act); // strike 2 and the ban: the write fails
    expect(banned).toMatchObject({ verdict: 'block', banRung: 1 });
    await new Promise((resolve) => setTimeout(resolve, 10)); // the failed write is kept
    down.writes = false;
    t += 60_000;
    await guard.evaluate({ action: 'a', ip: '198.51.100.7' }); // the ban is written again, not the strike
    expect((await guard.inspect('ip:192.0.2.1')).strikes).toBe(1);
    // Ham waits for the writes under way: the ban it lifts is the one written again.
    expect(await guard.feedback(banned.id, 'ham')).toMatchObject({ found: true, bansLifted: ['ip:192.0.2.1'], strikes: 0 });
    // The strike the subject earned before stays; ban and rung are gone.
    expect(await guard.inspect('ip:192.0.2.1')).toMatchObject({ ban: null, rung: 0, strikes: 1 });
    expect(await banOf('ip:192.0.2.1')).toEqual({});
    // Spam after it adds the strike the decision should have given.
    expect(await guard.feedback(banned.id, 'spam')).toMatchObject({ strikes: 1 });
    expect((await guard.inspect('ip:192.0.2.1')).strikes).toBe(2);
  });

  it('is not written again once its ban is over', async () => {
    let t = Date.UTC(2026, 0, 1);
    const { store, down, banOf } = flaky();
    const guard = createGuard({ policy: { ...policy, bans: { after: 1, ladder: ['1h'] } }, store, now: () => t, onError: () => {} });
    down.writes = true;
    await guard.evaluate({ action: 'ad.submit', ip: '192.0.2.1', content: { body: 'casino' } });
    down.writes = false;
    t += 2 * 3_600_000;
    await guard.evaluate({ action: 'page.view', ip: '198.51.100.7' });
    await guard.close();
    expect((await banOf('ip:192.0.2.1')).ban).toBeUndefined();
  });
});

describe('createPendingBans', () => {
  const ban = (subject: string, until: number | null, name = 'ban') => ({ subject, set: [{ name, value: { until }, until, ifLater: true }] });

  it('keeps the ban and rung writes made with ifLater, the later end per subject, nothing else', () => {
    const pending = createPendingBans();
    pending.keep({ now: 0, subjects: [
      { ...ban('ip:a', 100), add: [{ name: 'violations', windowMs: 1_000, cost: 1 }] },
      ban('ip:a', 50),
      ban('ip:a', 300, 'rung'),
      ban('ip:b', null),
      { subject: 'ip:c', set: [{ name: 'ban', value: 1, until: 100 }] }, // no ifLater: it could shorten a ban
      { subject: 'decision:1', set: [{ name: 'record', value: 1, until: 100, ifLater: true }] },
    ] });
    pending.keep({ now: 0, subjects: [ban('ip:b', 10), ban('ip:a', 200)] });
    expect(pending.size).toBe(2);
    expect(pending.take(0)).toEqual({ now: 0, subjects: [
      { subject: 'ip:a', set: [ban('ip:a', 200).set[0], ban('ip:a', 300, 'rung').set[0]] },
      ban('ip:b', null),
    ] });
    expect(pending.size).toBe(0);
    expect(pending.take(0)).toBeNull();
  });

  it('drops what has ended by the time it is taken, and the oldest subjects past its bound', () => {
    const pending = createPendingBans(3);
    for (let i = 0; i < 5; i++) pending.keep({ now: 0, subjects: [ban(`ip:${i}`, 100 + i)] });
    expect(pending).toMatchObject({ size: 3, dropped: 2 });
    expect(pending.take(103)?.subjects.map((s) => s.subject)).toEqual(['ip:4']);
  });
});
