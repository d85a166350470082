/**
 * Text normalisation before any content matching. Spammers disguise banned words with
 * full-width letters, look-alike Cyrillic/Greek letters, invisible characters and odd case;
 * matching runs on a form where all of those collapse to plain lower-case Latin. Pure and
 * bounded: input beyond `maxLength` characters is not looked at.
 */

// Invisible characters that change nothing on screen but split a word for a naive matcher:
// zero-width space/joiners, word joiner, BOM, soft hyphen, Mongolian vowel separator, bidi marks.
// eslint-disable-next-line no-misleading-character-class -- these are lone invisible code points on purpose
const INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0]/g;
const COMBINING = /[\u0300-\u036F]/g;

/**
 * Look-alikes folded to the Latin letter they imitate (after NFKC and lower-casing). The common
 * Cyrillic, Greek and Armenian homoglyphs used to dodge word filters; not the whole Unicode
 * confusables table, which would also fold legitimate non-Latin text.
 */
const CONFUSABLES: Record<string, string> = {
  а: 'a', в: 'b', е: 'e', ё: 'e', з: '3', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't',
  у: 'y', х: 'x', ѕ: 's', і: 'i', ї: 'i', ј: 'j', һ: 'h', ԁ: 'd', ԛ: 'q', ԝ: 'w', ѵ: 'v', ӏ: 'l',
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x',
  ω: 'w', γ: 'y', ս: 'u', օ: 'o', ո: 'n', հ: 'h', ց: 'g', ı: 'i', ȷ: 'j', ɡ: 'g', ɑ: 'a',
  ℓ: 'l',
};
const CONFUSABLE_CHARS = new RegExp(`[${Object.keys(CONFUSABLES).join('')}]`, 'g');

const ASCII = /^[^\u0080-\uffff]*$/;

/** True when `text` is plain ASCII (where Unicode folding has nothing to do). */
export const isAscii = (text: string): boolean => ASCII.test(text);
// Runs of white space, or one white-space character that is not a plain space: a lone space,
// by far the most common match of /\s+/, is left alone, which makes this several times faster.
const SPACES = /\s\s+|[^\S ]/g;

/** Characters of a field that are scanned when the policy does not say. */
export const DEFAULT_MAX_FIELD_LENGTH = 65_536;

/**
 * The matching form of `text`: NFKC, lower case, accents and invisible characters removed,
 * look-alikes folded, runs of white space collapsed to one space. At most `maxLength` input
 * characters are read.
 */
export function normaliseText(text: string, maxLength = DEFAULT_MAX_FIELD_LENGTH): string {
  const bounded = text.length > maxLength ? text.slice(0, maxLength) : text;
  // Most text is plain ASCII, where Unicode folding changes nothing: skip it (5× faster).
  if (ASCII.test(bounded)) return bounded.toLowerCase().replace(SPACES, ' ').trim();
  return bounded
    .normalize('NFKC')
    .toLowerCase()
    .normalize('NFD')
    .replace(COMBINING, '')
    .replace(INVISIBLE, '')
    .replace(CONFUSABLE_CHARS, (char) => CONFUSABLES[char] ?? char)
    .replace(SPACES, ' ')
    .trim();
}

/** Words of normalised text: runs of letters and digits (any script). */
export function words(normalised: string): string[] {
  return normalised.match(ASCII.test(normalised) ? /[a-z0-9]+/g : /[\p{L}\p{N}]+/gu) ?? [];
}
