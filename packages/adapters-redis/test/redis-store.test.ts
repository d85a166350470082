import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { createClient as createClientV4 } from 'redis4';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { testStore } from '@actiongate/core/testing';
import { createGuard, type StoreBatch, type SubjectOps } from '@actiongate/core';
import { MemoryStore } from '@actiongate/memory';
import { keySlot, RedisStore } from '@actiongate/redis';
import { packCall } from '../src/shapes.js';

const url = inject('redisUrl');
// A prefix per run: tests never touch keys they did not write, even on a shared REDIS_URL.
const prefix = () => `agtest-${randomUUID().slice(0, 8)}`;
// These tests are about shared state: a busy machine must not turn their decisions into degraded ones.
const storeTimeoutMs = 5_000;

const clients: { quit(): Promise<unknown> }[] = [];
/** A connected ioredis client (RedisStore refuses commands until the client is ready). */
async function ioredis(): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  clients.push(client);
  return client;
}
afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit().catch(() => {})));
});

testStore('redis (ioredis, caller time)', async () => new RedisStore({ client: await ioredis(), prefix: prefix(), time: 'caller' }));

testStore('redis (node-redis, caller time)', async () => {
  const client = createClient({ url });
  await client.connect();
  clients.push(client);
  return new RedisStore({ client, prefix: prefix(), time: 'caller' });
});

// node-redis v4 (the `redis4` alias): the oldest client line the adapter supports.
testStore('redis (node-redis v4, caller time)', async () => {
  const client = createClientV4({ url });
  await client.connect();
  clients.push(client);
  return new RedisStore({ client, prefix: prefix(), time: 'caller' });
});

describe('RedisStore', () => {
  it('gives every subject a hash-tagged key no subject string can break out of', () => {
    const store = new RedisStore({ client: new Redis(url, { lazyConnect: true }), prefix: 'ag' });
    expect(store.keyOf('ip:1.2.3.4')).toBe('ag{ip:1.2.3.4}');
    expect(store.keyOf('actor:a}b{c')).toBe('ag{actor:a%7Db%7Bc}');
    expect(store.keyOf('actor:%7D')).toBe('ag{actor:%257D}');
    expect(keySlot(store.keyOf('actor:x}{evil}'))).toBe(keySlot('actor:x%7D%7Bevil%7D'));
    // A lone surrogate is encoded (UTF-8 would turn it into U+FFFD); a pair is kept as it is.
    expect(store.keyOf('actor:a\uD800')).toBe('ag{actor:a%uD800}');
    expect(store.keyOf('actor:\uDC00\uD800')).toBe('ag{actor:%uDC00%uD800}');
    expect(store.keyOf('actor:🚀\uFFFD')).toBe('ag{actor:🚀\uFFFD}');
    // Reference slots from Redis's own documentation of CLUSTER KEYSLOT.
    expect(keySlot('somekey')).toBe(11058);
    expect(keySlot('foo{hash_tag}')).toBe(keySlot('hash_tag'));
  });

  it('fails a batch whose later subject cannot be encoded without applying its earlier ones', async () => {
    const store = new RedisStore({ client: await ioredis(), prefix: prefix(), time: 'caller' });
    const batch = { now: 1_000, subjects: [{ subject: 'a', set: [{ name: 'm', value: 1, until: null }] }, { subject: 'b', set: [{ name: 'm', value: 10n as unknown as number, until: null }] }] };
    await expect(store.apply(batch)).rejects.toThrow(/must be JSON.*bigint/);
    expect((await store.apply({ now: 1_000, subjects: [{ subject: 'a', get: ['m'] }] })).subjects[0]!.marks).toEqual({});
  });

  it('keeps window and mark names with lone surrogates apart, as MemoryStore does (an ip+action limit names its window by the action)', async () => {
    const client = await ioredis();
    const store = new RedisStore({ client, prefix: prefix(), time: 'caller' });
    const memory = new MemoryStore();
    const now = 1_700_000_000_000;
    // As UTF-8 each lone surrogate becomes U+FFFD: all five would be one name in the record.
    const names = ['limit:l|a\uD800', 'limit:l|a\uDBFF', 'limit:l|a\uDC00', 'limit:l|a\uFFFD', `limit:l|${'x'.repeat(40)}\uD800`, `limit:l|${'x'.repeat(40)}\uFFFD`];
    const batches: StoreBatch[] = [
      ...names.map((name, i) => ({ now, subjects: [{ subject: 'ip:192.0.2.1', take: [{ name, windowMs: 60_000, max: 10, cost: i + 1 }], set: [{ name, value: i, until: null }] }] })),
      { now, subjects: [{ subject: 'ip:192.0.2.1', get: names, peek: names.map((name) => ({ name, windowMs: 60_000 })) }] },
    ];
    for (const batch of batches) expect(await store.apply(batch)).toEqual(await memory.apply(batch));
    // Listed under its own name too.
    expect((await store.scan(names[0]!, { limit: 10, now })).entries).toEqual([{ subject: 'ip:192.0.2.1', name: names[0], value: 0, until: null }]);
  });

  it('lists marks of escaped subjects under their own names', async () => {
    const store = new RedisStore({ client: await ioredis(), prefix: prefix(), time: 'caller' });
    const subjects = ['actor:a\uD800', 'actor:a\uFFFD', 'actor:{%uD800}', 'actor:%25'];
    await store.apply({ now: 1_000, subjects: subjects.map((subject, i) => ({ subject, set: [{ name: 'ban', value: i, until: null }] })) });
    const { entries } = await store.scan('ban', { limit: 100, now: 1_000 });
    expect(entries.map((e) => [e.subject, e.value]).sort((a, b) => Number(a[1]) - Number(b[1]))).toEqual(subjects.map((subject, i) => [subject, i]));
  });

  it('reads a bounded number of keys per scan call: among many counters without the mark, a page returns with a cursor, and paging finds each mark once', async () => {
    const client = await ioredis();
    const store = new RedisStore({ client, prefix: prefix(), time: 'caller' });
    const now = Date.now();
    // 6,000 subjects with a counter only (one per client IP, the bulk of a real keyspace), 3 banned.
    for (let b = 0; b < 6; b++) await store.apply({ now, subjects: Array.from({ length: 1_000 }, (_, i) => ({ subject: `ip:198.51.${b}.${i}`, take: [{ name: 'w', windowMs: 600_000, max: 5, cost: 1 }] })) });
    const banned = ['actor:a', 'actor:b', 'actor:c'];
    await store.apply({ now, subjects: banned.map((subject) => ({ subject, set: [{ name: 'ban', value: subject, until: null }] })) });
    const reads = vi.spyOn(client, 'evalsha');
    const first = await store.scan('ban', { limit: 10, now });
    // Each key read is one script call: a page must not read the whole keyspace to fill itself
    // (a million counters took minutes, far past any deadline, so the listing never returned).
    expect(reads.mock.calls.length).toBeLessThan(2_500);
    expect(first.cursor).not.toBeNull();
    const found = first.entries.map((e) => e.subject);
    for (let cursor = first.cursor, pages = 1; cursor !== null && pages < 100; pages++) {
      const page = await store.scan('ban', { limit: 10, now, cursor });
      found.push(...page.entries.map((e) => e.subject));
      cursor = page.cursor;
    }
    expect(found.sort()).toEqual(banned);
  });

  it("lists marks through an ioredis client with a keyPrefix, its own only, whatever the prefix's characters", async () => {
    const p = prefix();
    const stores = await Promise.all(['ag*[x]:', 'agZ[x]:'].map(async (keyPrefix) => {
      const client = new Redis(url, { lazyConnect: true, keyPrefix });
      await client.connect();
      clients.push(client);
      return new RedisStore({ client, prefix: p, time: 'caller' });
    }));
    for (const [i, store] of stores.entries()) await store.apply({ now: 1_000, subjects: [{ subject: `ip:192.0.2.${i}`, set: [{ name: 'ban', value: i, until: null }] }] });
    for (const [i, store] of stores.entries()) expect((await store.scan('ban', { limit: 10, now: 1_000 })).entries).toEqual([{ subject: `ip:192.0.2.${i}`, name: 'ban', value: i, until: null }]);
  });

  it('uses the Redis server clock with time: "server"', async () => {
    const store = new RedisStore({ client: await ioredis(), prefix: prefix() });
    const result = await store.apply({ now: 0, subjects: [{ subject: 's', take: [{ name: 'w', windowMs: 60_000, max: 1, cost: 1 }] }] });
    expect(Math.abs(result.now - Date.now())).toBeLessThan(5_000);
    expect(result.subjects[0]!.takes[0]!.resetMs).toBeGreaterThan(59_000);
  });

  it('puts a TTL on every key it writes, except for permanent marks', async () => {
    const client = await ioredis();
    const p = prefix();
    const store = new RedisStore({ client, prefix: p, time: 'caller' });
    const now = Date.now();
    await store.apply({ now, subjects: [{ subject: 'w', take: [{ name: 'w', windowMs: 60_000, max: 5, cost: 1 }] }, { subject: 'b', set: [{ name: 'ban', value: 1, until: now + 86_400_000 }] }, { subject: 'p', set: [{ name: 'ban', value: 1, until: null }] }] });
    // The window's hit leaves 60 s after the end of its 1 s slot; allow for the time the test takes.
    const windowTtl = await client.pttl(store.keyOf('w'));
    expect(windowTtl).toBeGreaterThan(59_000);
    expect(windowTtl).toBeLessThanOrEqual(61_000);
    expect(await client.pttl(store.keyOf('b'))).toBeGreaterThan(86_000_000);
    expect(await client.pttl(store.keyOf('p'))).toBe(-1);
  });

  it('answers as MemoryStore does for a sub-ms clock, fractional costs and ends, and an end 10^20 ms away', async () => {
    const client = await ioredis();
    const store = new RedisStore({ client, prefix: prefix(), time: 'caller' });
    const memory = new MemoryStore();
    const now = 1_700_000_000_000.25; // performance.timeOrigin + performance.now(), say
    const batches: StoreBatch[] = [
      { now, subjects: [{ subject: 'a', take: [{ name: 'w', windowMs: 60_000, max: 2, cost: 0.5 }], set: [{ name: 'ban', value: 1, until: now + 1_000.5 }] }, { subject: 'b', set: [{ name: 'ban', value: 2, until: 1e20 }] }] },
      { now: now + 10.5, subjects: [{ subject: 'a', get: ['ban'], peek: [{ name: 'w', windowMs: 60_000 }], take: [{ name: 'w', windowMs: 90.5, max: 1, cost: 1.25 }, { name: 'v', windowMs: 60_000, max: 2, cost: 1.5 }] }, { subject: 'b', get: ['ban'] }] },
      { now: now + 20, subjects: [{ subject: 'a', take: [{ name: 'v', windowMs: 60_000, max: 2, cost: 1 }] }] },
    ];
    for (const batch of batches) expect(await store.apply(batch)).toEqual(await memory.apply(batch));
    // Every key still carries a TTL, a whole number of ms; the far end's one as long as Redis allows.
    expect(await client.pttl(store.keyOf('a'))).toBeGreaterThan(59_000);
    expect(await client.pttl(store.keyOf('b'))).toBeGreaterThan(1e15);
    const { entries } = await store.scan('ban', { limit: 10, now: now + 20 });
    expect(entries.map((e) => [e.subject, e.until]).sort()).toEqual([['a', now + 1_000.5], ['b', 1e20]]);
  });

  it('answers as MemoryStore does for a call too large to send as a run of items (sent as one array)', async () => {
    const client = await ioredis();
    const store = new RedisStore({ client, prefix: prefix(), time: 'caller' });
    const memory = new MemoryStore();
    const now = 1_700_000_000_000;
    // 5,000 gets on one subject: more items than FLAT_ITEMS, so the call goes as an array.
    const names = Array.from({ length: 5_000 }, (_, i) => `mark-${i}`);
    const batches: StoreBatch[] = [
      { now, subjects: [{ subject: 'big', set: [{ name: 'mark-4999', value: 'x', until: null }, { name: 'mark-7', value: 7, until: now + 1_000 }], take: [{ name: 'w', windowMs: 60_000, max: 1, cost: 1 }] }] },
      { now: now + 1, subjects: [{ subject: 'big', get: names, take: [{ name: 'w', windowMs: 60_000, max: 1, cost: 1 }] }, { subject: 'small', get: ['mark-7'], take: [{ name: 'w', windowMs: 60_000, max: 1, cost: 1 }] }] },
    ];
    for (const batch of batches) expect(await store.apply(batch)).toEqual(await memory.apply(batch));
  });

  it('keeps fresh keys of one call apart, whether read, deleted from or written: each holds only its own state', async () => {
    const client = await ioredis();
    const store = new RedisStore({ client, prefix: prefix(), time: 'caller' });
    const memory = new MemoryStore();
    const now = 1_700_000_000_000;
    // Several fresh keys in one call: reads, a del of absent names, a mark on one and a window on
    // another. Each must end up with its own state only.
    const batches: StoreBatch[] = [
      { now, subjects: [
        { subject: 'r1', get: ['ban'], peek: [{ name: 'w', windowMs: 60_000 }], del: ['ban', 'w'] },
        { subject: 'm1', set: [{ name: 'ban', value: 1, until: now + 5_000 }, { name: 'gone', value: 0, until: now - 1 }] },
        { subject: 'w1', take: [{ name: 'w', windowMs: 60_000, max: 5, cost: 2 }] },
        { subject: 'r2', get: ['ban'], peek: [{ name: 'w', windowMs: 60_000 }] },
      ] },
      { now: now + 1, subjects: ['r1', 'm1', 'w1', 'r2'].map((subject) => ({ subject, get: ['ban'], peek: [{ name: 'w', windowMs: 60_000 }] })) },
    ];
    for (const batch of batches) expect(await store.apply(batch)).toEqual(await memory.apply(batch));
    expect(await client.exists(store.keyOf('r1'), store.keyOf('r2'))).toBe(0);
  });

  it('holds at most 64 names per subject, dropping what MemoryStore drops: a ban outlasts 300 fresh windows', async () => {
    const client = await ioredis();
    const store = new RedisStore({ client, prefix: prefix(), time: 'caller' });
    const memory = new MemoryStore();
    const now = 1_700_000_000_000;
    const ban = { subject: 's', set: [{ name: 'ban', value: 'spam', until: now + 86_400_000 }, { name: 'rung', value: 1, until: null }] };
    await store.apply({ now, subjects: [ban] });
    await memory.apply({ now, subjects: [ban] });
    // One take per fresh name (an ip+action limit over actions the client picks), a second apart,
    // each window of its own length, so which leaves soonest is not a tie.
    const windowOf = (i: number) => 600_000 + 7_001 * (i % 7) * (i % 3 === 0 ? -1 : 1) + i;
    for (let i = 0; i < 300; i++) {
      const batch = { now: now + i * 1_000, subjects: [{ subject: 's', take: [{ name: `limit|a${i}`, windowMs: windowOf(i), max: 5, cost: 1 }] }] };
      expect(await store.apply(batch)).toEqual(await memory.apply(batch));
    }
    const read = { now: now + 300_000, subjects: [{ subject: 's', get: ['ban', 'rung'], peek: Array.from({ length: 300 }, (_, i) => ({ name: `limit|a${i}`, windowMs: windowOf(i) })) }] };
    const [held, expected] = [await store.apply(read), await memory.apply(read)];
    expect(held).toEqual(expected);
    expect(held.subjects[0]!.marks).toEqual({ ban: 'spam', rung: 1 });
    expect(Object.values(held.subjects[0]!.counts).filter((count) => count > 0)).toHaveLength(62);
    // Nothing grows with the names a client invents: the record stays a few KB.
    expect(await client.strlen(store.keyOf('s'))).toBeLessThan(4_096);
  });

  it('serves a guard: limits shared by two guards on one Redis', async () => {
    const [a, b] = [await ioredis(), await ioredis()];
    const p = prefix();
    const policy = { name: 'shared', limits: [{ id: 'l', by: 'ip' as const, window: '1m', max: 3 }] };
    const guards = [createGuard({ policy, store: new RedisStore({ client: a, prefix: p }), storeTimeoutMs }), createGuard({ policy, store: new RedisStore({ client: b, prefix: p }), storeTimeoutMs })];
    const verdicts = [];
    for (let i = 0; i < 6; i++) {
      const guard = guards[i % 2]!;
      verdicts.push((await guard.evaluate({ action: 'x', ip: '192.0.2.9' })).verdict);
      // A decision's writes (its strike) leave after it returns, on its own connection: a call
      // on that connection after them has them applied when it answers. Without this barrier
      // the other guard's next read could overtake the strike on a loaded host, and the ban
      // below would come one decision later.
      await guard.inspect('ip:192.0.2.9');
    }
    // The third violation (bans.after defaults to 3) escalates to a ban, also shared.
    expect(verdicts).toEqual(['allow', 'allow', 'allow', 'throttle', 'throttle', 'block']);
  });

  it('runs its scripts again after SCRIPT FLUSH (NOSCRIPT, then EVAL), on each client', async () => {
    const v5 = createClient({ url });
    const v4 = createClientV4({ url });
    await Promise.all([v5.connect(), v4.connect()]);
    clients.push(v5, v4);
    const observer = await ioredis();
    for (const client of [await ioredis(), v5, v4]) {
      const store = new RedisStore({ client, prefix: prefix(), time: 'caller' });
      const take = { now: 1_000, subjects: [{ subject: 's', take: [{ name: 'w', windowMs: 60_000, max: 5, cost: 1 }], set: [{ name: 'ban', value: 1, until: null }] }] };
      expect((await store.apply(take)).subjects[0]!.takes[0]!.count).toBe(1);
      await observer.script('FLUSH');
      expect((await store.apply(take)).subjects[0]!.takes[0]!.count).toBe(2);
      await observer.script('FLUSH');
      expect((await store.scan('ban', { limit: 10, now: 1_000 })).entries).toEqual([{ subject: 's', name: 'ban', value: 1, until: null }]);
    }
  });

  it('reads its answers from ioredis as Buffers, skipping ioredis\'s conversion of every item, and decodes them alike', async () => {
    const client = await ioredis();
    const raw = vi.spyOn(client as unknown as { evalshaBuffer: (...args: unknown[]) => Promise<unknown> }, 'evalshaBuffer');
    const converted = vi.spyOn(client, 'evalsha');
    const store = new RedisStore({ client, prefix: prefix(), time: 'caller' });
    const memory = new MemoryStore();
    const now = 1_700_000_000_000.5;
    const batches: StoreBatch[] = [
      { now, subjects: [{ subject: 'é', take: [{ name: 'w', windowMs: 60_000, max: 3, cost: 1.5 }], set: [{ name: 'note', value: { ü: ['😀', null] }, until: null }, { name: 'null', value: null, until: null }, { name: 'gone', value: 0, until: now + 0.5 }] }] },
      { now: now + 1, subjects: [{ subject: 'é', get: ['none', 'note', 'null', 'gone'], peek: [{ name: 'w', windowMs: 60_000 }], take: [{ name: 'w', windowMs: 60_000, max: 3, cost: 2 }] }] },
    ];
    for (const batch of batches) expect(await store.apply(batch)).toEqual(await memory.apply(batch));
    expect(raw).toHaveBeenCalledTimes(2);
    expect(converted).not.toHaveBeenCalled();
  });

  it('sends a key that evaluations of one call read alike once, and reads it again after one of them writes it', async () => {
    const client = await ioredis();
    const raw = vi.spyOn(client as unknown as { evalshaBuffer: (...args: unknown[]) => Promise<unknown> }, 'evalshaBuffer');
    const store = new RedisStore({ client, prefix: prefix(), time: 'caller' });
    const now = 1_700_000_000_000;
    const read = { subject: 'ranges-version', get: ['v'] };
    const take = (subject: string) => ({ subject, take: [{ name: 'w', windowMs: 60_000, max: 5, cost: 1 }] });
    // The first goes alone; the others, made while it is in flight, share the next call.
    const first = store.apply({ now, subjects: [read, take('ip1')] });
    const results = await Promise.all([
      first,
      store.apply({ now, subjects: [read, take('ip2')] }),
      store.apply({ now, subjects: [read, take('ip3')] }),
      store.apply({ now, subjects: [{ subject: 'ranges-version', set: [{ name: 'v', value: 7, until: null }] }] }),
      store.apply({ now, subjects: [read, take('ip4')] }),
      store.apply({ now, subjects: [read, take('ip5')] }),
    ]);
    expect(results.map((r) => r.subjects[0]!.marks)).toEqual([{}, {}, {}, {}, { v: 7 }, { v: 7 }]);
    expect(results.map((r) => r.subjects[1]?.takes[0]?.admitted)).toEqual([true, true, true, undefined, true, true]);
    const keys = raw.mock.calls.map((c) => (c as unknown[])[1] as number);
    expect(keys).toEqual([2, 7]); // ranges-version read once before the write and once after
  });

  it('refuses a listing at once while the client is not connected, instead of waiting in its offline queue', async () => {
    // A port nothing listens on: ioredis keeps reconnecting, and would queue the SCAN meanwhile.
    const server = (await import('node:net')).createServer();
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    await new Promise((resolve) => server.close(resolve));
    const client = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 50 });
    client.on('error', () => {});
    await client.connect().catch(() => {});
    const store = new RedisStore({ client, prefix: prefix() });
    const started = performance.now();
    await expect(store.scan('ban', { limit: 10, now: Date.now() })).rejects.toMatchObject({ code: 'STORE_FAILED', message: expect.stringMatching(/not connected/) });
    expect(performance.now() - started).toBeLessThan(500);
    client.disconnect();
  });

  it('rejects clients it does not know', () => {
    expect(() => new RedisStore({ client: {} })).toThrow(/ioredis|node-redis/);
  });
});

describe('the apply script', () => {
  // One shape (one take of window w), and each key's shape number.
  const take = (max: number, keys = 1) => [packCall([{ take: [{ name: 'w', windowMs: 60_000, max, cost: 1 }] }], Array.from({ length: keys }, () => 1))];
  const script = async () => (await import('../src/script.js')).APPLY_SCRIPT;

  it('refuses a resent call instead of counting it twice', async () => {
    const client = await ioredis();
    const key = `${prefix()}{ip:1}`;
    const run = async (request: string) => (await client.eval(await script(), 1, key, '1700000000000', request, ...take(5))) as unknown[];
    // The answer per key: the take's count, admitted, resetMs, then consumed.
    expect(await run('req-1')).toEqual([1_700_000_000_000, 0, 1, 1, 61_000, 1]);
    expect(await run('req-1')).toEqual([1_700_000_000_000, 1]);
    expect(await run('req-2')).toEqual([1_700_000_000_000, 0, 2, 1, 61_000, 1]);
  });

  it('refuses a resent refund after other calls wrote the key, instead of giving back twice', async () => {
    const client = await ioredis();
    const key = `${prefix()}{ip:r1}`;
    const now = 1_700_000_000_000;
    const w = { name: 'w', windowMs: 60_000 };
    const run = async (shape: Omit<SubjectOps, 'subject'>, request: string) => (await client.eval(await script(), 1, key, String(now), request, packCall([shape], [1]))) as unknown[];
    const takeOne = { take: [{ ...w, max: 5, cost: 1 }] };
    const refund = { add: [{ ...w, cost: -1, at: now }] };
    const count = async () => (await run({ peek: [w] }, ''))[2];
    await run(takeOne, 'storeA.1');
    await run(takeOne, 'storeB.1');
    await run(refund, 'storeA.2');
    expect(await count()).toBe(1);
    // Another store's call writes the key: r no longer names the refund.
    await run(takeOne, 'storeB.2');
    expect(await count()).toBe(2);
    // The refund resent (a reconnect): answered as resent, nothing given back a second time.
    expect(await run(refund, 'storeA.2')).toEqual([now, 1]);
    expect(await count()).toBe(2);
    // The store's later calls, refunds included, still apply.
    await run(refund, 'storeA.3');
    expect(await count()).toBe(1);
  });

  it('keeps a key a refund emptied, so the refund resent after a new hit gives back nothing', async () => {
    const client = await ioredis();
    const key = `${prefix()}{ip:r2}`;
    const now = 1_700_000_000_000;
    const w = { name: 'w', windowMs: 60_000 };
    const run = async (shape: Omit<SubjectOps, 'subject'>, request: string) => (await client.eval(await script(), 1, key, String(now), request, packCall([shape], [1]))) as unknown[];
    const refund = { add: [{ ...w, cost: -1, at: now }] };
    await run({ take: [{ ...w, max: 5, cost: 1 }] }, 'storeA.1');
    await run(refund, 'storeA.2');
    expect(await client.exists(key)).toBe(1);
    expect(await client.pttl(key)).toBeGreaterThan(60_000);
    await run({ take: [{ ...w, max: 5, cost: 1 }] }, 'storeB.1');
    expect(await run(refund, 'storeA.2')).toEqual([now, 1]);
    expect((await run({ peek: [w] }, ''))[2]).toBe(1);
  });

  it('remembers the last 16 stores that refunded on a key: a refund resent after 16 others refunded there gives back again', async () => {
    const client = await ioredis();
    const key = `${prefix()}{ip:r3}`;
    const now = 1_700_000_000_000;
    const w = { name: 'w', windowMs: 60_000 };
    const run = async (shape: Omit<SubjectOps, 'subject'>, request: string) => (await client.eval(await script(), 1, key, String(now), request, packCall([shape], [1]))) as unknown[];
    const refund = { add: [{ ...w, cost: -1, at: now }] };
    await run({ add: [{ ...w, cost: 30 }] }, 'seed.1');
    await run(refund, 'storeA.1');
    for (let i = 0; i < 15; i++) await run(refund, `other${i}.1`);
    expect(await run(refund, 'storeA.1')).toEqual([now, 1]);
    await run(refund, 'other15.1');
    // Now 16 other stores refunded since: storeA's refund is forgotten, and its resend applies.
    expect((await run(refund, 'storeA.1'))[1]).toBe(0);
    expect((await run({ peek: [w] }, ''))[2]).toBe(30 - 1 - 16 - 1);
  });

  it('answers all the gets of a key as one item: nil when none of the marks is there, else [value] or 0 per get (a lone get: its JSON)', async () => {
    const client = await ioredis();
    const key = `${prefix()}{ip:9}`;
    const run = async (shape: Omit<SubjectOps, 'subject'>, request: string) => (await client.eval(await script(), 1, key, '1700000000000', request, packCall([shape], [1]))) as unknown[];
    // Per key: the gets' item, then consumed.
    expect(await run({ get: ['a', 'b', 'c'] }, 'req-g1')).toEqual([1_700_000_000_000, 0, null, 0]);
    await run({ set: [{ name: 'b', value: { x: [1, 'é'] }, until: null }, { name: 'c', value: null, until: null }] }, 'req-g2');
    const [, , item, consumed] = await run({ get: ['a', 'b', 'c', 'd'] }, 'req-g3');
    expect(JSON.parse(item as string)).toEqual([0, [{ x: [1, 'é'] }], [null], 0]);
    expect(consumed).toBe(0);
    // A lone get answers the mark's JSON itself.
    expect((await run({ get: ['b'] }, 'req-g4')).slice(2)).toEqual(['{"x":[1,"é"]}', 0]);
    expect((await run({ get: ['a'] }, 'req-g5')).slice(2)).toEqual([null, 0]);
  });

  it('stores a record without marks without an m table, and reads marks into it again', async () => {
    const store = new RedisStore({ client: await ioredis(), prefix: prefix(), time: 'caller' });
    const client = await ioredis();
    const fields = async () => (await client.eval("local r = cmsgpack.unpack(redis.call('GET', KEYS[1])) local out = {} for k in pairs(r) do out[#out + 1] = k end table.sort(out) return out", 1, store.keyOf('s'))) as string[];
    const now = 1_700_000_000_000;
    await store.apply({ now, subjects: [{ subject: 's', take: [{ name: 'w', windowMs: 60_000, max: 5, cost: 1 }] }] });
    expect(await fields()).toEqual(['r', 'w']);
    await store.apply({ now, subjects: [{ subject: 's', set: [{ name: 'ban', value: 1, until: null }] }] });
    expect(await fields()).toEqual(['m', 'r', 'w']);
    const read = await store.apply({ now, subjects: [{ subject: 's', get: ['ban'], peek: [{ name: 'w', windowMs: 60_000 }] }] });
    expect(read.subjects[0]).toMatchObject({ marks: { ban: 1 }, counts: { w: 1 } });
  });

  it('a call naming one key many times reads and writes it once, applying each in order', async () => {
    const client = await ioredis();
    const key = `${prefix()}{ip:2}`;
    const reply = (await client.eval(await script(), 3, key, key, key, '1700000000000', 'req-3', ...take(2, 3))) as unknown[];
    expect(reply).toEqual([1_700_000_000_000, 0, 1, 1, 61_000, 1, 2, 1, 61_000, 1, 2, 0, 61_000, 0]);
    expect(await client.pttl(key)).toBeGreaterThan(0);
  });

  it('applies every add and set of a shape, also those without a time (no early end of a list)', async () => {
    const store = new RedisStore({ client: await ioredis(), prefix: prefix(), time: 'caller' });
    const now = 1_700_000_000_000;
    await store.apply({ now, subjects: [{ subject: 's', add: [{ name: 'a', windowMs: 60_000, cost: 2 }, { name: 'b', windowMs: 60_000, cost: 3 }], set: [{ name: 'p', value: 'forever', until: null }, { name: 'q', value: 'for now', until: now + 1_000 }, { name: 'r', value: 'also forever', until: null }] }] });
    const read = await store.apply({ now, subjects: [{ subject: 's', get: ['p', 'q', 'r'], peek: [{ name: 'a', windowMs: 60_000 }, { name: 'b', windowMs: 60_000 }] }] });
    expect(read.subjects[0]).toMatchObject({ marks: { p: 'forever', q: 'for now', r: 'also forever' }, counts: { a: 2, b: 3 } });
  });

  it('replaces a key of another type instead of failing every decision on it', async () => {
    const client = await ioredis();
    const key = `${prefix()}{ip:3}`;
    await client.hset(key, 'field', 'left by something else');
    expect(await client.eval(await script(), 1, key, '1700000000000', 'req-4', ...take(5))).toEqual([1_700_000_000_000, 0, 1, 1, 61_000, 1]);
    expect(await client.type(key)).toBe('string');
  });

  it.each(['run', 'array'] as const)('decodes in Lua to exactly what the client encoded, sent as a %s: every number and string form', async (form) => {
    const client = await ioredis();
    // Each decoded item rendered so nothing is lost on the way back: numbers to 17 digits. S is
    // read as the apply script reads it.
    const echo = `
      local S = { cmsgpack.unpack(ARGV[1]) }
      if type(S[1]) == 'table' then S = S[1] end
      local keys = tonumber(ARGV[2])
      local sizes = { 1, 2, 5, 4, 4, 1 }
      local out = {}
      for k = 1, keys do
        local j = S[#S - keys + k]
        for l = 1, 6 do
          local c = S[j] * sizes[l]
          out[#out + 1] = '#' .. c
          for i = j + 1, j + c do
            local v = S[i]
            if type(v) == 'number' then out[#out + 1] = 'n' .. string.format('%.17g', v)
            elseif type(v) == 'boolean' then out[#out + 1] = 'b' .. tostring(v)
            else out[#out + 1] = 's' .. v end
          end
          j = j + c + 1
        end
      end
      return out`;
    const numbers = [0, 1, 127, 128, 255, 65_535, 2 ** 32 - 1, 2 ** 32, 1.5, -1, -2.25, 1_796_086_464_286, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY];
    const strings = ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'é', 'ѵіаgrа', '😀', '__proto__', 'a\u0000b', 'y'.repeat(70_000), 'ü'.repeat(40_000)];
    const shapes = [
      { get: strings, peek: numbers.map((windowMs, i) => ({ name: `p${i}`, windowMs })) },
      { take: numbers.map((max, i) => ({ name: `t${i}`, windowMs: 60_000, max, cost: numbers[numbers.length - 1 - i]!, dryRun: i % 2 === 0 })) },
      { add: [{ name: 'a', windowMs: 1, cost: -3, at: 1_796_086_464_286.5 }, { name: 'b', windowMs: 2, cost: 4 }], set: [{ name: 's', value: { é: [1, null, 'x'] }, until: null }, { name: 't', value: 'v', until: 5, ifLater: true }], del: ['d'] },
    ];
    const decoded = (await client.eval(echo, 0, packCall(shapes, [1, 2, 3], form), '3')) as string[];
    const expected: string[] = [];
    const list = (items: (string | number | boolean)[]) => {
      expected.push(`#${items.length}`);
      for (const item of items) expected.push(typeof item === 'number' ? `n${item}` : typeof item === 'boolean' ? `b${item}` : `s${item}`);
    };
    // The layout documented in shapes.ts: six counted lists per shape, flat.
    for (const shape of shapes as Omit<SubjectOps, 'subject'>[]) {
      list(shape.get ?? []);
      list((shape.peek ?? []).flatMap((p) => [p.name, p.windowMs]));
      list((shape.take ?? []).flatMap((t) => [t.name, t.windowMs, t.max, t.cost, t.dryRun === true]));
      list((shape.add ?? []).flatMap((a) => [a.name, a.windowMs, a.cost, a.at ?? false]));
      list((shape.set ?? []).flatMap((m) => [m.name, JSON.stringify(m.value), m.until ?? false, m.ifLater === true]));
      list(shape.del ?? []);
    }
    expect(decoded.length).toBe(expected.length);
    decoded.forEach((item, i) => {
      if (item.startsWith('n')) expect(Number(item.slice(1).replace('inf', 'Infinity')), `item ${i}`).toBe(Number(expected[i]!.slice(1)));
      else expect(item, `item ${i}`).toBe(expected[i]);
    });
  });
});

describe('RedisStore sharing calls', () => {
  it('evaluations in flight together share script calls, each answered as if alone', async () => {
    const client = await ioredis();
    const store = new RedisStore({ client, prefix: prefix(), time: 'caller' });
    const now = 1_700_000_000_000;
    const observer = await ioredis();
    const before = Number(/cmdstat_evalsha:calls=(\d+)/.exec(await observer.info('commandstats'))?.[1] ?? 0);
    // 50 takes at one key limited to 20 and one at another, all in flight at once.
    const results = await Promise.all([
      ...Array.from({ length: 50 }, () => store.apply({ now, subjects: [{ subject: 'hot', take: [{ name: 'w', windowMs: 60_000, max: 20, cost: 1 }] }] })),
      store.apply({ now, subjects: [{ subject: 'cold', get: ['ban'], take: [{ name: 'w', windowMs: 60_000, max: 20, cost: 1 }] }] }),
    ]);
    const after = Number(/cmdstat_evalsha:calls=(\d+)/.exec(await observer.info('commandstats'))?.[1] ?? 0);
    const hot = results.slice(0, 50).map((r) => r.subjects[0]!.takes[0]!);
    expect(hot.filter((t) => t.admitted)).toHaveLength(20);
    expect(hot.map((t) => t.count)).toEqual([...Array.from({ length: 20 }, (_, i) => i + 1), ...Array.from({ length: 30 }, () => 20)]);
    expect(results[50]!.subjects[0]).toMatchObject({ subject: 'cold', marks: {}, consumed: true, takes: [{ count: 1, admitted: true }] });
    // Server-wide counts: only meaningful on the private server.
    if (inject('redisPrivate')) expect(after - before).toBeLessThan(10);
  });

  it('with the caller clock, only evaluations made at the same moment share a call', async () => {
    const store = new RedisStore({ client: await ioredis(), prefix: prefix(), time: 'caller' });
    const now = 1_700_000_000_000;
    // The same window at two moments a minute apart, in flight together: each counts at its own.
    const [early, late] = await Promise.all([
      store.apply({ now, subjects: [{ subject: 's', take: [{ name: 'w', windowMs: 60_000, max: 1, cost: 1 }] }] }),
      store.apply({ now: now + 61_000, subjects: [{ subject: 's', take: [{ name: 'w', windowMs: 60_000, max: 1, cost: 1 }] }] }),
    ]);
    expect(early.subjects[0]!.takes[0]!.admitted).toBe(true);
    expect(late.subjects[0]!.takes[0]!.admitted).toBe(true);
  });

  it('with the caller clock, applies evaluations of one key in arrival order, whatever their moments', async () => {
    const store = new RedisStore({ client: await ioredis(), prefix: prefix(), time: 'caller' });
    const memory = new MemoryStore();
    const now = 1_700_000_000_000;
    // The first and third at one moment, the second a minute later, all in flight together.
    const batches = [now, now + 61_000, now, now + 61_000, now].map((at) => ({ now: at, subjects: [{ subject: 's', take: [{ name: 'w', windowMs: 60_000, max: 2, cost: 1 }] }] }));
    const answers = await Promise.all(batches.map((batch) => store.apply(batch)));
    // MemoryStore applies them one after the other, as they came.
    for (const [i, batch] of batches.entries()) expect(answers[i], `evaluation ${i}`).toEqual(await memory.apply(batch));
  });

  it('refuses bad options with a plain message', () => {
    const client = new Redis(url, { lazyConnect: true });
    expect(() => new RedisStore({ client, maxSubjectsPerCall: 0 })).toThrow(/maxSubjectsPerCall must be a positive integer/);
    expect(() => new RedisStore({ client, maxSubjectsInFlight: Number.NaN })).toThrow(/maxSubjectsInFlight must be a positive integer, got NaN/);
    expect(() => new RedisStore({ client, maxEvaluationsPerCall: 1.5 })).toThrow(/maxEvaluationsPerCall must be a positive integer, got 1.5/);
    expect(() => new RedisStore({ client, time: 'local' as 'server' })).toThrow(/time must be/);
  });
});

describe('operator actions through Redis', () => {
  it('counts the bans in force across processes, among many keys that hold none', async () => {
    const p = prefix();
    const policy = { name: 'count', limits: [{ id: 'l', by: 'ip' as const, window: '1h', max: 5 }] };
    const [one, two] = [createGuard({ policy, store: new RedisStore({ client: await ioredis(), prefix: p }), storeTimeoutMs }), createGuard({ policy, store: new RedisStore({ client: await ioredis(), prefix: p }), storeTimeoutMs })];
    // 3,000 counters without a ban: pages come back short and the count must page on past them.
    const store = new RedisStore({ client: await ioredis(), prefix: p });
    await store.apply({ now: Date.now(), subjects: Array.from({ length: 3_000 }, (_, i) => ({ subject: `ip:198.51.${i >> 8}.${i & 255}`, take: [{ name: 'w', windowMs: 600_000, max: 5, cost: 1 }] })) });
    await one.block('ip:192.0.2.1');
    await one.block('cidr:203.0.113.0/24', { for: '7d' });
    await two.block('actor:a', { for: 'permanent' });
    await two.block('actor:b');
    await two.unblock('actor:b');
    const counted = await one.countBans();
    expect(counted).toMatchObject({ ip: 1, actor: 1, cidr: 1 });
    expect(Math.abs(counted.at - Date.now())).toBeLessThan(5_000);
    expect(two.metrics().activeBans).toBeNull(); // each process's gauge is its own count
    expect(await two.countBans()).toMatchObject({ ip: 1, actor: 1, cidr: 1 });
  });

  it('a block, an allow and a passed challenge made by one process hold in another', async () => {
    const p = prefix();
    const policy = { name: 'ops', content: { terms: { casino: 50 } }, scoring: { challenge: 40 } };
    const [one, two] = [createGuard({ policy, store: new RedisStore({ client: await ioredis(), prefix: p }), storeTimeoutMs }), createGuard({ policy, store: new RedisStore({ client: await ioredis(), prefix: p }), storeTimeoutMs })];
    await one.block('ip:192.0.2.66', { for: '1h', reason: 'seen elsewhere' });
    expect((await two.evaluate({ action: 'x', ip: '192.0.2.66' })).reasons[0]).toMatchObject({ source: 'ban', message: 'seen elsewhere' });
    expect((await two.listBlocks()).entries.map((e) => e.subject)).toContain('ip:192.0.2.66');
    await one.unblock('ip:192.0.2.66');
    expect((await two.evaluate({ action: 'x', ip: '192.0.2.66' })).verdict).toBe('allow');
    const challenged = await one.evaluate({ action: 'x', ip: '192.0.2.67', content: { body: 'casino' } });
    expect(challenged.verdict).toBe('challenge');
    expect(await two.passChallenge(challenged.challenge!.token)).toBe(true);
    expect(await one.passChallenge(challenged.challenge!.token)).toBe(false);
    expect((await one.evaluate({ action: 'x', ip: '192.0.2.67', content: { body: 'casino' } })).verdict).toBe('allow');
  });
});
