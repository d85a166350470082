/**
 * Calling the store under a deadline. A decision must return in time even when the store hangs
 * or is down; a late answer is dropped (its rejection is caught, never left unhandled).
 */
import { isActiongateError, StoreError } from '../errors.js';
import type { Store, StoreBatch, StoreResult } from '../store/types.js';

/** `store.apply(batch)`, rejecting with `StoreError` after `timeoutMs` or on any adapter failure. */
export function applyWithin(store: Store, batch: StoreBatch, timeoutMs: number): Promise<StoreResult> {
  let pending: Promise<StoreResult>;
  try {
    pending = store.apply(batch);
  } catch (error) {
    return Promise.reject(asStoreError(store, error));
  }
  if (!Number.isFinite(timeoutMs)) return pending.catch((error: unknown) => Promise.reject(asStoreError(store, error)));
  return new Promise<StoreResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new StoreError(store.name, 'apply', `no answer within ${timeoutMs} ms`, { code: 'STORE_TIMEOUT' }));
    }, timeoutMs);
    pending.then(
      (result) => {
        clearTimeout(timer);
        resolve(result);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(asStoreError(store, error));
      },
    );
  });
}

function asStoreError(store: Store, error: unknown): StoreError {
  if (isActiongateError(error) && error.code.startsWith('STORE_')) return error as StoreError;
  const message = error instanceof Error ? error.message : String(error);
  return new StoreError(store.name, 'apply', message, { cause: error });
}
