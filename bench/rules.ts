/**
 * The rules alone: the 15-rule classifieds fixture, compiled (`compileRules(...).evaluate`) against
 * json-rules-engine's `engine.run` on the same facts, in one process. Both must fire the same
 * events in the same order (checked before timing), or the comparison means nothing. The compiled
 * rules are timed both ways they can run: generated code (the default) and the closures used where
 * the runtime forbids code generation, in alternating batches.
 * Budget (DESIGN, performance): compiled ≥ 20× faster than json-rules-engine.
 *
 *   pnpm exec tsx bench/rules.ts
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from 'json-rules-engine';
import type { RulePolicy } from '../packages/core/src/policy/types.js';
import { compileRules, type FiredEvent } from '../packages/core/src/rules/compile.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = 'packages/core/test/rules/fixtures/classifieds-rules.json';
const BUDGET = 20;

/** Facts as engine/facts.ts builds them, for three kinds of traffic. */
const FACT_SETS: Record<string, Record<string, unknown>> = {
  'spammy, anonymous': {
    action: 'ad.submit',
    ip: { address: '203.0.113.7', version: 4, subnet: '203.0.113.7', lists: ['known-spam'], banned: false },
    actor: { id: 'u1', status: 'anonymous', createdAt: 1_700_000_000_000, ageMs: 3_600_000 },
    content: { score: 40, terms: ['casino'], patterns: [], links: 3, domains: ['bit.ly', 'example.com'], length: 500, duplicates: 6 },
    limits: { 'actor-daily': { count: 9, max: 10, remaining: 1, exceeded: false }, 'ip-minute': { count: 2, max: 5, remaining: 3, exceeded: false } },
    history: { violations: 2, bans: 0, banned: false, challengesPassed: 1 },
    score: 40,
    attributes: { tor: true, userAgent: 'curl', countryRisk: 0.9, emailDisposable: true },
  },
  'registered, ordinary ad': {
    action: 'ad.submit',
    ip: { address: '198.51.100.20', version: 4, subnet: '198.51.100.20', lists: [], banned: false },
    actor: { id: 'u7', status: 'registered', createdAt: 1_690_000_000_000, ageMs: 40 * 86_400_000 },
    content: { score: 0, terms: [], patterns: [], links: 1, domains: ['example.com'], length: 850, duplicates: 0 },
    limits: { 'actor-daily': { count: 3, max: 50, remaining: 47, exceeded: false }, 'ip-minute': { count: 1, max: 5, remaining: 4, exceeded: false } },
    history: { violations: 0, bans: 0, banned: false, challengesPassed: 0 },
    score: 0,
    attributes: { userAgent: 'Mozilla/5.0', countryRisk: 0.2, emailDisposable: false },
  },
  'verified, clean': {
    action: 'ad.submit',
    ip: { address: '198.51.100.4', version: 4, subnet: '198.51.100.4', lists: [], banned: false },
    actor: { id: 'u2', status: 'verified', createdAt: 1_600_000_000_000, ageMs: 90 * 86_400_000 },
    content: { score: 0, terms: [], patterns: [], links: 0, domains: [], length: 200, duplicates: 0 },
    limits: { 'actor-daily': { count: 1, max: 200, remaining: 199, exceeded: false } },
    history: { violations: 0, bans: 0, banned: false, challengesPassed: 0 },
    score: 0,
    attributes: { userAgent: 'Mozilla/5.0', countryRisk: 0.1 },
  },
  'no actor, no IP': {
    action: 'comment',
    ip: null,
    actor: null,
    content: { score: 0, terms: [], patterns: [], links: 1, domains: [], length: 10, duplicates: 0 },
    limits: {},
    history: { violations: 0, bans: 0, banned: false, challengesPassed: 0 },
    score: 0,
    attributes: {},
  },
};

export interface RulesBenchRow {
  facts: string;
  events: number;
  compiledNsP50: number;
  compiledNsMean: number;
  /** The same rules compiled to closures (`generate: false`). */
  closuresNsP50: number;
  engineUsP50: number;
  engineUsMean: number;
  /** json-rules-engine mean / compiled mean. */
  speedup: number;
}

export interface RulesBenchResult {
  rules: number;
  rows: RulesBenchRow[];
  /** Compiled ns per evaluate, mean over the fact sets. */
  compiledNs: number;
  engineMeanUs: number;
  engineP50Us: number;
  /** The smallest speed-up over the fact sets: the budget must hold for each. */
  speedup: number;
  budget: number;
  met: boolean;
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

/** Runs the benchmark; `scale` shortens it (tests, smoke runs). */
export async function run(options: { scale?: number } = {}): Promise<RulesBenchResult> {
  const scale = options.scale ?? 1;
  const rules: RulePolicy[] = JSON.parse(readFileSync(resolve(root, FIXTURE), 'utf8'));
  const compiled = compileRules(rules);
  const closures = compileRules(rules, { generate: false });
  if (!compiled.compiled || compiled.problems.length > 0) throw new Error(`fixture does not compile: ${JSON.stringify(compiled.problems)}`);
  // One engine, runs awaited one after the other: json-rules-engine at its best (no overlap).
  const engine = new Engine(rules.map((rule, index) => ({ ...structuredClone(rule), name: index })) as never, { allowUndefinedFacts: true });

  const rows: RulesBenchRow[] = [];
  let sink = 0;
  for (const [label, facts] of Object.entries(FACT_SETS)) {
    const ours = (compiled.evaluate(facts) as FiredEvent[]).map((event) => event.index);
    const theirs = (await engine.run(facts)).results.map((result) => result.name as unknown as number);
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) throw new Error(`${label}: events differ: ${JSON.stringify(ours)} vs ${JSON.stringify(theirs)}`);
    const viaClosures = (closures.evaluate(facts) as FiredEvent[]).map((event) => event.index);
    if (JSON.stringify(viaClosures) !== JSON.stringify(ours)) throw new Error(`${label}: closures differ: ${JSON.stringify(viaClosures)} vs ${JSON.stringify(ours)}`);

    // Compiled: batches of calls (one call is below the timer's resolution), ns per call per batch.
    const batch = 1000;
    const batches = Math.max(50, Math.round(400 * scale));
    for (let i = 0; i < 50_000 * scale; i++) sink += (compiled.evaluate(facts) as FiredEvent[]).length + (closures.evaluate(facts) as FiredEvent[]).length;
    const compiledNs: number[] = [];
    const closuresNs: number[] = [];
    for (let b = 0; b < batches; b++) {
      for (const [rulesOf, times] of b % 2 === 0 ? [[compiled, compiledNs], [closures, closuresNs]] as const : [[closures, closuresNs], [compiled, compiledNs]] as const) {
        const start = process.hrtime.bigint();
        for (let i = 0; i < batch; i++) sink += (rulesOf.evaluate(facts) as FiredEvent[]).length;
        times.push(Number(process.hrtime.bigint() - start) / batch);
      }
    }

    // json-rules-engine: every run timed on its own.
    const runs = Math.max(200, Math.round(4000 * scale));
    for (let i = 0; i < runs / 4; i++) sink += (await engine.run(facts)).events.length;
    const engineUs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = process.hrtime.bigint();
      sink += (await engine.run(facts)).events.length;
      engineUs.push(Number(process.hrtime.bigint() - start) / 1000);
    }

    compiledNs.sort((a, b) => a - b);
    closuresNs.sort((a, b) => a - b);
    engineUs.sort((a, b) => a - b);
    rows.push({
      facts: label,
      events: ours.length,
      compiledNsP50: round(percentile(compiledNs, 0.5), 0),
      compiledNsMean: round(mean(compiledNs), 0),
      closuresNsP50: round(percentile(closuresNs, 0.5), 0),
      engineUsP50: round(percentile(engineUs, 0.5)),
      engineUsMean: round(mean(engineUs)),
      speedup: Math.round((mean(engineUs) * 1000) / mean(compiledNs)),
    });
  }
  if (sink < 0) console.log(sink); // keep the work observable

  const speedup = Math.min(...rows.map((row) => row.speedup));
  return {
    rules: rules.length,
    rows,
    compiledNs: round(mean(rows.map((row) => row.compiledNsMean)), 0),
    engineMeanUs: round(mean(rows.map((row) => row.engineUsMean))),
    engineP50Us: round(mean(rows.map((row) => row.engineUsP50))),
    speedup,
    budget: BUDGET,
    met: speedup >= BUDGET,
  };
}

/** The result as a markdown table. */
export function table(result: RulesBenchResult): string {
  const lines = [
    `${result.rules} rules (${FIXTURE}), Node ${process.version}`,
    '',
    '| facts | events | compiled ns/op (p50 / mean) | as closures ns/op (p50) | json-rules-engine µs/op (p50 / mean) | speed-up (mean) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...result.rows.map((row) => `| ${row.facts} | ${row.events} | ${row.compiledNsP50} / ${row.compiledNsMean} | ${row.closuresNsP50} | ${row.engineUsP50} / ${row.engineUsMean} | ${row.speedup}× |`),
    '',
    `Budget: compiled ≥ ${result.budget}× json-rules-engine — smallest speed-up ${result.speedup}×: ${result.met ? 'met' : 'NOT MET'}.`,
  ];
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  console.log(table(await run()));
}
