/**
 * Dynamic bans and escalation walked on a MemoryStore with an injected clock: what a decision
 * writes (strikes, ban, rung) and what feedback on it takes back, against timelines where the
 * obvious reading of a mark is not the right one (a strike that has left its window, a ban
 * that stands longer than the escalation that came with it).
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@actiongate/memory';
import { createGuard, type PolicyDocument } from '../../src/index.js';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

function clock(start = Date.UTC(2026, 0, 1)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** One limit of one attempt a minute per IP: the second attempt within a minute is a throttle, a strike. */
const limited = (bans: PolicyDocument['bans'], more: Partial<PolicyDocument> = {}): PolicyDocument => ({
  name: 'bans',
  limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }],
  bans,
  ...more,
});

const whenBad: NonNullable<PolicyDocument['rules']>[number]['conditions'] = { all: [{ fact: 'attributes', path: '$.bad', operator: 'equal', value: true }] };

describe('ham feedback and strikes', () => {
  /** A guard (after 3 strikes within 1h) and the decision that gave `ip` its first strike. */
  async function struckOnce(ip: string) {
    const c = clock();
    const guard = createGuard({ policy: limited({ after: 3, within: '1h' }), now: c.now });
    const act = { action: 'a', ip };
    await guard.evaluate(act);
    return { c, guard, act, wrong: await guard.evaluate(act) };
  }

  it('takes back nothing once the decision’s strike has left `bans.within`: a newer strike stays', async () => {
    const { c, guard, act, wrong } = await struckOnce('192.0.2.1');
    expect(wrong.verdict).toBe('throttle');
    // Two hours on the decision's strike no longer counts; the subject earns two new ones.
    c.advance(2 * hour);
    await guard.evaluate(act);
    await guard.evaluate(act);
    await guard.evaluate(act);
    expect((await guard.inspect('ip:192.0.2.1')).strikes).toBe(2);
    expect(await guard.feedback(wrong.id, 'ham')).toMatchObject({ found: true, strikes: 0 });
    expect((await guard.inspect('ip:192.0.2.1')).strikes).toBe(2);
    // The third strike within the hour bans, as it would have without the late report.
    expect(await guard.evaluate(act)).toMatchObject({ verdict: 'block', banRung: 1 });
  });

  it('still takes back a strike that counts, in its own slot', async () => {
    const { c, guard, act, wrong } = await struckOnce('192.0.2.2');
    c.advance(50 * minute);
    await guard.evaluate(act);
    await guard.evaluate(act);
    expect((await guard.inspect('ip:192.0.2.2')).strikes).toBe(2);
    expect(await guard.feedback(wrong.id, 'ham')).toMatchObject({ strikes: -1 });
    expect((await guard.inspect('ip:192.0.2.2')).strikes).toBe(1);
    // The strike taken back was the old one: the newer one still counts after the old would have left.
    c.advance(15 * minute);
    expect((await guard.inspect('ip:192.0.2.2')).strikes).toBe(1);
  });
});

describe('a rule ban and an escalation in one decision', () => {
  const policy = limited(
    { after: 2, within: '1h', ladder: ['24h', '7d'], forget: '30d' },
    { rules: [{ name: 'long', conditions: whenBad, event: { type: 'block', params: { ban: '60d' } } }] },
  );

  it('remembers the rung until `forget` after the ban that stands ends, not after the shorter rung', async () => {
    const c = clock();
    const guard = createGuard({ policy, now: c.now });
    const act = { action: 'a', ip: '192.0.2.10' };
    await guard.evaluate(act);
    await guard.evaluate(act);
    expect(await guard.evaluate({ ...act, attributes: { bad: true } })).toMatchObject({ verdict: 'block', banRung: 1, banUntil: c.now() + 60 * day });
    // The rule's 60 days end; the rung is remembered for `forget` (30 days) after that.
    c.advance(60 * day + 29 * day);
    expect(await guard.inspect('ip:192.0.2.10')).toMatchObject({ ban: null, rung: 1 });
    await guard.evaluate(act);
    await guard.evaluate(act);
    expect(await guard.evaluate(act)).toMatchObject({ verdict: 'block', banRung: 2, banUntil: c.now() + 7 * day });
  });

  it('ham names each lifted subject once and takes back the rung', async () => {
    const c = clock();
    const guard = createGuard({ policy, now: c.now });
    const act = { action: 'a', ip: '192.0.2.11', actor: { id: 'both' } };
    await guard.evaluate(act);
    await guard.evaluate(act);
    const banned = await guard.evaluate({ ...act, attributes: { bad: true } });
    expect(banned).toMatchObject({ verdict: 'block', banRung: 1 });
    const ham = await guard.feedback(banned.id, 'ham');
    expect(ham.bansLifted).toEqual(['ip:192.0.2.11', 'actor:both']);
    for (const target of ['ip:192.0.2.11', 'actor:both']) expect(await guard.inspect(target), target).toMatchObject({ ban: null, rung: 0 });
    expect(await guard.feedback(banned.id, 'ham')).toMatchObject({ repeated: true, bansLifted: [] });
  });
});

describe('a rule ban that lengthens a ban in force', () => {
  it('keeps the rung the subject reached until `forget` after the longer ban ends', async () => {
    const c = clock();
    const guard = createGuard({
      policy: limited(
        { after: 2, within: '1h', ladder: ['24h', '7d'], forget: '30d' },
        { rules: [{ name: 'long', conditions: whenBad, event: { type: 'block', params: { ban: '60d' } } }] },
      ),
      now: c.now,
    });
    const act = { action: 'a', ip: '192.0.2.20' };
    await guard.evaluate(act);
    await guard.evaluate(act);
    expect(await guard.evaluate(act)).toMatchObject({ verdict: 'block', banRung: 1, banUntil: c.now() + day });
    // While the 24h ban lasts, a rule bans for 60 days: that ban stands, and rung 1 is kept.
    c.advance(hour);
    expect(await guard.evaluate({ ...act, attributes: { bad: true } })).toMatchObject({ verdict: 'block', banUntil: c.now() + 60 * day, banRung: 1 });
    c.advance(60 * day + 29 * day);
    expect(await guard.inspect('ip:192.0.2.20')).toMatchObject({ ban: null, rung: 1 });
    await guard.evaluate(act);
    await guard.evaluate(act);
    expect(await guard.evaluate(act)).toMatchObject({ verdict: 'block', banRung: 2, banUntil: c.now() + 7 * day });
    // And it is forgotten `forget` after that ban (7 days) ends.
    c.advance(7 * day + 30 * day);
    expect((await guard.inspect('ip:192.0.2.20')).rung).toBe(0);
  });

  it('writes no rung for a subject that never climbed', async () => {
    const c = clock();
    const guard = createGuard({ policy: limited({ after: 5 }, { rules: [{ name: 'long', conditions: whenBad, event: { type: 'block', params: { ban: '2h' } } }] }), now: c.now });
    expect(await guard.evaluate({ action: 'a', ip: '192.0.2.21', attributes: { bad: true } })).toMatchObject({ verdict: 'block', banRung: 0 });
    expect(await guard.inspect('ip:192.0.2.21')).toMatchObject({ ban: { rung: 0 }, rung: 0 });
  });
});

describe('a late ham and a rung of the same height reached again', () => {
  /** Three strikes within the hour ban: the fourth attempt of a minute's burst. */
  const offend = async (guard: ReturnType<typeof createGuard>, ip: string) => {
    let last;
    for (let i = 0; i < 4; i++) last = await guard.evaluate({ action: 'a', ip });
    return last!;
  };
  const rungMarkOf = async (store: MemoryStore, subject: string, now: number) => (await store.apply({ now, subjects: [{ subject, get: ['rung'] }] })).subjects[0]!.marks.rung;

  it('leaves the rung a later decision reached after the first was forgotten', async () => {
    const c = clock();
    // The rung is forgotten a day after its ban ends, well within the week a record is kept.
    const guard = createGuard({ policy: limited({ after: 3, within: '1h', ladder: ['24h', '7d', 'permanent'], forget: '1d' }), now: c.now });
    const ip = '192.0.2.30';
    const first = await offend(guard, ip);
    expect(first).toMatchObject({ verdict: 'block', banRung: 1 });
    c.advance(2 * day + hour);
    expect(await guard.inspect(`ip:${ip}`)).toMatchObject({ ban: null, rung: 0 });
    const second = await offend(guard, ip);
    expect(second).toMatchObject({ verdict: 'block', banRung: 1 });
    c.advance(day + hour); // the second ban is over too; its rung is remembered for a day
    expect(await guard.inspect(`ip:${ip}`)).toMatchObject({ ban: null, rung: 1 });
    expect(await guard.feedback(first.id, 'ham')).toMatchObject({ found: true, repeated: false, bansLifted: [] });
    expect((await guard.inspect(`ip:${ip}`)).rung).toBe(1);
    expect(await offend(guard, ip)).toMatchObject({ banRung: 2, banUntil: c.now() + 7 * day });
  });

  it('a ham on the decision that reached the rung still takes it back, to the decision below', async () => {
    const c = clock();
    const store = new MemoryStore();
    const guard = createGuard({ policy: limited({ after: 3, within: '1h', ladder: ['24h', '7d', 'permanent'], forget: '30d' }), store, now: c.now });
    const ip = '192.0.2.31';
    const first = await offend(guard, ip);
    c.advance(2 * day);
    const second = await offend(guard, ip);
    expect(second).toMatchObject({ banRung: 2 });
    expect(await rungMarkOf(store, `ip:${ip}`, c.now())).toEqual({ rung: 2, decision: second.id });
    c.advance(day);
    expect(await guard.feedback(second.id, 'ham')).toMatchObject({ bansLifted: [`ip:${ip}`] });
    // Rung 1 is the first decision's again: a late ham on it (its ban long over) takes it back too.
    expect(await rungMarkOf(store, `ip:${ip}`, c.now())).toEqual({ rung: 1, decision: first.id });
    expect(await guard.feedback(first.id, 'ham')).toMatchObject({ found: true, bansLifted: [] });
    expect((await guard.inspect(`ip:${ip}`)).rung).toBe(0);
  });

  it('a ban at the top of the ladder that only repeats the rung does not take it back when lifted', async () => {
    const c = clock();
    const guard = createGuard({ policy: limited({ after: 3, within: '1h', ladder: ['1h', '2h'], forget: '30d' }), now: c.now });
    const ip = '192.0.2.32';
    await offend(guard, ip);
    c.advance(2 * hour);
    expect(await offend(guard, ip)).toMatchObject({ banRung: 2 });
    c.advance(3 * hour);
    const repeat = await offend(guard, ip);
    expect(repeat).toMatchObject({ verdict: 'block', banRung: 2 });
    expect(await guard.feedback(repeat.id, 'ham')).toMatchObject({ bansLifted: [`ip:${ip}`] });
    // Its ban is lifted; rung 2 was reached by the decision before it, and stays.
    expect(await guard.inspect(`ip:${ip}`)).toMatchObject({ ban: null, rung: 2 });
  });

  it('reads a rung mark written as a bare number, climbs from it and takes it back by its height', async () => {
    const c = clock();
    const store = new MemoryStore();
    const guard = createGuard({ policy: limited({ after: 3, within: '1h', ladder: ['24h', '7d', 'permanent'], forget: '30d' }), store, now: c.now });
    const ip = '192.0.2.33';
    await store.apply({ now: c.now(), subjects: [{ subject: `ip:${ip}`, set: [{ name: 'rung', value: 1, until: c.now() + 30 * day }] }] });
    expect((await guard.inspect(`ip:${ip}`)).rung).toBe(1);
    const banned = await offend(guard, ip);
    expect(banned).toMatchObject({ banRung: 2, banUntil: c.now() + 7 * day });
    expect(await guard.feedback(banned.id, 'ham')).toMatchObject({ bansLifted: [`ip:${ip}`] });
    // The rung below has no known owner: it is a bare number again.
    expect(await rungMarkOf(store, `ip:${ip}`, c.now())).toBe(1);
    expect((await guard.inspect(`ip:${ip}`)).rung).toBe(1);
  });
});
