/**
 * "Have I seen this string before?" for a walk over every subject a store holds (`countBans`),
 * in 8 bytes per string rather than the string itself. A Redis SCAN may hand out a key twice
 * (the keyspace is rehashed under it), so a count must skip repeats; a Set of the subjects held
 * every one of them at once, about 165 MB at a million bans, on every periodic count.
 *
 * Each string is kept as its 64-bit hash (hash.ts, two 32-bit lanes) in an open-addressing table of typed
 * arrays. Two distinct subjects share a hash with probability ~n²/2^65: about one in 37 million
 * counts of a million bans undercounts by one, for a figure that is a gauge, not a ledger.
 */
import { hash64 } from '../hash.js';

/** Returns a function that answers true the first time it is given a string, false after. */
export function seenOnce(): (text: string) => boolean {
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

  return (text) => {
    hash64(text, lanes);
    const h1 = lanes[0]! >>> 0;
    let h2 = lanes[1]! >>> 0;
    if (h1 === 0 && h2 === 0) h2 = 1; // (0, 0) is the empty slot
    const slot = slotOf(h1, h2, lanes1, lanes2);
    if (lanes1[slot] === h1 && lanes2[slot] === h2) return false;
    lanes1[slot] = h1;
    lanes2[slot] = h2;
    if (++size * 2 > capacity) grow();
    return true;
  };
}
