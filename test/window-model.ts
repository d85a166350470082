/**
 * Window counters against a brute-force reference model, on random timelines (fast-check).
 *
 * Why a second model: the conformance suite (`@actiongate/core/testing`) checks adapters against
 * `@actiongate/memory`'s window module, which is also what MemoryStore runs, so a mistake in that
 * module would be copied into the expectation. This model shares no code with it: it keeps a
 * naive list of `(time, cost)` hits per window and recomputes everything from the documented slot
 * arithmetic (`packages/core/src/store/types.ts` header, `packages/adapters-memory/src/window.ts`):
 *
 * - `slotMs = max(1, ceil(windowMs / 60))`; a hit at `at` lands in slot `floor(at / slotMs)`;
 * - a hit of slot `s` counts while `now < (s + 1) * slotMs + windowMs`;
 * - a take of `cost` fits when `count + cost <= max`; the takes of one subject are all-or-nothing,
 *   a dry run answers the same and consumes nothing;
 * - admitted `resetMs`: until the oldest counted slot leaves (no hit: the slot of `now`); denied:
 *   until enough of the oldest slots have left for the take to fit (`cost > max`: `windowMs`);
 * - a refund (negative add) takes from the slot of its `at`, or, when that slot holds nothing,
 *   from the newest slot; never below zero.
 *
 * Random timelines mix takes (1–3 windows, random `windowMs`, `max`, `cost`, the odd dry run),
 * positive adds (now or in the past), refunds (at the time of an earlier take, as the engine sends
 * them, or at `now`, the clock-skew case), peeks, and several of them in one `SubjectOps`
 * (applied get → peek → take → add), at monotone random times from sub-slot steps to several
 * windows. Every answer (peek counts, take counts, admitted, resetMs, consumed) must equal the
 * model's. Refunds are only generated where the engine would send them: at a time whose slot
 * still counts (a refund into a slot already gone is outside the contract).
 *
 * It lives here, at the repository root and in no package, because fast-check is a dev
 * dependency. Used by `packages/adapters-memory/test/window-model.test.ts` and
 * `packages/adapters-redis/test/window-model.test.ts`.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Store, SubjectOps, TakeResult, WindowAdd, WindowRef, WindowTake } from '../packages/core/src/store/types.js';

/** The documented slot count (`STORE_SLOTS`), restated rather than imported. */
const SLOTS = 60;
const T0 = Date.UTC(2026, 0, 1);

interface Hit {
  at: number;
  cost: number;
}

/** One window as a naive list of hits; every question is answered by scanning the list. */
export class ReferenceWindow {
  readonly hits: Hit[] = [];
  constructor(readonly windowMs: number) {}

  get slotMs(): number {
    return Math.max(1, Math.ceil(this.windowMs / SLOTS));
  }

  slotOf(at: number): number {
    return Math.floor(at / this.slotMs);
  }

  leavesAt(slot: number): number {
    return (slot + 1) * this.slotMs + this.windowMs;
  }

  /** Slots still counting at `now` that hold something, oldest first, with their totals. */
  live(now: number): [slot: number, total: number][] {
    const totals = new Map<number, number>();
    for (const hit of this.hits) {
      const slot = this.slotOf(hit.at);
      if (this.leavesAt(slot) > now) totals.set(slot, (totals.get(slot) ?? 0) + hit.cost);
    }
    return [...totals].filter(([, total]) => total > 0).sort((a, b) => a[0] - b[0]);
  }

  count(now: number): number {
    return this.live(now).reduce((sum, [, total]) => sum + total, 0);
  }

  /** Whether the slot of `at` still counts at `now` (refunds are only sent then). */
  counts(at: number, now: number): boolean {
    return this.leavesAt(this.slotOf(at)) > now;
  }

  /** What a take would answer at `now` (count includes `cost` when it fits). */
  take(max: number, cost: number, now: number): Omit<TakeResult, 'name'> {
    const live = this.live(now);
    const count = live.reduce((sum, [, total]) => sum + total, 0);
    if (count + cost <= max) {
      const oldest = live.length > 0 ? live[0]![0] : this.slotOf(now);
      return { count: count + cost, admitted: true, resetMs: this.leavesAt(oldest) - now };
    }
    if (cost > max) return { count, admitted: false, resetMs: this.windowMs };
    let remaining = count;
    for (const [slot, total] of live) {
      remaining -= total;
      if (remaining + cost <= max) return { count, admitted: false, resetMs: this.leavesAt(slot) - now };
    }
    throw new Error('model: a denied take that never fits with cost <= max');
  }

  add(at: number, cost: number, now: number): void {
    if (cost > 0) {
      this.hits.push({ at, cost });
      return;
    }
    const live = this.live(now);
    const own = live.find(([slot]) => slot === this.slotOf(at));
    const target = own ?? live[live.length - 1];
    if (!target) return; // a refund into nothing stays nothing
    this.hits.push({ at: target[0] * this.slotMs, cost: -Math.min(-cost, target[1]) });
  }
}

export interface TimelineOptions {
  /** Range of a window's length. RedisStore needs long ones: its keys expire in real time. */
  windowMs: { min: number; max: number };
  numRuns: number;
  seed: number;
  /** Most steps per timeline. @default 40 */
  maxSteps?: number;
}

interface WindowSpec {
  name: string;
  windowMs: number;
  max: number;
}

interface AddSpec {
  kind: 'hit' | 'refund' | 'refund-now';
  mask: number;
  cost: number;
  /** How far in the past a positive add lands, as a fraction of its window (0–1.5). */
  back: number;
  pick: number;
}

interface Step {
  /** Time step as a fraction of the longest window (per mille), or a few ms. */
  dt: { permille: number } | { ms: number };
  peek: number | null;
  take: { mask: number; costs: number[]; dry: boolean } | null;
  add: AddSpec[];
}

export interface Timeline {
  start: number;
  windows: WindowSpec[];
  steps: Step[];
}

/** Random timelines: the windows of one subject and the steps applied to it. */
export function timelineArbitrary(options: TimelineOptions): fc.Arbitrary<Timeline> {
  const window = fc.record({
    windowMs: fc.oneof(
      fc.integer(options.windowMs),
      // Lengths that are and are not multiples of the slot count (ceil rounding of slotMs).
      fc.integer({ min: Math.ceil(options.windowMs.min / SLOTS), max: Math.floor(options.windowMs.max / SLOTS) }).map((k) => k * SLOTS),
    ),
    // Picked evenly rather than with fast-check's small-value bias, which makes 0 and 1 (deny nearly
    // everything) most of the draws; max 0 stays, rarer.
    max: fc.oneof({ arbitrary: fc.constantFrom(1, 2, 3, 4, 5, 6, 8), weight: 12 }, { arbitrary: fc.constant(0), weight: 1 }),
  });
  const add: fc.Arbitrary<AddSpec> = fc.record({
    kind: fc.constantFrom('hit', 'refund', 'refund', 'refund-now'),
    mask: fc.nat(7),
    cost: fc.integer({ min: 1, max: 3 }),
    back: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1500 }).map((permille) => permille / 1000)),
    pick: fc.nat(),
  });
  // Costs above `max` are rarer than small ones, and a dry run is the exception.
  const take = fc.record({
    mask: fc.nat(7),
    costs: fc.array(fc.oneof({ arbitrary: fc.constantFrom(1, 1, 1, 2, 2, 3), weight: 15 }, { arbitrary: fc.constant(10), weight: 1 }), { minLength: 3, maxLength: 3 }),
    dry: fc.oneof({ arbitrary: fc.constant(false), weight: 9 }, { arbitrary: fc.constant(true), weight: 1 }),
  });
  const step: fc.Arbitrary<Step> = fc.record({
    dt: fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 3 }).map((ms) => ({ ms })), weight: 1 },
      { arbitrary: fc.integer({ min: 0, max: 60 }).map((permille) => ({ permille })), weight: 4 },
      { arbitrary: fc.integer({ min: 0, max: 1200 }).map((permille) => ({ permille })), weight: 2 },
      { arbitrary: fc.integer({ min: 0, max: 4000 }).map((permille) => ({ permille })), weight: 1 },
    ),
    peek: fc.option(fc.nat(7), { nil: null, freq: 3 }),
    take: fc.option(take, { nil: null, freq: 4 }),
    add: fc.array(add, { maxLength: 2 }),
  });
  return fc.record({
    start: fc.nat(86_400_000).map((offset) => T0 + offset),
    windows: fc.array(window, { minLength: 1, maxLength: 3 }).map((ws) => ws.map((w, i) => ({ name: `w${i}`, ...w }))),
    steps: fc.array(step, { minLength: 1, maxLength: options.maxSteps ?? 40 }),
  });
}

/** What the timelines exercised, so a test can show the property was not vacuous. */
export interface TimelineStats {
  applies: number;
  admitted: number;
  denied: number;
  dryRuns: number;
  refunds: number;
  pastHits: number;
  peeks: number;
  /** Peeks whose count was lower than the previous peek of the same window: the window slid. */
  slides: number;
  /** Takes denied with a `cost` above `max`. */
  neverFits: number;
  /** Takes denied that fit later (the `resetMs` walk over the oldest slots). */
  waits: number;
}

/** The indexes a mask picks out of `n` windows (at least one). */
function pick(mask: number, n: number): number[] {
  const chosen = Array.from({ length: n }, (_, i) => i).filter((i) => mask & (1 << i));
  return chosen.length > 0 ? chosen : [mask % n];
}

/** The timelines must reach every branch of the arithmetic for the agreement to mean anything. */
export function expectCoverage(stats: TimelineStats): void {
  expect(stats.admitted).toBeGreaterThan(500);
  expect(stats.denied).toBeGreaterThan(300);
  expect(stats.waits).toBeGreaterThan(50);
  expect(stats.neverFits).toBeGreaterThan(100);
  expect(stats.dryRuns).toBeGreaterThan(50);
  expect(stats.refunds).toBeGreaterThan(500);
  expect(stats.pastHits).toBeGreaterThan(100);
  expect(stats.slides).toBeGreaterThan(50);
}

/**
 * Runs random timelines through `store` (caller time: the store must honour `batch.now`) and
 * asserts every answer equals the reference model's. Each timeline uses a fresh subject.
 */
export async function checkTimelines(store: Store, options: TimelineOptions, label = 'model'): Promise<TimelineStats> {
  const stats: TimelineStats = { applies: 0, admitted: 0, denied: 0, dryRuns: 0, refunds: 0, pastHits: 0, peeks: 0, slides: 0, neverFits: 0, waits: 0 };
  let run = 0;
  await fc.assert(
    fc.asyncProperty(timelineArbitrary(options), async ({ start, windows, steps }) => {
      const subject = `${label}:${run++}`;
      const model = windows.map((w) => new ReferenceWindow(w.windowMs));
      const longest = Math.max(...windows.map((w) => w.windowMs));
      const taken: { at: number; windows: number[]; costs: number[] }[] = [];
      const lastPeek = new Map<number, number>();
      let now = start;
      const apply = async (ops: SubjectOps) => {
        stats.applies++;
        const result = await store.apply({ now, subjects: [ops] });
        expect(result.subjects).toHaveLength(1);
        return result.subjects[0]!;
      };
      const ref = (i: number): WindowRef => ({ name: windows[i]!.name, windowMs: windows[i]!.windowMs });

      for (const step of steps) {
        now += 'ms' in step.dt ? step.dt.ms : Math.floor((step.dt.permille * longest) / 1000);
        const ops: SubjectOps = { subject };
        const context = () => JSON.stringify({ now, start, windows, ops });

        // peek (reads the state before this step's take and adds)
        const peeked = step.peek === null ? [] : pick(step.peek, windows.length);
        if (peeked.length > 0) ops.peek = peeked.map(ref);
        const expectedCounts: Record<string, number> = {};
        for (const i of peeked) expectedCounts[windows[i]!.name] = model[i]!.count(now);

        // take: all-or-nothing over the chosen windows
        const takeWindows = step.take ? pick(step.take.mask, windows.length) : [];
        let expectedTakes: TakeResult[] = [];
        let expectedConsumed = false;
        if (step.take && takeWindows.length > 0) {
          const dryAt = step.take.dry ? takeWindows[step.take.costs[0]! % takeWindows.length]! : -1;
          ops.take = takeWindows.map((i, k): WindowTake => ({ ...ref(i), max: windows[i]!.max, cost: step.take!.costs[k]!, ...(i === dryAt ? { dryRun: true } : {}) }));
          expectedTakes = ops.take.map((t, k) => ({ name: t.name, ...model[takeWindows[k]!]!.take(t.max, t.cost, now) }));
          const all = expectedTakes.every((t) => t.admitted);
          if (!all) {
            for (let k = 0; k < expectedTakes.length; k++) if (expectedTakes[k]!.admitted) expectedTakes[k]!.count -= ops.take[k]!.cost;
          }
          expectedConsumed = all && dryAt < 0;
          stats.dryRuns += dryAt >= 0 ? 1 : 0;
          stats.neverFits += ops.take.filter((t) => t.cost > t.max).length;
          stats.waits += ops.take.filter((t, k) => !expectedTakes[k]!.admitted && t.cost <= t.max).length;
          if (expectedConsumed) {
            takeWindows.forEach((i, k) => model[i]!.add(now, ops.take![k]!.cost, now));
            taken.push({ at: now, windows: takeWindows, costs: ops.take.map((t) => t.cost) });
            stats.admitted++;
          } else if (!all) {
            stats.denied++;
          }
        }

        // add: positive hits (now or in the past) and refunds (at a take's time, or now)
        const adds: WindowAdd[] = [];
        const applyAdds: (() => void)[] = [];
        for (const spec of step.add) {
          if (spec.kind === 'hit') {
            for (const i of pick(spec.mask, windows.length)) {
              const at = now - Math.floor(spec.back * windows[i]!.windowMs);
              adds.push({ ...ref(i), cost: spec.cost, ...(at !== now ? { at } : {}) });
              applyAdds.push(() => model[i]!.add(at, spec.cost, now));
              stats.pastHits += at !== now ? 1 : 0;
            }
          } else if (spec.kind === 'refund-now') {
            for (const i of pick(spec.mask, windows.length)) {
              adds.push({ ...ref(i), cost: -spec.cost, at: now });
              applyAdds.push(() => model[i]!.add(now, -spec.cost, now));
              stats.refunds++;
            }
          } else {
            // As the engine refunds: the take's own windows and costs, at the take's time.
            const candidates = taken.filter((t) => t.windows.every((i) => model[i]!.counts(t.at, now)));
            const refund = candidates[spec.pick % Math.max(1, candidates.length)];
            if (!refund) continue;
            refund.windows.forEach((i, k) => {
              adds.push({ ...ref(i), cost: -refund.costs[k]!, at: refund.at });
              applyAdds.push(() => model[i]!.add(refund.at, -refund.costs[k]!, now));
            });
            stats.refunds++;
          }
        }
        if (adds.length > 0) ops.add = adds;
        if (!ops.peek && !ops.take && !ops.add) continue;

        const result = await apply(ops);
        for (const add of applyAdds) add(); // in order, after the take, as the store applies them
        if (ops.peek) {
          stats.peeks++;
          expect({ ...result.counts }, context()).toEqual(expectedCounts);
          for (const i of peeked) {
            if ((lastPeek.get(i) ?? 0) > expectedCounts[windows[i]!.name]!) stats.slides++;
            lastPeek.set(i, expectedCounts[windows[i]!.name]!);
          }
        }
        expect(result.takes, context()).toEqual(expectedTakes);
        expect(result.consumed, context()).toBe(expectedConsumed);
      }

      // Every window is empty once its last slot has left.
      now += longest + Math.ceil(longest / SLOTS) + 1;
      const end = await apply({ subject, peek: windows.map((_, i) => ref(i)) });
      expect({ ...end.counts }).toEqual(Object.fromEntries(windows.map((w) => [w.name, 0])));
    }),
    { seed: options.seed, numRuns: options.numRuns },
  );
  return stats;
}
