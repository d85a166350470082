/**
 * 1M distinct IPs through MemoryStore (default bound) and through rate-limiter-flexible's
 * RateLimiterMemory, the peer a user would otherwise pick: throughput and heap growth.
 * MemoryStore must stay within its `maxKeys` bound; the peer has no bound (it relies on timers).
 *
 *   node --expose-gc --import tsx bench/memory-store.ts
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { MemoryStore } from '../packages/adapters-memory/src/index.js';

const heapMb = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1048576;
};

const ipOf = (i: number) => `${(i >>> 24) & 255}.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;

export async function run(options: { keys?: number } = {}) {
  const keys = options.keys ?? 1_000_000;
  const store = new MemoryStore();
  let before = heapMb();
  let t = process.hrtime.bigint();
  for (let i = 0; i < keys; i++) {
    await store.apply({ now: 1_700_000_000_000 + i, subjects: [{ subject: `ip:${ipOf(i + 16_777_216)}`, get: ['ban', 'allow'], take: [{ name: 'limit:ip-minute', windowMs: 60_000, max: 10, cost: 1 }, { name: 'limit:ip-hour', windowMs: 3_600_000, max: 50, cost: 1 }] }] });
  }
  const ours = { opsPerSecond: Math.round(keys / (Number(process.hrtime.bigint() - t) / 1e9)), heapGrowthMb: +(heapMb() - before).toFixed(1), entries: store.size, bound: 100_000 };

  const limiter = new RateLimiterMemory({ points: 10, duration: 60 });
  before = heapMb();
  t = process.hrtime.bigint();
  for (let i = 0; i < keys; i++) await limiter.consume(ipOf(i + 16_777_216));
  const peer = { opsPerSecond: Math.round(keys / (Number(process.hrtime.bigint() - t) / 1e9)), heapGrowthMb: +(heapMb() - before).toFixed(1) };
  return { keys, memoryStore: ours, rateLimiterMemory: peer, gc: typeof (globalThis as { gc?: unknown }).gc === 'function' };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const r = await run();
  console.log('| store | distinct IPs | ops/s | heap growth MB | entries kept |\n| --- | --- | --- | --- | --- |');
  console.log(`| MemoryStore (2 windows + 2 marks per op) | ${r.keys} | ${r.memoryStore.opsPerSecond} | ${r.memoryStore.heapGrowthMb} | ${r.memoryStore.entries} (bound ${r.memoryStore.bound}) |`);
  console.log(`| rate-limiter-flexible RateLimiterMemory (1 window) | ${r.keys} | ${r.rateLimiterMemory.opsPerSecond} | ${r.rateLimiterMemory.heapGrowthMb} | unbounded |`);
  if (!r.gc) console.log('(run with node --expose-gc for exact heap figures)');
}
