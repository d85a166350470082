/**
 * Sets of strings that keep 8 bytes per string rather than the string itself, for walks over
 * more strings than their text should cost. `countBans` asks "have I seen this subject before?":
 * a Redis SCAN may hand out a key twice (the keyspace is rehashed under it), so a count must skip
 * repeats, and a Set of the subjects held every one of them at once, about 165 MB at a million
 * bans, on every periodic count. `actiongate report` remembers up to 100,000 challenged subjects
 * (actor ids of up to a kilobyte each in a hand-made log) to see which of them come back passed.
 *
 * Each string is kept as its 64-bit hash (hash.ts, two 32-bit lanes) in an open-addressing table of typed
 * arrays. Two distinct strings share a hash with probability ~n²/2^65: about one in 37 million
 * counts of a million bans undercounts by one, for a figure that is a gauge, not a ledger.
 */
import { hash64 } from '../hash.js';

/** A set of strings held as their 64-bit hashes: a string whose hash is in the set reads as in it. */
export interface HashedSet {
  /** Adds `text`; true when it was not in the set yet (no string of its hash was). */
  add(text: string): boolean;
  /** Whether `text`, or another string of the same hash, was added. */
  has(text: string): boolean;
  /** Distinct hashes added. */
  readonly size: number;
}

/** An empty `HashedSet`: about 16 to 32 bytes per string added (a table at most half full). */
export function hashedSet(): HashedSet {
  const lanes = new Int32Array(2);
  let capacity = 1024; // a power of two, at most half full
  let lanes1 = new Uint32Array(capacity);
  let lanes2 = new Uint32Array(capacity);
  let size = 0;

  /** Finds the slot of (h1, h2), or the empty slot where it goes; (0, 0) marks an empty slot. */
  const slotOf = (h1: number, h2: number, table1: Uint32Array, table2: Uint32Array): number => {
    const mask = table1.length - 1;
    let slot = h1 & mask;
    while ((table1[slot] !== 0 || table2[slot] !== 0) && (table1[slot] !== h1 || table2[slot] !== h2)) slot = (slot + 1) & mask;
    return slot;
  };

  const grow = () => {
    const old1 = lanes1;
    const old2 = lanes2;
    capacity *= 2;
    lanes1 = new Uint32Array(capacity);
    lanes2 = new Uint32Array(capacity);
    for (let i = 0; i < old1.length; i++) {
      if (old1[i] === 0 && old2[i] === 0) continue;
      const slot = slotOf(old1[i]!, old2[i]!, lanes1, lanes2);
      lanes1[slot] = old1[i]!;
      lanes2[slot] = old2[i]!;
    }
  };

  // The hash `find` read last, as unsigned lanes never both 0 ((0, 0) is the empty slot).
  let h1 = 0;
  let h2 = 0;
  /** The slot holding `text`'s hash, or the empty one where it goes; the hash in h1, h2. */
  const find = (text: string): number => {
    hash64(text, lanes);
    h1 = lanes[0]! >>> 0;
    h2 = lanes[1]! >>> 0;
    if (h1 === 0 && h2 === 0) h2 = 1;
    return slotOf(h1, h2, lanes1, lanes2);
  };

  return {
    add(text) {
      const slot = find(text);
      if (lanes1[slot] === h1 && lanes2[slot] === h2) return false;
      lanes1[slot] = h1;
      lanes2[slot] = h2;
      if (++size * 2 > capacity) grow();
      return true;
    },
    has(text) {
      const slot = find(text);
      return lanes1[slot] === h1 && lanes2[slot] === h2;
    },
    get size() {
      return size;
    },
  };
}

/** Returns a function that answers true the first time it is given a string, false after. */
export function seenOnce(): (text: string) => boolean {
  const set = hashedSet();
  return (text) => set.add(text);
}
