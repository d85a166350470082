/**
 * Redis's own work per decision, counted in instructions: a private redis-server under valgrind's
 * callgrind, whole guard decisions (bench/redis.ts's three windows per IP, a fresh IP each) from
 * the source trees given, counters zeroed before and dumped after each measured run. Unlike CPU
 * time on this shared 2-core host (which swings ~2× within minutes), the count is the same from
 * run to run to within ~1%, so a change to the apply script is measured by its ratio here.
 *
 *   pnpm exec tsx bench/redis-callgrind.ts [tree …]      (default: this tree; needs valgrind)
 *   git worktree add /tmp/before <commit> && pnpm exec tsx bench/redis-callgrind.ts /tmp/before .
 *
 * Per tree: one decision per call (sequential traffic), and rounds of 17 decisions started
 * together (the first goes alone, the other 16 share a call, as with evaluations in flight).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';

const roots = process.argv.length > 2 ? process.argv.slice(2).map((root) => resolve(root)) : [resolve('.')];
const windows = [{ id: 'minute', window: '1m', max: 5 }, { id: 'hour', window: '1h', max: 50 }, { id: 'day', window: '1d', max: 200 }];
const policy = { name: 'bench', limits: windows.map((w) => ({ ...w, by: 'ip' as const })) };
const ip = (i: number) => `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;

const listening = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.end();
      done(true);
    });
    socket.on('error', () => done(false));
  });

async function measure(root: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ag-callgrind-'));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const server = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${dir}/out.%p`, 'redis-server', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const control = (flag: string) => execFileSync('callgrind_control', [flag, String(server.pid)], { stdio: 'ignore' });
  /** Instructions since the last zeroing: the newest dump's summary. */
  const counted = () => {
    control('-d');
    const dumps = readdirSync(dir).filter((name) => name.startsWith('out.')).sort((a, b) => a.length - b.length || a.localeCompare(b));
    return Number(/^summary: (\d+)/m.exec(readFileSync(join(dir, dumps.at(-1)!), 'utf8'))![1]);
  };
  try {
    while (!(await listening(port))) await new Promise((r) => setTimeout(r, 300));
    const client = new Redis({ port });
    /* eslint-disable @typescript-eslint/no-explicit-any -- a tree's modules, loaded by path */
    const core: any = await import(join(root, 'packages/core/src/index.ts'));
    const redis: any = await import(join(root, 'packages/adapters-redis/src/index.ts'));
    /* eslint-enable @typescript-eslint/no-explicit-any */
    const guard = core.createGuard({ policy, store: new redis.RedisStore({ client, prefix: 'cg' }), storeTimeoutMs: 60_000 });
    let address = 0;
    const round = (size: number) => Promise.all(Array.from({ length: size }, () => guard.evaluate({ action: 'post', ip: ip(address++) })));
    for (let i = 0; i < 20; i++) await round(17); // warm-up: the script loaded, the keyspace grown
    const rows: string[] = [];
    for (const [size, rounds] of [[1, 300], [17, 40]] as const) {
      const first = address;
      await client.config('RESETSTAT');
      control('-z');
      for (let r = 0; r < rounds; r++) await round(size);
      const instructions = counted();
      const calls = Number(/cmdstat_evalsha:calls=(\d+)/.exec(await client.info('commandstats'))![1]);
      const decisions = address - first;
      rows.push(`| ${root} | ${size === 1 ? 'one at a time' : `rounds of ${size}`} | ${decisions} in ${calls} calls | ${Math.round(instructions / decisions)} |`);
    }
    client.disconnect();
    return rows;
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log('| tree | decisions | script calls | redis-server instructions per decision |\n| --- | --- | --- | --- |');
for (const root of roots) for (const row of await measure(root)) console.log(row);
