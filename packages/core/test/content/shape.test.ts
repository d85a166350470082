import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asciiBytes } from '../../src/content/bytes.js';
import { textShape } from '../../src/content/shape.js';

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
        expect(textShape(text, true)).toEqual(textShape(text, false));
        expect(textShape(text)).toEqual(textShape(text, false));
      }),
      { numRuns: 1_000 },
    );
  });

  it.each([
    ['empty text', '', { letters: 0, upper: 0, longestRun: 0 }],
    ['case-blind runs', 'AAAaaa b', { letters: 7, upper: 3, longestRun: 6 }],
    ['shouting signs run, digits and rulers do not', 'ok!!!! 1111111 ------- $$$', { letters: 2, upper: 0, longestRun: 4 }],
    ['the characters around the letter ranges', '@[`{~\u007f', { letters: 0, upper: 0, longestRun: 0 }],
    ['accented letters and € count', 'ÉTÉ €€€€€', { letters: 3, upper: 3, longestRun: 5 }],
    ['a letter outside the BMP is no letter', '𝐀𝐀𝐀 ab', { letters: 2, upper: 0, longestRun: 1 }],
  ])('%s', (_, text, shape) => {
    expect(textShape(text)).toEqual(shape);
  });

  it('reads a field longer than the shared scratch array', () => {
    const text = `${'Ab'.repeat(40_000)}!!!`;
    expect(textShape(text, true)).toEqual({ letters: 80_000, upper: 40_000, longestRun: 3 });
    expect(textShape(text, true)).toEqual(textShape(text, false));
  });
});

describe('asciiBytes', () => {
  it('gives the character codes of ASCII text', () => {
    const bytes = asciiBytes('Hi!\n\u007f');
    expect([...bytes.subarray(0, 5)]).toEqual([72, 105, 33, 10, 127]);
  });

  it('refuses text that is not plain ASCII, whose indices would not line up', () => {
    expect(() => asciiBytes('café')).toThrow(/not plain ASCII/);
    expect(() => asciiBytes(`${'a'.repeat(65_535)}é`)).toThrow(/not plain ASCII/);
    expect(() => asciiBytes('😀')).toThrow(/not plain ASCII/);
  });
});
