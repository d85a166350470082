/**
 * The client's IP behind proxies, without letting the client choose it.
 *
 * Every hop of `X-Forwarded-For` / `Forwarded` is written by whoever sent the request that far,
 * so the header is read only from a trusted peer and only as far as the chain stays inside
 * trusted proxies: it is walked from the right (the hop our own proxy appended), trusted hops
 * are skipped, and the first untrusted address is the client. Nothing to its left is read. A hop
 * that is not an address (garbage, `unknown`, an obfuscated `_id`, a cut-off piece) ends the walk
 * at the nearest trusted hop to its right: at worst a client is counted as its proxy, never as
 * an address of its own choosing. Work per call is bounded whatever the header's size.
 */
import { ActionError, type PolicyProblem } from '../errors.js';
import type { ResolvedIp } from '../types.js';
import { buildCidrSet } from './cidr-set.js';
import { parseCidr, parseIp, subnetOf, type ParsedIp } from './ip.js';

export interface ClientIpOptions {
  /** Peers whose forwarding headers are believed: addresses, CIDRs or keywords (see `TRUSTED_PROXY_KEYWORDS`). @default [] */
  trustedProxies?: readonly string[];
  /** The forwarding header trusted proxies write. @default "x-forwarded-for" */
  header?: 'x-forwarded-for' | 'forwarded' | 'x-real-ip';
  /** Prefix length grouping IPv6 clients into one subject (0–128). @default 64 */
  ipv6Subnet?: number;
}

/** What `evaluate` received: the peer `ip` the host resolved, or the raw `request`. */
export interface ClientIpInput {
  ip?: unknown;
  request?: unknown;
}

/** A resolved client with its parsed form, so list lookups do not parse it again. */
export type ClientIp = ResolvedIp & { readonly parsed: ParsedIp };

/** The keywords `trustedProxies` accepts, and the ranges each stands for. */
export const TRUSTED_PROXY_KEYWORDS: Readonly<Record<'loopback' | 'private' | 'linklocal' | 'uniquelocal', readonly string[]>> = Object.freeze({
  loopback: Object.freeze(['127.0.0.0/8', '::1/128']),
  /** RFC 1918 and IPv6 unique local addresses. */
  private: Object.freeze(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']),
  linklocal: Object.freeze(['169.254.0.0/16', 'fe80::/10']),
  uniquelocal: Object.freeze(['fc00::/7']),
});

/** Characters of a forwarding header read, from its right end; the rest is never looked at. */
export const MAX_HEADER_CHARS = 8192;
/** Hops walked at most; a longer chain of trusted proxies resolves to the leftmost walked. */
export const MAX_HOPS = 32;

/** One bad `trustedProxies` entry. */
export interface TrustedProxyProblem {
  /** Index in the list. */
  index: number;
  message: string;
}

function isKeyword(entry: string): entry is keyof typeof TRUSTED_PROXY_KEYWORDS {
  return Object.hasOwn(TRUSTED_PROXY_KEYWORDS, entry);
}

/**
 * Checks a `trustedProxies` list: one problem per bad entry, with its index, so policy
 * compilation can point at `/network/trustedProxies/<index>`. Empty when the list is valid.
 */
export function validateTrustedProxies(list: unknown): TrustedProxyProblem[] {
  if (!Array.isArray(list)) return [{ index: -1, message: 'must be an array of addresses, CIDRs or keywords' }];
  const problems: TrustedProxyProblem[] = [];
  for (let index = 0; index < list.length; index++) {
    const entry: unknown = list[index];
    if (typeof entry === 'string' && (isKeyword(entry) || parseCidr(entry))) continue;
    const shown = typeof entry === 'string' ? JSON.stringify(entry.length > 60 ? `${entry.slice(0, 60)}…` : entry) : String(entry);
    problems.push({ index, message: `${shown} is not an IP address, a CIDR or one of ${Object.keys(TRUSTED_PROXY_KEYWORDS).join(', ')}` });
  }
  return problems;
}

/** `validateTrustedProxies` as policy problems under `pointer`. */
export function trustedProxyProblems(list: unknown, pointer = '/network/trustedProxies'): PolicyProblem[] {
  return validateTrustedProxies(list).map(({ index, message }) => ({ pointer: index < 0 ? pointer : `${pointer}/${index}`, message }));
}

/**
 * Compiles a resolver once per policy. `trustedProxies` must be valid (`validateTrustedProxies`).
 *
 * The resolver: `ip` given → that address (the host already resolved the peer). Otherwise
 * `request.remoteAddress` is the peer; when it is a trusted proxy, the configured header is
 * walked as described above. Neither given → `null`. A peer that is not an IP address string
 * throws `ActionError` (field `ip` or `request.remoteAddress`); header content never throws.
 */
export function createClientIpResolver(options: ClientIpOptions = {}): (input: ClientIpInput) => ClientIp | null {
  const header = options.header ?? 'x-forwarded-for';
  const prefix = options.ipv6Subnet ?? 64;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 128) throw new RangeError(`ipv6Subnet must be an integer from 0 to 128, got ${String(prefix)}`);
  const trusted = (options.trustedProxies ?? []).flatMap((entry) => (isKeyword(entry) ? TRUSTED_PROXY_KEYWORDS[entry] : [entry]));
  const proxies = buildCidrSet(
    trusted.map((cidr) => ({ cidr, list: 0 })),
    1,
  );
  const isTrusted = (ip: ParsedIp) => proxies.match(ip).length > 0;

  const resolved = (ip: ParsedIp): ClientIp => ({ address: ip.address, version: ip.version, subnet: subnetOf(ip, prefix), parsed: ip });

  /**
   * From a trusted `peer` and the header it sent, the client. The walk's state lives here and its
   * visitors are made once per resolver, not once per request: the walk is synchronous, so no
   * two walks of one resolver overlap.
   */
  let client: ParsedIp | null = null;
  let hops = 0;
  const forwarded = header === 'forwarded';
  const parseHop = forwarded ? forwardedHop : addressHop;
  const visit =
    header === 'x-real-ip'
      ? (text: string, start: number, end: number): boolean => {
          // One address the proxy set, not a chain: its last value if there are several, and
          // nothing further left, whoever that address is.
          const hop = addressHop(text, start, end);
          if (hop === SKIP) return true;
          if (hop !== null) client = hop;
          return false;
        }
      : (text: string, start: number, end: number): boolean => {
          const hop = parseHop(text, start, end);
          if (hop === SKIP) return true;
          if (hop === null) return false; // not an address: the nearest trusted hop stands
          client = hop;
          // Every hop trusted: the leftmost one walked is the client.
          return isTrusted(hop) && ++hops < MAX_HOPS;
        };
  const walk = (value: string | readonly string[], peer: ParsedIp): ParsedIp => {
    client = peer;
    hops = 0;
    eachHop(value, forwarded, visit);
    const found: ParsedIp = client;
    client = null; // holds no request's address past its walk
    return found;
  };

  // The last peer seen, parsed, and whether it is trusted: behind a proxy every request comes
  // from one address or a few, so most requests parse and look up none. (A ParsedIp is never
  // written to, so requests may share one.)
  let lastRemote: unknown;
  let lastPeer: ParsedIp | null = null;
  let lastTrusted = false;

  return function resolveClientIp(input) {
    if (input.ip !== undefined) return resolved(peerAddress(input.ip, 'ip'));
    const request = input.request;
    if (request === undefined || request === null) return null;
    if (typeof request !== 'object') throw new ActionError('request', `expected an object, got ${typeof request}`);
    const remote = own(request, 'remoteAddress');
    if (remote === undefined) return null;
    if (remote !== lastRemote || lastPeer === null) {
      const parsed = peerAddress(remote, 'request.remoteAddress');
      lastTrusted = trusted.length > 0 && isTrusted(parsed);
      lastPeer = parsed;
      lastRemote = remote;
    }
    const peer = lastPeer;
    if (!lastTrusted) return resolved(peer);
    const value = headerValue(own(request, 'headers'), header);
    return resolved(value === undefined ? peer : walk(value, peer));
  };
}

function own(object: object, key: string): unknown {
  return Object.hasOwn(object, key) ? (object as Record<string, unknown>)[key] : undefined;
}

/** The peer address (from the host or the socket): must be an address, or the action is malformed. */
function peerAddress(value: unknown, field: string): ParsedIp {
  if (typeof value !== 'string') throw new ActionError(field, `expected an IP address string, got ${value === null ? 'null' : typeof value}`);
  let ip = parseIp(value);
  // Node reports link-local peers with their zone (`fe80::1%eth0`). The zone names our own
  // interface, not the client, so it is dropped here — never in headers, which clients write.
  const zone = value.indexOf('%');
  if (!ip && zone > 0 && value.lastIndexOf(':', zone) >= 0) ip = parseIp(value.slice(0, zone));
  if (!ip) throw new ActionError(field, `${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)} is not an IP address`);
  return ip;
}

/**
 * The header's value, its name matched without case, own properties only (a polluted prototype
 * or a `__proto__` key is never read). The bag is scanned in place, not copied, and only for
 * requests from a trusted proxy. Two spellings of one name as separate keys (`X-Forwarded-For`
 * and `x-forwarded-for`, which Node never produces) cannot be put in order, so neither is
 * believed. Web `Headers` and `Map`s (a `get` method) are asked directly.
 */
function headerValue(headers: unknown, name: string): string | readonly string[] | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  if (typeof (headers as { get?: unknown }).get === 'function' && !Object.hasOwn(headers, 'get')) {
    const value: unknown = (headers as { get(name: string): unknown }).get(name);
    return typeof value === 'string' ? value : undefined;
  }
  let found: unknown;
  let matches = 0;
  for (const key in headers) {
    if (key.length === name.length && Object.hasOwn(headers, key) && (key === name || key.toLowerCase() === name)) {
      found = (headers as Record<string, unknown>)[key];
      matches++;
    }
  }
  if (matches !== 1) return undefined;
  if (typeof found === 'string') return found;
  if (!Array.isArray(found)) return undefined;
  // A line that is not text (a hand-built bag; Node never makes one) is a malformed hop where it
  // stands: dropped, the walk went past it to whatever a client wrote to its left.
  return found.every((line) => typeof line === 'string') ? (found as readonly string[]) : found.map((line) => (typeof line === 'string' ? line : MALFORMED_LINE));
}

/** A line no hop parser accepts, standing in for one that is not text. */
const MALFORMED_LINE = '\u0000';

/**
 * Calls `visit(text, start, end)` for each comma-separated element of the header, right to
 * left, over every line of a multi-line header (lines in order, as if joined by commas), until
 * `visit` returns false. Reads at most `MAX_HEADER_CHARS`; an element cut by that limit is
 * handed over as the empty span at -1, which no parser accepts.
 *
 * With `quotes` (RFC 7239), a comma inside a quoted-string is text: a proxy may copy what the
 * client sent (its Host) into a quoted value of its own element, and a `"a,for=6.6.6.6;x="`
 * there must not become an element. Scanning from the right is sound for the elements that
 * matter, the ones trusted proxies wrote; an element whose quote never closes (the line's start
 * reached inside quotes) is handed over as the empty span at -1.
 */
function eachHop(value: string | readonly string[], quotes: boolean, visit: (text: string, start: number, end: number) => boolean): void {
  let budget = MAX_HEADER_CHARS;
  const lines = typeof value === 'string' ? 1 : value.length;
  for (let l = lines - 1; l >= 0; l--) {
    const line = typeof value === 'string' ? value : value[l]!;
    let end = line.length;
    for (;;) {
      const floor = Math.max(0, end - budget);
      let comma = end - 1;
      let quoted = false;
      for (; comma >= floor; comma--) {
        const c = line.charCodeAt(comma);
        if (c === 44 && !quoted) break;
        if (c === 34 && quotes) {
          // A quote behind an odd number of backslashes is escaped: `\"` is text, `\\"` ends.
          let slash = comma - 1;
          while (slash >= floor && line.charCodeAt(slash) === 92) slash--;
          if ((comma - 1 - slash) % 2 === 0) quoted = !quoted;
        }
      }
      if ((comma < floor && floor > 0) || quoted) {
        visit(line, -1, -1); // cut off, or an open quote: never a hop
        return;
      }
      budget -= end - comma;
      if (!visit(line, comma + 1, end)) return;
      if (comma < 0) break;
      end = comma;
    }
    if (budget <= 0 && l > 0) {
      visit(line, -1, -1);
      return;
    }
  }
}

/** An empty element (`a,,b`): lists may hold them (RFC 9110 §5.6.1); it says nothing, so it is skipped. */
const SKIP = Symbol('skip');

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

/**
 * An `X-Forwarded-For` / `X-Real-IP` element as proxies write it: `1.2.3.4`, `1.2.3.4:80`,
 * `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:80`. `null` when it is anything else.
 */
function addressHop(text: string, start: number, end: number): ParsedIp | null | typeof SKIP {
  if (start < 0) return null;
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  if (start === end) return SKIP;
  return hostPort(text.slice(start, end), false);
}

/**
 * The `for=` of an RFC 7239 `Forwarded` element (`for=192.0.2.60;proto=http`,
 * `For="[2001:db8:cafe::17]:4711"`). An element without `for`, with two, or with `unknown` or an
 * obfuscated `_identifier` names no address: `null`, which ends the walk. Pairs are split on
 * semicolons outside quoted-strings only: `host="a;for=6.6.6.6"` is one pair, not a second `for`.
 */
function forwardedHop(text: string, start: number, end: number): ParsedIp | null | typeof SKIP {
  if (start < 0) return null;
  const element = text.slice(start, end).trim();
  if (element === '') return SKIP;
  let value: string | undefined;
  let from = 0;
  while (from <= element.length) {
    // The pair runs to the next semicolon outside quotes.
    let to = from;
    let quoted = false;
    for (; to < element.length; to++) {
      const c = element.charCodeAt(to);
      if (c === 59 && !quoted) break;
      if (c === 34) quoted = !quoted;
      else if (c === 92 && quoted) to++; // quoted-pair: the next character is text
    }
    if (quoted) return null; // a quote that never closes
    const pair = element.slice(from, to);
    from = to + 1;
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
    if (value !== undefined) return null; // a parameter may occur once per element
    value = pair.slice(eq + 1).trim();
  }
  if (value === undefined) return null;
  if (value.charCodeAt(0) === 34) {
    // quoted-string; an address never needs escapes, so a backslash or inner quote is garbage
    if (value.length < 2 || value.charCodeAt(value.length - 1) !== 34) return null;
    value = value.slice(1, -1);
    if (value.includes('"') || value.includes('\\')) return null;
  }
  return hostPort(value, true);
}

/** `address`, `v4:port`, `[v6]` or `[v6]:port`; `obfuscatedPort` also allows RFC 7239 `:_port`. */
function hostPort(hop: string, obfuscatedPort: boolean): ParsedIp | null {
  if (hop.charCodeAt(0) === 91) {
    const close = hop.indexOf(']');
    if (close < 0 || (close + 1 < hop.length && !isPort(hop, close + 1, obfuscatedPort))) return null;
    const inner = hop.slice(1, close);
    // Brackets hold IPv6 text only (a mapped address is IPv6 text, though it parses to IPv4).
    return inner.includes(':') ? parseIp(inner) : null;
  }
  const colon = hop.indexOf(':');
  if (colon > 0 && hop.indexOf(':', colon + 1) < 0) {
    // Exactly one colon: IPv4 with a port.
    if (!isPort(hop, colon, obfuscatedPort)) return null;
    const ip = parseIp(hop.slice(0, colon));
    return ip && ip.version === 4 ? ip : null;
  }
  return parseIp(hop);
}

/** `:` then 1–5 digits (or, in `Forwarded`, `_` and an obfuscated identifier) to the end of `hop`. */
function isPort(hop: string, colon: number, obfuscated: boolean): boolean {
  if (hop.charCodeAt(colon) !== 58) return false;
  const port = hop.slice(colon + 1);
  return /^\d{1,5}$/.test(port) || (obfuscated && /^_[\w.-]+$/.test(port));
}
