/**
 * The connection an action came over, from whatever request object the framework hands out:
 * Node's `IncomingMessage` (Express, Fastify's `request.raw`, `node:http`) or a web `Request`
 * (Hono, Next.js route handlers, edge runtimes). The guard then resolves the client address
 * through `policy.network.trustedProxies`: headers are passed as they are, never trusted here.
 *
 * A web `Request` does not carry the peer address; pass it (`requestFrom(c.req.raw, {
 * remoteAddress: c.env.incoming.socket.remoteAddress })` on `@hono/node-server`). Without one,
 * forwarded headers cannot be believed, and the action is judged without an IP.
 */
import type { HeaderBag } from '../types.js';

/** What `requestFrom` reads of a Node `IncomingMessage`. */
interface NodeRequestLike {
  headers: Record<string, string | string[] | undefined>;
  socket?: { remoteAddress?: string | undefined } | null;
}

/** What `requestFrom` reads of a web `Request`. */
interface WebRequestLike {
  headers: { forEach(callback: (value: string, key: string) => void): void; get(name: string): string | null };
}

export interface RequestFromOptions {
  /** The peer address, for a web `Request` (which has none) or to override the socket's. */
  remoteAddress?: string;
}

/** `{ remoteAddress, headers }` for `guard.evaluate({ request })`. */
export function requestFrom(req: NodeRequestLike | WebRequestLike, options: RequestFromOptions = {}): { remoteAddress?: string; headers: HeaderBag } {
  if (typeof req !== 'object' || req === null || typeof req.headers !== 'object' || req.headers === null) {
    throw new TypeError('requestFrom expects a Node IncomingMessage or a web Request');
  }
  const headers: HeaderBag = {};
  if (typeof (req.headers as WebRequestLike['headers']).get === 'function') {
    // Header names of a web Request are already lower case; repeated ones arrive joined by ", ".
    (req.headers as WebRequestLike['headers']).forEach((value, key) => {
      headers[key] = value;
    });
  } else {
    for (const [key, value] of Object.entries(req.headers as NodeRequestLike['headers'])) headers[key.toLowerCase()] = value;
  }
  const remoteAddress = options.remoteAddress ?? (req as NodeRequestLike).socket?.remoteAddress ?? undefined;
  return remoteAddress === undefined ? { headers } : { remoteAddress, headers };
}
