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
const UPPER_CASE = 4;
/** `unitFlags` bit: a letter or a digit (`\p{L}` or `\p{N}`). */
export const WORD_UNIT = 8;
/** `unitFlags` bit: of the Latin or Cherokee script. */
export const LATIN_UNIT = 16;

/** No case: `toLowerCase()` and `toUpperCase()` agree (digits, CJK, symbols, lone surrogates). */
export const NO_CASE = 1;
/** A letter with case that is not upper case (`a`, `ß`, title-case forms). */
export const CASED = 2;
/** An upper-case letter: it differs from its lower case. */
export const UPPER = 3;

const FLAGS = new Uint8Array(65_536);
const WORD_CHAR = /^[\p{L}\p{N}]$/u;
const LATIN_CHAR = /^[\p{Script=Latin}\p{Script=Cherokee}]$/u;

/**
 * The facts of the code unit `c` (0–0xFFFF) as bits (`CASED_UNIT`, `WORD_UNIT`, `LATIN_UNIT`; a
 * surrogate has none). Small, so that it inlines into the loops that call it, the work of a first
 * sight kept out of it. Call it once per character and test its bits: a loop that called it twice
 * per character (through two helpers) ran ~20× slower on V8 11 than one that called it once.
 */
export function unitFlags(c: number): number {
  const known = FLAGS[c]!;
  return known !== 0 ? known : computeFlags(c);
}

function computeFlags(c: number): number {
  const char = String.fromCharCode(c);
  const lower = char.toLowerCase();
  let flags = KNOWN;
  if (lower !== char.toUpperCase()) flags |= CASED_UNIT | (char !== lower ? UPPER_CASE : 0);
  if (WORD_CHAR.test(char)) flags |= WORD_UNIT;
  if (LATIN_CHAR.test(char)) flags |= LATIN_UNIT;
  return (FLAGS[c] = flags);
}

/** `NO_CASE`, `CASED` or `UPPER` for the code unit `c` (0–0xFFFF). */
export function caseOf(c: number): number {
  const flags = unitFlags(c);
  return flags & UPPER_CASE ? UPPER : flags & CASED_UNIT ? CASED : NO_CASE;
}

// Code points outside the BMP: rare in words, remembered up to a bound (a text can hold many).
const ASTRAL = new Map<number, number>();
const MAX_ASTRAL = 4_096;

/** `unitFlags` of a code point outside the BMP (`WORD_UNIT`, `LATIN_UNIT`). */
export function astralFlags(codePoint: number): number {
  const known = ASTRAL.get(codePoint);
  if (known !== undefined) return known;
  const char = String.fromCodePoint(codePoint);
  const flags = (WORD_CHAR.test(char) ? WORD_UNIT : 0) | (LATIN_CHAR.test(char) ? LATIN_UNIT : 0);
  if (ASTRAL.size < MAX_ASTRAL) ASTRAL.set(codePoint, flags);
  return flags;
}
