import { describe, expect, it } from 'vitest';
import { testStore } from '@actiongate/core/testing';
import { MAX_PINNED, MemoryStore, PINNED_PREFIXES, PINNED_SUBJECTS, TRANSIENT_MARKS, addHit, prune, tryTake, type WindowData } from '@actiongate/memory';
import { createGuard, type PolicyDocument, type SubjectOps } from '@actiongate/core';

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

  it('stays within maxKeys less the counters\' reserve when every subject holds a lasting mark, dropping the least recently used', async () => {
    const store = new MemoryStore({ maxKeys: 100 });
    for (let i = 0; i < 1_000; i++) {
      await one(store, T0, { subject: `ip:${i}`, set: [ban()] });
      expect(store.size).toBeLessThanOrEqual(90);
    }
    expect(await banned(store, 'ip:999')).toBe(true);
    expect(await banned(store, 'ip:910')).toBe(true);
    expect(await banned(store, 'ip:909')).toBe(false);
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

describe('MemoryStore keeps room for counters through a flood of bans', () => {
  const ban = (until: number | null = T0 + DAY) => ({ name: 'ban', value: { until }, until });
  const banned = async (store: MemoryStore, subject: string, now = T0) => (await one(store, now, { subject, get: ['ban'] })).marks.ban !== undefined;
  const bans = async (store: MemoryStore, now = T0) => (await store.scan('ban', { limit: 1_000_000, now })).entries.map((e) => e.subject);
  const take = async (store: MemoryStore, subject: string, now = T0) => (await one(store, now, { subject, take: [w('limit', 1)] })).consumed;

  it('keeps every rate limit limiting when more subjects are banned than maxKeys', async () => {
    // The attack: fresh IPv6 /64s, each banned on its first ad. With no bound on the kept
    // subjects, bans filled the store, each client's counters pushed out the previous client's,
    // and a take of max 1 was admitted again and again.
    const store = new MemoryStore({ maxKeys: 100 });
    for (let i = 0; i < 200; i++) await one(store, T0, { subject: `ip:2001:db8:${i}::/64`, set: [ban()] });
    const clients = Array.from({ length: 5 }, (_, i) => `ip:192.0.2.${i}`);
    for (const client of clients) expect(await take(store, client)).toBe(true);
    for (const client of clients) expect(await take(store, client)).toBe(false);
    // And while the flood of bans goes on between the clients' requests.
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 50; i++) await one(store, T0, { subject: `ip:2001:db8:${round}:${i}::/64`, set: [ban()] });
      for (const client of clients) expect(await take(store, client)).toBe(false);
      expect(store.size).toBeLessThanOrEqual(100);
    }
    // What the flood costs is its own oldest bans: the kept subjects stay at their bound.
    expect((await bans(store)).length).toBe(90);
    expect(await banned(store, 'ip:2001:db8:9:49::/64')).toBe(true);
    expect(await banned(store, 'ip:2001:db8:0::/64')).toBe(false);
  });

  it('keeps bans through a flood of counters while the kept subjects are below their bound', async () => {
    const store = new MemoryStore({ maxKeys: 100 });
    for (let i = 0; i < 90; i++) await one(store, T0, { subject: `ban:${i}`, set: [ban(i % 2 === 0 ? null : T0 + DAY)] });
    for (let i = 0; i < 5_000; i++) {
      await store.apply({ now: T0 + i, subjects: [
        { subject: `ip:${i}`, take: [w()] },
        { subject: `content:${i}`, add: [{ name: 'copies', windowMs: MINUTE, cost: 1 }] },
        { subject: `decision:${i}`, set: [{ name: TRANSIENT_MARKS[0]!, value: { at: i }, until: T0 + DAY }] },
      ] });
      expect(store.size).toBeLessThanOrEqual(100);
    }
    expect((await bans(store, T0 + 5_000)).length).toBe(90);
    for (let i = 0; i < 90; i++) expect(await banned(store, `ban:${i}`, T0 + 5_000)).toBe(true);
  });

  it('evicts the least recently used kept subject at the bound, one whose marks have all ended first', async () => {
    const store = new MemoryStore({ maxKeys: 10, counterReserve: 2 });
    for (let i = 0; i < 8; i++) await one(store, T0, { subject: `ban:${i}`, set: [ban(i === 5 ? T0 + MINUTE : T0 + DAY)] });
    await one(store, T0, { subject: 'counter', take: [w('w', 10, 10 * MINUTE)] });
    // At the bound: the oldest ban goes, not the counter (the store is not even full).
    await one(store, T0, { subject: 'ban:8', set: [ban()] });
    expect(await bans(store)).toEqual(['ban:1', 'ban:2', 'ban:3', 'ban:4', 'ban:5', 'ban:6', 'ban:7', 'ban:8']);
    expect(store.size).toBe(9);
    // Recency counts: a banned client's request reads its ban, and the next oldest goes instead.
    expect(await banned(store, 'ban:1')).toBe(true);
    await one(store, T0, { subject: 'ban:9', take: [w()] }); // a counter first, then a ban on it
    await one(store, T0, { subject: 'ban:9', set: [ban()] });
    expect(await bans(store)).toEqual(['ban:1', 'ban:3', 'ban:4', 'ban:5', 'ban:6', 'ban:7', 'ban:8', 'ban:9']);
    // Once ban:5 has ended (unread, still kept), it goes before any live ban, however recent.
    const later = T0 + 2 * MINUTE;
    await one(store, later, { subject: 'ban:10', set: [ban()] });
    expect(await bans(store, later)).toEqual(['ban:1', 'ban:10', 'ban:3', 'ban:4', 'ban:6', 'ban:7', 'ban:8', 'ban:9']);
    expect(await banned(store, 'ban:5', later)).toBe(false);
    expect((await one(store, later, { subject: 'counter', peek: [{ name: 'w', windowMs: 10 * MINUTE }] })).counts.w).toBe(1);
    expect(store.size).toBe(9);
  });

  it('evicts bans that end before marks with no end: a flood of day-long bans keeps permanent bans and the range registry', async () => {
    // The attack: fresh IPv6 /64s, each banned for a day. With one LRU for both, the operator's
    // permanent bans and the registry of range bans (read only when it changes) went first.
    const store = new MemoryStore({ maxKeys: 100 }); // 90 kept subjects at most
    for (let i = 0; i < 5; i++) await one(store, T0, { subject: `operator:${i}`, set: [ban(null)] });
    await one(store, T0, { subject: 'ranges', set: [{ name: 'entries', value: { '198.51.100.0/24': { kind: 'ban' } }, until: null }] });
    for (let i = 0; i < 1_000; i++) await one(store, T0 + i, { subject: `ip:2001:db8:${i}::/64`, set: [ban(T0 + DAY)] });
    const now = T0 + 1_000;
    for (let i = 0; i < 5; i++) expect(await banned(store, `operator:${i}`, now)).toBe(true);
    expect((await one(store, now, { subject: 'ranges', get: ['entries'] })).marks.entries).toEqual({ '198.51.100.0/24': { kind: 'ban' } });
    // The flood costs its own oldest: 84 of its day-long bans are kept, the newest.
    expect((await bans(store, now)).length).toBe(89);
    expect(await banned(store, 'ip:2001:db8:999::/64', now)).toBe(true);
    expect(await banned(store, 'ip:2001:db8:916::/64', now)).toBe(true);
    expect(await banned(store, 'ip:2001:db8:915::/64', now)).toBe(false);
    // A ban with no end, once the bound is full of them, still evicts the least recently used one.
    const full = new MemoryStore({ maxKeys: 10, counterReserve: 2 });
    for (let i = 0; i < 8; i++) await one(full, T0, { subject: `p:${i}`, set: [ban(i === 0 ? T0 + DAY : null)] });
    await one(full, T0, { subject: 'p:8', set: [ban(null)] }); // the one timed ban goes
    expect(await bans(full)).toEqual(['p:1', 'p:2', 'p:3', 'p:4', 'p:5', 'p:6', 'p:7', 'p:8']);
    await one(full, T0, { subject: 'p:9', set: [ban(null)] }); // then the least recently used
    expect(await bans(full)).toEqual(['p:2', 'p:3', 'p:4', 'p:5', 'p:6', 'p:7', 'p:8', 'p:9']);
    // A permanent ban lifted to a timed one moves back among the timed, and goes first again.
    await one(full, T0, { subject: 'p:9', set: [ban(T0 + DAY)] });
    await one(full, T0, { subject: 'p:10', set: [ban(null)] });
    expect(await bans(full)).toEqual(['p:10', 'p:2', 'p:3', 'p:4', 'p:5', 'p:6', 'p:7', 'p:8']);
    expect(full.size).toBe(8);
  });

  it('keeps the pinned subjects (the range registry) through a flood of permanent bans', async () => {
    const store = new MemoryStore({ maxKeys: 10, counterReserve: 2 }); // 8 kept subjects at most
    for (const subject of PINNED_SUBJECTS) await one(store, T0, { subject, set: [{ name: 'version', value: subject, until: null }] });
    for (let i = 0; i < 50; i++) await one(store, T0, { subject: `p:${i}`, set: [ban(null)] });
    for (const subject of PINNED_SUBJECTS) expect((await one(store, T0, { subject, get: ['version'] })).marks.version).toBe(subject);
    expect(await bans(store)).toEqual(['p:44', 'p:45', 'p:46', 'p:47', 'p:48', 'p:49']);
    expect(store.size).toBe(8);
    // With nothing else left to evict, a pinned subject goes too: the bound holds.
    const tiny = new MemoryStore({ maxKeys: 2, counterReserve: 1 });
    for (const subject of PINNED_SUBJECTS) await one(tiny, T0, { subject, set: [{ name: 'version', value: 1, until: null }] });
    expect(tiny.size).toBe(1);
  });

  it('keeps range marks (PINNED_PREFIXES) with the registry through floods of bans, ended ones first, at most MAX_PINNED', async () => {
    expect(PINNED_PREFIXES).toEqual(['cidr:']);
    const range = (i: number) => `cidr:10.${i >> 8}.${i & 255}.0/24`;
    const store = new MemoryStore({ maxKeys: 100 }); // 90 kept subjects at most
    await one(store, T0, { subject: 'ranges', set: [{ name: 'entries', value: {}, until: null }] });
    for (let i = 0; i < 10; i++) await one(store, T0, { subject: range(i), set: [ban(T0 + 7 * DAY)] });
    // Day-long and permanent bans alike go before a range's timed mark.
    for (let i = 0; i < 500; i++) await one(store, T0 + i, { subject: `ip:2001:db8:${i}::/64`, set: [ban(i % 2 === 0 ? T0 + DAY : null)] });
    let now = T0 + 500;
    for (let i = 0; i < 10; i++) expect(await banned(store, range(i), now)).toBe(true);
    expect(await bans(store, now)).toHaveLength(89); // the registry, 10 ranges and the newest 79 bans
    expect(await banned(store, 'ip:2001:db8:499::/64', now)).toBe(true);
    // A range's mark that has ended goes before any live ban (the registry dropped its entry).
    await one(store, now, { subject: range(0), set: [ban(now + MINUTE)] });
    for (let i = 1; i < 10; i++) expect(await banned(store, range(i), now)).toBe(true); // range(0): the least recently used
    await one(store, now, { subject: 'ranges', get: ['entries'] });
    now += 2 * MINUTE;
    await one(store, now, { subject: 'ip:2001:db8:500::/64', set: [ban(now + DAY)] });
    const held = await bans(store, T0); // read-only, at a time before any ended: what is still held
    expect(held).not.toContain(range(0));
    expect(held).toContain('ip:2001:db8:421::/64'); // the oldest ban held before stays
    // However many `cidr:` subjects a writer makes, at most MAX_PINNED are pinned, the registry kept.
    const large = new MemoryStore({ maxKeys: 3 * MAX_PINNED });
    for (const subject of PINNED_SUBJECTS) await one(large, T0, { subject, set: [{ name: 'version', value: subject, until: null }] });
    for (let i = 0; i < MAX_PINNED + 10; i++) await one(large, T0, { subject: range(i), set: [ban(T0 + DAY)] });
    expect(large.size).toBe(MAX_PINNED);
    for (const subject of PINNED_SUBJECTS) expect((await one(large, T0, { subject, get: ['version'] })).marks.version).toBe(subject);
    expect(await banned(large, range(MAX_PINNED + 9))).toBe(true);
    expect(await banned(large, range(9))).toBe(false);
    expect(await banned(large, range(10))).toBe(false); // the oldest range marks went
    expect(await banned(large, range(12))).toBe(true);
  });

  it('finds a subject with a pinned name among the others, before and after a pinned subject is held', async () => {
    const store = new MemoryStore({ maxKeys: 100 });
    const lock = { name: 'lock', windowMs: MINUTE, max: 1, cost: 1 };
    // `ranges` holding only its lock window is among the counters, whatever else is pinned.
    expect((await one(store, T0, { subject: 'ranges', take: [lock] })).consumed).toBe(true);
    expect((await one(store, T0, { subject: 'ranges', take: [lock] })).consumed).toBe(false);
    await one(store, T0, { subject: 'cidr:192.0.2.0/24', set: [ban()] });
    await one(store, T0, { subject: 'ip:192.0.2.1', set: [ban()] });
    expect((await one(store, T0, { subject: 'ranges', take: [lock] })).consumed).toBe(false);
    await one(store, T0, { subject: 'ranges', set: [{ name: 'entries', value: {}, until: null }] });
    expect((await one(store, T0, { subject: 'ranges', get: ['entries'], peek: [{ name: 'lock', windowMs: MINUTE }] })).counts.lock).toBe(1);
    expect(await banned(store, 'cidr:192.0.2.0/24')).toBe(true);
    expect(await banned(store, 'ip:192.0.2.1')).toBe(true);
    expect(store.size).toBe(3);
  });

  it('keeps a timed range block listed through a flood of day-long bans, as long as the range registry enforces it', async () => {
    // The registry (pinned) kept enforcing the range while its own `cidr:` mark, a timed ban
    // among the flood's, was evicted: the block left listBlocks, inspect and countBans.
    let t = T0;
    const flooded: PolicyDocument = { name: 'flood', content: { terms: { casino: 100 } }, scoring: { block: 100 }, bans: { after: 1 } };
    const guard = createGuard({ policy: flooded, store: new MemoryStore({ maxKeys: 200 }), now: () => t });
    await guard.block('cidr:198.51.100.0/24', { for: '7d', reason: 'hosting range' });
    await guard.allow('cidr:203.0.113.0/28', { for: '1h' }); // an allow is the same kind of mark
    for (let i = 0; i < 1_000; i++) {
      t += 1_000;
      expect((await guard.evaluate({ action: 'ad.submit', ip: `2001:db8:${i.toString(16)}::1`, content: { body: 'casino' } })).banUntil).toBe(t + DAY);
    }
    expect((await guard.evaluate({ action: 'ad.submit', ip: '198.51.100.7' })).verdict).toBe('block');
    expect((await guard.listBlocks({ limit: 1_000 })).entries.map((b) => b.subject)).toContain('cidr:198.51.100.0/24');
    expect((await guard.inspect('cidr:198.51.100.0/24')).ban).toMatchObject({ reason: 'hosting range', until: T0 + 7 * DAY });
    expect((await guard.inspect('cidr:203.0.113.0/28')).allow).not.toBeNull();
    expect((await guard.countBans()).cidr).toBe(1);
    // The flood still costs only its own oldest bans.
    expect((await guard.evaluate({ action: 'ad.submit', ip: `2001:db8:${(999).toString(16)}::2` })).verdict).toBe('block');
    await guard.close();
  });

  it('never holds more than maxKeys subjects, and the newest counters keep their counts, whatever the mix', async () => {
    const store = new MemoryStore({ maxKeys: 50 }); // a reserve of 5
    let seed = 1;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let i = 0; i < 5_000; i++) {
      const now = T0 + i * 100;
      const subject = `s:${Math.floor(random() * 300)}`;
      const r = random();
      if (r < 0.4) await one(store, now, { subject, set: [ban(r < 0.2 ? null : now + Math.floor(random() * MINUTE))] });
      else if (r < 0.5) await one(store, now, { subject, del: ['ban'] });
      else if (r < 0.6) await one(store, now, { subject, set: [{ name: 'record', value: i, until: now + DAY }] });
      else await one(store, now, { subject, take: [w()], add: [{ name: 'strike', windowMs: DAY, cost: 1 }] });
      expect(store.size).toBeLessThanOrEqual(50);
    }
    const now = T0 + 5_000 * 100;
    for (let i = 0; i < 5; i++) expect(await take(store, `fresh:${i}`, now)).toBe(true);
    for (let i = 0; i < 5; i++) expect(await take(store, `fresh:${i}`, now)).toBe(false);
    expect(store.size).toBeLessThanOrEqual(50);
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

  it('reserves 10% of maxKeys, rounded up, for counters unless told otherwise', async () => {
    const kept = async (options: { maxKeys: number; counterReserve?: number }) => {
      const store = new MemoryStore(options);
      for (let i = 0; i < 2 * options.maxKeys; i++) await one(store, T0, { subject: `ban:${i}`, set: [{ name: 'ban', value: 1, until: null }] });
      return (await store.scan('ban', { limit: 1_000, now: T0 })).entries.length;
    };
    expect(await kept({ maxKeys: 100 })).toBe(90);
    expect(await kept({ maxKeys: 25 })).toBe(22);
    expect(await kept({ maxKeys: 2 })).toBe(1);
    expect(await kept({ maxKeys: 100, counterReserve: 1 })).toBe(99);
    expect(await kept({ maxKeys: 100, counterReserve: 60 })).toBe(40);
    // One subject in all: nothing can be set aside, and a ban and a counter take turns.
    expect(await kept({ maxKeys: 1 })).toBe(1);
    const single = new MemoryStore({ maxKeys: 1 });
    await one(single, T0, { subject: 'b', set: [{ name: 'ban', value: 1, until: null }] });
    await one(single, T0, { subject: 'c', take: [w()] });
    expect(single.size).toBe(1);
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
    for (const counterReserve of [0, -1, 1.5, Number.NaN, Infinity]) {
      expect(() => new MemoryStore({ counterReserve })).toThrow(RangeError);
      expect(() => new MemoryStore({ counterReserve })).toThrow(/MemoryStore: counterReserve must be a positive integer, got/);
    }
    for (const counterReserve of ['10', null, {}]) {
      expect(() => new MemoryStore({ counterReserve: counterReserve as unknown as number })).toThrow(TypeError);
      expect(() => new MemoryStore({ counterReserve: counterReserve as unknown as number })).toThrow(/counterReserve must be a positive integer/);
    }
    // A reserve of every subject would leave bans no room.
    expect(() => new MemoryStore({ maxKeys: 10, counterReserve: 10 })).toThrow(RangeError);
    expect(() => new MemoryStore({ maxKeys: 10, counterReserve: 11 })).toThrow(/MemoryStore: counterReserve must be below maxKeys \(10\), got 11/);
    expect(() => new MemoryStore({ maxKeys: 1, counterReserve: 1 })).toThrow(/counterReserve must be below maxKeys/);
    expect(() => new MemoryStore({ maxKeys: 10, counterReserve: 9 })).not.toThrow();
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

describe('MemoryStore defects found in review', () => {
  const ban = (until: number | null) => ({ name: 'ban', value: { until }, until });
  const peekW = async (store: MemoryStore, now: number, subject: string, windowMs = MINUTE) =>
    (await one(store, now, { subject, peek: [{ name: 'w', windowMs }] })).counts.w;

  it('finds ended bans behind idle permanent ones, so counters keep their room', async () => {
    const store = new MemoryStore({ maxKeys: 20 });
    // Idle permanent bans at the least recently used end of the kept subjects hide the rest.
    for (let i = 0; i < 4; i++) await one(store, T0, { subject: `perm:${i}`, set: [ban(null)] });
    for (let i = 0; i < 14; i++) await one(store, T0, { subject: `short:${i}`, set: [ban(T0 + MINUTE)] });
    const now = T0 + 2 * MINUTE;
    for (let i = 0; i < 100; i++) await one(store, now, { subject: `c:${i}`, take: [w()] });
    // 16 subjects of room for counters once the 14 ended bans are found, not 2.
    for (let i = 84; i < 100; i++) expect(await peekW(store, now, `c:${i}`)).toBe(1);
    for (let i = 0; i < 4; i++) expect((await one(store, now, { subject: `perm:${i}`, get: ['ban'] })).marks.ban).toEqual({ until: null });
    expect(store.size).toBe(20);
  });

  it('never drops, to make room in a full subject, what the same operation wrote before', async () => {
    const store = new MemoryStore({ maxNamesPerSubject: 2 });
    await one(store, T0, { subject: 's', add: [{ name: 'x', windowMs: DAY, cost: 1 }, { name: 'y', windowMs: DAY, cost: 1 }] });
    // The add's new name must not push out the (shorter) window the take just committed.
    expect((await one(store, T0, { subject: 's', take: [w('w', 1)], add: [{ name: 'b', windowMs: DAY, cost: 1 }] })).consumed).toBe(true);
    expect((await one(store, T0, { subject: 's', take: [w('w', 1)] })).consumed).toBe(false);

    const other = new MemoryStore({ maxNamesPerSubject: 2 });
    await one(other, T0, { subject: 's', add: [{ name: 'x', windowMs: DAY, cost: 1 }] });
    // A strike added, then a ban set: the ban makes room from the older window, not the strike.
    await one(other, T0, { subject: 's', add: [{ name: 'w', windowMs: MINUTE, cost: 1 }], set: [ban(null)] });
    const after = await one(other, T0, { subject: 's', get: ['ban'], peek: [{ name: 'w', windowMs: MINUTE }, { name: 'x', windowMs: DAY }] });
    expect({ ...after.counts }).toEqual({ w: 1, x: 0 });
    expect(after.marks.ban).toEqual({ until: null });

    // Two marks set in one call on a subject of marks only: the second does not replace the first.
    const marks = new MemoryStore({ maxNamesPerSubject: 2 });
    await one(marks, T0, { subject: 's', set: [{ name: 'old', value: 1, until: null }, { name: 'older', value: 0, until: T0 + DAY }] });
    await one(marks, T0, { subject: 's', set: [{ name: 'ban', value: 2, until: T0 + MINUTE }, { name: 'rung', value: 3, until: T0 + 2 * MINUTE }] });
    expect({ ...(await one(marks, T0, { subject: 's', get: ['old', 'older', 'ban', 'rung'] })).marks }).toEqual({ ban: 2, rung: 3 });
  });

  it('rejects a window length or max that is not a number, as it does a NaN', async () => {
    const store = new MemoryStore();
    const bad = [
      { subject: 's', take: [{ name: 'w', windowMs: '60000' as unknown as number, max: 1, cost: 1 }] },
      { subject: 's', take: [{ name: 'w', windowMs: MINUTE, max: '5' as unknown as number, cost: 1 }] },
      { subject: 's', take: [{ name: 'w', windowMs: MINUTE, max: undefined as unknown as number, cost: 1 }] },
      { subject: 's', add: [{ name: 'w', windowMs: '60000' as unknown as number, cost: 1 }] },
      { subject: 's', take: [undefined as unknown as ReturnType<typeof w>] },
      { subject: 's', set: [null as unknown as { name: string; value: null; until: null }] },
    ];
    for (const ops of bad) await expect(store.apply({ now: T0, subjects: [ops] })).rejects.toThrow(/MemoryStore: subjects\[0\]\.(take|add|set)\[0\]/);
    expect(store.size).toBe(0);
  });

  it('pages in subject order whatever the page size (the smallest of many picked per page)', async () => {
    const store = new MemoryStore();
    const subjects = Array.from({ length: 300 }, (_, i) => `s:${(i * 7919) % 1000}`);
    for (const subject of subjects) await one(store, T0, { subject, set: [ban(null)] });
    for (const limit of [1, 7, 64, 299, 300, 301]) {
      const listed: string[] = [];
      let cursor: string | undefined;
      do {
        const result = await store.scan('ban', { limit, now: T0, ...(cursor === undefined ? {} : { cursor }) });
        expect(result.entries.length).toBeLessThanOrEqual(limit);
        listed.push(...result.entries.map((e) => e.subject));
        cursor = result.cursor ?? undefined;
      } while (cursor !== undefined);
      expect(listed).toEqual([...subjects].sort());
    }
  });

  it('lists each ban once across pages while traffic reorders, evicts and ends marks between them', async () => {
    const store = new MemoryStore({ maxKeys: 40 });
    for (let i = 0; i < 30; i++) await one(store, T0, { subject: `b:${i}`, set: [ban(i === 5 ? T0 + 10 : null)] });
    const seen: string[] = [];
    let cursor: string | undefined;
    let page = 0;
    do {
      const result = await store.scan('ban', { limit: 7, now: T0 + page * 10, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...result.entries.map((e) => e.subject));
      cursor = result.cursor ?? undefined;
      // Between pages: banned clients come back (their reads move them to the front), b:5's
      // ban ends, and a burst of new subjects.
      for (let i = 0; i < 30; i += 3) await one(store, T0 + page * 10, { subject: `b:${i}`, get: ['ban'] });
      for (let i = 0; i < 10; i++) await one(store, T0 + page * 10, { subject: `n:${page}:${i}`, take: [w()] });
      page++;
    } while (cursor !== undefined && page < 20);
    expect(new Set(seen).size).toBe(seen.length);
    const live = Array.from({ length: 30 }, (_, i) => `b:${i}`).filter((s) => s !== 'b:5');
    expect(seen.filter((s) => s !== 'b:5').sort()).toEqual(live.sort());
    // Any subject string round-trips through the cursor; cursors it did not make are refused.
    const odd = ['', 'a\u0000b', '\ud800', '__proto__', 'ç', 'k'];
    for (const subject of odd) await one(store, T0, { subject, set: [{ name: 'odd', value: 1, until: null }] });
    const listed: string[] = [];
    cursor = undefined;
    do {
      const result = await store.scan('odd', { limit: 1, now: T0, ...(cursor === undefined ? {} : { cursor }) });
      listed.push(...result.entries.map((e) => e.subject));
      cursor = result.cursor ?? undefined;
    } while (cursor !== undefined);
    expect(listed).toEqual([...odd].sort());
    for (const bad of ['7', 'k=', 'kA', 'k!', 'garbage']) await expect(store.scan('odd', { limit: 1, now: T0, cursor: bad })).rejects.toThrow(/cursor/);
  });
});

describe('MemoryStore window counts', () => {
  it('counts what the window model sums, with fractional, huge and refunded costs too', async () => {
    // MemoryStore keeps each window's count as hits land and slots leave; the model sums the
    // slots at every read. Fractions and sums past 2^53 are where the two could part.
    const costs = [1, 2, 3, -1, -2, 0, 0.1, 0.2, 0.7, -0.1, 2 ** 53 - 1, 2 ** 53, 1e300, -(2 ** 53)];
    const store = new MemoryStore();
    const models = new Map<string, WindowData>();
    let seed = 12345;
    const next = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    let now = T0;
    for (let i = 0; i < 3000; i++) {
      now += next(3) === 0 ? next(40_000) : next(500);
      const subject = `s${next(6)}`;
      const model = models.get(subject) ?? [];
      models.set(subject, model);
      const cost = costs[next(costs.length)]!;
      const at = now - next(2) * next(90_000);
      const max = next(4) === 0 ? Infinity : next(10);
      const result = await one(store, now, {
        subject,
        peek: [{ name: 'w', windowMs: MINUTE }],
        ...(next(2) === 0 ? { take: [{ name: 'w', windowMs: MINUTE, max, cost }] } : { add: [{ name: 'w', windowMs: MINUTE, cost, at }] }),
      });
      const count = prune(model, MINUTE, now);
      expect(result.counts.w).toBe(count);
      if (result.takes.length > 0) {
        expect(result.takes[0]).toEqual({ name: 'w', ...tryTake(model, count, MINUTE, max, cost, now) });
        if (result.consumed) addHit(model, MINUTE, now, cost);
      } else {
        addHit(model, MINUTE, at, cost);
      }
    }
    for (const [subject, model] of models) {
      expect((await one(store, now, { subject, peek: [{ name: 'w', windowMs: MINUTE }] })).counts.w).toBe(prune(model, MINUTE, now));
    }
  });
});

describe('MemoryStore subjects holding one window alone', () => {
  // A subject with one window and nothing else is held as that window, any other as a Subject
  // (memory-store.ts `Entry`): every change between the two forms must keep counts, marks,
  // listings and the bounds as they were.
  const WEEK = 7 * DAY;
  const peekOps = [{ name: 'c', windowMs: WEEK }, { name: 'd', windowMs: WEEK }];

  it('keeps counts and marks through every change of form', async () => {
    const store = new MemoryStore({ maxKeys: 100 });
    const read = (now = T0) => one(store, now, { subject: 's', get: ['ban'], peek: peekOps });
    await one(store, T0, { subject: 's', add: [{ name: 'c', windowMs: WEEK, cost: 2 }] }); // a lone window
    await one(store, T0, { subject: 's', set: [{ name: 'ban', value: 'x', until: null }] }); // a Subject, kept
    expect(await read()).toMatchObject({ marks: { ban: 'x' }, counts: { c: 2, d: 0 } });
    expect((await store.scan('ban', { limit: 10, now: T0 })).entries.map((e) => e.subject)).toEqual(['s']);
    await one(store, T0, { subject: 's', del: ['ban'] }); // a lone window again
    expect(await read()).toMatchObject({ marks: {}, counts: { c: 2, d: 0 } });
    expect((await store.scan('ban', { limit: 10, now: T0 })).entries).toEqual([]);
    await one(store, T0, { subject: 's', add: [{ name: 'd', windowMs: WEEK, cost: 1 }] }); // two windows
    await one(store, T0, { subject: 's', del: ['c'] }); // a lone window: d
    expect(await read()).toMatchObject({ counts: { c: 0, d: 1 } });
    await one(store, T0, { subject: 's', add: [{ name: 'd', windowMs: WEEK, cost: -1 }] }); // emptied: gone
    expect(store.size).toBe(0);
    expect(await read()).toMatchObject({ marks: {}, counts: { c: 0, d: 0 } });
  });

  it('keeps a lone window that a ban joins through a flood of counters, and lets it go with them once the ban ends', async () => {
    const store = new MemoryStore({ maxKeys: 50 });
    await one(store, T0, { subject: 'kept', add: [{ name: 'c', windowMs: WEEK, cost: 1 }] });
    await one(store, T0, { subject: 'kept', set: [{ name: 'ban', value: 1, until: T0 + DAY }] });
    for (let i = 0; i < 500; i++) await one(store, T0, { subject: `flood:${i}`, add: [{ name: 'c', windowMs: WEEK, cost: 1 }] });
    expect(store.size).toBeLessThanOrEqual(50);
    expect(await one(store, T0, { subject: 'kept', get: ['ban'], peek: peekOps })).toMatchObject({ marks: { ban: 1 }, counts: { c: 1 } });
    // Read after the ban ended, it is a lone window among the counters, evicted like them.
    expect(await one(store, T0 + DAY, { subject: 'kept', get: ['ban'], peek: peekOps })).toMatchObject({ marks: {}, counts: { c: 1 } });
    for (let i = 500; i < 1000; i++) await one(store, T0 + DAY, { subject: `flood:${i}`, add: [{ name: 'c', windowMs: WEEK, cost: 1 }] });
    expect(store.size).toBeLessThanOrEqual(50);
    expect((await one(store, T0 + DAY, { subject: 'kept', peek: peekOps })).counts.c).toBe(0);
  });

  it('reads and adds to a lone window as the general path does, evictions and all', async () => {
    // A `set` of nothing changes nothing but keeps an operation off the lone windows' own path.
    const lone = new MemoryStore({ maxKeys: 6, counterReserve: 2 });
    const general = new MemoryStore({ maxKeys: 6, counterReserve: 2 });
    let seed = 4242;
    const next = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    let now = T0;
    for (let i = 0; i < 6000; i++) {
      now += next(400);
      const subject = `s${next(10)}`;
      const name = next(4) === 0 ? 'd' : 'c';
      const windowMs = next(5) === 0 ? 2_000 : 1_000;
      const op = next(10);
      const ops: SubjectOps = { subject };
      if (op < 6) {
        ops.peek = next(3) === 0 ? [{ name, windowMs }, { name: 'c', windowMs: 1_000 }] : [{ name, windowMs }];
        if (op < 5) ops.add = [{ name: next(6) === 0 ? 'd' : name, windowMs: next(6) === 0 ? 2_000 : windowMs, cost: next(4) - 1, ...(next(4) === 0 ? { at: now - next(3_000) } : {}) }];
        if (op === 0) ops.get = ['ban'];
      } else if (op === 6) {
        ops.add = [{ name, windowMs, cost: 1 }];
      } else if (op === 7) {
        ops.set = [{ name: 'ban', value: i, until: now + next(2_000) }];
      } else if (op === 8) {
        ops.take = [{ name, windowMs, max: 2, cost: 1 }];
      } else {
        ops.del = [next(2) === 0 ? 'ban' : name];
      }
      const viaLone = await one(lone, now, ops);
      const viaGeneral = await one(general, now, { ...ops, set: ops.set ?? [] });
      expect(viaLone).toEqual(viaGeneral);
      expect(lone.size).toBe(general.size);
    }
    for (let k = 0; k < 10; k++) {
      const read: SubjectOps = { subject: `s${k}`, get: ['ban'], peek: [{ name: 'c', windowMs: 1_000 }, { name: 'c', windowMs: 2_000 }, { name: 'd', windowMs: 1_000 }, { name: 'd', windowMs: 2_000 }] };
      expect(await one(lone, now, read)).toEqual(await one(general, now, { ...read, set: [] }));
    }
  });

  it('agrees with a plain model of marks and counts on random operations', async () => {
    const store = new MemoryStore({ maxKeys: 1000 });
    type Model = { c: number; d: number; ban?: { value: number; until: number | null } };
    const models = new Map<string, Model>();
    let seed = 777;
    const next = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    let now = T0;
    for (let i = 0; i < 4000; i++) {
      now += next(60_000); // a few days in all: within the windows, across the bans' ends
      const subject = `s${next(5)}`;
      const model = models.get(subject) ?? { c: 0, d: 0 };
      models.set(subject, model);
      const live = model.ban !== undefined && (model.ban.until === null || model.ban.until > now);
      if (!live) delete model.ban;
      const op = next(7);
      const ops: SubjectOps = { subject };
      if (op <= 1) {
        const name = op === 0 ? 'c' : 'd';
        const cost = next(3) === 0 && model[name] > 0 ? -1 : 1;
        ops.add = [{ name, windowMs: WEEK, cost }];
        model[name] += cost;
      } else if (op === 2) {
        const until = next(2) === 0 ? null : now + next(3 * 3_600_000) + 1;
        ops.set = [{ name: 'ban', value: i, until }];
        model.ban = { value: i, until };
      } else if (op === 3) {
        ops.del = ['ban'];
        delete model.ban;
      } else if (op === 4) {
        const name = next(2) === 0 ? 'c' : 'd';
        ops.del = [name];
        model[name] = 0;
      } else if (op === 5) {
        ops.take = [{ name: 'c', windowMs: WEEK, max: 3, cost: 1 }];
        if (model.c + 1 <= 3) model.c += 1;
      }
      await one(store, now, ops);
      const read = await one(store, now, { subject, get: ['ban'], peek: peekOps });
      const liveAfter = model.ban !== undefined && (model.ban.until === null || model.ban.until > now);
      expect(read.marks).toEqual(liveAfter ? { ban: model.ban!.value } : {});
      expect(read.counts).toEqual({ c: model.c, d: model.d });
    }
    // Every subject read at the end: expired state dropped, the size is exact.
    let held = 0;
    const banned: string[] = [];
    for (const [subject, model] of models) {
      const read = await one(store, now, { subject, get: ['ban'], peek: peekOps });
      const live = model.ban !== undefined && (model.ban.until === null || model.ban.until > now);
      expect(read.counts).toEqual({ c: model.c, d: model.d });
      if (live) banned.push(subject);
      if (live || model.c > 0 || model.d > 0) held++;
    }
    expect(store.size).toBe(held);
    expect((await store.scan('ban', { limit: 100, now })).entries.map((e) => e.subject)).toEqual(banned.sort());
  });
});
