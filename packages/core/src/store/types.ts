/**
 * The store adapter contract: the one seam between the engine and shared state.
 *
 * An evaluation sends one batch; each `SubjectOps` is applied atomically by the adapter (Redis:
 * one Lua script per subject, all hash-tagged to one slot). The engine composes everything else
 * (bans, limits, violations, escalation) from four primitives: marks to read, windows to peek,
 * windows to take all-or-nothing, and writes. Kept free of imports so adapters can depend on
 * these types alone (`import type`).
 *
 * Windows are sliding windows of `STORE_SLOTS` slots: a hit is recorded in the slot that holds
 * `now` (slot = floor(now / slotMs), slotMs = ceil(windowMs / STORE_SLOTS)) and counts until
 * `(slot + 1) * slotMs + windowMs`, so a window never admits more than `max` within any `windowMs`
 * span (it may release up to one slot late). Memory per window is bounded by the slot count,
 * whatever `max` is. The reference implementation of this arithmetic is `@actiongate/memory`'s
 * `window` module (`STORE_SLOTS`, `tryTake`, `addHit`, `prune`).
 */


/** A window to consume from, all-or-nothing with the other takes of its subject. */
export interface WindowTake {
  /** Window name within the subject, e.g. `limit:ad-burst`. Any string. */
  name: string;
  windowMs: number;
  /** Capacity; a take is admitted when `count + cost <= max`. */
  max: number;
  cost: number;
  /** Answer as usual but consume nothing (`evaluate(…, { dryRun: true })`). */
  dryRun?: boolean;
}

export interface WindowRef {
  name: string;
  windowMs: number;
}

/** An unconditional add to a window; a negative `cost` refunds (never below zero). */
export interface WindowAdd extends WindowRef {
  cost: number;
  /** The time the hit counts at (refunds pass the time of the take). Defaults to the batch `now`. */
  at?: number;
}

export type MarkValue = string | number | boolean | null | MarkValue[] | { [key: string]: MarkValue };

/** A small JSON record with an optional end (`until: null` = no end). */
export interface MarkWrite {
  name: string;
  value: MarkValue;
  until: number | null;
  /**
   * Write only if this mark ends later than the live one of that name: no mark (or an ended one)
   * is replaced, one ending at the same time or later is kept, and a mark without end
   * (`until: null`) ends latest. Decided inside the atomic operation, so two processes that each
   * read a subject before the other wrote never shorten each other's ban. A write with this flag
   * that is already over changes nothing.
   * @default false
   */
  ifLater?: boolean;
}

export interface SubjectOps {
  /** The unit of atomicity and of key locality, e.g. `ip:203.0.113.7`, `actor:u42`. Any string. */
  subject: string;
  /** Marks to read (absent or expired → not in the result). */
  get?: string[];
  /** Windows whose current count to read, without changing them. */
  peek?: WindowRef[];
  /** Windows to consume: every take of this subject is admitted, or none consumes anything. One take per window name. */
  take?: WindowTake[];
  /** Applied after `take`, whatever its outcome. */
  add?: WindowAdd[];
  set?: MarkWrite[];
  del?: string[];
}

export interface StoreBatch {
  /** The caller's clock (ms). Adapters with a server clock may use theirs instead. */
  now: number;
  subjects: SubjectOps[];
}

export interface TakeResult {
  name: string;
  /** Count in the window after this call (including the take when admitted). */
  count: number;
  admitted: boolean;
  /** Denied: ms until the take would fit. Admitted: ms until the oldest counted hit leaves. */
  resetMs: number;
}

export interface SubjectResult {
  subject: string;
  marks: Record<string, MarkValue>;
  counts: Record<string, number>;
  takes: TakeResult[];
  /** True when this subject's takes were consumed (all admitted and there were takes). */
  consumed: boolean;
}

export interface StoreResult {
  /** The time the store used (the caller's, or the server's with `time: 'server'`). */
  now: number;
  /** One per `SubjectOps`, same order. */
  subjects: SubjectResult[];
}

/** One active mark found by `scan`. */
export interface MarkEntry {
  subject: string;
  name: string;
  value: MarkValue;
  until: number | null;
}

export interface Store {
  /** Adapter name for errors and logs. */
  readonly name: string;
  /**
   * Applies a batch: one round trip for the adapter (Redis: one script per slot, pipelined).
   * A store that stores nothing for a subject answers with empty marks and zero counts. A
   * malformed batch (a non-finite `now` or cost, a window of no length, a NaN end, an `ifLater`
   * that is not a boolean, a window taken twice by one subject, a mark value that is not JSON) is
   * rejected with a TypeError naming the field, before any of it is
   * applied: `validateBatch` checks it.
   * The answer holds one `SubjectResult` per subject, in the batch's order; the guard treats
   * any other shape as a store failure (`STORE_FAILED`, "malformed result"). The batch is the
   * guard's to keep: read it, never write to it (some of its lists are frozen and shared by
   * every evaluation, so a write throws, which the guard counts as a store failure).
   */
  apply(batch: StoreBatch): Promise<StoreResult>;
  /**
   * Active marks named `name` (e.g. bans), in pages: those ending after `now` (the guard passes
   * the time its `apply` answers with, so a store with its own clock lists by that clock).
   * `limit` is the target page size: adapters built on Redis SCAN may return somewhat more, or
   * fewer (even none) when a page's reading budget runs out first; the listing is over only
   * when `cursor` is null. Optional: operator listings need it.
   */
  scan?(name: string, options: { cursor?: string; limit: number; now: number }): Promise<{ entries: MarkEntry[]; cursor: string | null }>;
  close(): Promise<void>;
}
