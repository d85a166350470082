/**
 * The two Redis clients behind one tiny interface: run a script by SHA with EVAL as the
 * NOSCRIPT fallback, and SCAN/HGET for listings. ioredis (`Redis`, `Cluster`) and node-redis
 * (v4+, `createClient`, `createCluster`) are told apart by their method names, so neither
 * package is imported here: the host brings its own client.
 */

export interface ScriptRunner {
  readonly kind: 'ioredis' | 'node-redis';
  readonly cluster: boolean;
  /**
   * False while the client is not connected. Commands are then refused rather than queued:
   * a queued take would run after reconnecting, long after the decision was made without it,
   * and count an attempt twice if the caller retried.
   */
  ready(): boolean;
  evalsha(sha: string, script: string, keys: string[], args: (string | Buffer)[]): Promise<unknown>;
  /**
   * `evalsha` whose bulk strings may come back as Buffers: ioredis's string replies cost a pass
   * over the whole reply converting each one (~4% of the client's CPU per decision with 64 in
   * flight), and the apply script's answer is mostly numbers. The caller converts the few strings.
   */
  evalshaRaw(sha: string, script: string, keys: string[], args: (string | Buffer)[]): Promise<unknown>;
  /** SCAN on one node: `node` indexes the cluster's masters (0 on a single server). */
  scan(node: number, cursor: string, match: string, count: number): Promise<[string, string[]]>;
  /** Nodes to scan: the masters of a cluster, or 1. */
  nodeCount(): Promise<number>;
  hget(key: string, field: string): Promise<string | null>;
}

interface IoRedisLike {
  evalsha(sha: string, numKeys: number, ...keysAndArgs: (string | Buffer)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...keysAndArgs: (string | Buffer)[]): Promise<unknown>;
  evalshaBuffer?(sha: string, numKeys: number, ...keysAndArgs: (string | Buffer)[]): Promise<unknown>;
  evalBuffer?(script: string, numKeys: number, ...keysAndArgs: (string | Buffer)[]): Promise<unknown>;
  scan(cursor: string, ...args: (string | number)[]): Promise<[string, string[]]>;
  hget(key: string, field: string): Promise<string | null>;
  isCluster?: boolean;
  status?: string;
  options?: { keyPrefix?: unknown };
  nodes?(role: 'master'): IoRedisLike[];
}

interface NodeRedisLike {
  evalSha(sha: string, options: { keys: string[]; arguments: (string | Buffer)[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: (string | Buffer)[] }): Promise<unknown>;
  scan?(cursor: unknown, options: { MATCH: string; COUNT: number }): Promise<{ cursor: unknown; keys: string[] }>;
  hGet(key: string, field: string): Promise<string | null | undefined>;
  masters?: unknown[];
  /** A cluster's: routed by `firstKey`. */
  sendCommand?(firstKey: string, isReadonly: boolean, args: (string | Buffer)[]): Promise<unknown>;
  isReady?: boolean;
  nodeClient?(node: unknown): NodeRedisLike | Promise<NodeRedisLike>;
}

const isNoScript = (error: unknown) => error instanceof Error && error.message.includes('NOSCRIPT');

export function scriptRunner(client: unknown): ScriptRunner {
  const c = client as Record<string, unknown>;
  if (typeof c?.evalsha === 'function' && typeof c.hget === 'function') {
    const io = client as IoRedisLike;
    // ioredis adds its `keyPrefix` option to every key it sends, but SCAN's pattern and the keys
    // SCAN answers are raw: without it here, a listing found none of the store's keys.
    const keyPrefix = typeof io.options?.keyPrefix === 'string' ? io.options.keyPrefix : '';
    const rawPattern = keyPrefix.replace(/[*?[\]\\]/g, '\\$&');
    const raw = typeof io.evalshaBuffer === 'function' && typeof io.evalBuffer === 'function';
    return {
      kind: 'ioredis',
      cluster: io.isCluster === true,
      ready: () => io.status === undefined || io.status === 'ready',
      async evalsha(sha, script, keys, args) {
        try {
          return await io.evalsha(sha, keys.length, ...keys, ...args);
        } catch (error) {
          if (!isNoScript(error)) throw error;
          return io.eval(script, keys.length, ...keys, ...args);
        }
      },
      evalshaRaw(sha, script, keys, args) {
        if (!raw) return this.evalsha(sha, script, keys, args);
        return io.evalshaBuffer!(sha, keys.length, ...keys, ...args).catch((error: unknown) => {
          if (!isNoScript(error)) throw error;
          return io.evalBuffer!(script, keys.length, ...keys, ...args);
        });
      },
      scan: (node, cursor, match, count) => {
        const target = io.isCluster ? io.nodes!('master')[node] : io;
        if (!target) return Promise.resolve(['0', []] as [string, string[]]);
        if (keyPrefix === '') return target.scan(cursor, 'MATCH', match, 'COUNT', count);
        return target.scan(cursor, 'MATCH', rawPattern + match, 'COUNT', count).then(([next, keys]) => [next, keys.map((key) => key.slice(keyPrefix.length))] as [string, string[]]);
      },
      nodeCount: async () => (io.isCluster ? io.nodes!('master').length : 1),
      hget: (key, field) => io.hget(key, field),
    };
  }
  if (typeof c?.evalSha === 'function' && typeof c.hGet === 'function') {
    const nr = client as NodeRedisLike;
    const cluster = 'masters' in nr;
    // A cluster is told the key to route by: node-redis v4's cluster looks for it in the wrong
    // argument of evalSha/eval (the SHA, not the options), finds none, sends the script to any
    // master and fails with MOVED on the others (v5 routes right, and the same way).
    const run: (command: 'EVALSHA' | 'EVAL', body: string, keys: string[], args: (string | Buffer)[]) => Promise<unknown> =
      cluster && typeof nr.sendCommand === 'function'
        ? (command, body, keys, args) => nr.sendCommand!(keys[0]!, false, [command, body, String(keys.length), ...keys, ...args])
        : (command, body, keys, args) => (command === 'EVALSHA' ? nr.evalSha(body, { keys, arguments: args }) : nr.eval(body, { keys, arguments: args }));
    return {
      kind: 'node-redis',
      cluster,
      ready: () => nr.isReady !== false,
      async evalsha(sha, script, keys, args) {
        try {
          return await run('EVALSHA', sha, keys, args);
        } catch (error) {
          if (!isNoScript(error)) throw error;
          return run('EVAL', script, keys, args);
        }
      },
      evalshaRaw(sha, script, keys, args) {
        return this.evalsha(sha, script, keys, args);
      },
      async scan(node, cursor, match, count) {
        const target = nr.masters ? await nr.nodeClient!(nr.masters[node]) : nr;
        const reply = await target.scan!(cursor, { MATCH: match, COUNT: count });
        return [String(reply.cursor), reply.keys];
      },
      nodeCount: async () => (nr.masters ? nr.masters.length : 1),
      hget: async (key, field) => (await nr.hGet(key, field)) ?? null,
    };
  }
  throw new TypeError('RedisStore: client must be an ioredis Redis/Cluster or a node-redis (v4+) client/cluster');
}
