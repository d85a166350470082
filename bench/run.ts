/**
 * Every benchmark in one process, one after the other, so the ratios compare like with like.
 *
 *   pnpm bench        (node --expose-gc --import tsx bench/run.ts)
 */
import { run as cidr } from './cidr.js';
import { run as content } from './content.js';
import { run as evaluate } from './evaluate.js';
import { run as httpOverhead } from './http-overhead.js';
import { run as memoryStore } from './memory-store.js';
import { alternating, alternatingText, run as redis } from './redis.js';
import { run as rules } from './rules.js';

const print = (title: string, header: string[], rows: (string | number)[][]) => {
  console.log(`\n### ${title}\n\n| ${header.join(' | ')} |\n| ${header.map(() => '---').join(' | ')} |`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
};

console.log(`Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);

const e = await evaluate();
print('Whole decisions, reference policy, MemoryStore', ['stack', 'decisions/s', 'p50 µs', 'p99 µs'], [
  [`Actiongate (${e.listEntries} list entries, 1 KB content, ${e.workload} workload)`, e.decisionsPerSecond, e.p50us, e.p99us],
  ['rate-limiter-flexible ×4 + json-rules-engine', e.peerDecisionsPerSecond, e.peerP50us, e.peerP99us],
]);

const r = await rules();
print('Rules: compiled against json-rules-engine (same events)', ['rules', 'compiled ns/run', 'json-rules-engine µs/run (mean / p50)', 'speed-up'], [[r.rules, r.compiledNs, `${r.engineMeanUs} / ${r.engineP50Us}`, `${r.speedup}×`]]);

const t = await content();
print('Content signals, reference classifieds policy', ['input', 'model', 'µs mean', 'µs p50', 'NFKC + lower case alone µs', 'ratio'], t.rows.map((row) => [row.input, row.model, row.meanUs, row.p50Us, row.floorUs.toFixed(2), `${row.ratio}×`]));

const c = await cidr();
print('CIDR set against a linear ipaddr.js scan', ['entries', 'build ms', 'tables MB', 'IPv4 ns/lookup', 'IPv6 ns/lookup', 'ipaddr.js linear ns/lookup', 'speed-up'],
  c.map((row) => [row.entries!, row.buildMs!, row.tablesMb!, row.v4Ns!, row.v6Ns!, row.linearNs ?? '–', row.speedup ? `${row.speedup}×` : '–']));

const m = await memoryStore();
print('1M distinct IPs', ['store', 'ops/s', 'heap growth MB', 'entries kept'], [
  ['MemoryStore (2 windows + 2 marks per op)', m.memoryStore.opsPerSecond, m.memoryStore.heapGrowthMb, `${m.memoryStore.entries} (bound ${m.memoryStore.bound})`],
  ['rate-limiter-flexible RateLimiterMemory (1 window)', m.rateLimiterMemory.opsPerSecond, m.rateLimiterMemory.heapGrowthMb, 'unbounded'],
]);

const redisRows = await redis();
print('Redis (private redis-server on loopback)', ['scenario', 'store', 'sequential /s (p50 / p99 µs)', '64 in flight /s (p50 / p99 µs)', 'Redis CPU µs per decision (64 in flight)', 'Redis commands per decision'],
  redisRows.map((row) => [row.scenario!, row.name!, `${row.sequential} (${row.seqP50} / ${row.seqP99})`, `${row.parallel} (${row.parP50} / ${row.parP99})`, row.redisCpuUs!, row.commands!]));
console.log(`\n${alternatingText(await alternating())}`);

const h = await httpOverhead();
print('HTTP overhead: hello-world node:http route under autocannon (50 connections, 10 s, 127.0.0.1)', ['route', 'requests/s', 'p99 ms', 'throughput vs bare'],
  h.map((row) => [row.variant, row.requestsPerSecond, row.p99ms, `${(row.ratio * 100).toFixed(1)}%`]));
