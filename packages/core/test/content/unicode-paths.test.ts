/**
 * The Unicode paths of the content signals (text that is not plain ASCII) were rewritten from
 * regexes and per-character string calls into loops over remembered facts of each code unit
 * (chars.ts), so that 64 KB of Cyrillic, Greek, CJK or emoji costs a small multiple of 64 KB of
 * ASCII. These tests check that the rewrite changed no answer: the normalised and joined text,
 * the near-duplicate keys and the shape of random texts drawn from the characters each path
 * treats specially, against the code of the commit before (test/content/oracle/).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { astralFlags, CASED_UNIT, LATIN_UNIT, MARK_UNIT, unitFlags, UNSPACED_SCRIPTS, UNSPACED_UNIT, UPPER_UNIT, WORD_UNIT } from '../../src/content/chars.js';
import { nearKeys } from '../../src/content/near.js';
import { INVISIBLE, joinSpelledOut, normaliseText } from '../../src/content/normalise.js';
import { unicodeShape } from '../../src/content/shape.js';
import { nearKeys as nearKeysBefore } from './oracle/near-before.js';
import { joinSpelledOut as joinBefore, normaliseText as normaliseBefore } from './oracle/normalise-before.js';

// What chars.ts calls an unspaced letter (`UNSPACED_UNIT`), as a property regex.
const UNSPACED_LETTER = new RegExp(`^(?=\\p{L})[${UNSPACED_SCRIPTS}]$`, 'u');

// Characters every path treats specially: ASCII letters, digits and separators; Cyrillic, Greek,
// Armenian and Cherokee look-alikes and letters that are none; small capitals and IPA; CJK;
// emoji and other pairs of surrogates (a mathematical letter, an astral Latin letter U+10780, a
// Deseret letter with case), lone surrogates; combining marks, invisible characters; digits of
// other scripts; `İ` and `ß`, whose case changes their length; Devanagari and Thai letters and
// their marks, voiced kana, Hangul syllables and the letters (jamo) they are made of, which NFKD
// splits them into and normalising composes again, and CJK Extension B; marks of other blocks,
// which a letter that takes none loses, and letters at the edges of the blocks that skip that check.
const PIECES = [
  'a', 'v', 'i', 'G', 'R', 'x', '0', '7', ' ', ' ', '  ', '.', '-', '_', ',', '\n', '•', '·', '/', '@', '!',
  'а', 'е', 'о', 'р', 'с', 'і', 'ѵ', 'А', 'С', 'Н', 'д', 'ж', 'Ж', 'л', 'ы', 'й',
  'α', 'ο', 'ε', 'Η', 'Ο', 'λ', 'Σ', 'ς', 'օ', 'ո', 'Ꭺ', 'Ꮩ', 'ꮩ', 'Ꮃ', 'ᴠ', 'ɪ', 'ı', 'ɡ', 'ʀ',
  '出', '售', '。', '😀', '👍🏽', '🇬🇧', '❤️', '𝐯', '\u{10780}', '\u{10400}', '\u{10428}', '\uD800', '\uDC00',
  '\u0301', '\u0336', '\u200B', '\u00AD', '٠', '٧', '०', 'İ', 'ß', 'Ⅻ', 'ǅ',
  'क', 'ि', '्', 'ก', '\u0E34', '\u0E48', 'が', '\u3099', '한', '\u1112', '\u1161', '\u11AB', 'ㄱ', '𠀀',
  '\u03E3', '\u0E31', '\u0901', '\u{11001}',
];
const piece = fc.constantFrom(...PIECES);
const text = fc.array(piece, { maxLength: 60 }).map((parts) => parts.join(''));
// Words of look-alikes and other letters with the separators of spelled-out words between them.
const separator = fc.constantFrom(' ', '.', '-', ' . ', '•', '·', '..', '...', '....', ' - ', '_', '/', '\\', ':', ',', '|', '~', '+', '*', '', ' ·');
const spelled = fc.array(fc.tuple(piece, separator), { maxLength: 16 }).map((pairs) => pairs.flat().join(''));
// Runs of one separator with a few exceptions, so that long runs form and end in every way.
const runs = fc.tuple(separator, fc.array(fc.tuple(piece, fc.option(separator, { freq: 8 })), { maxLength: 20 })).map(([sep, pairs]) => pairs.map(([p, s]) => p + (s ?? sep)).join(''));
const anyText = fc.oneof(text, spelled, runs);

describe('Unicode paths give the answers of the code before them', () => {
  it('normaliseText and joinSpelledOut', () => {
    fc.assert(
      fc.property(anyText, (input) => {
        const normalised = normaliseText(input);
        expect(normalised).toBe(normaliseBefore(input));
        expect(joinSpelledOut(normalised)).toBe(joinBefore(normalised));
      }),
      { numRuns: 20_000 },
    );
  });

  it('near-duplicate keys of text that is not plain ASCII', () => {
    fc.assert(
      fc.property(anyText, fc.integer({ min: 1, max: 8 }), (input, bands) => {
        const normalised = normaliseText(input);
        expect(nearKeys(normalised, bands, false)).toEqual(nearKeysBefore(normalised, bands));
      }),
      { numRuns: 5_000 },
    );
  });

  it('near-duplicate keys where the word limit cuts a pair of surrogates or a word', () => {
    // hashWords reads the first 2,002 × 24 code units: the cut falls inside an emoji, a word, a pair.
    for (const filler of ['😀', 'ж😀', 'а𝐯', '\u{10400}x', 'жжж ', 'a']) {
      for (const shift of [0, 1, 2, 3]) {
        const input = 'б'.repeat(shift) + filler.repeat(Math.ceil(60_000 / filler.length));
        expect(nearKeys(input, 3, false)).toEqual(nearKeysBefore(input, 3));
      }
    }
  });

  it('long texts of each shape the benchmark measures', () => {
    const shapes = ['продам нос iPhone ѵiagra ', 'πωλείται Ηot ', 'ᏙᎥᎪ ѵ.і.а.g.r.а а-б-в ', 'c̶a̶s̶i̶n̶o̶ ', '😀 🔥 💊 ', '出售自行车。', 'а б в г 1. 2. '];
    for (const shape of shapes) {
      const input = shape.repeat(Math.ceil(20_000 / shape.length));
      const normalised = normaliseText(input);
      expect(normalised).toBe(normaliseBefore(input));
      expect(joinSpelledOut(normalised)).toBe(joinBefore(normalised));
    }
  });
});

// unicodeShape as it was: the case of a character from two string calls per character.
function shapeBefore(input: string) {
  let letters = 0;
  let upper = 0;
  let longestRun = 0;
  let run = 0;
  let previous = -1;
  for (let i = 0; i < input.length; i++) {
    let c = input.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      letters++;
      upper++;
      c += 32;
    } else if (c >= 97 && c <= 122) {
      letters++;
    } else if (c >= 128) {
      // A character outside the BMP is one, its case by its category (the mathematical letters
      // have no case mapping); an invisible one is passed over.
      c = input.codePointAt(i)!;
      const char = String.fromCodePoint(c);
      if (c > 0xffff) i++;
      const lower = char.toLowerCase();
      if (c > 0xffff ? /^[\p{Lu}\p{Lt}\p{Ll}]$/u.test(char) : lower !== char.toUpperCase()) {
        letters++;
        if (c > 0xffff ? /^[\p{Lu}\p{Lt}]$/u.test(char) : char !== lower) upper++;
      } else if (new RegExp(`^(?:${INVISIBLE.source})$`).test(char)) {
        continue;
      } else if (c !== 0x20ac && c !== 0xa3 && c !== 0xa5) {
        previous = -1;
        continue;
      }
    } else if (c !== 33 && c !== 63 && c !== 36 && c !== 37) {
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
  return { letters, upper, longestRun };
}

describe('chars: remembered facts of code units', () => {
  it('unicodeShape counts letters and capitals as the string calls did', () => {
    fc.assert(
      fc.property(anyText, (input) => {
        const { letters, upper, longestRun } = unicodeShape(input);
        expect({ letters, upper, longestRun }).toEqual(shapeBefore(input));
      }),
      { numRuns: 5_000 },
    );
  });

  it('agrees with the string calls and property regexes for every code unit', () => {
    for (let c = 0; c < 0x10000; c++) {
      const char = String.fromCharCode(c);
      const lower = char.toLowerCase();
      const flags = unitFlags(c);
      const expected = lower === char.toUpperCase() ? 0 : char !== lower ? CASED_UNIT | UPPER_UNIT : CASED_UNIT;
      if ((flags & (CASED_UNIT | UPPER_UNIT)) !== expected) expect([c, flags]).toEqual([c, expected]);
      if (((flags & WORD_UNIT) !== 0) !== /^[\p{L}\p{M}\p{N}]$/u.test(char)) expect([c, 'word']).toBe(null);
      if (((flags & LATIN_UNIT) !== 0) !== /^[\p{Script=Latin}\p{Script=Cherokee}]$/u.test(char)) expect([c, 'latin']).toBe(null);
      if (((flags & MARK_UNIT) !== 0) !== /^\p{M}$/u.test(char)) expect([c, 'mark']).toBe(null);
      if (((flags & UNSPACED_UNIT) !== 0) !== UNSPACED_LETTER.test(char)) expect([c, 'unspaced']).toBe(null);
    }
  });

  it('tells astral letters from other astral characters', () => {
    expect(astralFlags(0x1d42f) & WORD_UNIT).toBe(WORD_UNIT); // 𝐯
    expect(astralFlags(0x10780) & LATIN_UNIT).toBe(LATIN_UNIT); // a Latin modifier letter
    expect(astralFlags(0x1f600)).toBe(0); // 😀
    expect(astralFlags(0x20000) & (WORD_UNIT | UNSPACED_UNIT)).toBe(WORD_UNIT | UNSPACED_UNIT); // 𠀀, CJK Extension B
    expect(astralFlags(0x1d167) & (WORD_UNIT | MARK_UNIT)).toBe(WORD_UNIT | MARK_UNIT); // a musical combining mark
  });
});
