/**
 * The store conformance suite. Every adapter runs it (like unstorage's `testDriver`):
 *
 * ```ts
 * import { testStore } from '@actiongate/core/testing';
 * testStore('memory', () => new MemoryStore());
 * ```
 *
 * It checks the contract in `Store`'s documentation (`store/types.ts`): marks, sliding windows
 * that agree with the reference arithmetic of `@actiongate/memory`'s window module on random
 * timelines, all-or-nothing takes, refunds, exact reset times, operation order, concurrency,
 * long durations, key safety and paging. Every test works on subjects of its own, so one store
 * serves the whole suite and tests never see each other's state.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { addHit, prune, tryTake, type WindowData } from '@actiongate/memory';
import type { MarkValue, Store, SubjectOps, SubjectResult, WindowTake } from '../store/types.js';
import { lifecycleSuite } from './lifecycle.js';

export interface TestStoreOptions {
  /** Called after the suite, once the store is closed, e.g. to stop a server. */
  cleanup?: () => void | Promise<void>;
  /**
   * The adapter keeps its own clock and ignores `batch.now` (RedisStore's `time: 'server'`).
   * Tests that move time through `batch.now` (expiry, exact `resetMs`, the random timelines) are
   * then skipped, with that reason; the rest read the time the store used from `result.now`.
   * @default false
   */
  serverTime?: boolean;
}

const T0 = Date.UTC(2026, 0, 1);
const SECOND = 1000;
const MINUTE = 60_000;
const DAY = 86_400_000;
/** An end no test reaches, whatever the clock. */
const FAR = Date.UTC(2200, 0, 1);

/** Registers the conformance suite for the store that `factory` makes (once, for the whole suite). */
export function testStore(name: string, factory: () => Store | Promise<Store>, options: TestStoreOptions = {}): void {
  const serverTime = options.serverTime === true;

  describe(`store conformance: ${name}`, () => {
    let store: Store;
    let seq = 0;
    /** A subject no other test uses. */
    const fresh = (label: string) => `${label}#${++seq}`;

    beforeAll(async () => {
      store = await factory();
    });
    afterAll(async () => {
      await store?.close();
      await options.cleanup?.();
    });

    const apply = async (now: number, ...subjects: SubjectOps[]) => (await store.apply({ now, subjects })).subjects;
    const one = async (now: number, ops: SubjectOps): Promise<SubjectResult> => (await apply(now, ops))[0]!;
    const take = (now: number, subject: string, max: number, cost = 1, windowMs = MINUTE, dryRun = false) =>
      one(now, { subject, take: [{ name: 'w', windowMs, max, cost, ...(dryRun ? { dryRun } : {}) }] });
    const peek = async (now: number, subject: string, name = 'w', windowMs = MINUTE) => (await one(now, { subject, peek: [{ name, windowMs }] })).counts[name];
    const read = async (now: number, subject: string, name: string) => (await one(now, { subject, get: [name] })).marks[name];

    /** A test that moves time through `batch.now`: skipped, with the reason, for a store with its own clock. */
    const timed = (title: string, test: (ctx: TestContext) => Promise<void>) =>
      it(title, async (ctx: TestContext) => {
        ctx.skip(serverTime, 'the store keeps its own clock (serverTime): batch.now cannot move time');
        await test(ctx);
      });

    describe('reads', () => {
      it('answers an unknown subject with no marks, zero counts and no takes', async () => {
        const s = fresh('empty');
        const result = await one(T0, { subject: s, get: ['ban', 'allow'], peek: [{ name: 'w', windowMs: MINUTE }, { name: 'v', windowMs: DAY }] });
        expect(result.subject).toBe(s);
        expect(Object.keys(result.marks)).toEqual([]);
        expect({ ...result.counts }).toEqual({ w: 0, v: 0 });
        expect(result.takes).toEqual([]);
        expect(result.consumed).toBe(false);
      });

      it('answers one result per subject, in order, with the time it used', async () => {
        const subjects = ['a', 'b', 'c'].map(fresh);
        const result = await store.apply({ now: T0, subjects: subjects.map((subject) => ({ subject, get: ['x'] })) });
        expect(result.subjects.map((s) => s.subject)).toEqual(subjects);
        if (serverTime) expect(Number.isFinite(result.now)).toBe(true);
        else expect(result.now).toBe(T0);
        expect((await store.apply({ now: T0, subjects: [] })).subjects).toEqual([]);
      });
    });

    describe('bad input', () => {
      const cyclic = () => {
        const value: Record<string, unknown> = { a: 1 };
        value.self = [value];
        return value;
      };
      it('rejects a malformed batch with a TypeError naming the field, applying none of it', async () => {
        const s = fresh('good');
        const good: SubjectOps = { subject: s, take: [{ name: 'w', windowMs: MINUTE, max: 5, cost: 1 }], set: [{ name: 'm', value: 1, until: null }] };
        const bad: [string, unknown][] = [
          ['now', { now: Number.NaN, subjects: [good] }],
          ['subjects', { now: T0, subjects: 'x' }],
          ['subject', { now: T0, subjects: [good, { subject: 1 }] }],
          ['take', { now: T0, subjects: [good, { subject: 's', take: [{ name: 'w', windowMs: 0, max: 5, cost: 1 }] }] }],
          ['take', { now: T0, subjects: [good, { subject: 's', take: [{ name: 'w', windowMs: MINUTE, max: 5, cost: Number.NaN }] }] }],
          // One window taken twice: each take was judged against the count before both, and a max of 1 admitted 2.
          ['take\\[1\\] takes window "w" again', { now: T0, subjects: [good, { subject: 's', take: [{ name: 'w', windowMs: MINUTE, max: 1, cost: 1 }, { name: 'w', windowMs: MINUTE, max: 1, cost: 1 }] }] }],
          ['add', { now: T0, subjects: [good, { subject: 's', add: [{ name: 'w', windowMs: MINUTE, cost: Number.POSITIVE_INFINITY }] }] }],
          ['add', { now: T0, subjects: [good, { subject: 's', add: [{ name: 'w', windowMs: MINUTE, cost: 1, at: Number.NaN }] }] }],
          ['until', { now: T0, subjects: [good, { subject: 's', set: [{ name: 'm', value: 1, until: Number.NaN }] }] }],
          ['ifLater', { now: T0, subjects: [good, { subject: 's', set: [{ name: 'm', value: 1, until: null, ifLater: 'yes' }] }] }],
          // A cyclic value: MemoryStore's copy overflowed the stack after `good` was written.
          ['set\\[0\\]\\.value must be JSON.*cyclic', { now: T0, subjects: [good, { subject: 's', set: [{ name: 'm', value: cyclic(), until: null }] }] }],
          ['set\\[0\\]\\.value must be JSON.*bigint', { now: T0, subjects: [good, { subject: 's', set: [{ name: 'm', value: { n: 10n }, until: null }] }] }],
          ['set\\[0\\]\\.value must be JSON.*undefined', { now: T0, subjects: [good, { subject: 's', set: [{ name: 'm', value: undefined, until: null }] }] }],
          ['set\\[0\\]\\.value must be JSON.*/n holds NaN', { now: T0, subjects: [good, { subject: 's', set: [{ name: 'm', value: { n: Number.NaN }, until: null }] }] }],
          ['set\\[0\\]\\.value must be JSON.*Date instance', { now: T0, subjects: [good, { subject: 's', set: [{ name: 'm', value: new Date(0), until: null }] }] }],
        ];
        for (const [field, batch] of bad) {
          const result = store.apply(batch as never);
          await expect(result, field).rejects.toThrow(TypeError);
          await expect(result, field).rejects.toThrow(new RegExp(field));
        }
        const after = await one(T0, { subject: s, get: ['m'], peek: [{ name: 'w', windowMs: MINUTE }] });
        expect(after.marks.m).toBeUndefined();
        expect(after.counts.w).toBe(0);
      });
    });

    describe('marks', () => {
      it('sets, reads, overwrites and deletes marks', async () => {
        const s = fresh('marks');
        await one(T0, { subject: s, set: [{ name: 'ban', value: 'first', until: FAR }, { name: 'forever', value: 1, until: null }] });
        expect({ ...(await one(T0, { subject: s, get: ['ban', 'forever', 'absent'] })).marks }).toEqual({ ban: 'first', forever: 1 });
        await one(T0, { subject: s, set: [{ name: 'ban', value: 'second', until: null }] });
        expect(await read(T0, s, 'ban')).toBe('second');
        await one(T0, { subject: s, del: ['forever', 'never-set'] });
        expect({ ...(await one(T0, { subject: s, get: ['ban', 'forever'] })).marks }).toEqual({ ban: 'second' });
      });

      it('ignores a mark written already over, and deletes the old one', async () => {
        const s = fresh('stale');
        await one(T0, { subject: s, set: [{ name: 'm', value: 1, until: null }] });
        await one(T0, { subject: s, set: [{ name: 'm', value: 2, until: 1 }] });
        expect(await read(T0, s, 'm')).toBeUndefined();
      });

      timed('expires a mark at its until exactly, and keeps one without end', async () => {
        const s = fresh('expiry');
        await one(T0, { subject: s, set: [{ name: 'ban', value: 'x', until: T0 + DAY }, { name: 'forever', value: true, until: null }] });
        expect(await read(T0 + DAY - 1, s, 'ban')).toBe('x');
        expect(await read(T0 + DAY, s, 'ban')).toBeUndefined();
        expect(await read(T0 + 400 * DAY, s, 'forever')).toBe(true);
        // Overwriting moves the end both ways.
        await one(T0, { subject: s, set: [{ name: 'short', value: 1, until: T0 + DAY }] });
        await one(T0, { subject: s, set: [{ name: 'short', value: 2, until: T0 + MINUTE }] });
        expect(await read(T0 + MINUTE, s, 'short')).toBeUndefined();
        await one(T0 + 2 * MINUTE, { subject: s, set: [{ name: 'short', value: 3, until: null }] });
        expect(await read(T0 + 10 * DAY, s, 'short')).toBe(3);
      });

      it('writes an ifLater mark only over one that ends sooner (no end is latest)', async () => {
        const s = fresh('later');
        const later = (value: string, until: number | null) => one(T0, { subject: s, set: [{ name: 'ban', value, until, ifLater: true }] });
        await later('first', FAR - 2 * DAY); // nothing stored: written
        expect(await read(T0, s, 'ban')).toBe('first');
        await later('sooner', FAR - 3 * DAY);
        await later('same', FAR - 2 * DAY);
        await later('already over', 1);
        expect(await read(T0, s, 'ban')).toBe('first');
        await later('longer', FAR - DAY);
        expect(await read(T0, s, 'ban')).toBe('longer');
        await later('no end', null);
        await later('an end', FAR);
        await later('no end again', null);
        expect(await read(T0, s, 'ban')).toBe('no end');
        // Without the flag a write replaces whatever is there (an operator's shorter ban).
        await one(T0, { subject: s, set: [{ name: 'ban', value: 'operator', until: FAR - 3 * DAY }] });
        expect(await read(T0, s, 'ban')).toBe('operator');
        // The flag applies to its own write only: a batch's other marks are written as usual.
        await one(T0, { subject: s, set: [{ name: 'ban', value: 'kept?', until: FAR - 4 * DAY, ifLater: true }, { name: 'note', value: 'x', until: FAR - 4 * DAY }] });
        expect({ ...(await one(T0, { subject: s, get: ['ban', 'note'] })).marks }).toEqual({ ban: 'operator', note: 'x' });
      });

      timed('lets an ifLater mark replace one that has ended', async () => {
        const s = fresh('later-ended');
        await one(T0, { subject: s, set: [{ name: 'ban', value: 'old', until: T0 + MINUTE }] });
        await one(T0 + 2 * MINUTE, { subject: s, set: [{ name: 'ban', value: 'new', until: T0 + 3 * MINUTE, ifLater: true }] });
        expect(await read(T0 + 2 * MINUTE, s, 'ban')).toBe('new');
      });

      it('round-trips JSON values: nested, unicode, awkward keys, null', async () => {
        const s = fresh('values');
        const values: Record<string, MarkValue> = {
          nested: { until: FAR, rung: 2, reason: 'spam ✓ 🚫 \u0000 "quoted" \\ |pipe|', list: [1, 'two', null, true, { deep: [[]] }], empty: {} },
          awkward: JSON.parse('{"__proto__": {"polluted": 1}, "constructor": "c", "": "empty key", "a.b": [-1.5, 1e21, 0]}') as MarkValue,
          nothing: null,
          no: false,
          zero: 0,
          text: 'ü'.repeat(5000),
          list: [],
        };
        await one(T0, { subject: s, set: Object.entries(values).map(([name, value]) => ({ name, value, until: null })) });
        const marks = (await one(T0, { subject: s, get: Object.keys(values) })).marks;
        expect(Object.keys(marks).sort()).toEqual(Object.keys(values).sort());
        for (const [key, value] of Object.entries(values)) expect(JSON.stringify(marks[key]), key).toBe(JSON.stringify(value));
        const awkward = marks.awkward as Record<string, MarkValue>;
        expect(Object.prototype.hasOwnProperty.call(awkward, '__proto__')).toBe(true);
        expect((awkward as { polluted?: unknown }).polluted).toBeUndefined();
        expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
      });

      it('does not let a writer or a reader change a stored value', async () => {
        const s = fresh('alias');
        const value = { list: [1] };
        await one(T0, { subject: s, set: [{ name: 'm', value, until: null }] });
        value.list.push(2);
        const first = (await read(T0, s, 'm')) as { list: number[] };
        expect(first.list).toEqual([1]);
        try {
          first.list.push(3); // an adapter may hand out frozen values instead of copies
        } catch {
          // frozen: fine
        }
        expect(((await read(T0, s, 'm')) as { list: number[] }).list).toEqual([1]);
      });
    });

    describe('windows', () => {
      it('admits takes up to max exactly, then denies without consuming', async () => {
        const s = fresh('max');
        const results = [];
        for (let i = 0; i < 5; i++) results.push(await take(T0, s, 3, 1, DAY));
        expect(results.map((r) => r.takes[0]!.admitted)).toEqual([true, true, true, false, false]);
        expect(results.map((r) => r.takes[0]!.count)).toEqual([1, 2, 3, 3, 3]);
        expect(results.map((r) => r.consumed)).toEqual([true, true, true, false, false]);
        expect(results[0]!.takes[0]!.name).toBe('w');
        expect(await peek(T0, s, 'w', DAY)).toBe(3);
      });

      timed('answers exact resetMs, admitted and denied, and slides slot by slot', async () => {
        const s = fresh('reset');
        // A 1-minute window has 1-second slots; T0 starts a slot.
        expect((await take(T0, s, 4)).takes[0]).toEqual({ name: 'w', count: 1, admitted: true, resetMs: MINUTE + SECOND });
        expect((await take(T0 + 1500, s, 4, 2)).takes[0]).toEqual({ name: 'w', count: 3, admitted: true, resetMs: MINUTE + SECOND - 1500 });
        expect((await take(T0 + 2500, s, 4)).takes[0]).toEqual({ name: 'w', count: 4, admitted: true, resetMs: MINUTE + SECOND - 2500 });
        // Full. One more fits when the first slot leaves; three more when the second one does too.
        expect((await take(T0 + 3000, s, 4)).takes[0]).toEqual({ name: 'w', count: 4, admitted: false, resetMs: MINUTE + SECOND - 3000 });
        expect((await take(T0 + 3000, s, 4, 3)).takes[0]).toEqual({ name: 'w', count: 4, admitted: false, resetMs: MINUTE + 2 * SECOND - 3000 });
        // Each slot counts until (slot + 1) * slotMs + windowMs, and not a millisecond longer.
        expect(await peek(T0 + MINUTE + SECOND - 1, s)).toBe(4);
        expect(await peek(T0 + MINUTE + SECOND, s)).toBe(3);
        expect(await peek(T0 + MINUTE + 2 * SECOND - 1, s)).toBe(3);
        expect(await peek(T0 + MINUTE + 2 * SECOND, s)).toBe(1);
        expect(await peek(T0 + MINUTE + 3 * SECOND, s)).toBe(0);
        expect((await take(T0 + MINUTE + 3 * SECOND, s, 4, 4)).takes[0]).toMatchObject({ admitted: true, count: 4 });
      });

      it('takes all or nothing within a subject', async () => {
        const s = fresh('atomic');
        const three = () =>
          one(T0, {
            subject: s,
            take: [
              { name: 'long', windowMs: DAY, max: 10, cost: 1 },
              { name: 'short', windowMs: MINUTE, max: 2, cost: 1 },
              { name: 'other', windowMs: DAY, max: 10, cost: 2 },
            ],
          });
        expect((await three()).consumed).toBe(true);
        expect((await three()).consumed).toBe(true);
        for (let i = 0; i < 3; i++) {
          const denied = await three();
          expect(denied.consumed).toBe(false);
          expect(denied.takes.map((t) => t.admitted)).toEqual([true, false, true]);
          // What the admitted ones report must not include a cost that was never consumed.
          expect(denied.takes.map((t) => t.count)).toEqual([2, 2, 4]);
        }
        const counts = await one(T0, { subject: s, peek: [{ name: 'long', windowMs: DAY }, { name: 'short', windowMs: MINUTE }, { name: 'other', windowMs: DAY }] });
        expect({ ...counts.counts }).toEqual({ long: 2, short: 2, other: 4 });
      });

      it('keeps subjects independent, within one batch too', async () => {
        const [a, b] = [fresh('a'), fresh('b')];
        const w = { name: 'w', windowMs: DAY, cost: 1 };
        const first = await apply(T0, { subject: a, take: [{ ...w, max: 0 }] }, { subject: b, take: [{ ...w, max: 1 }] });
        expect(first.map((r) => r.consumed)).toEqual([false, true]);
        const second = await apply(T0, { subject: a, take: [{ ...w, max: 1 }] }, { subject: b, take: [{ ...w, max: 1 }] });
        expect(second.map((r) => r.consumed)).toEqual([true, false]);
        expect([await peek(T0, a, 'w', DAY), await peek(T0, b, 'w', DAY)]).toEqual([1, 1]);
      });

      it('applies a subject named twice in one batch in order', async () => {
        const s = fresh('twice');
        const w: WindowTake = { name: 'w', windowMs: DAY, max: 1, cost: 1 };
        const results = await apply(T0, { subject: s, take: [w] }, { subject: s, take: [w], get: ['m'] }, { subject: s, set: [{ name: 'm', value: 1, until: null }] }, { subject: s, get: ['m'] });
        expect(results.map((r) => r.consumed)).toEqual([true, false, false, false]);
        expect(results[1]!.marks.m).toBeUndefined();
        expect(results[3]!.marks.m).toBe(1);
      });

      it('charges costs, and a cost above max never fits', async () => {
        const s = fresh('cost');
        expect((await take(T0, s, 10, 4, DAY)).takes[0]).toMatchObject({ admitted: true, count: 4 });
        expect((await take(T0, s, 10, 4, DAY)).takes[0]).toMatchObject({ admitted: true, count: 8 });
        expect((await take(T0, s, 10, 4, DAY)).takes[0]).toMatchObject({ admitted: false, count: 8 });
        expect((await take(T0, s, 10, 2, DAY)).takes[0]).toMatchObject({ admitted: true, count: 10 });
        expect((await take(T0, fresh('huge'), 10, 11)).takes[0]).toEqual({ name: 'w', admitted: false, count: 0, resetMs: MINUTE });
      });

      it('answers dry-run takes without consuming', async () => {
        const s = fresh('dry');
        for (let i = 0; i < 3; i++) {
          const result = await take(T0, s, 1, 1, DAY, true);
          expect(result.takes[0]).toMatchObject({ admitted: true, count: 1 });
          expect(result.consumed).toBe(false);
        }
        expect((await take(T0, s, 1, 1, DAY)).consumed).toBe(true);
        expect((await take(T0, s, 1, 1, DAY, true)).takes[0]).toMatchObject({ admitted: false, count: 1 });
      });

      it('applies get, peek, take, add, set, del in that order', async () => {
        const s = fresh('order');
        const ref = { name: 'w', windowMs: DAY };
        await one(T0, { subject: s, set: [{ name: 'm', value: 'old', until: null }] });
        const result = await one(T0, {
          subject: s,
          get: ['m'],
          peek: [ref],
          take: [{ ...ref, max: 1, cost: 1 }],
          add: [{ ...ref, cost: 5 }],
          set: [{ name: 'm', value: 'new', until: null }],
          del: ['absent'],
        });
        expect(result.marks.m).toBe('old');
        expect(result.counts.w).toBe(0);
        expect(result.takes[0]).toMatchObject({ admitted: true, count: 1 });
        const after = await one(T0, { subject: s, get: ['m'], peek: [ref] });
        expect(after.marks.m).toBe('new');
        expect(after.counts.w).toBe(6);
      });

      it('deletes a mark set earlier in the same operations (del comes after set)', async () => {
        const s = fresh('set-del');
        await one(T0, { subject: s, set: [{ name: 'gone', value: 1, until: null }, { name: 'kept', value: 2, until: null }], del: ['gone'] });
        expect({ ...(await one(T0, { subject: s, get: ['gone', 'kept'] })).marks }).toEqual({ kept: 2 });
      });

      it('keeps a mark and a window of the same name apart', async () => {
        const s = fresh('same-name');
        await one(T0, { subject: s, set: [{ name: 'x', value: 'mark', until: null }], take: [{ name: 'x', windowMs: DAY, max: 5, cost: 2 }] });
        const result = await one(T0, { subject: s, get: ['x'], peek: [{ name: 'x', windowMs: DAY }] });
        expect(result.marks.x).toBe('mark');
        expect(result.counts.x).toBe(2);
      });

      it('adds unconditionally, refunds never below zero, and peek changes nothing', async () => {
        const s = fresh('add');
        const ref = { name: 'v', windowMs: DAY };
        // The time a hit counts at is the store's: refunds pass it back as `at`.
        const { now } = await store.apply({ now: T0, subjects: [{ subject: s, add: [{ ...ref, cost: 3 }] }] });
        expect(await peek(T0, s, 'v', DAY)).toBe(3);
        expect(await peek(T0, s, 'v', DAY)).toBe(3);
        expect((await one(T0, { subject: s, take: [{ ...ref, max: 3, cost: 1 }] })).takes[0]).toMatchObject({ admitted: false, count: 3 });
        await one(T0, { subject: s, add: [{ ...ref, cost: -2, at: now }] });
        expect(await peek(T0, s, 'v', DAY)).toBe(1);
        await one(T0, { subject: s, add: [{ ...ref, cost: -5, at: now }] });
        expect(await peek(T0, s, 'v', DAY)).toBe(0);
        await one(T0, { subject: s, add: [{ ...ref, cost: -1 }] });
        expect(await peek(T0, s, 'v', DAY)).toBe(0);
        await one(T0, { subject: s, add: [{ ...ref, cost: 2 }] });
        expect(await peek(T0, s, 'v', DAY)).toBe(2);
      });

      timed('refunds from the newest slot when the slot of the refund holds nothing', async () => {
        const s = fresh('refund-skew');
        const ref = { name: 'v', windowMs: MINUTE };
        await one(T0, { subject: s, add: [{ ...ref, cost: 1 }] });
        await one(T0 + 5 * SECOND, { subject: s, add: [{ ...ref, cost: 1 }] });
        // A take at T0 + 5 s refunded with a clock a slot ahead (another node's TIME).
        await one(T0 + 6 * SECOND, { subject: s, add: [{ ...ref, cost: -1, at: T0 + 6 * SECOND }] });
        expect(await peek(T0 + 6 * SECOND, s, 'v')).toBe(1);
        // The remaining hit is the older one: it leaves with its slot.
        expect(await peek(T0 + MINUTE + SECOND, s, 'v')).toBe(0);
      });

      timed('slides exactly like the reference arithmetic on random timelines', async () => {
        const SHORT = 10_000;
        const LONG = 25_000;
        const step = fc.record({
          dt: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 2_000 }), weight: 5 }, { arbitrary: fc.integer({ min: 0, max: 30_000 }), weight: 1 }),
          kind: fc.constantFrom('take', 'take', 'take', 'add', 'refund', 'peek'),
          cost: fc.integer({ min: 1, max: 3 }),
          pick: fc.nat(),
        });
        await fc.assert(
          fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 2, max: 12 }), fc.nat(SHORT), async (steps, maxShort, maxLong, offset) => {
            const s = fresh('model');
            const model: Record<'short' | 'long', WindowData> = { short: [], long: [] };
            const ms = { short: SHORT, long: LONG };
            const admitted: { at: number; cost: number }[] = [];
            let now = T0 + offset;
            for (const { dt, kind, cost, pick } of steps) {
              now += dt;
              const counts = { short: prune(model.short, SHORT, now), long: prune(model.long, LONG, now) };
              if (kind === 'take') {
                const result = await one(now, { subject: s, take: [{ name: 'short', windowMs: SHORT, max: maxShort, cost }, { name: 'long', windowMs: LONG, max: maxLong, cost }] });
                const expected = (['short', 'long'] as const).map((name) => ({ name, ...tryTake(model[name], counts[name], ms[name], name === 'short' ? maxShort : maxLong, cost, now) }));
                const all = expected.every((e) => e.admitted);
                if (all) {
                  addHit(model.short, SHORT, now, cost);
                  addHit(model.long, LONG, now, cost);
                  admitted.push({ at: now, cost });
                } else {
                  for (const e of expected) if (e.admitted) e.count -= cost;
                }
                expect(result.takes).toEqual(expected);
                expect(result.consumed).toBe(all);
              } else if (kind === 'add') {
                await one(now, { subject: s, add: [{ name: 'short', windowMs: SHORT, cost }] });
                addHit(model.short, SHORT, now, cost);
              } else if (kind === 'refund') {
                // As the engine does: soon after the take, at the take's time (here, still in both windows).
                const live = admitted.filter((a) => now - a.at < SHORT);
                const refund = live[pick % Math.max(1, live.length)];
                if (!refund) continue;
                await one(now, { subject: s, add: [{ name: 'short', windowMs: SHORT, cost: -refund.cost, at: refund.at }, { name: 'long', windowMs: LONG, cost: -refund.cost, at: refund.at }] });
                addHit(model.short, SHORT, refund.at, -refund.cost);
                addHit(model.long, LONG, refund.at, -refund.cost);
              } else {
                const result = await one(now, { subject: s, peek: [{ name: 'short', windowMs: SHORT }, { name: 'long', windowMs: LONG }] });
                expect({ ...result.counts }).toEqual(counts);
              }
            }
          }),
          { seed: 42, numRuns: 60 },
        );
      });

      it('never over-admits under concurrency: 200 concurrent takes, max 100', async () => {
        const s = fresh('race');
        const results = await Promise.all(Array.from({ length: 200 }, () => take(T0, s, 100, 1, DAY)));
        expect(results.filter((r) => r.consumed).length).toBe(100);
        expect(results.filter((r) => r.takes[0]!.admitted).length).toBe(100);
        expect(await peek(T0, s, 'w', DAY)).toBe(100);
      });

      timed('handles durations beyond 24.8 days (60-day window and mark)', async () => {
        const s = fresh('long');
        await one(T0, { subject: s, set: [{ name: 'ban', value: 'x', until: T0 + 60 * DAY }] });
        expect((await take(T0, s, 1, 1, 60 * DAY)).consumed).toBe(true);
        expect(await read(T0 + 59 * DAY, s, 'ban')).toBe('x');
        const denied = await take(T0 + 59 * DAY, s, 1, 1, 60 * DAY);
        expect(denied.consumed).toBe(false);
        // 60-day window: 1-day slots; the hit of T0's slot leaves at T0 + 61 days.
        expect(denied.takes[0]!.resetMs).toBe(2 * DAY);
        expect(await read(T0 + 60 * DAY, s, 'ban')).toBeUndefined();
        expect((await take(T0 + 61 * DAY, s, 1, 1, 60 * DAY)).consumed).toBe(true);
      });
    });

    describe('keys', () => {
      it('keeps hostile subject and name strings apart, for marks and windows', async () => {
        const tag = fresh('');
        const subjects = ['a', 'a:b', 'a\u0000b', 'a\nb', 'a{b}', '{a}', '}', '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'ü🚫', '', ':', '3:abc', 'a|b', '%7B', '%u', '%uD800'];
        // Lone surrogates: as UTF-8 (a Redis key) each becomes U+FFFD, so each must stay its own subject.
        subjects.push('a\uD800', 'a\uDBFF', 'a\uDC00', 'a\uFFFD', '\uDC00\uD800', '\uD83D\uDE80');
        const names = ['b:c', 'c', 'b\u0000c', 'b', '', '__proto__', 'constructor', 'toString', '{x}', 'm:c', 'w:c'];
        // Raw hostile subjects (the suite's only use of them) and tagged ones, so prefix-ambiguous
        // pairs like ('a', 'b:c') and ('a:b', 'c') exist with and without anything in front.
        const all = [...subjects, ...subjects.map((s) => `${tag}${s}`)];
        const valueOf = (si: number, ni: number) => si * names.length + ni + 1;
        await store.apply({
          now: T0,
          subjects: all.map((subject, si) => ({
            subject,
            set: names.map((name, ni) => ({ name, value: valueOf(si, ni), until: null })),
            take: names.map((name, ni) => ({ name, windowMs: DAY, max: 1e9, cost: valueOf(si, ni) })),
          })),
        });
        const results = await store.apply({ now: T0, subjects: all.map((subject) => ({ subject, get: names, peek: names.map((name) => ({ name, windowMs: DAY })) })) });
        results.subjects.forEach((result, si) => {
          expect(result.subject).toBe(all[si]);
          expect(Object.keys(result.marks).sort()).toEqual([...names].sort());
          names.forEach((name, ni) => {
            expect(result.marks[name], `${JSON.stringify(all[si])} mark ${JSON.stringify(name)}`).toBe(valueOf(si, ni));
            expect(result.counts[name], `${JSON.stringify(all[si])} window ${JSON.stringify(name)}`).toBe(valueOf(si, ni));
          });
        });
        expect(({} as Record<string, unknown>).b).toBeUndefined();
        expect(Object.keys(Object.prototype)).toEqual([]);
        // Clean up the raw subjects, so a store shared with other suites is left as it was.
        await store.apply({ now: T0, subjects: subjects.map((subject) => ({ subject, del: names })) });
        expect(Object.keys((await one(T0, { subject: '__proto__', get: names })).marks)).toEqual([]);
      });
    });

    describe('scan', () => {
      const scanAll = async (name: string, now: number, limit: number) => {
        const found: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.scan!(name, { limit, now, ...(cursor === undefined ? {} : { cursor }) });
          for (const entry of page.entries) {
            expect(entry.name).toBe(name);
            expect(entry.value).toBe(Number(entry.subject.split('/')[1]));
            found.push(entry.subject);
          }
          cursor = page.cursor ?? undefined;
          pages++;
        } while (cursor !== undefined && pages < 100);
        return { found, pages };
      };

      it('pages through active marks, each once', async (ctx: TestContext) => {
        ctx.skip(!store.scan, 'the store does not implement the optional scan()');
        const name = fresh('banscan');
        const subjects = Array.from({ length: 25 }, (_, i) => `${fresh('scan')}/${i}`);
        // Every fifth ended long ago; the rest are without end or end far away.
        const until = (i: number) => (i % 5 === 0 ? 1 : i % 5 === 1 ? FAR : null);
        await store.apply({ now: T0, subjects: subjects.map((s, i) => ({ subject: s, set: [{ name, value: i, until: until(i) }, { name: `${name}-other`, value: -1, until: null }] })) });
        const { found } = await scanAll(name, T0, 7);
        expect(new Set(found).size).toBe(found.length);
        expect([...found].sort()).toEqual(subjects.filter((_, i) => i % 5 !== 0).sort());
        expect((await scanAll(fresh('unused'), T0, 7)).found).toEqual([]);
      });

      timed('leaves out marks ended at its now', async (ctx) => {
        ctx.skip(!store.scan, 'the store does not implement the optional scan()');
        const name = fresh('scan-now');
        const s = `${fresh('scan')}/1`;
        await one(T0, { subject: s, set: [{ name, value: 1, until: T0 + MINUTE }] });
        expect((await scanAll(name, T0 + MINUTE - 1, 10)).found).toEqual([s]);
        expect((await scanAll(name, T0 + MINUTE, 10)).found).toEqual([]);
      });

      it('refuses a limit below 1 and a cursor it did not make, with a typed error', async (ctx: TestContext) => {
        ctx.skip(!store.scan, 'the store does not implement the optional scan()');
        // A page of nothing with a cursor would keep a host that pages until null looping forever.
        for (const limit of [0, -1, Number.NaN, 1.5]) await expect(store.scan!('ban', { limit, now: T0 })).rejects.toThrow(/limit/);
        for (const cursor of ['garbage', '-1', '1e3', '0:0:0']) await expect(store.scan!('ban', { limit: 10, now: T0, cursor })).rejects.toThrow(/cursor/);
      });
    });

    describe('enforcement lifecycle', () => lifecycleSuite(() => store, { serverTime }));
  });
}
