/**
 * Terms in ASCII text are read from the words the digest records (signals.ts `matchTermWords`)
 * instead of a regex over the text: the same terms, in the same order, as the regex found them
 * (oracle/terms-before.ts), whatever overlaps, prefixes and separators the text holds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TEXT_WORDS_MAX } from '../../src/content/near.js';
import { compileContent } from '../../src/content/signals.js';
import { asciiTermsBefore } from './oracle/terms-before.js';

// Terms that share words and prefixes: "free" inside "free money" and "100% free", "money free".
const TERMS = ['free', 'free money', 'money free', '100% free', 'casino', 'casinos', 'win big now', 'win', 'big', 'a b', 'b', 'x1'];
const WORDS = ['free', 'money', '100', 'casino', 'casinos', 'win', 'big', 'now', 'a', 'b', 'x1', 'x', '1', 'freemoney', 'FREE', 'Casino', 'bigwin'];
const SEPARATORS = [' ', '  ', ', ', '% ', '\n', '_', '-', '.', '!', ' . ', '/', '\t', 'É'];

const text = fc
  .array(fc.tuple(fc.constantFrom(...WORDS), fc.constantFrom(...SEPARATORS)), { maxLength: 60 })
  .map((parts) => parts.map(([word, separator]) => word + separator).join(''));

describe('terms of ASCII text', () => {
  const compiled = compileContent({ terms: Object.fromEntries(TERMS.map((term, i) => [term, i + 1])), fields: ['title', 'body'] }, []);

  it('are the ones the regex found, in its order', () => {
    fc.assert(
      fc.property(text, text, (title, body) => {
        expect(compiled.evaluate({ title, body }).terms).toEqual(asciiTermsBefore(TERMS, [title, body]));
      }),
      { numRuns: 3_000 },
    );
  });

  it('in spelled-out words, and in text with more words than the digest records (the regex then)', () => {
    expect(compiled.evaluate({ body: 'f.r.e.e money and c a s i n o' }).terms).toEqual(['free money', 'casino']);
    const long = `${'zz '.repeat(TEXT_WORDS_MAX)}win big now`;
    expect(compiled.evaluate({ title: 'casino', body: long }).terms).toEqual(['casino', 'win big now']);
    expect(compiled.evaluate({ body: long }).terms).toEqual(asciiTermsBefore(TERMS, [long]));
  });
});
