/**
 * What a decision costs when the CPU caches are cold, as in a server, where the framework, the
 * HTTP parser and the app's own work run between two decisions and push the guard's code, policy
 * and store records out of the caches. A tight loop of decisions (bench/evaluate.ts) keeps all of
 * it cached and measures the least a decision can cost; bench/http-overhead.ts measures the real
 * thing but mixes it with the load generator on the same two cores. This sits between: the
 * requests of the HTTP benchmark (X-Forwarded-For over 50,000 addresses, the reference policy
 * trusting loopback, MemoryStore), each decision after a sweep over `SWEEP_KB` of data (random
 * reads, enough to evict the L1 and L2 caches), the sweep's own CPU time measured alone and
 * taken off. Reports CPU µs per decision hot and cold, per action, alternating, in rounds.
 *
 * The built packages (bench/built.ts): `pnpm build` first.
 *
 *   pnpm exec tsx bench/cold-cache.ts          (ROUNDS=2 DECISIONS=50000 SWEEP_KB=192)
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { core, memory } from './built.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const rounds = env('ROUNDS', 2);
const decisions = env('DECISIONS', 50_000);
const sweepReads = Math.round((env('SWEEP_KB', 192) * 1024) / 64); // one read per 64-byte cache line

const policy = await core.loadPolicy(resolve(root, 'rules/classifieds.json'));
const ADDRESSES = Array.from({ length: 50_000 }, (_, i) => `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`);
// 16 MB of numbers, read at scattered places: each read touches another cache line.
const junk = Float64Array.from({ length: 2_000_000 }, (_, i) => i);
let sink = 0;
function sweep(seed: number): void {
  for (let k = 0, j = (seed * 7919) % junk.length; k < sweepReads; k++, j = (j + 4099) % junk.length) sink += junk[j]!;
}

const cpuUs = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/**
 * A guard for `action` and the loop of its decisions. One guard per action for the whole run, so
 * that no measurement pays for collecting another's store; its clock moves 2 ms per decision, so
 * each address comes back every 100 s of its time, as in the HTTP benchmark's minutes, with its
 * windows in place and under the policy's limits (a real clock would let a fast loop exceed
 * `ip-minute`).
 */
function decider(action: string) {
  let clock = Date.UTC(2026, 0, 5);
  const guard = core.createGuard({ policy, store: new memory.MemoryStore(), now: () => clock });
  let next = 0;
  return async (count: number, cold: boolean) => {
    for (let i = 0; i < count; i++) {
      if (cold) sweep(i);
      clock += 2;
      const decision = await guard.evaluate({ action, request: { remoteAddress: '127.0.0.1', headers: { host: 'localhost', 'x-forwarded-for': ADDRESSES[next++ % ADDRESSES.length]! } } });
      if (decision.verdict !== 'allow') throw new Error(`${action} was not allowed: ${JSON.stringify(decision.reasons)}`);
      core.toHttpResponse(decision);
    }
  };
}

/** CPU µs per decision of `decide`, with a sweep before each one when `cold` (its own time taken off). */
async function measure(decide: ReturnType<typeof decider>, cold: boolean): Promise<number> {
  let sweepUs = 0;
  if (cold) {
    const started = cpuUs();
    for (let i = 0; i < decisions; i++) sweep(i);
    sweepUs = cpuUs() - started;
  }
  const started = cpuUs();
  await decide(decisions, cold);
  return (cpuUs() - started - sweepUs) / decisions;
}

console.log(`Node ${process.version}, ${decisions} decisions per measurement, sweep of ${(sweepReads * 64) / 1024} KB before each cold decision`);
console.log('| round | action | hot: CPU µs per decision | cold | cold / hot |\n| --- | --- | --- | --- | --- |');
const deciders = new Map(['page.view', 'ad.submit'].map((action) => [action, decider(action)]));
for (const decide of deciders.values()) await decide(2 * ADDRESSES.length, false); // every address seen, the code compiled
for (let round = 1; round <= rounds; round++) {
  for (const [action, decide] of deciders) {
    const hot = await measure(decide, false);
    const cold = await measure(decide, true);
    console.log(`| ${round} | ${action} | ${hot.toFixed(1)} | ${cold.toFixed(1)} | ${(cold / hot).toFixed(1)}× |`);
  }
}
if (sink === -1) console.log(sink); // keeps the sweep's reads
