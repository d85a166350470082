/**
 * Slotted sliding windows: the counting arithmetic every store adapter shares. It is exported as
 * the reference model: the conformance suite checks adapters against it, and the Redis Lua
 * scripts implement the same rules. A window is a short list of `[slot, count]` pairs.
 *
 * - `slotMs = ceil(windowMs / STORE_SLOTS)`; a hit at time `at` lands in slot `floor(at / slotMs)`.
 * - A hit in slot `s` counts while `now < (s + 1) * slotMs + windowMs`: at least `windowMs` after
 *   it happened, at most one slot longer. So no `windowMs`-long span ever admits more than `max`.
 * - A take of `cost` is admitted when `count + cost <= max`.
 * - Denied: `resetMs` is the time until enough slots have left for the take to fit (a cost above
 *   `max` never fits: `resetMs = windowMs`). Admitted: the time until the oldest counted hit leaves.
 * - Memory per window is bounded by the slot count, whatever `max` is.
 */
/** Slots per window; a window releases hits at most `windowMs / STORE_SLOTS` late. */
export const STORE_SLOTS = 60;

/** Flat `[slot0, count0, slot1, count1, …]`, slots ascending. */
export type WindowData = number[];

export function slotMsOf(windowMs: number): number {
  return Math.max(1, Math.ceil(windowMs / STORE_SLOTS));
}

/** The moment hits of `slot` stop counting. */
function leavesAt(slot: number, slotMs: number, windowMs: number): number {
  return (slot + 1) * slotMs + windowMs;
}

/** Drops the slots that no longer count at `now`; returns the live count. Mutates `data`. */
export function prune(data: WindowData, windowMs: number, now: number): number {
  const slotMs = slotMsOf(windowMs);
  let first = 0;
  while (first < data.length && leavesAt(data[first]!, slotMs, windowMs) <= now) first += 2;
  if (first > 0) data.splice(0, first);
  let count = 0;
  for (let i = 1; i < data.length; i += 2) count += data[i]!;
  return count;
}

/**
 * Adds `cost` to the slot of `at`. A negative cost refunds, never below zero: from the slot of
 * `at`, or, when that slot holds nothing, from the newest slot (a refund follows its take within
 * moments, but two clocks — a cluster's nodes — may put them a slot apart). Mutates `data`.
 */
export function addHit(data: WindowData, windowMs: number, at: number, cost: number): void {
  const slot = Math.floor(at / slotMsOf(windowMs));
  let i = data.length - 2;
  while (i >= 0 && data[i]! > slot) i -= 2;
  if (cost < 0 && data[i] !== slot && data.length > 0) i = data.length - 2;
  if (i >= 0 && (data[i] === slot || cost < 0)) {
    const next = data[i + 1]! + cost;
    if (next > 0) data[i + 1] = next;
    else data.splice(i, 2);
  } else if (cost > 0) {
    data.splice(i + 2, 0, slot, cost);
  }
}

export interface TakeOutcome {
  count: number;
  admitted: boolean;
  resetMs: number;
}

/**
 * Whether a take of `cost` fits, without changing `data` (the caller commits with `addHit`
 * once every take of the subject fits). `data` must be pruned at `now`.
 */
export function tryTake(data: WindowData, count: number, windowMs: number, max: number, cost: number, now: number): TakeOutcome {
  const slotMs = slotMsOf(windowMs);
  if (count + cost <= max) {
    const oldest = data.length > 0 ? leavesAt(data[0]!, slotMs, windowMs) - now : leavesAt(Math.floor(now / slotMs), slotMs, windowMs) - now;
    return { count: count + cost, admitted: true, resetMs: oldest };
  }
  if (cost > max) return { count, admitted: false, resetMs: windowMs };
  let remaining = count;
  for (let i = 0; i < data.length; i += 2) {
    remaining -= data[i + 1]!;
    if (remaining + cost <= max) return { count, admitted: false, resetMs: leavesAt(data[i]!, slotMs, windowMs) - now };
  }
  return { count, admitted: false, resetMs: windowMs };
}

/** The live count of a window at `now` without changing it. */
export function countAt(data: WindowData, windowMs: number, now: number): number {
  const slotMs = slotMsOf(windowMs);
  let count = 0;
  for (let i = 0; i < data.length; i += 2) if (leavesAt(data[i]!, slotMs, windowMs) > now) count += data[i + 1]!;
  return count;
}
