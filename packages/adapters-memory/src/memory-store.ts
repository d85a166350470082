/**
 * MemoryStore: the Store contract for one process, on lru-cache. One LRU entry per (subject,
 * name) so `maxKeys` bounds memory whatever the traffic; expiry is lazy (checked against the
 * caller's clock when an entry is touched), so there are no timers and a 60-day ban works.
 * Every `apply` runs synchronously inside one call, which is what makes it atomic.
 */
import { LRUCache } from 'lru-cache';
import type { MarkEntry, MarkValue, Store, StoreBatch, StoreResult, SubjectOps, SubjectResult, TakeResult } from '@actiongate/core';
import { addHit, prune, tryTake, type WindowData } from './window.js';

export interface MemoryStoreOptions {
  /**
   * Most (subject, mark-or-window) entries kept; the least recently used go first. Each entry is
   * a few hundred bytes at most (a window holds at most 61 slots).
   * @default 100000
   */
  maxKeys?: number;
}

interface Mark {
  kind: 'mark';
  subject: string;
  name: string;
  value: MarkValue;
  until: number | null;
}

interface Window {
  kind: 'window';
  windowMs: number;
  data: WindowData;
}

type Entry = Mark | Window;

/** Length-prefixed, so no pair of (subject, name) strings can collide, whatever they contain. */
function keyOf(subject: string, name: string): string {
  return `${subject.length}:${subject}${name}`;
}

export class MemoryStore implements Store {
  readonly name = 'memory';
  readonly #entries: LRUCache<string, Entry>;
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    const maxKeys = options.maxKeys ?? 100_000;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) {
      throw new RangeError(`MemoryStore: maxKeys must be a positive integer, got ${String(maxKeys)}`);
    }
    this.#entries = new LRUCache<string, Entry>({ max: maxKeys });
  }

  /** Entries held now (expired ones are dropped lazily, so this is an upper bound of live ones). */
  get size(): number {
    return this.#entries.size;
  }

  apply(batch: StoreBatch): Promise<StoreResult> {
    if (this.#closed) return Promise.reject(new Error('MemoryStore: apply() after close()'));
    const now = batch.now;
    const subjects = batch.subjects.map((ops) => this.#applySubject(ops, now));
    return Promise.resolve({ now, subjects });
  }

  #applySubject(ops: SubjectOps, now: number): SubjectResult {
    const { subject } = ops;
    const marks: Record<string, MarkValue> = Object.create(null);
    const counts: Record<string, number> = Object.create(null);
    const takes: TakeResult[] = [];
    let consumed = false;

    for (const name of ops.get ?? []) {
      const mark = this.#mark(subject, name, now);
      if (mark) marks[name] = structuredClone(mark.value);
    }
    for (const ref of ops.peek ?? []) {
      const window = this.#window(subject, ref.name, ref.windowMs, false);
      counts[ref.name] = window ? prune(window.data, ref.windowMs, now) : 0;
    }
    if (ops.take && ops.take.length > 0) {
      const windows = ops.take.map((take) => this.#window(subject, take.name, take.windowMs, false));
      let all = true;
      ops.take.forEach((take, i) => {
        const data = windows[i]?.data ?? [];
        const outcome = tryTake(data, prune(data, take.windowMs, now), take.windowMs, take.max, take.cost, now);
        if (!outcome.admitted) all = false;
        takes.push({ name: take.name, ...outcome });
      });
      if (all && !ops.take.some((t) => t.dryRun)) {
        ops.take.forEach((take) => addHit(this.#window(subject, take.name, take.windowMs, true)!.data, take.windowMs, now, take.cost));
        consumed = true;
      } else if (!all) {
        // What a denied take reports must not include takes that were never consumed.
        for (const [i, take] of ops.take.entries()) if (takes[i]!.admitted) takes[i]!.count -= take.cost;
      }
    }
    for (const add of ops.add ?? []) {
      const window = this.#window(subject, add.name, add.windowMs, add.cost > 0);
      if (!window) continue;
      addHit(window.data, add.windowMs, add.at ?? now, add.cost);
      prune(window.data, add.windowMs, now);
      if (window.data.length === 0) this.#entries.delete(keyOf(subject, add.name));
    }
    for (const mark of ops.set ?? []) {
      if (mark.until !== null && mark.until <= now) {
        this.#entries.delete(keyOf(subject, mark.name));
        continue;
      }
      this.#entries.set(keyOf(subject, mark.name), { kind: 'mark', subject, name: mark.name, value: structuredClone(mark.value), until: mark.until });
    }
    for (const name of ops.del ?? []) this.#entries.delete(keyOf(subject, name));
    return { subject, marks, counts, takes, consumed };
  }

  #mark(subject: string, name: string, now: number): Mark | undefined {
    const key = keyOf(subject, name);
    const entry = this.#entries.get(key);
    if (!entry || entry.kind !== 'mark') return undefined;
    if (entry.until !== null && entry.until <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #window(subject: string, name: string, windowMs: number, create: boolean): Window | undefined {
    const key = keyOf(subject, name);
    const entry = this.#entries.get(key);
    if (entry && entry.kind === 'window' && entry.windowMs === windowMs) return entry;
    // A window re-declared with another length (a policy change) starts afresh.
    if (!create) return undefined;
    const fresh: Window = { kind: 'window', windowMs, data: [] };
    this.#entries.set(key, fresh);
    return fresh;
  }

  async scan(name: string, options: { cursor?: string; limit: number; now: number }): Promise<{ entries: MarkEntry[]; cursor: string | null }> {
    const start = options.cursor ? Number(options.cursor) : 0;
    const entries: MarkEntry[] = [];
    let index = 0;
    let next: string | null = null;
    // Iterating keys in insertion-independent LRU order is stable while nothing changes.
    for (const entry of this.#entries.values()) {
      if (entry.kind !== 'mark' || entry.name !== name || (entry.until !== null && entry.until <= options.now)) continue;
      if (index++ < start) continue;
      if (entries.length === options.limit) {
        next = String(start + entries.length);
        break;
      }
      entries.push({ subject: entry.subject, name: entry.name, value: structuredClone(entry.value), until: entry.until });
    }
    return { entries, cursor: next };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#entries.clear();
  }
}
