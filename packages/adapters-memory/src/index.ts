/**
 * @actiongate/memory: the Actiongate store for a single process, and the sliding-window
 * arithmetic every store adapter must match (the reference model of the conformance suite).
 */
export { MAX_PINNED, MemoryStore, PINNED_PREFIXES, PINNED_SUBJECTS, SYNC_APPLY, TRANSIENT_MARKS, type MemoryStoreOptions } from './memory-store.js';
export { validateBatch } from './validate.js';
export { emptyRecord } from './record.js';
export { STORE_SLOTS, slotMsOf, prune, addHit, newWindow, tryTake, countAt, lastLeavesAt, type WindowData, type TakeOutcome } from './window.js';
