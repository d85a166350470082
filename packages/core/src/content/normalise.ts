/**
 * Text normalisation before any content matching. Spammers disguise banned words with
 * full-width or mathematical letters, look-alike Cyrillic, Greek, Armenian or Cherokee letters,
 * small capitals, invisible characters, odd case and spelled-out letters (`v.i.a.g.r.a`);
 * matching runs on a form where all of those collapse to plain lower-case Latin. Pure and
 * bounded: input beyond `maxLength` characters is not looked at.
 */
import { astralFlags, CASED_UNIT, codePointBefore, codePointFlags, LATIN_UNIT, MARK_UNIT, MARKLESS_UNIT, unitFlags, WORD_UNIT } from './chars.js';

// Invisible characters that change nothing on screen but split a word for a naive matcher:
// zero-width space/joiners, word joiner, BOM, soft hyphen, Mongolian vowel separator and
// variation selectors, bidi marks, variation selectors (and their supplement, E0100–E01EF),
// Hangul fillers, tag characters, shorthand and musical format controls: every assigned
// Default_Ignorable_Code_Point. Not /\p{Default_Ignorable_Code_Point}/u, which is slower.
// eslint-disable-next-line no-misleading-character-class -- these are lone invisible code points on purpose
export const INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0]|\uDB40[\uDC00-\uDDEF]|\uD82F[\uDCA0-\uDCA3]|\uD834[\uDD73-\uDD7A]/g;
// Marks that go on any letter, which is how "Zalgo" text hides a word (`v̴i̴a̴` with marks of
// U+1DC0…): the combining diacritical marks and their extended, supplement, symbol and half-mark
// blocks, and the Cyrillic ones (titlo, millions sign). Not every \p{M}: the vowel signs of
// Indic scripts are letters of their words.
// eslint-disable-next-line no-misleading-character-class -- lone combining marks, removed on purpose
export const COMBINING = /[\u0300-\u036F\u0483-\u0489\u1AB0-\u1AFF\u1DC0-\u1DFF\u20D0-\u20FF\uFE20-\uFE2F]/g;

/**
 * Look-alikes and the Latin letter each imitates, from the Latin-target entries of Unicode's
 * confusables.txt (UTS #39) for the scripts spammers use: Cyrillic, Greek, Armenian, Cherokee,
 * IPA and small capitals. Applied after NFKC, which already folds full-width, mathematical,
 * circled and ligature forms, and *before* lower-casing, because case decides the look: Greek
 * `Η` looks like `H` but its lower case `η` like `n`. Every entry folds its lower-case form too
 * unless that has an entry of its own. Deliberately not the whole confusables table, which would
 * also fold ordinary non-Latin words (a Russian `нос` stays a Russian word unless it is mixed
 * into Latin text: see `foldConfusables`).
 */
const CONFUSABLE_PAIRS: readonly string[] = [
  // Cyrillic capitals and small letters.
  'АA ВB ЕE ЗZ КK МM НH ОO РP СC ТT УY ХX ЅS ІI ЈJ ԚQ ԜW ҮY ҺH ӀI ԌG ԀD',
  'аa вb еe зz кk мm нh оo рp сc тt уy хx ѕs іi јj ԛq ԝw үy һh ӏl ԁd ѵv ҫc ҳx ьb ԍg',
  'пn гr',
  // Greek capitals and small letters.
  'ΑA ΒB ΕE ΖZ ΗH ΙI ΚK ΜM ΝN ΟO ΡP ΤT ΥY ΧX Ϲc Ϳj',
  'αa βb γy εe ηn ιi κk νv οo ρp σo τt υu χx ωw ϲc ϳj ζz μu',
  // Armenian.
  'ՕO ՍU ՏS ԼL օo սu ոn հh ցg զq ռn',
  // Cherokee (its lower-case forms, U+AB70…, fold with them).
  'ᎠD ᎡR ᎢT ᎥI ᎩY ᎪA ᎫJ ᎬE ᎳW ᎷM ᎻH ᎽY ᏀG ᏂH ᏃZ ᏏB ᏒR ᏔW ᏕS ᏙV ᏚS ᏞL ᏟC ᏢP ᏦK ᏴB',
  // Latin look-alikes outside ASCII: dotless i and j, IPA, small capitals.
  'ıi ȷj ɡg ɑa ɩi ɪi ʏy ĸk ꞵb ᴀa ʙb ᴄc ᴅd ᴇe ғf ɢg ʜh ᴊj ᴋk ʟl ᴍm ɴn ᴏo ᴘp ǫq ʀr ꜱs ᴛt ᴜu ᴠv ᴡw ᴢz',
];

export const CONFUSABLES: ReadonlyMap<string, string> = (() => {
  const table = new Map<string, string>();
  const entries = CONFUSABLE_PAIRS.flatMap((line) => line.split(' ').map((pair) => [pair[0]!, pair.slice(1)] as const));
  for (const [from, to] of entries) table.set(from, to);
  for (const [from, to] of entries) {
    const lower = from.toLowerCase();
    if (lower !== from && !table.has(lower)) table.set(lower, to.toLowerCase());
  }
  return table;
})();

/**
 * The other way round, for Cyrillic words: each ASCII letter and the letter of the Russian and
 * other Slavic alphabets (U+0400–U+045F) it imitates, the first such entry of
 * `CONFUSABLE_PAIRS` for it (`a` → `а`, `K` → `К`, `n` → `п`). A word that mixes Latin letters into
 * Cyrillic letters with no Latin twin (`кaзинo`, Latin `a` and `o`) is a Cyrillic word in
 * disguise: folded to Latin it was `kazиho`, which no Latin or Russian term matched.
 */
export const LATIN_TO_CYRILLIC: ReadonlyMap<string, string> = (() => {
  const table = new Map<string, string>();
  for (const [from, to] of CONFUSABLES) {
    const c = from.charCodeAt(0);
    if (c >= 0x400 && c <= 0x45f && /^[a-z]$/i.test(to) && !table.has(to)) table.set(to, from);
  }
  return table;
})();
const TO_CYRILLIC = (() => {
  const table = new Uint16Array(128);
  for (const [from, to] of LATIN_TO_CYRILLIC) table[from.charCodeAt(0)] = to.charCodeAt(0);
  return table;
})();

// Every look-alike is one UTF-16 unit of the Basic Multilingual Plane folding to one Latin
// letter, so the fold is a table indexed by code unit: one array read per character. (A regex
// replace with a callback per look-alike cost ~8 ms per 64 KB of Cyrillic or Greek text.)
const FOLD_MIN = Math.min(...[...CONFUSABLES.keys()].map((char) => char.charCodeAt(0)));
const FOLD = (() => {
  const table = new Uint16Array(Math.max(...[...CONFUSABLES.keys()].map((char) => char.charCodeAt(0))) - FOLD_MIN + 1);
  for (const [from, to] of CONFUSABLES) table[from.charCodeAt(0) - FOLD_MIN] = to.charCodeAt(0);
  return table;
})();

const ASCII = /^[^\u0080-\uffff]*$/;

/**
 * The zero of every run of ten decimal digits outside ASCII (\p{Nd}, Unicode 16) that NFKD does
 * not already fold: Arabic-Indic `٠٧٧٠٠`, Persian `۰۷۷`, Devanagari `०७७`, Thai `๐๗๗`… A phone number
 * in any of them is a phone number, and a price or year the same as in ASCII digits. Unicode
 * encodes each script's digits 0 to 9 in order, so a digit's value is its distance from its zero.
 */
const DIGIT_ZEROS = [
  0x0660, 0x06f0, 0x07c0, 0x0966, 0x09e6, 0x0a66, 0x0ae6, 0x0b66, 0x0be6, 0x0c66, 0x0ce6, 0x0d66, 0x0de6, 0x0e50, 0x0ed0, 0x0f20,
  0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0,
  0xa9f0, 0xaa50, 0xabf0, 0x104a0, 0x10d30, 0x10d40, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650,
  0x116c0, 0x116d0, 0x116e0, 0x11730, 0x118e0, 0x11950, 0x11bf0, 0x11c50, 0x11d50, 0x11da0, 0x11de0, 0x11f50, 0x16130, 0x16a60,
  0x16ac0, 0x16b50, 0x16d70, 0x1e140, 0x1e2f0, 0x1e4f0, 0x1e5f1, 0x1e950,
];
export const DIGIT_VALUES: ReadonlyMap<string, string> = new Map(DIGIT_ZEROS.flatMap((zero) => Array.from({ length: 10 }, (_, d) => [String.fromCodePoint(zero + d), String(d)] as const)));
const hex4 = (unit: number) => unit.toString(16).padStart(4, '0');
// Code units, not /u: classes of explicit ranges without /u are several times faster. The BMP
// digits are one class; the others (surrogate pairs, none of whose runs of ten crosses a
// low-surrogate block) are looked for only in text that has the first half of one.
const DIGITS_BMP = new RegExp(`[${DIGIT_ZEROS.filter((zero) => zero < 0xfff0).map((zero) => `\\u${hex4(zero)}-\\u${hex4(zero + 9)}`).join('')}]`, 'g');
const DIGITS_ASTRAL = new RegExp(
  DIGIT_ZEROS.filter((zero) => zero > 0xffff)
    .map((zero) => {
      const [first, nine] = [String.fromCodePoint(zero), String.fromCodePoint(zero + 9)];
      return `\\u${hex4(first.charCodeAt(0))}[\\u${hex4(first.charCodeAt(1))}-\\u${hex4(nine.charCodeAt(1))}]`;
    })
    .join('|'),
  'g',
);
// Where any of them could be: one range test spares Latin, Cyrillic and Greek text both scans.
const MAYBE_DIGITS = /[\u0660-\uabf9]/;
// The high surrogates those pairs start with: emoji (\uD83C–\uD83E) are none of them, so text
// full of emoji is not scanned by the alternation (~0.4 ms per 64 KB).
const ASTRAL_DIGIT_HIGH = new RegExp(`[${[...new Set(DIGIT_ZEROS.filter((zero) => zero > 0xffff).map((zero) => `\\u${hex4(String.fromCodePoint(zero).charCodeAt(0))}`))].join('')}]`);
const digitValue = (digit: string) => DIGIT_VALUES.get(digit)!;

/** Decimal digits of every script as ASCII digits (text after NFKD, which folds full-width and mathematical ones). */
function asciiDigits(text: string): string {
  const bmp = MAYBE_DIGITS.test(text) ? text.replace(DIGITS_BMP, digitValue) : text;
  return ASTRAL_DIGIT_HIGH.test(bmp) ? bmp.replace(DIGITS_ASTRAL, digitValue) : bmp;
}

/** True when `text` is plain ASCII (where Unicode folding has nothing to do). */
export const isAscii = (text: string): boolean => ASCII.test(text);
// Runs of white space, or one white-space character that is not a plain space: a lone space,
// by far the most common match of /\s+/, is left alone, which makes this several times faster.
const SPACES = /\s\s+|[^\S ]/g;
// SPACES for ASCII text, where the white space of \s is \t \n \v \f \r (\t-\r) and the space: the
// same matches, found in about half the time of the Unicode class.
const ASCII_SPACES = /[\t-\r ]{2,}|[\t-\r]/g;

/** Characters of a field that are scanned when the policy does not say. */
export const DEFAULT_MAX_FIELD_LENGTH = 65_536;

/**
 * The matching form of `text`: NFKC, look-alikes folded, lower case (`ß` as `ss`), accents and invisible
 * characters removed, runs of white space collapsed to one space. At most `maxLength` input
 * characters are read.
 */
export function normaliseText(text: string, maxLength = DEFAULT_MAX_FIELD_LENGTH): string {
  const bounded = text.length > maxLength ? text.slice(0, maxLength) : text;
  // Most text is plain ASCII, where Unicode folding changes nothing: skip it (5× faster).
  if (ASCII.test(bounded)) return normaliseAscii(bounded);
  // Much of the rest is ASCII but for a few accents, invisible characters or look-alikes.
  const sparse = sparseAscii(bounded);
  return sparse !== null ? normaliseAscii(sparse) : normaliseUnicode(bounded);
}

/** `normaliseText` of text that is not plain ASCII, every step of it: the reference for `sparseAscii`'s shortcut. */
export function normaliseUnicode(text: string): string {
  // NFKD = NFKC's folding of width, maths and ligature forms, with accents split off to drop.
  return foldSharpS(foldConfusables(asciiDigits(settleMarks(text.replace(INVISIBLE, '').normalize('NFKD').replace(COMBINING, '')))).toLowerCase())
    .replace(COMBINING, '') // `İ` lower-cases to `i` and a combining dot
    .replace(SPACES, ' ')
    .trim();
}

/**
 * The shortcut of `normaliseText` for text that is ASCII but for characters each of which
 * normalises to the same ASCII wherever it stands: accented Latin letters (`é` is `e`), full-width
 * forms (`Ｖ` is `v`), invisible characters (nothing), Unicode spaces (a space), and Cyrillic or
 * Greek look-alikes (`ѵ` is `v`) in text most of whose letters are Latin, where every look-alike
 * folds. Such text is that ASCII text normalised (`normaliseAscii(sparseAscii(text))` is
 * `normaliseUnicode(text)`), or null when it holds any other character, or more look-alikes than
 * Latin letters (where the Unicode path reads words one by one). French and Spanish ads and the
 * usual disguise (`ѵіаgrа`, `c\u200Bialis` in English text) skip the dozen passes of the Unicode
 * path over the whole text: their content signals cost about two thirds of what they did.
 */
export function sparseAscii(text: string): string | null {
  let out = '';
  let copied = 0;
  let replaced = 0;
  let latin = 0; // letters as latinShare counts them: ASCII ones, and those an accent came off
  let lookAlikes = 0; // the letters it counts as other scripts'
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128) {
      if (((c | 32) - 97) >>> 0 < 26) latin++;
      continue;
    }
    const entry = sparseEntry(c);
    if (entry === 0) return null;
    // Many replacements (an accented text) are written out as codes: a string joined from
    // thousands of pieces cost four times as much.
    if (++replaced > FEW_REPLACEMENTS) return denseAscii(text);
    const index = entry > 0 ? entry - 1 : -entry - 1;
    if (entry > 0) latin += SPARSE.letters[index]!;
    else lookAlikes++;
    out += text.slice(copied, i) + SPARSE.forms[index]!;
    copied = i + 1;
  }
  // latinShare's MOSTLY_LATIN, where every look-alike folds (`foldAll`): the others read words.
  return lookAlikes > latin ? null : out + text.slice(copied);
}

/** Replacements `sparseAscii` joins into a string; past them, `denseAscii` writes codes. */
const FEW_REPLACEMENTS = 16;

/** `sparseAscii` of text with many characters to replace: the same answer, built from codes. */
function denseAscii(text: string): string | null {
  const blocks = SPARSE.blocks;
  const codes = scratchFor(text.length * SPARSE.longest);
  let length = 0;
  let latin = 0;
  let lookAlikes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128) {
      if (((c | 32) - 97) >>> 0 < 26) latin++;
      codes[length++] = c;
      continue;
    }
    const entry = sparseEntry(c);
    if (entry === 0) return null;
    const index = entry > 0 ? entry - 1 : -entry - 1;
    if (entry > 0) latin += SPARSE.letters[index]!;
    else lookAlikes++;
    const form = SPARSE.forms[index]!;
    for (let k = 0; k < form.length; k++) codes[length++] = form.charCodeAt(k);
  }
  // A block worked out on the way ran the Unicode path, whose folding may write to the same
  // scratch array: then again, with every block of the text now known.
  if (SPARSE.blocks !== blocks) return denseAscii(text);
  return lookAlikes > latin ? null : fromCodes(codes, 0, length);
}

/** The table entry of the code unit `c` (not ASCII), working out its block first when needed. */
function sparseEntry(c: number): number {
  const entry = SPARSE.entries[c]!;
  if (entry !== 0 || SPARSE.built[c >> 8] !== 0) return entry;
  buildSparseBlock(c >> 8);
  return SPARSE.entries[c]!;
}

/**
 * `sparseAscii`'s table, worked out from `normaliseUnicode` itself a block of 256 code units at a
 * time, when a text first holds one of the block (a few ms each), so that it always agrees with the
 * running Node's Unicode data and a process pays only for the scripts it sees.
 */
const SPARSE = {
  /** Per BMP code unit: 0 for a character `sparseAscii` leaves to the Unicode path; else 1 + its form's index, negated for a look-alike. */
  entries: new Int16Array(65_536),
  /** Per block of 256 code units: 1 once worked out. */
  built: new Uint8Array(256),
  /** How many blocks are worked out. */
  blocks: 0,
  /** The ASCII forms. */
  forms: [] as string[],
  /** The letters in each form. */
  letters: [] as number[],
  /** The longest form, in code units (at least 1). */
  longest: 1,
};

/** The code units `buildSparseBlock` tries: Latin-1 to Latin Extended-B, Greek, Cyrillic, Latin Extended Additional, punctuation and spaces, full-width ASCII. */
const SPARSE_RANGES: readonly (readonly [number, number])[] = [[0x00a0, 0x024f], [0x0370, 0x04ff], [0x1e00, 0x1eff], [0x2000, 0x206f], [0xfeff, 0xfeff], [0xff01, 0xff5e]];

/**
 * Where a character is tried, with ASCII letters around it (so look-alikes are in mostly Latin
 * text): inside a word, as a word of its own, ending and starting one (the Greek capital sigma
 * lower-cases to `ς` at the end of a word, to `σ` inside), at either end of the text, twice in a
 * row, between digits and between separators.
 */
const SPARSE_CONTEXTS: readonly ((c: string) => string)[] = [
  (c) => `ab${c}cd`, (c) => `Ab ${c} Cd`, (c) => `ab${c} cd`, (c) => `ab ${c}cd`, (c) => `${c}abcd`, (c) => `abcd${c}`,
  (c) => `ab${c}${c}cd`, (c) => `12${c}34 abcd`, (c) => `ab.${c}.cd`, (c) => `ABC${c}DEF`, (c) => `ab\n${c}\ncd`,
];

/**
 * Works out the block `block` of `SPARSE`: a character is in it when its form in `ab…cd` is ASCII,
 * the same ASCII in every context of SPARSE_CONTEXTS, and what it leaves after NFKD and
 * lower-casing is ASCII or one look-alike that folds to an ASCII letter.
 */
function buildSparseBlock(block: number): void {
  SPARSE.built[block] = 1;
  SPARSE.blocks++;
  for (const [first, last] of SPARSE_RANGES) {
    for (let c = Math.max(first, block << 8); c <= Math.min(last, (block << 8) + 255); c++) {
      const char = String.fromCharCode(c);
      const form = normaliseUnicode(`ab${char}cd`);
      if (!form.startsWith('ab') || !form.endsWith('cd')) continue;
      const ascii = form.slice(2, -2);
      if (!/^(?: |[\x21-\x7e]*)$/.test(ascii)) continue;
      const left = char.replace(INVISIBLE, '').normalize('NFKD').replace(COMBINING, '').toLowerCase();
      let lookAlike = false;
      // What is left must be ASCII, Unicode white space (which becomes a space), or a look-alike.
      if (!ASCII.test(left) && !(ascii === ' ' && /^\s$/.test(left))) {
        const unit = left.length === 1 ? left.charCodeAt(0) : -1;
        const folded = unit < 0 ? 0 : foldOf(unit);
        if (folded === 0 || folded >= 128) continue;
        // latinShare counts a cased letter of another script as other; an uncased one not at all.
        lookAlike = (unitFlags(unit) & CASED_UNIT) !== 0;
      }
      if (!SPARSE_CONTEXTS.every((context) => normaliseUnicode(context(char)) === normaliseAscii(context(ascii)))) continue;
      SPARSE.forms.push(ascii);
      SPARSE.longest = Math.max(SPARSE.longest, ascii.length);
      SPARSE.letters.push(lookAlike ? 0 : (ascii.match(/[a-z]/gi)?.length ?? 0));
      SPARSE.entries[c] = lookAlike ? -SPARSE.forms.length : SPARSE.forms.length;
    }
  }
}

/**
 * `ß` as `ss`, in lower-cased text (`ẞ` lower-cases to `ß`): the one case folding of a common
 * letter that lower-casing leaves out. German writes `STRASSE` for `Straße`, and a reader takes
 * `Maßage` for `massage`, so without it a term with `ss` was evaded by writing `ß`, and a `ß`
 * term missed its capitals. (Unicode's full case folding, which `toLowerCase` is not.)
 */
const foldSharpS = (lower: string): string => (lower.includes('ß') ? lower.replaceAll('ß', 'ss') : lower);

/**
 * What NFKD and the removal of accents left of `text`'s other marks, settled in one pass:
 *
 * - Marks that sit on no letter of theirs are removed: on a letter that takes none but the
 *   generic ones (chars.ts `MARKLESS_UNIT`: Latin, Cyrillic, Greek, Han…), or on no letter at
 *   all. A mark is part of its word (the vowel signs of Hindi or Thai), so a Thai tone mark on the
 *   `i` of `vi่agra` or a Devanagari one on a Cyrillic letter hid the word `viagra` from every
 *   term; `COMBINING` only removes the marks of the generic blocks. Marks on the letters of
 *   scripts that use marks stay, whatever their block (checking each mark's script against its
 *   letter's would cost a Unicode script lookup per character).
 * - Korean syllables, which NFKD splits into their letters (jamo), and Japanese voiced kana
 *   (`が`, a kana and a mark) are composed again (`composeSyllables`): a Korean term is then
 *   reported, and read by rules, as it is written (`대출`, not six jamo), and Korean text is
 *   paired and shingled by syllable. Not NFC as a whole, which costs ~0.5 ms per 64 KB of Hindi.
 */
function settleMarks(text: string): string {
  if (!MAYBE_MARKS.test(text)) return text;
  const n = text.length;
  let out = '';
  let copiedTo = 0;
  let takesMarks = 0; // 1: the character the marks here are on is a letter or digit that uses marks
  let composable = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    // Latin, Greek and Cyrillic hold no mark (the generic ones are gone) and no letter that takes one.
    if (c < 0x483) {
      takesMarks = 0;
      continue;
    }
    const start = i;
    let flags: number;
    if ((c & 0xf800) !== 0xd800) flags = unitFlags(c);
    else if (c <= 0xdbff && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) flags = astralFlags(((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00) + 0x10000);
    else flags = 0; // a lone surrogate is nothing
    // Bit arithmetic rather than branches: in Hindi or Thai, letters and marks alternate with no
    // pattern a branch predictor could learn, and the branches cost half again as much time.
    composable |= (c - 0x1100) >>> 8 === 0 || (c - 0x3099) >>> 1 === 0 ? 1 : 0; // jamo, U+3099 or U+309A
    const mark = (flags & MARK_UNIT) === 0 ? 0 : 1;
    if ((mark & (takesMarks ^ 1)) !== 0) {
      out += text.slice(copiedTo, start);
      copiedTo = i + 1;
    }
    const letterTakesMarks = (flags & (WORD_UNIT | MARKLESS_UNIT)) === WORD_UNIT ? 1 : 0;
    takesMarks = (mark & takesMarks) | ((mark ^ 1) & letterTakesMarks);
  }
  const settled = copiedTo === 0 ? text : out + text.slice(copiedTo);
  return composable === 0 ? settled : composeSyllables(settled);
}

// Everything but the blocks that hold no mark, no jamo and no letter that takes a mark (Latin,
// Greek, Cyrillic, CJK punctuation and ideographs, Hangul syllables): a range regex finds that
// Russian or Chinese text has nothing to settle in a sixth of the time of `settleMarks`'s loop.
const MAYBE_MARKS = /[^\0-\u0482\u3000-\u3029\u3030-\u303F\u3400-\u9FFF\uAC00-\uD7FF]/;

// Hangul letters (jamo) as NFKD leaves them: leading consonants, vowels, trailing consonants.
const L_FIRST = 0x1100;
const V_FIRST = 0x1161;
const T_BEFORE = 0x11a7; // trailing consonant k is T_BEFORE + k, k = 1…27
const SYLLABLES = 0xac00;
// A kana and U+3099 (voiced) or U+309A (semi-voiced) as the one character NFC makes of them, or
// 0: index (kana − 0x3040) × 2 + (mark − 0x3099). From Unicode's own data, through `normalize`.
const KANA_COMPOSED = new Uint16Array(0xc0 * 2);
for (let kana = 0x3040; kana < 0x3100; kana++) {
  for (const mark of [0x3099, 0x309a]) {
    const composed = String.fromCharCode(kana, mark).normalize('NFC');
    if (composed.length === 1) KANA_COMPOSED[(kana - 0x3040) * 2 + (mark - 0x3099)] = composed.charCodeAt(0);
  }
}

/**
 * Korean syllables composed from their jamo (a leading consonant and a vowel, and a trailing
 * consonant when one follows) and kana with a voicing mark made one character, as NFC composes
 * them (`/[\u1100-\u1112][\u1161-\u1175][\u11A8-\u11C2]?|[\u3040-\u30FF][\u3099\u309A]/g`,
 * each match through `normalize('NFC')`); everything else as it is.
 */
function composeSyllables(text: string): string {
  const n = text.length;
  const codes = scratchFor(n);
  let length = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const next = i + 1 < n ? text.charCodeAt(i + 1) : 0;
    if (c >= L_FIRST && c <= 0x1112 && next >= V_FIRST && next <= 0x1175) {
      let syllable = SYLLABLES + ((c - L_FIRST) * 21 + (next - V_FIRST)) * 28;
      i++;
      const trailing = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (trailing > T_BEFORE && trailing <= 0x11c2) {
        syllable += trailing - T_BEFORE;
        i++;
      }
      codes[length++] = syllable;
    } else if (c >= 0x3040 && c < 0x3100 && (next === 0x3099 || next === 0x309a) && KANA_COMPOSED[(c - 0x3040) * 2 + (next - 0x3099)] !== 0) {
      codes[length++] = KANA_COMPOSED[(c - 0x3040) * 2 + (next - 0x3099)]!;
      i++;
    } else {
      codes[length++] = c;
    }
  }
  return fromCodes(codes, 0, length);
}

/**
 * The form links are read in (links.ts) when `text` is not plain ASCII: NFKC (full-width
 * `ｈｔｔｐ：／／` becomes `http://`), invisible characters removed, lower case; accents and
 * look-alikes kept, because they are part of an internationalised host (`bücher.example` is not
 * `bucher.example`). At most `maxLength` input characters are read.
 */
export function linkForm(text: string, maxLength = DEFAULT_MAX_FIELD_LENGTH): string {
  const bounded = text.length > maxLength ? text.slice(0, maxLength) : text;
  const visible = bounded.replace(INVISIBLE, '');
  const nfkc = (WIDE_DELIMITER_TEST.test(visible) ? visible.replace(WIDE_DELIMITER, inertDelimiter) : visible).normalize('NFKC');
  // IDNA maps the capital sharp s to "ss" (a browser opens http://claẞic.com as classic.com),
  // where lower case makes it ß, a host of its own (xn--claic-nqa.com) that no list names.
  const form = (nfkc.includes('\u1E9E') ? nfkc.replaceAll('\u1E9E', 'ss') : nfkc).toLowerCase();
  return form.includes('://') ? form.replace(SCHEME_WORD, asciiScheme) : form;
}

/**
 * Characters that NFKC turns into `/`, `\`, `?` or `#` (full-width `／`, small `﹖`, `℅` = c/o…),
 * which end a URL's authority once they are ASCII, but not before: a browser opens
 * `http://paypal.com／@evil.com` at evil.com (the `／` is part of the user-info), and read after
 * NFKC it was paypal.com. They become U+FFFD, which no host holds either (so a host still ends
 * there), except a slash right after a scheme's colon: `ｈｔｔｐ：／／` is still a scheme. The list is
 * every such code point (a test checks it against Unicode's own NFKC).
 */
export const WIDE_DELIMITERS = '\u2047\u2048\u2049\u2100\u2101\u2105\u2106\uFE16\uFE56\uFE5F\uFE68\uFF03\uFF0F\uFF1F\uFF3C';
const WIDE_DELIMITER = new RegExp(`[${WIDE_DELIMITERS}]`, 'g');
const WIDE_DELIMITER_TEST = new RegExp(`[${WIDE_DELIMITERS}]`);
const SLASHES = '/\\\uFE68\uFF0F\uFF3C';

function inertDelimiter(char: string, at: number, text: string): string {
  if (SLASHES.includes(char)) {
    const before = text[at - 1];
    if (before === ':' || before === '\uFF1A') return char;
    if (before !== undefined && SLASHES.includes(before) && (text[at - 2] === ':' || text[at - 2] === '\uFF1A')) return char;
  }
  return '\uFFFD';
}

// A word right before `://`: the scheme of a link. No scheme has letters that are not ASCII, so
// one spelled with look-alikes (`һttp://`, a Cyrillic `һ`) is the scheme it poses as. Normalised
// text reads it so (the link scan was started by it) while the link form kept it as written, and
// the link was counted nowhere.
const SCHEME_WORD = /(?<![\p{L}\p{N}])\p{L}{4,5}(?=:\/\/)/gu;

function asciiScheme(word: string): string {
  if (isAscii(word)) return word;
  let folded = '';
  for (const char of word) folded += (CONFUSABLES.get(char) ?? CONFUSABLES.get(char.toUpperCase()) ?? char).toLowerCase();
  return folded === 'http' || folded === 'https' || folded === 'hxxp' || folded === 'hxxps' ? folded : word;
}

/**
 * `normaliseText` of text the caller knows is plain ASCII (`isAscii`) and within its bound: lower
 * case, white space collapsed. Saves a second ASCII test when the caller needed the answer anyway.
 * `spaces`: false when the caller knows the text holds no white space to collapse or trim (no
 * \t–\r, no two spaces in a row, none at either end: shape.ts `AsciiFacts`), which spares the scan.
 */
export function normaliseAscii(text: string, spaces = true): string {
  const lower = text.toLowerCase();
  return spaces ? lower.replace(ASCII_SPACES, ' ').trim() : lower;
}

/**
 * Look-alikes folded to Latin, one word at a time. A word that mixes Latin with look-alikes
 * (`vіаgrа`, Cyrillic `і` and `а`) or holds Cherokee is always folded. A word made wholly of look-alikes (`ѕех`)
 * is folded when most letters of the text are Latin: in a Russian ad `нос` stays a Russian word,
 * so non-Latin ads still match non-Latin terms. A word that mixes Latin letters with look-alikes
 * and with Cyrillic letters that have no Latin twin (`кaзинo`) is Cyrillic instead: its Latin
 * letters become their Cyrillic twins (`казино`).
 */
function foldConfusables(text: string): string {
  const first = firstConfusable(text);
  if (first === -1) return text;
  const share = latinShare(text);
  if (share === MOSTLY_LATIN) {
    // The usual disguise (Latin text, every look-alike has a Latin twin): every word folds, in one pass.
    const folded = foldAll(text, first);
    if (isAscii(folded)) return folded;
  } else if (share === NO_LATIN) {
    return text; // a Russian or Greek text without a Latin letter: no word mixes scripts
  }
  return foldWords(text, first, share === MOSTLY_LATIN);
}

/** The index of the first look-alike in `text`, or -1. */
function firstConfusable(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) - FOLD_MIN;
    if (c >= 0 && c < FOLD.length && FOLD[c] !== 0) return i;
  }
  return -1;
}

/** The Latin letter the code unit `c` imitates, or 0. */
function foldOf(c: number): number {
  const k = c - FOLD_MIN;
  return k >= 0 && k < FOLD.length ? FOLD[k]! : 0;
}

/**
 * `foldConfusables` word by word (a word: a run of letters, marks and digits, `[\p{L}\p{M}\p{N}]+`), from
 * the word holding the first look-alike, at `first`. A word with a look-alike folds when it also
 * holds a Latin or Cherokee letter, or, in mostly Latin text, when it folds to plain Latin letters
 * and digits. One pass over the code units with remembered facts of each (chars.ts): a regex
 * over the words cost ~5 ms per 64 KB of Cyrillic.
 */
function foldWords(text: string, first: number, latinText: boolean): string {
  const n = text.length;
  let out = '';
  let copied = 0;
  let i = first;
  // Back to the start of the word holding the first look-alike (look-alikes are BMP letters).
  while (i > 0) {
    const before = wordUnitsBefore(text, i);
    if (before === 0) break;
    i -= before;
  }
  while (i < n) {
    const start = i;
    let confusable = false;
    let latin = false;
    let plain = true; // every character a Latin letter or digit once folded
    let asciiLetter = false;
    let cyrillic = false; // a Cyrillic letter with no Latin twin
    let scripts = 0; // lookAlikeScript bits of its letters
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const low = text.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          const flags = astralFlags(((c - 0xd800) << 10) + (low - 0xdc00) + 0x10000);
          if ((flags & WORD_UNIT) === 0) break;
          if ((flags & LATIN_UNIT) !== 0) latin = true;
          plain = false;
          i += 2;
          continue;
        }
      }
      const flags = unitFlags(c);
      if ((flags & WORD_UNIT) === 0) break;
      if ((flags & LATIN_UNIT) !== 0) {
        latin = true;
        if (c < 128) asciiLetter = true;
      }
      scripts |= lookAlikeScript(c);
      if (foldOf(c) !== 0) confusable = true;
      else if (c >= 128) {
        plain = false;
        if (c >= 0x400 && c <= 0x52f) cyrillic = true;
      }
      i++;
    }
    if (i === start) {
      i++; // not a letter or digit (nor the start of one)
      continue;
    }
    if (confusable && asciiLetter && cyrillic) {
      // A Cyrillic word with Latin look-alikes in it (`кaзинo`): its Latin letters read as Cyrillic.
      out += text.slice(copied, start) + toCyrillic(text.slice(start, i));
      copied = i;
    } else if (confusable && (latin || (plain && (latinText || manyScripts(scripts))))) {
      out += text.slice(copied, start) + foldAll(text.slice(start, i), 0);
      copied = i;
    }
  }
  // Code after a long loop must have run before V8 compiles the loop on a first long text: see warmUp.
  return out + text.slice(copied);
}

/** `word` with each ASCII letter that has a Cyrillic twin (`LATIN_TO_CYRILLIC`) as that twin. */
function toCyrillic(word: string): string {
  let out = '';
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    const twin = c < 128 ? TO_CYRILLIC[c]! : 0;
    out += String.fromCharCode(twin !== 0 ? twin : c);
  }
  return out;
}

/** How many code units of a letter or digit end just before `i` (0, 1 or 2 for a surrogate pair). */
function wordUnitsBefore(text: string, i: number): number {
  const codePoint = codePointBefore(text, i);
  if ((codePointFlags(codePoint) & WORD_UNIT) === 0) return 0;
  return codePoint > 0xffff ? 2 : 1;
}

/** Code units up to which `foldAll` builds its string one character at a time. */
const SHORT_FOLD = 32;
/** Code units made a string per call of `String.fromCharCode`, which takes them as arguments. */
const CODES_CHUNK = 8_192;
// Reused by every call (synchronous: `foldAll` and `composeSyllables`); NFKD can make a text longer
// than its bound, which gets its own.
const CODES_SCRATCH = new Uint16Array(DEFAULT_MAX_FIELD_LENGTH);

/** Every look-alike of `text` folded, the first one being at `from` or later. */
function foldAll(text: string, from: number): string {
  const n = text.length;
  if (n - from <= SHORT_FOLD) {
    // A word or a joined run: a typed array view per call would cost more than the folding.
    let out = text.slice(0, from);
    for (let i = from; i < n; i++) {
      const c = text.charCodeAt(i);
      const folded = foldOf(c);
      out += String.fromCharCode(folded !== 0 ? folded : c);
    }
    return out;
  }
  const codes = scratchFor(n);
  for (let i = from; i < n; i++) {
    const c = text.charCodeAt(i);
    const k = c - FOLD_MIN;
    codes[i] = k >= 0 && k < FOLD.length && FOLD[k] !== 0 ? FOLD[k]! : c;
  }
  return text.slice(0, from) + fromCodes(codes, from, n);
}

/** An array for `n` code units: the shared scratch one when it is large enough. */
const scratchFor = (n: number): Uint16Array => (n <= CODES_SCRATCH.length ? CODES_SCRATCH : new Uint16Array(n));

/** The string of `codes[start…end)`, built a chunk at a time (`String.fromCharCode` takes them as arguments). */
function fromCodes(codes: Uint16Array, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end; i += CODES_CHUNK) {
    out += String.fromCharCode.apply(null, codes.subarray(i, Math.min(end, i + CODES_CHUNK)) as unknown as number[]);
  }
  return out;
}

/** `latinShare`: no Latin or Cherokee letter at all (nor a character outside the BMP, which might be one), and one script of look-alikes at most. */
const NO_LATIN = 0;
/**
 * `latinShare`: some Latin or Cherokee letters, fewer than half of the letters being Latin; or
 * none, but Greek letters beside Cyrillic or Armenian ones, which a word may mix to pose as Latin.
 */
const SOME_LATIN = 1;
/** `latinShare`: at least half the letters are Latin. */
const MOSTLY_LATIN = 2;

/**
 * Whether at least half the letters are Latin (`MOSTLY_LATIN`), and if not whether any letter is
 * Latin or Cherokee at all. Run after accents are split off, where Latin letters are ASCII; a
 * loop over remembered facts of each code unit (chars.ts), because Unicode property regexes cost
 * ~20 µs per KB here.
 */
function latinShare(text: string): number {
  let latin = 0;
  let other = 0;
  let mixed = false; // a Latin or Cherokee letter outside ASCII, or a surrogate
  let scripts = 0; // lookAlikeScript bits seen
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) latin++;
    else if (c >= 128) {
      if (c >= 0xd800 && c <= 0xdfff) {
        mixed = true;
        continue;
      }
      const flags = unitFlags(c);
      if ((flags & LATIN_UNIT) !== 0) mixed = true;
      if ((flags & CASED_UNIT) !== 0 || (c >= 0x13a0 && c <= 0x13ff)) other++;
      scripts |= lookAlikeScript(c);
    }
  }
  if (latin * 2 >= latin + other) return MOSTLY_LATIN;
  return latin > 0 || mixed || manyScripts(scripts) ? SOME_LATIN : NO_LATIN;
}

/**
 * The script of a code unit among those whose look-alikes fold to Latin letters, as one bit:
 * Greek 1, Cyrillic 2, Armenian 4; 0 for any other. No word of any language mixes them, so a word
 * that does, with every letter a look-alike (`ΒΙΤСОΙΝ`: Greek and Cyrillic capitals), is Latin in
 * disguise even in a text without one Latin letter, where a whole word of look-alikes is otherwise
 * read as the word of its own script (a Russian `нос` stays Russian).
 */
function lookAlikeScript(c: number): number {
  if (c < 0x370 || c > 0x58f) return 0;
  return c <= 0x3ff ? 1 : c <= 0x52f ? 2 : 4;
}

/** Whether `lookAlikeScript` bits name more than one script. */
const manyScripts = (bits: number): boolean => (bits & (bits - 1)) !== 0;

// A letter or digit standing alone, then at least two more, each after the same one to three
// separators: `v.i.a.g.r.a`, `v-i-a-g-r-a`, `v i a g r a`, `v . i . a`. The same separator, so
// `v.i.a v-i-a` stays two words. Linear: each repetition starts with the fixed separator and
// takes one character that nothing else in the pattern can take.
const SPELLED_ASCII = /(?<![a-z0-9])[a-z0-9]([ ._*+~|/\\:,-]{1,3})[a-z0-9](?![a-z0-9])(?:\1[a-z0-9](?![a-z0-9]))+/g;
// What every spelled-out run holds from its second letter on: a lone letter or digit after a
// separator, then one to three separators and another lone one (`.i.a` of `v.i.a`). Most text
// has none, which this finds several times faster than SPELLED_ASCII, which tries every word.
const MAYBE_SPELLED_ASCII = /[ ._*+~|/\\:,-][a-z0-9][ ._*+~|/\\:,-]{1,3}[a-z0-9](?![a-z0-9])/;
// The same for any script (what every match of SPELLED_UNICODE holds from its second letter on):
// most text has none, and this finds so in a fraction of SPELLED_UNICODE's time, whose
// lookbehind is tried at every character.
const MAYBE_SPELLED_UNICODE = /[ ._*+~|/\\:,\u2022\u00B7-][\p{L}\p{M}\p{N}][ ._*+~|/\\:,\u2022\u00B7-]{1,3}[\p{L}\p{M}\p{N}](?![\p{L}\p{M}\p{N}])/u;
// A run is single letters or digits with copies of its separator (the capture) between them, and
// no separator character is a letter or digit: removing the copies leaves the letters, as removing
// every non-letter did, at a fraction of the cost of a Unicode class regex per run (~3 ms per
// 64 KB of spelled-out Cyrillic).
const joinRun = (run: string, separator: string): string => run.replaceAll(separator, '');

/**
 * Spelled-out words joined (`v.i.a.g.r.a`, `v i a g r a` → `viagra`) in normalised text: three
 * or more single letters or digits separated by one to three separator characters. Terms,
 * fingerprints and the model read this form; patterns, links and contact details read the
 * normalised text before joining (joining would turn `1.2.3.4` into `1234`). `ascii`: whether
 * the text is plain ASCII, when the caller already knows.
 */
export function joinSpelledOut(normalised: string, ascii = isAscii(normalised)): string {
  if (ascii) return MAYBE_SPELLED_ASCII.test(normalised) ? normalised.replace(SPELLED_ASCII, joinRun) : normalised;
  // Folded again once joined: `ѵ.і.а.g.r.а` is single letters, each too short to tell a Cyrillic
  // word from a disguise, until they form one word that mixes scripts.
  if (!MAYBE_SPELLED_UNICODE.test(normalised)) return normalised;
  return joinSpelledUnicode(normalised);
}

/**
 * `joinSpelledOut` of plain ASCII text whose words (runs of a–z and 0–9) a scan has already found
 * (near.ts `AsciiDigest`): the first `count` end at `ends[k]`, and `recorded` of them are there
 * (all, unless the text has more words than the scan records). What MAYBE_SPELLED_ASCII looks
 * for is two words of one character each with one to three separator characters and nothing
 * else between them, the first right after a separator: read from the words, that spares the
 * usual text a regex scan of all its characters.
 */
export function joinSpelledAsciiWords(text: string, count: number, recorded: number, ends: Int32Array): string {
  if (recorded < count) return joinSpelledOut(text, true);
  for (let k = 1; k < count; k++) {
    // The word ending at `end` is one character after a separator; the one ending at `next` is one
    // character after 1 to 3 more: every character from `end` to the one before `next`'s last is a
    // separator (not a letter or digit), so its word starts at its last character.
    const end = ends[k - 1]!;
    const next = ends[k]!;
    if (next - end > 4 || end < 2 || !isSeparator(text.charCodeAt(end - 2))) continue;
    let gap = end;
    while (gap < next - 1 && isSeparator(text.charCodeAt(gap))) gap++;
    if (gap === next - 1 && gap > end) return text.replace(SPELLED_ASCII, joinRun);
  }
  return text;
}

/**
 * What `normalised.replace(SPELLED, …)` does with the Unicode form of SPELLED_ASCII,
 * `/(?<!\w)\w([ ._*+~|/\\:,\u2022\u00B7-]{1,3})\w(?!\w)(?:\1\w(?!\w))+/gu` where `\w` is a letter, mark or digit
 * (`[\p{L}\p{M}\p{N}]`: a lone letter is one without marks),
 * each run joined and folded, as one pass over the code units with remembered facts of each
 * (chars.ts): the regex's Unicode classes and lookarounds cost ~2 ms per 64 KB of text made of
 * single letters, and a callback per run as much again. A run starts at a letter or digit with
 * none before it; its separator is the whole run of separator characters after that letter
 * (the regex's `{1,3}` gives back nothing that could help: a shorter capture leaves a separator
 * where a letter must follow); then come lone letters, each after a copy of the separator.
 */
function joinSpelledUnicode(text: string): string {
  const n = text.length;
  let out = '';
  let copied = 0;
  let i = 0;
  let afterWord = false; // the code point before `i` is a letter or digit
  while (i < n) {
    const first = wordAt(text, i);
    if (first === 0) {
      afterWord = false;
      i += text.charCodeAt(i) >= 0xd800 && text.charCodeAt(i) <= 0xdbff && i + 1 < n && isLowSurrogate(text.charCodeAt(i + 1)) ? 2 : 1;
      continue;
    }
    if (afterWord) {
      i += first;
      continue;
    }
    const end = spelledRunEnd(text, i, first);
    if (end === -1) {
      afterWord = true;
      i += first;
      continue;
    }
    const separator = text.slice(i + first, i + first + separatorLength(text, i + first));
    out += text.slice(copied, i) + foldConfusables(joinRun(text.slice(i, end), separator));
    copied = end;
    i = end;
    afterWord = true; // a run ends with a letter
  }
  return out + text.slice(copied); // slice(0) is the text itself
}

const isLowSurrogate = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/** The code units (1 or 2) of the letter or digit at `i`, or 0 when there is none. */
function wordAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const low = text.charCodeAt(i + 1);
    if (isLowSurrogate(low)) return astralFlags(((c - 0xd800) << 10) + (low - 0xdc00) + 0x10000) & WORD_UNIT ? 2 : 0;
  }
  return unitFlags(c) & WORD_UNIT ? 1 : 0; // a lone surrogate is no letter
}

/** A character of the separators of spelled-out words: ` ._*+~|/\:,-`, `•`, `·`. */
function isSeparator(c: number): boolean {
  return c === 32 || c === 46 || c === 95 || c === 42 || c === 43 || c === 126 || c === 124 || c === 47 || c === 92 || c === 58 || c === 44 || c === 45 || c === 0x2022 || c === 0xb7;
}

/** The separator characters from `i` on, counted up to 4. */
function separatorLength(text: string, i: number): number {
  let k = 0;
  while (k < 4 && i + k < text.length && isSeparator(text.charCodeAt(i + k))) k++;
  return k;
}

/**
 * Where the spelled-out run starting with the letter at `start` (of `first` code units, with no
 * letter before it) ends, or -1 when there is none: a separator of 1 to 3 characters, then at
 * least two more lone letters or digits, each after a copy of the separator.
 */
function spelledRunEnd(text: string, start: number, first: number): number {
  const n = text.length;
  let i = start + first;
  const sepLength = separatorLength(text, i);
  if (sepLength === 0 || sepLength > 3) return -1;
  const sepAt = i;
  let letters = 1;
  for (;;) {
    // The separator again (the first time it is itself), then one lone letter or digit.
    let k = 0;
    while (k < sepLength && i + k < n && text.charCodeAt(i + k) === text.charCodeAt(sepAt + k)) k++;
    if (k < sepLength) break;
    const letter = i + sepLength < n ? wordAt(text, i + sepLength) : 0;
    if (letter === 0) break;
    const after = i + sepLength + letter;
    if (after < n && wordAt(text, after) !== 0) break;
    i = after;
    letters++;
  }
  return letters >= 3 ? i : -1;
}

/**
 * Words of normalised text: runs of letters, marks and digits (any script; a mark is part of its
 * letter, as the vowel signs of Indic scripts are: chars.ts `WORD_UNIT`).
 */
export function words(normalised: string): string[] {
  return normalised.match(ASCII.test(normalised) ? /[a-z0-9]+/g : /[\p{L}\p{M}\p{N}]+/gu) ?? [];
}

/**
 * Each path of the Unicode folding run a few times at load, on short texts. V8 (Node 20) compiles
 * a long loop while it runs (on-stack replacement) and keeps that code for the later calls of its
 * function; code after the loop that had never run by then is compiled without type feedback and
 * sends every later call back to the interpreter when it gets there. `foldWords`, called once per
 * spelled-out run, did so ~30 times per 64 KB field when its first call was a 64 KB text (+3 ms;
 * `node --trace-deopt` shows it). Nine rounds: V8 allocates a function's type feedback only once
 * it has run for a while (`--interrupt-budget-for-feedback-allocation`).
 */
function warmUp(): void {
  const samples = ['ѵiagra д', 'ѵ iд нос', 'нос', 'ѵiagra', 'x', 'ѵ.і.а.g.r.а а-б-в-г х х х', '😀 ж.ж.ж 𝐯', 'vi\u0E48a คั ก\u{11001}', '대출 ガス'];
  for (let round = 0; round < 9; round++) {
    // The Unicode path itself: `normaliseText` takes most of these samples the short way.
    for (const sample of samples) joinSpelledOut(normaliseUnicode(sample), false);
  }
}
warmUp();
