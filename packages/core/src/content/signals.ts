/**
 * Content signals: what the text of an action says about it, as plain facts for rules and as
 * risk points where the policy weighs them. Compiled once per policy (term table, regexes);
 * the per-call function is pure and reads at most `maxFieldLength` characters of each field.
 */
import { checkSync } from 'recheck';
import type { PolicyProblem } from '../errors.js';
import type { ContentPolicy } from '../policy/types.js';
import { DEFAULT_MAX_FIELD_LENGTH, isAscii, normaliseText, words } from './normalise.js';

export interface ContentHit {
  /** `term:<word>`, `pattern:<id>`, `links`. */
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
  /** Linked domains, lower case, without `www.`. */
  domains: string[];
  /** Characters of text scanned over every field. */
  length: number;
  /** Fingerprint of the normalised text of every scanned field, `null` when there is no text. */
  fingerprint: string | null;
  hits: ContentHit[];
}

export interface CompiledContent {
  readonly duplicates: { windowMs: number; score: number; after: number } | null;
  evaluate(content: Readonly<Record<string, string>> | undefined): ContentSignals;
}

const LINK = /\b(?:https?:\/\/|www\.)([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)*)/g;

const NO_SIGNALS: ContentSignals = Object.freeze({
  score: 0, terms: [], patterns: [], links: 0, domains: [], length: 0, fingerprint: null, hits: [],
}) as ContentSignals;

/** Compiles the `content` section; `problems` carry JSON pointers under `pointer`. */
export function compileContent(
  policy: ContentPolicy | undefined,
  problems: PolicyProblem[],
  pointer = '/content',
  parseWindow: (text: string) => number | undefined = () => undefined,
): CompiledContent {
  const maxLength = policy?.maxFieldLength ?? DEFAULT_MAX_FIELD_LENGTH;
  const fields = policy?.fields;
  const terms = compileTerms(policy?.terms ?? {});
  const patterns = (policy?.patterns ?? []).flatMap((pattern, index) => {
    const flags = (pattern.flags ?? '').replace(/[gy]/g, '');
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
  const duplicates = policy?.duplicates
    ? { windowMs: parseWindow(policy.duplicates.window) ?? 0, score: policy.duplicates.score, after: policy.duplicates.after ?? 1 }
    : null;

  function evaluate(content: Readonly<Record<string, string>> | undefined): ContentSignals {
    if (!content) return NO_SIGNALS;
    const names = fields ?? Object.keys(content);
    const hits: ContentHit[] = [];
    const matchedTerms = new Set<string>();
    const matchedPatterns = new Set<string>();
    const domains = new Set<string>();
    const texts: string[] = [];
    let links = 0;
    let length = 0;

    for (const field of names) {
      const raw = Object.hasOwn(content, field) ? content[field] : undefined;
      if (typeof raw !== 'string' || raw.length === 0) continue;
      const text = normaliseText(raw, maxLength);
      length += Math.min(raw.length, maxLength);
      texts.push(text);
      if (terms.size > 0) matchTerms(text, terms, matchedTerms);
      for (const pattern of patterns) {
        if ((pattern.field === undefined || pattern.field === field) && !matchedPatterns.has(pattern.id) && pattern.regex.test(text)) {
          matchedPatterns.add(pattern.id);
          hits.push({ id: `pattern:${pattern.id}`, score: pattern.score, message: `content matches ${pattern.id}${pattern.field ? ` in ${pattern.field}` : ''}` });
        }
      }
      // The link scan is the costliest regex; most ads have no link marker at all.
      if (text.includes('http') || text.includes('www.')) for (const match of text.matchAll(LINK)) {
        links++;
        domains.add(match[1]!.replace(/^www\./, ''));
      }
    }
    for (const term of matchedTerms) {
      hits.push({ id: `term:${term}`, score: terms.scores.get(term)!, message: `content contains "${term}"` });
    }
    if (maxLinks !== undefined && links > maxLinks) {
      hits.push({ id: 'links', score: (links - maxLinks) * linkScore, message: `${links} links (more than ${maxLinks})` });
    }
    let score = 0;
    for (const hit of hits) score += hit.score;
    return {
      score,
      terms: [...matchedTerms],
      patterns: [...matchedPatterns],
      links,
      domains: [...domains],
      length,
      fingerprint: texts.length > 0 ? fingerprint(texts.join('\n')) : null,
      hits,
    };
  }

  return { duplicates, evaluate };
}

const hazards = new Map<string, string | null>();

/**
 * Why a policy regex is unsafe to run on attacker text, or null. recheck proves the absence of
 * catastrophic backtracking (exponential or polynomial); a pattern it cannot prove safe in time
 * is refused too, because content fields are up to 64 KB of hostile input. Remembered per
 * pattern: the analysis can take a few hundred milliseconds, and policies are recompiled.
 */
function backtrackingHazard(source: string, flags: string): string | null {
  const key = `${flags}/${source}`;
  if (hazards.has(key)) return hazards.get(key)!;
  const diagnosis = checkSync(source, flags, { timeout: 5_000 });
  const hazard =
    diagnosis.status === 'safe'
      ? null
      : diagnosis.status === 'vulnerable'
        ? `can backtrack catastrophically (${diagnosis.complexity.type}): an input like ${JSON.stringify(diagnosis.attack.pattern).slice(0, 80)} would hang matching; rewrite it without nested or overlapping repetition`
        : `could not be proven free of catastrophic backtracking (${diagnosis.error.kind}); simplify it`;
  if (hazards.size >= 10_000) hazards.clear(); // a memo, not a store: keep it bounded
  hazards.set(key, hazard);
  return hazard;
}

interface TermTable {
  /** Every term, for text that is not plain ASCII. */
  unicode: RegExp | null;
  /** The ASCII terms with ASCII word boundaries: about 3× faster on the usual ASCII text. */
  ascii: RegExp | null;
  /** Score by the term's normalised spelling (words joined by one space). */
  scores: Map<string, number>;
  size: number;
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Terms are normalised like the text, so a policy's "Viagra" matches a disguised "ѵіаgrа". They
 * compile into one alternation matched on whole words; the words of a multi-word term may be
 * separated by any non-letters ("free, money").
 */
function compileTerms(terms: Readonly<Record<string, number>>): TermTable {
  const scores = new Map<string, number>();
  const unicode: string[] = [];
  const ascii: string[] = [];
  for (const [raw, score] of Object.entries(terms)) {
    const parts = words(normaliseText(raw));
    if (parts.length === 0) continue;
    const key = parts.join(' ');
    if (!scores.has(key)) {
      unicode.push(parts.map(escapeRegex).join('[^\\p{L}\\p{N}]+'));
      if (/^[a-z0-9 ]+$/.test(key)) ascii.push(parts.map(escapeRegex).join('[^a-z0-9]+'));
    }
    scores.set(key, score);
  }
  // Longest first, so "free money" wins over a term "free" at the same position.
  const byLength = (a: string, b: string) => b.length - a.length;
  return {
    unicode: unicode.length > 0 ? new RegExp(`(?<![\\p{L}\\p{N}])(?:${unicode.sort(byLength).join('|')})(?![\\p{L}\\p{N}])`, 'gu') : null,
    ascii: ascii.length > 0 ? new RegExp(`\\b(?:${ascii.sort(byLength).join('|')})\\b`, 'g') : null,
    scores,
    size: scores.size,
  };
}

function matchTerms(text: string, table: TermTable, matched: Set<string>): void {
  const regex = isAscii(text) ? table.ascii : table.unicode;
  if (!regex) return;
  for (const match of text.matchAll(regex)) matched.add(words(match[0]).join(' '));
}

/**
 * A 64-bit fingerprint of the text as 16 hex digits: two independent 32-bit multiply-xorshift
 * lanes (cyrb53's mixing). Cheap on the hot path, stable across processes and versions of Node;
 * not cryptographic, which duplicate counting does not need.
 */
export function fingerprint(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0');
}
