/**
 * Facts of a UTF-16 code unit, remembered: its case, whether it is part of a word (a letter, a
 * mark or a digit), whether it is Latin or Cherokee script (a word holding one is folded whatever
 * the text around it: normalise.ts) and whether it is a letter of a script written without spaces
 * between words (`UNSPACED_SCRIPTS`). Asking a string or a Unicode property
 * regex per character (`char.toLowerCase() !== char.toUpperCase()` allocates two strings) made
 * 64 KB of Cyrillic, Greek or CJK cost tens of milliseconds; the answers depend on the code unit
 * alone, so each is computed once per process, on first sight, into a 64 KB table.
 */

const KNOWN = 1;
/** `unitFlags` bit: a letter with case (its lower and upper case differ). */
export const CASED_UNIT = 2;
/** `unitFlags` bit: an upper-case letter (it differs from its lower case). */
export const UPPER_UNIT = 4;
/**
 * `unitFlags` bit: part of a word, a letter, mark or digit (`\p{L}`, `\p{M}` or `\p{N}`). Marks
 * because the vowel signs of Indic scripts, Thai and others are marks inside their words (`लोन`
 * is ल, the mark ो, न): a word ending at each mark made the term `लोन` match `लिन` and `ल न`. The
 * marks that go on any letter (Zalgo text) are removed before words are read (normalise.ts).
 */
export const WORD_UNIT = 8;
/** `unitFlags` bit: of the Latin or Cherokee script. */
export const LATIN_UNIT = 16;
/** `unitFlags` bit: a mark (`\p{M}`), which belongs to the letter before it. */
export const MARK_UNIT = 32;
/** `unitFlags` bit: a letter of a script written without spaces between words (`UNSPACED_SCRIPTS`). */
export const UNSPACED_UNIT = 64;
/**
 * `unitFlags` bit: a letter that takes no marks but the generic ones (normalise.ts `COMBINING`):
 * Latin, Cherokee, Cyrillic, Greek, Coptic, Armenian, Han and Hangul. A mark of another block on one (a
 * Thai tone mark on the `i` of `vi่agra`) is decoration that would split or hide a word.
 */
export const MARKLESS_UNIT = 128;

/**
 * Scripts written without spaces between words (Chinese, Japanese, Thai, Lao, Khmer, Burmese) or
 * whose words are long compounds with particles attached (Korean), as the body of a regex class.
 * A "word" there is a whole phrase or sentence, so terms match inside runs of their letters, the
 * model reads them as pairs of characters (tokens.ts) and near-duplicate keys as shingles of
 * characters (near.ts).
 */
export const UNSPACED_SCRIPTS =
  '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}\\p{Script=Thai}\\p{Script=Lao}\\p{Script=Khmer}\\p{Script=Myanmar}';

const FLAGS = new Uint8Array(65_536);
const WORD_CHAR = /^[\p{L}\p{M}\p{N}]$/u;
const LATIN_CHAR = /^[\p{Script=Latin}\p{Script=Cherokee}]$/u;
const MARK_CHAR = /^\p{M}$/u;
const UNSPACED_LETTER = new RegExp(`^(?=\\p{L})[${UNSPACED_SCRIPTS}]$`, 'u');
const MARKLESS_LETTER = /^(?=\p{L})[\p{Script=Latin}\p{Script=Cherokee}\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Armenian}\p{Script=Coptic}\p{Script=Han}\p{Script=Hangul}]$/u;

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
  flags |= otherFlags(char);
  return (FLAGS[c] = flags);
}

// Code points outside the BMP, one lazily made table per plane (64 KB each, the planes a process
// has seen: emoji and mathematical letters are in plane 1, rare CJK in plane 2).
const PLANES: (Uint8Array | undefined)[] = [];

/**
 * `unitFlags` of a code point outside the BMP. Case by the general category there (`\p{Lu}`,
 * `\p{Ll}`, `\p{Lt}`), not by a case mapping: the mathematical letters (`𝐁𝐔𝐘`, the shouting
 * NFKC turns into `BUY`) are upper- and lower-case letters without one.
 */
export function astralFlags(codePoint: number): number {
  const plane = PLANES[codePoint >> 16] ?? (PLANES[codePoint >> 16] = new Uint8Array(65_536));
  const known = plane[codePoint & 0xffff]!;
  if (known !== 0) return known & ~KNOWN;
  const char = String.fromCodePoint(codePoint);
  const flags = otherFlags(char) | (UPPER_CHAR.test(char) ? CASED_UNIT | UPPER_UNIT : LOWER_CHAR.test(char) ? CASED_UNIT : 0);
  plane[codePoint & 0xffff] = flags | KNOWN;
  return flags;
}
const UPPER_CHAR = /^[\p{Lu}\p{Lt}]$/u;
const LOWER_CHAR = /^\p{Ll}$/u;

/** The bits of a character (one code point) but its case. */
function otherFlags(char: string): number {
  return (
    (WORD_CHAR.test(char) ? WORD_UNIT : 0) |
    (LATIN_CHAR.test(char) ? LATIN_UNIT : 0) |
    (MARK_CHAR.test(char) ? MARK_UNIT : 0) |
    (UNSPACED_LETTER.test(char) ? UNSPACED_UNIT : 0) |
    (MARKLESS_LETTER.test(char) ? MARKLESS_UNIT : 0)
  );
}

/**
 * The code point that ends just before `i` in `text`: a surrogate pair as one, a lone surrogate as
 * itself. Its length in code units is 2 when it is above 0xFFFF.
 */
export function codePointBefore(text: string, i: number): number {
  const c = text.charCodeAt(i - 1);
  if (c >= 0xdc00 && c <= 0xdfff && i >= 2) {
    const high = text.charCodeAt(i - 2);
    if (high >= 0xd800 && high <= 0xdbff) return ((high - 0xd800) << 10) + (c - 0xdc00) + 0x10000;
  }
  return c;
}

/** `unitFlags` of any code point, `astralFlags` above the BMP; none for a lone surrogate. */
export function codePointFlags(codePoint: number): number {
  if (codePoint > 0xffff) return astralFlags(codePoint);
  return codePoint >= 0xd800 && codePoint <= 0xdfff ? 0 : unitFlags(codePoint);
}
