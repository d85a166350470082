/**
 * The store conformance suite. Every adapter runs it (like unstorage's `testDriver`):
 *
 * ```ts
 * import { testStore } from '@actiongate/core/testing';
 * testStore('memory', () => new MemoryStore());
 * ```
 *
 * It checks the contract in `Store`'s documentation: marks, sliding windows that agree with the
 * reference arithmetic of `@actiongate/memory`, all-or-nothing takes, refunds, exact reset
 * times, concurrency, long durations, key safety and paging.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addHit, prune, tryTake, type WindowData } from '@actiongate/memory';
import type { Store, StoreBatch, SubjectOps, SubjectResult } from '../store/types.js';

export interface TestStoreOptions {
  /** Called after the suite, e.g. to stop a server. */
  cleanup?: () => void | Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const DAY = 86_400_000;

export function testStore(name: string, factory: () => Store | Promise<Store>, options: TestStoreOptions = {}): void {
  describe(`store conformance: ${name}`, () => {
    let store: Store;
    let run = 0;
    // Every test works on its own subjects, so tests never see each other's state.
    const subject = (label: string) => `${label}#${run}`;

    beforeAll(async () => {
      store = await factory();
    });
    afterAll(async () => {
      await store.close();
      await options.cleanup?.();
    });

    const apply = async (now: number, ...subjects: SubjectOps[]) => (await store.apply({ now, subjects })).subjects;
    const one = async (now: number, ops: SubjectOps): Promise<SubjectResult> => (await apply(now, ops))[0]!;
    const take = (now: number, s: string, max: number, cost = 1, windowMs = MINUTE, dryRun = false) =>
      one(now, { subject: s, take: [{ name: 'w', windowMs, max, cost, ...(dryRun ? { dryRun } : {}) }] });

    it('answers an unknown subject with nothing', async () => {
      run++;
      const result = await one(T0, { subject: subject('empty'), get: ['ban'], peek: [{ name: 'w', windowMs: MINUTE }] });
      expect(result).toMatchObject({ subject: subject('empty'), takes: [], consumed: false });
      expect(result.marks.ban).toBeUndefined();
      expect(result.counts.w).toBe(0);
    });

    it('answers one result per subject, in order', async () => {
      run++;
      const result = await store.apply({ now: T0, subjects: ['a', 'b', 'c'].map((s) => ({ subject: subject(s), get: ['x'] })) });
      expect(result.subjects.map((s) => s.subject)).toEqual([subject('a'), subject('b'), subject('c')]);
      expect(typeof result.now).toBe('number');
    });

    it('sets, reads, overwrites, expires and deletes marks', async () => {
      run++;
      const s = subject('marks');
      const value = { until: T0 + DAY, rung: 2, reason: 'spam ✓ 🚫', nested: { list: [1, 'two', null, true] } };
      await one(T0, { subject: s, set: [{ name: 'ban', value, until: T0 + DAY }, { name: 'forever', value: 1, until: null }] });
      expect((await one(T0 + 1, { subject: s, get: ['ban', 'forever'] })).marks).toEqual({ ban: value, forever: 1 });
      await one(T0 + 2, { subject: s, set: [{ name: 'ban', value: 'second', until: T0 + DAY }] });
      expect((await one(T0 + 3, { subject: s, get: ['ban'] })).marks.ban).toBe('second');
      expect((await one(T0 + DAY - 1, { subject: s, get: ['ban'] })).marks.ban).toBe('second');
      expect((await one(T0 + DAY, { subject: s, get: ['ban'] })).marks.ban).toBeUndefined();
      expect((await one(T0 + 400 * DAY, { subject: s, get: ['forever'] })).marks.forever).toBe(1);
      await one(T0 + 400 * DAY, { subject: s, del: ['forever'] });
      expect((await one(T0 + 400 * DAY, { subject: s, get: ['forever'] })).marks.forever).toBeUndefined();
    });

    it('ignores a mark written already expired', async () => {
      run++;
      const s = subject('stale');
      await one(T0, { subject: s, set: [{ name: 'm', value: 1, until: T0 - 1 }] });
      expect((await one(T0, { subject: s, get: ['m'] })).marks.m).toBeUndefined();
    });

    it('results do not alias stored values', async () => {
      run++;
      const s = subject('alias');
      const value = { list: [1] };
      await one(T0, { subject: s, set: [{ name: 'm', value, until: null }] });
      value.list.push(2);
      const read = (await one(T0, { subject: s, get: ['m'] })).marks.m as { list: number[] };
      expect(read.list).toEqual([1]);
      try {
        read.list.push(3); // an adapter may hand out frozen values instead of copies
      } catch {
        // frozen: fine
      }
      expect(((await one(T0, { subject: s, get: ['m'] })).marks.m as { list: number[] }).list).toEqual([1]);
    });

    it('admits takes up to max exactly, then denies with an exact resetMs', async () => {
      run++;
      const s = subject('max');
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await take(T0 + i * 1000, s, 3));
      expect(results.map((r) => r.takes[0]!.admitted)).toEqual([true, true, true, false]);
      expect(results.map((r) => r.takes[0]!.count)).toEqual([1, 2, 3, 3]);
      expect(results.map((r) => r.consumed)).toEqual([true, true, true, false]);
      // slotMs = 1 s for a 1 min window: the first hit (slot at T0) leaves at T0 + 1 s + 60 s.
      expect(results[3]!.takes[0]!.resetMs).toBe(MINUTE + 1000 - 3000);
      expect(results[0]!.takes[0]!.resetMs).toBe(MINUTE + 1000);
      expect((await take(T0 + MINUTE + 999, s, 3)).takes[0]!.admitted).toBe(false);
      expect((await take(T0 + MINUTE + 1000, s, 3)).takes[0]!.admitted).toBe(true);
    });

    it('takes all or nothing within a subject', async () => {
      run++;
      const s = subject('atomic');
      const both = (now: number) =>
        one(now, { subject: s, take: [{ name: 'short', windowMs: MINUTE, max: 2, cost: 1 }, { name: 'long', windowMs: DAY, max: 10, cost: 1 }] });
      expect((await both(T0)).consumed).toBe(true);
      expect((await both(T0 + 1)).consumed).toBe(true);
      for (let i = 0; i < 5; i++) {
        const denied = await both(T0 + 2 + i);
        expect(denied.consumed).toBe(false);
        expect(denied.takes.map((t) => t.admitted)).toEqual([false, true]);
        expect(denied.takes[1]!.count).toBe(2);
      }
      const counts = await one(T0 + 10, { subject: s, peek: [{ name: 'short', windowMs: MINUTE }, { name: 'long', windowMs: DAY }] });
      expect(counts.counts).toEqual({ short: 2, long: 2 });
    });

    it('keeps subjects independent', async () => {
      run++;
      const [a, b] = await apply(T0, { subject: subject('a'), take: [{ name: 'w', windowMs: MINUTE, max: 0, cost: 1 }] }, { subject: subject('b'), take: [{ name: 'w', windowMs: MINUTE, max: 5, cost: 1 }] });
      expect(a!.consumed).toBe(false);
      expect(b!.consumed).toBe(true);
    });

    it('charges costs, and a cost above max never fits', async () => {
      run++;
      const s = subject('cost');
      expect((await take(T0, s, 10, 4)).takes[0]).toMatchObject({ admitted: true, count: 4 });
      expect((await take(T0, s, 10, 4)).takes[0]).toMatchObject({ admitted: true, count: 8 });
      expect((await take(T0, s, 10, 4)).takes[0]).toMatchObject({ admitted: false, count: 8 });
      expect((await take(T0, s, 10, 2)).takes[0]).toMatchObject({ admitted: true, count: 10 });
      expect((await take(T0, subject('huge'), 10, 11)).takes[0]).toMatchObject({ admitted: false, count: 0, resetMs: MINUTE });
    });

    it('dry-run takes answer without consuming', async () => {
      run++;
      const s = subject('dry');
      for (let i = 0; i < 3; i++) expect((await take(T0, s, 1, 1, MINUTE, true)).takes[0]).toMatchObject({ admitted: true, count: 1 });
      expect((await take(T0, s, 1)).takes[0]!.admitted).toBe(true);
      expect((await take(T0, s, 1, 1, MINUTE, true)).takes[0]).toMatchObject({ admitted: false, count: 1 });
    });

    it('adds unconditionally, refunds never below zero, and peek changes nothing', async () => {
      run++;
      const s = subject('add');
      const ref = { name: 'v', windowMs: MINUTE };
      await one(T0, { subject: s, add: [{ ...ref, cost: 3 }] });
      expect((await one(T0, { subject: s, peek: [ref] })).counts.v).toBe(3);
      expect((await one(T0, { subject: s, peek: [ref] })).counts.v).toBe(3);
      await one(T0 + 5, { subject: s, add: [{ ...ref, cost: -2, at: T0 }] });
      expect((await one(T0 + 5, { subject: s, peek: [ref] })).counts.v).toBe(1);
      await one(T0 + 5, { subject: s, add: [{ ...ref, cost: -5, at: T0 }] });
      expect((await one(T0 + 5, { subject: s, peek: [ref] })).counts.v).toBe(0);
      await one(T0 + 5, { subject: s, add: [{ ...ref, cost: -1 }] });
      expect((await one(T0 + 5, { subject: s, peek: [ref] })).counts.v).toBe(0);
    });

    it('refunds from the newest slot when the slot of the refund holds nothing', async () => {
      run++;
      const s = subject('refund-skew');
      const ref = { name: 'v', windowMs: MINUTE };
      await one(T0, { subject: s, add: [{ ...ref, cost: 1 }] });
      await one(T0 + 5_000, { subject: s, add: [{ ...ref, cost: 1 }] });
      // A take at T0 + 5 s refunded with a clock a slot ahead (another node's TIME).
      await one(T0 + 6_000, { subject: s, add: [{ ...ref, cost: -1, at: T0 + 6_000 }] });
      expect((await one(T0 + 6_000, { subject: s, peek: [ref] })).counts.v).toBe(1);
      // The remaining hit is the older one: it leaves with its slot.
      expect((await one(T0 + MINUTE + 1_000, { subject: s, peek: [ref] })).counts.v).toBe(0);
    });

    it('slides exactly like the reference arithmetic on random timelines', async () => {
      const windowMs = 10_000;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ dt: fc.integer({ min: 0, max: 4_000 }), cost: fc.integer({ min: 1, max: 3 }), refund: fc.boolean() }), { minLength: 1, maxLength: 40 }),
          fc.integer({ min: 1, max: 8 }),
          async (steps, max) => {
            run++;
            const s = subject('model');
            const model: WindowData = [];
            let now = T0;
            for (const step of steps) {
              now += step.dt;
              const result = await take(now, s, max, step.cost, windowMs);
              const count = prune(model, windowMs, now);
              const expected = tryTake(model, count, windowMs, max, step.cost, now);
              if (expected.admitted) addHit(model, windowMs, now, step.cost);
              expect(result.takes[0]).toEqual({ name: 'w', ...expected });
              if (step.refund && expected.admitted) {
                await one(now, { subject: s, add: [{ name: 'w', windowMs, cost: -step.cost, at: now }] });
                addHit(model, windowMs, now, -step.cost);
              }
            }
          },
        ),
        { seed: 42, numRuns: 60 },
      );
    });

    it('never over-admits under concurrency: 200 concurrent takes, max 100', async () => {
      run++;
      const s = subject('race');
      const results = await Promise.all(Array.from({ length: 200 }, () => take(T0, s, 100)));
      expect(results.filter((r) => r.consumed).length).toBe(100);
      expect((await one(T0, { subject: s, peek: [{ name: 'w', windowMs: MINUTE }] })).counts.w).toBe(100);
    });

    it('handles durations beyond 24.8 days', async () => {
      run++;
      const s = subject('long');
      await one(T0, { subject: s, set: [{ name: 'ban', value: 'x', until: T0 + 60 * DAY }] });
      expect((await take(T0, s, 1, 1, 60 * DAY)).consumed).toBe(true);
      expect((await one(T0 + 59 * DAY, { subject: s, get: ['ban'] })).marks.ban).toBe('x');
      expect((await take(T0 + 59 * DAY, s, 1, 1, 60 * DAY)).consumed).toBe(false);
      expect((await one(T0 + 60 * DAY, { subject: s, get: ['ban'] })).marks.ban).toBeUndefined();
      expect((await take(T0 + 62 * DAY, s, 1, 1, 60 * DAY)).consumed).toBe(true);
    });

    it('keeps hostile subject and name strings apart', async () => {
      run++;
      const hostile = ['a', 'a:b', 'a{b}', '{a}', 'a\nb', 'a\u0000b', '__proto__', 'constructor', 'prototype', 'ü🚫', 'a|b', '', ':'];
      const pairs: [string, string][] = [];
      for (const s of hostile) for (const n of ['b:c', 'c', '__proto__', '']) pairs.push([subject(s), n]);
      pairs.push([`${subject('a')}:b`, 'c'], [subject('a'), 'b:c']);
      const batch: StoreBatch = { now: T0, subjects: pairs.map(([s, n], i) => ({ subject: s, set: [{ name: n, value: i, until: null }] })) };
      await store.apply(batch);
      const read = await store.apply({ now: T0, subjects: pairs.map(([s, n]) => ({ subject: s, get: [n] })) });
      const seen = new Map<string, unknown>();
      read.subjects.forEach((r, i) => {
        const [s, n] = pairs[i]!;
        seen.set(JSON.stringify([s, n]), r.marks[n]);
      });
      pairs.forEach(([s, n], i) => {
        // The last write for a repeated pair wins; every distinct pair keeps its own value.
        const last = pairs.map((p, j) => (p[0] === s && p[1] === n ? j : -1)).filter((j) => j >= 0).at(-1);
        expect(seen.get(JSON.stringify([s, n]))).toBe(last ?? i);
      });
      expect(({} as Record<string, unknown>).b).toBeUndefined();
    });

    it('pages through active marks with scan', async () => {
      if (!store.scan) return;
      run++;
      const name = `banscan${run}`;
      const subjects = Array.from({ length: 25 }, (_, i) => subject(`scan-${i}`));
      await store.apply({ now: T0, subjects: subjects.map((s, i) => ({ subject: s, set: [{ name, value: i, until: i % 5 === 0 ? T0 + 10 : null }] })) });
      const found = new Set<string>();
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.scan(name, { limit: 7, now: T0 + 10, ...(cursor ? { cursor } : {}) });
        for (const entry of page.entries) {
          expect(found.has(entry.subject)).toBe(false);
          expect(entry.name).toBe(name);
          found.add(entry.subject);
        }
        cursor = page.cursor ?? undefined;
        pages++;
      } while (cursor && pages < 100);
      expect(found.size).toBe(20);
      expect([...found].sort()).toEqual(subjects.filter((_, i) => i % 5 !== 0).sort());
    });
  });
}
