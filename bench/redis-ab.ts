/**
 * Before/after for RedisStore in one process: the guard and RedisStore of two source trees (a
 * `git worktree` of the commit before a change, and the working tree) side by side on one private
 * redis-server, first checked to decide alike, then timed in alternating chunks. Between two runs
 * the load of this shared machine moves far more than a change to the store does; alternating
 * chunks put both trees under the same load.
 *
 *   git worktree add /tmp/before <commit>   (its node_modules: a symlink to this tree's will do)
 *   pnpm exec tsx bench/redis-ab.ts /tmp/before .
 *   INFLIGHT=64 CHUNKS=14 CHUNK=1000         evaluations in flight (1 = sequential), chunks per tree
 *
 * Per tree, medians over the chunks (the first two of each tree are warm-up): wall µs per
 * decision, the Node process's CPU µs per decision (process.cpuUsage) and the Redis server's
 * (INFO cpu). The policy is bench/redis.ts's three windows per IP; every decision is a fresh IP.
 */
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { startRedisServer } from '../test/redis-setup.js';
import { ipOf as ip, median, serverCpu, WINDOWS as windows } from './redis.js';

const roots = [resolve(process.argv[2] ?? '.'), resolve(process.argv[3] ?? '.')] as const;
const inFlight = Number(process.env.INFLIGHT ?? 1);
const chunks = Number(process.env.CHUNKS ?? 14);
const chunk = Number(process.env.CHUNK ?? 1000);
const WARM_UP = 2;

const server = await startRedisServer();
const client = new Redis(server.url, { lazyConnect: true });
await client.connect();

const policy = { name: 'bench', limits: windows.map((w) => ({ ...w, by: 'ip' as const })) };

/* eslint-disable @typescript-eslint/no-explicit-any -- two trees' modules, loaded by path */
const guards = await Promise.all(
  roots.map(async (root, t) => {
    const core: any = await import(join(root, 'packages/core/src/index.ts'));
    const redis: any = await import(join(root, 'packages/adapters-redis/src/index.ts'));
    return core.createGuard({ policy, store: new redis.RedisStore({ client, prefix: `ab${t}` }), storeTimeoutMs: 5_000 });
  }),
);
/* eslint-enable @typescript-eslint/no-explicit-any */

// Alike: the same verdicts for a burst at one IP (admitted, then throttled by the minute window).
const verdicts = await Promise.all(guards.map(async (guard) => {
  const seen: string[] = [];
  for (let i = 0; i < 8; i++) seen.push((await guard.evaluate({ action: 'post', ip: '192.0.2.1' })).verdict);
  return seen.join(',');
}));
if (verdicts[0] !== verdicts[1]) throw new Error(`the trees decide differently: ${verdicts[0]} against ${verdicts[1]}`);
console.log(`decide alike (${verdicts[0]})`);

const samples = roots.map(() => ({ wall: [] as number[], node: [] as number[], redis: [] as number[] }));
let address = 0;
for (let round = 0; round < chunks; round++) {
  for (let t = 0; t < guards.length; t++) {
    const guard = guards[t]!;
    const redisBefore = await serverCpu(client);
    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    let begun = 0;
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (begun < chunk) {
        begun++;
        await guard.evaluate({ action: 'post', ip: ip(address++) });
      }
    }));
    const wall = Number(process.hrtime.bigint() - started) / 1000 / chunk;
    const cpu = process.cpuUsage(cpuBefore);
    const redisCpu = ((await serverCpu(client)) - redisBefore) * 1e6 / chunk;
    if (round < WARM_UP) continue;
    samples[t]!.wall.push(wall);
    samples[t]!.node.push((cpu.user + cpu.system) / chunk);
    samples[t]!.redis.push(redisCpu);
  }
}
client.disconnect();
await server.stop();

console.log(`${inFlight} in flight, ${chunks - WARM_UP} chunks of ${chunk} per tree, medians\n| tree | wall µs per decision (decisions/s) | Node CPU µs | Redis CPU µs |\n| --- | --- | --- | --- |`);
roots.forEach((root, t) => {
  const s = samples[t]!;
  console.log(`| ${root} | ${median(s.wall).toFixed(1)} (${Math.round(1e6 / median(s.wall))}) | ${median(s.node).toFixed(1)} | ${median(s.redis).toFixed(1)} |`);
});
