/**
 * `actiongate model`, run as a user runs the built bin: batch training from a labelled file into
 * a live Redis, export, import into another store, stats, and the refusals (a bad line, a policy
 * without a model).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureBuilt, root, run, tempDir } from '../cli/bin.js';

const url = inject('redisUrl');
const temp = tempDir('ag-model-');
let cwd: string;

const SPAM = 'cheap pills casino winner free money bitcoin loan offer click'.split(' ');
const HAM = 'bike sofa table meeting project family garden recipe school train'.split(' ');

beforeAll(async () => {
  await ensureBuilt();
  // A project with @actiongate/redis and ioredis installed, as a user's app has them.
  cwd = join(temp.dir, 'app');
  mkdirSync(join(cwd, 'node_modules/@actiongate'), { recursive: true });
  symlinkSync(join(root, 'packages/adapters-redis'), join(cwd, 'node_modules/@actiongate/redis'), 'dir');
  symlinkSync(realpathSync(join(root, 'node_modules/ioredis')), join(cwd, 'node_modules/ioredis'), 'dir');
  writeFileSync(join(cwd, 'package.json'), '{ "name": "app", "private": true }');
  writeFileSync(join(cwd, 'policy.json'), JSON.stringify({ name: 'ads', content: { fields: ['title', 'body'], model: { name: 'ads', buckets: 1024, minSpam: 20, minHam: 20 } } }));
  writeFileSync(join(cwd, 'no-model.json'), JSON.stringify({ name: 'plain' }));
  const lines = Array.from({ length: 600 }, (_, i) => {
    const words = i % 2 === 0 ? SPAM : HAM;
    const text = Array.from({ length: 8 }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(' ');
    // Both accepted shapes: {label, content} and the lines of `actiongate synthetic` ({label, action: {content}}).
    return JSON.stringify(i % 3 === 0 ? { label: i % 2 === 0 ? 'spam' : 'ham', action: { action: 'ad.submit', content: { title: 'ad', body: text } } } : { label: i % 2 === 0 ? 'spam' : 'ham', content: i % 5 === 0 ? text : { title: 'ad', body: text } });
  });
  writeFileSync(join(cwd, 'labelled.ndjson'), `${lines.join('\n')}\n`);
  writeFileSync(join(cwd, 'bad.ndjson'), `${lines.slice(0, 10).join('\n')}\n{"label":"spam?","content":"x"}\nnot json\n`);
}, 240_000);
afterAll(() => temp.remove());

describe('actiongate model', () => {
  const prefix = () => `agmcli-${randomUUID().slice(0, 8)}`;

  it('trains from a labelled file into Redis, exports, imports into another store, and reports stats', async () => {
    const a = prefix();
    const trained = await run(['model', 'train', '--policy', 'policy.json', '--labelled', 'labelled.ndjson', '--store', url, '--prefix', a, '--batch', '100'], { cwd });
    expect(trained.stderr).toContain('learned 600 examples from labelled.ndjson');
    expect(trained.code).toBe(0);
    expect(trained.stdout).toMatch(new RegExp(`^model "ads" in redis .*\\(prefix ${a}\\): 300 spam and 300 ham examples, \\d+ of 1024 buckets used; ready \\(predicting\\)`));

    const exported = await run(['model', 'export', '--policy', 'policy.json', '--store', url, '--prefix', a], { cwd });
    expect(exported.code).toBe(0);
    const file = JSON.parse(exported.stdout);
    expect(file).toMatchObject({ format: 'actiongate-content-model', name: 'ads', buckets: 1024, spamDocs: 300, hamDocs: 300 });
    writeFileSync(join(cwd, 'model.json'), exported.stdout);

    const b = prefix();
    const imported = await run(['model', 'import', '--policy', 'policy.json', '--store', url, '--prefix', b, 'model.json'], { cwd });
    expect(imported.code).toBe(0);
    const stats = await run(['model', 'stats', '--policy', 'policy.json', '--store', url, '--prefix', b], { cwd });
    expect(stats.stdout).toContain('300 spam and 300 ham examples');
    const again = await run(['model', 'export', '--policy', 'policy.json', '--store', url, '--prefix', b, '--out', 'copy.json'], { cwd });
    expect(again.code).toBe(0);
    const copy = JSON.parse(readFileSync(join(cwd, 'copy.json'), 'utf8'));
    expect({ ...copy, exportedAt: '' }).toEqual({ ...file, exportedAt: '' });
  }, 60_000);

  it('learns nothing from a file with a bad line, and names the lines', async () => {
    const c = prefix();
    const { code, stderr } = await run(['model', 'train', '--policy', 'policy.json', '--labelled', 'bad.ndjson', '--store', url, '--prefix', c], { cwd });
    expect(code).toBe(1);
    expect(stderr).toContain('nothing learned, bad.ndjson has bad lines');
    expect(stderr).toContain('bad.ndjson:11: "label" must be "spam" or "ham", got "spam?"');
    expect(stderr).toMatch(/bad\.ndjson:12: /);
    const stats = await run(['model', 'stats', '--policy', 'policy.json', '--store', url, '--prefix', c], { cwd });
    expect(stats.stdout).toContain('0 spam and 0 ham examples');
  }, 60_000);

  it('trains in memory with --out, and says when nothing is kept', async () => {
    const out = await run(['model', 'train', '--policy', 'policy.json', '--labelled', 'labelled.ndjson', '--out', 'mem.json'], { cwd });
    expect(out.code).toBe(0);
    expect(JSON.parse(readFileSync(join(cwd, 'mem.json'), 'utf8'))).toMatchObject({ spamDocs: 300, hamDocs: 300 });
    const lost = await run(['model', 'train', '--policy', 'policy.json', '--labelled', 'labelled.ndjson'], { cwd });
    expect(lost.stderr).toContain('nothing kept (no --store and no --out)');
    // --out naming the training file would replace the examples with the model.
    const before = readFileSync(join(cwd, 'labelled.ndjson'), 'utf8');
    const own = await run(['model', 'train', '--policy', 'policy.json', '--labelled', 'labelled.ndjson', '--out', 'labelled.ndjson'], { cwd });
    expect(own.code).toBe(2);
    expect(own.stderr).toContain('writing it would overwrite what is being read');
    expect(readFileSync(join(cwd, 'labelled.ndjson'), 'utf8')).toBe(before);
  }, 60_000);

  it('refuses a policy without a model, a bad model file, and a wrong command line', async () => {
    const none = await run(['model', 'stats', '--policy', 'no-model.json'], { cwd });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no-model.json has no content.model section');
    writeFileSync(join(cwd, 'wrong.json'), JSON.stringify({ format: 'actiongate-content-model', version: 1, name: 'ads', buckets: 2048, tokenizer: 'actiongate-1', spamDocs: 1, hamDocs: 1, spam: [], ham: [] }));
    const wrong = await run(['model', 'import', '--policy', 'policy.json', 'wrong.json'], { cwd });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('/buckets the file has 2048 buckets; this model has 1024');
    // A 1 GB file (sparse: no disk used) is refused from its size, not read into memory first.
    const huge = join(cwd, 'huge.json');
    writeFileSync(huge, '{"format":"actiongate-content-model","spam":[');
    truncateSync(huge, 1024 ** 3);
    const big = await run(['model', 'import', '--policy', 'policy.json', 'huge.json'], { cwd });
    expect(big.code).toBe(1);
    expect(big.stderr).toContain(`huge.json is not a model file: ${1024 ** 3} bytes, more than the`);
    rmSync(huge);
    const usage = await run(['model', 'fly', '--policy', 'policy.json'], { cwd });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('expected train, export, import or stats, got "fly"');
    // Checked, then learned: stdin would be read once, and the second pass would learn nothing.
    const stdin = await run(['model', 'train', '--policy', 'policy.json', '--labelled', '-', '--out', 'stdin.json'], { cwd, input: readFileSync(join(cwd, 'labelled.ndjson'), 'utf8') });
    expect(stdin.code).toBe(2);
    expect(stdin.stderr).toContain('--labelled must be a file, not stdin');
  }, 60_000);
});
