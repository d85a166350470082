/**
 * Warnings for policies that are valid but probably not what their author meant, for
 * `actiongate validate`. `compilePolicy` already warns about what it meets while compiling
 * (json-rules-engine traps, invalid list-file lines, host bits, a challenge threshold above the
 * block threshold); this module adds what needs a look across the whole policy:
 *
 * - a limit that can never be exceeded because a stricter one on the same subject, actions and a
 *   window at least as long always denies first;
 * - thresholds in the wrong order: equal challenge and block scores, tiers that give anonymous
 *   actors more than verified ones, a ban ladder whose rungs get shorter (or, with `bans.jitter`,
 *   may), a rung no longer than `bans.within` (its strikes outlast it);
 * - list entries inside other entries of the same list (duplicates and nested ranges), with the
 *   list file's line numbers;
 * - a trusted proxy range that holds every address of a family (`0.0.0.0/0`, `::/0`), or that
 *   has host bits set (`10.1.2.3/8`: one proxy meant, a whole range trusted?);
 * - a content pattern id or a rule name used twice (one reason id for two things).
 *
 * Pure apart from the injected `readFile`; bounded: overlaps are listed up to a cap per list.
 */
import { slotMsOf } from '@actiongate/memory';
import type { PolicyProblem } from '../errors.js';
import { compileCapacity } from '../limits/limits.js';
import { parseListText } from '../network/list-file.js';
import { maskWords, parseCidr, type ParsedCidr } from '../network/ip.js';
import { formatDuration, parseBanDuration, parseDuration } from './duration.js';
import { escape } from './schema.js';
import type { LimitPolicy, ListPolicy, PolicyDocument } from './types.js';

export interface PolicyWarningOptions {
  /** Reads a list file named in the policy (relative paths as the policy gives them). Throwing skips the file: compilation reports unreadable files. */
  readFile?: (path: string) => string;
}

/** Overlaps listed one by one per list; one more warning counts the rest. */
export const MAX_OVERLAP_WARNINGS = 50;

/** Every warning this module finds in a document that `compilePolicy` accepted. */
export function policyWarnings(document: PolicyDocument, options: PolicyWarningOptions = {}): PolicyProblem[] {
  return [
    ...shadowedLimits(document.limits ?? []),
    ...thresholdWarnings(document),
    ...Object.entries(document.lists ?? {}).flatMap(([id, list]) => listOverlaps(id, list, options.readFile)),
    ...trustedProxyWarnings(document.network?.trustedProxies ?? []),
    ...repeatedIds(document.content?.patterns ?? [], (p) => p.id, '/content/patterns', 'id', 'content pattern id'),
    ...repeatedIds(document.rules ?? [], (r) => r.name, '/rules', 'name', 'rule name'),
  ];
}

/**
 * A content pattern id or rule name used twice. Each becomes a reason id (and a pattern id an
 * entry of `content.patterns`): two under one id cannot be told apart in decisions, the decision
 * log or the hit rates `actiongate report` and `replay` give, and a `contains` condition on it
 * fires for either.
 */
function repeatedIds<T>(items: readonly T[], idOf: (item: T) => unknown, pointer: string, field: string, what: string): PolicyProblem[] {
  const first = new Map<string, number>();
  const warnings: PolicyProblem[] = [];
  items.forEach((item, i) => {
    const id = idOf(item);
    if (typeof id !== 'string' || id === '') return;
    const earlier = first.get(id);
    if (earlier === undefined) first.set(id, i);
    else warnings.push({ pointer: `${pointer}/${i}/${field}`, message: `${what} ${JSON.stringify(id)} is also ${pointer}/${earlier}'s: decisions, the log and reports cannot tell the two apart` });
  });
  return warnings;
}

/**
 * A trusted proxy range holding every address of a family. The walk skips trusted hops, so with
 * every peer trusted it runs to the header's left end, which the client wrote: any client chooses
 * its own address, with or without a real proxy in front (Express's `trust proxy: true`).
 */
export function trustedProxyWarnings(trustedProxies: readonly string[]): PolicyProblem[] {
  const warnings: PolicyProblem[] = [];
  trustedProxies.forEach((entry, i) => {
    const range = parseCidr(entry);
    if (range?.hostBits) {
      // Trusting more than meant lets clients in the rest of the range choose their address.
      warnings.push({ pointer: `/network/trustedProxies/${i}`, message: `${JSON.stringify(entry)} has host bits set; it trusts all of ${range.text} (write the address alone to trust one proxy)` });
    }
    if (range?.prefix !== 0) return;
    warnings.push({
      pointer: `/network/trustedProxies/${i}`,
      message: `${JSON.stringify(entry)} trusts every IPv${range.version} address as a proxy, so every client can choose its own address with the forwarding header: list your proxies' addresses or ranges instead`,
    });
  });
  return warnings;
}

/** A status no tier names: it gets the `default` tier, else the strictest. */
const UNKNOWN_STATUS = '\u0000unknown';
const ORDERED_STATUSES = ['anonymous', 'registered', 'verified'] as const;

/** Limits that can never be the first to deny, and the limit that always denies before them. */
export function shadowedLimits(limits: readonly LimitPolicy[]): PolicyProblem[] {
  const warnings: PolicyProblem[] = [];
  const compiled = limits.map((limit) => ({ limit, windowMs: parseDuration(limit.window), maxFor: compileCapacity(limit.max), cost: limit.cost ?? 1 }));
  compiled.forEach((a, i) => {
    if (a.limit.mode === 'monitor' || a.windowMs === undefined) return;
    const statuses = [UNKNOWN_STATUS, ...tierNames(a.limit)];
    for (const [j, b] of compiled.entries()) {
      if (i === j || b.limit.mode === 'monitor' || b.windowMs === undefined) continue;
      if (b.limit.by !== a.limit.by || b.cost !== a.cost || b.windowMs < a.windowMs || !coversActions(b.limit, a.limit)) continue;
      const all = [...statuses, ...tierNames(b.limit)];
      if (!all.every((s) => b.maxFor(s) <= a.maxFor(s))) continue;
      // Two identical limits shadow each other: name only the later one.
      const identical = b.windowMs === a.windowMs && sameActions(a.limit, b.limit) && all.every((s) => b.maxFor(s) === a.maxFor(s));
      if (identical && j > i) continue;
      warnings.push({
        pointer: `/limits/${i}`,
        message:
          `limit "${a.limit.id}" (${capacity(a.limit.max)} per ${formatDuration(a.windowMs)}) can never be exceeded first: "${b.limit.id}" (/limits/${j}) counts ` +
          `${b.limit.actions ? 'the same actions' : 'every action'} by ${b.limit.by} with ${capacity(b.limit.max)} per ${formatDuration(b.windowMs)}, so it always denies first` +
          (a.limit.onExceed !== b.limit.onExceed ? ` (answering ${b.limit.onExceed ?? 'throttle'}, not ${a.limit.onExceed ?? 'throttle'})` : '') +
          (identical ? ': the two limits are the same' : ''),
      });
      return;
    }
  });
  return warnings;
}

const capacity = (max: LimitPolicy['max']) => (typeof max === 'number' ? String(max) : JSON.stringify(max));

const tierNames = (limit: LimitPolicy): string[] => (typeof limit.max === 'number' ? [] : Object.keys(limit.max).filter((k) => k !== 'default'));

/** `b` counts every action `a` counts. */
function coversActions(b: LimitPolicy, a: LimitPolicy): boolean {
  if (!b.actions) return true;
  if (!a.actions) return false;
  const set = new Set(b.actions);
  return a.actions.every((action) => set.has(action));
}

const sameActions = (a: LimitPolicy, b: LimitPolicy) => coversActions(a, b) && coversActions(b, a);

/** Scores, tiers and ladders whose order looks inverted. */
export function thresholdWarnings(document: PolicyDocument): PolicyProblem[] {
  const warnings: PolicyProblem[] = [];
  const scoring = document.scoring ?? {};
  // (challenge > block is warned about by compilePolicy.)
  if (scoring.challenge !== undefined && scoring.block !== undefined && scoring.challenge === scoring.block) {
    warnings.push({ pointer: '/scoring', message: `challenge and block thresholds are both ${scoring.block}: a score that reaches it blocks, so no score ever challenges` });
  }
  (document.limits ?? []).forEach((limit, index) => {
    const max = limit.max;
    if (typeof max === 'number') return;
    const tiers = ORDERED_STATUSES.filter((status) => Object.hasOwn(max, status)).map((status) => [status, max[status]!] as const);
    for (let k = 1; k < tiers.length; k++) {
      const [lower, lowerMax] = tiers[k - 1]!;
      const [higher, higherMax] = tiers[k]!;
      if (higherMax < lowerMax) {
        warnings.push({ pointer: `/limits/${index}/max/${higher}`, message: `${higher} actors get ${higherMax}, fewer than ${lower} actors (${lowerMax}): tiers usually grow with trust` });
      }
    }
  });
  const ladder = document.bans?.ladder ?? [];
  const jitter = document.bans?.jitter ?? 0;
  for (let k = 1; k < ladder.length; k++) {
    const before = parseBanDuration(ladder[k - 1]!);
    const after = parseBanDuration(ladder[k]!);
    if (before === undefined || after === undefined) continue;
    // null = permanent: nothing comes after it, and it is the longest.
    if (before === null || (after !== null && after < before)) {
      warnings.push({ pointer: `/bans/ladder/${k}`, message: `rung ${k + 1} (${ladder[k]}) is not longer than rung ${k} (${ladder[k - 1]}): repeat offenders get ${before === null ? 'unbanned after a permanent ban' : 'shorter bans'}` });
    } else if (after !== null && after < before * (1 + jitter)) {
      // A rung's mark is kept by its ban's end (the later end wins a concurrent write), so rungs
      // whose jittered lengths overlap can also keep the lower rung when two processes ban at once.
      warnings.push({ pointer: `/bans/ladder/${k}`, message: `rung ${k + 1} (${ladder[k]}) is within bans.jitter (${jitter}) of rung ${k} (${ladder[k - 1]}): a jittered rung ${k} ban can last longer than a rung ${k + 1} ban` });
    }
  }
  // Strikes stay in their window through a ban (a ham report must be able to take back exactly
  // the one it was wrong about), so a rung that ends before the strike that earned it leaves its
  // window leaves the strikes counting: one more violation may climb to the next rung. A strike
  // counts up to one slot past `within` (the window's slot granularity), so a rung as long as
  // `within` ends while it still counts.
  const within = document.bans?.within ?? '1h';
  const withinMs = parseDuration(within);
  ladder.slice(0, -1).forEach((rung, k) => {
    const ms = parseBanDuration(rung);
    if (withinMs !== undefined && typeof ms === 'number' && ms < withinMs + slotMsOf(withinMs)) {
      const than = ms < withinMs ? 'shorter than' : 'not longer than';
      warnings.push({ pointer: `/bans/ladder/${k}`, message: `rung ${k + 1} (${rung}) is ${than} bans.within (${within}): when it ends, the strikes that earned it still count, so one more violation may climb to rung ${k + 2}` });
    }
  });
  return warnings;
}

interface Located {
  cidr: ParsedCidr;
  /** Where the entry is: the pointer of its inline entry or of its list file. */
  pointer: string;
  /** How to name it: `cidrs[2] 10.0.0.0/8` or `lists/drop.txt line 12`. */
  where: string;
  order: number;
}

/** Entries of one list that lie inside another entry of the same list (inline and files together). */
export function listOverlaps(id: string, list: ListPolicy, readFile?: (path: string) => string): PolicyProblem[] {
  const pointer = `/lists/${escape(id)}`;
  const entries: Located[] = [];
  (list.cidrs ?? []).forEach((text, i) => {
    const cidr = parseCidr(text);
    if (cidr) entries.push({ cidr, pointer: `${pointer}/cidrs/${i}`, where: `cidrs[${i}]`, order: entries.length });
  });
  if (readFile) {
    (list.files ?? []).forEach((path, i) => {
      let text: string;
      try {
        text = readFile(path);
      } catch {
        return; // compilePolicy reports the unreadable file
      }
      for (const { line, cidr } of listFileEntries(text)) {
        entries.push({ cidr, pointer: `${pointer}/files/${i}`, where: `${path} line ${line}`, order: entries.length });
      }
    });
  }
  const overlaps = nestedEntries(entries);
  const warnings = overlaps.slice(0, MAX_OVERLAP_WARNINGS).map(({ inner, outer }) => ({
    pointer: inner.pointer,
    message: `${inner.where}: ${inner.cidr.text} ${inner.cidr.text === outer.cidr.text ? 'is listed again' : 'is inside'} ${inner.cidr.text === outer.cidr.text ? `(first at ${outer.where})` : `${outer.cidr.text} (${outer.where})`}`,
  }));
  if (overlaps.length > MAX_OVERLAP_WARNINGS) {
    warnings.push({ pointer, message: `${overlaps.length - MAX_OVERLAP_WARNINGS} more entries of list "${id}" overlap others (not listed)` });
  }
  return warnings;
}

/** The valid entries of a list file with their line numbers (invalid lines are compilePolicy's warnings). */
function* listFileEntries(text: string): Generator<{ line: number; cidr: ParsedCidr }> {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const ndjson = /^\s*\{/.test(body);
  const lines = body.split(/\r\n|\n|\r/);
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]!;
    // Each line alone through the list-file parser, so comments and NDJSON records read as they
    // load; a line of the other format is invalid there and skipped here.
    if (/^\s*\{/.test(raw) !== ndjson) continue;
    const entry = parseListText(raw).entries[0];
    const cidr = entry === undefined ? null : parseCidr(entry);
    if (cidr) yield { line: index + 1, cidr };
  }
}

/** Entries contained in an earlier-sorted entry. CIDRs nest or are disjoint, so one sweep finds them. */
function nestedEntries(entries: Located[]): { inner: Located; outer: Located }[] {
  const sorted = [...entries].sort(compareEntries);
  const found: { inner: Located; outer: Located }[] = [];
  let cover: Located | undefined;
  for (const entry of sorted) {
    if (cover && contains(cover.cidr, entry.cidr)) found.push({ inner: entry, outer: cover });
    else cover = entry;
  }
  return found.sort((a, b) => a.inner.order - b.inner.order);
}

/** By version, first address, then wider first; equal ranges in their order of appearance. */
function compareEntries(a: Located, b: Located): number {
  const x = a.cidr;
  const y = b.cidr;
  if (x.version !== y.version) return x.version - y.version;
  if (x.version === 4 && y.version === 4) {
    if (x.first !== y.first) return x.first - y.first;
  } else if (x.version === 6 && y.version === 6) {
    for (let w = 0; w < 4; w++) if (x.first[w] !== y.first[w]) return x.first[w]! - y.first[w]!;
  }
  return x.prefix - y.prefix || a.order - b.order;
}

function contains(outer: ParsedCidr, inner: ParsedCidr): boolean {
  if (outer.version !== inner.version || outer.prefix > inner.prefix) return false;
  if (outer.version === 4 && inner.version === 4) {
    const mask = outer.prefix === 0 ? 0 : (~0 << (32 - outer.prefix)) >>> 0;
    return ((inner.first & mask) >>> 0) === outer.first;
  }
  if (outer.version === 6 && inner.version === 6) {
    const masked = maskWords(inner.first, outer.prefix);
    return masked.every((word, w) => word === outer.first[w]);
  }
  return false;
}
