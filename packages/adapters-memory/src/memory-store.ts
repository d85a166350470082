/**
 * MemoryStore: the Store contract for one process, on lru-cache.
 *
 * One LRU entry per subject (an IP, an actor…) holding that subject's marks and windows, each
 * under its raw name string, so an evaluation costs one LRU lookup per subject among the
 * counters (see #find for the others), no key string is ever built, and no two (subject, name)
 * pairs can collide whatever they contain (colons, braces, NUL, `__proto__`): there is no
 * encoding to get wrong. The same shape as RedisStore's one hash per subject. `maxKeys` bounds
 * the subjects and `maxNamesPerSubject` what one subject may hold, so memory stays bounded
 * whatever the traffic.
 *
 * Eviction keeps state over counters, up to a bound. A subject holding a live mark (a ban, an
 * allow, a ladder rung, the range registry) lives in an LRU of its own, which counters never push
 * anyone out of. With one LRU, any traffic that made new subjects (fresh texts, other IPs,
 * refused attempts) pushed out the least recently used, and an idle banned client came back
 * unbanned once enough had passed: ~35,000 ads of random text at the default bound. The marks
 * written once per decision (`TRANSIENT_MARKS`: a decision's record, a challenge token) do not
 * count: they compete with counters as before, or a flood of refused attempts would push out the
 * very counters refusing it.
 *
 * The kept LRU holds at most `maxKeys - counterReserve` subjects: past that, a subject that comes
 * to hold a lasting mark evicts the least recently used kept one (one whose marks have all ended
 * first). Without the bound the protection turned into the reverse attack: a client getting many
 * subjects banned (fresh IPv6 /64s, each banned by a content rule on its first ad) filled the
 * kept LRU up to `maxKeys`, counters were left room for one subject or a few, each new client's
 * counters pushed out the last one's, and no rate limit in the process limited anyone (fail-open).
 * The reserve (10% of `maxKeys` by default) is room for counters that bans can never take, so a
 * ban flood costs the oldest bans, never rate limiting; below the bound, bans outlast any flood of
 * counters as before.
 *
 * At that bound, subjects whose marks end (a 24-hour ban, a rung) go before those holding a mark
 * with no end (a permanent ban or allow): they are apart in a third LRU, evicted only when the
 * timed ones are gone. A flood of fresh subjects each banned for a day is cheap for a client with
 * IPv6 /64s to spare, and in one LRU it pushed out the operator's permanent bans and the registry
 * of range bans, whose next edit then rewrote it from nothing: every range ban lifted.
 *
 * The range registry and the marks of the ranges it holds (`PINNED_SUBJECTS`, and subjects named
 * with `PINNED_PREFIXES`: `cidr:<range>`) are in a fourth LRU, evicted only when nothing else is
 * left. The registry keeps enforcing a range for as long as its entry says, whatever the store
 * evicts; the range's own mark is what `listBlocks`, `inspect` and `countBans` read, and as a timed
 * ban among a flood of timed bans it went first: the block was enforced but listed nowhere. Both
 * are bounded by the registry's 10,000 ranges (`MAX_PINNED`), and a range's mark that has ended
 * goes before any live one, like a kept subject's.
 *
 * Expiry is lazy, against the caller's clock: no timers and no lru-cache TTL (it reads its own
 * clock, and `setTimeout` cannot wait past 24.8 days), so a 60-day ban works and replays are
 * deterministic. Whatever no longer counts is dropped when touched. Every `apply` runs
 * synchronously inside one call, which is what makes it atomic within the process.
 */
import { LRUCache } from 'lru-cache';
import type { MarkEntry, MarkValue, MarkWrite, Store, StoreBatch, StoreResult, SubjectOps, SubjectResult, TakeResult } from '@actiongate/core';
import { emptyRecord } from './record.js';
import { show, validateBatch } from './validate.js';
import { addHit, dropLeft, lastLeavesAt, newWindow, takeInto, type WindowData } from './window.js';

export interface MemoryStoreOptions {
  /**
   * Most subjects (IPs, subnets, actors, content fingerprints…) kept; the least recently used
   * go first, but a subject holding a live mark (a ban…; `TRANSIENT_MARKS` aside) only when no
   * other is left or when `maxKeys - counterReserve` such subjects are held already (then the
   * least recently used of them). lru-cache allocates its index arrays at this length up front
   * (~28 bytes a key).
   * @default 100000
   */
  maxKeys?: number;
  /**
   * Subjects of the `maxKeys` that subjects holding a live mark (bans, allows, ladder rungs…) can
   * never take: room for counters, so that a flood of banned subjects evicts the oldest bans
   * rather than every rate limit's counters. Counters use all the room bans leave; the reserve
   * is what they keep when bans fill the rest. A positive integer below `maxKeys`. Larger keeps
   * more clients' counters through a ban flood (a limit holds while fewer than this many other
   * subjects arrive within its window), smaller keeps more bans through one.
   * @default 10% of `maxKeys`, rounded up (10000 at the default `maxKeys`); 0 when `maxKeys` is 1
   */
  counterReserve?: number;
  /**
   * Most marks and windows one subject holds. Past it, whatever no longer counts goes first,
   * then the window whose hits all leave soonest (the least information lost), and marks (bans)
   * only when no window is left. Bounds what a client can make one subject hold through names it
   * chooses (`ip+action` limits). A subject's names are searched one by one (a subject holds a
   * handful, where a Map cost more memory and time), so a touch of a subject costs up to this many
   * string comparisons: keep it in the tens or hundreds.
   * @default 64
   */
  maxNamesPerSubject?: number;
}

interface Mark {
  readonly name: string;
  value: MarkValue;
  until: number | null;
}

interface Window {
  readonly name: string;
  windowMs: number;
  data: WindowData;
  /**
   * The sum of `data`'s counts, kept as hits land and slots leave (`liveCount`), so a take does
   * not sum every slot again; NaN once a cost that is not a safe integer lands (a fraction, or
   * beyond 2^53), whose sums could depend on the order they are added in: then it is summed.
   */
  count: number;
}

/**
 * One subject's state. Its marks and windows are arrays searched by name, in the order their names
 * were first written (as a Map's would be): a subject holds at most `maxNamesPerSubject` (64 by
 * default) and most hold one to three, for which a Map cost several times the memory (a subject
 * with two windows: ~570 bytes in all with Maps, ~480 with arrays). Created on first use: most
 * IPs never get a mark.
 */
interface Subject {
  marks: Mark[] | undefined;
  windows: Window[] | undefined;
  /** Epoch ms until which it belongs to the kept LRU (its latest live mark's end, transient marks aside); 0: the other one. */
  keepUntil: number;
  /** Whether it is kept with the range registry (`isPinned`): known from its name, so worked out once. */
  readonly pinned: boolean;
}

/**
 * What an LRU holds for a subject: its Subject, or, when it holds one window and nothing else, that
 * Window alone (always among the others: it holds no mark). Most subjects of a store that counts
 * content are such (a text's fingerprint, each near-duplicate band: three new ones a decision),
 * and the Subject and the array of one around their window were three heap objects of six, half
 * their bytes, that every scavenge copied as they aged and every full collection marked. An
 * operation on one works on a Subject made for it (#applySubject), stored only if the operation
 * leaves the subject holding more (#store).
 */
type Entry = Subject | Window;

/** Whether an LRU entry is a lone window rather than a Subject. */
function isWindow(entry: Entry): entry is Window {
  return (entry as Partial<Window>).data !== undefined;
}

/**
 * Marks written once per decision, which do not keep their subject from eviction (see the module
 * comment): `record`, a decision's record kept for feedback, and `token`, a challenge token.
 * `@actiongate/core` writes them under these names (a test there checks it).
 */
export const TRANSIENT_MARKS: readonly string[] = Object.freeze(['record', 'token']);

/**
 * Subjects never evicted while any other can be (pinned ones, `PINNED_PREFIXES`, last of all):
 * the registry of range blocks and its version signal, which `@actiongate/core` writes under
 * these names (a test there checks it). The registry is read only when it changes, so however
 * recently a range was blocked, a flood of permanent bans made it the least recently used; and
 * losing it lifts every range block. Two subjects, bounded (the registry holds at most 10,000
 * ranges).
 */
export const PINNED_SUBJECTS: readonly string[] = Object.freeze(['ranges', 'ranges-version']);

/**
 * Prefixes of the subjects kept with `PINNED_SUBJECTS`: `cidr:<range>`, where `@actiongate/core`
 * writes a range block's or allow's own mark next to its registry entry (a test there checks it),
 * which operator listings read. Evicted, it left a range enforced by the registry but missing
 * from `listBlocks`, `inspect` and `countBans` (module comment).
 */
export const PINNED_PREFIXES: readonly string[] = Object.freeze(['cidr:']);

/**
 * Most pinned subjects held: the registry holds at most 10,000 ranges (core's `MAX_RANGES`), each
 * with its `cidr:` subject, plus `PINNED_SUBJECTS`. Past it (only when ranges outlive their
 * registry entries: a registry deleted and started afresh) the least recently used range mark
 * goes, so no writer of `cidr:` subjects can pin more than this.
 */
export const MAX_PINNED = 10_000 + PINNED_SUBJECTS.length;

/**
 * The key under which a store's prototype names the `apply` that its `applyNow` answers
 * synchronously: the guard calls `applyNow` directly, sparing each decision its promises and
 * deadline, while `apply` is still that one (a subclass or a spy that replaces it then sees every
 * call). A registered symbol rather than `instanceof`, which fails between two copies of this
 * package (a project that installs its own next to core's) and silently cost every decision the
 * slow path, and so did benchmarks whose loader mapped core's import to the sources. The `/1` is
 * the contract's version: `applyNow(batch)` returns what `apply(batch)` resolves to, or throws
 * what it rejects with.
 */
export const SYNC_APPLY: unique symbol = Symbol.for('actiongate.store.syncApply/1');

/** Stands for a window that holds nothing; never written to. */
const NO_HITS = Object.freeze([]) as unknown as WindowData;

export class MemoryStore implements Store {
  readonly name = 'memory';
  /** Subjects holding a live mark that ends (transient marks aside): evicted only when no other subject is left. */
  readonly #kept: LRUCache<string, Subject>;
  /** Subjects holding a mark with no end: evicted only when no other subject is left, and after #kept at its bound. */
  readonly #lasting: LRUCache<string, Subject>;
  /**
   * Pinned subjects (`isPinned`) holding a live mark, timed or not: evicted only after every
   * other subject, bar those whose marks have ended, which go first as in #kept.
   */
  readonly #pinned: LRUCache<string, Subject>;
  /** Every other subject. */
  readonly #others: LRUCache<string, Entry>;
  readonly #maxKeys: number;
  /** Most subjects the kept, lasting and pinned LRUs hold together: `maxKeys - counterReserve`, at least 1. */
  readonly #maxKept: number;
  readonly #maxNames: number;
  #closed = false;
  /**
   * Kept and pinned subjects the last sweep found ended, to evict before any other (each checked
   * again when its turn comes: it may have been touched since). See #evict.
   */
  #ended: string[] = [];
  /** Evictions since the kept and pinned LRUs were last swept for ended subjects. */
  #sinceSweep = 0;
  /**
   * The subject operation being applied, and how far (the takes committed, the adds and sets done):
   * what it wrote, #makeRoom never drops. `apply` runs synchronously, one subject at a time.
   */
  #ops: SubjectOps | undefined;
  #taken = false;
  #adds = 0;
  #sets = 0;

  constructor(options: MemoryStoreOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`MemoryStore: options must be an object like { maxKeys: 100000 }, got ${show(options)}`);
    }
    this.#maxKeys = positiveInteger(options.maxKeys, 'maxKeys', 100_000);
    this.#maxNames = positiveInteger(options.maxNamesPerSubject, 'maxNamesPerSubject', 64);
    this.#maxKept = this.#maxKeys - counterReserve(options.counterReserve, this.#maxKeys);
    // #create keeps their sum within maxKeys, #sort the kept one within #maxKept (evicting the
    // ended first: lru-cache's own bound, which would not, is never reached). lru-cache allocates
    // its arrays for `max` entries up front (~28 bytes each): the kept LRU, usually far smaller,
    // is bounded by a size of one per entry instead, and grows as it fills.
    this.#kept = new LRUCache<string, Subject>({ maxSize: this.#maxKept, sizeCalculation: () => 1 });
    this.#lasting = new LRUCache<string, Subject>({ maxSize: this.#maxKept, sizeCalculation: () => 1 });
    this.#pinned = new LRUCache<string, Subject>({ maxSize: Math.min(this.#maxKept, MAX_PINNED), sizeCalculation: () => 1 });
    this.#others = new LRUCache<string, Entry>({ max: this.#maxKeys });
  }

  /** Subjects held now (expired state is dropped lazily, so this is an upper bound of live ones). */
  get size(): number {
    return this.#kept.size + this.#lasting.size + this.#pinned.size + this.#others.size;
  }

  /**
   * Applies each `SubjectOps` in order: get → peek → take (all or nothing) → add → set → del.
   * A malformed batch (a non-finite `now`, a window of no length, a non-finite cost…) is
   * rejected with a TypeError before any of it is applied.
   */
  apply(batch: StoreBatch): Promise<StoreResult> {
    try {
      return Promise.resolve(this.applyNow(batch));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * `apply`, answered synchronously: the guard calls this directly when its store is a
   * MemoryStore, sparing every decision the promises and the deadline a remote store needs.
   * Throws what `apply` rejects with.
   */
  applyNow(batch: StoreBatch): StoreResult {
    if (this.#closed) throw new Error('MemoryStore: apply() after close(); create a new MemoryStore');
    validateBatch(batch, 'MemoryStore');
    const now = batch.now;
    const ops = batch.subjects;
    const subjects = new Array<SubjectResult>(ops.length);
    for (let i = 0; i < ops.length; i++) subjects[i] = this.#applySubject(ops[i]!, now);
    this.#ops = undefined; // the caller's batch is not ours to keep alive
    return { now, subjects };
  }

  #applySubject(ops: SubjectOps, now: number): SubjectResult {
    const subject = ops.subject;
    // Reading refreshes the subject's recency; a subject is created only when a write lands,
    // so reads, denied takes and no-op writes never evict anyone.
    const found = this.#find(subject);
    if ((found === undefined || isWindow(found)) && isLoneOps(ops, found)) return this.#applyLone(ops, found, now);
    this.#ops = ops;
    this.#taken = false;
    this.#adds = 0;
    this.#sets = 0;
    // A mark or window named `__proto__` or `constructor` is just a key.
    const marks = emptyRecord<MarkValue>();
    const counts = emptyRecord<number>();
    const take = ops.take;
    // At its length: filled by `push`, it grew to 17 entries.
    const takes: TakeResult[] = take === undefined || take.length === 0 ? [] : new Array<TakeResult>(take.length);
    let consumed = false;
    // A lone window (Entry) is worked on as a Subject holding it, kept only if the operation adds to it.
    let record = found === undefined || !isWindow(found) ? found : this.#create(subject, found, now);

    const get = ops.get;
    const stored = record?.marks;
    if (get !== undefined && stored !== undefined) {
      for (let i = 0; i < get.length; i++) {
        const name = get[i]!;
        const at = indexOfName(stored, name);
        if (at < 0) continue;
        const mark = stored[at]!;
        if (mark.until !== null && mark.until <= now) removeAt(stored, at);
        else marks[name] = mark.value; // deep-frozen when stored: safe to hand out
      }
    }

    const peek = ops.peek;
    if (peek !== undefined) {
      for (let i = 0; i < peek.length; i++) {
        const ref = peek[i]!;
        const window = record === undefined ? undefined : liveWindow(record, ref.name, ref.windowMs, now);
        counts[ref.name] = window === undefined ? 0 : countOf(window);
      }
    }

    if (take !== undefined && take.length > 0) {
      let all = true;
      let dryRun = false;
      for (let i = 0; i < take.length; i++) {
        const t = take[i]!;
        const window = record === undefined ? undefined : liveWindow(record, t.name, t.windowMs, now);
        // Filled in place by takeInto: the fields in tryTake's order, after the name.
        const result: TakeResult = { name: t.name, count: 0, admitted: false, resetMs: 0 };
        if (window === undefined) takeInto(result, NO_HITS, 0, t.windowMs, t.max, t.cost, now);
        else takeInto(result, window.data, countOf(window), t.windowMs, t.max, t.cost, now);
        takes[i] = result;
        if (!result.admitted) all = false;
        if (t.dryRun === true) dryRun = true;
      }
      if (!all) {
        // A denied batch consumed nothing, so no take may report its own cost as counted.
        for (let i = 0; i < take.length; i++) if (takes[i]!.admitted) takes[i]!.count -= take[i]!.cost;
      } else if (!dryRun) {
        this.#taken = true;
        for (let i = 0; i < take.length; i++) {
          const t = take[i]!;
          record = this.#hit(subject, record, t.name, t.windowMs, now, t.cost, now);
        }
        consumed = true;
      }
    }

    const add = ops.add;
    if (add !== undefined) {
      for (let i = 0; i < add.length; i++) {
        const a = add[i]!;
        this.#adds = i;
        record = this.#hit(subject, record, a.name, a.windowMs, a.at ?? now, a.cost, now);
      }
    }

    const set = ops.set;
    this.#adds = add?.length ?? 0;
    if (set !== undefined) {
      for (let i = 0; i < set.length; i++) {
        this.#sets = i;
        record = this.#setMark(subject, record, set[i]!, now);
      }
    }

    const del = ops.del;
    if (del !== undefined && record !== undefined) {
      for (let i = 0; i < del.length; i++) {
        remove(record.marks, del[i]!);
        remove(record.windows, del[i]!);
      }
    }

    if (record !== undefined) this.#store(subject, found, record, now);
    return { subject, marks, counts, takes, consumed };
  }

  /**
   * #applySubject for a subject holding one window and nothing else, or nothing (`found`), under
   * an operation that only reads and adds to that window (`isLoneOps`): a text's copies, three
   * subjects of every decision that counts content, most of them new. The same steps on the
   * window itself, where the general path made a Subject and its array around it (or around the
   * new window) only for #store to drop them: a tenth of what the store allocated a decision.
   */
  #applyLone(ops: SubjectOps, found: Window | undefined, now: number): SubjectResult {
    const subject = ops.subject;
    const counts = emptyRecord<number>();
    let window = found;
    const peek = ops.peek;
    if (peek !== undefined) {
      for (let i = 0; i < peek.length; i++) {
        const ref = peek[i]!;
        let count = 0;
        if (window !== undefined && window.name === ref.name && window.windowMs === ref.windowMs) {
          // As liveWindow: an emptied window is dropped.
          if (liveCount(window, now) > 0) count = countOf(window);
          else window = undefined;
        }
        counts[ref.name] = count;
      }
    }
    const a = ops.add?.[0];
    if (a !== undefined) {
      const at = a.at ?? now;
      if (window !== undefined && window.windowMs === a.windowMs) {
        if (!hitWindow(window, at, a.cost, now)) window = undefined;
      } else {
        // Absent, or of another length (isLoneOps: never of another name): it starts afresh, as in #hit.
        const created = newLiveWindow(a.name, a.windowMs, at, a.cost, now);
        if (created !== undefined) {
          // A new subject makes room for itself first, as #create does; a held one has its room.
          if (found === undefined) {
            if (this.size >= this.#maxKeys) this.#evict(now);
            flatten(subject);
          }
          window = created;
        }
      }
    }
    if (window === undefined) {
      if (found !== undefined) this.#others.delete(subject);
    } else if (window !== found) {
      put(this.#others, subject, window);
    }
    return { subject, marks: emptyRecord<MarkValue>(), counts, takes: [], consumed: false };
  }

  /**
   * Stores what an operation left of a subject (`found`: what the LRUs held before it): nothing when
   * it holds nothing, its window alone when it holds only that (Entry), else its Subject, among
   * the others until #sort finds it holds a lasting mark.
   */
  #store(subject: string, found: Entry | undefined, record: Subject, now: number): void {
    const marks = record.marks?.length ?? 0;
    const windows = record.windows?.length ?? 0;
    if (marks + windows === 0) {
      if (found !== undefined) this.#lruOf(record, record.keepUntil).delete(subject);
    } else if (marks === 0 && windows === 1 && record.keepUntil === 0) {
      // Among the others already (kept until 0), unless it was only made now: a write of one
      // lookup when it was, or when its entry was a Subject or another window before.
      const window = record.windows![0]!;
      if (found !== window) put(this.#others, subject, window);
    } else {
      if (found !== record) put(this.#others, subject, record);
      if (record.marks !== undefined || record.keepUntil > 0) this.#sort(subject, record, now);
    }
  }

  /**
   * Adds `cost` at `at` to a window (creating subject and window only when a hit lands), then
   * drops what no longer counts at `now`. Returns the subject, created or not.
   */
  #hit(subject: string, record: Subject | undefined, name: string, windowMs: number, at: number, cost: number, now: number): Subject | undefined {
    const windows = record?.windows;
    const index = windows === undefined ? -1 : indexOfName(windows, name);
    if (index >= 0 && windows![index]!.windowMs === windowMs) {
      if (!hitWindow(windows![index]!, at, cost, now)) removeAt(windows!, index);
      return record;
    }
    // Absent, or re-declared with another length (a policy change): it starts afresh.
    const created = newLiveWindow(name, windowMs, at, cost, now);
    if (created === undefined) return record;
    record ??= this.#create(subject, undefined, now);
    if (index >= 0) {
      windows![index] = created;
    } else {
      this.#makeRoom(record, now);
      record.windows = append(record.windows, created);
    }
    return record;
  }

  #setMark(subject: string, record: Subject | undefined, write: MarkWrite, now: number): Subject | undefined {
    if (write.until !== null && write.until <= now) {
      // Written already over: the same as deleting it (and, when only a later end may replace the
      // mark, the same as nothing: a live one ends later, an ended one is as good as none).
      if (write.ifLater !== true) remove(record?.marks, write.name);
      return record;
    }
    const marks = record?.marks;
    const index = marks === undefined ? -1 : indexOfName(marks, write.name);
    if (write.ifLater === true && index >= 0) {
      const stored = marks![index]!;
      if ((stored.until === null || stored.until > now) && !endsLater(write.until, stored.until)) return record;
    }
    record ??= this.#create(subject, undefined, now);
    const mark: Mark = { name: write.name, value: frozenCopy(write.value), until: write.until };
    if (index >= 0) {
      marks![index] = mark;
    } else {
      this.#makeRoom(record, now);
      record.marks = append(record.marks, mark);
    }
    return record;
  }

  /**
   * A Subject for `subject`, holding `window` (its lone window: Entry), or a new one, making room
   * for it first (a new subject only: a lone window is held already). #store stores it, or not,
   * once the operation is done.
   */
  #create(subject: string, window: Window | undefined, now: number): Subject {
    if (window === undefined && this.size >= this.#maxKeys) this.#evict(now);
    flatten(subject);
    return { marks: undefined, windows: window === undefined ? undefined : append(undefined, window), keepUntil: 0, pinned: isPinned(subject) };
  }

  /**
   * A subject's state, refreshing its recency, from the LRUs it can be in, skipping the empty
   * ones: a pinned subject's two (#pinned, then #others), any other's three. Telling a pinned
   * name costs about what a lookup does (`startsWith` and `includes` are builtin calls V8 does
   * not inline), so it is only done once a pinned subject is held; until then a pinned subject
   * can only be among the others, found first. A hit costs what it did (one lookup among the
   * counters, two for a timed ban, three for a permanent one) or less, and the name check once a
   * range is blocked; a miss, three before, costs one lookup per LRU holding anyone (one in a
   * store holding no ban or range), and `ranges-version`, read on every decision, one once a
   * range is blocked (three before).
   */
  #find(subject: string): Entry | undefined {
    if (this.#pinned.size > 0 && isPinned(subject)) return lookup(this.#pinned, subject) ?? lookup(this.#others, subject);
    return (
      lookup(this.#others, subject) ?? (this.#kept.size > 0 ? lookup(this.#kept, subject) : undefined) ?? (this.#lasting.size > 0 ? lookup(this.#lasting, subject) : undefined)
    );
  }

  /** The LRU of `record` kept until `keepUntil`. */
  #lruOf(record: Subject, keepUntil: number): LRUCache<string, Subject> | LRUCache<string, Entry> {
    if (keepUntil === 0) return this.#others;
    return record.pinned ? this.#pinned : keepUntil === Infinity ? this.#lasting : this.#kept;
  }

  /** Puts a subject in the LRU it belongs to after a batch: a kept one while it holds a live mark (transient marks aside). */
  #sort(subject: string, record: Subject, now: number): void {
    let keepUntil = 0;
    if (record.marks !== undefined) {
      for (const mark of record.marks) {
        const until = mark.until ?? Infinity;
        if (until > now && until > keepUntil && !isTransient(mark.name)) keepUntil = until;
      }
    }
    const was = this.#lruOf(record, record.keepUntil);
    const next = this.#lruOf(record, keepUntil);
    record.keepUntil = keepUntil;
    if (was === next) return;
    was.delete(subject);
    // The kept LRUs at their bound: the counters' reserve is not a ban's to take, and a timed
    // ban goes before one with no end, which goes before a pinned one (module comment).
    if (was === this.#others && this.#kept.size + this.#lasting.size + this.#pinned.size >= this.#maxKept && !this.#evictEnded(now)) {
      if (this.#kept.size > 0) this.#kept.pop();
      else if (this.#lasting.size > 0) this.#lasting.pop();
      else this.#popPinned();
    }
    // Pinned subjects are bounded apart too (MAX_PINNED), an ended one going first.
    if (next === this.#pinned && this.#pinned.size >= MAX_PINNED && !this.#evictEndedOf(this.#pinned, now)) this.#popPinned();
    next.set(subject, record, CALL); // as `put` does: the two LRUs' types do not unite for it
    CALL.status = undefined;
  }

  /**
   * Makes room for one subject: a kept or pinned one whose marks have all ended, else the least
   * recently used other subject, else (only when the reserve is 0: `maxKeys` 1) the least
   * recently used kept, lasting, then pinned one. The kept LRUs stay within #maxKept < maxKeys
   * otherwise, so a full store always holds another subject to evict before a kept one.
   */
  #evict(now: number): void {
    if (this.#evictEnded(now)) return;
    if (this.#others.size > 0) this.#others.pop();
    else if (this.#kept.size > 0) this.#kept.pop();
    else if (this.#lasting.size > 0) this.#lasting.pop();
    else this.#popPinned();
  }

  /**
   * Evicts the least recently used pinned subject, passing over the range registry
   * (`PINNED_SUBJECTS`), which is used again instead, unless nothing else is left: losing a
   * range's mark loses one listing, losing the registry stops every range edit.
   */
  #popPinned(): void {
    for (let tries = 0; tries < PINNED_SUBJECTS.length; tries++) {
      const key = this.#pinned.rkeys().next().value;
      if (key === undefined || !PINNED_SUBJECTS.includes(key)) break;
      this.#pinned.get(key); // now the most recently used
    }
    this.#pinned.pop();
  }

  /**
   * Evicts a kept or pinned subject whose marks have all ended, if one is found; whether it did.
   *
   * Ended subjects are looked for among the least recently used few of each LRU, and, since idle
   * subjects with marks that last longer (a permanent ban) stay there and hide the rest, by a
   * sweep of both LRUs once every `kept.size + pinned.size` fruitless calls (O(1) a call,
   * amortised). Without it, every subject whose ban had ended behind them stayed until touched:
   * the kept LRU grew to its bound and counters were left only their reserve, or newer live bans
   * were evicted in their place. A range's mark that has ended is no longer in the registry
   * either (core drops an ended entry at its next edit), so it is not kept over anything live.
   */
  #evictEnded(now: number): boolean {
    if (this.#evictEndedOf(this.#kept, now) || this.#evictEndedOf(this.#pinned, now) || this.#evictSwept(now)) return true;
    if (++this.#sinceSweep < this.#kept.size + this.#pinned.size) return false;
    this.#sinceSweep = 0;
    const ended: string[] = [];
    for (const [key, record] of this.#kept.entries()) if (record.keepUntil <= now) ended.push(key);
    for (const [key, record] of this.#pinned.entries()) if (record.keepUntil <= now) ended.push(key);
    this.#ended = ended; // most recently used first: popped from the least recently used end
    return this.#evictSwept(now);
  }

  /** Evicts a subject of `lru` among its least recently used few whose marks have all ended; whether it did. */
  #evictEndedOf(lru: LRUCache<string, Subject>, now: number): boolean {
    let looked = 0;
    for (const key of lru.rkeys()) {
      if (lru.peek(key)!.keepUntil <= now) {
        lru.delete(key);
        return true;
      }
      if (++looked === 4) break;
    }
    return false;
  }

  /** Evicts a subject of the last sweep whose marks have all ended still; whether it did. */
  #evictSwept(now: number): boolean {
    while (this.#ended.length > 0) {
      const key = this.#ended.pop()!;
      // Swept from #kept or #pinned (which its name tells), it may since be in another LRU or gone.
      const lru = isPinned(key) ? this.#pinned : this.#kept;
      const record = lru.peek(key);
      if (record !== undefined && record.keepUntil <= now) {
        lru.delete(key);
        return true;
      }
    }
    return false;
  }

  /**
   * Makes room for one more name in a full subject: first whatever no longer counts, then the
   * window whose hits all leave soonest, then the mark that ends soonest. What this subject's
   * operation has already written stays (the windows of a committed take, earlier adds and
   * sets: #isFresh), as in RedisStore: a commit never undoes itself, and a strike added or a ban
   * set just before is not what a later name of the same call pushes out. Only runs when the
   * subject is full, so the common path pays nothing for it.
   */
  #makeRoom(record: Subject, now: number): void {
    const marks = record.marks;
    const windows = record.windows;
    if ((marks?.length ?? 0) + (windows?.length ?? 0) < this.#maxNames) return;
    if (marks !== undefined) removeWhere(marks, (mark) => mark.until !== null && mark.until <= now);
    if (windows !== undefined) removeWhere(windows, (window) => liveCount(window, now) === 0);
    while ((marks?.length ?? 0) + (windows?.length ?? 0) >= this.#maxNames) {
      let victim = -1;
      let soonest = Infinity;
      if (windows !== undefined) {
        for (let i = 0; i < windows.length; i++) {
          const window = windows[i]!;
          const leaves = lastLeavesAt(window.data, window.windowMs);
          if (leaves < soonest && !this.#isFresh(window.name, false)) {
            victim = i;
            soonest = leaves;
          }
        }
      }
      if (victim >= 0) {
        removeAt(windows!, victim);
        continue;
      }
      if (marks !== undefined) {
        for (let i = 0; i < marks.length; i++) {
          const mark = marks[i]!;
          const ends = mark.until ?? Infinity;
          if ((victim < 0 || ends < soonest) && !this.#isFresh(mark.name, true)) {
            victim = i;
            soonest = ends;
          }
        }
      }
      // Nothing left but what this very call wrote: the subject may hold one call's names more.
      if (victim < 0) return;
      removeAt(marks!, victim);
    }
  }

  /** Whether the operation being applied has already written the window (or mark) `name`. */
  #isFresh(name: string, mark: boolean): boolean {
    const ops = this.#ops!;
    if (mark) {
      const set = ops.set!;
      for (let i = 0; i < this.#sets; i++) if (set[i]!.name === name) return true;
      return false;
    }
    if (this.#taken && ops.take!.some((t) => t.name === name)) return true;
    const add = ops.add;
    for (let i = 0; i < this.#adds; i++) if (add![i]!.name === name) return true;
    return false;
  }

  /**
   * Active marks named `name`, `limit` at a time, in the order of their subjects (UTF-16 code
   * units). The cursor is the last subject returned, so a listing returns each mark that is active
   * throughout it exactly once, whatever happens between pages: traffic reordering the LRUs
   * (a banned client's every request reads its ban), subjects evicted or marks ending. A cursor
   * counting the entries returned so far skipped a live ban (and repeated another) each time one
   * moved or went ahead of it. Each page walks every subject and sorts the marks after the
   * cursor: O(subjects) a page, fine for operator listings, not for hot paths. Read-only: expired
   * marks are not dropped.
   */
  async scan(name: string, options: { cursor?: string; limit: number; now: number }): Promise<{ entries: MarkEntry[]; cursor: string | null }> {
    if (this.#closed) throw new Error('MemoryStore: scan() after close(); create a new MemoryStore');
    const { limit, now, cursor } = options;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`MemoryStore: scan limit must be a positive integer, got ${show(limit)}`);
    if (typeof now !== 'number' || Number.isNaN(now)) throw new TypeError(`MemoryStore: scan now must be a number (ms), got ${show(now)}`);
    const after = cursor === undefined ? undefined : subjectOfCursor(cursor);
    if (after === null) throw new TypeError(`MemoryStore: scan cursor must be one a previous scan returned, got ${show(cursor)}`);
    const found: MarkEntry[] = [];
    // Subjects with marks may be in any of the LRUs.
    for (const [subject, record] of all<[string, Entry]>(this.#kept.entries(), this.#lasting.entries(), this.#pinned.entries(), this.#others.entries())) {
      if (after !== undefined && subject <= after) continue;
      const marks = isWindow(record) ? undefined : record.marks;
      const at = marks === undefined ? -1 : indexOfName(marks, name);
      if (at < 0) continue;
      const mark = marks![at]!;
      if (mark.until !== null && mark.until <= now) continue;
      found.push({ subject, name, value: mark.value, until: mark.until });
    }
    // A cursor only when there is more: the caller's loop ends on the last page, not after it.
    if (found.length <= limit) return { entries: found.sort(bySubject), cursor: null };
    const page = smallestBySubject(found, limit);
    return { entries: page, cursor: cursorOf(page[limit - 1]!.subject) };
  }

  /** Drops everything; later `apply` and `scan` calls reject. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#kept.clear();
    this.#lasting.clear();
    this.#pinned.clear();
    this.#others.clear();
    this.#ended = [];
    this.#ops = undefined;
  }
}

/** Whether `subject` is kept with the range registry: one of `PINNED_SUBJECTS`, or named with a `PINNED_PREFIXES` prefix. */
function isPinned(subject: string): boolean {
  for (let i = 0; i < PINNED_PREFIXES.length; i++) if (subject.startsWith(PINNED_PREFIXES[i]!)) return true;
  return PINNED_SUBJECTS.includes(subject);
}

/** Whether `name` is one of `TRANSIENT_MARKS`: a loop V8 inlines, where `includes` is a call per mark. */
function isTransient(name: string): boolean {
  for (let i = 0; i < TRANSIENT_MARKS.length; i++) if (TRANSIENT_MARKS[i] === name) return true;
  return false;
}

/**
 * Makes V8 store `subject` as one flat string rather than the tree of pieces a concatenation
 * builds (`near:${band}:${hex}` is two cons strings, a digit pair and the digits: four heap
 * objects, ~120 bytes, where the flat copy is one of ~40) before it is kept as an LRU key for as
 * long as the subject lives: reading a character flattens a cons string in place, and the
 * collector then drops the pieces; `Map` hashing does not. `isPinned`'s `startsWith` happens to
 * do it too, which is all that flattened keys before: said here, not left to a side effect. An
 * engine detail only: the string is the same either way.
 */
function flatten(subject: string): void {
  subject.charCodeAt(0);
}

/**
 * The options passed to every hot lru-cache `get` and `set`: called without, each defaults its
 * options to a new object (~1 KB a decision in a heap sample of the day workload, a scavenge's
 * worth every few hundred decisions). lru-cache writes the call's `status` into it (a new object
 * only while its diagnostics channel has subscribers), so it is cleared after each call: one
 * object for every call, as `apply` runs synchronously, and no status outlives its call.
 */
const CALL: { status?: undefined } = { status: undefined };

/** `lru.get(key)`, refreshing its recency, without allocating its options. */
function lookup<V extends object>(lru: LRUCache<string, V>, key: string): V | undefined {
  const value = lru.get(key, CALL);
  CALL.status = undefined;
  return value;
}

/** `lru.set(key, value)`, without allocating its options. */
function put<V extends object>(lru: LRUCache<string, V>, key: string, value: V): void {
  lru.set(key, value, CALL);
  CALL.status = undefined;
}

/** Whether an end of `a` comes after one of `b` (`null`: no end, the latest). */
function endsLater(a: number | null, b: number | null): boolean {
  return b !== null && (a === null || a > b);
}

Object.defineProperty(MemoryStore.prototype, SYNC_APPLY, { value: MemoryStore.prototype.apply });

/**
 * Whether #applyLone can apply `ops` to `found` (a lone window, or nothing): no takes, marks or
 * deletions (a read of marks finds none), and at most one add, to `found`'s window if any (an add
 * to another would make it a Subject of two windows). Anything else takes the general path.
 */
function isLoneOps(ops: SubjectOps, found: Window | undefined): boolean {
  if ((ops.take !== undefined && ops.take.length > 0) || ops.set !== undefined || ops.del !== undefined) return false;
  const add = ops.add;
  if (add === undefined || add.length === 0) return true;
  return add.length === 1 && (found === undefined || add[0]!.name === found.name);
}

/** Adds `cost` at `at` to `window`; whether it still holds hits at `now` (else its holder drops it). */
function hitWindow(window: Window, at: number, cost: number, now: number): boolean {
  const change = addHit(window.data, window.windowMs, at, cost);
  window.count = counted(window.count + change, cost);
  return liveCount(window, now) > 0;
}

/** A window `name` holding one hit of `cost` at `at`, or undefined when it holds nothing at `now` (a refund into nothing, or a hit already gone). */
function newLiveWindow(name: string, windowMs: number, at: number, cost: number, now: number): Window | undefined {
  const created: Window = { name, windowMs, data: newWindow(windowMs, at, cost), count: cost > 0 ? counted(cost, cost) : 0 };
  return liveCount(created, now) === 0 ? undefined : created;
}

/** The window `name` of `record` when it has that length and still holds hits (pruned at `now`); an emptied one is dropped. */
function liveWindow(record: Subject, name: string, windowMs: number, now: number): Window | undefined {
  const windows = record.windows;
  if (windows === undefined) return undefined;
  const at = indexOfName(windows, name);
  if (at < 0) return undefined;
  const window = windows[at]!;
  if (window.windowMs !== windowMs) return undefined;
  if (liveCount(window, now) > 0) return window;
  removeAt(windows, at);
  return undefined;
}

/** Where the entry named `name` is in `list`, or -1. */
function indexOfName(list: readonly { readonly name: string }[], name: string): number {
  for (let i = 0; i < list.length; i++) if (list[i]!.name === name) return i;
  return -1;
}

/** Removes the entry at `index`, keeping the order of the rest (the order #makeRoom breaks ties in). */
function removeAt(list: unknown[], index: number): void {
  for (let i = index + 1; i < list.length; i++) list[i - 1] = list[i];
  list.length -= 1;
}

/** Removes the entry named `name` of `list`, if any. */
function remove(list: { readonly name: string }[] | undefined, name: string): void {
  if (list === undefined) return;
  const at = indexOfName(list, name);
  if (at >= 0) removeAt(list, at);
}

/** Removes the entries `drop` picks, keeping the order of the rest. */
function removeWhere<T>(list: T[], drop: (entry: T) => boolean): void {
  let kept = 0;
  for (let i = 0; i < list.length; i++) {
    const entry = list[i]!;
    if (!drop(entry)) list[kept++] = entry;
  }
  list.length = kept;
}

/**
 * `list` with `entry` added last, as a new array of the exact length: `push` past an array's
 * capacity, or a spread, gives it 16 entries more (~130 bytes, where most subjects hold two or
 * three names), and `concat` of an object takes V8's slow path. Every list is made here, so all
 * have one elements kind.
 */
function append<T>(list: T[] | undefined, entry: T): T[] {
  const length = list === undefined ? 0 : list.length;
  const grown = new Array<T>(length + 1);
  for (let i = 0; i < length; i++) grown[i] = list![i]!;
  grown[length] = entry;
  return grown;
}

/**
 * The live count of `window` at `now` (what `prune` returns), dropping the slots that have left:
 * their count taken from the one kept, so only they are visited.
 */
function liveCount(window: Window, now: number): number {
  const dropped = dropLeft(window.data, window.windowMs, now);
  const count = window.count;
  if (count !== count) return total(window.data);
  return (window.count = count - dropped);
}

/** The count of a window `liveCount` has pruned. */
function countOf(window: Window): number {
  return window.count === window.count ? window.count : total(window.data);
}

/**
 * A window's kept count after `cost` lands, or NaN: exact only while every cost is a safe
 * integer and so is the sum (then any order of adding gives `prune`'s sum), and NaN stays NaN.
 */
function counted(count: number, cost: number): number {
  return Number.isSafeInteger(cost) && count <= Number.MAX_SAFE_INTEGER ? count : NaN;
}

/** Subjects are unique in a store: two entries never compare equal. */
const bySubject = (a: MarkEntry, b: MarkEntry) => (a.subject < b.subject ? -1 : 1);

/**
 * The `count` entries of smallest subject, in order: a max-heap of `count` over all of them,
 * O(m log count). Sorting every match on every page cost a listing of m bans O(m log m) a page.
 */
function smallestBySubject(entries: readonly MarkEntry[], count: number): MarkEntry[] {
  const heap: MarkEntry[] = [];
  const swap = (i: number, j: number) => {
    const t = heap[i]!;
    heap[i] = heap[j]!;
    heap[j] = t;
  };
  for (const entry of entries) {
    if (heap.length < count) {
      heap.push(entry);
      for (let i = heap.length - 1; i > 0 && heap[(i - 1) >> 1]!.subject < heap[i]!.subject; i = (i - 1) >> 1) swap(i, (i - 1) >> 1);
    } else if (entry.subject < heap[0]!.subject) {
      heap[0] = entry;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let top = i;
        if (l < count && heap[l]!.subject > heap[top]!.subject) top = l;
        if (r < count && heap[r]!.subject > heap[top]!.subject) top = r;
        if (top === i) break;
        swap(i, top);
        i = top;
      }
    }
  }
  return heap.sort(bySubject);
}

/** A scan cursor: `k` and the subject's UTF-16 code units in base64url (any string, lone surrogates too, round-trips). */
function cursorOf(subject: string): string {
  return `k${Buffer.from(subject, 'utf16le').toString('base64url')}`;
}

/** The subject a scan cursor names, or null when `cursorOf` made no such cursor. */
function subjectOfCursor(cursor: unknown): string | null {
  if (typeof cursor !== 'string' || !/^k[\w-]*$/.test(cursor)) return null;
  const subject = Buffer.from(cursor.slice(1), 'base64url').toString('utf16le');
  return cursorOf(subject) === cursor ? subject : null;
}

function* all<T>(...iterables: Iterable<T>[]): Generator<T> {
  for (const iterable of iterables) yield* iterable;
}

function total(data: WindowData): number {
  let count = 0;
  for (let i = 1; i < data.length; i += 2) count += data[i]!;
  return count;
}

/**
 * A deep, frozen copy of a JSON value: stored state can be changed neither by the writer
 * afterwards nor by a reader, and reads hand out the stored value itself, with no copy.
 */
function frozenCopy(value: MarkValue): MarkValue {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return Object.freeze(value.map(frozenCopy)) as MarkValue[];
  const copy: { [key: string]: MarkValue } = {};
  for (const key of Object.keys(value)) {
    const item = frozenCopy(value[key]!);
    // `copy.__proto__ = x` would set the prototype and lose the key (JSON.parse makes it an own key).
    if (key === '__proto__') Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
    else copy[key] = item;
  }
  return Object.freeze(copy);
}

/**
 * The subjects kept for counters: `counterReserve`, or 10% of `maxKeys` rounded up. Room for
 * 10,000 clients' counters at the default bound (a limit holds unless that many other subjects
 * arrive within its window) costs a ban flood only a tenth of the bans it could keep. Below
 * `maxKeys`, so a ban always has room (0 when `maxKeys` is 1: nothing can be set aside).
 */
function counterReserve(value: unknown, maxKeys: number): number {
  if (value === undefined) return Math.min(Math.ceil(maxKeys / 10), maxKeys - 1);
  const reserve = positiveInteger(value, 'counterReserve', 0);
  if (reserve >= maxKeys) throw new RangeError(`MemoryStore: counterReserve must be below maxKeys (${maxKeys}), got ${show(reserve)}`);
  return reserve;
}

function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`MemoryStore: ${name} must be a positive integer, got ${show(value)} (${typeof value})`);
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`MemoryStore: ${name} must be a positive integer, got ${show(value)}`);
  return value;
}

