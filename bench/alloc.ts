/**
 * What a decision allocates, by function: the inspector's sampling heap profiler, asked to keep
 * the objects that young and full collections freed too (without that, a heap profile shows only
 * what is still alive at the end: nearly nothing of a decision). bench/redis.ts's three windows
 * per IP, no rules, 64 in flight, after a warm-up; bytes per decision, the largest first. The
 * functions are the ones that allocate (after inlining): "next" is V8's array iterator, "push" an
 * array growing. Sampling every 512 bytes makes the run several times slower than a real one.
 *
 *   pnpm exec tsx bench/alloc.ts                  MemoryStore
 *   STORE=redis pnpm exec tsx bench/alloc.ts      RedisStore on a private redis-server
 *   DECISIONS=50000 TOP=30
 *
 * Found with it (docs/performance.md, "The allocation pass"): `for…of` loops compiled into
 * iterator calls, and the deadline queue keeping answered calls' results alive. It measures the
 * sources, but shares bench/redis.ts's workload, which loads the build: `pnpm build` first.
 */
import { Session } from 'node:inspector/promises';
import { Redis } from 'ioredis';
import { createGuard } from '../packages/core/src/index.js';
import { MemoryStore } from '../packages/adapters-memory/src/index.js';
import { RedisStore } from '../packages/adapters-redis/src/index.js';
import { startRedisServer } from '../test/redis-setup.js';
import { ipOf, WINDOWS } from './redis.js';

interface SampleNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: SampleNode[];
}

const decisions = Number(process.env.DECISIONS ?? 50_000);
const top = Number(process.env.TOP ?? 25);
const policy = { name: 'bench', limits: WINDOWS.map((w) => ({ ...w, by: 'ip' as const })) };

const server = process.env.STORE === 'redis' ? await startRedisServer() : null;
const client = server ? new Redis(server.url) : null;
const guard = createGuard({ policy, store: client ? new RedisStore({ client, prefix: 'alloc' }) : new MemoryStore() });
let next = 0;
/** `count` decisions, 64 in flight, each from an address not seen for a while. */
const run = async (count: number) => {
  const end = next + count;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < end) await guard.evaluate({ action: 'post', ip: ipOf((next++ * 7919) % 1_000_000) });
  }));
};

try {
  await run(decisions); // warm-up: optimised code, a grown young generation
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
  await run(decisions);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: SampleNode } };
  session.disconnect();
  const bytes = new Map<string, number>();
  let total = 0;
  const walk = (node: SampleNode) => {
    if (node.selfSize > 0) {
      // By function and file: tsx's transform leaves no useful line numbers.
      const { functionName, url } = node.callFrame;
      const where = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}`.trimEnd();
      bytes.set(where, (bytes.get(where) ?? 0) + node.selfSize);
      total += node.selfSize;
    }
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  console.log(`${server ? 'RedisStore' : 'MemoryStore'}: ${Math.round(total / decisions)} bytes allocated per decision (${decisions} decisions, 64 in flight)\n`);
  console.log('| bytes per decision | allocated in |\n| --- | --- |');
  for (const [where, size] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`| ${Math.round(size / decisions)} | ${where} |`);
} finally {
  await guard.close();
  client?.disconnect();
  await server?.stop();
}
