/**
 * Ham on a ban that climbed the ladder gives the rung below back to the decision that reached
 * it, by the store's record of the decision or, once that has expired (`feedback.remember`), by
 * this process's own record: both must write the same rung mark, `{ rung, decision }`, not a
 * bare number that a later decision's ham would take by its height alone.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@actiongate/memory';
import { createGuard, type Guard, type PolicyDocument } from '../../src/index.js';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

/** One attempt a minute per IP; three strikes within the hour ban, up a ladder remembered 30 days. Records kept an hour. */
const policy: PolicyDocument = {
  name: 'feedback-rung',
  limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }],
  bans: { after: 3, within: '1h', ladder: ['24h', '7d', 'permanent'], forget: '30d' },
  feedback: { remember: '1h' },
};

/** Three strikes: the fourth attempt of a minute's burst is banned. */
async function offend(guard: Guard, ip: string) {
  let last;
  for (let i = 0; i < 4; i++) last = await guard.evaluate({ action: 'a', ip });
  return last!;
}

const markOf = async (store: MemoryStore, subject: string, name: string, now: number) => (await store.apply({ now, subjects: [{ subject, get: [name] }] })).subjects[0]!.marks[name];

/** A guard whose IP climbed to rung 2 (`second`) from rung 1 (`first`), and `later` ms after. */
async function climbed(later: number) {
  let t = Date.UTC(2026, 0, 1);
  const store = new MemoryStore();
  const guard = createGuard({ policy, store, now: () => t });
  const ip = '192.0.2.40';
  const first = await offend(guard, ip);
  expect(first).toMatchObject({ verdict: 'block', banRung: 1 });
  t += 2 * day;
  const second = await offend(guard, ip);
  expect(second).toMatchObject({ verdict: 'block', banRung: 2 });
  expect(await markOf(store, `ip:${ip}`, 'rung', t)).toEqual({ rung: 2, decision: second.id });
  t += later;
  return { guard, store, ip, first, second, now: () => t };
}

describe('ham on an escalated ban, by the store’s record or this process’s', () => {
  it('gives the rung below back to its decision when the store’s record has expired and only this process remembers the decision', async () => {
    const { guard, store, ip, first, second, now } = await climbed(2 * hour);
    // The ban (7 days) stands; the record of the decision that set it is gone from the store.
    expect(await markOf(store, `decision:${second.id}`, 'record', now())).toBeUndefined();
    expect(await guard.feedback(second.id, 'ham')).toMatchObject({ found: true, bansLifted: [`ip:${ip}`] });
    expect(await markOf(store, `ip:${ip}`, 'rung', now())).toEqual({ rung: 1, decision: first.id });
    // So rung 1 is still the first decision's: a ham on it takes it back too.
    expect(await guard.feedback(first.id, 'ham')).toMatchObject({ found: true });
    expect((await guard.inspect(`ip:${ip}`)).rung).toBe(0);
    await guard.close();
  });

  it('writes the same rung mark as when the store still holds the record', async () => {
    const { guard, store, ip, first, second, now } = await climbed(10 * minute);
    expect(await markOf(store, `decision:${second.id}`, 'record', now())).toMatchObject({ bans: [{ subject: `ip:${ip}`, rung: 2, from: first.id }] });
    expect(await guard.feedback(second.id, 'ham')).toMatchObject({ found: true, bansLifted: [`ip:${ip}`] });
    expect(await markOf(store, `ip:${ip}`, 'rung', now())).toEqual({ rung: 1, decision: first.id });
    await guard.close();
  });
});
