/**
 * The look of a text rather than its words: how much of it is upper case (SHOUTING TITLES) and
 * the longest run of one repeated letter or shouting sign (`!!!!!!!`, `$$$$`, `sooooo`). Read from the raw
 * field (normalisation lower-cases it), in one pass, bounded by the caller. Plain ASCII text, the
 * usual case, is read as bytes (bytes.ts), about twice as fast as through `charCodeAt`; whether
 * the text is ASCII comes with the shape, so the caller needs no test of its own, and so do two
 * facts of ASCII text that spare later passes their regex (`AsciiFacts`). signals.ts reads the
 * shape of raw ASCII text on the pass that digests it (near.ts `AsciiDigest.addShaped`, whose loop
 * reads the shape as `asciiShape` does: keep the two in step; tests compare them).
 */
import { bytesIfAscii } from './bytes.js';
import { astralFlags, CASED_UNIT, unitFlags, UPPER_UNIT } from './chars.js';

export interface Shape {
  /** Letters that have an upper and a lower case. */
  letters: number;
  /** Of those, the upper-case ones. */
  upper: number;
  /**
   * The longest run of one letter or one of `! ? $ € £ ¥ %` (case-blind). Digits (`1000000` is a
   * price) and rulers (`-----`, `=====`, `.....`, `*****`) are formatting, not shouting.
   */
  longestRun: number;
  /** For plain ASCII text (`isAscii`), what normalising it will find; null for other text. */
  ascii: AsciiFacts | null;
}

/** Facts of plain ASCII text that normalising keeps or reveals, read on the same pass. */
export interface AsciiFacts {
  /** Digits 0–9. Normalising keeps them all (`countPhones` skips text with too few). */
  digits: number;
  /**
   * The text holds white space that normalising collapses or trims: a tab, a line break or
   * another of \t–\r, two spaces in a row, a space at either end. When false, normalising ASCII
   * text only lower-cases it (`normaliseAscii`).
   */
  spaces: boolean;
}

export function textShape(text: string): Shape {
  const bytes = bytesIfAscii(text);
  return bytes ? asciiShape(bytes, text.length) : unicodeShape(text);
}

/**
 * `unicodeShape` of ASCII text given as its first `length` bytes: the same answer, without the
 * case tests of other scripts. Lower-case letters, the most common characters, are tested first.
 */
function asciiShape(bytes: Uint8Array, length: number): Shape {
  let digits = 0;
  // A space at the end; one at the start is seen in the loop, with no character before it.
  let spaces = length > 0 && bytes[length - 1] === 32;
  let letters = 0;
  let upper = 0;
  let longestRun = 0;
  let run = 0;
  let previous = -1;
  for (let i = 0; i < length; i++) {
    let c = bytes[i]!;
    if (c >= 97) {
      if (c > 122) {
        previous = -1; // { | } ~ and DEL
        continue;
      }
      letters++;
    } else if (c >= 65) {
      if (c > 90) {
        previous = -1; // [ \ ] ^ _ `
        continue;
      }
      letters++;
      upper++;
      c += 32; // case-blind runs: `AAAaaa` is one run of six
    } else if (c !== 33 && c !== 63 && c !== 36 && c !== 37) {
      // Anything else (white space, digits, rulers) ends a run and starts none.
      if (c >= 48) {
        if (c <= 57) digits++;
      } else if (c === 32) {
        if (i === 0 || bytes[i - 1] === 32) spaces = true;
      } else if (c >= 9 && c <= 13) {
        spaces = true;
      }
      previous = -1;
      continue;
    }
    if (c === previous) {
      if (++run > longestRun) longestRun = run;
    } else {
      previous = c;
      run = 1;
      if (longestRun === 0) longestRun = 1;
    }
  }
  return { letters, upper, longestRun, ascii: { digits, spaces } };
}

/**
 * Whether code point `c` is one of the invisible characters normalising removes (`INVISIBLE` in
 * normalise.ts, the same set), by ranges: only characters that are no letter come here.
 */
function isInvisible(c: number): boolean {
  if (c < 0x2000) return c === 0xad || c === 0x34f || c === 0x61c || c === 0x115f || c === 0x1160 || c === 0x17b4 || c === 0x17b5 || (c >= 0x180b && c <= 0x180f);
  if (c < 0x10000) return (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f) || c === 0x3164 || (c >= 0xfe00 && c <= 0xfe0f) || c === 0xfeff || c === 0xffa0;
  return (c >= 0xe0000 && c <= 0xe01ef) || (c >= 0x1bca0 && c <= 0x1bca3) || (c >= 0x1d173 && c <= 0x1d17a);
}

// What AsciiFacts.spaces says of ASCII text: \t–\r, two spaces in a row, a space at either end.
const COLLAPSIBLE = /[\t-\r]| {2}|^ | $/;

/**
 * The shape of any text, one character at a time (a surrogate pair is one letter: the
 * mathematical `𝐁𝐔𝐘` shouts as `BUY` does; before 2026-12-02 its two halves counted as no letter).
 * Invisible characters neither end a run nor start one. Exported for the tests, which check
 * `textShape`'s ASCII loop against it.
 */
export function unicodeShape(text: string): Shape {
  let ascii = true;
  let digits = 0;
  let letters = 0;
  let upper = 0;
  let longestRun = 0;
  let run = 0;
  let previous = -1;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      letters++;
      upper++;
      c += 32; // case-blind runs: `AAAaaa` is one run of six
    } else if (c >= 97 && c <= 122) {
      letters++;
    } else if (c >= 128) {
      ascii = false;
      let flags: number;
      // A letter outside the BMP (the mathematical `𝐁𝐔𝐘`) is one character, with a case.
      if ((c & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        c = ((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00) + 0x10000;
        flags = astralFlags(c);
      } else flags = unitFlags(c); // a letter when its lower and upper case differ (chars.ts)
      if ((flags & CASED_UNIT) !== 0) {
        letters++;
        if ((flags & UPPER_UNIT) !== 0) upper++;
      } else if (isInvisible(c)) {
        continue; // normalising removes it: `!!!\u200b!!!` is one run of six, as it reads
      } else if (c !== 0x20ac && c !== 0xa3 && c !== 0xa5) {
        previous = -1;
        continue;
      }
    } else if (c !== 33 && c !== 63 && c !== 36 && c !== 37) {
      // Anything else (white space, digits, rulers) ends a run and starts none.
      if (c >= 48 && c <= 57) digits++;
      previous = -1;
      continue;
    }
    if (c === previous) {
      if (++run > longestRun) longestRun = run;
    } else {
      previous = c;
      run = 1;
      if (longestRun === 0) longestRun = 1;
    }
  }
  // ASCII text comes here only from direct callers (textShape reads it as bytes): a regex will do.
  return { letters, upper, longestRun, ascii: ascii ? { digits, spaces: COLLAPSIBLE.test(text) } : null };
}
