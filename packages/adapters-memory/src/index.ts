/**
 * @actiongate/memory: the Actiongate store for a single process.
 */
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { STORE_SLOTS, slotMsOf, prune, addHit, tryTake, countAt, type WindowData, type TakeOutcome } from './window.js';
