/**
 * The one-pass digest of ASCII texts (near.ts `AsciiDigest`) must give exactly what the separate
 * passes give on the joined text: the fingerprint and the near-duplicate keys are store subjects,
 * shared with other processes and other versions, so a single differing bit splits the counts.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AsciiDigest, hex64, nearKeys, TEXT_WORDS, TEXT_WORDS_MAX } from '../../src/content/near.js';
import { joinSpelledAsciiWords, joinSpelledOut, normaliseAscii } from '../../src/content/normalise.js';
import { textShape } from '../../src/content/shape.js';
import { hashToken } from '../../src/content/bayes.js';
import { fingerprint } from '../../src/content/signals.js';
import { compilePolicy } from '../../src/policy/compile.js';

// Normalised ASCII text: lower case letters, digits, the separators and punctuation ads hold.
const asciiText = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789 .,!?-@$\n\t:/()'.split('')), maxLength: 400 });
const wordy = fc.array(fc.constantFrom('sofa', 'bike', 'cash', 'only', 'call', '07700', '900123', 'leeds', 'a', 'x1', '!!', ' ', ', '), { maxLength: 3_000 }).map((w) => w.join(' '));

/** The fingerprint and near-duplicate keys of `texts` by one `AsciiDigest`, as signals.ts reads them. */
function digestAscii(texts: readonly string[], bands: number | null): { fingerprint: string; nearKeys: string[] } {
  const digest = new AsciiDigest();
  digest.reset(bands);
  for (const text of texts) digest.add(text);
  return { fingerprint: digest.fingerprint(), nearKeys: bands === null ? [] : digest.nearKeys(bands) };
}

describe('digestAscii', () => {
  it('gives the fingerprint and near keys of the texts joined by a newline', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(asciiText, wordy), { minLength: 1, maxLength: 4 }), fc.option(fc.integer({ min: 1, max: 8 }), { nil: null }), (texts, bands) => {
        const joined = texts.join('\n');
        const digest = digestAscii(texts, bands);
        expect(digest.fingerprint).toBe(fingerprint(joined));
        expect(digest.nearKeys).toEqual(bands === null ? [] : nearKeys(joined, bands, true));
      }),
      { numRuns: 300 },
    );
  });

  it('stops hashing words where nearKeys does (the first 2,002 words of a long body)', () => {
    const long = Array.from({ length: 5_000 }, (_, i) => `w${i % 97}x${i % 13}`).join(' ');
    const tail = `${long} and a different ending`;
    expect(digestAscii(['title', long], 3).nearKeys).toEqual(nearKeys(`title\n${long}`, 3, true));
    expect(digestAscii(['title', long], 3).nearKeys).toEqual(digestAscii(['title', tail], 3).nearKeys);
    expect(digestAscii(['title', long], 3).fingerprint).not.toBe(digestAscii(['title', tail], 3).fingerprint);
  });

  it('digests a text longer than the shared scratch array of bytes.ts', () => {
    const long = Array.from({ length: 12_000 }, (_, i) => `word${i % 211}`).join(' ');
    expect(long.length).toBeGreaterThan(65_536);
    const digest = digestAscii(['a title', long], 2);
    expect(digest.fingerprint).toBe(fingerprint(`a title\n${long}`));
    expect(digest.nearKeys).toEqual(nearKeys(`a title\n${long}`, 2, true));
  });

  it('splits words at every ASCII character as nearKeys does (its table of word bytes against the range tests)', () => {
    // Each of the 128 codes between two words and inside one: a table entry off by one (`/` or
    // `:` around the digits, `` ` `` or `{` around the letters, upper case) changes the keys.
    for (let c = 0; c < 128; c++) {
      const char = String.fromCharCode(c);
      const texts = [`oak${char}sofa for${char}${char}sale`, `${char}pick up${char}only cash${char}`];
      const joined = texts.join('\n');
      const digest = digestAscii(texts, 3);
      expect(digest.nearKeys, `code ${c}`).toEqual(nearKeys(joined, 3, true));
      expect(digest.fingerprint, `code ${c}`).toBe(fingerprint(joined));
    }
  });

  it('refuses text that is not plain ASCII (signals.ts sends it through fingerprint and nearKeys)', () => {
    expect(() => digestAscii(['café'], null)).toThrow(/not plain ASCII/);
  });

  it('gives the keys and hashes it has always given (store subjects and model buckets: a changed one would split every count)', () => {
    // Also against rewrites that look pure, such as the constants of 2^31 and above written signed.
    expect(fingerprint('cheap loans\ncall 555')).toBe('210f0cbcd58fcbbe');
    expect([hashToken('viagra'), hashToken('title:free')]).toEqual([575517428, 515596208]);
    // Values of the version before the byte and unrolled-shingle rewrites; texts of one, two,
    // three and many words, and one that is not ASCII.
    expect(nearKeys('sofa', 1)).toEqual(['0:7ceaabb6f4090563']);
    expect(nearKeys('oak sofa', 4)).toEqual(['0:e8e1e88926c1b924', '1:5de1bf9c6d7ac56a', '2:f22cc2bddf6b561f', '3:97da7e4e08d84157']);
    expect(nearKeys('oak sofa for sale', 7)).toEqual([
      '0:6ad098820b42fbef', '1:ddeb3804e7629888', '2:51312142a97ccec4', '3:714cbdb579203eac', '4:ec0eb3eec6c7f926', '5:24df470b135a4b33', '6:39a4a2b5e86962f4',
    ]);
    expect(nearKeys('selling my bike, 6 years old, works well. pick up only, 466 euros or best offer.', 2)).toEqual(['0:3ac18ac64559cef8', '1:5f998a60db4c923b']);
    expect(nearKeys('ѵіаgrа нос café 😀 one two', 5)).toEqual(['0:a46dffb0d1a859cd', '1:dc83b1a8504f2303', '2:ee23ac35530097f1', '3:0c71c12b60db7092', '4:44b9c6ae21939a04']);
    expect(digestAscii(['oak sofa', 'pick up only, cash'], 2)).toEqual({ fingerprint: 'af27121960702f4b', nearKeys: ['0:78cfda37c7fcc266', '1:65a49e676442ffc6'] });
  });

  it('leaves nothing behind between calls (its scratch space is shared)', () => {
    const first = nearKeys('one two three four five six seven eight nine ten', 3, true);
    nearKeys(Array.from({ length: 3_000 }, (_, i) => `other${i}`).join(' '), 8, true);
    digestAscii(['something else entirely, with many words in it'], 8);
    expect(nearKeys('one two three four five six seven eight nine ten', 3, true)).toEqual(first);
    expect(nearKeys('a b', 3, true)).toEqual(nearKeys('a b', 3, true));
  });

  it('more bands than a policy may have still work (arrays of their own)', () => {
    const text = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
    const keys = nearKeys(text, 12, true);
    expect(keys).toHaveLength(12);
    expect(keys.slice(0, 8).map((k) => k.split(':')[0])).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(nearKeys(text, 12, true)).toEqual(keys);
  });
});

describe('AsciiDigest', () => {
  // Raw ASCII text: both cases, the shouting signs, the separators of spelled-out words, white space.
  const rawText = fc.string({ unit: fc.constantFrom(...'abcxyzABCXYZ0189 .,!?$%-_*+~|/\\:@\n\t'.split('')), maxLength: 300 });

  it('addShaped gives textShape, and the digest and words add gives the normalised text', () => {
    fc.assert(
      fc.property(fc.array(rawText, { minLength: 1, maxLength: 3 }), fc.option(fc.integer({ min: 1, max: 8 }), { nil: null }), (raws, bands) => {
        const shaped = new AsciiDigest();
        const plain = new AsciiDigest();
        shaped.reset(bands);
        plain.reset(bands);
        for (const raw of raws) {
          const shape = shaped.addShaped(raw)!;
          expect(shape).toEqual(textShape(raw));
          const shapedWords = { first: TEXT_WORDS.first, ends: [...TEXT_WORDS.ends.subarray(0, shaped.count)], hashes: [...TEXT_WORDS.hashes.subarray(TEXT_WORDS.first, TEXT_WORDS.first + shaped.count)] };
          const text = normaliseAscii(raw);
          // Only a blank text is left for the caller to take back.
          expect(shaped.normalised).toBe(text.length > 0);
          if (!shaped.normalised) {
            shaped.undo();
            continue;
          }
          // What signals.ts makes of the raw text when the digest says it collapsed nothing inside.
          expect(shaped.collapsed).toBe(text !== raw.slice(0, shaped.normalisedLength).toLowerCase());
          if (!shaped.collapsed) expect(text).toBe(normaliseAscii(raw.slice(0, shaped.normalisedLength), false));
          expect(shape.ascii!.spaces).toBe(shaped.collapsed || shaped.normalisedLength < raw.length);
          const count = plain.add(text);
          expect(shaped.count).toBe(count);
          expect(shapedWords).toEqual({ first: TEXT_WORDS.first, ends: [...TEXT_WORDS.ends.subarray(0, count)], hashes: [...TEXT_WORDS.hashes.subarray(TEXT_WORDS.first, TEXT_WORDS.first + count)] });
        }
        expect(shaped.fingerprint()).toBe(plain.fingerprint());
        if (bands !== null) expect(shaped.nearKeys(bands)).toEqual(plain.nearKeys(bands));
      }),
      { numRuns: 500 },
    );
    expect(new AsciiDigest().addShaped('café')).toBeNull();
  });

  it('addShaped digests text with white space to trim or collapse as normalised, and leaves a blank text out', () => {
    const digest = new AsciiDigest();
    const plain = new AsciiDigest();
    digest.reset(2);
    plain.reset(2);
    const cases = [
      ['Oak sofa, cash only ', true, false], ['pick up\t\n \r', true, false], ['  ', false, false], ['\t', false, false], [' leading', true, true],
      ['in  side ', true, true], ['two\nlines\r\nand  a tab\tthere\n\n', true, true], ['x', true, false],
    ] as const;
    for (const [raw, normalised, collapsed] of cases) {
      digest.addShaped(raw);
      expect(digest.normalised, JSON.stringify(raw)).toBe(normalised);
      expect(digest.collapsed, JSON.stringify(raw)).toBe(collapsed);
      if (!normalised) digest.undo();
      const text = normaliseAscii(raw);
      if (text.length > 0) plain.add(text);
    }
    expect({ fingerprint: digest.fingerprint(), nearKeys: digest.nearKeys(2) }).toEqual({ fingerprint: plain.fingerprint(), nearKeys: plain.nearKeys(2) });
  });

  it('add and addShaped tell whether two words of one character come in a row, as every spelled-out run has', () => {
    const lonely = fc.string({ unit: fc.constantFrom(...'aB7 .-_*!xy\n'.split('')), maxLength: 40 });
    const pair = /(?<![a-z0-9])[a-z0-9][^a-z0-9]+[a-z0-9](?![a-z0-9])/i;
    fc.assert(
      fc.property(fc.oneof(lonely, rawText), (raw) => {
        const digest = new AsciiDigest();
        digest.reset(null);
        digest.addShaped(raw);
        expect(digest.lonePair).toBe(pair.test(raw.trimEnd()));
        const text = normaliseAscii(raw);
        digest.add(text);
        expect(digest.lonePair).toBe(pair.test(text));
        if (!digest.lonePair) expect(joinSpelledOut(text, true)).toBe(text);
      }),
      { numRuns: 3_000 },
    );
  });

  it('records each word: where it ends and its hash, after the near-duplicate words of the texts before', () => {
    fc.assert(
      fc.property(fc.array(asciiText, { minLength: 1, maxLength: 3 }), (texts) => {
        const digest = new AsciiDigest();
        digest.reset(3);
        let before = 0;
        for (const text of texts) {
          const count = digest.add(text);
          const words = [...text.matchAll(/[a-z0-9]+/g)];
          expect(count).toBe(words.length);
          expect(TEXT_WORDS.first).toBe(Math.min(before, 2_002));
          words.forEach((word, k) => {
            expect(TEXT_WORDS.ends[k]).toBe(word.index + word[0].length);
            let h = 0x811c9dc5;
            for (const char of word[0]) h = Math.imul(h ^ char.charCodeAt(0), 0x01000193);
            expect(TEXT_WORDS.hashes[TEXT_WORDS.first + k]).toBe(h);
          });
          before += count;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('undo takes back the last text: adding another in its place digests as if it had come instead', () => {
    const digest = new AsciiDigest();
    digest.reset(2);
    digest.add('oak sofa');
    digest.add('v.i.a.g.r.a for sale');
    digest.undo();
    digest.add('viagra for sale');
    expect({ fingerprint: digest.fingerprint(), nearKeys: digest.nearKeys(2) }).toEqual(digestAscii(['oak sofa', 'viagra for sale'], 2));
  });
});

describe('joinSpelledAsciiWords', () => {
  // Lone letters and digits between separators, which is what spelled-out runs are made of.
  const spelled = fc.string({ unit: fc.constantFrom(...'abv19 .-_*,:|/\\!\n'.split('')), maxLength: 200 });
  // Runs of lone characters, each separator 1 to 4 characters long, between other text.
  const run = fc
    .tuple(fc.array(fc.constantFrom('a', 'b', '7', 'xy'), { minLength: 2, maxLength: 6 }), fc.string({ unit: fc.constantFrom(' ', '.', '-', '*', '!'), minLength: 1, maxLength: 4 }))
    .map(([letters, separator]) => letters.join(separator));
  const runs = fc.array(fc.oneof(run, spelled), { minLength: 1, maxLength: 6 }).map((parts) => parts.join(' '));

  it('joins what joinSpelledOut joins, read from the words a digest recorded', () => {
    fc.assert(
      fc.property(fc.oneof(spelled, runs, asciiText), (text) => {
        const digest = new AsciiDigest();
        digest.reset(null);
        const count = digest.add(text);
        expect(joinSpelledAsciiWords(text, count, Math.min(count, TEXT_WORDS_MAX), TEXT_WORDS.ends)).toBe(joinSpelledOut(text, true));
      }),
      { numRuns: 3_000 },
    );
  });

  it('falls back to the regex for text with more words than a digest records', () => {
    const text = `${'ab '.repeat(TEXT_WORDS_MAX)}v.i.a.g.r.a`;
    const digest = new AsciiDigest();
    digest.reset(null);
    const count = digest.add(text);
    expect(count).toBe(TEXT_WORDS_MAX + 6);
    expect(joinSpelledAsciiWords(text, count, TEXT_WORDS_MAX, TEXT_WORDS.ends)).toBe(`${'ab '.repeat(TEXT_WORDS_MAX)}viagra`);
  });
});

describe('hex64', () => {
  it('writes what toString(16) with zero padding writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (a, b) => {
        const h1 = Math.imul(a ^ (a >>> 16), 2246822507) ^ Math.imul(b ^ (b >>> 13), 3266489909);
        const h2 = Math.imul(b ^ (b >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
        expect(hex64(a, b)).toBe((h2 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0'));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('shared global regexes (exec loops instead of matchAll)', () => {
  it('countPhones and findEmails answer the same on every call, whatever came before', async () => {
    const { countPhones, findEmails } = await import('../../src/content/contacts.js');
    const text = 'call 07700 900123 or +44 7700 900124, mail me (at) example (dot) com [x]';
    const first = [countPhones(text), findEmails(text)];
    countPhones('07700 900125 and 07700 900126 at the very end 07700 900127');
    expect([countPhones(text), findEmails(text)]).toEqual(first);
    expect(first[0]).toBe(2);
    expect(countPhones('no number here')).toBe(0);
  });
});

describe('the ASCII path of the content signals', () => {
  const root = fileURLToPath(new URL('../../../../', import.meta.url));
  const { content } = compilePolicy(JSON.parse(readFileSync(`${root}rules/classifieds.json`, 'utf8')), { file: `${root}rules/classifieds.json` });
  // Raw ad text: words of the reference policy's terms, spelled-out letters, contacts, links,
  // and white space of every kind ads have (line breaks, CRLF, paragraphs, tabs, runs).
  const piece = fc.constantFrom(
    'Sofa', 'CASH', 'only', 'call', 'me', '07700', '900123', 'w h a t s a p p', 'c a s i n o', 'Casino', 'viagra', 'crypto', 'bonus',
    'seller@example.org', 'http://photos.example/x', 'bit.ly/abc', '!!!', 'a', 'b', '.', ',',
  );
  const space = fc.constantFrom(' ', ' ', ' ', '\n', '\r\n', '\n\n', '  ', '\t', ' \n ');
  const field = fc.array(fc.tuple(piece, space), { maxLength: 60 }).chain((parts) =>
    fc.tuple(fc.constantFrom('', ' ', '\n', '  '), fc.constantFrom('', ' ', '\n')).map(([lead, end]) => lead + parts.map(([p, s]) => p + s).join('') + end));

  it('gives what the other paths give (a character normalising removes sends the same text there)', () => {
    fc.assert(
      fc.property(field, field, (title, body) => {
        const ascii = content.evaluate({ title, body });
        // A zero-width space takes the shortcut for text ASCII but for a few characters
        // (normalise.ts `sparseAscii`); a combining mark that sits on no letter, every step of
        // the Unicode path.
        for (const removed of ['\u200b', '\u0301']) {
          const other = content.evaluate({ title: `${removed}${title}`, body: `${removed}${body}` });
          const { fingerprint, nearKeys, terms, patterns, links, domains, domainLists, phones, emails, disposable, hits } = other;
          expect(ascii).toMatchObject({ fingerprint, nearKeys, terms, patterns, links, domains, domainLists, phones, emails, disposable, hits });
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
