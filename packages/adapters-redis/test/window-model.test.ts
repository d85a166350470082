/**
 * RedisStore's windows (the Lua script, caller time) against the brute-force reference model
 * (`test/window-model.ts`) on random timelines, on the private redis-server of the test run.
 * Windows are 5 s – 1 h: Redis expires keys in its own (real) time, so a window must outlast the
 * real duration of a timeline for caller time to be the only clock that matters. Seeded (set
 * WINDOW_MODEL_SEED to explore other timelines); a few seconds.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { RedisStore } from '@actiongate/redis';
import { checkTimelines, expectCoverage } from '../../../test/window-model.js';

const seed = Number(process.env.WINDOW_MODEL_SEED ?? 20261130);

describe('RedisStore windows against the brute-force model', () => {
  let client: Redis;
  beforeAll(async () => {
    client = new Redis(inject('redisUrl'), { lazyConnect: true });
    await client.connect();
  });
  afterAll(async () => {
    await client.quit();
  });

  it('agree on random timelines (caller time)', async () => {
    const store = new RedisStore({ client, prefix: `agmodel-${randomUUID().slice(0, 8)}`, time: 'caller' });
    const stats = await checkTimelines(store, { windowMs: { min: 5_000, max: 3_600_000 }, numRuns: 300, seed }, 'redis');
    expectCoverage(stats);
  });
});
