/**
 * The reference policy's rules: the compiled evaluator against json-rules-engine's Engine.run
 * on the same facts, in one process. Both must fire the same events (checked here too).
 *
 *   pnpm exec tsx bench/rules.ts
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from 'json-rules-engine';
import { compileRules, type FiredEvent } from '../packages/core/src/rules/compile.js';
import type { RulePolicy } from '../packages/core/src/policy/types.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function factSets(): Record<string, unknown>[] {
  const sets = [];
  for (let i = 0; i < 64; i++) {
    sets.push({
      action: 'ad.submit',
      ip: { address: `198.18.0.${i}`, version: 4, subnet: `198.18.0.${i}`, lists: i % 7 === 0 ? ['known-spam'] : [], banned: false },
      actor: { id: `u${i}`, status: ['anonymous', 'registered', 'verified'][i % 3], ageMs: i * 3_600_000 },
      content: { score: i % 50, terms: [], patterns: [], links: i % 4, domains: i % 5 === 0 ? ['bit.ly'] : [], length: 200 + i, duplicates: i % 6 },
      limits: { 'actor-daily': { count: i % 10, max: 10, remaining: 10 - (i % 10), exceeded: false } },
      history: { violations: i % 3, bans: 0, banned: false, challengesPassed: 0 },
      score: i % 60,
      attributes: { tor: i % 11 === 0, userAgent: i % 9 === 0 ? 'curl' : 'Mozilla/5.0', countryRisk: (i % 10) / 10, emailDisposable: i % 8 === 0 },
    });
  }
  return sets;
}

export async function run(options: { iterations?: number } = {}) {
  const rules: RulePolicy[] = JSON.parse(readFileSync(resolve(root, 'rules/classifieds.json'), 'utf8')).rules;
  const compiled = compileRules(rules);
  const engine = new Engine(rules.map((r, i) => ({ ...r, priority: r.priority ?? 1, name: String(i) })) as never, { allowUndefinedFacts: true });
  const facts = factSets();
  // Same events both ways, or the comparison means nothing.
  for (const f of facts) {
    const ours = (compiled.evaluate(f) as FiredEvent[]).map((e) => e.index).sort();
    const theirs = (await engine.run(f)).results.map((r) => Number(r.name)).sort();
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) throw new Error(`events differ: ${JSON.stringify(ours)} vs ${JSON.stringify(theirs)}`);
  }
  const n = options.iterations ?? 200_000;
  let sink = 0;
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += (compiled.evaluate(facts[i & 63]!) as FiredEvent[]).length;
  const compiledNs = Number(process.hrtime.bigint() - t) / n;
  const m = Math.max(2_000, Math.floor(n / 50));
  const samples: number[] = [];
  t = process.hrtime.bigint();
  for (let i = 0; i < m; i++) {
    const t0 = process.hrtime.bigint();
    sink += (await engine.run(facts[i & 63]!)).events.length;
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const engineUs = Number(process.hrtime.bigint() - t) / m / 1000;
  samples.sort((a, b) => a - b);
  return { rules: rules.length, compiledNs: +compiledNs.toFixed(0), engineMeanUs: +engineUs.toFixed(1), engineP50Us: +samples[Math.floor(m / 2)]!.toFixed(1), speedup: Math.round((engineUs * 1000) / compiledNs), sink };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const r = await run();
  console.log('| rules | compiled ns/run | json-rules-engine µs/run (mean / p50) | speed-up |\n| --- | --- | --- | --- |');
  console.log(`| ${r.rules} | ${r.compiledNs} | ${r.engineMeanUs} / ${r.engineP50Us} | ${r.speedup}× |`);
}
