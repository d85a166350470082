/**
 * The connection an action came over, from whatever request object the framework hands out:
 * Node's `IncomingMessage` (Express, Fastify's `request.raw`, `node:http`) or a web `Request`
 * (Hono, Next.js route handlers, edge runtimes). The guard then resolves the client address
 * through `policy.network.trustedProxies`: headers are passed as they are, never trusted here.
 *
 * A web `Request` does not carry the peer address; pass it (`{ remoteAddress }`), or on
 * `@hono/node-server` read the Node request under it (`requestFrom(c.env.incoming)`). Without one,
 * forwarded headers cannot be believed, and the action is judged without an IP.
 *
 * Node forgets the peer of a socket once it is closed (`remoteAddress` is then `undefined`). A
 * client that resets its connection right after sending could otherwise be judged without an
 * IP, past every IP limit, ban and list, while the host still does the work; so a closed socket
 * without a known address is refused (`ActionError`), not turned into an IP-less action. The
 * reset need not have been noticed yet: a request and a reset sent together reach the handler
 * on a socket not yet `destroyed` whose peer the kernel has already dropped. A socket with a
 * local IP address (`localAddress`, TCP or TLS) always had a peer, so one without it is refused
 * too; only a socket that never has addresses (a Unix socket) is read as no peer.
 */
import { ActionError } from '../errors.js';
import type { HeaderBag } from '../types.js';

/** What `requestFrom` reads of a Node `IncomingMessage`. */
interface NodeRequestLike {
  headers: Record<string, string | string[] | undefined>;
  socket?: { remoteAddress?: string | undefined; localAddress?: string | undefined; destroyed?: boolean } | null;
}

/** What `requestFrom` reads of a web `Request`. */
interface WebRequestLike {
  headers: { forEach(callback: (value: string, key: string) => void): void; get(name: string): string | null };
}

export interface RequestFromOptions {
  /** The peer address, for a web `Request` (which has none) or to override the socket's. */
  remoteAddress?: string;
}

/**
 * `{ remoteAddress, headers }` for `guard.evaluate({ request })`. Throws `ActionError` (field
 * `request`) for something that is not a request or one whose properties cannot be read, and
 * (field `request.remoteAddress`) for a Node request whose connection has closed or been reset
 * before its address was read: call it as the request arrives (a first middleware), not after
 * awaiting the body, or pass `{ remoteAddress }`.
 */
export function requestFrom(req: NodeRequestLike | WebRequestLike, options: RequestFromOptions | null = {}): { remoteAddress?: string; headers: HeaderBag } {
  try {
    return read(req, options ?? {});
  } catch (error) {
    if (error instanceof ActionError) throw error;
    // A getter of a framework's request (or a proxy around it) that throws.
    throw new ActionError('request', `could not be read: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
}

function read(req: NodeRequestLike | WebRequestLike, options: RequestFromOptions): { remoteAddress?: string; headers: HeaderBag } {
  if (typeof req !== 'object' || req === null || typeof req.headers !== 'object' || req.headers === null) {
    throw new ActionError('request', 'expected a Node IncomingMessage or a web Request (with its headers)');
  }
  let headers: HeaderBag;
  if (typeof (req.headers as WebRequestLike['headers']).get === 'function') {
    // Header names of a web Request are already lower case; repeated ones arrive joined by ", ".
    headers = {};
    (req.headers as WebRequestLike['headers']).forEach((value, key) => {
      headers[key] = value;
    });
  } else {
    // Node's own bag, not a copy: copying a browser's dozen headers cost ~1.7 µs a request, a
    // fifth of a whole decision, and the guard reads only the forwarding header, in place,
    // without case, own keys only, and believes neither of two spellings of its name (which
    // only a hand-made object can hold), as a copy that dropped both did. The guard never
    // writes to it.
    headers = req.headers as HeaderBag;
  }
  const socket = (req as NodeRequestLike).socket;
  const remoteAddress = options.remoteAddress ?? socket?.remoteAddress ?? undefined;
  // Read only when the peer is missing: `localAddress` asks the kernel (getsockname), which
  // still answers for a reset TCP socket.
  if (remoteAddress === undefined && socket && (socket.destroyed === true || socket.localAddress !== undefined)) {
    throw new ActionError('request.remoteAddress', 'the connection closed or was reset before its address was read, and judged without one a client could dodge every IP limit by resetting it: call requestFrom(req) as the request arrives (before awaiting its body), or treat the action as abandoned');
  }
  return remoteAddress === undefined ? { headers } : { remoteAddress, headers };
}
