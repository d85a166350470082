/**
 * The apply script alone: Redis's own CPU per decision (`INFO commandstats` usec_per_call divided
 * by the decisions in a call) for the batch a guard sends with three windows per IP, at 1, 8 and
 * 32 decisions per call (sequential traffic, and evaluations in flight sharing calls). Best of
 * six rounds, each round 60 calls, fresh IPs (every call creates its keys: the worst case).
 *
 *   pnpm exec tsx bench/redis-script.ts
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { APPLY_SCRIPT } from '../packages/adapters-redis/src/script.js';
import { packCall } from '../packages/adapters-redis/src/shapes.js';
import { startRedisServer } from '../test/redis-setup.js';

/** The two shapes a decision sends: the IP subject (5 marks, a peek, 3 takes) and the range version. */
const SHAPES = [
  {
    get: ['ban', 'allow', 'pass', 'rung', 'tighten'],
    peek: [{ name: 'violations', windowMs: 3_600_000 }],
    take: [
      { name: 'limit:minute', windowMs: 60_000, max: 5, cost: 1 },
      { name: 'limit:hour', windowMs: 3_600_000, max: 50, cost: 1 },
      { name: 'limit:day', windowMs: 86_400_000, max: 200, cost: 1 },
    ],
  },
  { get: ['version'] },
];

export async function run(): Promise<{ perCall: number; usPerDecision: number }[]> {
  const server = await startRedisServer();
  const client = new Redis(server.url);
  try {
    const sha = (await client.script('LOAD', APPLY_SCRIPT)) as string;
    let ip = 0;
    const rows = [];
    for (const perCall of [1, 8, 32]) {
      let best = Number.POSITIVE_INFINITY;
      for (let round = 0; round < 6; round++) {
        await client.config('RESETSTAT');
        for (let call = 0; call < 60; call++) {
          const keys: string[] = [];
          const positions: number[] = [];
          for (let d = 0; d < perCall; d++, ip++) {
            keys.push(`bench{ip:10.${(ip >> 16) & 255}.${(ip >> 8) & 255}.${ip & 255}}`, 'bench{ranges}');
            positions.push(1, 2);
          }
          await client.evalsha(sha, keys.length, ...keys, '', `r${ip}`, packCall(SHAPES, positions));
        }
        const line = (await client.info('commandstats')).split('\n').find((l) => l.startsWith('cmdstat_evalsha'))!;
        best = Math.min(best, Number(/usec_per_call=([\d.]+)/.exec(line)![1]) / perCall);
      }
      rows.push({ perCall, usPerDecision: +best.toFixed(1) });
    }
    return rows;
  } finally {
    client.disconnect();
    await server.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  console.log('| decisions per call | µs of Redis CPU per decision |\n| --- | --- |');
  for (const row of await run()) console.log(`| ${row.perCall} | ${row.usPerDecision} |`);
}
