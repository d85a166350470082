import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard } from '@actiongate/core';
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

describe('RedisStore on a cluster', () => {
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
    // The ip window was refunded when the actor window denied: two in each.
    const d = await guards[0]!.evaluate({ action: 'x', ip: '192.0.2.1', actor: { id: 'u9' } });
    expect(d.verdict).toBe('allow');
    expect(d.limits.find((l) => l.id === 'ip')!.count).toBe(3);
  });

  it('4 processes × 200 concurrent evaluations at one key limited to 100: exactly 100 allowed', async () => {
    expect(await fourProcesses(`cluster:${cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`)).toEqual({ allowed: 100, degraded: 0 });
  }, 60_000);
});
