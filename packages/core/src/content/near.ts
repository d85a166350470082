/**
 * Near-duplicate keys: MinHash over word shingles with locality-sensitive banding. A campaign
 * pastes one ad with a changed phone number, price or town; the exact fingerprint misses those
 * copies, these keys catch them. Each band is one store subject counted like the exact
 * fingerprint, so "how many submissions resembled this one within the window" is a store count
 * shared by every process, at one more store subject (one more Redis script) per band.
 *
 * Two texts whose shingle sets have Jaccard similarity `s` share a band with probability
 * `1 - (1 - s^ROWS)^bands`. With 3 rows and the default 3 bands: 0.85 at s = 0.8 (an ad with a
 * word or two changed), 0.33 at s = 0.5, 0.02 at s = 0.2 (two different ads of the same kind).
 * A campaign is many copies, so even the looser pairs add up in the counts. Pure and bounded:
 * at most `MAX_SHINGLES` shingles are hashed.
 */
import { isAscii, words } from './normalise.js';

/** MinHash values combined into one band key. */
export const ROWS = 3;
/** Words per shingle. */
const SHINGLE = 3;
/**
 * Shingles hashed at most: the first ~2,000 words (~12 KB). A campaign's copies share their
 * opening; hashing all of a 64 KB body would cost ~40 µs more for nothing.
 */
const MAX_SHINGLES = 2_000;

/**
 * The band keys of normalised text (16 hex digits each, prefixed by the band number so two
 * bands never share a subject), or `[]` when the text has no words. `bands` from 1 to 8;
 * `ascii`: whether the text is plain ASCII, when the caller already knows.
 *
 * One-permutation MinHash (Li, Owen and Zhang, 2012): each shingle is hashed once, its hash
 * picks one of the `ROWS × bands` bins and the bin keeps its smallest value, so the cost is one
 * hash per shingle whatever the number of bands (independent hash functions cost ten times
 * more here). A bin no shingle fell into borrows from the next filled bin, mixed with the
 * distance (rotation densification, Shrivastava and Li, 2014), so short texts still get keys.
 */
export function nearKeys(normalised: string, bands: number, ascii = isAscii(normalised)): string[] {
  const wordHashes = hashWords(normalised, ascii, MAX_SHINGLES + SHINGLE - 1);
  if (wordHashes.length === 0) return [];
  const bins = ROWS * bands;
  const min = new Uint32Array(bins).fill(0xffffffff);
  const filled = new Uint8Array(bins);
  const width = Math.min(SHINGLE, wordHashes.length);
  const count = Math.min(wordHashes.length - width + 1, MAX_SHINGLES);
  for (let i = 0; i < count; i++) {
    let h = 0x811c9dc5;
    for (let j = 0; j < width; j++) h = Math.imul(h ^ wordHashes[i + j]!, 0x01000193);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    // The high bits pick the bin, the whole hash re-mixed is the value.
    const bin = ((h >>> 0) * bins) / 4294967296 | 0;
    const value = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    if (value < min[bin]!) min[bin] = value;
    filled[bin] = 1;
  }
  for (let bin = 0; bin < bins; bin++) {
    if (filled[bin]) continue;
    for (let distance = 1; distance < bins; distance++) {
      const from = (bin + distance) % bins;
      if (filled[from]) {
        min[bin] = (min[from]! ^ Math.imul(distance, 0x9e3779b9)) >>> 0;
        break;
      }
    }
  }
  const keys: string[] = [];
  for (let band = 0; band < bands; band++) {
    // Two 32-bit lanes over the band's rows: 64 bits, so unrelated texts never collide by chance.
    let h1 = 0xdeadbeef ^ band;
    let h2 = 0x41c6ce57 ^ band;
    for (let r = 0; r < ROWS; r++) {
      const v = min[band * ROWS + r]!;
      h1 = Math.imul(h1 ^ v, 2654435761);
      h2 = Math.imul(h2 ^ v, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    keys.push(`${band}:${(h2 >>> 0).toString(16).padStart(8, '0')}${(h1 >>> 0).toString(16).padStart(8, '0')}`);
  }
  return keys;
}

/** FNV-1a of the first `max` words (as `words` splits them), without building the word strings for ASCII text. */
function hashWords(normalised: string, ascii: boolean, max: number): Int32Array {
  if (!ascii) {
    const list = words(normalised.length > max * 24 ? normalised.slice(0, max * 24) : normalised).slice(0, max);
    const out = new Int32Array(list.length);
    for (let i = 0; i < list.length; i++) {
      let h = 0x811c9dc5;
      for (let j = 0; j < list[i]!.length; j++) h = Math.imul(h ^ list[i]!.charCodeAt(j), 0x01000193);
      out[i] = h;
    }
    return out;
  }
  const out = new Int32Array(Math.min(max, (normalised.length >>> 1) + 1));
  let n = 0;
  let h = 0x811c9dc5;
  let inWord = false;
  for (let i = 0; i <= normalised.length && n < max; i++) {
    const c = i < normalised.length ? normalised.charCodeAt(i) : 0;
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
      h = Math.imul(h ^ c, 0x01000193);
      inWord = true;
    } else if (inWord) {
      out[n++] = h;
      h = 0x811c9dc5;
      inWord = false;
    }
  }
  return out.subarray(0, n);
}
