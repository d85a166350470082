/**
 * What operators (and hosts) do by hand, through the same store as every decision, so every
 * process sees it at once: block, unblock, allow, inspect, list blocks, and the challenge
 * round trip (a challenge decision stores a single-use token; `passChallenge` redeems it).
 */
import { ActionError, ActiongateError } from '../errors.js';
import { parseCidr, parseIp, subnetOf } from '../network/ip.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { formatDuration, parseBanDuration } from '../policy/duration.js';
import type { MarkEntry, MarkValue, Store, StoreBatch, StoreResult } from '../store/types.js';
import { editRange, REGISTRY_VERSION, type RestoreRanges } from './ranges.js';
import { seenOnce } from './seen-once.js';
import { asTightening, MARK, rungOfMark, tightenedMax, WINDOW } from './state.js';

/** `ip:203.0.113.7` (an IPv6 address, or its network `ip:2001:db8:1:2::/64`, stands for its policy subnet), `cidr:198.51.100.0/24` or `actor:u42`. */
export type Target = `ip:${string}` | `cidr:${string}` | `actor:${string}` | (string & {});

export interface BlockOptions {
  /** A duration or `permanent`. @default "24h" */
  for?: string;
  reason?: string;
}

export interface Inspection {
  target: string;
  subject: string;
  ban: { until: number | null; reason: string; rung: number } | null;
  allow: { until: number | null; reason: string } | null;
  /** Violations within `bans.within`. */
  strikes: number;
  /** Ban ladder rung reached (0 = never banned, or forgotten). */
  rung: number;
  /** Adaptive limits in force: capacities scaled by `factor` until `until`. */
  tighten: { factor: number; until: number } | null;
  /**
   * Counters of the policy's limits keyed by this subject alone. `max` is the capacity an
   * anonymous actor gets (the `anonymous` tier, else `default`, else the strictest tier: the
   * status of the actions that counted is not stored, and an unknown one gets the same), scaled
   * by this subject's adaptive limits in force (`tighten`). A decision also applies the other
   * subject's factor and its actor's own tier.
   */
  counters: { id: string; count: number; max: number }[];
}

/** The actor status whose capacity `inspect` reports: a subject's counts carry no status. */
const INSPECTED_STATUS = 'anonymous';

/** How long a challenge token stays redeemable. */
export const CHALLENGE_TOKEN_TTL_MS = 15 * 60_000;

/** The store subject of an operator target. */
export function subjectOf(target: unknown, policy: CompiledPolicy): string {
  if (typeof target !== 'string') throw new ActionError('target', 'expected "ip:<address>" or "actor:<id>"', { code: 'TARGET_INVALID' });
  if (target.startsWith('ip:')) {
    const prefix = policy.document.network?.ipv6Subnet ?? 64;
    const ip = parseIp(target.slice(3));
    if (ip) return `ip:${subnetOf(ip, prefix)}`;
    // An IPv6 client's subject is its network (`ip:2001:db8:1:2::/64`), as listBlocks, inspect
    // and onBan report it: that text must work as a target too.
    const range = parseCidr(target.slice(3));
    if (range?.version === 6 && range.prefix === prefix) return `ip:${range.text}`;
    const hint = range ? `: an IP subject is one address or an IPv6 /${prefix}; for a range use "cidr:${range.text}"` : '';
    throw new ActionError('target', `${JSON.stringify(target.slice(3, 60))} is not an IP address${hint}`, { code: 'TARGET_INVALID' });
  }
  if (target.startsWith('actor:') && target.length > 6 && target.length <= 518) return target;
  if (target.startsWith('cidr:')) {
    const range = parseCidr(target.slice(5));
    if (!range) throw new ActionError('target', `${JSON.stringify(target.slice(5, 65))} is not a CIDR range like 198.51.100.0/24 or 2001:db8::/32`, { code: 'TARGET_INVALID' });
    return `cidr:${range.text}`;
  }
  throw new ActionError('target', `${JSON.stringify(target.slice(0, 60))} is not "ip:<address>", "cidr:<range>" or "actor:<id>"`, { code: 'TARGET_INVALID' });
}

/** A ban or allow length in ms (`null` = no end), checked before anything is written. */
function lengthOf(duration: unknown, fallback: string): number | null {
  const length = parseBanDuration(duration ?? fallback);
  if (length === undefined) throw new ActionError('for', `${JSON.stringify(duration)} is not a duration or "permanent"`, { code: 'TARGET_INVALID' });
  return length;
}

const endOf = (length: number | null, at: number) => (length === null ? null : at + length);

/**
 * The store's time, read with the target's `mark`. A store with its own clock (RedisStore's
 * `time: 'server'`) expires marks by it, and decisions set their ban ends by it: a mark's end
 * taken from the app server's clock would be off by that server's skew (a 1-hour block made on a
 * clock 2 hours slow would never hold). One read more per operator action; a store without a
 * clock of its own answers with `now` itself.
 */
async function storeTime(store: Store, subject: string, mark: string, now: number): Promise<number> {
  return (await store.apply({ now, subjects: [{ subject, get: [mark] }] })).now;
}

export async function block(store: Store, policy: CompiledPolicy, target: Target, options: BlockOptions, now: number, restore?: RestoreRanges): Promise<{ subject: string; until: number | null }> {
  const subject = subjectOf(target, policy);
  const length = lengthOf(options.for, '24h');
  const reason = options.reason ?? `blocked by an operator${length === null ? '' : ` for ${formatDuration(length)}`}`;
  if (subject.startsWith('cidr:')) {
    const entry = await editRange(store, subject.slice(5), (at) => ({ kind: 'ban', until: endOf(length, at), reason, at }), now, restore);
    return { subject, until: entry!.until };
  }
  const at = await storeTime(store, subject, MARK.ban, now);
  const until = endOf(length, at);
  // The operator's latest word wins, as a range's entry is replaced whatever its kind: an allow
  // left in place would beat the new ban, and the block would change nothing while it lasted.
  await store.apply({ now: at, subjects: [{ subject, set: [{ name: MARK.ban, value: { until, rung: 0, reason, at, by: 'operator' }, until }], del: [MARK.allow] }] });
  return { subject, until };
}

/**
 * Lifts a ban and forgets the subject's strikes, ladder rung and adaptive limits; an operator's
 * allow goes too, as a range's entry does whatever its kind: the target is judged afresh.
 * `subject` is the target's (`subjectOf`): the guard resolves it once, for the ban it drops from
 * its replay queue and for this, so a policy swapped in between cannot make the two differ.
 */
export async function unblock(store: Store, subject: string, now: number, restore?: RestoreRanges): Promise<void> {
  if (subject.startsWith('cidr:')) {
    await editRange(store, subject.slice(5), null, now, restore);
    return;
  }
  await store.apply({ now, subjects: [{ subject, del: [MARK.ban, MARK.allow, MARK.rung, WINDOW.violations, MARK.tighten] }] });
}

/** An operator allow: never limited or blocked while it lasts (default: permanent). */
export async function allow(store: Store, policy: CompiledPolicy, target: Target, options: BlockOptions, now: number, restore?: RestoreRanges): Promise<void> {
  const subject = subjectOf(target, policy);
  const length = lengthOf(options.for, 'permanent');
  if (subject.startsWith('cidr:')) {
    await editRange(store, subject.slice(5), (at) => ({ kind: 'allow', until: endOf(length, at), reason: options.reason ?? 'range allowed by an operator', at }), now, restore);
    return;
  }
  const at = await storeTime(store, subject, MARK.allow, now);
  const until = endOf(length, at);
  await store.apply({ now: at, subjects: [{ subject, set: [{ name: MARK.allow, value: { until, reason: options.reason ?? 'allowed by an operator', at }, until }] }] });
}

export async function inspect(store: Store, policy: CompiledPolicy, target: Target, now: number): Promise<Inspection> {
  const subject = subjectOf(target, policy);
  const kind = subject.startsWith('ip:') ? 'ip' : subject.startsWith('actor:') ? 'actor' : 'cidr';
  const limits = policy.limits.filter((limit) => limit.by === kind);
  const result: StoreResult = await store.apply({
    now,
    subjects: [{ subject, get: [MARK.ban, MARK.allow, MARK.rung, MARK.tighten], peek: [{ name: WINDOW.violations, windowMs: policy.bans.withinMs }, ...limits.map((l) => ({ name: l.windowName, windowMs: l.windowMs }))] }],
  });
  const answer = result.subjects[0]!;
  const record = (value: MarkValue | undefined) => (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null);
  const ban = record(answer.marks[MARK.ban]);
  const allowed = record(answer.marks[MARK.allow]);
  const tighten = asTightening(answer.marks[MARK.tighten], result.now);
  return {
    target: String(target),
    subject,
    ban: ban && { until: typeof ban.until === 'number' ? ban.until : null, reason: String(ban.reason ?? 'banned'), rung: typeof ban.rung === 'number' ? ban.rung : 0 },
    allow: allowed && { until: typeof allowed.until === 'number' ? allowed.until : null, reason: String(allowed.reason ?? 'allowed') },
    strikes: answer.counts[WINDOW.violations] ?? 0,
    rung: rungOfMark(answer.marks[MARK.rung]),
    tighten,
    counters: limits.map((l) => ({ id: l.id, count: answer.counts[l.windowName] ?? 0, max: tightenedMax(l.maxFor(INSPECTED_STATUS), tighten?.factor ?? 1) })),
  };
}

/** The write that remembers a challenge's token for the subjects it was issued to. */
export function challengeBatch(token: string, subjects: string[], kind: string, now: number): StoreBatch {
  return { now, subjects: [{ subject: `challenge:${token}`, set: [{ name: MARK.token, value: { subjects, kind }, until: now + CHALLENGE_TOKEN_TTL_MS }] }] };
}

/** Active bans by the store's clock, in pages (needs a store with `scan`). */
export async function listBlocks(store: Store, options: { cursor?: string; limit?: number }, now: number): Promise<{ entries: MarkEntry[]; cursor: string | null }> {
  if (!store.scan) throw new ActionError('store', `the ${store.name} store cannot list entries`, { code: 'TARGET_INVALID' });
  // A scan judges which bans are still on by the time it is passed (RedisStore's does, whatever
  // its apply's clock): bans end by the store's clock, so ask the store for its time first (one
  // small read, of the subject every evaluation reads), or an app server's skew would hide live
  // bans or list ended ones.
  const at = await storeTime(store, REGISTRY_VERSION, MARK.ban, now);
  return store.scan(MARK.ban, { limit: options.limit ?? 100, now: at, ...(options.cursor ? { cursor: options.cursor } : {}) });
}

/** Bans in force, by the kind of subject they hold, and the store time they were counted at. */
export interface BanCount {
  ip: number;
  actor: number;
  /** Operator range blocks (`cidr:…`). */
  cidr: number;
  /** The store's time when the count began: a ban ending later was counted. */
  at: number;
}

/** Subjects a count pages through at a time: a page is one bounded read of the store. */
const COUNT_PAGE = 1_000;

/**
 * Counts the bans in force by paging through the whole listing. A subject that SCAN returns on
 * two pages (Redis may, while its table is resized) is counted once, by an 8-byte hash of it
 * (seen-once.ts): a Set of the subjects held ~100 bytes per ban until the count ended. `stop` is asked between pages: a closing guard must not wait for
 * a count of a million keys.
 */
export async function countBans(store: Store, now: number, stop: () => boolean = () => false): Promise<BanCount> {
  if (!store.scan) throw new ActionError('store', `the ${store.name} store cannot list entries`, { code: 'TARGET_INVALID' });
  const at = await storeTime(store, REGISTRY_VERSION, MARK.ban, now);
  const firstTime = seenOnce(); // a SCAN may give a subject twice; the subjects themselves are not kept
  const count: BanCount = { ip: 0, actor: 0, cidr: 0, at };
  let cursor: string | null = null;
  do {
    if (stop()) throw new ActiongateError('GUARD_CLOSED', 'countBans() stopped: the guard is closing');
    const page: Awaited<ReturnType<NonNullable<Store['scan']>>> = await store.scan(MARK.ban, cursor === null ? { limit: COUNT_PAGE, now: at } : { cursor, limit: COUNT_PAGE, now: at });
    for (const { subject } of page.entries) {
      if (!firstTime(subject)) continue;
      const kind = subject.slice(0, subject.indexOf(':'));
      if (kind === 'ip' || kind === 'actor' || kind === 'cidr') count[kind]++;
    }
    cursor = page.cursor;
  } while (cursor !== null);
  return count;
}

/**
 * Redeems a token the host has verified (CAPTCHA solved, e-mail confirmed): its subjects are
 * spared challenges for `challenges.remember`. Read and delete happen in one atomic step, so a
 * token works once; a reused, expired or forged token gives false.
 */
export async function passChallenge(store: Store, policy: CompiledPolicy, token: unknown, now: number): Promise<boolean> {
  if (typeof token !== 'string' || token.length === 0 || token.length > 200) return false;
  const subject = `challenge:${token}`;
  const result = await store.apply({ now, subjects: [{ subject, get: [MARK.token], del: [MARK.token] }] });
  const value = result.subjects[0]?.marks[MARK.token];
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Array.isArray(value.subjects)) return false;
  // Remembered from the store's time, by which the mark expires (see storeTime).
  const at = result.now;
  const until = at + policy.challenges.rememberMs;
  // A person got through: whatever tightened their limits is relaxed again.
  await store.apply({ now: at, subjects: value.subjects.filter((s): s is string => typeof s === 'string').map((s) => ({ subject: s, set: [{ name: MARK.pass, value: { at, kind: String(value.kind) }, until }], del: [MARK.tighten] })) });
  return true;
}

