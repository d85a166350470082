/**
 * RedisStore: the Store contract on Redis, for many processes on many machines. A batch is
 * grouped by cluster slot and each group runs as one Lua script (EVALSHA, EVAL on NOSCRIPT);
 * the groups are sent together, so an evaluation costs one round trip. Every subject is one hash
 * whose key hash-tags the escaped subject, so any subject string is safe: it can neither collide
 * with another nor inject a hash tag.
 */
import { createHash, randomBytes } from 'node:crypto';
import { StoreError, type MarkEntry, type MarkValue, type Store, type StoreBatch, type StoreResult, type SubjectOps, type SubjectResult } from '@actiongate/core';
import { scriptRunner, type ScriptRunner } from './client.js';
import { APPLY_SCRIPT } from './script.js';
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
}

const SHA = createHash('sha1').update(APPLY_SCRIPT).digest('hex');

/** `%`, `{` and `}` percent-encoded: the subject can hold no brace, so the hash tag is ours. */
function escapeSubject(subject: string): string {
  return subject.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function unescapeSubject(text: string): string {
  return text.replace(/%(25|7B|7D)/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** A subject's answer: [marks: name, json…], [counts: name, count…], [takes: name, count, admitted, resetMs…], consumed. */
type SubjectReply = [string[], (string | number)[], (string | number)[], number];

export class RedisStore implements Store {
  readonly name = 'redis';
  readonly #runner: ScriptRunner;
  readonly #prefix: string;
  readonly #serverTime: boolean;

  constructor(options: RedisStoreOptions) {
    if (!options || typeof options !== 'object') throw new TypeError('RedisStore: pass { client }');
    this.#runner = scriptRunner(options.client);
    this.#prefix = options.prefix ?? 'ag';
    if (typeof this.#prefix !== 'string' || /[{}]/.test(this.#prefix)) throw new TypeError('RedisStore: prefix must be a string without { or }');
    const time = options.time ?? 'server';
    if (time !== 'server' && time !== 'caller') throw new TypeError(`RedisStore: time must be "server" or "caller", got ${String(time)}`);
    this.#serverTime = time === 'server';
  }

  /** The Redis key of a subject's hash. */
  keyOf(subject: string): string {
    return `${this.#prefix}{${escapeSubject(subject)}}`;
  }

  async apply(batch: StoreBatch): Promise<StoreResult> {
    if (batch.subjects.length === 0) return { now: batch.now, subjects: [] };
    if (!this.#runner.ready()) throw new StoreError('redis', 'apply', 'the Redis client is not connected', { code: 'STORE_FAILED' });
    // One script per slot: a single server is one slot for our purposes.
    const groups = new Map<number, number[]>();
    batch.subjects.forEach((ops, index) => {
      const slot = this.#runner.cluster ? keySlot(this.keyOf(ops.subject)) : 0;
      const group = groups.get(slot);
      if (group) group.push(index);
      else groups.set(slot, [index]);
    });
    const now = this.#serverTime ? '' : String(batch.now);
    const results: SubjectResult[] = new Array(batch.subjects.length);
    let storeNow = batch.now;
    await Promise.all(
      [...groups.values()].map(async (indexes) => {
        const keys = indexes.map((i) => this.keyOf(batch.subjects[i]!.subject));
        const args = [now, randomBytes(9).toString('base64')];
        for (const i of indexes) encodeOps(batch.subjects[i]!, args);
        const reply = (await this.#runner.evalsha(SHA, APPLY_SCRIPT, keys, args)) as [number, ...SubjectReply[]];
        storeNow = Number(reply[0]);
        indexes.forEach((batchIndex, k) => {
          results[batchIndex] = decodeReply(batch.subjects[batchIndex]!.subject, reply[k + 1] as SubjectReply);
        });
      }),
    );
    return { now: storeNow, subjects: results };
  }

  async scan(name: string, options: { cursor?: string; limit: number; now: number }): Promise<{ entries: MarkEntry[]; cursor: string | null }> {
    // The cursor is "<node>:<that node's SCAN cursor>": a cluster is scanned master by master.
    const [nodeText, nodeCursor] = (options.cursor ?? '0:0').split(':') as [string, string];
    let node = Number(nodeText);
    let cursor = nodeCursor ?? '0';
    const nodes = await this.#runner.nodeCount();
    const entries: MarkEntry[] = [];
    const prefix = `${this.#prefix}{`;
    const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    while (node < nodes && entries.length < options.limit) {
      const [next, keys] = await this.#runner.scan(node, cursor, match, Math.max(options.limit, 100));
      for (const key of keys) {
        const raw = await this.#runner.hget(key, `m:${name}`);
        if (raw === null) continue;
        const sep = raw.indexOf('|');
        const until = sep > 0 ? Number(raw.slice(0, sep)) : null;
        if (until !== null && until <= options.now) continue;
        entries.push({ subject: unescapeSubject(key.slice(prefix.length, -1)), name, value: JSON.parse(raw.slice(sep + 1)), until });
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

/** Appends one subject's operations as the script reads them: six counts, then the items. */
function encodeOps(ops: SubjectOps, args: string[]): void {
  const { get = [], peek = [], take = [], add = [], set = [], del = [] } = ops;
  args.push(String(get.length), String(peek.length), String(take.length), String(add.length), String(set.length), String(del.length));
  for (const name of get) args.push(name);
  for (const p of peek) args.push(p.name, String(p.windowMs));
  for (const t of take) args.push(t.name, String(t.windowMs), String(t.max), String(t.cost), t.dryRun ? '1' : '0');
  for (const a of add) args.push(a.name, String(a.windowMs), String(a.cost), a.at === undefined ? '' : String(a.at));
  for (const m of set) args.push(m.name, JSON.stringify(m.value), m.until === null ? '' : String(m.until));
  for (const name of del) args.push(name);
}

function decodeReply(subject: string, [m, c, t, consumed]: SubjectReply): SubjectResult {
  const marks: Record<string, MarkValue> = Object.create(null);
  const counts: Record<string, number> = Object.create(null);
  for (let i = 0; i < m.length; i += 2) marks[String(m[i])] = JSON.parse(String(m[i + 1]));
  for (let i = 0; i < c.length; i += 2) counts[String(c[i])] = Number(c[i + 1]);
  const takes: SubjectResult['takes'] = [];
  for (let i = 0; i < t.length; i += 4) takes.push({ name: String(t[i]), count: Number(t[i + 1]), admitted: Number(t[i + 2]) === 1, resetMs: Number(t[i + 3]) });
  return { subject, marks, counts, takes, consumed: Number(consumed) === 1 };
}
