/**
 * The deadline on store calls: one shared timer per guard, so it must still fail each late call
 * on time, leave answered calls alone, and leave no timer behind once nothing waits; and one
 * deadline per decision: its effect writes do not hold it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@actiongate/memory';
import { storeCalls } from '../../src/engine/store-call.js';
import { createGuard } from '../../src/guard.js';
import type { StoreError } from '../../src/errors.js';
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

/**
 * `first` fails with STORE_TIMEOUT while `second` is still waiting; then `second` fails too, no
 * sooner than `minMs` after `since`.
 */
async function expectFailsAfter(first: Promise<unknown>, second: Promise<unknown>, since: number, minMs: number): Promise<void> {
  let secondSettled = false;
  second.catch(() => (secondSettled = true));
  await expect(first).rejects.toMatchObject({ code: 'STORE_TIMEOUT' });
  await new Promise((r) => setImmediate(r));
  expect(secondSettled).toBe(false);
  await expect(second).rejects.toMatchObject({ code: 'STORE_TIMEOUT' });
  expect(performance.now() - since).toBeGreaterThanOrEqual(minMs);
}

const timeouts = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

describe('storeCalls', () => {
  it('lets go of answered calls at once, however far their deadline (nothing held until the timer fires)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const answers: WeakRef<StoreResult>[] = [];
    // Answers after a turn of the event loop, like a remote store; each answer a fresh object.
    const store: Store = {
      name: 'remote',
      apply: () => new Promise<StoreResult>((resolve) => setImmediate(() => {
        const result: StoreResult = { now: 0, subjects: [{ subject: 's', marks: {}, counts: {}, takes: [], consumed: false }] };
        answers.push(new WeakRef(result));
        resolve(result);
      })),
      close: async () => {},
    };
    const calls = storeCalls(store, 60_000);
    // 64 in flight, as under load: the deadline queue is never empty.
    let next = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next++ < 5_000) await calls.apply(batch);
    }));
    await new Promise((r) => setImmediate(r));
    gc();
    // Before, each queued call held its answer until its deadline passed: all 5,000 alive here.
    expect(answers).toHaveLength(5_000);
    expect(answers.filter((ref) => ref.deref() !== undefined).length).toBeLessThan(100);
    calls.close();
  });

  it('answers calls the store answers, and fails each unanswered one with STORE_TIMEOUT after its deadline', async () => {
    const { store, pending } = controlledStore();
    const calls = storeCalls(store, 30);
    const started = performance.now();
    const first = calls.apply(batch);
    const second = calls.apply(batch);
    const third = calls.apply(batch);
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
    const calls = storeCalls(store, 40);
    const early = calls.apply(batch);
    await new Promise((r) => setTimeout(r, 25));
    const lateStarted = performance.now();
    await expectFailsAfter(early, calls.apply(batch), lateStarted, 39);
  });

  it("a call given an earlier deadline (a decision's second call) fails on it, ahead of calls made before it", async () => {
    const { store } = controlledStore();
    const calls = storeCalls(store, 200);
    const started = performance.now();
    const usual = calls.apply(batch);
    const inherited = calls.apply(batch, started + 30);
    let inheritedFailedAt = Number.POSITIVE_INFINITY;
    inherited.catch(() => (inheritedFailedAt = performance.now()));
    await expectFailsAfter(inherited, usual, started, 199);
    expect(inheritedFailedAt - started).toBeLessThan(190);
  });

  it('after close() its timer no longer keeps the process alive', async () => {
    const { store } = controlledStore();
    const calls = storeCalls(store, 60_000);
    void calls.apply(batch).catch(() => {});
    await new Promise((r) => setImmediate(r));
    const refed = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = refed();
    calls.close();
    expect(refed()).toBe(before - 1);
  });

  it('keeps no timer once every call is answered (after at most one deadline)', async () => {
    const { store, pending } = controlledStore();
    const before = timeouts();
    const calls = storeCalls(store, 20);
    const made = Array.from({ length: 100 }, () => calls.apply(batch));
    await new Promise((r) => setImmediate(r));
    for (const resolve of pending) resolve(answer);
    await Promise.all(made);
    await new Promise((r) => setTimeout(r, 40));
    expect(timeouts()).toBe(before);
  });

  it('a store that writes to the shared lists of a batch fails the call, which the decision follows failMode for', async () => {
    const errors: string[] = [];
    const writing: Store = {
      name: 'writing',
      apply: async (asked) => {
        asked.subjects[0]!.get!.push('extra'); // the ban reads every evaluation shares: frozen
        return { now: asked.now, subjects: [] };
      },
      close: async () => {},
    };
    const guard = createGuard({ policy: { name: 'p' }, store: writing, onStoreError: (error) => errors.push(error.code) });
    const decision = await guard.evaluate({ action: 'post', ip: '192.0.2.1' });
    expect(decision).toMatchObject({ verdict: 'allow', degraded: true });
    expect(errors).toEqual(['STORE_FAILED']);
    // The next evaluation reads the same marks as ever.
    const reads: string[][] = [];
    const reading = createGuard({ policy: { name: 'p' }, store: { name: 'reading', apply: async (asked) => (reads.push([...asked.subjects[0]!.get!]), new MemoryStore().apply(asked)), close: async () => {} } });
    await reading.evaluate({ action: 'post', ip: '192.0.2.1' });
    expect(reads).toEqual([['ban', 'allow', 'pass', 'rung', 'tighten']]);
    await Promise.all([guard.close(), reading.close()]);
  });

  it('needs no deadline for an in-process store, and turns adapter failures into StoreError', async () => {
    const instant: Store = { name: 'instant', apply: async () => answer, close: async () => {} };
    const before = timeouts();
    await expect(storeCalls(instant, 10).apply(batch)).resolves.toBe(answer);
    expect(timeouts()).toBe(before);
    const failing: Store = { name: 'failing', apply: () => { throw new Error('boom'); }, close: async () => {} };
    await expect(storeCalls(failing, 10).apply(batch)).rejects.toMatchObject({ code: 'STORE_FAILED', adapter: 'failing', message: 'failing.apply: boom' });
    const rejecting: Store = { name: 'rejecting', apply: () => new Promise((_, reject) => setTimeout(() => reject(new Error('down')), 1)), close: async () => {} };
    await expect(storeCalls(rejecting, 1_000).apply(batch)).rejects.toMatchObject({ code: 'STORE_FAILED', message: 'rejecting.apply: down' });
  });

  it('calls a MemoryStore directly, but one whose apply was replaced (a subclass, a spy) through it', async () => {
    const plain = new MemoryStore();
    const direct = await storeCalls(plain, 10).apply(batch);
    expect(direct.subjects[0]!.subject).toBe('s');
    await plain.close();
    // Closed: the direct call fails as apply would, as a StoreError.
    await expect(storeCalls(plain, 10).apply(batch)).rejects.toMatchObject({ code: 'STORE_FAILED', message: expect.stringContaining('after close()') });

    const seen: StoreBatch[] = [];
    class Watched extends MemoryStore {
      override apply(b: StoreBatch) {
        seen.push(b);
        return super.apply(b);
      }
    }
    await storeCalls(new Watched(), 10).apply(batch);
    const spied = new MemoryStore();
    spied.apply = (b) => (seen.push(b), MemoryStore.prototype.apply.call(spied, b));
    await storeCalls(spied, 10).apply(batch);
    expect(seen).toEqual([batch, batch]);
  });

  it('calls applyNow of a MemoryStore from another copy of @actiongate/memory, where instanceof fails', async () => {
    // What a second copy of the package (or a loader mapping core's import elsewhere) hands the
    // guard: the same contract under the registered symbol, from a class core does not know.
    class OtherCopy {
      readonly name = 'memory';
      readonly inner = new MemoryStore();
      readonly direct: StoreBatch[] = [];
      apply(b: StoreBatch): Promise<StoreResult> {
        throw new Error(`apply called for ${b.subjects.length} subject(s): the synchronous path was not taken`);
      }
      applyNow(b: StoreBatch): StoreResult {
        this.direct.push(b);
        return this.inner.applyNow(b);
      }
      close = () => this.inner.close();
    }
    Object.defineProperty(OtherCopy.prototype, Symbol.for('actiongate.store.syncApply/1'), { value: OtherCopy.prototype.apply });
    const other = new OtherCopy();
    expect(other).not.toBeInstanceOf(MemoryStore);
    expect((await storeCalls(other, 10).apply(batch)).subjects[0]!.subject).toBe('s');
    expect(other.direct).toEqual([batch]);

    // And a plain MemoryStore's decisions go through applyNow, apply untouched.
    const store = new MemoryStore();
    const viaApplyNow: StoreBatch[] = [];
    const applyNow = store.applyNow.bind(store);
    store.applyNow = (b) => (viaApplyNow.push(b), applyNow(b));
    await createGuard({ policy: { name: 'p', limits: [{ id: 'l', by: 'ip', window: '1m', max: 1 }] }, store }).evaluate({ action: 'a', ip: '192.0.2.1' });
    expect(viaApplyNow).toHaveLength(1);
  });
});

describe('a decision keeps one deadline', () => {
  /** A MemoryStore whose writes of a decision's effects (strikes) wait until released. */
  function heldWrites() {
    const inner = new MemoryStore();
    let release: () => void = () => {};
    let held: Promise<void> | null = null;
    const store: Store = {
      name: 'held',
      async apply(b) {
        const isEffect = b.subjects.some((s) => s.add?.some((a) => a.name === 'violations'));
        if (isEffect && held) await held;
        return inner.apply(b);
      },
      close: () => inner.close(),
    };
    return {
      store,
      hold: () => (held = new Promise<void>((r) => (release = r))),
      release: () => {
        held = null;
        release();
      },
    };
  }
  const policy = { name: 'one', limits: [{ id: 'l', by: 'ip' as const, window: '1m', max: 1 }] };
  const within = <T>(promise: Promise<T>, ms: number) => Promise.race([promise, new Promise<'late'>((r) => setTimeout(() => r('late'), ms))]);

  it('a denied decision returns without waiting for its strike to be written, and the next decision sees the strike', async () => {
    const { store, hold, release } = heldWrites();
    // A deadline far beyond the race below: a decision that waited for its write would lose it.
    const guard = createGuard({ policy, store, storeTimeoutMs: 10_000 });
    expect((await guard.evaluate({ action: 'x', ip: '192.0.2.1' })).verdict).toBe('allow');
    hold();
    const denied = await within(guard.evaluate({ action: 'x', ip: '192.0.2.1' }), 1_000);
    expect(denied).toMatchObject({ verdict: 'throttle', degraded: false });
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect((await guard.inspect('ip:192.0.2.1')).strikes).toBe(1);
  });

  it('close() waits for writes still on their way', async () => {
    const { store, hold, release } = heldWrites();
    const guard = createGuard({ policy, store, storeTimeoutMs: 10_000 });
    await guard.evaluate({ action: 'x', ip: '192.0.2.2' });
    hold();
    await guard.evaluate({ action: 'x', ip: '192.0.2.2' });
    let closed = false;
    const closing = guard.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(false);
    release();
    await closing;
    expect(closed).toBe(true);
  });
});

describe('close() with decisions under way', () => {
  it('lets them finish on the open store, their strikes written, and refuses new ones', async () => {
    const inner = new MemoryStore();
    const seen: string[] = [];
    let open = true;
    const store: Store = {
      name: 'slow',
      apply: (b) => new Promise((resolve, reject) => setTimeout(() => {
        seen.push(open ? 'apply' : 'apply after close');
        if (open) resolve(inner.applyNow(b));
        else reject(new Error('closed'));
      }, 5)),
      close: async () => {
        open = false;
        seen.push('close');
      },
    };
    const errors: Error[] = [];
    const limited = { name: 'none', limits: [{ id: 'zero', by: 'ip' as const, window: '1m', max: 0 }] };
    const guard = createGuard({ policy: limited, store, onError: (e) => errors.push(e), storeTimeoutMs: 1_000 });
    const pending = guard.evaluate({ action: 'x', ip: '192.0.2.3' });
    await new Promise((r) => setTimeout(r, 1));
    const [closing, again] = [guard.close(), guard.close()];
    await expect(guard.evaluate({ action: 'x', ip: '192.0.2.3' })).rejects.toMatchObject({ code: 'GUARD_CLOSED' });
    const decision = await pending;
    await Promise.all([closing, again]);
    // Both close() calls end only once the store is closed, after the decision's read and its strike.
    expect(seen.at(-1)).toBe('close');
    expect(decision.verdict).toBe('throttle');
    expect(decision.degraded).toBe(false);
    expect(seen).toEqual(['apply', 'apply', 'close']);
    expect(errors).toEqual([]);
    expect((await createGuard({ policy: limited, store: inner }).inspect('ip:192.0.2.3')).strikes).toBe(1);
  });
});

describe('a store answer that breaks the Store contract', () => {
  /** A store that answers through a MemoryStore, its answer changed by `mangle` (an adapter bug). */
  function mangled(mangle: (result: StoreResult) => unknown): Store {
    const inner = new MemoryStore();
    return { name: 'buggy', apply: async (b) => mangle(inner.applyNow(b)) as StoreResult, close: () => inner.close() };
  }
  const subjects = (result: StoreResult, change: (s: StoreResult['subjects'][number]) => object) => ({ now: result.now, subjects: result.subjects.map(change) });

  it.each<[string, (result: StoreResult) => unknown, string]>([
    ['no answer at all', () => undefined, 'expected { now, subjects }'],
    ['fewer answers than subjects', (r) => ({ now: r.now, subjects: [] }), 'subject answers, got 0'],
    ['a NaN clock', (r) => ({ ...r, now: Number.NaN }), 'now is NaN'],
    ['an answer for another subject', (r) => subjects(r, (s) => ({ ...s, subject: 'ip:192.0.2.99' })), 'another subject'],
    ['no marks', (r) => subjects(r, (s) => ({ ...s, marks: undefined })), 'marks is not an object'],
    ['no counts', (r) => subjects(r, (s) => ({ ...s, counts: null })), 'counts is not an object'],
    ['no take results', (r) => subjects(r, (s) => ({ ...s, takes: [] })), 'takes: expected 1 results'],
    ['a NaN count', (r) => subjects(r, (s) => ({ ...s, takes: s.takes.map((t) => ({ ...t, count: Number.NaN })) })), 'takes[0]'],
    ['admitted as text', (r) => subjects(r, (s) => ({ ...s, takes: s.takes.map((t) => ({ ...t, admitted: 'no' })) })), 'takes[0]'],
  ])('%s is a store failure: failMode decides, onStoreError hears of it', async (_, mangle, message) => {
    const errors: Error[] = [];
    const policy = { name: 'strict', failMode: 'closed' as const, limits: [{ id: 'one', by: 'ip' as const, window: '1m', max: 1 }] };
    const guard = createGuard({ policy, store: mangled(mangle), onStoreError: (e) => errors.push(e) });
    // Read blindly, each of these was an allow every time (the limit never filled) or a TypeError.
    for (let i = 0; i < 2; i++) {
      const decision = await guard.evaluate({ action: 'post', ip: '192.0.2.1' });
      expect(decision.verdict).toBe('block');
      expect(decision.degraded).toBe(true);
    }
    expect(errors).toHaveLength(2);
    expect(errors[0]!.message).toContain('buggy.apply: malformed result: ');
    expect(errors[0]!.message).toContain(message);
    expect((errors[0] as StoreError).code).toBe('STORE_FAILED');
    // The same adapter answering correctly is trusted as before.
    const sound = createGuard({ policy, store: mangled((r) => r) });
    expect((await sound.evaluate({ action: 'post', ip: '192.0.2.1' })).verdict).toBe('allow');
    expect((await sound.evaluate({ action: 'post', ip: '192.0.2.1' })).verdict).toBe('throttle');
  });
});
