/**
 * Content signals: what the text of an action says about it, as plain facts for rules and as
 * risk points where the policy weighs them. Compiled once per policy (term table, regexes,
 * domain lists); the per-call function is pure and reads at most `maxFieldLength` characters of
 * each field. The store-backed parts (duplicate counts, the model's counts) come in from
 * outside: this module hands out the keys to count (`fingerprint`, `nearKeys`) and takes the
 * model's in-process replica.
 */
import { check, checkSync, type Diagnostics } from 'recheck';
import type { PolicyProblem } from '../errors.js';
import { escape } from '../policy/schema.js';
import { durationProblem, parseDuration } from '../policy/duration.js';
import type { ContentPolicy } from '../policy/types.js';
import { codePointBefore, codePointFlags, MARK_UNIT, UNSPACED_SCRIPTS, UNSPACED_UNIT, WORD_UNIT } from './chars.js';
import { countPhones, emailDomain, findEmails } from './contacts.js';
import { isDisposableDomain, loadDisposableDomains } from './disposable.js';
import { compileDomainLists, type CompiledDomainLists } from './domains.js';
import type { ContentModel, ContentModelOptions } from './model.js';
import { bareHosts, linkedHosts } from './links.js';
import { hash64 } from '../hash.js';
import { AsciiDigest, hexOfLanes, nearKeys, TEXT_WORDS, TEXT_WORDS_MAX } from './near.js';
import { DEFAULT_MAX_FIELD_LENGTH, isAscii, joinSpelledAsciiWords, joinSpelledOut, linkForm, normaliseAscii, normaliseText, words } from './normalise.js';
import { type Shape, unicodeShape } from './shape.js';

export interface ContentHit {
  /** `term:<word>`, `pattern:<id>`, `links`, `domain:<list>`, `phone`, `email`, `uppercase`, `repeats`, `disposable`, `model`. */
  id: string;
  score: number;
  message: string;
}

export interface ContentSignals {
  /** Sum of the scores of `hits`. */
  score: number;
  /** Matched weighted terms (normalised spelling). */
  terms: string[];
  /** Ids of the patterns that matched. */
  patterns: string[];
  links: number;
  /** Linked domains (the host after any user-info), lower case, in ASCII (punycode) form, without `www.`. */
  domains: string[];
  /** Domain lists holding a linked or e-mail domain, in policy order. */
  domainLists: string[];
  /** Phone numbers in the contact fields (0 unless the policy has `contacts`). */
  phones: number;
  /** E-mail addresses in the contact fields, spelled-out ones included (0 unless the policy has `contacts`). */
  emails: number;
  /** An e-mail address in any field read is on a disposable domain (false unless the policy asks for the check). */
  disposable: boolean;
  /** The highest share of upper-case letters of a field with enough letters, 0–1 (0 unless the policy has `uppercase` or `repeats`). */
  uppercase: number;
  /** The longest run of one repeated character, not white space or digits (0 unless the policy has `uppercase` or `repeats`). */
  repeats: number;
  /** Characters of text scanned over every field. */
  length: number;
  /** Fingerprint of the normalised text of every scanned field, `null` when there is no text. */
  fingerprint: string | null;
  /** Near-duplicate band keys (`[]` unless the policy counts near-duplicates). */
  nearKeys: string[];
  /** The model's spam probability, `null` without a model or while it is inert. */
  spamProbability: number | null;
  hits: ContentHit[];
}

/** The model settings of a policy, ready for `createContentModel`. */
export type ContentModelConfig = Required<Pick<ContentModelOptions, 'name' | 'windowMs' | 'minSpam' | 'minHam' | 'buckets' | 'refreshMs' | 'maxFieldLength'>> &
  Pick<ContentModelOptions, 'fields'> & { threshold: number; score: number };

/** What `evaluate` needs of a model: its readiness and a prediction from prepared fields. */
export type ModelReplica = Pick<ContentModel, 'ready' | 'predictFields'>;

export interface CompiledContent {
  readonly duplicates: { windowMs: number; score: number; after: number; near: { bands: number } | null } | null;
  /** The policy's model settings, or null when the policy has no `model`. */
  readonly model: ContentModelConfig | null;
  readonly domainLists: CompiledDomainLists;
  /** Signals of `content`; `model` (the policy's model replica) adds `spamProbability`. */
  evaluate(content: Readonly<Record<string, string>> | undefined, model?: ModelReplica | null): ContentSignals;
}

export interface ContentCompileOptions {
  /** Reads a domain list file (relative to the policy). @default a reader that fails */
  readFile?: (path: string) => string;
  /** Valid but suspicious parts (skipped file lines). */
  warnings?: PolicyProblem[];
}

const DEFAULT_MIN_LETTERS = 20;

/**
 * `http`, `www` or `hxxp` (defanged) anywhere in the text: one regex scan finds whether any is
 * there in half the time of three `includes` scans (~0.2 against ~0.4 µs per KB without one).
 */
const LINK_MARKER = /h(?:tt|xx)p|www/;

const NO_SIGNALS: ContentSignals = Object.freeze({
  score: 0, terms: [], patterns: [], links: 0, domains: [], domainLists: [], phones: 0, emails: 0, disposable: false,
  uppercase: 0, repeats: 0, length: 0, fingerprint: null, nearKeys: [], spamProbability: null, hits: [],
}) as ContentSignals;

/** Compiles the `content` section; `problems` carry JSON pointers under `pointer`. */
export function compileContent(
  policy: ContentPolicy | undefined,
  problems: PolicyProblem[],
  pointer = '/content',
  parseWindow: (text: string) => number | undefined = parseDuration,
  options: ContentCompileOptions = {},
): CompiledContent {
  const maxLength = policy?.maxFieldLength ?? DEFAULT_MAX_FIELD_LENGTH;
  const fields = policy?.fields;
  const terms = compileTerms(policy?.terms ?? {}, options.warnings ?? [], `${pointer}/terms`);
  const patterns = (policy?.patterns ?? []).flatMap((pattern, index) => {
    const flags = patternFlags(pattern.flags);
    let regex: RegExp;
    try {
      regex = new RegExp(pattern.regex, flags);
    } catch (error) {
      problems.push({ pointer: `${pointer}/patterns/${index}/regex`, message: `not a valid regular expression: ${(error as Error).message}` });
      return [];
    }
    const hazard = backtrackingHazard(pattern.regex, flags);
    if (hazard) {
      problems.push({ pointer: `${pointer}/patterns/${index}/regex`, message: `pattern "${pattern.id}" ${hazard}` });
      return [];
    }
    return [{ id: pattern.id, field: pattern.field, regex, score: pattern.score }];
  });
  const maxLinks = policy?.maxLinks;
  const linkScore = policy?.linkScore ?? 10;
  const domainLists = compileDomainLists(
    policy?.domains ?? {},
    { readFile: options.readFile ?? ((path) => { throw new Error(`no file reader to read ${path}`); }) },
    problems,
    options.warnings ?? [],
    `${pointer}/domains`,
  );
  // Each signal is computed only when the policy has its section: a policy pays for what it uses.
  const contacts = policy?.contacts;
  const contactFields = contacts?.fields;
  const contactScores = { phone: policy?.contacts?.phone ?? 0, email: policy?.contacts?.email ?? 0 };
  const uppercase = policy?.uppercase;
  const minLetters = uppercase?.minLetters ?? DEFAULT_MIN_LETTERS;
  const repeats = policy?.repeats;
  const disposable = policy?.disposable;
  if (disposable) loadDisposableDomains();
  const needEmails = contacts !== undefined || disposable !== undefined || domainLists.size > 0;
  const needShape = uppercase !== undefined || repeats !== undefined;
  if (policy?.duplicates && parseWindow(policy.duplicates.window) === undefined) {
    problems.push({ pointer: `${pointer}/duplicates/window`, message: durationProblem(policy.duplicates.window) });
  }
  const duplicates = policy?.duplicates
    ? {
        windowMs: parseWindow(policy.duplicates.window) ?? 0,
        score: policy.duplicates.score,
        after: policy.duplicates.after ?? 1,
        near: policy.duplicates.near ? { bands: policy.duplicates.near.bands ?? 3 } : null,
      }
    : null;
  const model = compileModel(policy, pointer, problems, parseWindow);
  const bands = duplicates?.near ? duplicates.near.bands : null;
  const digest = new AsciiDigest();

  function evaluate(content: Readonly<Record<string, string>> | undefined, replica?: ModelReplica | null): ContentSignals {
    if (!content) return NO_SIGNALS;
    const names = fields ?? Object.keys(content);
    const hits: ContentHit[] = [];
    const matchedTerms = new Set<string>();
    const matchedPatterns = new Set<string>();
    const domains = new Set<string>();
    const prepared: [string, string][] = [];
    const texts: string[] = [];
    const addresses: string[] = [];
    let links = 0;
    let length = 0;
    let phones = 0;
    let emails = 0;
    let upper = 0;
    let longestRun = 0;
    let allAscii = true;
    digest.reset(bands);

    for (const field of names) {
      const raw = Object.hasOwn(content, field) ? content[field] : undefined;
      if (typeof raw !== 'string' || raw.length === 0) continue;
      const bounded = raw.length > maxLength ? raw.slice(0, maxLength) : raw;
      // The shape reads the raw text, and on the way tells whether it is ASCII and, if so, what
      // normalising will find (shape.ts AsciiFacts): the passes after it can skip their scans.
      // Raw ASCII text is read once for its shape and its digest (`addShaped`), which is the
      // digest of the normalised text.
      let shape: Shape | null = null;
      let digested = -1; // the words of the text, when the digest holds it already
      if (needShape) {
        shape = digest.addShaped(bounded);
        if (shape === null) shape = unicodeShape(bounded); // textShape of text that is not ASCII
        else if (digest.normalised) digested = digest.count;
        else digest.undo();
      }
      const facts = shape?.ascii ?? null;
      // Normalised text is ASCII when its input was (and Unicode folding makes most text ASCII):
      // one ASCII test of the input decides both the way to normalise and, mostly, the answer.
      const asciiInput = shape ? facts !== null : isAscii(bounded);
      // Digested text whose only white space to normalise ends it is the rest lower-cased: no
      // regex over it for white space to collapse.
      const text = !asciiInput
        ? normaliseText(bounded, maxLength)
        : digested >= 0 && facts!.spaces && !digest.collapsed
          ? normaliseAscii(bounded.slice(0, digest.normalisedLength), false)
          : normaliseAscii(bounded, facts?.spaces ?? true);
      const ascii = asciiInput || isAscii(text);
      allAscii &&= ascii;
      let joined = text;
      if (ascii && text.length > 0) {
        joined = readAscii(text, digested, digest, terms, matchedTerms);
      } else if (text.length > 0) {
        joined = joinSpelledOut(text, ascii);
        if (terms.size > 0) matchTerms(joined, ascii, terms, matchedTerms);
      }
      length += bounded.length;
      prepared.push([field, joined]);
      // A field that normalises to nothing (white space, invisible characters) is no text: it
      // stays out of the fingerprint, so blank submissions share no fingerprint (`null`, not
      // counted as copies of each other) and a blank field does not make a copy a new text.
      if (joined.length > 0) texts.push(joined);
      for (const pattern of patterns) {
        if ((pattern.field === undefined || pattern.field === field) && !matchedPatterns.has(pattern.id) && pattern.regex.test(text)) {
          matchedPatterns.add(pattern.id);
          hits.push({ id: `pattern:${pattern.id}`, score: pattern.score, message: `content matches ${pattern.id}${pattern.field ? ` in ${pattern.field}` : ''}` });
        }
      }
      // The link scan is the costliest regex; most ads have no link marker at all. Text that is
      // not plain ASCII is read in its link form, where internationalised hosts keep their letters.
      if (LINK_MARKER.test(text)) {
        for (const host of linkedHosts(asciiInput ? text : linkForm(bounded, maxLength), asciiInput)) {
          links++;
          domains.add(host);
        }
      }
      // Links without a scheme or `www.` (`example.com/x`) and defanged ones (`example[.]com`).
      for (const host of bareHosts(text)) {
        links++;
        domains.add(host);
      }
      if (needEmails) {
        const found = findEmails(text, ascii);
        addresses.push(...found);
        if (contacts && (contactFields === undefined || contactFields.includes(field))) {
          phones += countPhones(text, facts?.digits);
          emails += found.length;
        }
      }
      if (shape) {
        if (shape.letters >= minLetters) upper = Math.max(upper, shape.upper / shape.letters);
        longestRun = Math.max(longestRun, shape.longestRun);
      }
    }
    for (const term of matchedTerms) {
      hits.push({ id: `term:${term}`, score: terms.scores.get(term)!, message: `content contains "${term}"` });
    }
    if (maxLinks !== undefined && links > maxLinks) {
      hits.push({ id: 'links', score: (links - maxLinks) * linkScore, message: `${links} links (more than ${maxLinks})` });
    }
    const emailDomains = addresses.map(emailDomain);
    const listed = domainLists.size > 0 ? domainLists.match([...domains, ...emailDomains]) : [];
    for (const list of listed) {
      if (list.score) hits.push({ id: `domain:${list.id}`, score: list.score, message: list.reason ?? `links to a domain on ${list.id}` });
    }
    if (phones > 0 && contactScores.phone) hits.push({ id: 'phone', score: contactScores.phone, message: `${phones} phone number(s) in the text` });
    if (emails > 0 && contactScores.email) hits.push({ id: 'email', score: contactScores.email, message: `${emails} e-mail address(es) in the text` });
    const isDisposable = disposable !== undefined && emailDomains.some(isDisposableDomain);
    if (isDisposable && disposable.score) hits.push({ id: 'disposable', score: disposable.score, message: 'e-mail address on a disposable domain' });
    if (uppercase && upper >= uppercase.ratio) hits.push({ id: 'uppercase', score: uppercase.score, message: `${Math.round(upper * 100)}% upper case` });
    if (repeats && longestRun >= repeats.min) hits.push({ id: 'repeats', score: repeats.score, message: `a character repeated ${longestRun} times in a row` });

    // Fingerprint and near-duplicate keys of the texts joined by "\n": for ASCII, what the digest
    // read of each text on the way; no joined copy.
    let print: string | null = null;
    let near: string[] = [];
    if (texts.length > 0 && allAscii) {
      print = digest.fingerprint();
      if (bands !== null) near = digest.nearKeys(bands);
    } else if (texts.length > 0) {
      const all = texts.join('\n');
      print = fingerprint(all);
      if (bands !== null) near = nearKeys(all, bands, false);
    }
    const spamProbability = replica?.ready && prepared.length > 0 ? replica.predictFields(prepared) : null;
    if (model && model.score && spamProbability !== null && spamProbability >= model.threshold) {
      hits.push({ id: 'model', score: model.score, message: `the content model rates it ${Math.round(spamProbability * 100)}% spam` });
    }
    let score = 0;
    for (const hit of hits) score += hit.score;
    return {
      score,
      terms: [...matchedTerms],
      patterns: [...matchedPatterns],
      links,
      domains: [...domains],
      domainLists: listed.map((list) => list.id),
      phones,
      emails,
      disposable: isDisposable,
      uppercase: Math.round(upper * 1000) / 1000,
      repeats: longestRun,
      length,
      fingerprint: print,
      nearKeys: near,
      spamProbability,
      hits,
    };
  }

  return { duplicates, model, domainLists, evaluate };
}

function compileModel(policy: ContentPolicy | undefined, pointer: string, problems: PolicyProblem[], parseWindow: (text: string) => number | undefined): ContentModelConfig | null {
  const model = policy?.model;
  if (!model) return null;
  const windowMs = parseWindow(model.window ?? '180d') ?? 0;
  const refreshMs = parseWindow(model.refresh ?? '1m') ?? 0;
  if (windowMs < 60_000) problems.push({ pointer: `${pointer}/model/window`, message: `must be at least 1m, got ${JSON.stringify(model.window)}` });
  if (refreshMs <= 0) problems.push({ pointer: `${pointer}/model/refresh`, message: `must be a positive duration, got ${JSON.stringify(model.refresh)}` });
  return Object.freeze({
    name: model.name ?? 'default',
    windowMs,
    minSpam: model.minSpam ?? 200,
    minHam: model.minHam ?? 200,
    buckets: model.buckets ?? 65_536,
    refreshMs,
    maxFieldLength: policy?.maxFieldLength ?? DEFAULT_MAX_FIELD_LENGTH,
    ...(policy?.fields ? { fields: Object.freeze([...policy.fields]) } : {}),
    threshold: model.threshold ?? 0.9,
    score: model.score ?? 0,
  });
}

const hazards = new Map<string, string | null>();

/**
 * Why a policy regex is unsafe to run on attacker text, or null. recheck proves the absence of
 * catastrophic backtracking (exponential or polynomial); a pattern it cannot prove safe in time
 * is refused too, because content fields are up to 64 KB of hostile input. Verdicts are
 * remembered per pattern: the analysis can take a few hundred milliseconds, and policies are
 * recompiled.
 */
function backtrackingHazard(source: string, flags: string): string | null {
  const key = `${flags}/${source}`;
  if (hazards.has(key)) return hazards.get(key)!;
  return remember(key, checkSync(source, flags, RECHECK));
}

/** How long recheck may take to prove one pattern safe. */
const RECHECK = { timeout: 5_000 } as const;

/** A pattern's flags as compiled: `g` and `y` (stateful matching) dropped. */
const patternFlags = (flags: string | undefined): string => (flags ?? '').replace(/[gy]/g, '');

/**
 * Proves the content patterns of a policy document off the event loop (recheck's own binary or
 * worker, asynchronously) and remembers the verdicts, so that compiling the document right after
 * waits on none of them: a proof can take a second or two, and `loadPolicy` runs inside a serving
 * process on every hot reload. Best effort: whatever it cannot read or check is left to the
 * compile, which reports it.
 */
export async function proveContentPatterns(document: unknown): Promise<void> {
  const content = typeof document === 'object' && document !== null ? (document as { content?: unknown }).content : undefined;
  const patterns = typeof content === 'object' && content !== null ? (content as { patterns?: unknown }).patterns : undefined;
  if (!Array.isArray(patterns)) return;
  for (const pattern of patterns.slice(0, MAX_PATTERNS)) {
    const { regex: source, flags: given } = (typeof pattern === 'object' && pattern !== null ? pattern : {}) as { regex?: unknown; flags?: unknown };
    if (typeof source !== 'string' || (given !== undefined && typeof given !== 'string')) continue;
    const flags = patternFlags(given);
    const key = `${flags}/${source}`;
    if (hazards.has(key)) continue;
    try {
      new RegExp(source, flags); // an invalid one is the compile's to report
      remember(key, await check(source, flags, RECHECK));
    } catch {
      // Left to the compile's synchronous check.
    }
  }
}

/** Patterns a policy may carry (the schema's maximum). */
const MAX_PATTERNS = 1_000;

/** The hazard of a recheck verdict, remembered unless it is no verdict (a timeout). */
function remember(key: string, diagnosis: Diagnostics): string | null {
  const hazard =
    diagnosis.status === 'safe'
      ? null
      : diagnosis.status === 'vulnerable'
        ? `can backtrack catastrophically (${diagnosis.complexity.type}): an input like ${JSON.stringify(diagnosis.attack.pattern).slice(0, 80)} would hang matching; rewrite it without nested or overlapping repetition`
        : `could not be proven free of catastrophic backtracking (${diagnosis.error.kind}); simplify it`;
  // Running out of time is no verdict (a busy machine, a slow pattern): remembered, it would
  // refuse the pattern on every reload until the process restarts.
  if (diagnosis.status === 'unknown' && (diagnosis.error.kind === 'timeout' || diagnosis.error.kind === 'cancel')) return hazard;
  if (hazards.size >= 10_000) hazards.clear(); // a memo, not a store: keep it bounded
  hazards.set(key, hazard);
  return hazard;
}

interface TermTable {
  /** Every term, for text that is not plain ASCII. */
  unicode: RegExp | null;
  /** The ASCII terms between ASCII non-alphanumerics: about 3× faster on the usual ASCII text. */
  ascii: RegExp | null;
  /** Score by the term's normalised spelling (words joined by one space). */
  scores: Map<string, number>;
  size: number;
  /** The ASCII terms by the hash of their first word (`wordHash`), most words first: `matchTermWords`. */
  byFirstWord: Map<number, AsciiTerm[]>;
  /** Whether a term may start with a word of hash `h`: 1 at `h >>> 22` for each first word of `byFirstWord`. */
  firstWords: Uint8Array;
}

/** An ASCII term as words, for `matchTermWords`. */
interface AsciiTerm {
  key: string;
  words: string[];
  hashes: number[];
}

/** FNV-1a of a word, as near.ts hashes the words of a text (`TEXT_WORDS`). */
function wordHash(word: string): number {
  let h = -2128831035;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193);
  return h;
}

/**
 * What may not touch a term in text that is not plain ASCII, for the term to be a whole word: a
 * digit or a letter of a script that puts spaces between words, on either side, and after it a
 * mark too (the term would end inside a letter: `लो` is no word of `लोन`). Before it, a mark is
 * told apart by the letter it is on (`afterWordMarks`): `ता` is no word of `सस्ता`, but Chinese,
 * Japanese, Thai and the other unspaced scripts put no spaces between words, and Korean attaches
 * particles to its words, so a term there matches inside a run of such letters, after a letter
 * with marks too (`ที่เงินกู้` holds `เงินกู้`). A word of another script next to them
 * (`線上casino網站`) is a word of its own.
 */
const WORD_BEFORE = `\\p{N}|[^\\P{L}${UNSPACED_SCRIPTS}]`;
const WORD_AFTER = `[\\p{N}\\p{M}]|[^\\P{L}${UNSPACED_SCRIPTS}]`;

// A term that starts or ends with something other than a letter, mark or digit.
const EDGE_SYMBOL = /^[^\p{L}\p{M}\p{N}]|[^\p{L}\p{M}\p{N}]$/u;
const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Terms are normalised like the text, so a policy's "Viagra" matches a disguised "ѵіаgrа" or
 * "v.i.a.g.r.a". They compile into one alternation matched on whole words; the words of a
 * multi-word term may be separated by any non-letters ("free, money").
 */
function compileTerms(terms: Readonly<Record<string, number>>, warnings: PolicyProblem[], pointer: string): TermTable {
  const scores = new Map<string, number>();
  const unicode: string[] = [];
  const ascii: string[] = [];
  const byFirstWord = new Map<number, AsciiTerm[]>();
  const firstWords = new Uint8Array(1024);
  for (const [raw, score] of Object.entries(terms)) {
    const normalised = normaliseText(raw);
    const parts = words(normalised);
    if (parts.length === 0) {
      // "💊" or "$$$": valid JSON, and silently inert without this warning.
      warnings.push({ pointer: `${pointer}/${escape(raw)}`, message: `term ${JSON.stringify(raw)} has no letters or digits, and terms match whole words: it can never match (use a pattern)` });
      continue;
    }
    const key = parts.join(' ');
    if (EDGE_SYMBOL.test(normalised)) {
      // "18+" is the word 18, "c++" the letter c: a term wider than the operator meant.
      warnings.push({ pointer: `${pointer}/${escape(raw)}`, message: `term ${JSON.stringify(raw)} matches the whole word(s) ${JSON.stringify(key)}: terms are words of letters, marks and digits, so the characters around them are ignored (use a pattern)` });
    }
    if (!scores.has(key)) {
      unicode.push(parts.map(escapeRegex).join('[^\\p{L}\\p{M}\\p{N}]+'));
      if (/^[a-z0-9 ]+$/.test(key)) {
        ascii.push(parts.map(escapeRegex).join('[^a-z0-9]+'));
        const hashes = parts.map(wordHash);
        const candidates = byFirstWord.get(hashes[0]!) ?? [];
        candidates.push({ key, words: parts, hashes });
        candidates.sort((a, b) => b.words.length - a.words.length);
        byFirstWord.set(hashes[0]!, candidates);
        firstWords[hashes[0]! >>> 22] = 1;
      }
    }
    scores.set(key, score);
  }
  // Longest first, so "free money" wins over a term "free" at the same position.
  const byLength = (a: string, b: string) => b.length - a.length;
  return {
    unicode: unicode.length > 0 ? new RegExp(`(?<!${WORD_BEFORE})(?:${unicode.sort(byLength).join('|')})(?!${WORD_AFTER})`, 'gu') : null,
    // \b counts `_` as a word character, so matchTerms reads `_` as a space: `best_casino_online`
    // holds the word casino. (Lookarounds for [a-z0-9] instead of \b cost 75% more time here.)
    ascii: ascii.length > 0 ? new RegExp(`\\b(?:${ascii.sort(byLength).join('|')})\\b`, 'g') : null,
    scores,
    size: scores.size,
    byFirstWord,
    firstWords,
  };
}

/**
 * The joined form (`joinSpelledOut`) of normalised plain ASCII text, with its terms added to
 * `matched`, and hashed into `digest`: one pass over the characters (`AsciiDigest.add`, unless
 * `digested`, the count of its words, says `addShaped` has just added it) hashes the text for the
 * fingerprint and near-duplicate keys and finds its words, from which spelled-out runs and terms
 * are read (near.ts `TEXT_WORDS`) instead of by two regexes over the text again. Text with
 * spelled-out words joined is hashed again, in place of the first.
 */
function readAscii(text: string, digested: number, digest: AsciiDigest, terms: TermTable, matched: Set<string>): string {
  let count = digested >= 0 ? digested : digest.add(text);
  // Text without two words of one character in a row holds no spelled-out run (`lonePair`, found
  // by the digest's loop): most ads, spared a pass over their words.
  const joined = digest.lonePair ? joinSpelledAsciiWords(text, count, Math.min(count, TEXT_WORDS_MAX), TEXT_WORDS.ends) : text;
  if (joined !== text) {
    digest.undo();
    count = digest.add(joined);
  }
  if (terms.ascii !== null) {
    if (count <= TEXT_WORDS_MAX) matchTermWords(joined, count, terms, matched);
    else matchTerms(joined, true, terms, matched);
  }
  return joined;
}

function matchTerms(text: string, ascii: boolean, table: TermTable, matched: Set<string>): void {
  const regex = ascii ? table.ascii : table.unicode;
  if (!regex) return;
  // Lower-case ASCII text without `_` has no word character but [a-z0-9]: there \b is a word edge.
  if (ascii && text.includes('_')) text = text.replaceAll('_', ' ');
  // An exec loop on the table's own regex rather than matchAll, which clones the regex on every
  // call. A term never matches empty text, and exec leaves lastIndex at 0 once it finds no more.
  regex.lastIndex = 0;
  for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
    if (!ascii && afterWordMarks(text, match.index)) {
      // A term may still start further on: past the whole first character (with the u flag, an
      // index inside a surrogate pair would be read as the pair's start, and find this match again).
      regex.lastIndex = match.index + (match[0].codePointAt(0)! > 0xffff ? 2 : 1);
      continue;
    }
    matched.add(words(match[0]).join(' '));
  }
}

/**
 * `matchTerms` of normalised plain ASCII text, read from its words (near.ts `TEXT_WORDS`, all
 * `count` of them recorded) instead of the ASCII regex. There a term's words are whole words in a
 * row: \b, and `[^a-z0-9]+` between them, in text whose only word characters are a–z, 0–9 and
 * `_`, read as a space (normalised text is lower case: an upper-case letter would be a word
 * character to \b and none to the words here). The regex takes the leftmost match, of the
 * alternative with the most words where several start at one word (longest first: a term's
 * pattern is longer than that of any term of fewer of its words), then goes on after it. The same
 * here, a word at a time: a word whose hash starts no term costs one table read.
 */
function matchTermWords(text: string, count: number, table: TermTable, matched: Set<string>): void {
  const { ends, hashes, first } = TEXT_WORDS;
  const filter = table.firstWords;
  for (let i = 0; i < count; ) {
    const hash = hashes[first + i]!;
    const candidates = filter[hash >>> 22] === 0 ? undefined : table.byFirstWord.get(hash);
    const term = candidates === undefined ? undefined : termAt(text, i, count, candidates, ends, hashes, first);
    if (term === undefined) {
      i++;
    } else {
      matched.add(term.key);
      i += term.words.length;
    }
  }
}

/** The first of `candidates` whose words are the text's words from the `i`-th on. */
function termAt(text: string, i: number, count: number, candidates: readonly AsciiTerm[], ends: Int32Array, hashes: Int32Array, first: number): AsciiTerm | undefined {
  next: for (const term of candidates) {
    if (i + term.words.length > count) continue;
    for (let k = 0; k < term.words.length; k++) {
      const word = term.words[k]!;
      // The word is `word` when the text ends with it there, after a character that is no letter or digit.
      const start = ends[i + k]! - word.length;
      if (hashes[first + i + k] !== term.hashes[k] || start < 0 || !text.startsWith(word, start) || (start > 0 && isAsciiWordChar(text.charCodeAt(start - 1)))) continue next;
    }
    return term;
  }
  return undefined;
}

const isAsciiWordChar = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 48 && c <= 57);

/**
 * Whether the text just before `i` is marks on a letter or digit that continues a word (not one
 * of an unspaced script): then a term at `i` starts inside that word. Checked per match rather
 * than in the regex, where a look back over marks cost two thirds more time on every 64 KB of
 * Cyrillic; matches are few. Linear: the next match starts after a rejected one, so no mark is
 * walked over twice.
 */
function afterWordMarks(text: string, start: number): boolean {
  let marks = 0;
  for (let i = start; i > 0; ) {
    const codePoint = codePointBefore(text, i);
    const flags = codePointFlags(codePoint);
    i -= codePoint > 0xffff ? 2 : 1;
    if ((flags & MARK_UNIT) !== 0) marks++;
    else return marks > 0 && (flags & WORD_UNIT) !== 0 && (flags & UNSPACED_UNIT) === 0;
  }
  return false; // marks on nothing, or none
}

/**
 * A 64-bit fingerprint of the text as 16 hex digits: two independent 32-bit multiply-xorshift
 * lanes (cyrb53's mixing). Cheap on the hot path, stable across processes and versions of Node;
 * not cryptographic, which duplicate counting does not need.
 */
export function fingerprint(text: string): string {
  // AsciiDigest (near.ts) computes the same over several texts, a text at a time: keep the two in step.
  hash64(text, LANES);
  return hexOfLanes(LANES);
}
/** Scratch lanes for `fingerprint` (synchronous). */
const LANES = new Int32Array(2);
