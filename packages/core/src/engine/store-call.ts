/**
 * Calling the store under a deadline. A decision must return in time even when the store hangs
 * or is down; a late answer is dropped (its rejection is caught, never left unhandled).
 */
import { isActiongateError, StoreError } from '../errors.js';
import type { Store, StoreBatch, StoreResult } from '../store/types.js';

/** `store.apply(batch)`, rejecting with `StoreError` after `timeoutMs` or on any adapter failure. */
export async function applyWithin(store: Store, batch: StoreBatch, timeoutMs: number): Promise<StoreResult> {
  let pending: Promise<StoreResult>;
  try {
    pending = store.apply(batch);
  } catch (error) {
    throw asStoreError(store, error);
  }
  let settled = false;
  const observed = pending.then(
    (result) => {
      settled = true;
      return result;
    },
    (error: unknown) => {
      settled = true;
      throw asStoreError(store, error);
    },
  );
  // An in-process store answers within a microtask: it needs no timer (a timer per decision
  // is a measurable share of a 20 µs budget).
  await null;
  if (settled || !Number.isFinite(timeoutMs)) return observed;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreError(store.name, 'apply', `no answer within ${timeoutMs} ms`, { code: 'STORE_TIMEOUT' })), timeoutMs);
  });
  try {
    return await Promise.race([observed, deadline]);
  } finally {
    clearTimeout(timer);
    observed.catch(() => {}); // a late rejection after the deadline is not unhandled
  }
}

function asStoreError(store: Store, error: unknown): StoreError {
  if (isActiongateError(error) && error.code.startsWith('STORE_')) return error as StoreError;
  const message = error instanceof Error ? error.message : String(error);
  return new StoreError(store.name, 'apply', message, { cause: error });
}
