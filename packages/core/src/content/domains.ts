/**
 * Domain lists, the content counterpart of IP lists: named sets of domains (inline or from
 * files) that the linked domains and e-mail domains of an action are matched against. An entry
 * matches itself and every subdomain (`bit.ly` matches `bit.ly` and `x.bit.ly`, never
 * `notbit.ly`), so listing a registrable domain covers every host under it. A lookup walks the
 * labels of the domain: a handful of Map lookups, whatever the size of the lists.
 *
 * Files: one domain a line, `#` and `;` comments, `*.` or `.` prefixes allowed, and hosts-file
 * lines (`0.0.0.0 example.com`) as published by most domain blocklists. Inline entries are the
 * operator's own words, so a bad one fails the policy; a bad file line is a warning.
 */
import { domainToASCII } from 'node:url';
import type { PolicyProblem } from '../errors.js';
import type { DomainListPolicy } from '../policy/types.js';
import { escape } from '../policy/schema.js';

export interface DomainListMeta {
  readonly id: string;
  readonly score: number | undefined;
  readonly reason: string | undefined;
}

export interface CompiledDomainLists {
  readonly ids: readonly string[];
  /** Entries over every list. */
  readonly size: number;
  /** The lists holding any of `domains` (or a parent of one), in policy order. */
  match(domains: Iterable<string>): DomainListMeta[];
}

const HOSTS_LINE = /^(?:0\.0\.0\.0|127\.0\.0\.1|::1?)\s+/;
const DOMAIN = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** A list entry in canonical form (ASCII, lower case, no wildcard or final dot), or null. */
export function canonicalDomain(entry: string): string | null {
  let text = entry.trim().toLowerCase().replace(HOSTS_LINE, '');
  if (text.startsWith('*.')) text = text.slice(2);
  else if (text.startsWith('.')) text = text.slice(1);
  if (text.endsWith('.')) text = text.slice(0, -1);
  const ascii = /^[\x21-\x7e]+$/.test(text) ? text : domainToASCII(text);
  return DOMAIN.test(ascii) ? ascii : null;
}

export function compileDomainLists(
  lists: Readonly<Record<string, DomainListPolicy>>,
  io: { readFile: (path: string) => string },
  problems: PolicyProblem[],
  warnings: PolicyProblem[],
  pointer = '/content/domains',
): CompiledDomainLists {
  const metas: DomainListMeta[] = [];
  const entries = new Map<string, number[]>();
  let size = 0;
  const add = (domain: string, index: number) => {
    const at = entries.get(domain);
    if (!at) entries.set(domain, [index]);
    else if (!at.includes(index)) at.push(index);
    size++;
  };
  for (const [id, list] of Object.entries(lists)) {
    const index = metas.length;
    const at = `${pointer}/${escape(id)}`;
    metas.push(Object.freeze({ id, score: list.score, reason: list.reason }));
    (list.domains ?? []).forEach((entry, i) => {
      const domain = canonicalDomain(entry);
      if (domain) add(domain, index);
      else problems.push({ pointer: `${at}/domains/${i}`, message: `${JSON.stringify(entry)} is not a domain name (like "example.com")` });
    });
    (list.files ?? []).forEach((path, i) => {
      let text: string;
      try {
        text = io.readFile(path);
      } catch (error) {
        problems.push({ pointer: `${at}/files/${i}`, message: `cannot read domain list file ${path}: ${(error as Error).message}` });
        return;
      }
      let bad = 0;
      text.split('\n').forEach((raw, line) => {
        const content = raw.replace(/[#;].*$/, '').trim();
        if (content === '') return;
        const domain = canonicalDomain(content);
        if (domain) add(domain, index);
        else if (bad++ < 5) warnings.push({ pointer: `${at}/files/${i}`, message: `${path} line ${line + 1}: ${JSON.stringify(content.slice(0, 80))} is not a domain name (line skipped)` });
      });
      if (bad > 5) warnings.push({ pointer: `${at}/files/${i}`, message: `${path}: ${bad - 5} more lines skipped` });
    });
  }
  return {
    ids: Object.freeze(metas.map((m) => m.id)),
    size,
    match(domains) {
      if (entries.size === 0) return [];
      const hit = new Set<number>();
      for (const domain of domains) {
        for (let d = domain; ; ) {
          for (const index of entries.get(d) ?? []) hit.add(index);
          const dot = d.indexOf('.');
          if (dot === -1) break;
          d = d.slice(dot + 1);
        }
      }
      return [...hit].sort((a, b) => a - b).map((i) => metas[i]!);
    },
  };
}
