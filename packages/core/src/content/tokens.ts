/**
 * The learning model's view of a text: a bounded set of tokens. One tokenizer for every input:
 * the fields of an ad at run time (`title`, `body`, `email`…), the labelled files of
 * `actiongate model train`, and the e-mails of the evaluation (subject → `title`, body → `body`),
 * so what the model learns offline is what it sees online. Pure; reads normalised text (see
 * `normaliseText` and `joinSpelledOut`), so disguised spellings share tokens with plain ones.
 */
import { finalMix, hashToken } from './bayes.js';
import { bytesIfAscii } from './bytes.js';
import { UNSPACED_SCRIPTS } from './chars.js';
import { boundedHost } from './links.js';
import { words } from './normalise.js';

/** Distinct tokens kept per text when the caller does not say. */
export const DEFAULT_MAX_TOKENS = 3_000;

/** The fields of a text, `[field, text]` in order, each normalised and joined. */
export type TokenFields = readonly (readonly [field: string, text: string])[];

// Sticky: each is tried only where its match can start (`http` or `www.`, `@`), found by
// `indexOf`, in order, each search going on after the last match, which finds what a global
// regex's scan did. Scanning for an address with `matchAll` cost ~0.8 µs per 1 KB ad with one,
// this ~0.1 µs.
const LINK_HOST = /\b(?:https?:\/\/|www\.)([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)+)/y;
const EMAIL_HOST = /@([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)+)/y;
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
export function contentTokens(fields: TokenFields, maxTokens = DEFAULT_MAX_TOKENS): string[] {
  const tokens = new Set<string>();
  const sink: TokenSink = {
    add: (token) => {
      if (tokens.size < maxTokens) tokens.add(token);
    },
    full: () => tokens.size >= maxTokens,
  };
  for (const [field, text] of fields) {
    if (text.length === 0) continue;
    sink.add(lengthToken(field, text));
    wordTokens(field, text, sink);
    otherTokens(field, text, sink, true);
  }
  return [...tokens];
}

/**
 * The model's features of the fields: `bucketsOf(contentTokens(fields, maxTokens), buckets)`
 * (the distinct buckets, ascending), without building the token strings of plain ASCII fields.
 * Their words are read in one pass over their bytes, each hashed as `hashToken` hashes its token
 * on the way (and, in a field other than `body`, from the hash of `<field>:` on, for its copy),
 * and the distinct tokens are told apart by hash, then by their characters, so that a text keeps
 * the same first `maxTokens` distinct tokens `contentTokens` keeps. Other fields, and the tokens
 * that are not words, are made as strings, as `contentTokens` makes them. A string per word,
 * hashed by the Set and again into its bucket, made the features of a 1 KB ad cost ~2.3 times
 * as much (~2.6 times for a 64 KB body). The returned array is shared scratch: valid until the
 * next call.
 */
export function contentBuckets(fields: TokenFields, buckets: number, maxTokens = DEFAULT_MAX_TOKENS): Uint32Array {
  const seen = distinct.begin(fields, buckets - 1, maxTokens);
  for (let f = 0; f < fields.length && !seen.full(); f++) {
    const [field, text] = fields[f]!;
    if (text.length === 0) continue;
    seen.add(lengthToken(field, text));
    const bytes = bytesIfAscii(text);
    if (bytes === null) {
      wordTokens(field, text, seen);
      otherTokens(field, text, seen, true);
      continue;
    }
    const money = asciiWordTokens(f, field, bytes, text.length, seen);
    if (!seen.full()) otherTokens(field, text, seen, money);
  }
  return seen.buckets();
}

const FNV_BASIS = -2128831035; // FNV's 0x811c9dc5, signed as near.ts explains
const FNV_PRIME = 0x01000193;

/**
 * `wordTokens` of the plain ASCII field `f` (its `length` character codes in `bytes`): words are
 * the runs of a-z and 0-9, as `words` splits ASCII text. Returns whether the text holds a `$`,
 * the only currency sign of MONEY in ASCII text.
 */
function asciiWordTokens(f: number, field: string, bytes: Uint8Array, length: number, seen: DistinctTokens): boolean {
  const prefixed = field !== 'body';
  // The hash of `<field>:`, where the hash of every prefixed copy of a word starts.
  let prefixHash = FNV_BASIS;
  if (prefixed) {
    for (let i = 0; i < field.length; i++) prefixHash = Math.imul(prefixHash ^ field.charCodeAt(i), FNV_PRIME);
    prefixHash = Math.imul(prefixHash ^ 58, FNV_PRIME);
  }
  let dollar = false;
  let i = 0;
  while (i < length) {
    let c = bytes[i]!;
    if (!((c - 97) >>> 0 < 26 || (c - 48) >>> 0 < 10)) {
      if (c === 36) dollar = true;
      i++;
      continue;
    }
    // A word: its characters hashed as `hashToken` hashes its token, and its prefixed copy's.
    const start = i;
    let h = FNV_BASIS;
    if (prefixed) {
      let hp = prefixHash;
      do {
        h = Math.imul(h ^ c, FNV_PRIME);
        hp = Math.imul(hp ^ c, FNV_PRIME);
        c = ++i < length ? bytes[i]! : 32;
      } while ((c - 97) >>> 0 < 26 || (c - 48) >>> 0 < 10);
      const size = i - start;
      if (size > 20) {
        const token = `long:${String.fromCharCode(bytes[start]!)}:${Math.floor(size / 10)}`;
        seen.add(token);
        seen.add(`${field}:${token}`);
      } else if (size >= 2) {
        seen.addWord(finalMix(h), f, start, size, false, bytes);
        seen.addWord(finalMix(hp), f, start, size, true, bytes);
      }
    } else {
      do {
        h = Math.imul(h ^ c, FNV_PRIME);
        c = ++i < length ? bytes[i]! : 32;
      } while ((c - 97) >>> 0 < 26 || (c - 48) >>> 0 < 10);
      const size = i - start;
      if (size > 20) seen.add(`long:${String.fromCharCode(bytes[start]!)}:${Math.floor(size / 10)}`);
      else if (size >= 2) seen.addWord(finalMix(h), f, start, size, false, bytes);
    }
    if (seen.full()) return dollar;
  }
  return dollar;
}

/** Entries of `DistinctTokens` that are strings (not words read from a field's bytes). */
const STRING = -1;

/**
 * The distinct tokens of a text by hash, as a Set of their strings would hold them: tokens of
 * equal hash are compared (words by their characters), so that two tokens whose hashes collide
 * count as two, as they did in the Set, and the first `maxTokens` are the same ones. Open
 * addressing over typed arrays reused by every call (a fresh one of more than 64 bytes gets a
 * backing store outside the V8 heap: near.ts); a slot is empty unless stamped with the current
 * call's generation, so nothing is cleared between calls.
 */
class DistinctTokens implements TokenSink {
  private fields: TokenFields = [];
  private mask = 0;
  private max = 0;
  private size = 0;
  private generation = 0;
  private slotMask = 0;
  private stamps = new Int32Array(0);
  private slots = new Int32Array(0);
  /** Per entry: its token's hash, bucket, field (STRING for a string token), first character and length, whether prefixed. */
  private hashes = new Int32Array(0);
  private out = new Uint32Array(0);
  private field = new Int32Array(0);
  private start = new Int32Array(0);
  private length = new Int32Array(0);
  private prefixed = new Uint8Array(0);
  private strings: (string | undefined)[] = [];

  begin(fields: TokenFields, mask: number, max: number): this {
    if (max > this.hashes.length) this.grow(max);
    this.fields = fields;
    this.mask = mask;
    this.max = max;
    this.size = 0;
    if (++this.generation === 0x7fffffff) {
      this.stamps.fill(0);
      this.generation = 1;
    }
    return this;
  }

  private grow(max: number): void {
    const slots = 2 ** Math.ceil(Math.log2(max * 2));
    this.slotMask = slots - 1;
    this.stamps = new Int32Array(slots);
    this.slots = new Int32Array(slots);
    this.hashes = new Int32Array(max);
    this.out = new Uint32Array(max);
    this.field = new Int32Array(max);
    this.start = new Int32Array(max);
    this.length = new Int32Array(max);
    this.prefixed = new Uint8Array(max);
    this.strings = new Array<string | undefined>(max).fill(undefined);
    this.generation = 0;
  }

  full(): boolean {
    return this.size >= this.max;
  }

  /** A token made as a string. */
  add(token: string): void {
    if (this.size >= this.max) return;
    const hash = hashToken(token) | 0;
    let slot = hash & this.slotMask;
    while (this.stamps[slot] === this.generation) {
      const e = this.slots[slot]!;
      if (this.hashes[e] === hash && this.tokenOf(e) === token) return;
      slot = (slot + 1) & this.slotMask;
    }
    const e = this.claim(slot, hash);
    this.field[e] = STRING;
    this.strings[e] = token;
  }

  /**
   * The word of `size` characters from `start` of field `f` (its bytes, the current field's),
   * prefixed or not with `<field>:`, whose token hashes to `hash` (`hashToken`'s).
   */
  addWord(hash: number, f: number, start: number, size: number, prefixed: boolean, bytes: Uint8Array): void {
    if (this.size >= this.max) return;
    hash |= 0;
    let slot = hash & this.slotMask;
    while (this.stamps[slot] === this.generation) {
      const e = this.slots[slot]!;
      if (this.hashes[e] === hash && this.sameWord(e, f, start, size, prefixed, bytes)) return;
      slot = (slot + 1) & this.slotMask;
    }
    const e = this.claim(slot, hash);
    this.field[e] = f;
    this.start[e] = start;
    this.length[e] = size;
    this.prefixed[e] = prefixed ? 1 : 0;
    this.strings[e] = undefined;
  }

  /** The distinct buckets of the tokens, ascending (shared scratch). */
  buckets(): Uint32Array {
    this.fields = []; // not kept alive by the scratch until the next call (a field may be 64 KB)
    const ids = this.out.subarray(0, this.size).sort();
    let n = 0;
    for (let i = 0; i < ids.length; i++) if (i === 0 || ids[i] !== ids[i - 1]) ids[n++] = ids[i]!;
    return ids.subarray(0, n);
  }

  private claim(slot: number, hash: number): number {
    const e = this.size++;
    this.stamps[slot] = this.generation;
    this.slots[slot] = e;
    this.hashes[e] = hash;
    this.out[e] = (hash & this.mask) >>> 0;
    return e;
  }

  /** Whether entry `e` is the word token described (a word of the current field, in `bytes`). */
  private sameWord(e: number, f: number, start: number, size: number, prefixed: boolean, bytes: Uint8Array): boolean {
    const g = this.field[e]!;
    if (g === STRING) return this.strings[e] === this.wordOf(f, start, size, prefixed);
    if (this.length[e] !== size || (this.prefixed[e] === 1) !== prefixed) return false;
    // A prefix ends with its only colon a word could meet (words hold none): equal tokens have equal prefixes.
    if (prefixed && g !== f && this.fields[g]![0] !== this.fields[f]![0]) return false;
    const from = this.start[e]!;
    if (g === f) {
      for (let k = 0; k < size; k++) if (bytes[from + k] !== bytes[start + k]) return false;
    } else {
      const text = this.fields[g]![1];
      for (let k = 0; k < size; k++) if (text.charCodeAt(from + k) !== bytes[start + k]) return false;
    }
    return true;
  }

  /** Entry `e`'s token as a string (what a Set would have held). */
  private tokenOf(e: number): string {
    const g = this.field[e]!;
    if (g === STRING) return this.strings[e]!;
    return this.wordOf(g, this.start[e]!, this.length[e]!, this.prefixed[e] === 1);
  }

  private wordOf(f: number, start: number, size: number, prefixed: boolean): string {
    const [field, text] = this.fields[f]!;
    const word = text.slice(start, start + size);
    return prefixed ? `${field}:${word}` : word;
  }
}

const distinct = new DistinctTokens();

/** Where the tokens of a text go: `add` keeps a token unless `full`. */
interface TokenSink {
  add(token: string): void;
  full(): boolean;
}

/** The text length class of a field. */
const lengthToken = (field: string, text: string): string => `${field}:len:${Math.min(9, Math.floor(Math.log2(text.length + 1)))}`;

/** The word tokens of a field (and their `<field>:` copies), in order, until the sink is full. */
function wordTokens(field: string, text: string, sink: TokenSink): void {
  const prefix = field === 'body' ? null : `${field}:`;
  let pairsLeft = UNSPACED.test(text) ? PAIRS_PER_FIELD : 0;
  const add = (token: string) => sink.add(token);
  for (const word of words(text)) {
    if (sink.full()) break;
    if (word.length < 2) continue;
    if (pairsLeft > 0 && UNSPACED.test(word)) {
      pairsLeft = unspacedTokens(word, prefix ? (token) => (add(token), add(prefix + token)) : add, pairsLeft);
      continue;
    }
    const token = wordToken(word);
    add(token);
    if (prefix) add(prefix + token);
  }
}

/**
 * The tokens of a field after its words: linked hosts, e-mail hosts, links, money. `money`
 * false: the caller knows the text holds no currency sign (MONEY cannot match).
 */
function otherTokens(field: string, text: string, sink: TokenSink, money: boolean): void {
  let links = 0;
  // The next `http` and the next `www.` (each searched again only once passed: one search per
  // occurrence, not per link).
  let http = text.indexOf('http');
  let www = text.indexOf('www.');
  while (http !== -1 || www !== -1) {
    const at = http === -1 ? www : www === -1 ? http : Math.min(http, www);
    LINK_HOST.lastIndex = at;
    const match = LINK_HOST.exec(text);
    const from = match === null ? at + 1 : LINK_HOST.lastIndex;
    if (http !== -1 && http < from) http = text.indexOf('http', from);
    if (www !== -1 && www < from) www = text.indexOf('www.', from);
    if (match === null) continue;
    links++;
    for (const domain of parentDomains(match[1]!)) sink.add(`url:${domain}`);
  }
  if (links > 0) sink.add(`${field}:links:${Math.min(links, 5)}`);
  for (let at = text.indexOf('@'); at !== -1; ) {
    EMAIL_HOST.lastIndex = at;
    const match = EMAIL_HOST.exec(text);
    at = text.indexOf('@', match === null ? at + 1 : EMAIL_HOST.lastIndex);
    if (match !== null) for (const domain of parentDomains(match[1]!)) sink.add(`email:${domain}`);
  }
  if (money && MONEY.test(text)) sink.add(`${field}:money`);
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
export function parentDomains(host: string): string[] {
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
