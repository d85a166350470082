/**
 * The client's IP behind proxies. A forwarding header is believed only from a trusted peer, and
 * only as far as the chain stays inside trusted proxies: it is walked from the right (the hop
 * our own proxy appended) and the first address that is not a trusted proxy is the client.
 * Whatever a client writes to the left of that is never read. A malformed or obfuscated hop
 * stops the walk at the nearest trusted hop to its right, so garbage can never choose an IP.
 */
import { ActionError, type PolicyProblem } from '../errors.js';
import type { HeaderBag, ResolvedIp } from '../types.js';
import { buildCidrSet } from './cidr-set.js';
import { parseCidr, parseIp, subnetOf, type ParsedIp } from './ip.js';

export interface ClientIpOptions {
  /** Addresses, CIDRs or `loopback`, `private`, `linklocal`, `uniquelocal`. @default [] */
  trustedProxies?: readonly string[];
  /** @default "x-forwarded-for" */
  header?: 'x-forwarded-for' | 'forwarded' | 'x-real-ip';
  /** @default 64 */
  ipv6Subnet?: number;
}

export interface ClientIpInput {
  ip?: unknown;
  request?: unknown;
}

/** A resolved client with its parsed form, for list lookups without parsing twice. */
export type ClientIp = ResolvedIp & { readonly parsed: ParsedIp };

const KEYWORDS: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['fc00::/7'],
};

/** Bytes of a forwarding header read, and hops walked, at most: a huge header costs nothing more. */
const MAX_HEADER = 8192;
const MAX_HOPS = 32;

/** Problems of a `trustedProxies` list, as policy problems under `pointer`. */
export function trustedProxyProblems(list: readonly string[], pointer = '/network/trustedProxies'): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  list.forEach((entry, i) => {
    if (!Object.hasOwn(KEYWORDS, entry) && !parseCidr(entry)) {
      problems.push({ pointer: `${pointer}/${i}`, message: `${JSON.stringify(entry)} is not an address, CIDR or one of ${Object.keys(KEYWORDS).join(', ')}` });
    }
  });
  return problems;
}

/** Compiles the resolver once per policy. `trustedProxies` must be valid (see `trustedProxyProblems`). */
export function createClientIpResolver(options: ClientIpOptions = {}): (input: ClientIpInput) => ClientIp | null {
  const trusted = (options.trustedProxies ?? []).flatMap((entry) => (Object.hasOwn(KEYWORDS, entry) ? KEYWORDS[entry]! : [entry]));
  const proxies = buildCidrSet(trusted.map((cidr) => ({ cidr, list: 0 })));
  const isTrusted = (ip: ParsedIp) => proxies.match(ip).length > 0;
  const header = options.header ?? 'x-forwarded-for';
  const prefix = options.ipv6Subnet ?? 64;
  const resolved = (ip: ParsedIp): ClientIp => ({ address: ip.address, version: ip.version, subnet: subnetOf(ip, prefix), parsed: ip });

  return (input) => {
    if (input.ip !== undefined) {
      const ip = typeof input.ip === 'string' ? parseIp(input.ip) : null;
      if (!ip) throw new ActionError('ip', `${describe(input.ip)} is not an IP address`);
      return resolved(ip);
    }
    const request = input.request as { remoteAddress?: unknown; headers?: unknown } | undefined;
    if (!request) return null;
    const remote = Object.hasOwn(request, 'remoteAddress') ? request.remoteAddress : undefined;
    if (remote === undefined) return null;
    const peer = typeof remote === 'string' ? parseIp(remote) : null;
    if (!peer) throw new ActionError('request.remoteAddress', `${describe(remote)} is not an IP address`);
    if (trusted.length === 0 || !isTrusted(peer)) return resolved(peer);
    const value = headerValue(Object.hasOwn(request, 'headers') ? request.headers : undefined, header);
    if (value === undefined) return resolved(peer);
    const hops = header === 'forwarded' ? forwardedHops(value) : header === 'x-real-ip' ? [value.trim()] : value.split(',');
    let client = peer;
    for (let i = hops.length - 1, walked = 0; i >= 0 && walked < MAX_HOPS; i--, walked++) {
      const hop = parseHop(hops[i]!);
      if (!hop) break; // malformed: the nearest trusted hop to its right stands
      client = hop;
      if (!isTrusted(hop)) break;
    }
    return resolved(client);
  };
}

/** One header's value (several lines joined by commas, in order), looked up without case. */
function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const bag = headers as HeaderBag;
  let value = Object.hasOwn(bag, name) ? bag[name] : undefined;
  if (value === undefined) {
    for (const key of Object.keys(bag)) {
      if (key.length === name.length && key.toLowerCase() === name) {
        value = bag[key];
        break;
      }
    }
  }
  const text = Array.isArray(value) ? value.filter((v) => typeof v === 'string').join(',') : typeof value === 'string' ? value : undefined;
  // Only the right end matters (that is where our proxies wrote); the left is the client's.
  return text !== undefined && text.length > MAX_HEADER ? text.slice(text.length - MAX_HEADER) : text;
}

/** `for=` values of an RFC 7239 `Forwarded` header, one per element. */
function forwardedHops(value: string): string[] {
  return value.split(',').map((element) => {
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === 'for') {
        const raw = pair.slice(eq + 1).trim();
        return raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1) : raw;
      }
    }
    return '';
  });
}

/** A hop as proxies write it: `1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]`, `[::1]:80`. */
function parseHop(text: string): ParsedIp | null {
  const hop = text.trim();
  if (hop.startsWith('[')) {
    const close = hop.indexOf(']');
    if (close < 0) return null;
    const rest = hop.slice(close + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    return parseIp(hop.slice(1, close));
  }
  const colon = hop.indexOf(':');
  if (colon > 0 && hop.indexOf(':', colon + 1) < 0) {
    // One colon: IPv4 with a port.
    if (!/^\d{1,5}$/.test(hop.slice(colon + 1))) return null;
    const ip = parseIp(hop.slice(0, colon));
    return ip && ip.version === 4 ? ip : null;
  }
  return parseIp(hop);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 60 ? `a string of ${value.length} characters` : JSON.stringify(value);
  return value === null ? 'null' : typeof value;
}
