/**
 * MemoryStore: the Store contract for one process, on lru-cache. One LRU entry per subject
 * (an IP, an actor…) holding that subject's marks and windows, so an evaluation costs a couple
 * of LRU lookups; `maxKeys` bounds the subjects and `maxNamesPerSubject` what one subject may
 * hold, so memory stays bounded whatever the traffic. Expiry is lazy, against the caller's
 * clock: no timers, and a 60-day ban works. Every `apply` runs synchronously inside one call,
 * which is what makes it atomic.
 */
import { LRUCache } from 'lru-cache';
import type { MarkEntry, MarkValue, Store, StoreBatch, StoreResult, SubjectOps, SubjectResult, TakeResult } from '@actiongate/core';
import { addHit, prune, tryTake, type WindowData } from './window.js';

export interface MemoryStoreOptions {
  /**
   * Most subjects (IPs, subnets, actors, content fingerprints…) kept; the least recently used
   * go first.
   * @default 100000
   */
  maxKeys?: number;
  /**
   * Most marks and windows one subject holds; past it the oldest name is dropped. Bounds what a
   * client can make one subject hold through action names it chooses (`ip+action` limits).
   * @default 64
   */
  maxNamesPerSubject?: number;
}

interface Mark {
  value: MarkValue;
  until: number | null;
}

interface Window {
  windowMs: number;
  data: WindowData;
}

interface Record_ {
  marks: Map<string, Mark>;
  windows: Map<string, Window>;
}

export class MemoryStore implements Store {
  readonly name = 'memory';
  readonly #subjects: LRUCache<string, Record_>;
  readonly #maxNames: number;
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    const maxKeys = options.maxKeys ?? 100_000;
    const maxNames = options.maxNamesPerSubject ?? 64;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) {
      throw new RangeError(`MemoryStore: maxKeys must be a positive integer, got ${String(maxKeys)}`);
    }
    if (!Number.isSafeInteger(maxNames) || maxNames < 1) {
      throw new RangeError(`MemoryStore: maxNamesPerSubject must be a positive integer, got ${String(maxNames)}`);
    }
    this.#subjects = new LRUCache<string, Record_>({ max: maxKeys });
    this.#maxNames = maxNames;
  }

  /** Subjects held now (expired state is dropped lazily, so this is an upper bound of live ones). */
  get size(): number {
    return this.#subjects.size;
  }

  apply(batch: StoreBatch): Promise<StoreResult> {
    if (this.#closed) return Promise.reject(new Error('MemoryStore: apply() after close()'));
    const subjects = batch.subjects.map((ops) => this.#applySubject(ops, batch.now));
    return Promise.resolve({ now: batch.now, subjects });
  }

  #applySubject(ops: SubjectOps, now: number): SubjectResult {
    const { subject } = ops;
    const marks: Record<string, MarkValue> = Object.create(null);
    const counts: Record<string, number> = Object.create(null);
    const takes: TakeResult[] = [];
    let consumed = false;
    const writes = ops.take?.length || ops.add?.length || ops.set?.length;
    let record = this.#subjects.get(subject);
    if (!record && !writes) return { subject, marks, counts: fillZero(counts, ops), takes: this.#emptyTakes(ops, now), consumed };
    record ??= this.#create(subject);

    for (const name of ops.get ?? []) {
      const mark = record.marks.get(name);
      if (!mark) continue;
      if (mark.until !== null && mark.until <= now) record.marks.delete(name);
      else marks[name] = mark.value;
    }
    for (const ref of ops.peek ?? []) {
      const window = this.#window(record, ref.name, ref.windowMs, false);
      counts[ref.name] = window ? prune(window.data, ref.windowMs, now) : 0;
    }
    if (ops.take && ops.take.length > 0) {
      let all = true;
      for (const take of ops.take) {
        const data = this.#window(record, take.name, take.windowMs, false)?.data ?? [];
        const outcome = tryTake(data, prune(data, take.windowMs, now), take.windowMs, take.max, take.cost, now);
        if (!outcome.admitted) all = false;
        takes.push({ name: take.name, ...outcome });
      }
      if (all && !ops.take.some((t) => t.dryRun)) {
        for (const take of ops.take) addHit(this.#window(record, take.name, take.windowMs, true)!.data, take.windowMs, now, take.cost);
        consumed = true;
      } else if (!all) {
        // A denied batch consumed nothing, so no take may report its own cost as counted.
        ops.take.forEach((take, i) => {
          if (takes[i]!.admitted) takes[i]!.count -= take.cost;
        });
      }
    }
    for (const add of ops.add ?? []) {
      const window = this.#window(record, add.name, add.windowMs, add.cost > 0);
      if (!window) continue;
      addHit(window.data, add.windowMs, add.at ?? now, add.cost);
      prune(window.data, add.windowMs, now);
      if (window.data.length === 0) record.windows.delete(add.name);
    }
    for (const mark of ops.set ?? []) {
      if (mark.until !== null && mark.until <= now) record.marks.delete(mark.name);
      else this.#put(record.marks, mark.name, { value: frozenCopy(mark.value), until: mark.until }, record);
    }
    for (const name of ops.del ?? []) {
      record.marks.delete(name);
      record.windows.delete(name);
    }
    if (record.marks.size === 0 && record.windows.size === 0) this.#subjects.delete(subject);
    return { subject, marks, counts, takes, consumed };
  }

  #create(subject: string): Record_ {
    const record: Record_ = { marks: new Map(), windows: new Map() };
    this.#subjects.set(subject, record);
    return record;
  }

  /** Answers for takes on a subject the store has never seen (nothing counted yet). */
  #emptyTakes(ops: SubjectOps, now: number): TakeResult[] {
    return (ops.take ?? []).map((take) => ({ name: take.name, ...tryTake([], 0, take.windowMs, take.max, take.cost, now) }));
  }

  #window(record: Record_, name: string, windowMs: number, create: boolean): Window | undefined {
    const window = record.windows.get(name);
    if (window && window.windowMs === windowMs) return window;
    // A window re-declared with another length (a policy change) starts afresh.
    if (!create) return undefined;
    const fresh: Window = { windowMs, data: [] };
    this.#put(record.windows, name, fresh, record);
    return fresh;
  }

  #put<T>(map: Map<string, T>, name: string, value: T, record: Record_): void {
    map.delete(name);
    map.set(name, value);
    if (record.marks.size + record.windows.size > this.#maxNames) {
      // Oldest first: windows are cheaper to lose than marks (bans), so they go before marks.
      const victim = record.windows.size > 0 ? record.windows : record.marks;
      victim.delete(victim.keys().next().value!);
    }
  }

  async scan(name: string, options: { cursor?: string; limit: number; now: number }): Promise<{ entries: MarkEntry[]; cursor: string | null }> {
    const start = options.cursor ? Number(options.cursor) : 0;
    const entries: MarkEntry[] = [];
    let index = 0;
    for (const [subject, record] of this.#subjects.entries()) {
      const mark = record.marks.get(name);
      if (!mark || (mark.until !== null && mark.until <= options.now)) continue;
      if (index++ < start) continue;
      if (entries.length === options.limit) return { entries, cursor: String(start + entries.length) };
      entries.push({ subject, name, value: mark.value, until: mark.until });
    }
    return { entries, cursor: null };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#subjects.clear();
  }
}

function fillZero(counts: Record<string, number>, ops: SubjectOps): Record<string, number> {
  for (const ref of ops.peek ?? []) counts[ref.name] = 0;
  return counts;
}

/** A deep, frozen copy of a JSON value: stored state can be neither changed by the writer afterwards nor by a reader. */
function frozenCopy(value: MarkValue): MarkValue {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return Object.freeze(value.map(frozenCopy)) as MarkValue[];
  const copy: Record<string, MarkValue> = {};
  for (const key of Object.keys(value)) copy[key] = frozenCopy(value[key]!);
  return Object.freeze(copy);
}
