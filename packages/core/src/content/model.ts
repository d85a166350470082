/**
 * The content model: a spam classifier (see `bayes.ts`) whose counts live in the store, so
 * every process learns from every other's feedback, and whose predictions come from an
 * in-process replica, so a decision never waits for the store.
 *
 * Store layout. The store offers atomic increments only as sliding windows, so each count is a
 * window of length `window` (180 days by default: the model forgets tactics nobody uses any
 * more, and every key carries a TTL). Bucket `b` of `buckets` lives in subject
 * `model:v1:<name>:<buckets>:<b / 32>` as windows `s<b % 32>` (spam documents with a token in
 * the bucket) and `h<b % 32>` (ham): 64 windows per subject, MemoryStore's default bound per
 * subject. Subject `…:docs` holds windows `spam` and `ham`, the documents learned. Training is
 * one `add` per touched bucket with the batch's count as its cost, so concurrent trainers in
 * several processes lose nothing (adds commute), and a batch of 10,000 examples costs one add
 * per distinct bucket, not per example. The bucket count is part of the subject names: a model
 * with another bucket count is another model, never a corrupted one.
 *
 * The replica is two Float64Arrays of `buckets` counts (1 MB at the default 65,536 buckets),
 * refreshed by `sync` every `refreshMs`: started by the first prediction that finds it stale and
 * never awaited by it. A refresh reads the document counts (one subject) and, only when they
 * changed, every bucket (2,048 subjects at the default, in batches of 256), swapping the new
 * replica in whole. A process's own training is added to its replica at once.
 */
import { ActionError, shown, type PolicyProblem } from '../errors.js';
import type { Store, StoreBatch, SubjectOps } from '../store/types.js';
import { spamProbability } from './bayes.js';
import { DEFAULT_MAX_FIELD_LENGTH, joinSpelledOut, normaliseText } from './normalise.js';
import { contentBuckets, DEFAULT_MAX_TOKENS, type TokenFields } from './tokens.js';

export type ModelLabel = 'spam' | 'ham';

/** A text, or the content fields of an action (`{ title, body }`). */
export type ModelInput = string | Readonly<Record<string, string>>;

export interface ContentModelOptions {
  /** Names the model in the store: guards with the same name share one model. @default "default" */
  name?: string;
  /** How long a learned example counts, in ms. @default 15552000000 (180 days) */
  windowMs?: number;
  /** Spam examples needed before the model predicts (`null` until then). @default 200 */
  minSpam?: number;
  /** Ham examples needed before the model predicts. @default 200 */
  minHam?: number;
  /** Hash buckets: a power of two from 1,024 to 1,048,576. More buckets, fewer collisions, more store subjects. @default 65536 */
  buckets?: number;
  /** How often the replica is refreshed from the store, in ms. @default 60000 */
  refreshMs?: number;
  /** Content fields read by `predict` and `learn` with a record; omitted = every field. */
  fields?: readonly string[];
  /** Characters of a field that are read. @default 65536 */
  maxFieldLength?: number;
  /** Distinct tokens read per example. @default 3000 */
  maxTokens?: number;
  /** Clock in epoch ms (training time, refresh). @default Date.now */
  now?: () => number;
  /** A background refresh failed (the replica stays as it was). */
  onError?: (error: Error) => void;
}

export interface ModelStats {
  name: string;
  buckets: number;
  /** Examples learned, within the window. */
  spam: number;
  ham: number;
  /** Enough of both classes to predict. */
  ready: boolean;
  /** Buckets holding any count. */
  usedBuckets: number;
  /** When the replica was last read from the store (epoch ms), or null. */
  syncedAt: number | null;
}

/** The export format: sparse counts, `[bucket, count, bucket, count, …]`, ascending buckets. */
export interface ModelFile {
  format: 'actiongate-content-model';
  version: 1;
  name: string;
  buckets: number;
  /** The tokenizer and hash the buckets were filled with. */
  tokenizer: typeof TOKENIZER;
  exportedAt: string;
  spamDocs: number;
  hamDocs: number;
  spam: number[];
  ham: number[];
}

export interface ContentModel {
  readonly name: string;
  /** True once the model has seen `minSpam` spam and `minHam` ham examples. */
  readonly ready: boolean;
  /** Spam probability in [0, 1] from the replica, or `null` while the model is inert. Never touches the store. */
  predict(input: ModelInput): number | null;
  /**
   * `predict` for fields already normalised and joined (`normaliseText`, then `joinSpelledOut`),
   * `[field, text]` in order: the content signals pass theirs. Reads plain ASCII fields without
   * building their tokens (tokens.ts `contentBuckets`).
   */
  predictFields(fields: TokenFields): number | null;
  /** Learns one example: one store batch, and the replica updated at once (an example with no text teaches nothing). */
  learn(input: ModelInput, label: ModelLabel): Promise<void>;
  /** Learns many examples with one add per touched bucket; resolves to how many of each were learned (an example with no text is none). */
  learnMany(examples: Iterable<{ content: ModelInput; label: ModelLabel }>): Promise<{ spam: number; ham: number }>;
  /** Reads every count from the store into a new replica (concurrent calls share one read). */
  sync(): Promise<void>;
  /** The model's counts as they are in the store now (every bucket is read, also while the model is inert). */
  export(): Promise<ModelFile>;
  /** Adds the counts of an exported model to the store (merging with what is there), then syncs. */
  import(file: unknown): Promise<void>;
  stats(): ModelStats;
}

/** Identifies the tokenizer and hash of `tokens.ts` and `bayes.ts`: a model file says which it used. */
export const TOKENIZER = 'actiongate-4';

/**
 * Tokenizers whose files this version imports. The older ones differ only on text of some
 * scripts: `actiongate-1` on CJK (a phrase was one token, now its character pairs),
 * `actiongate-2` on text with marks (Indic words were split at their vowel signs; Thai and the
 * other unspaced scripts were words, now pairs), `actiongate-3` on words with `ß` (now `ss`) and
 * Cyrillic words with Latin look-alikes in them (now Cyrillic). Their counts of every other text
 * are the same tokens in the same buckets, and their other tokens simply never match again.
 */
const READABLE_TOKENIZERS: readonly unknown[] = ['actiongate-1', 'actiongate-2', 'actiongate-3', TOKENIZER];

const DAY = 86_400_000;
/** Buckets per store subject: two windows each, 64 windows, MemoryStore's per-subject bound. */
const SHARD = 32;
/** Subjects per store batch when the whole model is read or written. */
const CHUNK = 256;

interface Replica {
  spam: Float64Array;
  ham: Float64Array;
  spamDocs: number;
  hamDocs: number;
}

/** Counts to add: by bucket, only the buckets that change. */
export interface ModelDelta {
  spam: Map<number, number>;
  ham: Map<number, number>;
  spamDocs: number;
  hamDocs: number;
}

const emptyDelta = (): ModelDelta => ({ spam: new Map(), ham: new Map(), spamDocs: 0, hamDocs: 0 });

/** Validated options with defaults; throws a `TypeError` naming the bad option. */
function settle(options: ContentModelOptions) {
  const int = (value: number | undefined, name: string, fallback: number, min: number, max: number) => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < min || value > max) throw new TypeError(`createContentModel: ${name} must be a whole number from ${min} to ${max}, got ${String(value)}`);
    return value;
  };
  const buckets = int(options.buckets, 'buckets', 65_536, 1_024, 1_048_576);
  if ((buckets & (buckets - 1)) !== 0) throw new TypeError(`createContentModel: buckets must be a power of two, got ${buckets}`);
  const name = options.name ?? 'default';
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) throw new TypeError(`createContentModel: name must be a non-empty string of at most 200 characters, got ${shown(name)}`);
  return {
    name,
    buckets,
    windowMs: int(options.windowMs, 'windowMs', 180 * DAY, 60_000, 3650 * DAY),
    minSpam: int(options.minSpam, 'minSpam', 200, 1, 1e9),
    minHam: int(options.minHam, 'minHam', 200, 1, 1e9),
    refreshMs: int(options.refreshMs, 'refreshMs', 60_000, 1, 7 * DAY),
    maxFieldLength: int(options.maxFieldLength, 'maxFieldLength', DEFAULT_MAX_FIELD_LENGTH, 1, 16_777_216),
    maxTokens: int(options.maxTokens, 'maxTokens', DEFAULT_MAX_TOKENS, 1, 100_000),
    fields: options.fields,
    now: options.now ?? Date.now,
    onError: options.onError,
  };
}

/** A model whose counts live in `store`. Starts empty: call `sync()` to load what the store holds. */
export function createContentModel(options: ContentModelOptions, store: Store): ContentModel {
  const config = settle(options);
  const { buckets, windowMs, name } = config;
  const prefix = `model:v1:${name}:${buckets}`;
  const docsSubject = `${prefix}:docs`;
  const shardSubject = (shard: number) => `${prefix}:${shard}`;
  const shards = buckets / SHARD;

  let replica: Replica = { spam: new Float64Array(buckets), ham: new Float64Array(buckets), spamDocs: 0, hamDocs: 0 };
  let syncedAt: number | null = null;
  let syncing: Promise<void> | null = null;
  let resync = false;
  /** The document counts and time of the last read of every bucket. */
  let fullRead: { at: number; spamDocs: number; hamDocs: number } | null = null;

  const isReady = () => replica.spamDocs >= config.minSpam && replica.hamDocs >= config.minHam;

  /** The buckets of an input's tokens (tokens.ts `contentBuckets`: shared scratch, valid until the next call). */
  function featuresOf(input: ModelInput): Uint32Array {
    if (typeof input === 'string') return contentBuckets([['body', prepare(input)]], buckets, config.maxTokens);
    if (typeof input !== 'object' || input === null) throw new ActionError('content', `a model example is a string or an object of string fields, got ${input === null ? 'null' : typeof input}`);
    const names = config.fields ?? Object.keys(input);
    const fields: [string, string][] = [];
    for (const field of names) {
      const raw = Object.hasOwn(input, field) ? input[field] : undefined;
      if (typeof raw === 'string' && raw.length > 0) fields.push([field, prepare(raw)]);
    }
    return contentBuckets(fields, buckets, config.maxTokens);
  }
  const prepare = (text: string) => joinSpelledOut(normaliseText(text, config.maxFieldLength));

  function predictFeatures(features: ArrayLike<number>): number | null {
    if (config.refreshMs > 0 && (syncedAt === null || config.now() - syncedAt >= config.refreshMs)) refreshInBackground();
    if (!isReady()) return null;
    return spamProbability(replica, features);
  }

  function refreshInBackground(): void {
    if (syncing) return;
    sync().catch((error: Error) => {
      try {
        config.onError?.(error);
      } catch {
        // A failing error callback must not become an unhandled rejection.
      }
    });
  }

  function sync(): Promise<void> {
    syncing ??= read().finally(() => {
      syncing = null;
      if (resync) {
        resync = false;
        refreshInBackground();
      }
    });
    return syncing;
  }

  /**
   * The store's counts into a new replica, swapped in whole. A refresh first reads the two
   * document counts (one subject): while the model is inert, or while they are what the last
   * full read saw (nobody learned), the 2,048 bucket subjects are not read. Every tenth refresh
   * reads them anyway, since expiring and new examples can leave the totals equal.
   */
  async function read(): Promise<void> {
    const now = config.now();
    // Stamped first: a failing store is retried once per refresh interval, not per prediction.
    syncedAt = now;
    const docs = await store.apply({ now, subjects: [{ subject: docsSubject, peek: [{ name: 'spam', windowMs }, { name: 'ham', windowMs }] }] });
    const spamDocs = docs.subjects[0]?.counts.spam ?? 0;
    const hamDocs = docs.subjects[0]?.counts.ham ?? 0;
    const inert = spamDocs < config.minSpam || hamDocs < config.minHam;
    const unchanged = fullRead !== null && fullRead.spamDocs === spamDocs && fullRead.hamDocs === hamDocs && now - fullRead.at < 10 * config.refreshMs;
    if (inert || unchanged) {
      // Inert: the bucket counts are not needed until the model is ready, and then read in full.
      if (inert) {
        replica = { ...replica, spamDocs, hamDocs };
        fullRead = null;
      }
      return;
    }
    replica = await readBuckets(now, spamDocs, hamDocs);
    fullRead = { at: now, spamDocs, hamDocs };
  }

  /** Every bucket subject, in batches of `CHUNK`, into a new replica. */
  async function readBuckets(now: number, spamDocs: number, hamDocs: number): Promise<Replica> {
    const next: Replica = { spam: new Float64Array(buckets), ham: new Float64Array(buckets), spamDocs, hamDocs };
    const windows = Array.from({ length: SHARD }, (_, i) => [{ name: `s${i}`, windowMs }, { name: `h${i}`, windowMs }]).flat();
    for (let start = 0; start < shards; start += CHUNK) {
      const subjects: SubjectOps[] = [];
      for (let shard = start; shard < Math.min(shards, start + CHUNK); shard++) subjects.push({ subject: shardSubject(shard), peek: windows });
      const result = await store.apply({ now, subjects });
      result.subjects.forEach((answer, i) => {
        const base = (start + i) * SHARD;
        for (let b = 0; b < SHARD; b++) {
          next.spam[base + b] = answer.counts[`s${b}`] ?? 0;
          next.ham[base + b] = answer.counts[`h${b}`] ?? 0;
        }
      });
    }
    return next;
  }

  /** Writes counts as adds, in chunks of subjects, then adds them to the replica. */
  async function write(delta: ModelDelta): Promise<void> {
    const now = config.now();
    const bySubject = new Map<number, SubjectOps>();
    const addTo = (counts: Map<number, number>, window: string) => {
      for (const [bucket, cost] of counts) {
        const shard = Math.floor(bucket / SHARD);
        let ops = bySubject.get(shard);
        if (!ops) bySubject.set(shard, (ops = { subject: shardSubject(shard), add: [] }));
        ops.add!.push({ name: `${window}${bucket % SHARD}`, windowMs, cost });
      }
    };
    addTo(delta.spam, 's');
    addTo(delta.ham, 'h');
    const docs: SubjectOps = { subject: docsSubject, add: [] };
    if (delta.spamDocs > 0) docs.add!.push({ name: 'spam', windowMs, cost: delta.spamDocs });
    if (delta.hamDocs > 0) docs.add!.push({ name: 'ham', windowMs, cost: delta.hamDocs });
    const subjects = [...(docs.add!.length > 0 ? [docs] : []), ...bySubject.values()];
    for (let start = 0; start < subjects.length; start += CHUNK) {
      const batch: StoreBatch = { now, subjects: subjects.slice(start, start + CHUNK) };
      await store.apply(batch);
    }
    // The replica learns what this process taught without waiting for the next refresh. A read
    // in flight may have missed these writes: read again once it is done.
    const current = replica;
    for (const [bucket, cost] of delta.spam) current.spam[bucket]! += cost;
    for (const [bucket, cost] of delta.ham) current.ham[bucket]! += cost;
    current.spamDocs += delta.spamDocs;
    current.hamDocs += delta.hamDocs;
    fullRead = null; // the next refresh reads every bucket
    if (syncing) resync = true;
  }

  async function learnMany(examples: Iterable<{ content: ModelInput; label: ModelLabel }>) {
    const delta = emptyDelta();
    let index = 0;
    for (const example of examples) {
      const label = example?.label;
      if (label !== 'spam' && label !== 'ham') throw new ActionError(`examples[${index}].label`, `is "spam" or "ham", got ${shown(label)}`);
      index++;
      const features = featuresOf(example.content);
      // An example with no text (empty, blank, or only fields the model does not read: feedback
      // on an action without content text) teaches nothing, and counted as a document it would
      // shift the class ratio of every clue and bring an inert model to `ready` on no evidence.
      if (features.length === 0) continue;
      const counts = label === 'spam' ? delta.spam : delta.ham;
      for (const bucket of features) counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
      if (label === 'spam') delta.spamDocs++;
      else delta.hamDocs++;
    }
    await write(delta);
    return { spam: delta.spamDocs, ham: delta.hamDocs };
  }

  /** What the store holds now, read in full (also while the model is inert), apart from the replica. */
  async function exportModel(): Promise<ModelFile> {
    const now = config.now();
    const docs = await store.apply({ now, subjects: [{ subject: docsSubject, peek: [{ name: 'spam', windowMs }, { name: 'ham', windowMs }] }] });
    const stored = await readBuckets(now, docs.subjects[0]?.counts.spam ?? 0, docs.subjects[0]?.counts.ham ?? 0);
    const sparse = (counts: Float64Array) => {
      const out: number[] = [];
      for (let b = 0; b < counts.length; b++) if (counts[b]! > 0) out.push(b, counts[b]!);
      return out;
    };
    return {
      format: 'actiongate-content-model',
      version: 1,
      name,
      buckets,
      tokenizer: TOKENIZER,
      exportedAt: new Date(now).toISOString(),
      spamDocs: stored.spamDocs,
      hamDocs: stored.hamDocs,
      spam: sparse(stored.spam),
      ham: sparse(stored.ham),
    };
  }

  async function importModel(file: unknown): Promise<void> {
    const delta = parseModelFile(file, buckets);
    await write(delta);
    await sync();
  }

  return {
    name,
    get ready() {
      return isReady();
    },
    predict: (input) => predictFeatures(featuresOf(input)),
    predictFields: (fields) => predictFeatures(contentBuckets(fields, buckets, config.maxTokens)),
    learn: async (input, label) => {
      if (label !== 'spam' && label !== 'ham') throw new ActionError('label', `is "spam" or "ham", got ${shown(label)}`);
      await learnMany([{ content: input, label }]);
    },
    learnMany,
    sync,
    export: exportModel,
    import: importModel,
    stats() {
      let used = 0;
      for (let b = 0; b < buckets; b++) if (replica.spam[b]! > 0 || replica.ham[b]! > 0) used++;
      return { name, buckets, spam: replica.spamDocs, ham: replica.hamDocs, ready: isReady(), usedBuckets: used, syncedAt };
    },
  };
}

/**
 * A model file's counts, checked against the model it goes into. Every problem is reported
 * with its JSON pointer in one `ActionError` (its `field` is the first problem's pointer);
 * nothing is written unless the whole file is good.
 */
export function parseModelFile(file: unknown, buckets: number): ModelDelta {
  const problems: PolicyProblem[] = [];
  const fail = (pointer: string, message: string) => problems.push({ pointer, message });
  if (typeof file !== 'object' || file === null || Array.isArray(file)) {
    throw new ActionError('/', 'a model file is a JSON object (from `actiongate model export`)');
  }
  const doc = file as Record<string, unknown>;
  if (doc.format !== 'actiongate-content-model') fail('/format', `must be "actiongate-content-model", got ${shown(doc.format)}`);
  if (doc.version !== 1) fail('/version', `must be 1, got ${shown(doc.version)}`);
  if (!READABLE_TOKENIZERS.includes(doc.tokenizer)) fail('/tokenizer', `the model was trained with tokenizer ${shown(doc.tokenizer)}; this version reads ${READABLE_TOKENIZERS.join(', ')} only (retrain from the labelled data)`);
  if (doc.buckets !== buckets) fail('/buckets', `the file has ${shown(doc.buckets)} buckets; this model has ${buckets} (set content.model.buckets to ${shown(doc.buckets)}, or retrain)`);
  const count = (value: unknown, pointer: string) => {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 1e12) return value;
    fail(pointer, `must be a whole number from 0 to 1e12, got ${shown(value)}`);
    return 0;
  };
  const delta: ModelDelta = { spam: new Map(), ham: new Map(), spamDocs: count(doc.spamDocs, '/spamDocs'), hamDocs: count(doc.hamDocs, '/hamDocs') };
  for (const key of ['spam', 'ham'] as const) {
    const pairs = doc[key];
    if (!Array.isArray(pairs) || pairs.length % 2 !== 0) {
      fail(`/${key}`, 'must be an array of [bucket, count] pairs, flattened');
      continue;
    }
    const target = delta[key];
    const docs = key === 'spam' ? delta.spamDocs : delta.hamDocs;
    for (let i = 0; i < pairs.length && problems.length < 20; i += 2) {
      const bucket = pairs[i];
      if (typeof bucket !== 'number' || !Number.isInteger(bucket) || bucket < 0 || bucket >= buckets) {
        fail(`/${key}/${i}`, `must be a bucket from 0 to ${buckets - 1}, got ${shown(bucket)}`);
        continue;
      }
      // A bucket listed twice adds up (exports list each once): the sum is what must stay within the documents.
      const value = (target.get(bucket) ?? 0) + count(pairs[i + 1], `/${key}/${i + 1}`);
      if (value > docs) fail(`/${key}/${i + 1}`, `bucket ${bucket} counts ${value} ${key} examples, more than the ${docs} in /${key}Docs`);
      if (value > 0) target.set(bucket, value);
    }
  }
  if (problems.length > 0) {
    throw new ActionError(problems[0]!.pointer, `not a usable model file: ${problems.map((p) => `${p.pointer} ${p.message}`).join('; ')}`);
  }
  return delta;
}
