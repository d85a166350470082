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
import { startRedisServer } from '../test/redis-setup.js';

/** The two shapes a decision sends: the IP subject (5 marks, a peek, 3 takes) and the range version. */
const SHAPES = [
  '2',
  ...['5', '1', '3', '0', '0', '0', 'ban', 'allow', 'pass', 'rung', 'tighten', 'violations', '3600000'],
  ...['limit:minute', '60000', '5', '1', '0', 'limit:hour', '3600000', '50', '1', '0', 'limit:day', '86400000', '200', '1', '0'],
  ...['1', '0', '0', '0', '0', '0', 'version'],
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
          const positions: string[] = [];
          for (let d = 0; d < perCall; d++, ip++) {
            keys.push(`bench{ip:10.${(ip >> 16) & 255}.${(ip >> 8) & 255}.${ip & 255}}`, 'bench{ranges}');
            positions.push('1', '2');
          }
          await client.evalsha(sha, keys.length, ...keys, '', `r${ip}`, ...SHAPES, ...positions);
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
