import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { createCluster } from 'redis';
import { createCluster as createClusterV4 } from 'redis4';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGuard, type Decision } from '@actiongate/core';
import { testStore } from '@actiongate/core/testing';
import { keySlot, RedisStore } from '@actiongate/redis';
import { startRedisCluster, type RedisCluster } from '../../../test/redis-setup.js';
import { fourProcesses } from './fixtures/processes.js';

let cluster: RedisCluster;
const clients: { quit(): Promise<unknown> }[] = [];
const prefix = () => `agc-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit().catch(() => {})));
  await cluster.stop();
});

async function ioredisCluster(): Promise<Cluster> {
  const client = new Cluster(cluster.nodes, { lazyConnect: true });
  await client.connect();
  clients.push(client);
  return client;
}

testStore('redis cluster (ioredis, caller time)', async () => new RedisStore({ client: await ioredisCluster(), prefix: prefix(), time: 'caller' }));

testStore('redis cluster (node-redis, caller time)', async () => {
  const client = createCluster({ rootNodes: cluster.nodes.map((n) => ({ url: `redis://${n.host}:${n.port}` })) });
  await client.connect();
  clients.push(client);
  return new RedisStore({ client, prefix: prefix(), time: 'caller' });
});

// node-redis v4 (the `redis4` alias): the oldest client line the adapter supports, whose cluster
// routes, lists masters and reports readiness differently from v5.
testStore('redis cluster (node-redis v4, caller time)', async () => {
  const client = createClusterV4({ rootNodes: cluster.nodes.map((n) => ({ url: `redis://${n.host}:${n.port}` })) });
  client.on('error', () => {}); // the last test kills a master this client is connected to
  await client.connect();
  clients.push(client);
  return new RedisStore({ client, prefix: prefix(), time: 'caller' });
});

describe('RedisStore on a cluster', () => {
  it('refuses a listing while no master is connected, rather than answering that there are no marks', async () => {
    const client = new Cluster(cluster.nodes, { lazyConnect: true });
    await client.connect();
    const store = new RedisStore({ client, prefix: prefix(), time: 'caller' });
    await store.apply({ now: 1_000, subjects: [{ subject: 'actor:banned', set: [{ name: 'ban', value: 1, until: null }] }] });
    expect((await store.scan('ban', { limit: 10, now: 1_000 })).entries).toHaveLength(1);
    client.disconnect(); // no masters left in the client's pool: none to list
    await expect(store.scan('ban', { limit: 10, now: 1_000 })).rejects.toMatchObject({ code: 'STORE_FAILED' });
  });

  it('spreads subjects over slots and still shares limits between guards', async () => {
    const p = prefix();
    const store = new RedisStore({ client: await ioredisCluster(), prefix: p });
    const slots = new Set(['ip:192.0.2.1', 'actor:u1', 'content:abc', 'actor:u2'].map((s) => keySlot(store.keyOf(s))));
    expect(slots.size).toBeGreaterThan(1);
    const policy = { name: 'c', limits: [{ id: 'ip', by: 'ip' as const, window: '1m', max: 3 }, { id: 'actor', by: 'actor' as const, window: '1m', max: 2 }] };
    // A generous deadline: this test is about shared state, not about a busy machine's latency.
    const guards = [createGuard({ policy, store, storeTimeoutMs: 5_000 }), createGuard({ policy, store: new RedisStore({ client: await ioredisCluster(), prefix: p }), storeTimeoutMs: 5_000 })];
    const verdicts = [];
    for (let i = 0; i < 4; i++) verdicts.push((await guards[i % 2]!.evaluate({ action: 'x', ip: '192.0.2.1', actor: { id: 'u1' } })).verdict);
    expect(verdicts).toEqual(['allow', 'allow', 'throttle', 'throttle']);
    // A refund is written after its decision returns: closing the second guard waits for its last
    // one, which through another client could otherwise reach Redis after the next decision.
    await guards[1]!.close();
    // The ip window was refunded when the actor window denied: two in each.
    const d = await guards[0]!.evaluate({ action: 'x', ip: '192.0.2.1', actor: { id: 'u9' } });
    expect(d.verdict).toBe('allow');
    expect(d.limits.find((l) => l.id === 'ip')!.count).toBe(3);
  });

  it('counts the bans in force on every master', async () => {
    const p = prefix();
    const guard = createGuard({ policy: { name: 'c' }, store: new RedisStore({ client: await ioredisCluster(), prefix: p }), storeTimeoutMs: 5_000 });
    const targets = Array.from({ length: 40 }, (_, i) => `actor:u${i}`);
    for (const target of targets) await guard.block(target);
    await guard.block('ip:192.0.2.5');
    const store = new RedisStore({ client: await ioredisCluster(), prefix: p });
    expect(new Set(targets.map((t) => keySlot(store.keyOf(t)))).size).toBeGreaterThan(30); // spread over the masters
    expect(await guard.countBans()).toMatchObject({ actor: 40, ip: 1, cidr: 0 });
  });

  it('4 processes × 200 concurrent evaluations at one key limited to 100: exactly 100 allowed', async () => {
    expect(await fourProcesses(`cluster:${cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`)).toEqual({ allowed: 100, degraded: 0 });
  }, 60_000);
});

// Last in this file: it kills a master of the shared cluster (and restarts it, without its data).
describe('a master down', () => {
  it('decisions on its slots degrade in time per failMode, and none is applied late, on both clients', async () => {
    for (const kind of ['ioredis', 'node-redis'] as const) {
      const client =
        kind === 'ioredis'
          ? new Cluster(cluster.nodes, { lazyConnect: true })
          : createCluster({ rootNodes: cluster.nodes.map((n) => ({ url: `redis://${n.host}:${n.port}` })), defaults: { socket: { reconnectStrategy: () => 50 } } });
      client.on('error', () => {}); // expected while the master is down
      await client.connect();
      const store = new RedisStore({ client, prefix: prefix() });
      const guard = createGuard({ policy: { name: 'down', failMode: 'closed', limits: [{ id: 'l', by: 'ip', window: '1h', max: 1000 }] }, store, storeTimeoutMs: 200 });
      const ask = () => guard.evaluate({ action: 'x', ip: '192.0.2.78' });
      // The master serving this subject's slot.
      const node = new Redis(cluster.nodes[0]!.port, cluster.nodes[0]!.host);
      const ranges = (await node.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
      node.disconnect();
      const slot = keySlot(store.keyOf('ip:192.0.2.78'));
      const owner = cluster.nodes.findIndex((n) => n.port === ranges.find(([from, to]) => slot >= from && slot <= to)![2][1]);
      for (let i = 0; i < 20 && (await ask()).degraded; i++) await new Promise((r) => setTimeout(r, 50));
      await cluster.kill(owner);
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        expect(await ask(), kind).toMatchObject({ verdict: 'block', degraded: true });
        expect(performance.now() - started).toBeLessThan(200 + 400);
      }
      await cluster.restart(owner);
      let recovered: Decision | undefined;
      for (let i = 0; i < 100 && !(recovered && !recovered.degraded); i++) {
        await new Promise((r) => setTimeout(r, 100));
        recovered = await ask();
      }
      // The master came back empty: a decision made while it was down and queued would count here.
      expect(recovered, kind).toMatchObject({ verdict: 'allow', degraded: false, limits: [{ count: 1 }] });
      await guard.close();
      if (client instanceof Cluster) client.disconnect();
      else await client.disconnect();
    }
  }, 60_000);

  it('gives back what a batch counted on the masters that answered when another failed', async () => {
    // Without an offline queue a call to the master that is down fails at once (with one, it waits
    // for the master to come back, and the guard's deadline decides meanwhile).
    const client = createCluster({ rootNodes: cluster.nodes.map((n) => ({ url: `redis://${n.host}:${n.port}` })), defaults: { disableOfflineQueue: true, socket: { reconnectStrategy: () => 50 } } });
    client.on('error', () => {}); // expected while the master is down
    await client.connect();
    const store = new RedisStore({ client, prefix: prefix(), time: 'caller' });
    // Which master serves which slot.
    const node = new Redis(cluster.nodes[0]!.port, cluster.nodes[0]!.host);
    const ranges = (await node.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
    node.disconnect();
    const ownerOf = (subject: string) => {
      const slot = keySlot(store.keyOf(subject));
      return cluster.nodes.findIndex((n) => n.port === ranges.find(([from, to]) => slot >= from && slot <= to)![2][1]);
    };
    const candidates = Array.from({ length: 200 }, (_, i) => `ip:192.0.2.${i}`);
    const down = ownerOf(candidates[0]!);
    const lost = candidates[0]!;
    const kept = candidates.find((s) => ownerOf(s) !== down)!;
    const now = Date.now();
    const w = { name: 'w', windowMs: 3_600_000, max: 10, cost: 1 };
    const seen = { name: 'seen', windowMs: 3_600_000, cost: 1 };
    const count = async () => (await store.apply({ now, subjects: [{ subject: kept, peek: [w, seen] }] })).subjects[0]!.counts;
    await store.apply({ now, subjects: [{ subject: kept, take: [w], add: [seen] }] });
    expect(await count()).toEqual({ w: 1, seen: 1 });

    await cluster.kill(down);
    // One evaluation's batch: a take and an add on the master still up, a take on the one down.
    await expect(store.apply({ now, subjects: [{ subject: kept, take: [w], add: [seen] }, { subject: lost, take: [w] }] })).rejects.toMatchObject({ code: 'STORE_FAILED' });
    // The answered master's part is given back once every call has settled.
    await vi.waitFor(async () => expect(await count()).toEqual({ w: 1, seen: 1 }), { timeout: 5_000, interval: 50 });
    await cluster.restart(down);
    await client.close();
  }, 60_000);
});
