/**
 * Calling the store under a deadline. A decision must return in time even when the store hangs
 * or is down; a late answer is dropped (its rejection is caught, never left unhandled).
 *
 * Why one timer per guard rather than one per call: every call of a guard has the same deadline
 * length, so deadlines fall due (nearly) in the order the calls were made, and one queue with one
 * timer armed for its head serves them all. A timer per call (create, insert, clear) was a measurable
 * share of a sequential decision against Redis; the shared timer is armed at most once per
 * deadline length, and only while calls are waiting (so it never keeps a process alive after
 * its last decision by more than one deadline).
 */
import { SYNC_APPLY } from '@actiongate/memory';
import { isActiongateError, StoreError } from '../errors.js';
import type { MarkEntry, Store, StoreBatch, StoreResult, SubjectResult } from '../store/types.js';

/** A guard's store calls under its deadline. */
export interface StoreCalls {
  /**
   * `store.apply(batch)`, failing with `StoreError` (`STORE_TIMEOUT`) at `due`, a time on this
   * caller's clock (`due()` gives the usual one): an evaluation that needs a second call (a range
   * registry reload) passes its own, so the whole decision keeps one deadline.
   */
  apply(batch: StoreBatch, due?: number): Promise<StoreResult>;
  /** `store.scan(name, options)` under the usual deadline, its answer checked like `apply`'s. */
  scan(name: string, options: { cursor?: string; limit: number; now: number }): Promise<ScanResult>;
  /** This caller's clock (ms, monotonic): what `due` and the deadlines count on. */
  now(): number;
  /** The deadline of a call made at `at` on this caller's clock (now by default). */
  due(at?: number): number;
  /** Lets the process exit without waiting for the timer (the guard is closing). */
  close(): void;
}

type Operation = 'apply' | 'scan';
type ScanResult = Awaited<ReturnType<NonNullable<Store['scan']>>>;

interface Waiting {
  due: number;
  settled: boolean;
  readonly operation: Operation;
  /** Dropped once settled: it holds the call's promise, and with it the store's whole answer. */
  reject: (error: Error) => void;
}

const SETTLED = (): void => {};

export interface StoreCallOptions {
  /** A monotonic clock in ms (injectable for tests). @default performance.now */
  clock?: () => number;
  /** Appended to a timeout's message: what the caller can do about it. */
  lateHint?: string;
}

/**
 * The store calls of one guard, each rejecting with `StoreError` at its deadline or on any
 * adapter failure.
 */
export function storeCalls(store: Store, timeoutMs: number, options: StoreCallOptions = {}): StoreCalls {
  const clock = options.clock ?? (() => performance.now());
  const lateHint = options.lateHint ?? '';
  // Waiting calls by due time. Calls made with the usual deadline arrive in due order, so a new
  // one goes at the end; one with an earlier, inherited deadline is placed by a short scan back.
  const queue: Waiting[] = [];
  let head = 0;
  let timer: NodeJS.Timeout | undefined;
  let timerDue = Number.POSITIVE_INFINITY;
  let closing = false;

  function expireDue(): void {
    timer = undefined;
    timerDue = Number.POSITIVE_INFINITY;
    const now = clock();
    while (head < queue.length && (queue[head]!.settled || queue[head]!.due <= now)) {
      const waiting = queue[head++]!;
      if (!waiting.settled) {
        const reject = waiting.reject;
        markSettled(waiting);
        reject(new StoreError(store.name, waiting.operation, `no answer within ${timeoutMs} ms${lateHint}`, { code: 'STORE_TIMEOUT' }));
      }
    }
    arm(now);
  }

  function arm(now: number): void {
    // Settled calls at the head need no timer: skip them before deciding. Under steady traffic
    // the queue is never empty, so it is also cut here, not only when the timer fires: with a
    // deadline of seconds it held every call of those seconds (300,000 at 60k decisions/s),
    // and the collector traced them all.
    while (head < queue.length && queue[head]!.settled) head++;
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
      return;
    }
    const due = queue[head]!.due;
    if (timer !== undefined && timerDue <= due) return;
    if (timer !== undefined) clearTimeout(timer);
    timerDue = due;
    timer = setTimeout(expireDue, Math.max(0, due - now));
    if (closing) timer.unref();
  }

  function enqueue(waiting: Waiting): void {
    let at = queue.length;
    while (at > head && queue[at - 1]!.due > waiting.due) at--;
    if (at === queue.length) queue.push(waiting);
    else queue.splice(at, 0, waiting);
  }

  /**
   * `pending` under the deadline `due` (the usual one when undefined), its answer checked by
   * `problem(asked, answer)` (null: it keeps the contract). A static check function and its
   * argument rather than a closure: this runs for every decision.
   */
  function settle<T, A>(operation: Operation, pending: Promise<T>, problem: (asked: A, answer: unknown) => string | null, asked: A, due: number | undefined): Promise<T> {
    // Two promises and a handful of closures per call: this runs for every decision.
    return new Promise<T>((resolve, reject) => {
      const waiting: Waiting = { due: 0, settled: false, operation, reject };
      pending.then(
        (result) => {
          if (waiting.settled) return; // too late: the deadline answered already
          markSettled(waiting);
          const wrong = problem(asked, result);
          if (wrong === null) resolve(result);
          else reject(new StoreError(store.name, operation, `malformed result: ${wrong}`, { code: 'STORE_FAILED' }));
        },
        (error: unknown) => {
          if (waiting.settled) return; // a late failure after the deadline is not unhandled
          markSettled(waiting);
          reject(asStoreError(store, error, operation));
        },
      );
      // A store that answers at once (another in-process store, a wrapper of one) has answered
      // by the next microtask: it needs no deadline at all. (Not queueMicrotask: Node wraps
      // each of its callbacks in an async resource, measured at a fifth of a whole decision.)
      if (Number.isFinite(timeoutMs)) {
        NEXT_MICROTASK.then(() => {
          if (waiting.settled) return;
          const now = clock();
          waiting.due = due ?? now + timeoutMs;
          enqueue(waiting);
          arm(now);
        });
      }
    });
  }

  /**
   * Marks a call answered. Its entry may stay queued until the calls before it are answered, so
   * it lets go of the promise (and the answer the promise holds) now.
   */
  function markSettled(waiting: Waiting): void {
    waiting.settled = true;
    waiting.reject = SETTLED;
  }

  return {
    now: clock,
    due: (at = clock()) => at + timeoutMs,
    close() {
      closing = true;
      timer?.unref();
    },
    apply(batch, due) {
      // A MemoryStore answers synchronously, so it needs neither a deadline nor the promises;
      // unless its apply was replaced (a subclass, a spy), which then must see every call.
      if (answersAtOnce(store)) {
        try {
          return Promise.resolve(store.applyNow(batch));
        } catch (error) {
          return Promise.reject(asStoreError(store, error, 'apply'));
        }
      }
      let pending: Promise<StoreResult>;
      try {
        pending = store.apply(batch);
      } catch (error) {
        return Promise.reject(asStoreError(store, error, 'apply'));
      }
      return settle('apply', pending, malformed, batch, due);
    },
    scan(name, options) {
      const scan = store.scan;
      if (!scan) return Promise.reject(new StoreError(store.name, 'scan', 'this store cannot list entries (it has no scan)'));
      let pending: Promise<ScanResult>;
      try {
        pending = scan.call(store, name, options);
      } catch (error) {
        return Promise.reject(asStoreError(store, error, 'scan'));
      }
      return settle('scan', pending, malformedScan, options, undefined);
    },
  };
}

const NEXT_MICROTASK = Promise.resolve();

/**
 * What is wrong with an adapter's answer to `batch`, or null when it keeps the Store contract as
 * far as a decision reads it: one answer per subject, in order, under its name; a count for every
 * peek and a take result for every take. Read blindly, a missing answer is a subject with no
 * counts (every limit has room: allow) and a missing field a TypeError out of `evaluate`; as a
 * store failure it follows `failMode` and reaches `onStoreError`.
 */
function malformed(batch: StoreBatch, result: unknown): string | null {
  if (typeof result !== 'object' || result === null) return `expected { now, subjects }, got ${result === null ? 'null' : typeof result}`;
  const { now, subjects } = result as Partial<StoreResult>;
  if (typeof now !== 'number' || !Number.isFinite(now)) return `now is ${String(now)}, not a time in ms`;
  if (!Array.isArray(subjects) || subjects.length !== batch.subjects.length) {
    return `expected ${batch.subjects.length} subject answers, got ${Array.isArray(subjects) ? subjects.length : typeof subjects}`;
  }
  for (let i = 0; i < subjects.length; i++) {
    const ops = batch.subjects[i]!;
    const answer = subjects[i] as Partial<SubjectResult> | null | undefined;
    if (typeof answer !== 'object' || answer === null) return `subjects[${i}] is not an object`;
    if (answer.subject !== ops.subject) return `subjects[${i}] answers for another subject than the one asked`;
    if (typeof answer.marks !== 'object' || answer.marks === null) return `subjects[${i}].marks is not an object`;
    const counts = answer.counts;
    if (typeof counts !== 'object' || counts === null) return `subjects[${i}].counts is not an object`;
    for (const peek of ops.peek ?? []) {
      const count = Object.hasOwn(counts, peek.name) ? counts[peek.name] : undefined;
      if (typeof count !== 'number' || Number.isNaN(count)) return `subjects[${i}].counts has no number for a peeked window`;
    }
    const takes = answer.takes;
    const asked = ops.take ?? [];
    if (!Array.isArray(takes) || takes.length !== asked.length) return `subjects[${i}].takes: expected ${asked.length} results`;
    for (let j = 0; j < takes.length; j++) {
      const take = takes[j] as Partial<SubjectResult['takes'][number]> | null | undefined;
      if (
        typeof take !== 'object' || take === null || take.name !== asked[j]!.name || typeof take.admitted !== 'boolean'
        || typeof take.count !== 'number' || Number.isNaN(take.count) || typeof take.resetMs !== 'number' || Number.isNaN(take.resetMs)
      ) {
        return `subjects[${i}].takes[${j}] needs the window's name, a boolean admitted and numbers count and resetMs`;
      }
    }
    if (typeof answer.consumed !== 'boolean') return `subjects[${i}].consumed is not a boolean`;
  }
  return null;
}

/** A store whose `applyNow` answers its unreplaced `apply` synchronously (`SYNC_APPLY`, @actiongate/memory). */
function answersAtOnce(store: Store): store is Store & { applyNow(batch: StoreBatch): StoreResult } {
  const apply = (store as { [SYNC_APPLY]?: unknown })[SYNC_APPLY];
  return apply !== undefined && store.apply === apply && typeof (store as { applyNow?: unknown }).applyNow === 'function';
}

/** What is wrong with an adapter's answer to a `scan`, or null: a page of entries and a cursor. */
function malformedScan(_asked: unknown, result: unknown): string | null {
  if (typeof result !== 'object' || result === null) return `expected { entries, cursor }, got ${result === null ? 'null' : typeof result}`;
  const { entries, cursor } = result as { entries?: unknown; cursor?: unknown };
  if (cursor !== null && typeof cursor !== 'string') return `cursor is ${typeof cursor}, not a string or null`;
  if (!Array.isArray(entries)) return `entries is ${typeof entries}, not an array`;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as Partial<MarkEntry> | null | undefined;
    if (typeof entry !== 'object' || entry === null || typeof entry.subject !== 'string' || typeof entry.name !== 'string'
      || !('value' in entry) || (entry.until !== null && (typeof entry.until !== 'number' || Number.isNaN(entry.until)))) {
      return `entries[${i}] needs a string subject and name, a value and a numeric or null until`;
    }
  }
  return null;
}

/**
 * `store` as seen through `calls`: every apply and scan under their deadline and checked. What
 * operator calls use, so they can take a `Store` and still never wait forever or read garbage.
 */
export function deadlineStore(store: Store, calls: StoreCalls): Store {
  return {
    name: store.name,
    apply: (batch) => calls.apply(batch),
    ...(store.scan ? { scan: (name: string, options: { cursor?: string; limit: number; now: number }) => calls.scan(name, options) } : {}),
    close: () => store.close(),
  };
}

function asStoreError(store: Store, error: unknown, operation: Operation): StoreError {
  if (isActiongateError(error) && error.code.startsWith('STORE_')) return error as StoreError;
  const message = error instanceof Error ? error.message : String(error);
  return new StoreError(store.name, operation, message, { cause: error });
}
