import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asciiBytes, bytesIfAscii } from '../../src/content/bytes.js';
import { countPhones } from '../../src/content/contacts.js';
import { INVISIBLE, normaliseAscii } from '../../src/content/normalise.js';
import { textShape, unicodeShape } from '../../src/content/shape.js';

// Every ASCII character, weighted towards the ones that matter here: letters of both cases, the
// shouting signs, digits, rulers and white space.
const asciiChar = fc.oneof(
  fc.constantFrom(...'aAbBzZ!!??$$%%1100--..  \n\t'.split('')),
  fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)),
);
const asciiText = fc.array(asciiChar, { maxLength: 300 }).map((chars) => chars.join(''));

describe('textShape', () => {
  it('reads ASCII text as bytes with the same result as the general loop', () => {
    fc.assert(
      fc.property(asciiText, (text) => {
        expect(textShape(text)).toEqual(unicodeShape(text));
      }),
      { numRuns: 1_000 },
    );
  });

  it('tells of ASCII text what normalising keeps (digits) and whether it only lower-cases it', () => {
    fc.assert(
      fc.property(asciiText, (text) => {
        const facts = textShape(text).ascii!;
        const normalised = normaliseAscii(text);
        expect(facts.digits).toBe(text.replace(/[^0-9]/g, '').length);
        expect(facts.digits).toBe(normalised.replace(/[^0-9]/g, '').length);
        expect(facts.spaces).toBe(normalised !== text.toLowerCase());
        expect(normaliseAscii(text, facts.spaces)).toBe(normalised);
        expect(countPhones(normalised, facts.digits)).toBe(countPhones(normalised));
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([
    ['no white space to collapse', 'Call 0123 456', { digits: 7, spaces: false }],
    ['a space at the start', ' a', { digits: 0, spaces: true }],
    ['a space at the end', 'a ', { digits: 0, spaces: true }],
    ['only a space', ' ', { digits: 0, spaces: true }],
    ['two spaces in a row', 'a  b', { digits: 0, spaces: true }],
    ['a line break', 'a\nb', { digits: 0, spaces: true }],
    ['control characters that are not white space', 'a\x1cb\x00c', { digits: 0, spaces: false }],
    ['empty text', '', { digits: 0, spaces: false }],
  ])('ASCII facts: %s', (_, text, facts) => {
    expect(textShape(text).ascii).toEqual(facts);
  });

  it.each([
    ['empty text', '', { letters: 0, upper: 0, longestRun: 0 }],
    ['case-blind runs', 'AAAaaa b', { letters: 7, upper: 3, longestRun: 6 }],
    ['shouting signs run, digits and rulers do not', 'ok!!!! 1111111 ------- $$$', { letters: 2, upper: 0, longestRun: 4 }],
    ['the characters around the letter ranges', '@[`{~\u007f', { letters: 0, upper: 0, longestRun: 0 }],
    ['accented letters and € count', 'ÉTÉ €€€€€', { letters: 3, upper: 3, longestRun: 5, ascii: null }],
    ['a letter outside the BMP is one letter, with its case', '𝐀𝐀𝐀 ab 𝐛', { letters: 6, upper: 3, longestRun: 3, ascii: null }],
    ['mathematical capitals shout', '𝐁𝐔𝐘 𝐍𝐎𝐖 𝐂𝐇𝐄𝐀𝐏', { letters: 11, upper: 11, ascii: null }],
    ['a lone surrogate is no letter', '\uD835 \uDC00a', { letters: 1, upper: 0, longestRun: 1, ascii: null }],
    ['invisible characters neither end nor start a run', 'free!!!\u200b!!!\u2060!!!\u{E0021}!!', { letters: 4, longestRun: 11, ascii: null }],
    ['an invisible character is no letter', '\u200b\u00ad', { letters: 0, upper: 0, longestRun: 0, ascii: null }],
    ['one non-ASCII character at the end', `${'a'.repeat(100)}é`, { letters: 101, upper: 0, longestRun: 100, ascii: null }],
  ])('%s', (_, text, shape) => {
    expect(textShape(text)).toMatchObject(shape);
  });

  it('passes over exactly the invisible characters normalising removes', () => {
    const ranges = [[0x80, 0x3200], [0xfe00, 0xffff], [0x1bc90, 0x1bcaf], [0x1d160, 0x1d17f], [0xe0000, 0xe01ff]] as const;
    for (const [from, to] of ranges) {
      for (let cp = from; cp <= to; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff) continue;
        const char = String.fromCodePoint(cp);
        const shape = textShape(`!!${char}!!`);
        if (shape.letters > 0 || char === '€' || char === '£' || char === '¥') continue; // a letter or a shouting sign
        expect(shape.longestRun === 4, `U+${cp.toString(16)}`).toBe(new RegExp(INVISIBLE.source).test(char));
      }
    }
  });

  it('reads a field longer than the shared scratch array', () => {
    const text = `${'Ab'.repeat(40_000)}!!!`;
    expect(textShape(text)).toEqual({ letters: 80_000, upper: 40_000, longestRun: 3, ascii: { digits: 0, spaces: false } });
    expect(textShape(`${text}é`)).toEqual({ letters: 80_001, upper: 40_000, longestRun: 3, ascii: null });
    // Non-ASCII text whose UTF-8 would overflow the scratch array exactly where the text ends.
    expect(textShape(`${'a'.repeat(65_535)}é`).ascii).toBeNull();
  });
});

describe('asciiBytes', () => {
  it('gives the character codes of ASCII text', () => {
    const bytes = asciiBytes('Hi!\n\u007f');
    expect([...bytes.subarray(0, 5)]).toEqual([72, 105, 33, 10, 127]);
  });

  it('tells plain ASCII from other text', () => {
    expect(bytesIfAscii('')).not.toBeNull();
    expect(bytesIfAscii('plain\ttext\u007f')).not.toBeNull();
    expect(bytesIfAscii('café')).toBeNull();
    expect(bytesIfAscii('\u0080')).toBeNull();
    expect(bytesIfAscii('😀')).toBeNull();
    expect(bytesIfAscii('\ud800')).toBeNull(); // a lone surrogate half
    expect(bytesIfAscii(`${'a'.repeat(65_535)}é`)).toBeNull();
    expect(bytesIfAscii('a'.repeat(70_000))).not.toBeNull();
  });

  it('refuses text that is not plain ASCII, whose indices would not line up', () => {
    expect(() => asciiBytes('café')).toThrow(/not plain ASCII/);
    expect(() => asciiBytes(`${'a'.repeat(65_535)}é`)).toThrow(/not plain ASCII/);
    expect(() => asciiBytes('😀')).toThrow(/not plain ASCII/);
  });
});
