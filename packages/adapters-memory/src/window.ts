/**
 * Slotted sliding windows: the counting arithmetic every store adapter shares. This module is the
 * reference model: MemoryStore runs it, the conformance suite (`@actiongate/core/testing`) checks
 * every adapter against it on random timelines, and the Redis Lua script implements the same
 * rules line for line. It lives here rather than in core because core depends on this package at
 * run time (the default store), never the other way round.
 *
 * A window is a flat array of `[slot, count]` pairs, slots strictly ascending, counts > 0:
 *
 * - `slotMs = max(1, ceil(windowMs / STORE_SLOTS))`; a hit at time `at` lands in slot
 *   `floor(at / slotMs)`.
 * - A hit in slot `s` counts while `now < (s + 1) * slotMs + windowMs` (its slot "leaves" at that
 *   moment): at least `windowMs` after it happened, at most one slot longer. So no span of
 *   `windowMs` ever holds more than `max` admitted cost.
 * - The count at `now` is the sum of the live slots' counts. Once pruned, a window holds at most
 *   `STORE_SLOTS + 1` pairs (slots `floor(now / slotMs) - STORE_SLOTS` … `floor(now / slotMs)`),
 *   whatever `max` is; only adds with a future `at` can make it hold more.
 * - A take of `cost` is admitted when `count + cost <= max`.
 * - Admitted: `resetMs` = ms until the oldest live slot leaves (with no earlier hit, the slot of
 *   `now` itself, which the take lands in).
 * - Denied: `resetMs` = ms until enough of the oldest slots have left for the take to fit; a
 *   `cost` above `max` never fits: `resetMs = windowMs`.
 * - A negative add refunds, never below zero (see `addHit`); a slot reaching zero is removed.
 *
 * Functions are pure apart from the documented in-place mutation of the array passed in, so an
 * adapter can keep one array per window without copying.
 */

/** Slots per window; a window releases hits at most `windowMs / STORE_SLOTS` late. */
export const STORE_SLOTS = 60;

/** Flat `[slot0, count0, slot1, count1, …]`, slots strictly ascending, every count > 0. */
export type WindowData = number[];

/** The width of one slot of a window of `windowMs` (at least 1 ms). */
export function slotMsOf(windowMs: number): number {
  return Math.max(1, Math.ceil(windowMs / STORE_SLOTS));
}

/** The moment hits of `slot` stop counting. */
function leavesAt(slot: number, slotMs: number, windowMs: number): number {
  return (slot + 1) * slotMs + windowMs;
}

/**
 * Drops the slots that no longer count at `now` (those with `(slot + 1) * slotMs + windowMs <=
 * now`) and returns the live count. Mutates `data`.
 */
export function prune(data: WindowData, windowMs: number, now: number): number {
  dropLeft(data, windowMs, now);
  let count = 0;
  for (let i = 1; i < data.length; i += 2) count += data[i]!;
  return count;
}

/**
 * Drops the slots that no longer count at `now`, as `prune` does, but returns the count dropped,
 * not the one left: an adapter that keeps each window's count takes this from it, and a take
 * then costs the slots that leave, not a sum over all of them. Mutates `data`.
 */
export function dropLeft(data: WindowData, windowMs: number, now: number): number {
  const slotMs = slotMsOf(windowMs);
  let first = 0;
  let dropped = 0;
  while (first < data.length && leavesAt(data[first]!, slotMs, windowMs) <= now) {
    dropped += data[first + 1]!;
    first += 2;
  }
  if (first > 0) {
    // In place: `splice` would allocate an array of what it removes.
    const length = data.length - first;
    for (let i = 0; i < length; i++) data[i] = data[i + first]!;
    data.length = length;
  }
  return dropped;
}

/**
 * A new window holding one hit of `cost` at `at` (empty when `cost <= 0`: a refund into nothing
 * stays nothing). Same result as `addHit` on `[]`, but the array is allocated at its exact size:
 * most windows (one IP, one request) never grow, and a grown empty array costs ~8× the memory.
 */
export function newWindow(windowMs: number, at: number, cost: number): WindowData {
  return cost > 0 ? [Math.floor(at / slotMsOf(windowMs)), cost] : [];
}

/**
 * Adds `cost` to the slot of `at`, keeping slots ascending, and returns how much the window's
 * count changed: `cost`, or less for a refund that ran out. Mutates `data`.
 *
 * A negative cost refunds, never below zero and never into another window's past: it takes from
 * the slot of `at`, or, when that slot holds nothing, from the newest slot (a refund follows its
 * take within moments, but two clocks — a cluster's nodes — may put them a slot apart). A slot
 * whose count reaches zero is removed; a refund into an empty window changes nothing.
 */
export function addHit(data: WindowData, windowMs: number, at: number, cost: number): number {
  const slot = Math.floor(at / slotMsOf(windowMs));
  let i = data.length - 2;
  while (i >= 0 && data[i]! > slot) i -= 2;
  if (cost < 0 && data[i] !== slot && data.length > 0) i = data.length - 2;
  if (i >= 0 && (data[i] === slot || cost < 0)) {
    const was = data[i + 1]!;
    const next = was + cost;
    if (next > 0) {
      data[i + 1] = next;
      return cost;
    }
    // In place, as in dropLeft; the slot is nearly always the newest, and nothing moves.
    for (let j = i + 2; j < data.length; j++) data[j - 2] = data[j]!;
    data.length -= 2;
    return -was;
  }
  if (cost <= 0) return 0;
  // The newest slot, nearly always: appended without `splice` and the array it returns.
  if (i + 2 === data.length) data.push(slot, cost);
  else data.splice(i + 2, 0, slot, cost);
  return cost;
}

/** What a take would do: the count after it, whether it fits, and when that changes. */
export interface TakeOutcome {
  /** The live count, plus `cost` when admitted. */
  count: number;
  admitted: boolean;
  /** Denied: ms until the take would fit. Admitted: ms until the oldest counted hit leaves. */
  resetMs: number;
}

/**
 * Whether a take of `cost` fits, without changing `data`: an adapter checks every take of a
 * subject first and commits them (`addHit` at `now`) only when all fit. `data` must be pruned at
 * `now` and `count` must be what `prune` returned.
 */
export function tryTake(data: WindowData, count: number, windowMs: number, max: number, cost: number, now: number): TakeOutcome {
  return takeInto({ count: 0, admitted: false, resetMs: 0 }, data, count, windowMs, max, cost, now);
}

/**
 * `tryTake`, written into `out` (and returned): an adapter that answers with an object of its own
 * holding these fields (a take's result, with its name) fills it here rather than copying them
 * out of another made for the purpose, one a take of every decision.
 */
export function takeInto<T extends TakeOutcome>(out: T, data: WindowData, count: number, windowMs: number, max: number, cost: number, now: number): T {
  const slotMs = slotMsOf(windowMs);
  if (count + cost <= max) {
    const oldest = data.length > 0 ? data[0]! : Math.floor(now / slotMs);
    return outcome(out, count + cost, true, leavesAt(oldest, slotMs, windowMs) - now);
  }
  if (cost > max) return outcome(out, count, false, windowMs);
  let remaining = count;
  for (let i = 0; i < data.length; i += 2) {
    remaining -= data[i + 1]!;
    if (remaining + cost <= max) return outcome(out, count, false, leavesAt(data[i]!, slotMs, windowMs) - now);
  }
  // Unreachable for a pruned window whose count is its sum; kept total rather than throwing.
  return outcome(out, count, false, windowMs);
}

function outcome<T extends TakeOutcome>(out: T, count: number, admitted: boolean, resetMs: number): T {
  out.count = count;
  out.admitted = admitted;
  out.resetMs = resetMs;
  return out;
}

/** The live count of a window at `now`, without changing it. */
export function countAt(data: WindowData, windowMs: number, now: number): number {
  const slotMs = slotMsOf(windowMs);
  let count = 0;
  for (let i = 0; i < data.length; i += 2) if (leavesAt(data[i]!, slotMs, windowMs) > now) count += data[i + 1]!;
  return count;
}

/**
 * When the window's newest hit stops counting (`-Infinity` when empty): a window whose last hit
 * is older is the least recently used one, the cheapest to drop when a subject is full.
 */
export function lastLeavesAt(data: WindowData, windowMs: number): number {
  return data.length > 0 ? leavesAt(data[data.length - 2]!, slotMsOf(windowMs), windowMs) : -Infinity;
}
