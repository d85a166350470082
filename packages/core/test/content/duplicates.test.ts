/**
 * Duplicate campaigns: exact copies and near-duplicates counted across every subject (other
 * IPs, other accounts) within `duplicates.window`, in the store, on MemoryStore and on a real
 * Redis (the private server of the global setup), so every process shares the counts.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MemoryStore } from '@actiongate/memory';
import { RedisStore } from '@actiongate/redis';
import { nearKeys } from '../../src/content/near.js';
import { joinSpelledOut, normaliseText } from '../../src/content/normalise.js';
import { createGuard } from '../../src/guard.js';
import { compilePolicy, type CompiledPolicy } from '../../src/policy/compile.js';
import type { Store } from '../../src/store/types.js';
import { prng } from '../../src/cli/synthetic.js';

const AD = 'Selling my mountain bike, a 2019 Cube with 21 gears and new tyres. Serviced last month, ' +
  'small scratch on the frame, otherwise in very good condition. Comes with lights, a lock and a pump. ' +
  'Collection from the city centre only, call 07700 900123 after six, no offers by text please.';
// The campaign's trick: the same ad with another phone number (Jaccard ≈ 0.9 on word 3-shingles,
// shared band with probability ≈ 0.98; deterministic for this text).
const VARIANT = AD.replace('07700 900123', '07700 900456');
const OTHER = 'Oak dining table with four chairs, seats six, a few marks on the top. Must go this week, ' +
  'buyer collects from the north side of town. Cash only please, no time wasters.';

/** A guard whose rules evaluator records the content facts of each decision. */
function tracingGuard(store: Store, clock: { now: number }) {
  const policy = compilePolicy({ name: 'dups', content: { duplicates: { window: '1h', score: 30, after: 2, near: { bands: 3 } } } });
  const seen: { duplicates: number; nearDuplicates: number }[] = [];
  const traced: CompiledPolicy = {
    ...policy,
    rules: {
      ...policy.rules,
      // The spy is a rule: a guard skips building the facts of a policy without rules.
      empty: false,
      evaluate(facts) {
        seen.push(facts.content as { duplicates: number; nearDuplicates: number });
        return policy.rules.evaluate(facts);
      },
    },
  };
  const guard = createGuard({ policy: traced, store, now: () => clock.now });
  let n = 0;
  const submit = async (body: string, options: { dryRun?: boolean } = {}) => {
    n++;
    const decision = await guard.evaluate({ action: 'ad.submit', ip: `198.51.100.${n}`, actor: { id: `seller-${n}` }, content: { title: 'For sale', body } }, options);
    const facts = seen.at(-1)!;
    return { duplicates: facts.duplicates, near: facts.nearDuplicates, score: decision.score };
  };
  return { guard, submit };
}

function campaignScenario(makeStore: () => Promise<Store>) {
  it('counts exact copies and near-duplicates across IPs and accounts, within the window only', async () => {
    const clock = { now: Date.UTC(2026, 0, 5, 9) };
    const { guard, submit } = tracingGuard(await makeStore(), clock);
    expect(await submit(AD)).toEqual({ duplicates: 0, near: 0, score: 0 });
    clock.now += 60_000;
    expect(await submit(AD)).toEqual({ duplicates: 1, near: 1, score: 0 });
    clock.now += 60_000;
    // Same text, disguised: it is the same normalised text.
    expect(await submit(AD.toUpperCase().replace('bike', 'bіke'))).toEqual({ duplicates: 2, near: 2, score: 30 });
    clock.now += 60_000;
    // A new phone number and time: not a copy, but a near-duplicate of all three.
    expect(await submit(VARIANT)).toEqual({ duplicates: 0, near: 3, score: 0 });
    clock.now += 60_000;
    expect(await submit(OTHER)).toEqual({ duplicates: 0, near: 0, score: 0 });
    // A dry run reads the counts and adds nothing.
    expect(await submit(AD, { dryRun: true })).toMatchObject({ duplicates: 3, near: 4 });
    expect(await submit(AD, { dryRun: true })).toMatchObject({ duplicates: 3, near: 4 });
    // Two hours later the campaign has left the window.
    clock.now += 2 * 3_600_000;
    expect(await submit(AD)).toEqual({ duplicates: 0, near: 0, score: 0 });
    await guard.close();
  });
}

describe('duplicate campaigns on MemoryStore', () => {
  campaignScenario(async () => new MemoryStore());
});

describe('duplicate campaigns on RedisStore', () => {
  const url = inject('redisUrl');
  const clients: Redis[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => {})));
  });
  /** A RedisStore on its own connection; the same `prefix` means the same data, as for two processes. */
  const redisStore = async (prefix = `agdup-${randomUUID().slice(0, 8)}`) => {
    const client = new Redis(url, { lazyConnect: true });
    await client.connect();
    clients.push(client);
    return new RedisStore({ client, prefix, time: 'caller' });
  };
  campaignScenario(redisStore);

  it('two guards on one Redis (two processes, in effect) share the counts', async () => {
    const prefix = `agdup-${randomUUID().slice(0, 8)}`;
    const clock = { now: Date.UTC(2026, 0, 5, 9) };
    const a = tracingGuard(await redisStore(prefix), clock);
    const b = tracingGuard(await redisStore(prefix), clock);
    expect(await a.submit(AD)).toMatchObject({ duplicates: 0 });
    expect(await b.submit(AD)).toMatchObject({ duplicates: 1, near: 1 });
    expect(await a.submit(VARIANT)).toMatchObject({ duplicates: 0, near: 2 });
    await Promise.all([a.guard.close(), b.guard.close()]);
  });
});

describe('near-duplicate keys', () => {
  const random = prng(5);
  const vocabulary = 'bike sofa table chair lamp desk phone camera guitar piano red blue green old new large small cheap good great oak pine metal wooden modern vintage collection delivery cash offer price condition used boxed working spare parts'.split(' ');
  const ad = () => Array.from({ length: 30 }, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(' ');
  const keys = (text: string) => new Set(nearKeys(joinSpelledOut(normaliseText(text)), 3));
  const share = (a: Set<string>, b: Set<string>) => [...a].some((key) => b.has(key));

  it('are stable and distinct per band', () => {
    const k = nearKeys('one two three four five', 3);
    expect(k).toEqual(nearKeys('one two three four five', 3));
    expect(new Set(k).size).toBe(3);
    expect(nearKeys('', 3)).toEqual([]);
  });

  it('catch most copies with one word changed, and almost never pair two different ads', () => {
    let caught = 0;
    let falsePairs = 0;
    for (let i = 0; i < 300; i++) {
      const text = ad();
      const words = text.split(' ');
      words[Math.floor(random() * words.length)] = 'changed';
      if (share(keys(text), keys(words.join(' ')))) caught++;
      if (share(keys(text), keys(ad()))) falsePairs++;
    }
    // Theory (3 rows, 3 bands, Jaccard ≈ 0.8 for one word in 30 changed): ≈ 85% caught.
    expect(caught / 300).toBeGreaterThan(0.75);
    expect(falsePairs / 300).toBeLessThan(0.02);
  });

  it('catch copies of Chinese, Japanese, Korean and Thai ads, written without spaces, as shingles of characters', () => {
    // As words, a whole CJK or Thai sentence was one word: one changed character changed every
    // shingle, and no copy with a new price or phone number was ever caught.
    const chinese = '低利率信用卡代償快速貸款免費諮詢網路賺錢輕鬆月入十萬元請立即聯絡我們的專員為您服務保證滿意'.split('');
    const thai = Array.from('สินเชื่อเงินกู้ด่วนอนุมัติไวไม่ต้องใช้คนค้ำโทรหาเราวันนี้ได้เลยดอกเบี้ยต่ำที่สุด'.match(/\P{M}\p{M}*/gu)!);
    const japanese = '在家でできる副業で月収百万円を稼ぐ方法を今すぐ無料でお教えしますのでご連絡ください'.split('');
    // Korean as syllables: NFKD splits each into two or three letters (jamo), and shingles of
    // three jamo, most inside one syllable, were shared by any two texts of the same syllables.
    const korean = Array.from('서울강남역세권원룸월세보증금오백관리비포함풀옵션즉시입주가능하니연락주세요');
    for (const [name, chars] of [['chinese', chinese], ['thai', thai], ['japanese', japanese], ['korean', korean]] as const) {
      let caught = 0;
      let falsePairs = 0;
      for (let i = 0; i < 100; i++) {
        const copy = [...chars];
        copy[Math.floor(random() * copy.length)] = '〇';
        if (share(keys(chars.join('')), keys(copy.join('')))) caught++;
        const other = [...chars].sort(() => random() - 0.5); // the same characters, another text
        if (share(keys(chars.join('')), keys(other.join('')))) falsePairs++;
      }
      expect(caught / 100, name).toBeGreaterThan(0.75);
      expect(falsePairs / 100, name).toBeLessThan(0.05);
    }
  });
});
