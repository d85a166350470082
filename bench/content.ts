/**
 * Content signals of the reference classifieds policy (terms, patterns, links, domain lists,
 * contacts, shape, disposable check, fingerprint, near-duplicate keys) for a 1 KB ad and a
 * 64 KB body, with and without a trained content model, in µs per evaluation. No peer library
 * does this analysis, so the floor is given instead: NFKC plus lower-casing of the same text,
 * the least any Unicode-aware matcher must do. Also: model training and prediction alone, and
 * the worst case per field: 64 KB bodies of the shapes an attacker can pick (other scripts,
 * look-alikes, combining marks, emoji, CJK, many one-letter words), each against the 64 KB ASCII
 * body measured alternately in the same run (`SHAPES=0` skips them; `SHAPE_BYTES=1024` times
 * 1 KB ads of the same shapes instead, against the 1 KB ASCII ad's body).
 *
 *   pnpm exec tsx bench/content.ts
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryStore } from '@actiongate/memory';
import { compilePolicy } from '@actiongate/core';
import { createContentModel, type ModelLabel } from '../packages/core/src/content/model.js';
import { prng } from '../packages/core/src/cli/synthetic.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Mean and median µs of `fn` over `runs` calls, after a warm-up. */
function measure(fn: () => unknown, runs: number): { meanUs: number; p50Us: number } {
  for (let i = 0; i < Math.min(2_000, runs); i++) fn();
  const samples = new Float64Array(runs);
  const started = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const meanUs = Number(process.hrtime.bigint() - started) / 1000 / runs;
  samples.sort();
  return { meanUs: +meanUs.toFixed(2), p50Us: +samples[Math.floor(runs / 2)]!.toFixed(2) };
}

function text(random: () => number, bytes: number, words: readonly string[]): string {
  let out = '';
  while (out.length < bytes) out += `${words[Math.floor(random() * words.length)]}${random() < 0.1 ? '. ' : ' '}`;
  return out.slice(0, bytes);
}

export async function run() {
  const random = prng(3);
  const vocabulary = 'selling my bike sofa table lamp good condition pick up only cash offer price euros works well barely used collection from the city centre call after six weekend delivery possible original box receipt included'.split(' ');
  const spamWords = 'cheap pills casino bonus bitcoin whatsapp guaranteed click here free money forex investment loan winner prize'.split(' ');
  const ad = { title: 'Vintage oak desk for sale in Leeds', body: `${text(random, 900, vocabulary)} mail me at seller@example.org or 07700 900123 http://photos.example/desk` };
  const lookalike = { title: 'Vіntage оak desk fоr sale', body: ad.body.replace(/o/g, 'о').replace(/a/g, 'а') };
  // The same ad as most are written: a line per sentence (line breaks collapse to spaces when normalised).
  const inLines = { title: ad.title, body: ad.body.replace(/\. /g, '.\n') };
  const accented = { title: 'Bureau en chêne à vendre', body: ad.body.replace(/e/g, 'é') };
  const big = { title: 'Moving sale', body: text(random, 65_536, vocabulary) };

  const document = JSON.parse(readFileSync(join(root, 'rules/classifieds.json'), 'utf8'));
  const policy = compilePolicy(document, { file: join(root, 'rules/classifieds.json') });
  const model = createContentModel({ ...policy.content.model!, now: () => Date.UTC(2026, 0, 5) }, new MemoryStore());
  const examples = Array.from({ length: 2_000 }, (_, i) => {
    const label: ModelLabel = i % 2 ? 'ham' : 'spam';
    return { content: { title: text(random, 40, label === 'spam' ? spamWords : vocabulary), body: text(random, 600, label === 'spam' ? [...spamWords, ...vocabulary] : vocabulary) }, label };
  });
  const learnStarted = performance.now();
  await model.learnMany(examples);
  const learnMs = performance.now() - learnStarted;

  const content = policy.content;
  const floor = (input: Record<string, string>) => () => {
    for (const value of Object.values(input)) value.normalize('NFKC').toLowerCase();
  };
  const rows = [
    { input: '1 KB ad', ...measure(() => content.evaluate(ad), 20_000), model: 'no' },
    { input: '1 KB ad', ...measure(() => content.evaluate(ad, model), 20_000), model: 'trained' },
    { input: '1 KB ad in lines', ...measure(() => content.evaluate(inLines), 20_000), model: 'no' },
    { input: '1 KB ad, accented (not ASCII)', ...measure(() => content.evaluate(accented), 20_000), model: 'no' },
    { input: '1 KB ad, Cyrillic look-alikes', ...measure(() => content.evaluate(lookalike), 20_000), model: 'no' },
    { input: '64 KB body', ...measure(() => content.evaluate(big), 300), model: 'no' },
    { input: '64 KB body', ...measure(() => content.evaluate(big, model), 300), model: 'trained' },
  ];
  const floors = {
    '1 KB ad': measure(floor(ad), 20_000).meanUs,
    '1 KB ad in lines': measure(floor(inLines), 20_000).meanUs,
    '1 KB ad, accented (not ASCII)': measure(floor(accented), 20_000).meanUs,
    '1 KB ad, Cyrillic look-alikes': measure(floor(lookalike), 20_000).meanUs,
    '64 KB body': measure(floor(big), 300).meanUs,
  };
  const predict = measure(() => model.predict(ad), 20_000);
  const shapeBytes = Number(process.env.SHAPE_BYTES ?? 65_536);
  const shapes = process.env.SHAPES === '0' ? [] : worstCases(content.evaluate, shapeBytes === 65_536 ? big.body : text(prng(4), shapeBytes, vocabulary), shapeBytes);
  return {
    shapes,
    rows: rows.map((row) => ({ ...row, floorUs: floors[row.input as keyof typeof floors], ratio: +(row.meanUs / floors[row.input as keyof typeof floors]).toFixed(1) })),
    predictUs: predict.meanUs,
    learnPerSecond: Math.round(examples.length / (learnMs / 1000)),
  };
}

/**
 * Bodies of `bytes` code units (64 KB unless told) an attacker may post, flat strings as from a
 * request body. Each is built from pieces chosen by a fixed random sequence, so runs compare.
 */
export function hostileBodies(bytes = 65_536): Record<string, string> {
  const random = prng(5);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const fill = (pieces: readonly string[], separator: () => string = () => (random() < 0.1 ? '. ' : ' ')) => {
    let out = '';
    while (out.length < bytes) out += pick(pieces) + separator();
    return JSON.parse(JSON.stringify(out.slice(0, bytes))) as string;
  };
  const latin = 'selling my bike sofa table lamp good condition pick up only cash offer price euros works well barely used collection from the city centre call after six weekend delivery'.split(' ');
  const lookalike = 'АВЕКМНОРСТХаеорсух'.split('');
  return {
    'Russian': fill('продам велосипед диван стол лампа хорошее состояние самовывоз только наличные цена рублей работает отлично почти новый доставка возможна оригинальная коробка'.split(' ')),
    'Greek': fill('πωλείται ποδήλατο καναπές τραπέζι λάμπα καλή κατάσταση παραλαβή μόνο μετρητά τιμή ευρώ λειτουργεί άριστα σχεδόν καινούργιο παράδοση'.split(' ')),
    'Latin words with Cyrillic look-alikes': fill(latin.map((word) => word.replace(/[aeopcx]/g, (c) => ({ a: 'а', e: 'е', o: 'о', p: 'р', c: 'с', x: 'х' })[c]!))),
    'words of look-alikes only': fill(Array.from({ length: 40 }, () => Array.from({ length: 3 + Math.floor(random() * 6) }, () => pick(lookalike)).join(''))),
    'combining marks (Zalgo)': fill(latin.map((word) => [...word].map((c) => `${c}\u0336\u0301`).join(''))),
    'marks of another script on Latin letters': fill(latin.map((word) => [...word].map((c) => `${c}\u0E48`).join(''))),
    'Hindi': fill('पुरानी साइकिल सोफा मेज़ लैंप अच्छी हालत केवल नकद कीमत रुपये लगभग नया डिलीवरी संभव'.split(' ')),
    'Thai': fill('ขายจักรยานโซฟาโต๊ะโคมไฟสภาพดีรับเองเท่านั้นเงินสดราคาใช้งานได้ดีเกือบใหม่'.match(/\P{M}\p{M}*/gu)!, () => (random() < 0.05 ? ' ' : '')),
    'emoji': fill(['😀', '🔥', '💊', '👍🏽', '🇬🇧', '❤️', '🎉', '💰💰']),
    'CJK': fill('出售自行车沙发桌子台灯状况良好仅限自取现金价格工作良好几乎全新'.split(''), () => (random() < 0.05 ? '。' : '')),
    'one-letter ASCII words': fill('a b c d e f g h 1 2 3'.split(' ')),
    'one-letter Cyrillic words': fill('а б в г д е ж з и к'.split(' ')),
    'spelled-out look-alikes': fill(['ѵ.і.а.g.r.а', 'а-б-в-г', 'х х х х']),
    'Cyrillic letters and dots': fill('а. б. в. г. 1. 2.'.split(' ')),
  };
}

/** µs per evaluation of each hostile body and of the ASCII body, alternating, and their ratio. */
function worstCases(evaluate: (content: Record<string, string>) => unknown, ascii: string, bytes: number) {
  const runs = Math.max(10, Math.round(655_360 / bytes)); // ~the same time per round at any size
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  const time = (content: Record<string, string>, runs: number) => {
    const started = performance.now();
    for (let i = 0; i < runs; i++) evaluate(content);
    return ((performance.now() - started) / runs) * 1000;
  };
  const base = { title: 'Moving sale', body: ascii };
  return Object.entries(hostileBodies(bytes)).map(([shape, body]) => {
    const content = { title: 'Moving sale', body };
    for (let i = 0; i < 5; i++) evaluate(content);
    const shapeUs: number[] = [];
    const asciiUs: number[] = [];
    for (let round = 0; round < 7; round++) {
      asciiUs.push(time(base, runs));
      shapeUs.push(time(content, runs));
    }
    return { shape, us: Math.round(median(shapeUs)), asciiUs: Math.round(median(asciiUs)), ratio: +(median(shapeUs) / median(asciiUs)).toFixed(1) };
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const r = await run();
  console.log('| input | model | µs mean | µs p50 | NFKC + lower case alone, µs | ratio |\n| --- | --- | --- | --- | --- | --- |');
  for (const row of r.rows) console.log(`| ${row.input} | ${row.model} | ${row.meanUs} | ${row.p50Us} | ${row.floorUs.toFixed(2)} | ${row.ratio}× |`);
  console.log(`\nmodel.predict alone (1 KB ad, tokenizing included): ${r.predictUs} µs; learnMany: ${r.learnPerSecond} examples/s`);
  if (r.shapes.length > 0) {
    const size = process.env.SHAPE_BYTES === undefined ? '64 KB' : `${process.env.SHAPE_BYTES} B`;
    console.log(`\n| ${size} body | µs per evaluation | ${size} ASCII body, µs (same run) | ratio |\n| --- | --- | --- | --- |`);
    for (const row of r.shapes) console.log(`| ${row.shape} | ${row.us} | ${row.asciiUs} | ${row.ratio}× |`);
  }
}
