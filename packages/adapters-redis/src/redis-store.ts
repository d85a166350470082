/**
 * RedisStore: the Store contract on Redis, for many processes on many machines. Each subject is
 * one key whose hash tag is the escaped subject, so any subject string is safe: it can neither
 * collide with another nor inject a hash tag. A batch's subjects are applied by one Lua script
 * per cluster slot (EVALSHA, EVAL on NOSCRIPT), sent together, so an evaluation costs one round
 * trip; evaluations in flight at the same time share their script calls (`coalesce.ts`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { StoreError, validateBatch, type MarkEntry, type MarkValue, type Store, type StoreBatch, type StoreResult, type SubjectOps, type SubjectResult, type WindowAdd } from '@actiongate/core';
import { emptyRecord } from '@actiongate/memory';
import { scriptRunner, type ScriptRunner } from './client.js';
import { createCoalescer, type Coalescer, type PendingCall } from './coalesce.js';
import { APPLY_SCRIPT, READ_MARK_SCRIPT } from './script.js';
import { ByteWriter, nameArgument, writeShape } from './shapes.js';
import { keySlot } from './slot.js';

export interface RedisStoreOptions {
  /** An ioredis `Redis`/`Cluster` or a node-redis (v4+) client/cluster, connected by the host. */
  client: unknown;
  /** Prefix of every key. @default "ag" */
  prefix?: string;
  /**
   * Whose clock windows and expiries use: `server` (Redis `TIME`, so app servers with skewed
   * clocks agree) or `caller` (the guard's `now`: replay and tests).
   * @default "server"
   */
  time?: 'server' | 'caller';
  /**
   * Most subjects one script call carries when concurrent evaluations share calls: bigger calls
   * cost Redis less per decision but hold it longer (a script runs alone). 1 turns sharing off.
   * @default 128
   */
  maxSubjectsPerCall?: number;
  /**
   * Most evaluations one script call carries. A full call leaves at once, so Redis works on it
   * while the client is still reading the last answer: with 64 evaluations in flight, 16 made
   * 20–60% more decisions/s than no cap; with hundreds in flight, a larger cap costs Redis a
   * little less per decision.
   * @default 16
   */
  maxEvaluationsPerCall?: number;
  /**
   * Most subjects waiting for Redis at once; past it, `apply` fails at once (`STORE_FAILED`) and
   * decisions follow `failMode`. A Redis that hangs without closing the connection (a stopped
   * process, a network that drops packets: TCP may wait 15 minutes) answers nothing, and every
   * decision meanwhile left its call, and the decision's own state, in memory: 3 KB each, so
   * 5,000 decisions/s grew the heap by 1 GB a minute. Far above what a process keeps in flight
   * while Redis answers (its decisions per second × Redis's latency).
   * @default 8192
   */
  maxSubjectsInFlight?: number;
}

const notConnected = (operation: 'apply' | 'scan' = 'apply') => new StoreError('redis', operation, 'the Redis client is not connected', { code: 'STORE_FAILED' });
const tooManyWaiting = (waiting: number) =>
  new StoreError('redis', 'apply', `${waiting} subjects are already waiting for Redis (maxSubjectsInFlight): refused at once rather than held in memory until it answers`, { code: 'STORE_FAILED' });
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
const APPLY_SHA = sha1(APPLY_SCRIPT);
const READ_MARK_SHA = sha1(READ_MARK_SCRIPT);

/**
 * `%`, `{` and `}` percent-encoded: the subject can hold no brace, so the hash tag is ours. A lone
 * surrogate is encoded too (`%uD800`): Redis keys are UTF-8, where every lone surrogate becomes
 * U+FFFD, so `a\uD800` and `a\uFFFD` would otherwise share a key, and one actor id could spend
 * another's limits.
 */
function escapeSubject(subject: string): string {
  if (!NEEDS_ESCAPE.test(subject)) return subject; // the usual subject: no replace, no callback
  return subject.replace(ESCAPED, escapeMatch);
}
/** A pair is matched whole (and kept), so only a surrogate without its partner is encoded. */
const ESCAPED = /[%{}]|[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDFFF]/g;
const NEEDS_ESCAPE = /[%{}\uD800-\uDFFF]/;

function escapeMatch(match: string): string {
  if (match.length === 2) return match;
  const hex = match.charCodeAt(0).toString(16).toUpperCase();
  return match >= '\uD800' ? `%u${hex}` : `%${hex}`;
}

function unescapeSubject(text: string): string {
  return text.replace(/%(25|7B|7D|u[0-9A-F]{4})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex[0] === 'u' ? hex.slice(1) : hex, 16)));
}

/**
 * The script's answer: now, resent (0/1), then per key in call order its gets as one item (null
 * when none of the marks is there, else a JSON array of [value] or 0 per get; for a lone get, the
 * mark's JSON itself), each peek's count,
 * each take's count, admitted and resetMs, and consumed. Numbers
 * come as integers, or as text (a fraction, past 2^53); text may come as a Buffer (evalshaRaw).
 */
type ApplyReply = (string | number | Buffer | null)[];

/** Each subject's call and where its answer starts in that call's reply; null for an empty batch. */
type Joined = { calls: PendingCall[]; offsets: number[] } | null;

/** A failed call as the store's error: a StoreError as it is, anything else (a client's error) wrapped. */
function failed(error: unknown): never {
  throw error instanceof StoreError ? error : new StoreError('redis', 'apply', error instanceof Error ? error.message : String(error), { cause: error });
}

/** A number of the answer: an integer reply, or one sent as text. */
function num(item: string | number | Buffer | null | undefined): number {
  return typeof item === 'number' ? item : Number(String(item));
}

export class RedisStore implements Store {
  readonly name = 'redis';
  readonly #runner: ScriptRunner;
  readonly #prefix: string;
  readonly #serverTime: boolean;
  readonly #calls: Coalescer;
  readonly #maxInFlight: number;
  /**
   * Request ids: random per store, a dot, then a counter in base 36, so no two calls anywhere
   * share one, and the script can tell a store's calls apart and in order (a refund's resend).
   */
  readonly #requestBase = randomBytes(9).toString('base64');
  #requestCount = 0;
  /** Each apply's shapes are encoded here first, all of them before any joins a call. */
  readonly #scratch = new ByteWriter(1024);
  readonly #spans: number[] = [];
  readonly #items: number[] = [];

  constructor(options: RedisStoreOptions) {
    if (!options || typeof options !== 'object') throw new TypeError('RedisStore: pass { client }');
    this.#runner = scriptRunner(options.client);
    this.#prefix = options.prefix ?? 'ag';
    if (typeof this.#prefix !== 'string' || /[{}]/.test(this.#prefix)) throw new TypeError('RedisStore: prefix must be a string without { or }');
    const time = options.time ?? 'server';
    if (time !== 'server' && time !== 'caller') throw new TypeError(`RedisStore: time must be "server" or "caller", got ${String(time)}`);
    this.#serverTime = time === 'server';
    const maxKeys = options.maxSubjectsPerCall ?? 128;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new TypeError(`RedisStore: maxSubjectsPerCall must be a positive integer, got ${String(maxKeys)}`);
    const maxBatches = options.maxEvaluationsPerCall ?? 16;
    if (!Number.isInteger(maxBatches) || maxBatches < 1) throw new TypeError(`RedisStore: maxEvaluationsPerCall must be a positive integer, got ${String(maxBatches)}`);
    this.#maxInFlight = options.maxSubjectsInFlight ?? 8192;
    if (!Number.isInteger(this.#maxInFlight) || this.#maxInFlight < 1) throw new TypeError(`RedisStore: maxSubjectsInFlight must be a positive integer, got ${String(this.#maxInFlight)}`);
    this.#calls = createCoalescer({
      maxKeys,
      maxBatches,
      requestId: () => `${this.#requestBase}.${(this.#requestCount++).toString(36)}`,
      // Checked again when sent: the connection may have dropped while the call was gathering,
      // and a client that queues offline would run it long after its decisions were made.
      send: (keys, args) => (this.#runner.ready() ? this.#runner.evalshaRaw(APPLY_SHA, APPLY_SCRIPT, keys, args) : Promise.reject(notConnected())),
    });
  }

  /** The Redis key of a subject's record. */
  keyOf(subject: string): string {
    return `${this.#prefix}{${escapeSubject(subject)}}`;
  }

  apply(batch: StoreBatch): Promise<StoreResult> {
    let joined: Joined;
    try {
      joined = this.#join(batch);
    } catch (error) {
      return Promise.reject(error);
    }
    if (joined === null) return Promise.resolve({ now: batch.now, subjects: [] });
    // Usually every subject joined one call (one slot, and no call filled up in between): its
    // reply is then read in one callback, not by an async function awaiting it once per subject,
    // which cost each decision two more promises and microtask turns.
    const { calls, offsets } = joined;
    const first = calls[0]!;
    let single = true;
    for (let i = 1; i < calls.length; i++) if (calls[i] !== first) single = false;
    if (single) return first.reply.then((reply) => this.#read(batch, offsets, reply as ApplyReply, null), failed);
    const replies = calls.map((call) => call.reply);
    return Promise.all(replies).then(
      (answers) => this.#read(batch, offsets, null, answers as ApplyReply[]),
      (error: unknown) => {
        void this.#undoAnswered(batch, offsets, replies);
        return failed(error);
      },
    );
  }

  /**
   * A batch spread over slots whose call failed on one slot (its master down, a cluster being
   * resharded) was still applied on the others: their takes and adds counted for a decision that
   * follows failMode without them. On a cluster that lost one master of three, each degraded
   * decision then spent a hit of its client's limits on the masters still up, and after the outage
   * honest clients met limits the outage had used up. Once every call has settled, what the
   * answered ones counted is given back (a refund at the time of the hit: the window's own
   * arithmetic, never below zero). Best effort: a refund that fails is dropped, as the decision
   * already was.
   */
  async #undoAnswered(batch: StoreBatch, offsets: number[], replies: Promise<unknown>[]): Promise<void> {
    const settled = await Promise.allSettled(replies);
    const refunds: SubjectOps[] = [];
    for (let i = 0; i < settled.length; i++) {
      const outcome = settled[i]!;
      if (outcome.status !== 'fulfilled') continue;
      const answer = outcome.value as ApplyReply;
      if (num(answer[1]) === 1) continue; // a resend the script refused: it counted nothing
      const ops = batch.subjects[i]!;
      const at = this.#serverTime ? num(answer[0]) : batch.now;
      const result = decodeReply(ops, answer, offsets[i]!);
      const add: WindowAdd[] = [];
      if (result.consumed) for (const take of ops.take!) if (!take.dryRun) add.push({ name: take.name, windowMs: take.windowMs, cost: -take.cost, at });
      for (const hit of ops.add ?? []) if (hit.cost > 0) add.push({ name: hit.name, windowMs: hit.windowMs, cost: -hit.cost, at: hit.at ?? at });
      if (add.length > 0) refunds.push({ subject: ops.subject, add });
    }
    if (refunds.length > 0) await this.apply({ now: batch.now, subjects: refunds }).catch(() => undefined);
  }

  /**
   * Validates and encodes a batch, and joins each subject to the call gathering for its slot:
   * each subject's call and where its answer starts in that call's reply. Null for no subjects.
   */
  #join(batch: StoreBatch): Joined {
    validateBatch(batch, 'RedisStore');
    const subjects = batch.subjects;
    if (subjects.length === 0) return null;
    if (!this.#runner.ready()) throw notConnected();
    const waiting = this.#calls.subjectsInFlight();
    if (waiting > 0 && waiting + subjects.length > this.#maxInFlight) throw tooManyWaiting(waiting);
    // Every subject is encoded before the first joins a call: one that cannot be encoded (a mark
    // value JSON cannot hold) then fails the whole batch, never half of it.
    const scratch = this.#scratch;
    const spans = this.#spans;
    const items = this.#items;
    scratch.length = 0;
    spans.length = 0;
    items.length = 0;
    for (let i = 0; i < subjects.length; i++) {
      spans.push(scratch.length);
      items.push(writeShape(scratch, subjects[i]!));
    }
    spans.push(scratch.length);
    // With the caller's clock, only evaluations made at the same moment, one after the other,
    // share a call (the coalescer sends another clock's call first).
    const clock = this.#serverTime ? '' : String(batch.now);
    const calls: PendingCall[] = new Array(subjects.length);
    const offsets: number[] = new Array(subjects.length);
    for (let i = 0; i < subjects.length; i++) {
      const ops = subjects[i]!;
      const key = this.keyOf(ops.subject);
      const slot = this.#runner.cluster ? keySlot(key) : 0;
      const call = this.#calls.callFor(String(slot), clock);
      calls[i] = call;
      offsets[i] = call.join(key, scratch.bytes, spans[i]!, spans[i + 1]!, items[i]!, answerLength(ops), readOnly(ops));
    }
    this.#calls.submit();
    return { calls, offsets };
  }

  /** The result of a batch from the one reply of all its subjects' call, or from each subject's call's reply. */
  #read(batch: StoreBatch, offsets: number[], reply: ApplyReply | null, replies: ApplyReply[] | null): StoreResult {
    const subjects = batch.subjects;
    const results: SubjectResult[] = new Array(subjects.length);
    let storeNow = batch.now;
    for (let i = 0; i < subjects.length; i++) {
      const answer = reply ?? replies![i]!;
      if (num(answer[1]) === 1) throw new StoreError('redis', 'apply', 'the call was sent again after a reconnect and had already been applied: not applied twice');
      storeNow = num(answer[0]);
      results[i] = decodeReply(subjects[i]!, answer, offsets[i]!);
    }
    return { now: this.#serverTime ? storeNow : batch.now, subjects: results };
  }

  async scan(name: string, options: { cursor?: string; limit: number; now: number }): Promise<{ entries: MarkEntry[]; cursor: string | null }> {
    // Checked as MemoryStore checks them: a limit below 1 read no key and answered "more to
    // come" with the cursor it was given, so a host paging until the cursor is null never
    // stopped; a made-up cursor reached Redis and failed with a raw ReplyError.
    const { limit, now } = options;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`RedisStore: scan limit must be a positive integer, got ${shown(limit)}`);
    if (typeof now !== 'number' || Number.isNaN(now)) throw new TypeError(`RedisStore: scan now must be a number (ms), got ${shown(now)}`);
    if (options.cursor !== undefined && (typeof options.cursor !== 'string' || !/^\d{1,6}:\d{1,20}$/.test(options.cursor))) {
      throw new TypeError(`RedisStore: scan cursor must be one a previous scan returned, got ${shown(options.cursor)}`);
    }
    // The cursor is "<node>:<that node's SCAN cursor>": a cluster is scanned master by master.
    const [nodeText, nodeCursor] = (options.cursor ?? '0:0').split(':') as [string, string];
    let node = Number(nodeText);
    let cursor = nodeCursor;
    // Refused while not connected, as apply is: the client would hold the SCAN in its offline
    // queue (with `maxRetriesPerRequest: null`, until it reconnects), and an ioredis Cluster that
    // lost its connections has no masters left, so the listing said "no marks" and ended.
    if (!this.#runner.ready()) throw notConnected('scan');
    const nodes = await this.#runner.nodeCount();
    if (nodes === 0) throw notConnected('scan');
    const entries: MarkEntry[] = [];
    const prefix = `${this.#prefix}{`;
    const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    const count = Math.max(limit, 100);
    // Each key found costs a script call: a page stops once it has read SCAN_READS_PER_PAGE
    // times its SCAN count, full or not, and answers a cursor to go on from. Filling a page
    // regardless read every key of a keyspace holding few marks (a million counters: minutes
    // and a million calls), far past any deadline, so a listing never returned while Redis
    // went on serving the abandoned reads.
    const budget = count * SCAN_READS_PER_PAGE;
    let read = 0;
    const nameArg = nameArgument(name);
    while (node < nodes && entries.length < limit && read < budget) {
      const [next, keys] = await this.#runner.scan(node, cursor, match, count);
      read += keys.length;
      // One read per key: a cluster node's keys span many slots, and a script may touch one.
      const marks = await Promise.all(
        keys.filter((key) => key.endsWith('}')).map(async (key) => [key, await this.#runner.evalsha(READ_MARK_SHA, READ_MARK_SCRIPT, [key], [nameArg, String(now)])] as const),
      );
      for (const [key, mark] of marks) {
        if (!Array.isArray(mark)) continue;
        const [until, json] = mark as [string, string];
        entries.push({ subject: unescapeSubject(key.slice(prefix.length, -1)), name, value: JSON.parse(json) as MarkValue, until: until === '' ? null : Number(until) });
      }
      if (next === '0') {
        node++;
        cursor = '0';
      } else {
        cursor = next;
      }
    }
    return { entries, cursor: node < nodes ? `${node}:${cursor}` : null };
  }

  /** The host owns the client: closing the store does not close it. */
  async close(): Promise<void> {}
}

/** Keys one `scan` call reads at most, as a multiple of its SCAN count (`max(limit, 100)`). */
const SCAN_READS_PER_PAGE = 10;

/** A bad scan argument as its message shows it: short, and a string quoted. */
function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : String(value);
}

/** Whether a subject's operations only read (gets and peeks; an ended mark a get drops is dropped alike for every read). */
function readOnly(ops: SubjectOps): boolean {
  return !ops.take?.length && !ops.add?.length && !ops.set?.length && !ops.del?.length;
}

/** How many answer items a subject's operations produce. */
function answerLength(ops: SubjectOps): number {
  return (ops.get?.length ? 1 : 0) + (ops.peek?.length ?? 0) + 3 * (ops.take?.length ?? 0) + 1;
}

function decodeReply(ops: SubjectOps, reply: ApplyReply, at: number): SubjectResult {
  const marks = emptyRecord<MarkValue>();
  const counts = emptyRecord<number>();
  const takes: SubjectResult['takes'] = [];
  const gets = ops.get;
  if (gets !== undefined && gets.length > 0) {
    const json = reply[at++];
    if (json !== null && json !== undefined && gets.length === 1) {
      marks[gets[0]!] = JSON.parse(String(json)) as MarkValue;
    } else if (json !== null && json !== undefined) {
      const found = JSON.parse(String(json)) as (0 | [MarkValue])[];
      for (let g = 0; g < gets.length; g++) {
        const value = found[g];
        if (value !== 0 && value !== undefined) marks[gets[g]!] = value[0];
      }
    }
  }
  for (const p of ops.peek ?? []) counts[p.name] = num(reply[at++]);
  for (const t of ops.take ?? []) {
    takes.push({ name: t.name, count: num(reply[at]), admitted: num(reply[at + 1]) === 1, resetMs: num(reply[at + 2]) });
    at += 3;
  }
  return { subject: ops.subject, marks, counts, takes, consumed: num(reply[at]) === 1 };
}
