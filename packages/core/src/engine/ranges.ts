/**
 * Dynamic CIDR blocks and allows: an operator's ban on a whole range (a hosting provider's /16, a
 * rotating IPv6 /32), or an allow for an office network, shared by every process.
 *
 * An IP ban is a mark on the address's own subject, read with the rest of an evaluation; a range
 * has no subject an evaluation would read, so ranges live in one registry in the store and every
 * process keeps a compiled copy (the CIDR set of the static lists). Each evaluation with an IP
 * reads the registry's version in its one round trip and reloads the registry only when the
 * version moved, so a range is enforced everywhere from the next decision on. The version is
 * also kept on a subject of its own: the registry holds up to 10,000 entries, and a store that
 * reads a subject whole (RedisStore's one record per subject) must not read them on every
 * decision. The registry's own copy of the version is the one a reload trusts, so a reader that
 * sees the signal before the registry has changed simply reloads again. Writers edit the
 * registry under a short lock (a window of capacity one: the store's atomic take), so two
 * operators editing at once lose nothing. Each range also gets the usual `ban`/`allow` mark on
 * its own subject (`cidr:<range>`), which is what `inspect` and `listBlocks` read.
 *
 * A registry can be lost while its signal stays (a Redis whose `maxmemory-policy` evicts keys
 * with no TTL; a MemoryStore whose bound is full of marks with no end): the signal names a
 * version no registry holds. A reader then keeps the ranges it has and stops asking (it would
 * reload on every decision), and says so; an edit restores the registry from this process's copy
 * of that version, and refuses when there is none, since writing the registry afresh would lift
 * every range block in every process at once.
 */
import { randomUUID } from 'node:crypto';
import { ActionError, StoreError } from '../errors.js';
import { buildCidrSet, type CidrSet } from '../network/cidr-set.js';
import { parseCidr, type ParsedIp } from '../network/ip.js';
import type { MarkValue, Store, StoreResult, SubjectOps } from '../store/types.js';
import { MARK } from './state.js';

/** The store subject holding the registry (its entries, its version, the edit lock). */
export const REGISTRY = 'ranges';
/** The subject every evaluation reads: the registry's version alone. */
export const REGISTRY_VERSION = 'ranges-version';
const VERSION = 'version';
const ENTRIES = 'entries';
const LOCK = 'lock';
/** A writer that dies holding the lock holds it this long at most. */
const LOCK_MS = 10_000;
/** How long a writer waits for the lock before giving up. */
const LOCK_WAIT_MS = 3_000;
/** Ranges the registry holds: it is read whole by every process on each change. */
export const MAX_RANGES = 10_000;

export interface RangeEntry {
  kind: 'ban' | 'allow';
  /** Epoch ms; `null` = no end. */
  until: number | null;
  reason: string;
  at: number;
}

/** A range that applies to an address. */
export interface RangeMatch extends RangeEntry {
  /** `cidr:<canonical range>`. */
  subject: string;
}

/** This process's compiled copy of the registry. */
export interface Ranges {
  /** The read to add to an evaluation's batch. */
  readonly versionOps: SubjectOps;
  /**
   * Whether the store's answer shows a version other than the one compiled. Synchronous: the
   * usual answer, no, costs an evaluation no await.
   */
  stale(result: StoreResult): boolean;
  /**
   * Reloads the registry (after `stale` said so). `apply` is the store call, under the
   * evaluation's deadline. Concurrent evaluations that all saw the new version share one reload.
   */
  reload(apply: Store['apply'], now: number): Promise<void>;
  /** The range that decides for `ip` now: an allow beats a ban; of bans, the one ending last. */
  match(ip: ParsedIp, now: number): RangeMatch | null;
  /** The entries of this process's copy when it is of registry version `version`, else null. */
  copy(version: string): Record<string, RangeEntry> | null;
}

/** This process's copy of registry version `version`, or null: see `editRange`. */
export type RestoreRanges = (version: string) => Record<string, RangeEntry> | null;

/** `store`: the store's name, for the errors it reports. */
export function createRanges(store: string): Ranges {
  let version: string | null = null;
  let compiled: { set: CidrSet; entries: RangeMatch[] } | null = null;
  let loading: Promise<void> | null = null;
  /** The version the latest stale answer named. */
  let signalled: string | null = null;
  /** The registry version `compiled` was read from (`version` may have moved past a lost one). */
  let held: string | null = null;

  async function load(apply: Store['apply'], now: number): Promise<void> {
    const signal = signalled;
    const result = await apply({ now, subjects: [{ subject: REGISTRY, get: [VERSION, ENTRIES] }] });
    const marks = result.subjects[0]?.marks ?? {};
    if (typeof marks[VERSION] !== 'string' && signal !== null) {
      version = signal;
      throw new StoreError(store, 'apply', `the range registry is gone while its signal names version ${signal} (keys evicted? Redis needs maxmemory-policy noeviction): the range blocks known to this process stay in force, and the next range edit from a process that knows them restores them`);
    }
    const entries = Object.entries(readEntries(marks[ENTRIES])).map(([cidr, entry]) => ({ ...entry, subject: `cidr:${cidr}` }));
    compiled = entries.length === 0 ? null : { set: buildCidrSet(entries.map((e, list) => ({ cidr: e.subject.slice(5), list })), entries.length), entries };
    version = typeof marks[VERSION] === 'string' ? marks[VERSION] : null;
    held = version;
  }

  return {
    versionOps: Object.freeze({ subject: REGISTRY_VERSION, get: Object.freeze([VERSION]) as string[] }),
    stale(result) {
      for (const answer of result.subjects) {
        if (answer.subject !== REGISTRY_VERSION) continue;
        const seen = answer.marks[VERSION];
        signalled = typeof seen === 'string' ? seen : null;
        return signalled !== version;
      }
      return false;
    },
    reload(apply, now) {
      loading ??= load(apply, now).finally(() => (loading = null));
      return loading;
    },
    match(ip, now) {
      if (!compiled) return null;
      let best: RangeMatch | null = null;
      for (const index of compiled.set.match(ip)) {
        const entry = compiled.entries[index]!;
        if (entry.until !== null && entry.until <= now) continue;
        if (!best || rank(entry) > rank(best)) best = entry;
      }
      return best;
    },
    copy(of) {
      if (of !== held) return null;
      const entries: Record<string, RangeEntry> = Object.create(null) as Record<string, RangeEntry>;
      for (const { subject, ...entry } of compiled?.entries ?? []) entries[subject.slice(5)] = entry;
      return entries;
    },
  };
}

/** Allow first, then the ban that lasts longest. */
const rank = (entry: RangeEntry) => (entry.kind === 'allow' ? Infinity : (entry.until ?? Number.MAX_SAFE_INTEGER));

/**
 * Adds, replaces or removes a range in the registry (`entry` null removes), and writes the
 * range's own mark. `entry` is made from the store's time, read with the lock (a store with its
 * own clock expires the entry by it), which also drops expired ranges on the way. `restore`
 * answers this process's copy of a registry version, for a registry found lost (module comment).
 * Returns the entry written.
 */
export async function editRange(store: Store, cidr: string, entry: ((now: number) => RangeEntry) | null, callerNow: number, restore: RestoreRanges = () => null): Promise<RangeEntry | null> {
  const locked = await lock(store, callerNow);
  const now = locked.now;
  try {
    let entries = locked.entries;
    if (locked.version === null && locked.signal !== null) {
      const copy = restore(locked.signal);
      if (copy === null) {
        throw new StoreError(store.name, 'apply', `the range registry is gone while its signal names version ${locked.signal} (keys evicted? Redis needs maxmemory-policy noeviction), and this process holds no copy of it: edit ranges from a process that has served decisions since the last range edit (its copy restores the registry), or delete the ${JSON.stringify(REGISTRY_VERSION)} subject to start an empty registry`);
      }
      entries = copy;
    }
    const written = entry && entry(now);
    for (const [key, value] of Object.entries(entries)) if (value.until !== null && value.until <= now) delete entries[key];
    if (written) entries[cidr] = written;
    else delete entries[cidr];
    if (Object.keys(entries).length > MAX_RANGES) {
      throw new ActionError('target', `the store already holds ${MAX_RANGES} range blocks and allows: put large ranges sets in a policy list file instead`, { code: 'TARGET_INVALID' });
    }
    // A store applies `set` before `del`: delete only the kind that is not being written.
    const subject: SubjectOps = written
      ? { subject: `cidr:${cidr}`, set: [{ name: written.kind, value: { ...written }, until: written.until }], del: [written.kind === 'ban' ? MARK.allow : MARK.ban] }
      : { subject: `cidr:${cidr}`, del: [MARK.ban, MARK.allow] };
    const next = randomUUID();
    await store.apply({
      now,
      subjects: [{ subject: REGISTRY, set: [{ name: ENTRIES, value: entries as unknown as MarkValue, until: null }, { name: VERSION, value: next, until: null }] }, subject],
    });
    // Announced once the registry holds it and before the lock is released: two editors cannot
    // leave the signal naming another registry than the one stored (a reader would reload on
    // every decision). If this write fails the edit is stored but not yet seen: the caller gets
    // the error and may repeat the edit.
    await store.apply({ now, subjects: [{ subject: REGISTRY_VERSION, set: [{ name: VERSION, value: next, until: null }] }] });
    return written;
  } finally {
    await store.apply({ now, subjects: [{ subject: REGISTRY, add: [{ name: LOCK, windowMs: LOCK_MS, cost: -1, at: now }] }] }).catch(() => undefined);
  }
}

/**
 * Takes the registry lock and returns the entries it guards, its version and the signal's (which
 * tell a lost registry from one never written), and the store's time then.
 */
async function lock(store: Store, now: number): Promise<{ entries: Record<string, RangeEntry>; version: string | null; signal: string | null; now: number }> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let attempt = 1; ; attempt++) {
    const result = await store.apply({ now, subjects: [{ subject: REGISTRY, take: [{ name: LOCK, windowMs: LOCK_MS, max: 1, cost: 1 }], get: [ENTRIES, VERSION] }, { subject: REGISTRY_VERSION, get: [VERSION] }] });
    const answer = result.subjects[0]!;
    const text = (value: MarkValue | undefined) => (typeof value === 'string' ? value : null);
    if (answer.consumed) return { entries: readEntries(answer.marks[ENTRIES]), version: text(answer.marks[VERSION]), signal: text(result.subjects[1]?.marks[VERSION]), now: result.now };
    if (Date.now() >= deadline) throw new StoreError(store.name, 'apply', `the range registry stayed locked for ${LOCK_WAIT_MS} ms (another operator edit, or one that died within the last ${LOCK_MS / 1000} s): try again`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(200, 10 * attempt)));
  }
}

/**
 * The registry's entries, by canonical range. The store is shared and outlives versions: an
 * entry that is not a range is dropped here (and so from the registry at the next edit), or the
 * set built from it would throw on every reload and freeze the ranges in force.
 */
function readEntries(value: MarkValue | undefined): Record<string, RangeEntry> {
  const entries: Record<string, RangeEntry> = Object.create(null) as Record<string, RangeEntry>;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return entries;
  for (const [key, raw] of Object.entries(value)) {
    const cidr = parseCidr(key)?.text;
    if (cidr === undefined || typeof raw !== 'object' || raw === null || Array.isArray(raw)) continue;
    const kind = raw.kind === 'allow' ? 'allow' : 'ban';
    entries[cidr] = { kind, until: typeof raw.until === 'number' ? raw.until : null, reason: typeof raw.reason === 'string' ? raw.reason : kind === 'ban' ? 'range blocked by an operator' : 'range allowed by an operator', at: typeof raw.at === 'number' ? raw.at : 0 };
  }
  return entries;
}
