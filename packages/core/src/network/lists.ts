/**
 * A policy's IP lists compiled into one CIDR set: one lookup answers "which lists contain this
 * IP" for every list at once. Inline CIDRs are the operator's own words, so a bad one fails the
 * policy; list files are usually external feeds, so a bad line is a warning (with its line
 * number) and the rest of the file still loads.
 */
import type { PolicyProblem } from '../errors.js';
import type { ListPolicy, Verdict } from '../policy/types.js';
import { escape } from '../policy/schema.js';
import { buildCidrSet, MAX_LISTS, type CidrEntry } from './cidr-set.js';
import { parseCidr, type ParsedIp } from './ip.js';
import { parseListText } from './list-file.js';

export interface ListMeta {
  readonly id: string;
  readonly verdict: Verdict | undefined;
  readonly score: number | undefined;
  readonly reason: string | undefined;
}

export interface CompiledLists {
  readonly ids: readonly string[];
  /** Entries over every list. */
  readonly size: number;
  /** The lists containing `ip`, in policy order. */
  match(ip: ParsedIp): readonly ListMeta[];
}

const NONE: readonly ListMeta[] = Object.freeze([]);

export function compileLists(
  lists: Readonly<Record<string, ListPolicy>>,
  io: { readFile: (path: string) => string },
  problems: PolicyProblem[],
  warnings: PolicyProblem[],
): CompiledLists {
  const metas: ListMeta[] = [];
  const entries: CidrEntry[] = [];
  for (const [id, list] of Object.entries(lists)) {
    const index = metas.length;
    const pointer = `/lists/${escape(id)}`;
    metas.push(Object.freeze({ id, verdict: list.verdict, score: list.score, reason: list.reason }));
    (list.cidrs ?? []).forEach((cidr, i) => {
      const parsed = parseCidr(cidr);
      if (!parsed) {
        problems.push({ pointer: `${pointer}/cidrs/${i}`, message: `${JSON.stringify(cidr)} is not an IP address or CIDR` });
        return;
      }
      entries.push({ cidr: parsed, list: index });
      // `10.1.2.3/8` means 10.0.0.0/8 here, which may not be what its author meant.
      if (parsed.hostBits) warnings.push({ pointer: `${pointer}/cidrs/${i}`, message: `${JSON.stringify(cidr)} has host bits set; it is read as ${parsed.text}` });
    });
    (list.files ?? []).forEach((path, i) => {
      let text: string;
      try {
        text = io.readFile(path);
      } catch (error) {
        problems.push({ pointer: `${pointer}/files/${i}`, message: `cannot read list file ${path}: ${(error as Error).message}` });
        return;
      }
      const parsed = parseListText(text);
      for (const cidr of parsed.entries) entries.push({ cidr, list: index });
      for (const bad of parsed.problems) {
        warnings.push({ pointer: `${pointer}/files/${i}`, message: `${path} line ${bad.line}: ${bad.message} (line skipped)` });
      }
    });
  }
  if (metas.length > MAX_LISTS) {
    problems.push({ pointer: '/lists', message: `has ${metas.length} lists; at most ${MAX_LISTS} are supported` });
    entries.length = 0;
  }
  const set = buildCidrSet(entries, Math.min(metas.length, MAX_LISTS));
  // Every distinct combination of lists is resolved to its metadata once, not per lookup.
  const byIndexes = new Map<readonly number[], readonly ListMeta[]>();
  return {
    ids: Object.freeze(metas.map((m) => m.id)),
    size: entries.length,
    match(ip) {
      const indexes = set.match(ip);
      if (indexes.length === 0) return NONE;
      let found = byIndexes.get(indexes);
      if (!found) {
        found = Object.freeze(indexes.map((i) => metas[i]!));
        byIndexes.set(indexes, found);
      }
      return found;
    },
  };
}
