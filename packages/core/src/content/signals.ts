/**
 * Content signals: what the text of an action says about it, as plain facts for rules and as
 * risk points where the policy weighs them. Compiled once per policy (term table, regexes);
 * the per-call function is pure and reads at most `maxFieldLength` characters of each field.
 */
import type { PolicyProblem } from '../errors.js';
import type { ContentPolicy } from '../policy/types.js';
import { DEFAULT_MAX_FIELD_LENGTH, normaliseText, words } from './normalise.js';

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
    try {
      const regex = new RegExp(pattern.regex, (pattern.flags ?? '').replace(/[gy]/g, ''));
      return [{ id: pattern.id, field: pattern.field, regex, score: pattern.score }];
    } catch (error) {
      problems.push({ pointer: `${pointer}/patterns/${index}/regex`, message: `not a valid regular expression: ${(error as Error).message}` });
      return [];
    }
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
      for (const match of text.matchAll(LINK)) {
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

interface TermTable {
  /** Terms by their first normalised word: each entry is the whole term's words. */
  byFirst: Map<string, string[][]>;
  /** Score by the term's normalised spelling (words joined by one space). */
  scores: Map<string, number>;
  size: number;
}

/** Terms are normalised like the text, so a policy's "Viagra" matches a disguised "ѵіаgrа". */
function compileTerms(terms: Readonly<Record<string, number>>): TermTable {
  const byFirst = new Map<string, string[][]>();
  const scores = new Map<string, number>();
  for (const [raw, score] of Object.entries(terms)) {
    const parts = words(normaliseText(raw));
    if (parts.length === 0) continue;
    scores.set(parts.join(' '), score);
    const list = byFirst.get(parts[0]!) ?? [];
    list.push(parts);
    byFirst.set(parts[0]!, list);
  }
  return { byFirst, scores, size: scores.size };
}

function matchTerms(text: string, table: TermTable, matched: Set<string>): void {
  const tokens = words(text);
  for (let i = 0; i < tokens.length; i++) {
    const candidates = table.byFirst.get(tokens[i]!);
    if (!candidates) continue;
    for (const parts of candidates) {
      if (parts.every((word, k) => tokens[i + k] === word)) matched.add(parts.join(' '));
    }
  }
}

/** 64-bit FNV-1a of the text, as 16 hex digits: cheap, stable across processes, no crypto needed. */
export function fingerprint(text: string): string {
  let h1 = 0x84222325;
  let h2 = 0xcbf29ce4;
  for (let i = 0; i < text.length; i++) {
    h1 ^= text.charCodeAt(i);
    // 64-bit multiply by the FNV prime 0x100000001b3, split into 32-bit halves.
    const lo = Math.imul(h1, 0x1b3);
    const carry = Math.floor(((h1 >>> 0) * 0x1b3) / 0x100000000);
    h2 = (Math.imul(h2, 0x1b3) + Math.imul(h1, 0x100) + carry) >>> 0;
    h1 = lo >>> 0;
  }
  return h2.toString(16).padStart(8, '0') + h1.toString(16).padStart(8, '0');
}
