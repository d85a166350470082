/**
 * The model's features as tokens.ts and bayes.ts made them before prediction read ASCII fields
 * in one pass over their bytes (tokens.ts `contentBuckets`): every token built as a string and
 * kept in a Set (`contentTokens`), then each hashed into its bucket (`bucketsOf`). The reference
 * of buckets.test.ts. Not used by the library.
 */
import { UNSPACED_SCRIPTS } from '../../../src/content/chars.js';
import { boundedHost } from '../../../src/content/links.js';
import { words } from '../../../src/content/normalise.js';

const DEFAULT_MAX_TOKENS = 3_000;
const LINK_HOST = /\b(?:https?:\/\/|www\.)([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)+)/g;
const EMAIL_HOST = /@([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)+)/g;
const MONEY = /[$€£¥]\s?\d/;

/**
 * The distinct tokens of the fields, at most `maxTokens` (the first ones, in field order):
 * - every word of 2 to 20 characters; longer ones as `long:<first letter>:<length / 10>`
 *   (SpamBayes' "skip" tokens: base64 debris and random strings say something as a class);
 *   runs of Chinese, Japanese, Korean, Thai and other scripts written without spaces as their
 *   character pairs (see `unspacedTokens`);
 * - the words of every field except `body` again as `<field>:<word>`: `free` in a title is a
 *   stronger clue than in a body;
 * - linked hosts and e-mail hosts with each parent domain (`url:a.b.example`, `url:b.example`…);
 * - a few shape tokens: money amounts, many links, text length class per field.
 */
export function contentTokensBefore(fields: readonly (readonly [field: string, text: string])[], maxTokens = DEFAULT_MAX_TOKENS): string[] {
  const tokens = new Set<string>();
  const add = (token: string) => {
    if (tokens.size < maxTokens) tokens.add(token);
  };
  for (const [field, text] of fields) {
    if (text.length === 0) continue;
    const prefix = field === 'body' ? null : `${field}:`;
    add(`${field}:len:${Math.min(9, Math.floor(Math.log2(text.length + 1)))}`);
    let pairsLeft = UNSPACED.test(text) ? PAIRS_PER_FIELD : 0;
    for (const word of words(text)) {
      if (tokens.size >= maxTokens) break;
      if (word.length < 2) continue;
      if (pairsLeft > 0 && UNSPACED.test(word)) {
        pairsLeft = unspacedTokens(word, prefix ? (token) => (add(token), add(prefix + token)) : add, pairsLeft);
        continue;
      }
      const token = wordToken(word);
      add(token);
      if (prefix) add(prefix + token);
    }
    let links = 0;
    if (text.includes('http') || text.includes('www.')) {
      for (const match of text.matchAll(LINK_HOST)) {
        links++;
        for (const domain of parentDomains(match[1]!)) add(`url:${domain}`);
      }
    }
    if (links > 0) add(`${field}:links:${Math.min(links, 5)}`);
    if (text.includes('@')) for (const match of text.matchAll(EMAIL_HOST)) for (const domain of parentDomains(match[1]!)) add(`email:${domain}`);
    if (MONEY.test(text)) add(`${field}:money`);
  }
  return [...tokens];
}

/** A word of 2 to 20 characters as itself, a longer one by its first letter and length class. */
const wordToken = (word: string): string => (word.length <= 20 ? word : `long:${word[0]}:${Math.floor(word.length / 10)}`);

const UNSPACED = new RegExp(`[${UNSPACED_SCRIPTS}]`, 'u');
// Marks of no script of their own go with the letter before them (a Japanese か and a combining
// voiced sound mark that did not compose).
const UNSPACED_RUN = new RegExp(`(?:[${UNSPACED_SCRIPTS}]\\p{M}*)+|[^${UNSPACED_SCRIPTS}]+`, 'gu');
// A character with the marks on it (a Thai consonant with its vowel and tone marks): what a pair
// is made of, so that a pair never splits a letter from its marks.
const CLUSTER = /\P{M}\p{M}*/gu;

/**
 * Character pairs looked at per field, at most: 64 KB of one repeated CJK character would
 * otherwise make 64k pairs to find that they are all one token. A text keeps its first
 * DEFAULT_MAX_TOKENS distinct tokens anyway.
 */
const PAIRS_PER_FIELD = 4_000;

/**
 * Hands `add` the tokens of a word holding text of an unspaced script: each run of such text as
 * its overlapping pairs of characters (each with its marks), as Lucene's CJKBigramFilter does for
 * CJK, and the rest as words of their own (a lone character is no token, like any one-letter
 * word). Returns the pairs it may still look at.
 */
function unspacedTokens(word: string, add: (token: string) => void, pairsLeft: number): number {
  for (const run of word.match(UNSPACED_RUN) ?? []) {
    if (!UNSPACED.test(run)) {
      if (run.length >= 2) add(wordToken(run));
      continue;
    }
    // By character, not code unit: a character outside the BMP (CJK Extension B…) is two.
    CLUSTER.lastIndex = 0;
    let first = CLUSTER.exec(run);
    for (let second = CLUSTER.exec(run); first !== null && second !== null; first = second, second = CLUSTER.exec(run)) {
      if (pairsLeft-- <= 0) return 0;
      add(first[0] + second[0]);
    }
  }
  return pairsLeft;
}

/** `a.b.example.com` → `a.b.example.com`, `b.example.com`, `example.com` (never a bare TLD). */
function parentDomains(host: string): string[] {
  const domains: string[] = [];
  // At most a host name's 253 characters (the last ones): a 64 KB chain of labels would make as
  // many tokens as it has labels, each nearly as long as itself, to hash (quadratic).
  let domain = boundedHost(host.startsWith('www.') ? host.slice(4) : host);
  for (;;) {
    domains.push(domain);
    const parent = domain.slice(domain.indexOf('.') + 1);
    if (parent === domain || !parent.includes('.')) return domains;
    domain = parent;
  }
}

function hashToken(token: string): number {
  let h = -2128831035; // FNV's 0x811c9dc5, signed as near.ts explains
  for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), -2048144789);
  h = Math.imul(h ^ (h >>> 13), -1028477387);
  return (h ^ (h >>> 16)) >>> 0;
}

export function bucketsOfBefore(tokens: readonly string[], buckets: number): Uint32Array {
  const mask = buckets - 1;
  const ids = new Uint32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) ids[i] = hashToken(tokens[i]!) & mask;
  ids.sort();
  let n = 0;
  for (let i = 0; i < ids.length; i++) if (i === 0 || ids[i] !== ids[i - 1]) ids[n++] = ids[i]!;
  return ids.subarray(0, n);
}
