/**
 * The deadline on store calls: one shared timer per guard, so it must still fail each late call
 * on time, leave answered calls alone, and leave no timer behind once nothing waits.
 */
import { describe, expect, it } from 'vitest';
import { storeCaller } from '../../src/engine/store-call.js';
import type { Store, StoreBatch, StoreResult } from '../../src/store/types.js';

const batch: StoreBatch = { now: 0, subjects: [{ subject: 's', get: ['m'] }] };
const answer: StoreResult = { now: 0, subjects: [{ subject: 's', marks: {}, counts: {}, takes: [], consumed: false }] };

/** A store whose calls answer when the test says so (or never). */
function controlledStore() {
  const pending: ((result: StoreResult) => void)[] = [];
  const store: Store = {
    name: 'controlled',
    apply: () => new Promise<StoreResult>((resolve) => pending.push(resolve)),
    close: async () => {},
  };
  return { store, pending };
}

const timeouts = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

describe('storeCaller', () => {
  it('answers calls the store answers, and fails each unanswered one with STORE_TIMEOUT after its deadline', async () => {
    const { store, pending } = controlledStore();
    const call = storeCaller(store, 30);
    const started = performance.now();
    const first = call(batch);
    const second = call(batch);
    const third = call(batch);
    await new Promise((r) => setTimeout(r, 5));
    pending[1]!(answer);
    await expect(second).resolves.toBe(answer);
    await expect(first).rejects.toMatchObject({ code: 'STORE_TIMEOUT', adapter: 'controlled' });
    await expect(third).rejects.toMatchObject({ code: 'STORE_TIMEOUT' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
    // An answer after the deadline is dropped, not an unhandled rejection or a second settle.
    pending[0]!(answer);
  });

  it('fails calls made later on their own deadline, not the first one', async () => {
    const { store } = controlledStore();
    const call = storeCaller(store, 40);
    const early = call(batch);
    await new Promise((r) => setTimeout(r, 25));
    const lateStarted = performance.now();
    const late = call(batch);
    await expect(early).rejects.toMatchObject({ code: 'STORE_TIMEOUT' });
    let lateSettled = false;
    late.catch(() => (lateSettled = true));
    await new Promise((r) => setImmediate(r));
    expect(lateSettled).toBe(false);
    await expect(late).rejects.toMatchObject({ code: 'STORE_TIMEOUT' });
    expect(performance.now() - lateStarted).toBeGreaterThanOrEqual(39);
  });

  it('keeps no timer once every call is answered (after at most one deadline)', async () => {
    const { store, pending } = controlledStore();
    const before = timeouts();
    const call = storeCaller(store, 20);
    const calls = Array.from({ length: 100 }, () => call(batch));
    await new Promise((r) => setImmediate(r));
    for (const resolve of pending) resolve(answer);
    await Promise.all(calls);
    await new Promise((r) => setTimeout(r, 40));
    expect(timeouts()).toBe(before);
  });

  it('needs no deadline for an in-process store, and turns adapter failures into StoreError', async () => {
    const instant: Store = { name: 'instant', apply: async () => answer, close: async () => {} };
    const before = timeouts();
    await expect(storeCaller(instant, 10)(batch)).resolves.toBe(answer);
    expect(timeouts()).toBe(before);
    const failing: Store = { name: 'failing', apply: () => { throw new Error('boom'); }, close: async () => {} };
    await expect(storeCaller(failing, 10)(batch)).rejects.toMatchObject({ code: 'STORE_FAILED', adapter: 'failing', message: 'failing.apply: boom' });
    const rejecting: Store = { name: 'rejecting', apply: () => new Promise((_, reject) => setTimeout(() => reject(new Error('down')), 1)), close: async () => {} };
    await expect(storeCaller(rejecting, 1_000)(batch)).rejects.toMatchObject({ code: 'STORE_FAILED', message: 'rejecting.apply: down' });
  });
});
