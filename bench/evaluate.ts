/**
 * Whole decisions through the reference classifieds policy with a 100k-CIDR blocklist on
 * MemoryStore: decisions/s on one core, p50 and p99 latency, and the CPU time per decision
 * (process.cpuUsage: on a shared machine it moves less than wall time). The 100k list is the real
 * FireHOL and Spamhaus sets from ../shared/data when present, topped up with generated ranges.
 * ROUNDS measured rounds of DECISIONS each, after one warm-up: each round is reported, and the
 * least disturbed one (least CPU per decision) is the one returned. PEER=0 skips the peer stack.
 *
 * The built packages (bench/built.ts): `pnpm build` first.
 *
 *   pnpm exec tsx bench/evaluate.ts
 *   ROUNDS=5 DECISIONS=100000 PEER=0 pnpm exec tsx bench/evaluate.ts
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from 'json-rules-engine';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Action } from '@actiongate/core';
import { core, memory } from './built.js';
import { syntheticTraffic } from '../packages/core/src/cli/synthetic.js';
import { blocklistFile } from './blocklist.js';

const { compilePolicy, createGuard } = core;
const { MemoryStore } = memory;
const root = fileURLToPath(new URL('..', import.meta.url));


export interface EvaluateRound {
  decisionsPerSecond: number;
  /** User + system CPU time of the process per decision (GC threads included). */
  cpuUs: number;
  p50us: number;
  p99us: number;
}

export async function run(options: { decisions?: number; rounds?: number; peer?: boolean } = {}) {
  const total = options.decisions ?? 200_000;
  const roundCount = Math.max(1, options.rounds ?? 1);
  const document = JSON.parse(readFileSync(join(root, 'rules/classifieds.json'), 'utf8'));
  document.lists['big-blocklist'] = { files: [blocklistFile(100_000)], score: 30 };
  const policy = compilePolicy(document, { file: join(root, 'rules/classifieds.json') });
  const traffic = syntheticTraffic({ seed: 7 });
  // Content of about 1 KB, as the budget says.
  const filler = ' Pick up in the evening, cash or bank transfer, no shipping. Original receipt and box included.'.repeat(10);
  // Through JSON, as a host gets its actions: flat strings (a template sliced to 1 KB would be a
  // sliced string, slower to read character by character than anything a request body gives).
  const actions: Action[] = JSON.parse(JSON.stringify(traffic.map((t) => ({ ...t.action, content: { ...t.action.content, body: `${t.action.content?.body ?? ''}${filler}`.slice(0, 1024) } }))));
  let clock = Date.UTC(2026, 0, 5);
  const guard = createGuard({ policy, store: new MemoryStore({ maxKeys: 500_000 }), now: () => clock });

  for (let i = 0; i < 20_000; i++) {
    clock += 50;
    await guard.evaluate(actions[i % actions.length]!);
  }
  const samples = new Float64Array(total);
  const rounds: EvaluateRound[] = [];
  for (let round = 0; round < roundCount; round++) {
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    for (let i = 0; i < total; i++) {
      clock += 50;
      const t0 = process.hrtime.bigint();
      await guard.evaluate(actions[i % actions.length]!);
      samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    samples.sort();
    rounds.push({
      decisionsPerSecond: Math.round(total / seconds),
      cpuUs: +((used.user + used.system) / total).toFixed(1),
      p50us: +samples[Math.floor(total * 0.5)]!.toFixed(1),
      p99us: +samples[Math.floor(total * 0.99)]!.toFixed(1),
    });
  }
  await guard.close();
  const best = rounds.reduce((a, b) => (b.cpuUs < a.cpuUs ? b : a));
  if (options.peer === false) return { decisions: total, listEntries: policy.lists.size, ...best, rounds, peerDecisionsPerSecond: NaN, peerP50us: NaN, peerP99us: NaN };

  // The do-it-yourself stack a user would assemble instead: four rate-limiter-flexible memory
  // limiters for the same windows, then json-rules-engine over the same rules. (No list lookup
  // and no content analysis: the peer does less work per decision.)
  const limiters = policy.limits.map((l) => new RateLimiterMemory({ points: l.maxFor('registered'), duration: l.windowMs / 1000 }));
  const engine = new Engine(document.rules.map((r: Record<string, unknown>, i: number) => ({ ...r, name: String(i) })), { allowUndefinedFacts: true });
  const peerTotal = Math.floor(total / 10);
  const peerSamples = new Float64Array(peerTotal);
  const peerStarted = process.hrtime.bigint();
  for (let i = 0; i < peerTotal; i++) {
    const action = actions[i % actions.length]!;
    const t0 = process.hrtime.bigint();
    const key = action.actor?.id ?? 'anon';
    for (const limiter of limiters) await limiter.consume(key).catch(() => undefined);
    await engine.run({ action: action.action, actor: action.actor ?? null, content: { links: 0, duplicates: 0, length: 1024, domains: [] }, limits: {}, history: { violations: 0 }, score: 0, ip: null, attributes: action.attributes ?? {} });
    peerSamples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const peerSeconds = Number(process.hrtime.bigint() - peerStarted) / 1e9;
  peerSamples.sort();
  return {
    decisions: total,
    listEntries: policy.lists.size,
    ...best,
    rounds,
    peerDecisionsPerSecond: Math.round(peerTotal / peerSeconds),
    peerP50us: +peerSamples[Math.floor(peerTotal * 0.5)]!.toFixed(1),
    peerP99us: +peerSamples[Math.floor(peerTotal * 0.99)]!.toFixed(1),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  const r = await run({ decisions: env('DECISIONS', 200_000), rounds: env('ROUNDS', 1), peer: process.env.PEER !== '0' });
  console.log('| stack | decisions/s | CPU µs/decision | p50 µs | p99 µs |\n| --- | --- | --- | --- | --- |');
  r.rounds.forEach((round, i) => console.log(`| Actiongate, MemoryStore, ${r.listEntries} list entries${r.rounds.length > 1 ? `, round ${i + 1}` : ''} | ${round.decisionsPerSecond} | ${round.cpuUs} | ${round.p50us} | ${round.p99us} |`));
  if (process.env.PEER !== '0') console.log(`| rate-limiter-flexible ×4 + json-rules-engine | ${r.peerDecisionsPerSecond} | – | ${r.peerP50us} | ${r.peerP99us} |`);
}
