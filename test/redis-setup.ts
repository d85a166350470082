/**
 * Vitest global setup: a private redis-server on a free port for the tests that need Redis,
 * stopped after the run. `REDIS_URL` points the tests at an existing server instead (which is
 * then never flushed: tests use their own key prefix). A missing redis-server fails the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    redisPrivate: boolean;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${port}: ${log()}`);
}

export interface RedisServer {
  url: string;
  port: number;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** SIGSTOP: a hung server, its connections still open. */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** A fresh server on the same port (data is not kept: the servers are diskless). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a private, diskless redis-server on a free loopback port. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ag-redis-'));
  let child: ChildProcess;
  const launch = async () => {
    let output = '';
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    await new Promise<void>((resolve, reject) => {
      child.once('error', (error) => reject(new Error(`tests need redis-server on the PATH (apt-get install redis-server), or REDIS_URL: ${error.message}`)));
      child.once('spawn', () => resolve());
    });
    await waitForPort(port, child, () => output);
  };
  const exit = (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    return exited;
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => exit('SIGKILL'),
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    restart: launch,
    async stop() {
      await exit('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.REDIS_URL) {
    project.provide('redisUrl', process.env.REDIS_URL);
    project.provide('redisPrivate', false);
    return async () => {};
  }
  const server = await startRedisServer();
  project.provide('redisUrl', server.url);
  project.provide('redisPrivate', true);
  return () => server.stop();
}

export interface RedisCluster {
  nodes: { host: string; port: number }[];
  /** SIGKILL of master `i`, as a crash would. */
  kill(i: number): Promise<void>;
  /** Master `i` again, rejoining with its slots (its data is gone), once the cluster is ok. */
  restart(i: number): Promise<void>;
  stop(): Promise<void>;
}

/** A private 3-master Redis Cluster on free loopback ports (no replicas), ready to serve. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const { execFile } = await import('node:child_process');
  const run = (args: string[]) =>
    new Promise<string>((resolve, reject) => execFile('redis-cli', args, { timeout: 30_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout))));
  const dir = mkdtempSync(join(tmpdir(), 'ag-cluster-'));
  const children: ChildProcess[] = [];
  const nodes: { host: string; port: number }[] = [];
  const launch = async (i: number, port: number) => {
    let output = '';
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    children[i] = child;
    await waitForPort(port, child, () => output);
  };
  const clusterOk = async () => {
    for (let i = 0; i < 100; i++) {
      const info = await Promise.all(nodes.map((n) => run(['-p', String(n.port), 'cluster', 'info']).catch(() => '')));
      if (info.every((text) => text.includes('cluster_state:ok'))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    await launch(i, port);
    nodes.push({ host: '127.0.0.1', port });
  }
  await run(['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
  await clusterOk();
  return {
    nodes,
    kill(i) {
      const child = children[i]!;
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      return exited;
    },
    async restart(i) {
      await launch(i, nodes[i]!.port);
      await clusterOk();
    },
    async stop() {
      await Promise.all(children.map((child) => new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      })));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
