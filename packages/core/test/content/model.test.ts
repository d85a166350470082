/**
 * The content model's learn → predict → persist cycle: inert until it has seen enough of both
 * classes, counts in the store (so a second replica, as a second process, predicts the same),
 * training aggregated per batch, nothing lost when two replicas train at once (MemoryStore and a
 * real Redis), refreshed on its interval, forgetting after its window, exported and imported.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, inject } from 'vitest';
import { MemoryStore } from '@actiongate/memory';
import { RedisStore } from '@actiongate/redis';
import { bucketsOf, chi2Q, DEFAULT_COMBINING, hashToken, spamProbability } from '../../src/content/bayes.js';
import { createContentModel, type ContentModel, type ModelFile, type ModelInput, type ModelLabel } from '../../src/content/model.js';
import { compileContent } from '../../src/content/signals.js';
import { normaliseText } from '../../src/content/normalise.js';
import { contentTokens } from '../../src/content/tokens.js';
import { isActiongateError, type PolicyProblem } from '../../src/errors.js';
import type { Store, StoreBatch, StoreResult } from '../../src/store/types.js';
import { prng } from '../../src/cli/synthetic.js';

const SPAM = 'cheap pills casino winner free money bitcoin loan offer click viagra prize'.split(' ');
const HAM = 'bike sofa table meeting project family garden recipe school train concert weekend'.split(' ');
const COMMON = 'the and for with you this today new'.split(' ');

/** A labelled toy corpus: 8 words of the class and 4 common ones per example, seeded. */
function corpus(count: number, seed: number): { content: { title: string; body: string }; label: ModelLabel }[] {
  const random = prng(seed);
  const pick = (words: readonly string[]) => words[Math.floor(random() * words.length)]!;
  return Array.from({ length: count }, (_, i) => {
    const label: ModelLabel = i % 2 === 0 ? 'spam' : 'ham';
    const words = [...Array.from({ length: 8 }, () => pick(label === 'spam' ? SPAM : HAM)), ...Array.from({ length: 4 }, () => pick(COMMON))];
    return { content: { title: words.slice(0, 3).join(' '), body: words.slice(3).join(' ') }, label };
  });
}

const T0 = Date.UTC(2026, 0, 5);
const small = { buckets: 1_024, minSpam: 20, minHam: 20 };

describe('content model', () => {
  it('stays inert (null) until it has seen minSpam and minHam examples', async () => {
    const model = createContentModel({ ...small, now: () => T0 }, new MemoryStore());
    expect(model.predict('cheap pills')).toBeNull();
    const examples = corpus(60, 1);
    await model.learnMany(examples.filter((e) => e.label === 'spam').slice(0, 25));
    await model.learnMany(examples.filter((e) => e.label === 'ham').slice(0, 19));
    expect(model.stats()).toMatchObject({ spam: 25, ham: 19, ready: false });
    expect(model.predict('cheap pills casino')).toBeNull();
    await model.learn({ body: 'bike for the weekend' }, 'ham');
    expect(model.ready).toBe(true);
    expect(model.predict('cheap pills casino')).toBeGreaterThan(0.9);
    expect(model.predict({ title: 'garden table', body: 'family bike' })).toBeLessThan(0.1);
  });

  it('learns the classes: held-out examples are told apart', async () => {
    const model = createContentModel({ ...small, now: () => T0 }, new MemoryStore());
    await model.learnMany(corpus(200, 2));
    const test = corpus(200, 3);
    const right = test.filter((e) => (model.predict(e.content)! >= 0.9) === (e.label === 'spam')).length;
    expect(right / test.length).toBeGreaterThan(0.97);
  });

  it('learns nothing from an example with no text: it counts no document', async () => {
    // Feedback on an action whose content is empty, blank or only in fields the model does not
    // read would otherwise add documents without tokens, shifting every clue's class ratio.
    const model = createContentModel({ ...small, fields: ['title', 'body'], now: () => T0 }, new MemoryStore());
    await model.learnMany(corpus(200, 2));
    const before = model.stats();
    const probe = { title: 'family bike', body: 'the garden table for you today' };
    const p0 = model.predict(probe)!;
    const empty: ModelInput[] = [{}, { body: '' }, { title: '   ', body: '\u200B\u2060' }, '', ' \n ', { email: 'a@b.example', note: 'x' }];
    expect(await model.learnMany(Array.from({ length: 300 }, (_, i) => ({ content: empty[i % empty.length]!, label: 'ham' as const })))).toEqual({ spam: 0, ham: 0 });
    await model.learn({}, 'spam');
    expect(model.stats()).toMatchObject({ spam: before.spam, ham: before.ham, usedBuckets: before.usedBuckets });
    await model.sync();
    expect(model.stats()).toMatchObject({ spam: before.spam, ham: before.ham });
    expect(model.predict(probe)).toBe(p0);
    // An inert model does not become ready on empty examples either.
    const fresh = createContentModel({ ...small, now: () => T0 }, new MemoryStore());
    await fresh.learnMany(Array.from({ length: 50 }, (_, i) => ({ content: '', label: i % 2 ? ('ham' as const) : ('spam' as const) })));
    expect(fresh.ready).toBe(false);
  });

  it('takes a word as a clue once two training documents had it, not from one', async () => {
    const model = createContentModel({ ...small, now: () => T0 }, new MemoryStore());
    await model.learnMany(corpus(100, 6));
    // `zorbex` (an order number, a name) in one spam example only: no clue yet.
    await model.learn({ body: 'cheap pills zorbex' }, 'spam');
    expect(model.predict({ body: 'zorbex' })).toBe(0.5);
    // In a second spam example it says spam.
    await model.learn({ body: 'casino zorbex prize' }, 'spam');
    expect(model.predict({ body: 'zorbex' })).toBeGreaterThan(0.7);
  });

  it('lives in the store: a second replica predicts the same once synced', async () => {
    const store = new MemoryStore();
    const a = createContentModel({ ...small, now: () => T0 }, store);
    await a.learnMany(corpus(100, 4));
    const b = createContentModel({ ...small, now: () => T0 }, store);
    expect(b.predict('cheap casino prize')).toBeNull(); // nothing read yet
    await b.sync();
    for (const text of ['cheap casino prize', 'school concert today', 'free bike for the family']) expect(b.predict(text)).toBe(a.predict(text));
    expect(b.stats()).toMatchObject({ spam: 50, ham: 50, ready: true });
    // Another name is another model.
    const other = createContentModel({ ...small, name: 'other', now: () => T0 }, store);
    await other.sync();
    expect(other.stats()).toMatchObject({ spam: 0, ham: 0 });
  });

  it('writes one add per touched bucket per batch, whatever the number of examples', async () => {
    const counting = countingStore(new MemoryStore());
    const model = createContentModel({ ...small, now: () => T0 }, counting.store);
    const examples = corpus(1_000, 5);
    const buckets = new Set(examples.flatMap((e) => contentTokens(Object.entries(e.content))).map(String)).size;
    counting.reset();
    await model.learnMany(examples);
    // Each distinct (bucket, class) is one add; the toy vocabulary has few tokens.
    expect(counting.adds).toBeLessThanOrEqual(2 * buckets + 2);
    expect(counting.adds).toBeGreaterThan(10);
    expect(counting.maxSubjectsPerBatch).toBeLessThanOrEqual(256);
  });

  it('refreshes its replica on its interval, lazily, and learns its own examples at once', async () => {
    const store = new MemoryStore();
    const clock = { now: T0 };
    const trainer = createContentModel({ ...small, now: () => clock.now }, store);
    const reader = createContentModel({ ...small, refreshMs: 60_000, now: () => clock.now }, store);
    await reader.sync();
    await trainer.learnMany(corpus(100, 6));
    expect(trainer.predict('cheap casino')).not.toBeNull(); // its own training, without a sync
    clock.now += 30_000;
    expect(reader.predict('cheap casino')).toBeNull(); // not stale yet: no store read
    clock.now += 30_000;
    expect(reader.predict('cheap casino')).toBeNull(); // stale: a refresh starts, the call does not wait
    await reader.sync(); // the refresh in flight
    expect(reader.predict('cheap casino')).toBeGreaterThan(0.9);
  });

  it('reads the bucket subjects only when they can matter: not while inert, not while nobody learned, but every tenth refresh', async () => {
    const counting = countingStore(new MemoryStore());
    const clock = { now: T0 };
    const trainer = createContentModel({ ...small, now: () => clock.now }, counting.store);
    const reader = createContentModel({ ...small, refreshMs: 60_000, now: () => clock.now }, counting.store);
    const peeksOfSync = async () => {
      counting.reset();
      await reader.sync();
      return counting.peeked;
    };
    await trainer.learnMany(corpus(20, 3)); // 10 + 10: inert
    expect(await peeksOfSync()).toBe(1); // the document counts only
    await trainer.learnMany(corpus(60, 4)); // 40 + 40: ready
    expect(await peeksOfSync()).toBe(1 + 1_024 / 32); // the documents, then every bucket subject
    clock.now += 60_000;
    expect(await peeksOfSync()).toBe(1); // nobody learned: the replica stands
    clock.now += 9 * 60_000;
    expect(await peeksOfSync()).toBe(1 + 32); // the tenth refresh reads them anyway
    await trainer.learn('cheap casino', 'spam');
    expect(await peeksOfSync()).toBe(1 + 32); // the counts changed
  });

  it('forgets examples older than its window', async () => {
    const store = new MemoryStore();
    const clock = { now: T0 };
    const model = createContentModel({ ...small, windowMs: 7 * 86_400_000, now: () => clock.now }, store);
    await model.learnMany(corpus(100, 7));
    clock.now += 3 * 86_400_000;
    await model.sync();
    expect(model.ready).toBe(true);
    clock.now += 5 * 86_400_000;
    await model.sync();
    expect(model.stats()).toMatchObject({ spam: 0, ham: 0, ready: false });
    expect(model.predict('cheap casino')).toBeNull();
  });

  it('exports and imports: a fresh store predicts the same, a second import merges', async () => {
    const source = createContentModel({ ...small, now: () => T0 }, new MemoryStore());
    await source.learnMany(corpus(100, 8));
    const file: ModelFile = JSON.parse(JSON.stringify(await source.export()));
    expect(file).toMatchObject({ format: 'actiongate-content-model', version: 1, buckets: 1_024, spamDocs: 50, hamDocs: 50 });
    const target = createContentModel({ ...small, now: () => T0 }, new MemoryStore());
    await target.import(file);
    for (const text of ['cheap casino prize', 'school concert today']) expect(target.predict(text)).toBe(source.predict(text));
    await target.import(file);
    expect(target.stats()).toMatchObject({ spam: 100, ham: 100 });
    // Files of the tokenizers before CJK pairs and before marks read too: every other text has the same tokens.
    expect(file.tokenizer).toBe('actiongate-4');
    for (const tokenizer of ['actiongate-1', 'actiongate-2']) {
      const older = createContentModel({ ...small, now: () => T0 }, new MemoryStore());
      await older.import({ ...file, tokenizer });
      expect(older.predict('cheap casino prize')).toBe(source.predict('cheap casino prize'));
    }
    const older = createContentModel({ ...small, now: () => T0 }, new MemoryStore());
    await expect(older.import({ ...file, tokenizer: 'actiongate-0' })).rejects.toThrow(/\/tokenizer the model was trained with tokenizer "actiongate-0"; this version reads actiongate-1, actiongate-2, actiongate-3, actiongate-4 only/);
  });

  it('exports an inert model whole: its counts are in the store, not yet in the replica', async () => {
    const store = new MemoryStore();
    const trainer = createContentModel({ ...small, now: () => T0 }, store);
    await trainer.learnMany(corpus(20, 13)); // 10 + 10: below 20 + 20
    const other = createContentModel({ ...small, now: () => T0 }, store);
    await other.sync();
    expect(other.ready).toBe(false);
    const file = await other.export();
    expect(file).toMatchObject({ spamDocs: 10, hamDocs: 10 });
    expect(file.spam.length).toBeGreaterThan(10);
    expect(file).toEqual({ ...(await trainer.export()), exportedAt: file.exportedAt });
  });

  it('refuses a bad model file with the pointer of each problem, writing nothing', async () => {
    const model = createContentModel({ ...small, now: () => T0 }, new MemoryStore());
    const good = await (async () => {
      const m = createContentModel({ ...small, now: () => T0 }, new MemoryStore());
      await m.learnMany(corpus(40, 9));
      return m.export();
    })();
    const bad = { ...good, buckets: 2_048, spam: [0, 5, 5000, 1, 3, -1], hamDocs: 'many' };
    const error = await model.import(bad).then(() => null, (e: unknown) => e);
    expect(isActiongateError(error)).toBe(true);
    expect((error as { field: string }).field).toBe('/buckets');
    expect((error as Error).message).toMatch(/\/buckets .*\/hamDocs .*\/spam\/2 .*\/spam\/5/);
    expect(model.stats()).toMatchObject({ spam: 0, ham: 0 });
    // A bucket listed twice adds up: together its counts may not pass the documents either.
    await expect(model.import({ ...good, spamDocs: 3, spam: [7, 2, 7, 2] })).rejects.toThrow(/\/spam\/3 bucket 7 counts 4 spam examples, more than the 3/);
    await expect(model.import({ ...good, spamDocs: 3, spam: [7, 1, 9, 1, 7, Number.NaN] })).rejects.toThrow(/\/spam\/5 must be a whole number/);
    expect(model.stats()).toMatchObject({ spam: 0, ham: 0 });
    await expect(model.import('nope')).rejects.toThrow(/a model file is a JSON object/);
    // A file built in code may hold what JSON cannot: still an ActionError naming the pointer, not
    // a TypeError from writing the message.
    const cycle: unknown[] = [];
    cycle.push(cycle);
    const odd = await model.import({ ...good, version: 1n, buckets: cycle }).then(() => null, (e: unknown) => e);
    expect(isActiongateError(odd)).toBe(true);
    expect((odd as Error).message).toMatch(/\/version must be 1, got 1n; \/buckets the file has \(not shown: .*circular/i);
    await expect(model.learn('text', 10n as unknown as ModelLabel)).rejects.toThrow(/label: is "spam" or "ham", got 10n/);
    await expect(model.learn('text', 'maybe' as ModelLabel)).rejects.toThrow(/label: is "spam" or "ham"/);
    expect(() => createContentModel({ buckets: 3000 }, new MemoryStore())).toThrow(/buckets must be a power of two/);
  });

  it('is bounded: a 64 KB host makes at most a host name\'s worth of parent-domain tokens', () => {
    const tokens = contentTokens([['body', `http://${'a.'.repeat(32_000)}evil.example/x`]]).filter((t) => t.startsWith('url:'));
    expect(tokens).toContain('url:evil.example');
    expect(tokens.length).toBeLessThanOrEqual(128);
    expect(Math.max(...tokens.map((t) => t.length))).toBeLessThanOrEqual('url:'.length + 253);
  });

  it('is bounded: tokens per example and replica size do not grow with the input', () => {
    const tokens = contentTokens([['body', Array.from({ length: 20_000 }, (_, i) => `w${i}`).join(' ')]]);
    expect(tokens.length).toBe(3_000);
    const model = createContentModel({ ...small, maxTokens: 50 }, new MemoryStore());
    expect(model.stats().buckets).toBe(1_024);
  });

  it('feeds content.spamProbability and its score through the compiled content signals', async () => {
    const problems: PolicyProblem[] = [];
    const content = compileContent({ model: { buckets: 1_024, minSpam: 20, minHam: 20, threshold: 0.9, score: 40 } }, problems);
    expect(problems).toEqual([]);
    const model = createContentModel({ ...content.model!, now: () => T0 }, new MemoryStore());
    expect(content.evaluate({ body: 'cheap casino prize' }, model).spamProbability).toBeNull(); // inert
    await model.learnMany(corpus(100, 10));
    const spam = content.evaluate({ body: 'cheap casino prize' }, model);
    expect(spam.spamProbability).toBeGreaterThan(0.9);
    expect(spam.hits).toEqual([expect.objectContaining({ id: 'model', score: 40 })]);
    const ham = content.evaluate({ body: 'garden concert with the family' }, model);
    expect(ham.spamProbability).toBeLessThan(0.1);
    expect(ham.score).toBe(0);
    expect(content.evaluate({ body: 'cheap casino prize' }).spamProbability).toBeNull(); // no replica given
  });
});

/** Two replicas training at once on one store lose nothing: the counts are those of one trainer doing it all. */
function concurrentTraining(makeStore: () => Promise<Store>, options = small) {
  it('two replicas training at once lose nothing', async () => {
    const store = await makeStore();
    const a = createContentModel({ ...options, now: () => T0 }, store);
    const b = createContentModel({ ...options, now: () => T0 }, store);
    const examples = corpus(400, 11);
    // Interleaved single examples and batches from both replicas, all in flight together.
    await Promise.all([
      ...examples.slice(0, 100).map((e, i) => (i % 2 ? a : b).learn(e.content, e.label)),
      a.learnMany(examples.slice(100, 250)),
      b.learnMany(examples.slice(250, 400)),
    ]);
    const reference = createContentModel({ ...options, now: () => T0 }, new MemoryStore());
    await reference.learnMany(examples);
    await Promise.all([a.sync(), b.sync()]);
    const expected = await reference.export();
    for (const replica of [a, b]) {
      const file = await replica.export();
      expect({ ...file, exportedAt: '' }).toEqual({ ...expected, exportedAt: '' });
    }
  });
}

describe('concurrent training on MemoryStore', () => {
  concurrentTraining(async () => new MemoryStore());
});

describe('content model on RedisStore', () => {
  const url = inject('redisUrl');
  const clients: Redis[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => {})));
  });
  const redisStore = async (prefix = `agmodel-${randomUUID().slice(0, 8)}`) => {
    const client = new Redis(url, { lazyConnect: true });
    await client.connect();
    clients.push(client);
    return new RedisStore({ client, prefix, time: 'caller' });
  };
  concurrentTraining(redisStore);

  it('a replica in another connection (another process) predicts what the trainer taught, at the default size', async () => {
    const prefix = `agmodel-${randomUUID().slice(0, 8)}`;
    const trainer: ContentModel = createContentModel({ minSpam: 20, minHam: 20, now: () => T0 }, await redisStore(prefix));
    await trainer.learnMany(corpus(100, 12));
    // Synced, the trainer's predict below starts no background refresh, which would still be on
    // its way to Redis when the clients quit (an EPIPE printed after the test).
    await trainer.sync();
    const reader = createContentModel({ minSpam: 20, minHam: 20, now: () => T0 }, await redisStore(prefix));
    await reader.sync();
    expect(reader.stats()).toMatchObject({ buckets: 65_536, spam: 50, ham: 50, ready: true });
    expect(reader.predict('cheap casino prize')).toBe(trainer.predict('cheap casino prize'));
  });
});

/** A store that counts the window adds and the subjects per batch it is given. */
function countingStore(inner: Store) {
  const counts = { adds: 0, peeked: 0, maxSubjectsPerBatch: 0 };
  const store: Store = {
    name: 'counting',
    apply(batch: StoreBatch): Promise<StoreResult> {
      for (const subject of batch.subjects) counts.adds += subject.add?.length ?? 0;
      for (const subject of batch.subjects) if (subject.peek?.length) counts.peeked++;
      counts.maxSubjectsPerBatch = Math.max(counts.maxSubjectsPerBatch, batch.subjects.length);
      return inner.apply(batch);
    },
    close: () => inner.close(),
  };
  return {
    store,
    get adds() {
      return counts.adds;
    },
    /** Subjects read (peeked). */
    get peeked() {
      return counts.peeked;
    },
    get maxSubjectsPerBatch() {
      return counts.maxSubjectsPerBatch;
    },
    reset() {
      counts.adds = 0;
      counts.peeked = 0;
      counts.maxSubjectsPerBatch = 0;
    },
  };
}

describe('tokens and the classifier arithmetic', () => {
  it('tokenizes words, field-prefixed words, hosts with parents, long strings and shapes', () => {
    const tokens = contentTokens([
      ['title', 'free iphone'],
      ['body', `win at http://a.b.example.com/x or mail x@mail.example.org, ${'z'.repeat(34)} price $100`],
    ]);
    expect(tokens).toEqual(expect.arrayContaining([
      'free', 'title:free', 'iphone', 'title:iphone', 'win', 'url:a.b.example.com', 'url:b.example.com', 'url:example.com',
      'email:mail.example.org', 'email:example.org', 'long:z:3', 'body:money', 'body:links:1',
    ]));
    expect(tokens).not.toContain('body:win'); // body words are not prefixed
    expect(tokens).not.toContain('url:com');
  });

  it('splits Chinese, Japanese and Korean text, written without spaces, into character pairs', () => {
    // As one word, a CJK sentence was one token (or one `long:` token) that no other message
    // repeats: the model learned nothing from CJK ads.
    const tokens = contentTokens([['title', '信用卡代償'], ['body', '低利率信用卡 iphone手机 日本語のテキスト 中']]);
    expect(tokens).toEqual(expect.arrayContaining([
      '信用', '用卡', '卡代', '代償', 'title:信用', 'title:代償', '低利', '利率', '率信',
      'iphone', '手机', '日本', '本語', '語の', 'のテ', 'テキ', 'キス', 'スト',
    ]));
    expect(tokens.filter((token) => token.startsWith('long:'))).toEqual([]);
    expect(tokens).not.toContain('iphone手机');
    // Characters outside the BMP (CJK Extension B) pair as whole characters.
    expect(contentTokens([['body', '𠀀𠀁中']])).toEqual(['body:len:2', '𠀀𠀁', '𠀁中']);
    // Text without CJK is tokenized as before: words.
    expect(contentTokens([['body', 'низкая ставка 20%']])).toEqual(['body:len:4', 'низкая', 'ставка', '20']);
  });

  it('pairs Thai and the other unspaced scripts by character with its marks, and keeps Indic words whole', () => {
    // A pair never splits a letter from its vowel and tone marks (กู้ is one character of three code points).
    expect(contentTokens([['body', normaliseText('เงินกู้ด่วน')]])).toEqual(['body:len:3', 'เงิ', 'งิน', 'นกู้', 'กู้ด่', 'ด่ว', 'วน']);
    // Japanese voiced kana and Korean syllables, which NFKD splits, are whole again once normalised.
    expect(contentTokens([['body', normaliseText('ガス代')]])).toEqual(['body:len:2', 'ガス', 'ス代']);
    expect(contentTokens([['body', normaliseText('대출 상담')]])).toEqual(['body:len:2', '대출', '상담']);
    // Hindi puts spaces between words: its words are tokens, vowel signs included (they were
    // split at every sign: सस्ता gave the tokens सस and त…).
    expect(contentTokens([['body', normaliseText('सस्ता लोन')]])).toEqual(['body:len:3', 'सस्ता', 'लोन']);
  });

  it('learns CJK ads: held-out messages that share phrases with the training ones are told apart', async () => {
    const spam = ['信用卡代償低利率', '快速貸款免費諮詢', '網路賺錢輕鬆月入', '代辦信用貸款', '免費試用減肥產品', '低利率快速核貸'];
    const ham = ['二手自行車出售', '家具沙發桌子', '週末家庭聚會', '學校音樂會門票', '花園工具出售', '公寓出租近車站'];
    const random = prng(7);
    const pick = (phrases: string[]) => phrases[Math.floor(random() * phrases.length)]!;
    const example = (label: ModelLabel) => ({ content: { body: `${pick(label === 'spam' ? spam : ham)}，${pick(label === 'spam' ? spam : ham)}。請聯絡我們` }, label });
    const model = createContentModel({ ...small, now: () => T0 }, new MemoryStore());
    await model.learnMany(Array.from({ length: 120 }, (_, i) => example(i % 2 === 0 ? 'spam' : 'ham')));
    // New messages: the phrases recombined with other words around them.
    expect(model.predict('現在申請低利率信用卡代償，快速貸款')).toBeGreaterThan(0.9);
    expect(model.predict('出售二手自行車和花園工具')).toBeLessThan(0.1);
  });

  it('combines clues with the chi-square test of SpamBayes', () => {
    expect(chi2Q(0, 2)).toBe(1);
    expect(chi2Q(2 * Math.log(20), 2)).toBeCloseTo(0.05, 10); // e^(−x/2) for 2 degrees of freedom
    const counts = { spam: [50, 0, 25], ham: [0, 50, 25], spamDocs: 50, hamDocs: 50 };
    expect(spamProbability(counts, [0])).toBeGreaterThan(0.95);
    expect(spamProbability(counts, [1])).toBeLessThan(0.05);
    expect(spamProbability(counts, [2])).toBe(0.5); // seen as often in both: no clue
    expect(spamProbability(counts, [0, 1])).toBeCloseTo(0.5, 5); // one strong clue each way
    expect(spamProbability({ ...counts, hamDocs: 0 }, [0])).toBe(0.5); // untrained class
  });

  it('ignores buckets seen in a single training document (hapaxes)', () => {
    // Bucket 0: one spam document; bucket 1: two; bucket 2: one ham document.
    const counts = { spam: [1, 2, 0], ham: [0, 0, 1], spamDocs: 50, hamDocs: 50 };
    expect(DEFAULT_COMBINING.minCount).toBe(2);
    expect(spamProbability(counts, [0])).toBe(0.5); // no clue: one document says nothing about its class
    expect(spamProbability(counts, [2])).toBe(0.5);
    expect(spamProbability(counts, [1])).toBeGreaterThan(0.7); // two spam documents do
    expect(spamProbability(counts, [0, 1])).toBe(spamProbability(counts, [1]));
    // With every count a clue (SpamBayes' own rule) the hapax counts.
    expect(spamProbability(counts, [0], { ...DEFAULT_COMBINING, minCount: 1 })).toBeGreaterThan(0.7);
  });

  it('combines only the 300 strongest clues', () => {
    // Buckets 0–149 are strong spam clues, 150–299 equally strong ham clues, 300–399 weaker ham
    // clues (nearer to 0.5): the 300 strongest cancel out, the weaker ones could tip the verdict.
    const spam = [...Array<number>(150).fill(40), ...Array<number>(150).fill(10), ...Array<number>(100).fill(16)];
    const ham = [...Array<number>(150).fill(10), ...Array<number>(150).fill(40), ...Array<number>(100).fill(30)];
    const counts = { spam, ham, spamDocs: 50, hamDocs: 50 };
    const strong = Array.from({ length: 300 }, (_, i) => i);
    const all = Array.from({ length: 400 }, (_, i) => i);
    expect(DEFAULT_COMBINING.maxClues).toBe(300);
    expect(spamProbability(counts, strong)).toBeCloseTo(0.5, 6);
    expect(spamProbability(counts, all)).toBeCloseTo(spamProbability(counts, strong), 12); // the weaker 100 are left out
    expect(spamProbability(counts, all.slice(300))).toBeLessThan(0.3); // yet they are ham clues
    // Given room, the weaker ham clues pull the verdict toward ham: the cap is what kept them out.
    const roomy = spamProbability(counts, all, { ...DEFAULT_COMBINING, maxClues: 400 });
    expect(roomy).toBeLessThan(0.45);
  });

  it('hashes tokens stably into distinct, sorted buckets', () => {
    expect(hashToken('viagra')).toBe(hashToken('viagra'));
    expect(Array.from(bucketsOf(['a', 'b', 'a', 'c'], 1024))).toEqual([...new Set(['a', 'b', 'c'].map((t) => hashToken(t) & 1023))].sort((x, y) => x - y));
  });
});
