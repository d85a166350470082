/**
 * The sliding-window arithmetic against what `store/types.ts` promises: never more than `max`
 * within any `windowMs` span, released at most one slot late, bounded memory, exact reset times.
 * These are properties of the reference model (`@actiongate/memory`'s window module) that every
 * adapter is then held to by the conformance suite.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STORE_SLOTS, addHit, countAt, lastLeavesAt, newWindow, prune, slotMsOf, tryTake, type WindowData } from '@actiongate/memory';

const T0 = Date.UTC(2026, 0, 1) + 123; // not on a slot boundary

/** Takes along a timeline; returns the admitted hits and the window. */
function run(windowMs: number, max: number, steps: { dt: number; cost: number }[]) {
  const data: WindowData = [];
  const admitted: { at: number; cost: number }[] = [];
  let now = T0;
  for (const { dt, cost } of steps) {
    now += dt;
    const outcome = tryTake(data, prune(data, windowMs, now), windowMs, max, cost, now);
    if (outcome.admitted) {
      addHit(data, windowMs, now, cost);
      admitted.push({ at: now, cost });
    }
  }
  return { data, admitted, now };
}

const steps = (maxDt: number) => fc.array(fc.record({ dt: fc.integer({ min: 0, max: maxDt }), cost: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 80 });
const windowMs = fc.constantFrom(1, 7, 59, 60, 61, 1000, 10_000, 60_000, 3_600_000);

describe('window arithmetic (reference model)', () => {
  it('sizes slots as ceil(windowMs / STORE_SLOTS), at least 1 ms', () => {
    expect(STORE_SLOTS).toBe(60);
    expect([1, 59, 60, 61, 120, 60_000, 86_400_000].map(slotMsOf)).toEqual([1, 1, 1, 2, 2, 1000, 1_440_000]);
  });

  it('never admits more than max within any windowMs span', () => {
    fc.assert(
      fc.property(windowMs, fc.integer({ min: 1, max: 8 }), steps(400), (ms, max, timeline) => {
        const { admitted } = run(ms, max, timeline.map((s) => ({ ...s, dt: Math.ceil((s.dt * ms) / 1000) })));
        for (const first of admitted) {
          const inSpan = admitted.filter((a) => a.at >= first.at && a.at < first.at + ms).reduce((sum, a) => sum + a.cost, 0);
          expect(inSpan).toBeLessThanOrEqual(max);
        }
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it('counts a hit for at least windowMs and at most one slot longer', () => {
    fc.assert(
      fc.property(windowMs, fc.integer({ min: 0, max: 10_000_000 }), (ms, offset) => {
        const at = T0 + offset;
        const data = newWindow(ms, at, 1);
        expect(countAt(data, ms, at)).toBe(1);
        expect(countAt(data, ms, at + ms - 1)).toBe(1);
        expect(countAt(data, ms, at + ms + slotMsOf(ms))).toBe(0);
        expect(lastLeavesAt(data, ms) - at).toBeGreaterThan(ms - 1);
        expect(lastLeavesAt(data, ms) - at).toBeLessThanOrEqual(ms + slotMsOf(ms));
      }),
      { seed: 8, numRuns: 300 },
    );
  });

  it('keeps at most STORE_SLOTS + 1 pairs once pruned, whatever max is', () => {
    fc.assert(
      fc.property(windowMs, steps(100), (ms, timeline) => {
        const { data, now } = run(ms, Number.MAX_SAFE_INTEGER, timeline.map((s) => ({ ...s, dt: Math.ceil((s.dt * ms) / 1000) })));
        prune(data, ms, now);
        expect(data.length).toBeLessThanOrEqual(2 * (STORE_SLOTS + 1));
        for (let i = 0; i < data.length; i += 2) {
          expect(data[i + 1]).toBeGreaterThan(0);
          if (i > 0) expect(data[i]).toBeGreaterThan(data[i - 2]!);
        }
      }),
      { seed: 9, numRuns: 200 },
    );
  });

  it('answers resetMs exactly: a denied take fits at now + resetMs and not a millisecond sooner', () => {
    fc.assert(
      fc.property(windowMs, fc.integer({ min: 1, max: 8 }), steps(300), fc.integer({ min: 1, max: 8 }), (ms, max, timeline, cost) => {
        const { data, now } = run(ms, max, timeline);
        const outcome = tryTake(data, prune(data, ms, now), ms, max, cost, now);
        const fitsAt = (t: number) => {
          const copy = [...data];
          return tryTake(copy, prune(copy, ms, t), ms, max, cost, t).admitted;
        };
        if (outcome.admitted) {
          // Admitted: resetMs is when the oldest counted hit leaves (the take's own when none).
          const after = [...data];
          addHit(after, ms, now, cost);
          const before = countAt(after, ms, now + outcome.resetMs - 1);
          expect(countAt(after, ms, now + outcome.resetMs)).toBeLessThan(before);
        } else if (cost > max) {
          expect(outcome.resetMs).toBe(ms);
          expect(fitsAt(now + 10 * ms)).toBe(false);
        } else {
          expect(outcome.resetMs).toBeGreaterThan(0);
          expect(fitsAt(now + outcome.resetMs)).toBe(true);
          expect(fitsAt(now + outcome.resetMs - 1)).toBe(false);
        }
      }),
      { seed: 10, numRuns: 400 },
    );
  });

  it('refunds never below zero, from the slot of at, else from the newest slot', () => {
    const ms = 60_000;
    const data: WindowData = [];
    addHit(data, ms, T0, 2);
    addHit(data, ms, T0 + 5000, 3);
    addHit(data, ms, T0, -1);
    expect(data).toEqual([Math.floor(T0 / 1000), 1, Math.floor((T0 + 5000) / 1000), 3]);
    addHit(data, ms, T0 + 9000, -2); // no hit in that slot: the newest slot pays
    expect(countAt(data, ms, T0 + 9000)).toBe(2);
    addHit(data, ms, T0, -5);
    expect(data).toEqual([Math.floor((T0 + 5000) / 1000), 1]);
    addHit(data, ms, T0, -5);
    addHit(data, ms, T0, -5);
    expect(data).toEqual([]);
    addHit(data, ms, T0, -1);
    expect(data).toEqual([]);
    expect(newWindow(ms, T0, -1)).toEqual([]);
    expect(newWindow(ms, T0, 0)).toEqual([]);
  });

  it('addHit and prune edit the pairs in place like a map of slot to count, hits in any order', () => {
    // Hits out of order (another process's clock, a refund's `at`) land between slots, and
    // refunds empty slots in the middle: the in-place shifts must keep the pairs exact.
    fc.assert(
      fc.property(fc.constantFrom(60, 1000, 60_000), fc.array(fc.record({ at: fc.integer({ min: 0, max: 200_000 }), cost: fc.integer({ min: -3, max: 3 }) }), { maxLength: 60 }), fc.integer({ min: 0, max: 400_000 }), (ms, hits, pruneAt) => {
        const data: WindowData = [];
        const model = new Map<number, number>();
        const slotMs = slotMsOf(ms);
        for (const { at, cost } of hits) {
          addHit(data, ms, T0 + at, cost);
          const slot = Math.floor((T0 + at) / slotMs);
          let target = slot;
          // A refund into an empty slot takes from the newest one, as addHit documents.
          if (cost < 0 && !model.has(slot) && model.size > 0) target = Math.max(...model.keys());
          if (cost < 0 && !model.has(target)) continue;
          const next = (model.get(target) ?? 0) + cost;
          if (next > 0) model.set(target, next);
          else model.delete(target);
        }
        const expected = [...model].sort((a, b) => a[0] - b[0]).flat();
        expect(data).toEqual(expected);
        const live = expected.filter((_, i) => i % 2 === 0 && (expected[i]! + 1) * slotMs + ms > T0 + pruneAt).flatMap((slot) => [slot, model.get(slot)!]);
        expect(prune(data, ms, T0 + pruneAt)).toBe(live.filter((_, i) => i % 2 === 1).reduce((a, b) => a + b, 0));
        expect(data).toEqual(live);
      }),
      { seed: 12, numRuns: 400 },
    );
  });

  it('newWindow is addHit on an empty window', () => {
    fc.assert(
      fc.property(windowMs, fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: -3, max: 3 }), (ms, at, cost) => {
        const data: WindowData = [];
        addHit(data, ms, at, cost);
        expect(newWindow(ms, at, cost)).toEqual(data);
      }),
      { seed: 11, numRuns: 200 },
    );
  });
});
