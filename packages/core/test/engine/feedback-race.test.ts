/**
 * Feedback reports that race: two moderators clicking at once, a retried webhook, two processes
 * on one store. The same label twice changes things once; a spam and a ham at once are both
 * applied, one after the other. The races are forced: both reports read the decision's record
 * before either claims it, so the one that loses the claim is seen waiting for the other.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MemoryStore } from '@actiongate/memory';
import { RedisStore } from '@actiongate/redis';
import { createGuard, type FeedbackResult, type Guard, type PolicyDocument, type Store, type StoreBatch, type StoreResult } from '../../src/index.js';

const T0 = Date.UTC(2026, 0, 1);
const IP = '192.0.2.1';
const act = { action: 'a', ip: IP };

/** One attempt a minute per IP; the second within the minute is a throttle and a strike. Bans far away. */
const policy: PolicyDocument = { name: 'race', limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }], bans: { after: 10, within: '1h' } };

const isRecordRead = (batch: StoreBatch) => batch.subjects.length === 1 && batch.subjects[0]!.subject.startsWith('decision:') && batch.subjects[0]!.take === undefined && batch.subjects[0]!.set === undefined;

/**
 * Wraps one store per process around a shared barrier: the reports' first reads of the record
 * are held until `parties` of them have been made, so every report plans on the same record.
 * Counts the claims the store refused (a report that lost and had to wait).
 */
function raceStores(stores: Store[], parties = stores.length) {
  const barrier = { armed: false, waiting: [] as (() => void)[], parties };
  const seen = { refusedClaims: 0 };
  const wrap = (inner: Store): Store => ({
    name: inner.name,
    async apply(batch: StoreBatch): Promise<StoreResult> {
      if (barrier.armed && isRecordRead(batch)) {
        const result = await inner.apply(batch);
        await new Promise<void>((resolve) => {
          barrier.waiting.push(resolve);
          if (barrier.waiting.length === barrier.parties) {
            barrier.armed = false;
            for (const release of barrier.waiting.splice(0)) release();
          }
        });
        return result;
      }
      const result = await inner.apply(batch);
      for (let i = 0; i < batch.subjects.length; i++) {
        if (batch.subjects[i]!.take?.some((t) => t.name.startsWith('feedback:')) && !result.subjects[i]!.consumed) seen.refusedClaims++;
      }
      return result;
    },
    close: () => inner.close(),
  });
  return { stores: stores.map(wrap), seen, arm: () => (barrier.armed = true) };
}

/** Two guards (two processes, in effect) on `stores` sharing data, and a decision that gave `IP` one strike. */
async function twoGuards(stores: [Store, Store]) {
  const race = raceStores(stores);
  const now = () => T0;
  const [a, b] = race.stores.map((store) => createGuard({ policy, store, now })) as [Guard, Guard];
  await a.evaluate(act);
  const struck = await a.evaluate(act);
  expect(struck.verdict).toBe('throttle');
  const strikes = async () => (await a.inspect(`ip:${IP}`)).strikes;
  expect(await strikes()).toBe(1);
  /** Both reports at once, each from its own guard, after both have read the record. */
  const both = (first: [Guard, 'spam' | 'ham'], second: [Guard, 'spam' | 'ham']): Promise<FeedbackResult[]> => {
    race.arm();
    return Promise.all([first[0].feedback(struck.id, first[1]), second[0].feedback(struck.id, second[1])]);
  };
  return { a, b, struck, strikes, both, seen: race.seen };
}

const byRepeated = (results: FeedbackResult[]) => [...results].sort((x, y) => Number(x.repeated) - Number(y.repeated));

function raceScenarios(stores: () => Promise<[Store, Store]>) {
  it('two identical ham reports at once take back one strike, and the second says `repeated`', async () => {
    const { a, b, strikes, both, seen } = await twoGuards(await stores());
    // A second strike, this subject's own: a double refund would take it too.
    await a.evaluate(act);
    expect(await strikes()).toBe(2);
    const [applied, repeated] = byRepeated(await both([a, 'ham'], [b, 'ham']));
    expect(applied).toMatchObject({ repeated: false, strikes: -1 });
    expect(repeated).toMatchObject({ repeated: true, strikes: 0 });
    expect(seen.refusedClaims).toBeGreaterThan(0);
    expect(await strikes()).toBe(1);
  });

  it('two identical spam reports at once add one strike', async () => {
    const { a, b, struck, strikes, both, seen } = await twoGuards(await stores());
    // Ham first, so the record holds no strike and spam has one to add.
    expect(await b.feedback(struck.id, 'ham')).toMatchObject({ strikes: -1 });
    expect(await strikes()).toBe(0);
    const [applied, repeated] = byRepeated(await both([a, 'spam'], [b, 'spam']));
    expect(applied).toMatchObject({ repeated: false, strikes: 1 });
    expect(repeated).toMatchObject({ repeated: true, strikes: 0 });
    expect(seen.refusedClaims).toBeGreaterThan(0);
    expect(await strikes()).toBe(1);
  });

  it('a spam and a ham at once are both applied, in some order: the strikes and the label are the last one’s', async () => {
    const { a, b, struck, strikes, both, seen } = await twoGuards(await stores());
    const [spam, ham] = await both([a, 'spam'], [b, 'ham']);
    expect(spam!.repeated || ham!.repeated).toBe(false);
    expect(seen.refusedClaims).toBeGreaterThan(0);
    // Spam last: ham took the decision's strike back, spam added one. Ham last: spam found the
    // decision's strike and added none, ham took it back.
    const last = spam!.strikes === 1 ? 'spam' : 'ham';
    expect([spam!.strikes, ham!.strikes]).toEqual(last === 'spam' ? [1, -1] : [0, -1]);
    expect(await strikes()).toBe(last === 'spam' ? 1 : 0);
    // The record's label is the last one applied, in every process.
    expect(await b.feedback(struck.id, last)).toMatchObject({ repeated: true });
    expect(await a.feedback(struck.id, last)).toMatchObject({ repeated: true });
  });
}

describe('racing feedback on one MemoryStore', () => {
  raceScenarios(async () => {
    const shared = new MemoryStore();
    return [shared, shared];
  });

  it('two identical spam reports at once in one process, on a decision only it remembers, add one strike', async () => {
    const race = raceStores([new MemoryStore()], 2);
    const store = race.stores[0]!;
    const guard = createGuard({ policy, store, now: () => T0 });
    // An allowed decision writes no record to the store: the process remembers it.
    const allowed = await guard.evaluate(act);
    expect(allowed.verdict).toBe('allow');
    race.arm();
    const results = byRepeated(await Promise.all([guard.feedback(allowed.id, 'spam'), guard.feedback(allowed.id, 'spam')]));
    expect(results.map((r) => [r.repeated, r.strikes])).toEqual([[false, 1], [true, 0]]);
    expect(race.seen.refusedClaims).toBeGreaterThan(0);
    expect((await guard.inspect(`ip:${IP}`)).strikes).toBe(1);
  });
});

describe('racing feedback on one Redis (two processes, in effect)', () => {
  const url = inject('redisUrl');
  const clients: Redis[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => {})));
  });
  /** A RedisStore on its own connection: the same `prefix` means the same data. */
  const redisStore = async (prefix: string) => {
    const client = new Redis(url, { lazyConnect: true });
    await client.connect();
    clients.push(client);
    return new RedisStore({ client, prefix, time: 'caller' });
  };
  raceScenarios(async () => {
    const prefix = `agfb-${randomUUID().slice(0, 8)}`;
    return [await redisStore(prefix), await redisStore(prefix)];
  });
});
