/**
 * What the guard costs a real HTTP route: a hello-world `node:http` server without the guard,
 * and with it (MemoryStore, the reference policy rules/classifieds.json via loadPolicy),
 * under autocannon on 127.0.0.1. Requests/s and p99 latency both ways, and the ratio.
 *
 * The server runs in a child process, so the load generator does not share its event loop;
 * each variant gets a fresh server, a warm-up, then a bounded measured run. Every variant gets
 * the same requests: GET /hello with `X-Forwarded-For` rotating over 50,000 client addresses
 * (the policy trusts loopback as a proxy), so the guarded variants see many subjects, not one.
 * Variants:
 *   bare    the route alone
 *   view    evaluate({ action: 'page.view', request }) first: lists, one store round trip
 *           (bans, allows), 14 compiled rules, verdict; no limit applies to this action
 *   submit  evaluate({ action: 'ad.submit', request }) first: the same plus the two per-IP
 *           windows taken atomically (mostly allowed: each address comes back every few seconds)
 *
 * Besides requests/s, each server reports the CPU time it spent (process.cpuUsage, user + system)
 * per request served during the measured run: on a shared 2-core machine, where autocannon and
 * the server compete for the cores, the difference in server CPU per request between a guarded
 * route and the bare one is the steadier measure of what the guard costs a request.
 *
 * The built packages (bench/built.ts): `pnpm build` first.
 *
 *   pnpm exec tsx bench/http-overhead.ts             (DURATION=10 CONNECTIONS=50 ROUNDS=1)
 *   PROFILE=/tmp/prof pnpm exec tsx bench/http-overhead.ts   (a V8 CPU profile of each server)
 *   HEADERS=browser pnpm exec tsx bench/http-overhead.ts     (a browser's dozen request headers, not
 *                                                             autocannon's two; every route, the bare
 *                                                             one too, reads req.headers, as any
 *                                                             framework in front of it would)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { core, memory } from './built.js';

const { createGuard, loadPolicy, requestFrom, toHttpResponse } = core;
const { MemoryStore } = memory;
const root = fileURLToPath(new URL('..', import.meta.url));
const self = fileURLToPath(import.meta.url);
const VARIANTS = ['bare', 'view', 'submit'] as const;
type Variant = (typeof VARIANTS)[number];

/** Requests carry a browser's headers, and every route reads them (HEADERS=browser). */
const BROWSER = process.env.HEADERS === 'browser';
const BROWSER_HEADERS = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'accept-language': 'en-GB,en;q=0.9',
  'accept-encoding': 'gzip, deflate, br',
  cookie: 'session=3f1d2c9a8b7e6d5c; theme=dark',
  referer: 'https://classifieds.example/',
  'sec-fetch-dest': 'document',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-site': 'same-origin',
  'upgrade-insecure-requests': '1',
  'x-forwarded-proto': 'https',
};

/** Requests this server process has answered (read by the parent with the CPU time). */
let served = 0;

/** The server side, in the child process: listens on an ephemeral loopback port, reports it. */
async function serve(variant: Variant): Promise<Server> {
  const guard = variant === 'bare' ? null : createGuard({ policy: await loadPolicy(resolve(root, 'rules/classifieds.json')), store: new MemoryStore() });
  const action = variant === 'submit' ? 'ad.submit' : 'page.view';
  const server = createServer((req, res) => {
    served++;
    if (BROWSER && req.headers['user-agent'] === undefined) throw new Error('HEADERS=browser: the request came without its headers');
    if (!guard) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('hello world');
      return;
    }
    guard.evaluate({ action, request: requestFrom(req) }).then(
      (decision) => {
        const answer = toHttpResponse(decision);
        if (answer.status === 200) res.writeHead(200, { ...answer.headers, 'content-type': 'text/plain' }).end('hello world');
        else res.writeHead(answer.status, { ...answer.headers, 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return server;
}

/** Client addresses for X-Forwarded-For: 50,000 distinct documentation-range-like IPv4s. */
const ADDRESSES = Array.from({ length: 50_000 }, (_, i) => `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`);

async function load(port: number, durationS: number, connections: number) {
  let next = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: durationS,
    requests: [{
      method: 'GET',
      path: '/hello',
      setupRequest: (request) => ({ ...request, headers: { ...request.headers, ...(BROWSER ? BROWSER_HEADERS : {}), 'x-forwarded-for': ADDRESSES[next++ % ADDRESSES.length]! } }),
    }],
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50ms: result.latency.p50,
    p99ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** The server's CPU time (µs) and requests served so far. */
interface ServerStats {
  userUs: number;
  systemUs: number;
  served: number;
}

function serverStats(child: ChildProcess): Promise<ServerStats> {
  return new Promise((done) => {
    child.once('message', (stats) => done(stats as ServerStats));
    child.send('stats');
  });
}

/** Starts a server for `variant` in a child process and resolves its port. */
function start(variant: Variant): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(self, ['serve', variant], { cwd: root, execArgv: ['--import', 'tsx', ...(process.env.PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE}`] : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((done, fail) => {
    child.once('message', (port) => done({ child, port: port as number }));
    child.once('exit', (code) => fail(new Error(`${variant} server exited with ${code}`)));
  });
}

export interface OverheadRow {
  round: number;
  variant: Variant;
  requestsPerSecond: number;
  p50ms: number;
  p99ms: number;
  non2xx: number;
  errors: number;
  /** Server process CPU time per request served during the measured run, µs. */
  serverCpuUs: number;
  /** The user-mode part of it: the server's JavaScript and Node's own work. */
  serverUserUs: number;
  /** The kernel part: mostly the sockets' system calls, which grow when the client must be woken. */
  serverSystemUs: number;
  /** Requests/s against the bare route of the same round. */
  ratio: number;
}

export async function run(options: { durationS?: number; connections?: number; rounds?: number; warmupS?: number } = {}): Promise<OverheadRow[]> {
  const durationS = options.durationS ?? 10;
  const connections = options.connections ?? 50;
  const rounds = options.rounds ?? 1;
  const warmupS = options.warmupS ?? 2;
  const rows: OverheadRow[] = [];
  for (let round = 1; round <= rounds; round++) {
    let bare = 0;
    for (const variant of VARIANTS) {
      const { child, port } = await start(variant);
      try {
        await load(port, warmupS, connections);
        const before = await serverStats(child);
        const measured = await load(port, durationS, connections);
        const after = await serverStats(child);
        const served = Math.max(1, after.served - before.served);
        const serverUserUs = +((after.userUs - before.userUs) / served).toFixed(1);
        const serverSystemUs = +((after.systemUs - before.systemUs) / served).toFixed(1);
        const serverCpuUs = +(serverUserUs + serverSystemUs).toFixed(1);
        if (variant === 'bare') bare = measured.requestsPerSecond;
        rows.push({ round, variant, ...measured, serverCpuUs, serverUserUs, serverSystemUs, ratio: +(measured.requestsPerSecond / bare).toFixed(3) });
      } finally {
        child.kill();
      }
    }
  }
  return rows;
}

if (process.argv[2] === 'serve') {
  const server = await serve(process.argv[3] as Variant);
  process.send?.((server.address() as AddressInfo).port);
  process.on('message', () => {
    const cpu = process.cpuUsage();
    process.send?.({ userUs: cpu.user, systemUs: cpu.system, served });
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else if (process.argv[1] && resolve(process.argv[1]) === self) {
  const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  const options = { durationS: env('DURATION', 10), connections: env('CONNECTIONS', 50), rounds: env('ROUNDS', 1) };
  console.log(`Node ${process.version}, ${options.durationS} s per variant, ${options.connections} connections, 127.0.0.1`);
  console.log('| round | route | requests/s | p50 ms | p99 ms | non-2xx | errors | throughput vs bare | server CPU µs/request (user + system) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of await run(options)) {
    console.log(`| ${r.round} | ${r.variant} | ${r.requestsPerSecond} | ${r.p50ms} | ${r.p99ms} | ${r.non2xx} | ${r.errors} | ${(r.ratio * 100).toFixed(1)}% | ${r.serverCpuUs} (${r.serverUserUs} + ${r.serverSystemUs}) |`);
  }
}
