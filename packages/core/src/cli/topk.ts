/**
 * The heaviest keys of a stream in bounded memory: Space-Saving (Metwally, Agrawal, El Abbadi,
 * 2005) over an indexed min-heap. A report over a million decisions from a million distinct IPs
 * keeps `capacity` keys, not a million. While no more than `capacity` distinct keys have been
 * seen the counts are exact; after that a newcomer takes the place of the smallest entry and
 * inherits its count as `error`, so every kept count `c` satisfies `c - error <= true <= c`,
 * and any key whose true count exceeds total / capacity is guaranteed to be kept.
 */

export interface TopEntry<T> {
  key: string;
  /** Upper bound of the key's true weight (exact when `error` is 0). */
  count: number;
  /** How much of `count` may belong to keys evicted before this one arrived. */
  error: number;
  /** Per-key data; a fresh `init()` for a key that (re)enters. */
  data: T;
}

export interface TopK<T> {
  /** Adds `weight` to `key` and returns its entry (whose `data` the caller may update). */
  add(key: string, weight?: number): TopEntry<T>;
  /** The kept entry of `key`, if kept. */
  get(key: string): TopEntry<T> | undefined;
  /** The `n` heaviest entries, heaviest first (ties by key, so output is deterministic). */
  top(n?: number): TopEntry<T>[];
  /** Keys kept now. */
  readonly size: number;
  /** True once a key was evicted: counts are then upper bounds. */
  readonly approximate: boolean;
}

/** @param capacity Keys kept. @param init Fresh per-key data. */
export function createTopK<T = undefined>(capacity: number, init: () => T = () => undefined as T): TopK<T> {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  const heap: (TopEntry<T> & { at: number })[] = [];
  const index = new Map<string, TopEntry<T> & { at: number }>();
  let approximate = false;

  const swap = (i: number, j: number) => {
    const a = heap[i]!;
    const b = heap[j]!;
    heap[i] = b;
    heap[j] = a;
    b.at = i;
    a.at = j;
  };
  const siftUp = (i: number) => {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.count <= heap[i]!.count) return;
      swap(i, parent);
      i = parent;
    }
  };
  const siftDown = (i: number) => {
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && heap[left]!.count < heap[least]!.count) least = left;
      if (right < heap.length && heap[right]!.count < heap[least]!.count) least = right;
      if (least === i) return;
      swap(i, least);
      i = least;
    }
  };

  return {
    add(key, weight = 1) {
      let entry = index.get(key);
      if (entry) {
        entry.count += weight;
        siftDown(entry.at);
        return entry;
      }
      if (heap.length < capacity) {
        entry = { key, count: weight, error: 0, data: init(), at: heap.length };
        heap.push(entry);
        index.set(key, entry);
        siftUp(entry.at);
        return entry;
      }
      // Space-Saving: the newcomer replaces the lightest key and inherits its count as error.
      approximate = true;
      entry = heap[0]!;
      index.delete(entry.key);
      entry.key = key;
      entry.error = entry.count;
      entry.count += weight;
      entry.data = init();
      index.set(key, entry);
      siftDown(0);
      return entry;
    },
    get: (key) => index.get(key),
    top(n = heap.length) {
      return [...heap]
        .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
        .slice(0, n)
        .map(({ key, count, error, data }) => ({ key, count, error, data }));
    },
    get size() {
      return heap.length;
    },
    get approximate() {
      return approximate;
    },
  };
}
