import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createGuard, type Decision } from '@actiongate/core';
import { RedisStore } from '@actiongate/redis';
import { startRedisServer, type RedisServer } from '../../../test/redis-setup.js';
import { fourProcesses } from './fixtures/processes.js';

const url = inject('redisUrl');

describe('across processes', () => {
  it('4 processes × 200 concurrent evaluations at one key limited to 100: exactly 100 allowed, every time', async () => {
    for (let round = 0; round < 2; round++) {
      expect(await fourProcesses(url)).toEqual({ allowed: 100, degraded: 0 });
    }
  }, 60_000);
});

describe('one round trip', () => {
  it('sends exactly one EVALSHA per allowed decision and nothing else', async () => {
    // INFO commandstats are server-wide: only meaningful on the private server.
    if (!inject('redisPrivate')) return;
    const client = new Redis(url, { lazyConnect: true });
    await client.connect();
    const observer = new Redis(url, { lazyConnect: true });
    await observer.connect();
    const guard = createGuard({
      policy: { name: 'rt', limits: [{ id: 'a', by: 'ip', window: '1m', max: 100 }, { id: 'b', by: 'ip', window: '1h', max: 500 }, { id: 'c', by: 'actor', window: '1d', max: 1000 }] },
      store: new RedisStore({ client, prefix: `agrt-${randomUUID().slice(0, 8)}` }),
      storeTimeoutMs: 5_000,
    });
    await guard.evaluate({ action: 'x', ip: '192.0.2.1', actor: { id: 'warm' } }); // loads the script
    await observer.config('RESETSTAT');
    for (let i = 0; i < 20; i++) expect((await guard.evaluate({ action: 'x', ip: `192.0.2.${i}`, actor: { id: `u${i}` } })).verdict).toBe('allow');
    const stats = await observer.info('commandstats');
    const calls = Object.fromEntries([...stats.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
    // commandstats also counts what runs inside scripts; everything else is the observer's.
    const insideScripts = new Set(['get', 'set', 'del', 'time']);
    const topLevel = Object.entries(calls).filter(([name]) => !insideScripts.has(name) && !/^(config|info)/.test(name));
    expect(topLevel).toEqual([['evalsha', 20]]);
    await client.quit();
    await observer.quit();
  });
});

describe('outage', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('decides in time per failMode while Redis is down, and recovers by itself', async () => {
    const client = new Redis(server.url, { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 1 });
    client.on('error', () => {}); // connection errors are expected here
    await client.connect();
    const errors: unknown[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const policy = { name: 'outage', limits: [{ id: 'l', by: 'ip' as const, window: '1h', max: 1000 }] };
    const stores = (failMode: 'open' | 'closed' | 'memory') => createGuard({ policy: { ...policy, failMode }, store: new RedisStore({ client, prefix: 'outage' }), storeTimeoutMs: 100, onError: (e) => errors.push(e) });
    const [open, closed, memory] = [stores('open'), stores('closed'), stores('memory')];
    const ask = (guard: ReturnType<typeof stores>) => guard.evaluate({ action: 'x', ip: '192.0.2.77' });

    expect((await ask(open)).degraded).toBe(false);
    await server.kill();
    const during: Decision[] = [];
    for (const guard of [open, closed, memory]) {
      const started = performance.now();
      during.push(await ask(guard));
      expect(performance.now() - started).toBeLessThan(100 + 400);
    }
    expect(during.map((d) => [d.verdict, d.degraded])).toEqual([['allow', true], ['block', true], ['allow', true]]);
    expect(during.every((d) => d.reasons.some((r) => r.id === 'store-unavailable'))).toBe(true);
    expect(errors.length).toBeGreaterThanOrEqual(3);

    await server.restart();
    let recovered: Decision | undefined;
    for (let i = 0; i < 100 && !(recovered && !recovered.degraded); i++) {
      await new Promise((r) => setTimeout(r, 50));
      recovered = await ask(closed);
    }
    expect(recovered).toMatchObject({ verdict: 'allow', degraded: false });
    // What was decided while Redis was down was never queued and replayed afterwards.
    expect(recovered!.limits[0]!.count).toBe(1);
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
    client.disconnect();
  }, 30_000);

  it('recovers under a host that awaits decisions in a tight loop (a queue worker) while Redis is down', async () => {
    const client = new Redis(server.url, { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    await client.connect();
    const guard = createGuard({ policy: { name: 'tight', limits: [{ id: 'l', by: 'ip', window: '1h', max: 1_000_000 }] }, store: new RedisStore({ client, prefix: 'tight' }), storeTimeoutMs: 100 });
    const ask = () => guard.evaluate({ action: 'x', ip: '192.0.2.78' });
    expect((await ask()).degraded).toBe(false);
    await server.kill();
    // Once the client knows, a decision fails at once, without a timer: the case that starved.
    while (client.status === 'ready') await new Promise((r) => setTimeout(r, 10));
    // Restarted once the loop has seen Redis down (sooner, the client could resend its first call
    // to the new server). The restart and the client's reconnection both need turns of this
    // process's event loop, which the loop below never gives but through its decisions.
    let back: Promise<void> | undefined;
    const started = Date.now();
    let degraded = 0;
    let recovered = false;
    while (Date.now() - started < 15_000) {
      if ((await ask()).degraded) {
        degraded++;
        back ??= server.restart();
      } else {
        recovered = true;
        break;
      }
    }
    await back;
    expect(degraded).toBeGreaterThan(0);
    expect(recovered).toBe(true);
    await guard.close();
    client.disconnect();
  }, 30_000);

  it('holds at most maxSubjectsInFlight subjects for a hung Redis, refusing the rest at once, and carries on when it answers', async () => {
    const client = new Redis(server.url, { lazyConnect: true });
    await client.connect();
    const store = new RedisStore({ client, prefix: 'hung', maxSubjectsInFlight: 100 });
    const take = (ip: string) => ({ now: 0, subjects: [{ subject: ip, take: [{ name: 'w', windowMs: 60_000, max: 10, cost: 1 }] }] });
    await store.apply(take('warm'));
    server.pause(); // the connection stays open: nothing tells the client Redis is gone
    try {
      const outcomes = Array.from({ length: 300 }, (_, i) => store.apply(take(`ip:${i}`)).then(() => 'answered', (error: Error) => error.message));
      // Those past the bound fail within this turn, without waiting for any deadline.
      const settledNow = await Promise.race([Promise.allSettled(outcomes.slice(100)), new Promise((r) => setTimeout(() => r('waiting'), 50))]);
      expect(settledNow).not.toBe('waiting');
      expect(new Set(await Promise.all(outcomes.slice(100)))).toEqual(new Set(['redis.apply: 100 subjects are already waiting for Redis (maxSubjectsInFlight): refused at once rather than held in memory until it answers']));
      // A guard decides at once per failMode meanwhile.
      const guard = createGuard({ policy: { name: 'hung', failMode: 'closed', limits: [{ id: 'l', by: 'ip', window: '1h', max: 1000 }] }, store, storeTimeoutMs: 5_000 });
      const started = performance.now();
      expect(await guard.evaluate({ action: 'x', ip: '192.0.2.79' })).toMatchObject({ verdict: 'block', degraded: true, reasons: [{ message: 'store unavailable (STORE_FAILED): failMode closed' }] });
      expect(performance.now() - started).toBeLessThan(1_000);
      server.resume();
      expect(new Set(await Promise.all(outcomes.slice(0, 100)))).toEqual(new Set(['answered']));
      expect((await store.apply(take('ip:0'))).subjects[0]!.takes[0]!.count).toBe(2);
      await guard.close();
    } finally {
      server.resume();
      client.disconnect();
    }
  }, 30_000);

  it('does the same with node-redis', async () => {
    const client = createClient({ url: server.url, socket: { reconnectStrategy: () => 50 } });
    client.on('error', () => {}); // connection errors are expected here
    await client.connect();
    const guard = createGuard({ policy: { name: 'outage-nr', failMode: 'closed', limits: [{ id: 'l', by: 'ip', window: '1h', max: 1000 }] }, store: new RedisStore({ client, prefix: 'outage-nr' }), storeTimeoutMs: 100 });
    const ask = () => guard.evaluate({ action: 'x', ip: '192.0.2.78' });
    expect((await ask()).degraded).toBe(false);
    await server.kill();
    const started = performance.now();
    const during = await ask();
    expect(performance.now() - started).toBeLessThan(100 + 400);
    expect(during).toMatchObject({ verdict: 'block', degraded: true });
    await server.restart();
    let recovered: Decision | undefined;
    for (let i = 0; i < 100 && !(recovered && !recovered.degraded); i++) {
      await new Promise((r) => setTimeout(r, 50));
      recovered = await ask();
    }
    expect(recovered).toMatchObject({ verdict: 'allow', degraded: false });
    expect(recovered!.limits[0]!.count).toBe(1);
    client.destroy();
  }, 30_000);
});

describe('a full Redis (maxmemory)', () => {
  it('noeviction (the default): every decision is degraded per failMode, none half-applied, and Redis decides again once there is room', async () => {
    const server = await startRedisServer(); // a server of its own: the test fills it
    const client = new Redis(server.url, { lazyConnect: true });
    await client.connect();
    const guard = createGuard({ policy: { name: 'full', failMode: 'closed', limits: [{ id: 'l', by: 'ip', window: '1h', max: 1000 }] }, store: new RedisStore({ client, prefix: 'full' }), storeTimeoutMs: 5_000 });
    const ask = (ip: string) => guard.evaluate({ action: 'x', ip });
    await guard.block('ip:192.0.2.1', { for: '1d', reason: 'spam' });
    // Other data (a cache sharing the server), then a limit below what Redis holds: with
    // noeviction it refuses every command that may write until there is room again.
    for (let i = 0; i < 300; i++) await client.set(`cache:${i}`, 'x'.repeat(1_000));
    const used = Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
    await client.config('SET', 'maxmemory-policy', 'noeviction');
    await client.config('SET', 'maxmemory', String(used - 100_000));
    await expect(client.set('one-more', 'x')).rejects.toThrow(/OOM/);
    // Redis refuses the script's writes (OOM): the decisions fall back, and count nowhere.
    expect(await ask('192.0.2.9')).toMatchObject({ verdict: 'block', degraded: true });
    expect(await ask('192.0.2.1')).toMatchObject({ verdict: 'block', degraded: true });
    await client.del(...Array.from({ length: 300 }, (_, i) => `cache:${i}`));
    expect(await ask('192.0.2.9')).toMatchObject({ verdict: 'allow', degraded: false, limits: [{ count: 1 }] });
    expect((await ask('192.0.2.1')).reasons[0]).toMatchObject({ source: 'ban', message: 'spam' });
    await guard.close();
    await client.quit();
    await server.stop();
  }, 30_000);
});
