/**
 * `--store <url>` for the commands that can read live state: none means a fresh MemoryStore,
 * `redis://` or `rediss://` a RedisStore on an ioredis client. `@actiongate/core` does not
 * depend on Redis, so `@actiongate/redis` and `ioredis` are looked up at run time: first in the
 * project the command runs in (the working directory), then next to this package.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MemoryStore } from '@actiongate/memory';
import type { Store } from '../store/types.js';
import { CliError, EXIT } from './command.js';

export interface OpenedStore {
  store: Store;
  /** For output: `memory (fresh)` or the URL without its password. */
  label: string;
  /** Closes the store and the connection it opened. */
  close(): Promise<void>;
}

export interface StoreUrlOptions {
  /** The RedisStore key prefix the application uses. @default "ag" */
  prefix?: string;
  /** Give up connecting after this long. @default 5000 */
  connectTimeoutMs?: number;
}

/**
 * The URL as it may be printed: the password replaced by `***`, in the userinfo and in the
 * query, where ioredis reads options too (`redis://host:6379/?password=…`).
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) if (/pass/i.test(key)) parsed.searchParams.set(key, '***');
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@').replace(/([?&][^=&#]*pass[^=&#]*=)[^&#]*/gi, '$1***');
  }
}

export async function openStore(url: string | undefined, options: StoreUrlOptions = {}): Promise<OpenedStore> {
  if (url === undefined) {
    const store = new MemoryStore();
    return { store, label: 'memory (a fresh MemoryStore)', close: () => store.close() };
  }
  if (!/^rediss?:\/\//i.test(url)) throw new CliError(`--store must be a redis:// or rediss:// URL, got ${JSON.stringify(redactUrl(url))}`, EXIT.usage);
  const label = redactUrl(url);
  const { Redis } = (await loadPeer('ioredis')) as { Redis: new (url: string, options: object) => RedisClient };
  const { RedisStore } = (await loadPeer('@actiongate/redis')) as { RedisStore: new (options: { client: unknown; prefix?: string }) => Store };
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: () => null, // one attempt: a command line should fail fast, not retry forever
  });
  client.on('error', () => {}); // reported through connect() below
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new CliError(`cannot connect to ${label}: ${(error as Error).message}`, EXIT.input, { cause: error });
  }
  const store = new RedisStore({ client, ...(options.prefix !== undefined ? { prefix: options.prefix } : {}) });
  return {
    store,
    label: `redis ${label}${options.prefix !== undefined ? ` (prefix ${options.prefix})` : ''}`,
    async close() {
      await store.close();
      await client.quit().catch(() => client.disconnect());
    },
  };
}

interface RedisClient {
  connect(): Promise<void>;
  quit(): Promise<unknown>;
  disconnect(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** A package of the project in the working directory, else one next to this package. */
async function loadPeer(name: string): Promise<unknown> {
  try {
    return createRequire(join(process.cwd(), 'package.json'))(name);
  } catch {
    try {
      return await import(name);
    } catch (error) {
      throw new CliError(`--store needs ${name}: install it in this project (npm install @actiongate/redis ioredis): ${(error as Error).message.split('\n')[0]}`, EXIT.input, { cause: error });
    }
  }
}
