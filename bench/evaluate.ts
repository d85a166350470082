/**
 * Whole decisions through the reference classifieds policy with a 100k-CIDR blocklist on
 * MemoryStore: decisions/s on one core, p50 and p99 latency. The 100k list is the real FireHOL and
 * Spamhaus sets from ../shared/data when present, topped up with generated ranges. The actions are
 * bench/workload.ts's (WORKLOAD=day, the default: days of the synthetic site with distinct 1 KB
 * ads; WORKLOAD=repeat: the old every-decision-blocked loop), each parsed from its JSON text
 * before its decision, as a host gets it; only `evaluate` is timed, so decisions/s is decisions
 * over the time spent in `evaluate` (the parse's garbage still lands on the guard's collections).
 * ROUNDS measured rounds of DECISIONS each, after a warm-up of 20,000: each round is reported, and
 * the fastest is the one returned. PEER=0 skips the peer stack.
 *
 * The built packages (bench/built.ts): `pnpm build` first.
 *
 *   pnpm exec tsx bench/evaluate.ts
 *   ROUNDS=3 DECISIONS=50000 PEER=0 pnpm exec tsx bench/evaluate.ts
 *   WORKLOAD=repeat ROUNDS=3 DECISIONS=50000 PEER=0 pnpm exec tsx bench/evaluate.ts
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from 'json-rules-engine';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Action } from '@actiongate/core';
import { core, memory } from './built.js';
import { blocklistFile } from './blocklist.js';
import { workload, type WorkloadName } from './workload.js';

const { compilePolicy, createGuard } = core;
const { MemoryStore } = memory;
const root = fileURLToPath(new URL('..', import.meta.url));

const WARM_UP = 20_000;

export interface EvaluateRound {
  decisionsPerSecond: number;
  p50us: number;
  p99us: number;
  /** How many of the round's decisions were allowed, challenged, throttled, blocked. */
  verdicts: Record<string, number>;
}

export async function run(options: { decisions?: number; rounds?: number; peer?: boolean; workload?: WorkloadName } = {}) {
  const total = options.decisions ?? 200_000;
  const roundCount = Math.max(1, options.rounds ?? 1);
  const workloadName = options.workload ?? 'day';
  const document = JSON.parse(readFileSync(join(root, 'rules/classifieds.json'), 'utf8'));
  document.lists['big-blocklist'] = { files: [blocklistFile(100_000)], score: 30 };
  const policy = compilePolicy(document, { file: join(root, 'rules/classifieds.json') });
  const { lines, at } = workload(workloadName, WARM_UP + roundCount * total);
  let clock = 0;
  const guard = createGuard({ policy, store: new MemoryStore({ maxKeys: 500_000 }), now: () => clock });

  for (let i = 0; i < WARM_UP; i++) {
    clock = at[i]!;
    await guard.evaluate(JSON.parse(lines[i]!) as Action);
  }
  const samples = new Float64Array(total);
  const rounds: EvaluateRound[] = [];
  for (let round = 0; round < roundCount; round++) {
    const verdicts: Record<string, number> = { allow: 0, challenge: 0, throttle: 0, block: 0 };
    let spent = 0;
    const first = WARM_UP + round * total;
    for (let i = 0; i < total; i++) {
      clock = at[first + i]!;
      const action = JSON.parse(lines[first + i]!) as Action;
      const t0 = process.hrtime.bigint();
      const decision = await guard.evaluate(action);
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      samples[i] = us;
      spent += us;
      verdicts[decision.verdict]! += 1;
    }
    samples.sort();
    rounds.push({
      decisionsPerSecond: Math.round(total / (spent / 1e6)),
      p50us: +samples[Math.floor(total * 0.5)]!.toFixed(1),
      p99us: +samples[Math.floor(total * 0.99)]!.toFixed(1),
      verdicts,
    });
  }
  await guard.close();
  const best = rounds.reduce((a, b) => (b.decisionsPerSecond > a.decisionsPerSecond ? b : a));
  const base = { workload: workloadName, decisions: total, listEntries: policy.lists.size, ...best, rounds };
  if (options.peer === false) return { ...base, peerDecisionsPerSecond: NaN, peerP50us: NaN, peerP99us: NaN };

  // The do-it-yourself stack a user would assemble instead: four rate-limiter-flexible memory
  // limiters for the same windows, then json-rules-engine over the same rules. (No list lookup
  // and no content analysis: the peer does less work per decision.)
  const limiters = policy.limits.map((l) => new RateLimiterMemory({ points: l.maxFor('registered'), duration: l.windowMs / 1000 }));
  const engine = new Engine(document.rules.map((r: Record<string, unknown>, i: number) => ({ ...r, name: String(i) })), { allowUndefinedFacts: true });
  const peerTotal = Math.floor(total / 10);
  const peerSamples = new Float64Array(peerTotal);
  let peerSpent = 0;
  for (let i = 0; i < peerTotal; i++) {
    const action = JSON.parse(lines[WARM_UP + i]!) as Action;
    const t0 = process.hrtime.bigint();
    const key = action.actor?.id ?? 'anon';
    for (const limiter of limiters) await limiter.consume(key).catch(() => undefined);
    await engine.run({ action: action.action, actor: action.actor ?? null, content: { links: 0, duplicates: 0, length: 1024, domains: [] }, limits: {}, history: { violations: 0 }, score: 0, ip: null, attributes: action.attributes ?? {} });
    peerSamples[i] = Number(process.hrtime.bigint() - t0) / 1000;
    peerSpent += peerSamples[i]!;
  }
  peerSamples.sort();
  return {
    ...base,
    peerDecisionsPerSecond: Math.round(peerTotal / (peerSpent / 1e6)),
    peerP50us: +peerSamples[Math.floor(peerTotal * 0.5)]!.toFixed(1),
    peerP99us: +peerSamples[Math.floor(peerTotal * 0.99)]!.toFixed(1),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  const name = process.env.WORKLOAD ?? 'day';
  if (name !== 'day' && name !== 'repeat') throw new Error(`WORKLOAD=${name}: day or repeat`);
  const r = await run({ decisions: env('DECISIONS', 200_000), rounds: env('ROUNDS', 1), peer: process.env.PEER !== '0', workload: name });
  console.log('| stack | workload | decisions/s | p50 µs | p99 µs | allow / challenge / throttle / block |\n| --- | --- | --- | --- | --- | --- |');
  r.rounds.forEach((round, i) => {
    const v = round.verdicts;
    console.log(`| Actiongate, MemoryStore, ${r.listEntries} list entries${r.rounds.length > 1 ? `, round ${i + 1}` : ''} | ${r.workload} | ${round.decisionsPerSecond} | ${round.p50us} | ${round.p99us} | ${v.allow} / ${v.challenge} / ${v.throttle} / ${v.block} |`);
  });
  if (process.env.PEER !== '0') console.log(`| rate-limiter-flexible ×4 + json-rules-engine | ${r.workload} | ${r.peerDecisionsPerSecond} | ${r.peerP50us} | ${r.peerP99us} | – |`);
}
