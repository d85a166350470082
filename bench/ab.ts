/**
 * Before/after in one process: the guard of two source trees (say a `git worktree` of the
 * commit before a change, and the working tree) loaded side by side, first checked to decide
 * identically, then timed in alternating chunks. On a shared machine, load moves between two
 * runs far more than a hot-path change does; alternating chunks of a few thousand decisions in
 * one process puts both trees under the same load, and CPU time per decision (process.cpuUsage)
 * moves less than wall time.
 *
 *   git worktree add /tmp/before <commit>   (its node_modules: a symlink to this tree's will do)
 *   pnpm exec tsx bench/ab.ts /tmp/before .              reference policy, 1 KB ads (bench/evaluate.ts)
 *   VARIANT=view pnpm exec tsx bench/ab.ts /tmp/before . `page.view` from 50,000 addresses (bench/http-overhead.ts)
 *   VARIANT=submit ...                                   `ad.submit` without content, the same addresses
 *   VARIANT=signals ...                                  the content signals alone (`policy.content.evaluate`, no model)
 *                                                        of the 1 KB ads: a change to them is ~40% of a decision, and
 *                                                        alone it shows above the noise of whole decisions
 *   CHUNKS=16 CHUNK=5000                                 chunks per tree, decisions per chunk
 *
 * Identical means: the same decisions (every field but the random id and challenge token, in
 * the same key order) over a deterministic stream with feedback mixed in, and the same content
 * signals over varied texts (ASCII, accents, look-alikes, spelled-out words, contacts, links).
 * Each tree resolves its own @actiongate/* imports only when run from its own directory, so the
 * guard and its store are loaded by path here. Caveat: core's own `@actiongate/memory` import
 * still resolves to a build (this tree's, for a worktree whose node_modules are symlinks), a class
 * apart from the MemoryStore loaded here by path, so the guard's direct call of its MemoryStore
 * (`applyNow`) is not taken in this benchmark. Its gain was measured on the build in one process:
 * a MemoryStore against a subclass that only forwards `apply`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const roots = [resolve(process.argv[2] ?? '.'), resolve(process.argv[3] ?? '.')] as const;
const variant = process.env.VARIANT ?? 'content';
const chunks = Number(process.env.CHUNKS ?? 16);
const chunk = Number(process.env.CHUNK ?? 5000);

/* eslint-disable @typescript-eslint/no-explicit-any -- two trees' modules, loaded by path */
interface Tree {
  root: string;
  core: any;
  store: any;
  synthetic: any;
  blocklistFile: (count: number) => string;
}

async function load(root: string): Promise<Tree> {
  return {
    root,
    core: await import(join(root, 'packages/core/src/index.ts')),
    store: await import(join(root, 'packages/adapters-memory/src/index.ts')),
    synthetic: await import(join(root, 'packages/core/src/cli/synthetic.ts')),
    // bench/blocklist.ts since 2026-12-01; older trees kept it in bench/evaluate.ts.
    blocklistFile: (await import(join(root, existsSync(join(root, 'bench/blocklist.ts')) ? 'bench/blocklist.ts' : 'bench/evaluate.ts'))).blocklistFile,
  };
}

const trees = [await load(roots[0]), await load(roots[1])];

/** A digest of the decisions and feedback results of a deterministic stream. */
async function decisionsDigest(tree: Tree): Promise<string> {
  const document = JSON.parse(readFileSync(join(tree.root, 'rules/classifieds.json'), 'utf8'));
  // A model that becomes ready within the run, so its predictions are compared too.
  document.content.model.minSpam = 20;
  document.content.model.minHam = 20;
  const policy = tree.core.compilePolicy(document, { file: join(tree.root, 'rules/classifieds.json') });
  const traffic = tree.synthetic.syntheticTraffic({ seed: 7 });
  let clock = Date.UTC(2026, 0, 5);
  const guard = tree.core.createGuard({ policy, store: new tree.store.MemoryStore({ maxKeys: 500_000 }), now: () => clock, random: tree.synthetic.prng(3) });
  const hash = createHash('sha256');
  const ids: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    clock += 50;
    const labelled = traffic[i % traffic.length];
    const { id, challenge, ...rest } = await guard.evaluate(labelled.action, i % 97 === 0 ? { dryRun: true } : undefined);
    ids.push(id);
    hash.update(JSON.stringify({ ...rest, challenge: challenge && challenge.kind }));
    if (i % 7 === 3) {
      const back = 1 + (i % 1500); // some beyond the 1,000 decisions a guard remembers
      const result = await guard.feedback(ids[Math.max(0, ids.length - back)], i % 3 === 0 ? 'ham' : traffic[(ids.length - back) % traffic.length].label);
      hash.update(JSON.stringify({ ...result, decision: result.decision ? 'id' : null }));
    }
    if (i % 501 === 0) hash.update(JSON.stringify(await guard.feedback(labelled.action, labelled.label)));
  }
  await guard.close();
  // Content signals alone over varied texts.
  const random = tree.synthetic.prng(11);
  const pieces = ['viagra', 'ѵіаgrа', 'v.i.a.g.r.a', 'FREE MONEY!!!!!!', 'café crème', 'call +44 7700 900123', 'john at example dot com', 'x@mailinator.com',
    'http://bit.ly/abc', 'www.win.example', '$$$$', 'Ｆｕｌｌ ｗｉｄｔｈ', 'нос', 'click  here', '\u200Bcasino', 'ᏔᎪᏞᏞ', '   \t\n ', '1.2.3.4.5', 'Loan',
    'work from home', 'İstanbul', '😀 emoji', 'a-b-c-d', 'AAAAAAA', 'bitcoin', '100% free', 'name (at) site (dot) org',
    // Paths of the Unicode folding and joining: one-letter words of other scripts with each
    // separator, Latin inside Russian, astral letters, Cherokee, lone surrogates, CJK.
    'а б в г', 'ж.ж.ж.ж', 'х - у - з', 'ѵ•і•а•g', 'а..б..в', 'продам iPhone нос', 'πωλείται Ηot σπίτι', '𐐀𐐨 𝐯𝐢𝐚 word', 'ᏙᎥᎪᏀᏒᎪ', '\uD83D lone',
    'ǅ title', '出售自行车。', 'c̶a̶s̶i̶n̶o̶', 'ᴠɪᴀɢʀᴀ ɪs', '٠٧٧٠٠ ٩٠٠١٢٣'];
  for (let i = 0; i < 3_000; i++) {
    const parts: string[] = [];
    for (let j = 0, n = 1 + Math.floor(random() * 40); j < n; j++) {
      parts.push(random() < 0.4 ? pieces[Math.floor(random() * pieces.length)]! : traffic[Math.floor(random() * traffic.length)].action.content?.body ?? 'plain words here');
    }
    const content: Record<string, string> = { title: parts.slice(0, 3).join(' '), body: parts.join(random() < 0.5 ? ' ' : '\n') };
    if (random() < 0.3) content.email = `someone@${random() < 0.5 ? 'mailinator.com' : 'example.org'}`;
    if (random() < 0.1) content.extra = 'a field the policy does not read: viagra';
    if (random() < 0.05) content.body = '';
    hash.update(JSON.stringify(policy.content.evaluate(content, null)));
  }
  return hash.digest('hex');
}

/** A guard of `tree` on the benchmark's policy and its stream of actions. */
function setup(tree: Tree) {
  const document = JSON.parse(readFileSync(join(tree.root, 'rules/classifieds.json'), 'utf8'));
  const ads = variant === 'content' || variant === 'signals';
  if (variant === 'content') document.lists['big-blocklist'] = { files: [tree.blocklistFile(100_000)], score: 30 };
  const policy = tree.core.compilePolicy(document, { file: join(tree.root, 'rules/classifieds.json') });
  const filler = ' Pick up in the evening, cash or bank transfer, no shipping. Original receipt and box included.'.repeat(10);
  const actions = ads
    ? JSON.parse(JSON.stringify(tree.synthetic.syntheticTraffic({ seed: 7 }).map((t: any) => ({ ...t.action, content: { ...t.action.content, body: `${t.action.content?.body ?? ''}${filler}`.slice(0, 1024) } })))) // flat strings, as from a request body
    : Array.from({ length: 50_000 }, (_, i) => ({
        action: variant === 'submit' ? 'ad.submit' : 'page.view',
        request: { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}` } },
      }));
  const clock = { now: Date.UTC(2026, 0, 5) };
  const guard = tree.core.createGuard({ policy, store: new tree.store.MemoryStore({ maxKeys: 500_000 }), now: () => clock.now });
  return { guard, actions, clock, toHttpResponse: tree.core.toHttpResponse as (decision: unknown) => unknown, signals: policy.content.evaluate as (content: unknown, model: null) => unknown, next: 0 };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

const digests = [await decisionsDigest(trees[0]!), await decisionsDigest(trees[1]!)];
console.log(`decisions and content signals: ${digests[0] === digests[1] ? 'identical' : 'DIFFERENT'} (${digests[0]!.slice(0, 16)}, ${digests[1]!.slice(0, 16)})`);

const runs = [setup(trees[0]!), setup(trees[1]!)];
const cpu: number[][] = [[], []];
const p50: number[][] = [[], []];
const samples = new Float64Array(chunk);
for (let c = -2; c < chunks; c++) {
  for (const which of c % 2 === 0 ? [0, 1] : [1, 0]) {
    const run = runs[which]!;
    const started = process.cpuUsage();
    for (let i = 0; i < chunk; i++) {
      run.clock.now += variant === 'content' ? 50 : 2; // the HTTP variants: 500 requests/s of virtual time
      const t0 = process.hrtime.bigint();
      if (variant === 'signals') {
        run.signals(run.actions[run.next++ % run.actions.length].content, null);
      } else {
        const decision = await run.guard.evaluate(run.actions[run.next++ % run.actions.length]);
        if (variant !== 'content') run.toHttpResponse(decision);
      }
      samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    const used = process.cpuUsage(started);
    if (c < 0) continue; // two warm-up chunks each
    samples.sort();
    cpu[which]!.push((used.user + used.system) / chunk);
    p50[which]!.push(samples[chunk >> 1]!);
  }
}
const at = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * q)]!;
console.log(`${variant}: ${chunks} chunks of ${chunk} decisions per tree, alternating`);
console.log('| tree | CPU µs/decision min | median | p50 µs min | median |\n| --- | --- | --- | --- | --- |');
for (const which of [0, 1]) {
  console.log(`| ${roots[which]} | ${at(cpu[which]!, 0).toFixed(1)} | ${at(cpu[which]!, 0.5).toFixed(1)} | ${at(p50[which]!, 0).toFixed(1)} | ${at(p50[which]!, 0.5).toFixed(1)} |`);
}
console.log(`median CPU per decision, second tree against first: ${((at(cpu[1]!, 0.5) / at(cpu[0]!, 0.5)) * 100).toFixed(1)}%`);
