/**
 * 1M distinct IPs through MemoryStore (default bound) and through rate-limiter-flexible's
 * RateLimiterMemory, the peer a user would otherwise pick: throughput and heap before and after.
 * MemoryStore must stay within its `maxKeys` bound; the peer has no bound (one timer per key).
 * Each MemoryStore op is a guard's typical batch for a new IP: read its ban and allow marks,
 * take from a minute and an hour window all or nothing. The peer runs one window, then two
 * limiters for the same two windows (the like-for-like work). The peer's keys live until their
 * own timers fire, so its second row starts from the first row's heap: read the growth.
 *
 *   pnpm exec tsx bench/memory-store.ts                (heap figures via a GC obtained at run time)
 *   node --expose-gc --import tsx bench/memory-store.ts
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { MemoryStore } from '../packages/adapters-memory/src/index.js';

/** `global.gc` under `--expose-gc`; otherwise the same function obtained by turning the flag on now. */
function findGc(): { gc: (() => void) | null; how: string } {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return { gc: exposed, how: '--expose-gc' };
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc === 'function') return { gc: gc as () => void, how: 'v8.setFlagsFromString' };
  } catch {
    // fall through: heap figures then include garbage
  }
  return { gc: null, how: 'none (heap figures include garbage; run with node --expose-gc)' };
}

const ipOf = (i: number) => `${(i >>> 24) & 255}.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
const FIRST_IP = 16_777_216; // 1.0.0.0
const MAX_KEYS = 100_000; // MemoryStore's default, restated to check the bound against

export interface MemoryStoreBench {
  keys: number;
  gc: boolean;
  gcHow: string;
  memoryStore: { opsPerSecond: number; nsPerOp: number; heapBeforeMb: number; heapAfterMb: number; heapGrowthMb: number; entries: number; bound: number; withinBound: boolean };
  rateLimiterMemory: { opsPerSecond: number; nsPerOp: number; heapBeforeMb: number; heapAfterMb: number; heapGrowthMb: number };
  rateLimiterMemory2: { opsPerSecond: number; nsPerOp: number; heapBeforeMb: number; heapAfterMb: number; heapGrowthMb: number };
}

export async function run(options: { keys?: number } = {}): Promise<MemoryStoreBench> {
  const keys = options.keys ?? 1_000_000;
  const { gc, how } = findGc();
  const heapMb = () => {
    gc?.();
    return +(process.memoryUsage().heapUsed / 1048576).toFixed(1);
  };
  const timed = async (body: () => Promise<void>, keep: () => unknown) => {
    const heapBeforeMb = heapMb();
    const start = process.hrtime.bigint();
    await body();
    const ns = Number(process.hrtime.bigint() - start);
    const heapAfterMb = heapMb();
    keep(); // what was built stays reachable until measured
    return { opsPerSecond: Math.round(keys / (ns / 1e9)), nsPerOp: Math.round(ns / keys), heapBeforeMb, heapAfterMb, heapGrowthMb: +(heapAfterMb - heapBeforeMb).toFixed(1) };
  };

  const store = new MemoryStore();
  const minute = { name: 'limit:ip-minute', windowMs: 60_000, max: 10, cost: 1 };
  const hour = { name: 'limit:ip-hour', windowMs: 3_600_000, max: 50, cost: 1 };
  const marks = ['ban', 'allow'];
  const ours = await timed(
    async () => {
      for (let i = 0; i < keys; i++) {
        await store.apply({ now: 1_700_000_000_000 + i, subjects: [{ subject: `ip:${ipOf(FIRST_IP + i)}`, get: marks, take: [minute, hour] }] });
      }
    },
    () => store.size,
  );
  const entries = store.size;
  await store.close();

  const one = new RateLimiterMemory({ points: 10, duration: 60 });
  const peer = await timed(
    async () => {
      for (let i = 0; i < keys; i++) await one.consume(ipOf(FIRST_IP + i));
    },
    () => one,
  );

  const perMinute = new RateLimiterMemory({ points: 10, duration: 60, keyPrefix: 'm' });
  const perHour = new RateLimiterMemory({ points: 50, duration: 3600, keyPrefix: 'h' });
  const peer2 = await timed(
    async () => {
      for (let i = 0; i < keys; i++) {
        const ip = ipOf(FIRST_IP + i);
        await perMinute.consume(ip);
        await perHour.consume(ip);
      }
    },
    () => [perMinute, perHour],
  );

  return {
    keys,
    gc: gc !== null,
    gcHow: how,
    memoryStore: { ...ours, entries, bound: MAX_KEYS, withinBound: entries <= MAX_KEYS },
    rateLimiterMemory: peer,
    rateLimiterMemory2: peer2,
  };
}

/** The results as a markdown table, with the bound check spelled out. */
export function report(r: MemoryStoreBench): string {
  const row = (name: string, m: MemoryStoreBench['rateLimiterMemory'], kept: string) =>
    `| ${name} | ${r.keys} | ${m.opsPerSecond} | ${m.nsPerOp} | ${m.heapBeforeMb} → ${m.heapAfterMb} (+${m.heapGrowthMb}) | ${kept} |`;
  return [
    `Node ${process.version}; GC for heap figures: ${r.gcHow}`,
    '',
    '| store | distinct IPs | ops/s | ns/op | heap MB before → after (growth) | entries kept |',
    '| --- | --- | --- | --- | --- | --- |',
    row('MemoryStore (2 windows + 2 marks per op)', r.memoryStore, `${r.memoryStore.entries} (bound ${r.memoryStore.bound})`),
    row('rate-limiter-flexible RateLimiterMemory (1 window)', r.rateLimiterMemory, 'unbounded'),
    row('rate-limiter-flexible RateLimiterMemory ×2 (2 windows)', r.rateLimiterMemory2, 'unbounded'),
    '',
    `bound check: ${r.memoryStore.entries} entries <= maxKeys ${r.memoryStore.bound}: ${r.memoryStore.withinBound ? 'OK' : 'FAILED'}`,
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const r = await run();
  console.log(report(r));
  if (!r.memoryStore.withinBound) process.exitCode = 1;
}
