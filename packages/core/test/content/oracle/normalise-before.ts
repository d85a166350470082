/**
 * The Unicode normalisation and spelled-out joining as normalise.ts did them before its loops
 * over chars.ts's facts (commit 71b5b1f): regex replacements with a callback per look-alike, per
 * word and per spelled-out run. Slow, but short enough to read as the definition: the reference
 * of unicode-paths.test.ts, which checks that the loops give the same text. The data (invisible
 * characters, marks, look-alikes, digits of other scripts) comes from normalise.ts itself, so the
 * two can only differ in how they apply it. Since then a word holds the marks on its letters
 * (`\p{M}`, the vowel signs of Indic scripts): the regexes here say so too, and marks on letters
that take none of their block are removed, and Korean syllables and voiced kana composed again.
Not used by the library.
 */
import { COMBINING, CONFUSABLES, DIGIT_VALUES, INVISIBLE, isAscii, LATIN_TO_CYRILLIC, normaliseAscii } from '../../../src/content/normalise.js';

const CONFUSABLE_CHARS = new RegExp(`[${[...CONFUSABLES.keys()].join('')}]`, 'gu');
// Latin (small capitals and IPA are Latin script) and Cherokee: a word holding one is always folded.
const ALWAYS_FOLD = /[\p{Script=Latin}\p{Script=Cherokee}]/u;
const WORD = /[\p{L}\p{M}\p{N}]+/gu;
const ONLY_LATIN = /^[a-z0-9]+$/i;
// Marks and the character they are on (none at the start): they stay on a letter or digit from
// U+0300 on of a script that uses marks, and are removed from anything else.
const MARKS_ON = /(^|\P{M})(\p{M}+)/gu;
const TAKES_MARKS = /^(?![\0-\u02FF])[\p{L}\p{N}]$/u;
const MARKLESS = /[\p{Script=Latin}\p{Script=Cherokee}\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Armenian}\p{Script=Coptic}\p{Script=Han}\p{Script=Hangul}]/u;

export function normaliseText(text: string, maxLength = 65_536): string {
  const bounded = text.length > maxLength ? text.slice(0, maxLength) : text;
  if (isAscii(bounded)) return normaliseAscii(bounded);
  const stripped = bounded.replace(INVISIBLE, '').normalize('NFKD').replace(COMBINING, '').replace(MARKS_ON, (_, base: string, marks: string) => base + (TAKES_MARKS.test(base) && !MARKLESS.test(base) ? marks : ''));
  const composed = stripped.replace(/[\u1100-\u1112][\u1161-\u1175][\u11A8-\u11C2]?|[\u3040-\u30FF][\u3099\u309A]/g, (syllable) => syllable.normalize('NFC'));
  const digits = Array.from(composed, (char) => DIGIT_VALUES.get(char) ?? char).join('');
  return foldConfusables(digits)
    .toLowerCase()
    .replaceAll('ß', 'ss') // case folding, as normalise.ts does since
    .replace(COMBINING, '') // `İ` lower-cases to `i` and a combining dot
    .replace(/\s+/g, ' ')
    .trim();
}

/** Look-alikes folded a word at a time: always in a word with Latin or Cherokee, otherwise only when most letters of the text are Latin. */
function foldConfusables(text: string): string {
  CONFUSABLE_CHARS.lastIndex = 0;
  if (!CONFUSABLE_CHARS.test(text)) return text;
  const latinText = isMostlyLatin(text);
  const fold = (word: string) => word.replace(CONFUSABLE_CHARS, (char) => CONFUSABLES.get(char) ?? char);
  const folded = fold(text);
  if (latinText && isAscii(folded)) return folded;
  return text.replace(WORD, (word) => {
    const latin = fold(word);
    if (latin === word) return word;
    // Since then: Latin letters in a word with Cyrillic letters that have no Latin twin are Cyrillic.
    if (/[a-z]/i.test(word) && /[\u0400-\u052F]/.test(latin)) return word.replace(/[a-z]/gi, (char) => LATIN_TO_CYRILLIC.get(char) ?? char);
    // Since then: a word of look-alikes from two scripts (Greek with Cyrillic or Armenian) folds in any text.
    return ALWAYS_FOLD.test(word) || (ONLY_LATIN.test(latin) && (latinText || mixesScripts(word))) ? latin : word;
  });
}

/** Letters of more than one of the Greek, Cyrillic and Armenian blocks. */
function mixesScripts(word: string): boolean {
  return [/[\u0370-\u03FF]/, /[\u0400-\u052F]/, /[\u0530-\u058F]/].filter((block) => block.test(word)).length > 1;
}

/** At least half the letters are Latin (Cherokee counts as a letter of another script). */
function isMostlyLatin(text: string): boolean {
  let latin = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) latin++;
    else if (c >= 128 && !(c >= 0xd800 && c <= 0xdfff)) {
      const char = text[i]!;
      if (char.toLowerCase() !== char.toUpperCase() || (c >= 0x13a0 && c <= 0x13ff)) other++;
    }
  }
  return latin * 2 >= latin + other;
}

const SPELLED_ASCII = /(?<![a-z0-9])[a-z0-9]([ ._*+~|/\\:,-]{1,3})[a-z0-9](?![a-z0-9])(?:\1[a-z0-9](?![a-z0-9]))+/g;
const SPELLED_UNICODE = /(?<![\p{L}\p{M}\p{N}])[\p{L}\p{M}\p{N}]([ ._*+~|/\\:,\u2022\u00B7-]{1,3})[\p{L}\p{M}\p{N}](?![\p{L}\p{M}\p{N}])(?:\1[\p{L}\p{M}\p{N}](?![\p{L}\p{M}\p{N}]))+/gu;

/** Runs of three or more single letters or digits between one to three equal separators, joined (and folded again when not ASCII). */
export function joinSpelledOut(normalised: string, ascii = isAscii(normalised)): string {
  if (ascii) return normalised.replace(SPELLED_ASCII, (run) => run.replace(/[^a-z0-9]/g, ''));
  return normalised.replace(SPELLED_UNICODE, (run) => foldConfusables(run.replace(/[^\p{L}\p{M}\p{N}]/gu, '')));
}
