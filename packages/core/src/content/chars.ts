/**
 * Facts of a UTF-16 code unit, remembered: its case, whether it is a letter or digit
 * (`\p{L}`/`\p{N}`, what makes a word) and whether it is Latin or Cherokee script (a word holding
 * one is folded whatever the text around it: normalise.ts). Asking a string or a Unicode property
 * regex per character (`char.toLowerCase() !== char.toUpperCase()` allocates two strings) made
 * 64 KB of Cyrillic, Greek or CJK cost tens of milliseconds; the answers depend on the code unit
 * alone, so each is computed once per process, on first sight, into a 64 KB table.
 */

const KNOWN = 1;
/** `unitFlags` bit: a letter with case (its lower and upper case differ). */
export const CASED_UNIT = 2;
/** `unitFlags` bit: an upper-case letter (it differs from its lower case). */
export const UPPER_UNIT = 4;
/** `unitFlags` bit: a letter or a digit (`\p{L}` or `\p{N}`). */
export const WORD_UNIT = 8;
/** `unitFlags` bit: of the Latin or Cherokee script. */
export const LATIN_UNIT = 16;

const FLAGS = new Uint8Array(65_536);
const WORD_CHAR = /^[\p{L}\p{N}]$/u;
const LATIN_CHAR = /^[\p{Script=Latin}\p{Script=Cherokee}]$/u;

/**
 * The facts of the code unit `c` (0–0xFFFF) as bits (`CASED_UNIT`, `WORD_UNIT`, `LATIN_UNIT`; a
 * surrogate has none). Small, so that it inlines into the loops that call it, the work of a first
 * sight kept out of it. Call it once per character and test its bits: a loop that called an
 * earlier version (the first-sight work inline) twice per character, through two helpers, ran
 * ~20× slower on Node 20 than one that calls it once.
 */
export function unitFlags(c: number): number {
  const known = FLAGS[c]!;
  return known !== 0 ? known : computeFlags(c);
}

function computeFlags(c: number): number {
  const char = String.fromCharCode(c);
  const lower = char.toLowerCase();
  let flags = KNOWN;
  if (lower !== char.toUpperCase()) flags |= CASED_UNIT | (char !== lower ? UPPER_UNIT : 0);
  if (WORD_CHAR.test(char)) flags |= WORD_UNIT;
  if (LATIN_CHAR.test(char)) flags |= LATIN_UNIT;
  return (FLAGS[c] = flags);
}

// Code points outside the BMP, one lazily made table per plane (64 KB each, the planes a process
// has seen: emoji and mathematical letters are in plane 1, rare CJK in plane 2).
const PLANES: (Uint8Array | undefined)[] = [];

/** `unitFlags` of a code point outside the BMP (`WORD_UNIT`, `LATIN_UNIT`). */
export function astralFlags(codePoint: number): number {
  const plane = PLANES[codePoint >> 16] ?? (PLANES[codePoint >> 16] = new Uint8Array(65_536));
  const known = plane[codePoint & 0xffff]!;
  if (known !== 0) return known & ~KNOWN;
  const char = String.fromCodePoint(codePoint);
  const flags = (WORD_CHAR.test(char) ? WORD_UNIT : 0) | (LATIN_CHAR.test(char) ? LATIN_UNIT : 0);
  plane[codePoint & 0xffff] = flags | KNOWN;
  return flags;
}
