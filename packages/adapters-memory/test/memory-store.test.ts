import { describe, expect, it } from 'vitest';
import { testStore } from '@actiongate/core/testing';
import { MemoryStore, TRANSIENT_MARKS } from '@actiongate/memory';
import type { SubjectOps } from '@actiongate/core';

testStore('memory', () => new MemoryStore());

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const DAY = 86_400_000;
const w = (name = 'w', max = 10, windowMs = MINUTE) => ({ name, windowMs, max, cost: 1 });

const one = async (store: MemoryStore, now: number, ops: SubjectOps) => (await store.apply({ now, subjects: [ops] })).subjects[0]!;

describe('MemoryStore bounds', () => {
  it('stays within maxKeys over 200k distinct subjects, keeping the most recent', async () => {
    const store = new MemoryStore({ maxKeys: 10_000 });
    for (let i = 0; i < 200_000; i += 1000) {
      await store.apply({ now: T0, subjects: Array.from({ length: 1000 }, (_, k) => ({ subject: `ip:${i + k}`, take: [w()] })) });
      expect(store.size).toBeLessThanOrEqual(10_000);
    }
    expect(store.size).toBe(10_000);
    const peek = async (subject: string) => (await one(store, T0, { subject, peek: [{ name: 'w', windowMs: MINUTE }] })).counts.w;
    expect(await peek('ip:199999')).toBe(1);
    expect(await peek('ip:190000')).toBe(1);
    expect(await peek('ip:0')).toBe(0);
    expect(await peek('ip:189999')).toBe(0);
  });

  it('creates nothing, and so evicts nothing, for reads and writes that store nothing', async () => {
    const store = new MemoryStore({ maxKeys: 2 });
    await store.apply({ now: T0, subjects: [{ subject: 'a', take: [w()] }, { subject: 'b', take: [w()] }] });
    const noops: SubjectOps[] = [
      { subject: 'new-1', get: ['ban'], peek: [{ name: 'w', windowMs: MINUTE }] },
      { subject: 'new-2', take: [w('w', 0)] }, // denied
      { subject: 'new-3', take: [{ ...w(), dryRun: true }] },
      { subject: 'new-4', set: [{ name: 'ban', value: 1, until: T0 - 1 }] }, // already over
      { subject: 'new-5', add: [{ name: 'w', windowMs: MINUTE, cost: -1 }] }, // refund into nothing
      { subject: 'new-6', add: [{ name: 'w', windowMs: MINUTE, cost: 1, at: T0 - DAY }] }, // a hit already gone
      { subject: 'new-7', del: ['ban'] },
    ];
    await store.apply({ now: T0, subjects: noops });
    expect(store.size).toBe(2);
    const counts = await store.apply({ now: T0, subjects: ['a', 'b'].map((subject) => ({ subject, peek: [{ name: 'w', windowMs: MINUTE }] })) });
    expect(counts.subjects.map((s) => s.counts.w)).toEqual([1, 1]);
  });

  it('drops expired marks and emptied windows when touched, and the subject with them', async () => {
    const store = new MemoryStore();
    await one(store, T0, { subject: 's', take: [w()], set: [{ name: 'ban', value: true, until: T0 + MINUTE }] });
    expect(store.size).toBe(1);
    await one(store, T0 + MINUTE, { subject: 's', get: ['ban'] });
    expect(store.size).toBe(1); // the window still counts
    await one(store, T0 + 2 * MINUTE, { subject: 's', peek: [{ name: 'w', windowMs: MINUTE }] });
    expect(store.size).toBe(0);
    await one(store, T0, { subject: 't', take: [w()] });
    await one(store, T0, { subject: 't', add: [{ name: 'w', windowMs: MINUTE, cost: -1, at: T0 }] });
    expect(store.size).toBe(0);
  });

  it('holds at most maxNamesPerSubject names, dropping windows before marks', async () => {
    const store = new MemoryStore({ maxNamesPerSubject: 4 });
    await one(store, 1, { subject: 's', set: [{ name: 'ban', value: true, until: null }] });
    for (let i = 0; i < 50; i++) await one(store, 1, { subject: 's', take: [w(`limit|action-${i}`, 5)] });
    const result = await one(store, 1, { subject: 's', get: ['ban'], peek: [{ name: 'limit|action-49', windowMs: MINUTE }, { name: 'limit|action-0', windowMs: MINUTE }] });
    expect(result.marks.ban).toBe(true);
    expect({ ...result.counts }).toEqual({ 'limit|action-49': 1, 'limit|action-0': 0 });
  });

  it('keeps a long window when a client floods a subject with short ones', async () => {
    const store = new MemoryStore({ maxNamesPerSubject: 8 });
    const daily = { name: 'limit:daily', windowMs: DAY, max: 1000, cost: 1 };
    for (let i = 0; i < 200; i++) await one(store, T0 + i * 1000, { subject: 'ip', take: [daily, w(`limit:${i}`)] });
    expect((await one(store, T0 + 200_000, { subject: 'ip', peek: [daily] })).counts['limit:daily']).toBe(200);
  });

  it('makes room from what no longer counts first, then the mark that ends soonest', async () => {
    const store = new MemoryStore({ maxNamesPerSubject: 3 });
    await one(store, T0, { subject: 's', set: [{ name: 'soon', value: 1, until: T0 + MINUTE }, { name: 'later', value: 2, until: T0 + DAY }, { name: 'never', value: 3, until: null }] });
    await one(store, T0 + 2 * MINUTE, { subject: 's', set: [{ name: 'new', value: 4, until: null }] });
    const names = ['soon', 'later', 'never', 'new'];
    expect({ ...(await one(store, T0 + 2 * MINUTE, { subject: 's', get: names })).marks }).toEqual({ later: 2, never: 3, new: 4 });
    await one(store, T0 + 2 * MINUTE, { subject: 's', set: [{ name: 'newer', value: 5, until: null }] });
    expect({ ...(await one(store, T0 + 2 * MINUTE, { subject: 's', get: [...names, 'newer'] })).marks }).toEqual({ never: 3, new: 4, newer: 5 });
  });

  it('never undoes a commit to make room: the windows of one take all stay', async () => {
    const store = new MemoryStore({ maxNamesPerSubject: 2 });
    const takes = [w('a', 5), w('b', 5), w('c', 5)];
    expect((await one(store, T0, { subject: 's', take: takes })).consumed).toBe(true);
    const counts = (await one(store, T0, { subject: 's', peek: takes })).counts;
    expect({ ...counts }).toEqual({ a: 1, b: 1, c: 1 });
  });
});

describe('MemoryStore eviction keeps lasting marks', () => {
  const ban = (until: number | null = null) => ({ name: 'ban', value: { until }, until });
  const banned = async (store: MemoryStore, subject: string, now = T0) => (await one(store, now, { subject, get: ['ban'] })).marks.ban !== undefined;

  it('keeps an idle banned subject through a flood of counters and transient marks', async () => {
    const store = new MemoryStore({ maxKeys: 50 });
    await one(store, T0, { subject: 'ip:banned', set: [ban()], take: [w()] });
    await one(store, T0, { subject: 'actor:banned', set: [ban(T0 + DAY)] });
    for (let i = 0; i < 5_000; i++) {
      await store.apply({ now: T0 + i, subjects: [
        { subject: `content:${i}`, add: [{ name: 'copies', windowMs: MINUTE, cost: 1 }] },
        { subject: `decision:${i}`, set: [{ name: TRANSIENT_MARKS[0]!, value: { at: i }, until: T0 + DAY }] },
        { subject: `challenge:${i}`, set: [{ name: TRANSIENT_MARKS[1]!, value: {}, until: T0 + DAY }] },
      ] });
      expect(store.size).toBeLessThanOrEqual(50);
    }
    expect(await banned(store, 'ip:banned', T0 + 5_000)).toBe(true);
    expect(await banned(store, 'actor:banned', T0 + 5_000)).toBe(true);
    // Counters still turn over among themselves: the newest are there, the oldest gone.
    expect((await one(store, T0 + 5_000, { subject: 'content:4999', peek: [{ name: 'copies', windowMs: MINUTE }] })).counts.copies).toBe(1);
    expect((await one(store, T0 + 5_000, { subject: 'content:0', peek: [{ name: 'copies', windowMs: MINUTE }] })).counts.copies).toBe(0);
  });

  it('keeps a banned subject that reads find unchanged, and lets it go once a read finds its ban ended', async () => {
    const store = new MemoryStore({ maxKeys: 20 });
    await one(store, T0, { subject: 'ip:read', set: [ban(T0 + 1_000)], take: [w()] });
    for (let i = 0; i < 500; i++) {
      // Read now and then: 49 new subjects in between would push out any subject of the others.
      if (i % 50 === 0) await one(store, T0 + i, { subject: 'ip:read', get: ['ban'], peek: [{ name: 'w', windowMs: MINUTE }] });
      await one(store, T0 + i, { subject: `content:${i}`, add: [{ name: 'copies', windowMs: MINUTE, cost: 1 }] });
    }
    expect(await banned(store, 'ip:read', T0 + 500)).toBe(true);
    // Past its end, a read that only peeks (the ended mark stays, unread) moves it among the
    // others, where it ages like any counter: 20 newer subjects later it is gone.
    expect((await one(store, T0 + 2_000, { subject: 'ip:read', peek: [{ name: 'w', windowMs: MINUTE }] })).counts.w).toBe(1);
    for (let i = 0; i < 20; i++) await one(store, T0 + 2_000, { subject: `later:${i}`, add: [{ name: 'copies', windowMs: MINUTE, cost: 1 }] });
    expect((await one(store, T0 + 2_000, { subject: 'ip:read', peek: [{ name: 'w', windowMs: MINUTE }] })).counts.w).toBe(0);
  });

  it('lets a subject go with the others once its lasting marks have ended or been deleted', async () => {
    const store = new MemoryStore({ maxKeys: 10 });
    await one(store, T0, { subject: 'ended', set: [ban(T0 + MINUTE)] });
    await one(store, T0, { subject: 'lifted', set: [ban()], take: [w()] });
    await one(store, T0, { subject: 'lifted', del: ['ban'] }); // its window keeps it, among the others
    for (let i = 0; i < 8; i++) await one(store, T0, { subject: `newer-${i}`, take: [w()] });
    expect(await banned(store, 'ended')).toBe(true); // now the most recently used of all
    expect(store.size).toBe(10);
    // Past the ban's end, the ended subject is the first to make room, whatever its recency.
    await one(store, T0 + 2 * MINUTE, { subject: 'newest', set: [ban()] });
    expect(await banned(store, 'ended', T0 + 2 * MINUTE)).toBe(false);
    expect(store.size).toBe(10);
    // The lifted subject is now the least recently used of the others.
    await one(store, T0 + 2 * MINUTE, { subject: 'newest-2', set: [ban()] });
    expect((await one(store, T0 + 2 * MINUTE, { subject: 'lifted', peek: [{ name: 'w', windowMs: 10 * MINUTE }] })).counts.w).toBe(0);
    expect(await banned(store, 'newest', T0 + 2 * MINUTE)).toBe(true);
  });

  it('stays within maxKeys when every subject holds a lasting mark, dropping the least recently used', async () => {
    const store = new MemoryStore({ maxKeys: 100 });
    for (let i = 0; i < 1_000; i++) {
      await one(store, T0, { subject: `ip:${i}`, set: [ban()] });
      expect(store.size).toBeLessThanOrEqual(100);
    }
    expect(await banned(store, 'ip:999')).toBe(true);
    expect(await banned(store, 'ip:900')).toBe(true);
    expect(await banned(store, 'ip:899')).toBe(false);
  });

  it('scans marks in both kinds of subject', async () => {
    const store = new MemoryStore();
    await one(store, T0, { subject: 'kept', set: [ban()] });
    await one(store, T0, { subject: 'transient', set: [{ name: 'token', value: 1, until: T0 + DAY }, { name: 'ban', value: 2, until: T0 - 1 }] });
    await one(store, T0, { subject: 'decision:1', set: [{ name: 'record', value: 3, until: T0 + DAY }] });
    expect((await store.scan('ban', { limit: 10, now: T0 })).entries.map((e) => e.subject)).toEqual(['kept']);
    expect((await store.scan('token', { limit: 10, now: T0 })).entries.map((e) => e.subject)).toEqual(['transient']);
    expect((await store.scan('record', { limit: 10, now: T0 })).entries.map((e) => e.subject)).toEqual(['decision:1']);
  });
});

describe('MemoryStore options', () => {
  it('defaults to 100000 keys and 64 names a subject', async () => {
    const store = new MemoryStore();
    expect(store.name).toBe('memory');
    await one(store, T0, { subject: 's', take: Array.from({ length: 70 }, (_, i) => w(`n${i}`)) });
    await one(store, T0, { subject: 's', add: [{ name: 'x', windowMs: MINUTE, cost: 1 }] });
    const peek = Array.from({ length: 70 }, (_, i) => ({ name: `n${i}`, windowMs: MINUTE }));
    const counts = (await one(store, T0, { subject: 's', peek: [...peek, { name: 'x', windowMs: MINUTE }] })).counts;
    // 70 from one take may overfill the subject; the next name then takes the room of 7 of them.
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(64);
    expect(counts.x).toBe(1);
  });

  it('rejects bad options with a TypeError or RangeError naming the option', () => {
    for (const maxKeys of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 53]) {
      expect(() => new MemoryStore({ maxKeys })).toThrow(RangeError);
      expect(() => new MemoryStore({ maxKeys })).toThrow(/MemoryStore: maxKeys must be a positive integer, got/);
    }
    for (const maxKeys of ['10', null, {}, 10n]) {
      expect(() => new MemoryStore({ maxKeys: maxKeys as unknown as number })).toThrow(TypeError);
      expect(() => new MemoryStore({ maxKeys: maxKeys as unknown as number })).toThrow(/maxKeys must be a positive integer/);
    }
    expect(() => new MemoryStore({ maxNamesPerSubject: 0 })).toThrow(/maxNamesPerSubject must be a positive integer, got 0/);
    expect(() => new MemoryStore(null as never)).toThrow(TypeError);
    expect(() => new MemoryStore(5 as never)).toThrow(/options must be an object/);
  });
});

describe('MemoryStore results', () => {
  it('hands out fresh result objects and deep-frozen mark values', async () => {
    const store = new MemoryStore();
    const ops: SubjectOps = { subject: 's', get: ['m'], peek: [{ name: 'w', windowMs: MINUTE }], take: [w()] };
    await one(store, T0, { subject: 's', set: [{ name: 'm', value: { list: [{ a: 1 }] }, until: null }] });
    const first = await one(store, T0, ops);
    const value = first.marks.m as { list: { a: number }[] };
    expect(Object.isFrozen(value) && Object.isFrozen(value.list) && Object.isFrozen(value.list[0])).toBe(true);
    expect(() => {
      value.list[0]!.a = 2;
    }).toThrow(TypeError);
    // Results are the caller's to change: doing so changes nothing stored.
    first.counts.w = 99;
    first.takes[0]!.count = 99;
    first.takes.push({ name: 'x', count: 0, admitted: true, resetMs: 0 });
    delete first.marks.m;
    const second = await one(store, T0, ops);
    expect(second).not.toBe(first);
    expect(second.counts.w).toBe(1);
    expect(second.takes).toEqual([{ name: 'w', count: 2, admitted: true, resetMs: MINUTE + 1000 }]);
    expect(second.marks.m).toEqual({ list: [{ a: 1 }] });
  });

  it('keeps a __proto__ key of a value as a key, not a prototype', async () => {
    const store = new MemoryStore();
    const value = JSON.parse('{"__proto__": {"admin": true}}');
    await one(store, T0, { subject: 's', set: [{ name: 'm', value, until: null }] });
    const read = (await one(store, T0, { subject: 's', get: ['m'] })).marks.m as Record<string, unknown>;
    expect(Object.getPrototypeOf(read)).toBe(Object.prototype);
    expect(Object.keys(read)).toEqual(['__proto__']);
    expect((read as { admin?: boolean }).admin).toBeUndefined();
  });
});

describe('MemoryStore scan and close', () => {
  it('validates scan arguments', async () => {
    const store = new MemoryStore();
    await expect(store.scan('ban', { limit: 0, now: T0 })).rejects.toThrow(RangeError);
    await expect(store.scan('ban', { limit: 10, now: T0, cursor: 'abc' })).rejects.toThrow(/cursor must be one a previous scan returned/);
    await expect(store.scan('ban', { limit: 10, now: Number.NaN })).rejects.toThrow(TypeError);
  });

  it('rejects apply and scan after close, and close clears and may repeat', async () => {
    const store = new MemoryStore();
    await one(store, T0, { subject: 's', take: [w()] });
    expect(store.size).toBe(1);
    await store.close();
    expect(store.size).toBe(0);
    await store.close();
    await expect(store.apply({ now: T0, subjects: [] })).rejects.toThrow(/MemoryStore: apply\(\) after close\(\)/);
    await expect(store.scan('ban', { limit: 10, now: T0 })).rejects.toThrow(/after close/);
    expect(() => store.applyNow({ now: T0, subjects: [] })).toThrow(/MemoryStore: apply\(\) after close\(\)/);
  });

  it('answers applyNow synchronously, as apply does, and throws what apply rejects with', async () => {
    const twin = [new MemoryStore(), new MemoryStore()] as const;
    const batches = [0, 1, 2].map((i) => ({ now: T0 + i, subjects: [{ subject: 's', get: ['m'], take: [w('w', 2)], set: [{ name: 'm', value: i, until: null }] }] }));
    for (const batch of batches) expect(twin[0].applyNow(batch)).toEqual(await twin[1].apply(batch));
    expect(() => twin[0].applyNow({ now: Number.NaN, subjects: [] })).toThrow(TypeError);
  });
});
