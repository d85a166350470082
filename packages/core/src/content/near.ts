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
 * at most `MAX_SHINGLES` shingles are hashed. For plain ASCII text, `AsciiDigest` reads the exact
 * fingerprint, these keys' words and (for signals.ts) the words and shape of each text on one pass
 * over its characters: an accumulator, which its caller resets per decision.
 */
import { mix64 } from '../hash.js';
import { asciiBytes, bytesIfAscii } from './bytes.js';
import { astralFlags, MARK_UNIT, UNSPACED_UNIT, unitFlags, WORD_UNIT } from './chars.js';
import { isAscii } from './normalise.js';
import type { Shape } from './shape.js';

// Hash constants of 2^31 and above are written as their signed 32-bit values (FNV's offset
// 0x811c9dc5 is -2128831035, cyrb53's 0xdeadbeef -559038737…): Math.imul reads both the same, but
// a variable that starts at or is reset to 0x811c9dc5 starts as a heap number, and V8 then keeps
// the whole loop's hash in doubles. Signed, the digest of a 1 KB ad takes ~10% less time.

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
  return bandKeys(WORD_HASHES, hashWords(normalised, ascii, MAX_WORDS), bands);
}

/** Words of one text `AsciiDigest.add` records at most (a longer text's callers read it themselves). */
export const TEXT_WORDS_MAX = 16_384;
/**
 * The fingerprint and near-duplicate words of plain ASCII texts joined by "\n", a text at a time
 * (`add`), so that one pass over a text's characters (read as bytes, bytes.ts) serves the
 * fingerprint, the near-duplicate keys and the words of the text (`TEXT_WORDS`). `undo` takes
 * back the last `add`, for a text its caller then changes (spelled-out words joined) and adds
 * again. One instance per caller, reused: `reset` before the first text. The near-duplicate words
 * wait in the scratch space shared with `nearKeys` until `nearKeys()`: no other call of either in
 * between.
 */
export class AsciiDigest {
  private h1 = -559038737;
  private h2 = 0x41c6ce57;
  private texts = 0;
  /** Near-duplicate words in WORD_HASHES. */
  private words = 0;
  private maxWords = 0;
  private before = { h1: 0, h2: 0, texts: 0, words: 0 };
  /** The words of the text `addShaped` added last (what `add` returns). */
  count = 0;
  /**
   * Whether the text `addShaped` added last is text of the digest: false for a blank one (white
   * space alone normalises to nothing), which the caller takes back (`undo`).
   */
  normalised = false;
  /**
   * Whether normalising the text `addShaped` added last changes more than its case and the white
   * space that ends it: white space that starts it, repeats, or is not a space (a line break).
   */
  collapsed = false;
  /** How many characters of its raw text come before the white space that ends it (which normalising trims). */
  normalisedLength = 0;
  /**
   * Whether the text `add` or `addShaped` added last holds two words of one character each in a
   * row, as its loop finds at the end of each word: every spelled-out run does (normalise.ts
   * `joinSpelledAsciiWords`, which signals.ts then need not call; most ads have none).
   */
  lonePair = false;

  /** Starts again with no text; `bands` null: no near-duplicate keys wanted, no words kept for them. */
  reset(bands: number | null): void {
    this.h1 = -559038737;
    this.h2 = 0x41c6ce57;
    this.texts = 0;
    this.words = 0;
    this.maxWords = bands === null ? 0 : MAX_WORDS;
  }

  /**
   * Adds a text (plain ASCII; other text throws) and records its words in `TEXT_WORDS`. Returns
   * how many words it has, counting those beyond `TEXT_WORDS_MAX`.
   */
  add(text: string): number {
    const n = this.begin();
    const { ends, hashes } = TEXT_WORDS;
    // `| 0`: int32 lanes from the start (a field holds 0x41c6ce57, above a small integer, as a heap
    // number: see the note on signed constants above).
    let h1 = this.h1 | 0;
    let h2 = this.h2 | 0;
    let count = 0;
    let inWord = false;
    let w = -2128831035;
    let lone = 0; // bit 0: the last word was of one character; bit 1: two such words in a row were
    const bytes = asciiBytes(text); // its character codes, read faster than through charCodeAt
    const length = text.length;
    for (let i = 0; i < length; i++) {
      const c = bytes[i]!;
      h1 = Math.imul(h1 ^ c, -1640531535);
      h2 = Math.imul(h2 ^ c, 1597334677);
      if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
        w = Math.imul(w ^ c, 0x01000193);
        inWord = true;
      } else if (inWord) {
        if (count < TEXT_WORDS_MAX) {
          ends[count] = i;
          hashes[n + count] = w;
        }
        count++;
        w = -2128831035;
        inWord = false;
        // A word of one character: none before its character (see `lonePair`).
        const before = i < 2 ? 32 : bytes[i - 2]!;
        if ((before - 97) >>> 0 < 26 || (before - 48) >>> 0 < 10) lone &= 2;
        else lone |= ((lone & 1) << 1) | 1;
      }
    }
    // The end of a text ends its last word ("\n" or the end of the joined text would).
    if (inWord) {
      if (count < TEXT_WORDS_MAX) {
        ends[count] = length;
        hashes[n + count] = w;
      }
      count++;
      const before = length < 2 ? 32 : bytes[length - 2]!;
      if (!((before - 97) >>> 0 < 26 || (before - 48) >>> 0 < 10)) lone |= (lone & 1) << 1;
    }
    this.finish(h1, h2, n, count);
    this.lonePair = lone >= 2;
    return count;
  }

  /**
   * `add` of the lower-case form of raw text, when that is plain ASCII, and its shape (shape.ts
   * `textShape`, the same answer: its ASCII loop and this one read the shape alike, keep them in
   * step), in one pass over its bytes; null, and nothing added, for other text. What is hashed
   * and split into words is the normalised text (`normaliseAscii`: lower case, white space
   * collapsed and trimmed), read off the raw bytes: white space that ends the text is not read
   * (`normalisedLength`), white space that starts it or follows other white space is skipped, and
   * any other white space character (a line break, a tab) is hashed as the one space it becomes.
   * The words' ends are where they end in the normalised text. Before 2026-12-03 a text with white
   * space to collapse inside it (most ads with more than one line) was taken back and digested
   * again after normalising: ~45% more time for a 1 KB ad in lines. The digest's loop waits on
   * its multiplications (each lane's hash of a character needs the one before), which leaves time
   * for the shape's tests: one pass costs less than the two did.
   */
  addShaped(raw: string): Shape | null {
    const bytes = bytesIfAscii(raw);
    if (bytes === null) return null;
    const n = this.begin();
    const { ends, hashes } = TEXT_WORDS;
    let h1 = this.h1 | 0;
    let h2 = this.h2 | 0;
    let count = 0;
    let inWord = false;
    let w = -2128831035;
    // The white space that ends the text (\t–\r and spaces, what `trim` removes of ASCII text)
    // is read by no loop: it ends a word and a run of one character, and says that there is white
    // space to trim, which is all the loop would have made of it.
    let length = raw.length;
    while (length > 0 && (bytes[length - 1] === 32 || (bytes[length - 1]! >= 9 && bytes[length - 1]! <= 13))) length--;
    const trailing = length < raw.length;
    // The shape, as shape.ts asciiShape reads it.
    let digits = 0;
    let spaces = false;
    let letters = 0;
    let upper = 0;
    let longestRun = 0;
    let run = 0;
    let previous = -1;
    let signs = false; // a shouting sign was read: as after a letter, the longest run is at least 1
    let lone = 0; // as in `add`
    // Raw characters before `i` that normalising drops (white space that starts the text or
    // repeats): `i - skipped` is where the raw character `i` sits in the normalised text.
    let skipped = 0;
    // One test takes the usual character, a lower-case letter, to its class; the rarer classes
    // follow, and only characters of none of them end a word. A chain of range tests shared by
    // every class, with flags for the word and the run tested after it, cost ~15% more time per
    // 1 KB ad (its values outnumbered the registers, and the hash lanes lived on the stack).
    for (let i = 0; i < length; i++) {
      let c = bytes[i]!;
      if ((c - 97) >>> 0 < 26) {
        letters++;
        if (c === previous) {
          if (++run > longestRun) longestRun = run;
        } else {
          previous = c;
          run = 1;
        }
        w = Math.imul(w ^ c, 0x01000193);
        inWord = true;
      } else if ((c - 65) >>> 0 < 26) {
        letters++;
        upper++;
        c += 32; // lower case, as normalised; and case-blind runs: `AAAaaa` is one run of six
        if (c === previous) {
          if (++run > longestRun) longestRun = run;
        } else {
          previous = c;
          run = 1;
        }
        w = Math.imul(w ^ c, 0x01000193);
        inWord = true;
      } else if ((c - 48) >>> 0 < 10) {
        digits++;
        previous = -1; // digits are no shouting (`1000000` is a price)
        w = Math.imul(w ^ c, 0x01000193);
        inWord = true;
      } else {
        if (c === 33 || c === 63 || c === 36 || c === 37) {
          // ! ? $ %: shouting signs, which continue or start a run
          signs = true;
          if (c === previous) {
            if (++run > longestRun) longestRun = run;
          } else {
            previous = c;
            run = 1;
          }
        } else {
          // Anything else (white space, rulers, `_`, brackets) ends a run and starts none.
          previous = -1;
          // White space that starts the text or follows white space is not in the normalised
          // text (and no word is open then); any other white space is one space there. The
          // usual space, after a word, is told by `inWord` alone.
          if (c === 32 || (c - 9) >>> 0 < 5) {
            if (!inWord && (i === 0 || bytes[i - 1] === 32 || (bytes[i - 1]! - 9) >>> 0 < 5)) {
              spaces = true;
              skipped++;
              continue;
            }
            if (c !== 32) {
              spaces = true;
              c = 32; // the one space a line break or tab becomes
            }
          }
        }
        if (inWord) {
          if (count < TEXT_WORDS_MAX) {
            ends[count] = i - skipped;
            hashes[n + count] = w;
          }
          count++;
          w = -2128831035;
          inWord = false;
          // A word of one character: none before its character (`| 32`: either case of a letter).
          const before = i < 2 ? 32 : bytes[i - 2]!;
          if (((before | 32) - 97) >>> 0 < 26 || (before - 48) >>> 0 < 10) lone &= 2;
          else lone |= ((lone & 1) << 1) | 1;
        }
      }
      h1 = Math.imul(h1 ^ c, -1640531535);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    if (inWord) {
      if (count < TEXT_WORDS_MAX) {
        ends[count] = length - skipped;
        hashes[n + count] = w;
      }
      count++;
      const before = length < 2 ? 32 : bytes[length - 2]!;
      if (!(((before | 32) - 97) >>> 0 < 26 || (before - 48) >>> 0 < 10)) lone |= (lone & 1) << 1;
    }
    if (longestRun === 0 && (letters > 0 || signs)) longestRun = 1;
    this.lonePair = lone >= 2;
    this.finish(h1, h2, n, count);
    this.count = count;
    // A blank field is no text of the digest (its caller takes it back).
    this.normalised = length > 0;
    this.collapsed = spaces;
    this.normalisedLength = length;
    return { letters, upper, longestRun, ascii: { digits, spaces: spaces || trailing } };
  }

  /**
   * What `add` and `addShaped` do before their text: keep the state `undo` returns to, hash the
   * "\n" between two texts into the lanes, and say where the text's words go in `TEXT_WORDS`
   * (returned: the near-duplicate words held so far).
   */
  private begin(): number {
    const before = this.before;
    before.h1 = this.h1;
    before.h2 = this.h2;
    before.texts = this.texts;
    before.words = this.words;
    if (this.texts++ > 0) {
      this.h1 = Math.imul(this.h1 ^ 10, -1640531535);
      this.h2 = Math.imul(this.h2 ^ 10, 1597334677);
    }
    TEXT_WORDS.first = this.words;
    return this.words;
  }

  /** What `add` and `addShaped` do after their text of `count` words: keep its lanes and its words, up to the bounds. */
  private finish(h1: number, h2: number, words: number, count: number): void {
    this.h1 = h1;
    this.h2 = h2;
    this.words = Math.min(words + Math.min(count, TEXT_WORDS_MAX), this.maxWords);
  }

  /** Takes back the last `add` or `addShaped` (once). */
  undo(): void {
    const before = this.before;
    this.h1 = before.h1;
    this.h2 = before.h2;
    this.texts = before.texts;
    this.words = before.words;
  }

  /** The fingerprint of the texts added (`fingerprint` of them joined by "\n"). */
  fingerprint(): string {
    return hex64(this.h1, this.h2);
  }

  /** The near-duplicate keys of the texts added (`nearKeys` of them joined by "\n"); `bands` as given to `reset`. */
  nearKeys(bands: number): string[] {
    return bandKeys(WORD_HASHES, this.words, bands);
  }
}

/** cyrb53's final mixing of two 32-bit lanes (hash.ts), as 16 hex digits (the high lane first). */
export function hex64(h1: number, h2: number): string {
  mix64(h1, h2, MIXED);
  return hexOfLanes(MIXED);
}

/** Lanes as `mix64` or `hash64` wrote them, as 16 hex digits (the high lane first). */
export function hexOfLanes(lanes: Int32Array): string {
  const h1 = lanes[0]!;
  const h2 = lanes[1]!;
  // One flat string from the 16 digit codes: what `toString(16).padStart(8, '0')` twice and a
  // concatenation give, at a third of the cost (three of these per decision).
  return String.fromCharCode(
    hexDigit(h2 >>> 28), hexDigit((h2 >>> 24) & 15), hexDigit((h2 >>> 20) & 15), hexDigit((h2 >>> 16) & 15),
    hexDigit((h2 >>> 12) & 15), hexDigit((h2 >>> 8) & 15), hexDigit((h2 >>> 4) & 15), hexDigit(h2 & 15),
    hexDigit(h1 >>> 28), hexDigit((h1 >>> 24) & 15), hexDigit((h1 >>> 20) & 15), hexDigit((h1 >>> 16) & 15),
    hexDigit((h1 >>> 12) & 15), hexDigit((h1 >>> 8) & 15), hexDigit((h1 >>> 4) & 15), hexDigit(h1 & 15),
  );
}

/** Scratch lanes for `hex64` (synchronous, so calls never overlap). */
const MIXED = new Int32Array(2);

/** The character code of a hex digit 0–15, lower case. */
const hexDigit = (n: number): number => (n < 10 ? 48 + n : 87 + n);

/** The band keys of the first `wordCount` hashes of `wordHashes` (FNV-1a of each word, in order). */
export function bandKeys(wordHashes: Int32Array, wordCount: number, bands: number): string[] {
  if (wordCount === 0) return [];
  const bins = ROWS * bands;
  // Policies allow at most MAX_BANDS (the schema says so); a direct caller asking for more gets arrays of its own.
  const min = bins <= MIN.length ? MIN : new Uint32Array(bins);
  const filled = bins <= FILLED.length ? FILLED : new Uint8Array(bins);
  // A loop rather than `fill`: what the builtin returns is an array of no known kind to the
  // compiler, and the shingle loop then paid for it at every bin it read (~0.2 µs per 1 KB ad,
  // an eighth of this function).
  for (let bin = 0; bin < bins; bin++) {
    min[bin] = 0xffffffff;
    filled[bin] = 0;
  }
  const width = Math.min(SHINGLE, wordCount);
  const count = Math.min(wordCount - width + 1, MAX_SHINGLES);
  for (let i = 0; i < count; i++) {
    let h = -2128831035;
    if (width === 3) {
      // The usual shingle unrolled (the same hash): the loop cost as much as all the rest of this one.
      h = Math.imul(h ^ wordHashes[i]!, 0x01000193);
      h = Math.imul(h ^ wordHashes[i + 1]!, 0x01000193);
      h = Math.imul(h ^ wordHashes[i + 2]!, 0x01000193);
    } else {
      for (let j = 0; j < width; j++) h = Math.imul(h ^ wordHashes[i + j]!, 0x01000193);
    }
    h = Math.imul(h ^ (h >>> 16), -2048144789);
    h = Math.imul(h ^ (h >>> 13), -1028477387);
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
        min[bin] = (min[from]! ^ Math.imul(distance, -1640531527)) >>> 0;
        break;
      }
    }
  }
  const keys: string[] = [];
  for (let band = 0; band < bands; band++) {
    // Two 32-bit lanes over the band's rows: 64 bits, so unrelated texts never collide by chance.
    let h1 = -559038737 ^ band;
    let h2 = 0x41c6ce57 ^ band;
    for (let r = 0; r < ROWS; r++) {
      const v = min[band * ROWS + r]!;
      h1 = Math.imul(h1 ^ v, -1640531535);
      h2 = Math.imul(h2 ^ v, 1597334677);
    }
    keys.push(`${band}:${hex64(h1, h2)}`);
  }
  return keys;
}

/** Words hashed at most. */
export const MAX_WORDS = MAX_SHINGLES + SHINGLE - 1;
/** Bands a policy may ask for (the schema's maximum). */
const MAX_BANDS = 8;
// Scratch space, reused by every call (the functions here are synchronous, so calls never
// overlap). A fresh typed array per call is what used to cost most: one of more than 64 bytes
// gets a backing store outside the V8 heap, allocated and later freed at ~5 µs a time here.
// Room for the words of one more text past the first MAX_WORDS: `TEXT_WORDS`.
const WORD_HASHES = new Int32Array(MAX_WORDS + TEXT_WORDS_MAX);
const MIN = new Uint32Array(ROWS * MAX_BANDS);
/**
 * The words of the text `AsciiDigest.add` read last, its first `TEXT_WORDS_MAX`: where the k-th
 * ends (the code unit after it) at `ends[k]`, and its FNV-1a hash, as near-duplicate keys hash it,
 * at `hashes[first + k]`. The hashes are written where the near-duplicate words of the texts go
 * (`first` is the count of those before this text), so that those need no copy. (Where a word
 * starts is not kept: a third store per word cost more than its readers' few look-ups back.)
 * Shared scratch (synchronous callers), valid until the next `add`: signals.ts reads the words
 * from it to find terms and spelled-out runs without a regex over the text again.
 */
export const TEXT_WORDS = { ends: new Int32Array(TEXT_WORDS_MAX), hashes: WORD_HASHES, first: 0 };
const FILLED = new Uint8Array(ROWS * MAX_BANDS);

/**
 * FNV-1a of the first `max` words (as `words` splits them; in text that is not ASCII, each letter of
 * an unspaced script is a word: `hashWordsUnicode`) into `WORD_HASHES`, without building
 * the word strings for ASCII text; returns how many.
 */
function hashWords(normalised: string, ascii: boolean, max: number): number {
  const out = WORD_HASHES;
  if (!ascii) return hashWordsUnicode(normalised, max);
  let n = 0;
  let h = -2128831035;
  let inWord = false;
  for (let i = 0; i <= normalised.length && n < max; i++) {
    const c = i < normalised.length ? normalised.charCodeAt(i) : 0;
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
      h = Math.imul(h ^ c, 0x01000193);
      inWord = true;
    } else if (inWord) {
      out[n++] = h;
      h = -2128831035;
      inWord = false;
    }
  }
  return n;
}

/**
 * `hashWords` of text that is not plain ASCII: the words of its first `max × 24` code units, each
 * hashed over its UTF-16 code units. A word is a run of letters, marks and digits (`words`), but a
 * letter of a script written without spaces (Chinese, Japanese, Korean, Thai…: chars.ts
 * `UNSPACED_UNIT`) is a word of its own with the marks on it, so that shingles there are runs of
 * three characters: as one word, a whole CJK sentence changed with any character in it, and
 * copies of a CJK ad with a changed price shared no band. One pass over remembered facts of each
 * code unit (chars.ts): splitting with a Unicode regex and hashing the word strings cost ~1.5 ms
 * per 64 KB of Cyrillic.
 */
function hashWordsUnicode(normalised: string, max: number): number {
  const out = WORD_HASHES;
  const end = Math.min(normalised.length, max * 24);
  let n = 0;
  let h = -2128831035;
  let inWord = false;
  let inUnspaced = false; // the word being hashed is a letter of an unspaced script
  for (let i = 0; i < end && n < max; i++) {
    const c = normalised.charCodeAt(i);
    let low = -1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
      const next = normalised.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) low = next;
    }
    // A lone surrogate is no letter.
    const flags = low !== -1 ? astralFlags(((c - 0xd800) << 10) + (low - 0xdc00) + 0x10000) : unitFlags(c);
    if ((flags & WORD_UNIT) !== 0) {
      const unspacedLetter = (flags & UNSPACED_UNIT) !== 0;
      if (inWord && (unspacedLetter || (inUnspaced && (flags & MARK_UNIT) === 0))) {
        out[n++] = h;
        h = -2128831035;
        inWord = false;
        if (n >= max) break;
      }
      if (!inWord || (flags & MARK_UNIT) === 0) inUnspaced = unspacedLetter; // a mark goes with its letter
      h = Math.imul(h ^ c, 0x01000193);
      if (low !== -1) h = Math.imul(h ^ low, 0x01000193);
      inWord = true;
    } else if (inWord) {
      out[n++] = h;
      h = -2128831035;
      inWord = false;
    }
    if (low !== -1) i++;
  }
  if (inWord && n < max) out[n++] = h;
  return n;
}

/**
 * `bandKeys`' rare paths run a few times at load: a text of one or two words (a shingle of fewer
 * words) and bins no shingle fell into (densification). V8 (Node 20) compiles the shingle loop
 * while it runs (on-stack replacement), and code after it that had never run by then deopts on
 * every later call that reaches it, without the compiled loop being dropped: in whole decisions
 * (bench/ab.ts) it deopted on every text with an empty bin, ~170 times per 40,000 decisions,
 * each time compiling again on a background thread. Nine rounds: see normalise.ts's warmUp.
 */
function warmUp(): void {
  const hashes = new Int32Array([1, 2, 3]);
  for (let round = 0; round < 9; round++) {
    for (let bands = 1; bands <= MAX_BANDS; bands++) {
      for (let words = 1; words <= 3; words++) bandKeys(hashes, words, bands);
    }
  }
}
warmUp();
