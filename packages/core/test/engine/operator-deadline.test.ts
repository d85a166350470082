/**
 * Operator and feedback calls under a deadline, their answers checked: a store that never
 * answers made `guard.block` (and every other operator call) wait forever, and one that answered
 * garbage was read blindly. They reject with the StoreError a decision meets internally, and a
 * late answer after the deadline is dropped without an unhandled rejection.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '@actiongate/memory';
import { createGuard, isActiongateError, type Guard, type PolicyDocument, type Store, type StoreResult } from '../../src/index.js';

const policy: PolicyDocument = {
  name: 'ops',
  limits: [{ id: 'ip', by: 'ip', window: '1m', max: 2 }],
  content: { terms: { casino: 10 }, model: { name: 'm', minSpam: 1, minHam: 1 } },
};
const action = { action: 'ad.submit', ip: '192.0.2.1', actor: { id: 'u1' }, content: { body: 'casino' } };
const DECISION = '00000000-0000-4000-8000-000000000000';

/** Every operator call of a guard, by name. */
const calls: [string, (guard: Guard) => Promise<unknown>][] = [
  ['block ip', (g) => g.block('ip:192.0.2.1')],
  ['block cidr', (g) => g.block('cidr:198.51.100.0/24')],
  ['unblock', (g) => g.unblock('actor:u1')],
  ['unblock cidr', (g) => g.unblock('cidr:198.51.100.0/24')],
  ['allow', (g) => g.allow('actor:u1')],
  ['inspect', (g) => g.inspect('ip:192.0.2.1')],
  ['listBlocks', (g) => g.listBlocks()],
  ['passChallenge', (g) => g.passChallenge('token')],
  ['feedback by id', (g) => g.feedback(DECISION, 'ham')],
  ['feedback by action', (g) => g.feedback(action, 'spam')],
];

/** A store whose every call waits until the test answers it (with `answer`), or forever. */
function hungStore() {
  const late: (() => void)[] = [];
  const store: Store = {
    name: 'hung',
    apply: () => new Promise<StoreResult>((_resolve, reject) => late.push(() => reject(new Error('answered after the deadline')))),
    scan: () => new Promise((_resolve, reject) => late.push(() => reject(new Error('answered after the deadline')))),
    close: async () => {},
  };
  return { store, late };
}

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe('operator calls against a store that never answers', () => {
  it.each(calls)('%s rejects with STORE_TIMEOUT after operatorTimeoutMs, and the late answer is dropped', async (_name, call) => {
    const { store, late } = hungStore();
    const storeErrors: unknown[] = [];
    const guard = createGuard({ policy, store, operatorTimeoutMs: 20, onStoreError: (e) => storeErrors.push(e) });
    const error = await call(guard).then(() => null, (e: unknown) => e);
    // onStoreError is for decisions (which fall back); an operator call rejects instead.
    expect(storeErrors).toEqual([]);
    expect(isActiongateError(error)).toBe(true);
    expect(error).toMatchObject({ name: 'StoreError', code: 'STORE_TIMEOUT', adapter: 'hung' });
    expect((error as Error).message).toMatch(/no answer within 20 ms \(operatorTimeoutMs\).*inspect/);
    // The store answers at last (here: fails): nothing is left unhandled.
    for (const answer of late) answer();
    await new Promise((r) => setTimeout(r, 10));
    expect(unhandled).toEqual([]);
    await guard.close();
  });

  it('the content model learning from feedback meets the deadline too', async () => {
    const { store: modelStore, late } = hungStore();
    const guard = createGuard({ policy, store: new MemoryStore(), modelStore, operatorTimeoutMs: 20 });
    await expect(guard.feedback(action, 'spam')).rejects.toMatchObject({ code: 'STORE_TIMEOUT', adapter: 'hung' });
    for (const answer of late) answer();
    await new Promise((r) => setTimeout(r, 10));
    expect(unhandled).toEqual([]);
  });

  it('the deadline defaults to a few seconds, not the 50 ms of a decision', async () => {
    // A store that answers in 100 ms: too slow for a decision, fine for an operator.
    const inner = new MemoryStore();
    const slow: Store = { name: 'slow', apply: (batch) => new Promise((r) => setTimeout(() => r(inner.apply(batch)), 100)), close: async () => {} };
    const guard = createGuard({ policy, store: slow });
    await expect(guard.block('actor:u1')).resolves.toMatchObject({ subject: 'actor:u1' });
    expect((await guard.inspect('actor:u1')).ban).not.toBeNull();
  });

  it('refuses an operatorTimeoutMs that is not a positive number', () => {
    expect(() => createGuard({ policy, operatorTimeoutMs: 0 })).toThrow(/operatorTimeoutMs/);
  });
});

describe('operator calls against a store that answers garbage', () => {
  const garbage: [string, unknown][] = [
    ['null', null],
    ['no subjects', { now: 0, subjects: [] }],
    ['a subject without marks', { now: 0, subjects: [{ subject: 'x' }] }],
  ];
  it.each(calls.flatMap(([name, call]) => garbage.map(([kind, answer]) => [`${name}, ${kind}`, call, answer] as const)))(
    '%s: rejects with STORE_FAILED "malformed result"',
    async (_name, call, answer) => {
      const store: Store = {
        name: 'garbage',
        apply: async () => answer as StoreResult,
        scan: async () => answer as { entries: []; cursor: null },
        close: async () => {},
      };
      const guard = createGuard({ policy, store, operatorTimeoutMs: 1_000 });
      await expect(call(guard)).rejects.toMatchObject({ name: 'StoreError', code: 'STORE_FAILED', message: expect.stringContaining('malformed result') });
    },
  );

  it('listBlocks refuses a page whose entries are not marks', async () => {
    const store = new MemoryStore();
    const bad: Store = { name: 'bad-scan', apply: (b) => store.apply(b), scan: async () => ({ entries: [{ subject: 1 }], cursor: null }) as never, close: async () => {} };
    const guard = createGuard({ policy, store: bad });
    await expect(guard.listBlocks()).rejects.toMatchObject({ code: 'STORE_FAILED', message: expect.stringContaining('entries[0]') });
  });
});
