/**
 * IP address and CIDR parsing. Every other part of Actiongate keys on the text this module
 * produces (limit subjects, bans, list matches), so it is strict and canonical: one address has
 * exactly one spelling, and one security rule sits at its heart — an IPv4-mapped IPv6 address
 * (`::ffff:0:0/96`, in any spelling) IS the IPv4 address. Otherwise `::ffff:1.2.3.4` would slip
 * past every IPv4 list and, grouped by its /64, share one rate-limit bucket with every IPv4
 * client of a dual-stack socket (the flaw behind express-rate-limit's CVE-2026-30827).
 *
 * Only `::ffff:0:0/96` maps:
 * - IPv4-compatible `::a.b.c.d` (deprecated by RFC 4291) also holds `::1` and `::`; mapping it
 *   would turn the IPv6 loopback into `0.0.0.1`. Nothing sends from it today, so it stays IPv6.
 * - NAT64 `64:ff9b::/96` is a translator's prefix: the IPv4 inside is whatever the translator was
 *   asked to reach, not proof of who is speaking. Mapping it would let anyone who can source
 *   packets from that prefix wear any IPv4 address, allowlisted ones included. It stays IPv6.
 *
 * The parsers are hand-written charCode loops over a reused scratch buffer: an IPv4 lookup from
 * its string has a 300 ns budget, of which `ipaddr.parse` alone would spend several times over.
 */

/** 128 bits as four unsigned 32-bit words, most significant first. */
export type Words = readonly [number, number, number, number];

export interface ParsedIpv4 {
  readonly version: 4;
  /** Dotted quad, no leading zeros. */
  readonly address: string;
  /** The address as an unsigned 32-bit integer. */
  readonly v4: number;
}

export interface ParsedIpv6 {
  readonly version: 6;
  /** RFC 5952 text: lower case, no leading zeros, the longest run of zero groups as `::`. */
  readonly address: string;
  /** The 128 bits as four uint32 words: comparisons and masks without BigInt. */
  readonly words: Words;
}

/** A canonical address. An IPv4-mapped IPv6 address is always a `ParsedIpv4`. */
export type ParsedIp = ParsedIpv4 | ParsedIpv6;

interface CidrBase {
  /** Canonical `address/prefix`, host bits cleared (`10.0.0.0/8`, `2001:db8::/32`). */
  readonly text: string;
  /** The input had bits set past the prefix (`10.1.2.3/8`); they were cleared. Worth a warning. */
  readonly hostBits: boolean;
}

export interface ParsedCidrV4 extends CidrBase {
  readonly version: 4;
  /** 0–32. */
  readonly prefix: number;
  /** First address of the range as a uint32. */
  readonly first: number;
}

export interface ParsedCidrV6 extends CidrBase {
  readonly version: 6;
  /** 0–128. */
  readonly prefix: number;
  /** First address of the range. */
  readonly first: Words;
}

export type ParsedCidr = ParsedCidrV4 | ParsedCidrV6;

/** The longest address text there is: `0000:0000:0000:0000:0000:ffff:255.255.255.255`. */
export const MAX_ADDRESS_LENGTH = 45;
/** …plus `/128`. */
const MAX_CIDR_LENGTH = MAX_ADDRESS_LENGTH + 4;

const COLON = 58;
const DOT = 46;
const SLASH = 47;

// One parse at a time (JavaScript is single-threaded and the parsers never re-enter), so one
// scratch buffer serves every call: no array per IPv6 address parsed.
const groups = new Int32Array(8);

/**
 * Parses a dotted quad in `text[start, end)` to a uint32, or returns -1. Strict: exactly four
 * decimal octets ≤ 255, no signs, spaces or leading zeros (`010` is octal to inet_aton and
 * decimal to everyone else — an address that means two things is refused).
 */
function scanV4(text: string, start: number, end: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d >= 0 && d <= 9) {
      if (digits === 1 && octet === 0) return -1; // leading zero
      octet = octet * 10 + d;
      if (octet > 255) return -1; // also bounds the digit count: a fourth digit always exceeds
      digits++;
    } else if (d === DOT - 48) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

/** Hex digit values by char code, -1 for anything else: one load per character. */
const HEX = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) HEX[97 + c] = HEX[65 + c] = 10 + c;

/** `scanV6` results. */
const INVALID = 0;
const VALID = 1;
/** Valid, and `text` is already its RFC 5952 form (what Node and inet_ntop print): no formatting needed. */
const CANONICAL = 2;

/**
 * Parses an IPv6 address in `text[start, end)` into the eight 16-bit groups of `out`. Accepts
 * one `::`, 1–4 hex digits per group in either case, and a trailing dotted quad. Rejects zone
 * ids, brackets, ports and whitespace. Returns 0 (invalid), 1 (valid) or 2 (valid and already
 * canonical), so the usual, canonical text is reused instead of formatted again.
 */
function scanV6(text: string, start: number, end: number, out: Int32Array): number {
  let count = 0;
  let gap = -1; // index of the group where `::` stands
  let canonical = true; // no upper case, no leading zeros, no dotted quad
  let i = start;
  if (i < end && text.charCodeAt(i) === COLON) {
    // A leading colon only as `::`.
    if (i + 1 >= end || text.charCodeAt(i + 1) !== COLON) return INVALID;
    gap = 0;
    i += 2;
  }
  while (i < end) {
    const groupStart = i;
    let value = 0;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      const d = c < 128 ? HEX[c]! : -1;
      if (d < 0) break;
      if (c < 97 && c > 57) canonical = false; // A–F
      value = value * 16 + d;
    }
    if (i < end && text.charCodeAt(i) === DOT) {
      // A dotted quad ends the address and fills two groups; it needs a colon before it.
      if (count > 6 || (count === 0 && gap < 0)) return INVALID;
      const v4 = scanV4(text, groupStart, end);
      if (v4 < 0) return INVALID;
      out[count++] = v4 >>> 16;
      out[count++] = v4 & 0xffff;
      canonical = false;
      i = end;
      break;
    }
    const length = i - groupStart;
    if (length === 0 || length > 4 || count === 8) return INVALID;
    if (length > 1 && text.charCodeAt(groupStart) === 48) canonical = false;
    out[count++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== COLON) return INVALID;
    i++;
    if (i === end) return INVALID; // a single trailing colon
    if (text.charCodeAt(i) === COLON) {
      if (gap >= 0) return INVALID; // a second `::`
      gap = count;
      i++;
    }
  }
  if (gap < 0) {
    if (count !== 8) return INVALID;
    return canonical && zeroRun(out) < 0 ? CANONICAL : VALID;
  }
  if (count > 7) return INVALID; // `::` stands for at least one group
  // Slide the groups after `::` to the end; zeros fill the gap.
  const shift = 8 - count;
  for (let k = count - 1; k >= gap; k--) out[k + shift] = out[k]!;
  for (let k = gap; k < gap + shift; k++) out[k] = 0;
  // Canonical when `::` stands exactly for the run RFC 5952 compresses (so not for one group).
  return canonical && shift > 1 && zeroRun(out) === ((gap << 4) | shift) ? CANONICAL : VALID;
}

/**
 * The zero run RFC 5952 §4.2 compresses: the longest of at least two groups, the first on a
 * tie. Returns `start << 4 | length`, or -1 when there is none.
 */
function zeroRun(g: ArrayLike<number>): number {
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; i++) {
    if (g[i] !== 0) continue;
    let j = i + 1;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  return best < 0 ? -1 : (best << 4) | bestLength;
}

/** `::ffff:0:0/96`: five zero groups, then `ffff`. */
function isMapped(g: Int32Array): boolean {
  return g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff;
}

function formatV4(v4: number): string {
  return `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`;
}

/** RFC 5952 §4 text of eight groups: lower case, no leading zeros, the `zeroRun` as `::`. */
function formatGroups(g: ArrayLike<number>): string {
  const run = zeroRun(g);
  if (run < 0) return hexGroups(g, 0, 8);
  const from = run >>> 4;
  return `${hexGroups(g, 0, from)}::${hexGroups(g, from + (run & 15), 8)}`;
}

function hexGroups(g: ArrayLike<number>, from: number, to: number): string {
  let text = '';
  for (let i = from; i < to; i++) text += i === from ? g[i]!.toString(16) : `:${g[i]!.toString(16)}`;
  return text;
}

/** RFC 5952 text of four words. */
export function formatWords(words: Words): string {
  const g = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let w = 0; w < 4; w++) {
    g[2 * w] = words[w]! >>> 16;
    g[2 * w + 1] = words[w]! & 0xffff;
  }
  return formatGroups(g);
}

function wordsOf(g: Int32Array): [number, number, number, number] {
  return [((g[0]! << 16) | g[1]!) >>> 0, ((g[2]! << 16) | g[3]!) >>> 0, ((g[4]! << 16) | g[5]!) >>> 0, ((g[6]! << 16) | g[7]!) >>> 0];
}

/**
 * Parses an IPv4 or IPv6 address, or returns `null`. Strict: no ports, zone ids, brackets,
 * surrounding spaces, octal-looking octets (`010.1.1.1`) or out-of-range parts; text longer than
 * any address is refused before it is read. IPv4-mapped IPv6 in any spelling (`::ffff:1.2.3.4`,
 * `::FFFF:102:304`, `0:0:0:0:0:ffff:1.2.3.4`…) returns the IPv4 address.
 */
export function parseIp(text: string): ParsedIp | null {
  if (typeof text !== 'string') return null;
  const n = text.length;
  if (n === 0 || n > MAX_ADDRESS_LENGTH) return null;
  // IPv4 first: the common case, and a strict dotted quad is already its canonical text.
  const v4 = scanV4(text, 0, n);
  if (v4 >= 0) return { version: 4, address: text, v4 };
  const v6 = scanV6(text, 0, n, groups);
  if (v6 === INVALID) return null;
  if (isMapped(groups)) {
    const mapped = ((groups[6]! << 16) | groups[7]!) >>> 0;
    return { version: 4, address: formatV4(mapped), v4: mapped };
  }
  return { version: 6, address: v6 === CANONICAL ? text : formatGroups(groups), words: wordsOf(groups) };
}

/**
 * Parses `text` into `out` without allocating: `out[0..3]` the 128-bit value (an IPv4 address in
 * `out[0]`), returning 4, 6 or 0 (not an address). Mapped IPv6 returns 4. For hot lookups that
 * need no canonical text.
 * @internal
 */
export function scanIp(text: string, out: Uint32Array): 0 | 4 | 6 {
  const n = text.length;
  if (n === 0 || n > MAX_ADDRESS_LENGTH) return 0;
  const v4 = scanV4(text, 0, n);
  if (v4 >= 0) {
    out[0] = v4;
    return 4;
  }
  if (scanV6(text, 0, n, groups) === INVALID) return 0;
  if (isMapped(groups)) {
    out[0] = (groups[6]! << 16) | groups[7]!;
    return 4;
  }
  out[0] = (groups[0]! << 16) | groups[1]!;
  out[1] = (groups[2]! << 16) | groups[3]!;
  out[2] = (groups[4]! << 16) | groups[5]!;
  out[3] = (groups[6]! << 16) | groups[7]!;
  return 6;
}

/** The first `bits` (0–32) of a uint32, the rest cleared. */
function maskWord(word: number, bits: number): number {
  // `~0 << 32` is `~0` in JavaScript (shift counts are mod 32), hence the explicit ends.
  return bits <= 0 ? 0 : bits >= 32 ? word >>> 0 : (word & (~0 << (32 - bits))) >>> 0;
}

/** Clears every bit past `prefix` (0–128) of a 128-bit value. */
export function maskWords(words: Words, prefix: number): [number, number, number, number] {
  return [maskWord(words[0], prefix), maskWord(words[1], prefix - 32), maskWord(words[2], prefix - 64), maskWord(words[3], prefix - 96)];
}

/**
 * The text that groups a client for limits and bans: the IPv4 address itself, or the IPv6
 * network of `ipv6Prefix` bits (`2001:db8:1:2::/64`) — one host holds a whole /64, so counting
 * single IPv6 addresses would let it rotate past every limit.
 */
export function subnetOf(ip: ParsedIp, ipv6Prefix: number): string {
  if (ip.version === 4) return ip.address;
  return `${formatWords(maskWords(ip.words, ipv6Prefix))}/${ipv6Prefix}`;
}

// Shared between `parseCidr` and the CIDR set's builder: words 0–3, prefix, host-bits flag.
const cidrScratch = new Uint32Array(6);

/**
 * Parses a CIDR into `out` without allocating: `out[0..3]` the first address (IPv4 in `out[0]`),
 * `out[4]` the prefix, `out[5]` 1 when host bits were set (they are cleared). Returns 4, 6 or 0.
 * @internal
 */
export function scanCidr(text: string, out: Uint32Array): 0 | 4 | 6 {
  const n = text.length;
  if (n === 0 || n > MAX_CIDR_LENGTH) return 0;
  let slash = n;
  for (let i = n - 1; i >= 0 && n - i <= 4; i--) {
    if (text.charCodeAt(i) === SLASH) {
      slash = i;
      break;
    }
  }
  let prefix = -1;
  if (slash < n) {
    // 1–3 digits, no leading zero ("/08" reads as an octal typo), no sign or space.
    const digits = n - slash - 1;
    if (digits === 0 || (digits > 1 && text.charCodeAt(slash + 1) === 48)) return 0;
    prefix = 0;
    for (let i = slash + 1; i < n; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return 0;
      prefix = prefix * 10 + d;
    }
  }
  const v4 = scanV4(text, 0, slash);
  if (v4 >= 0) {
    if (prefix < 0) prefix = 32;
    if (prefix > 32) return 0;
    out[0] = maskWord(v4, prefix);
    out[4] = prefix;
    out[5] = out[0] !== v4 ? 1 : 0;
    return 4;
  }
  if (scanV6(text, 0, slash, groups) === INVALID) return 0;
  if (prefix < 0) prefix = 128;
  if (prefix > 128) return 0;
  if (isMapped(groups) && prefix >= 96) {
    // `::ffff:192.0.2.0/120` is `192.0.2.0/24`: it must match the clients that parse to IPv4.
    const mapped = ((groups[6]! << 16) | groups[7]!) >>> 0;
    out[0] = maskWord(mapped, prefix - 96);
    out[4] = prefix - 96;
    out[5] = out[0] !== mapped ? 1 : 0;
    return 4;
  }
  let hostBits = 0;
  for (let w = 0; w < 4; w++) {
    const word = ((groups[2 * w]! << 16) | groups[2 * w + 1]!) >>> 0;
    out[w] = maskWord(word, prefix - 32 * w);
    if (out[w] !== word) hostBits = 1;
  }
  out[4] = prefix;
  out[5] = hostBits;
  return 6;
}

/**
 * Parses `address/prefix`, or a bare address as a /32 or /128. Host bits are accepted, cleared
 * and reported (`hostBits`) so `validate` can warn: `10.1.2.3/8` is usually a typo for one of
 * two very different things. Mapped-IPv4 CIDRs of /96 or longer (`::ffff:1.2.3.0/120`) become
 * IPv4 CIDRs (`1.2.3.0/24`), because mapped clients parse to IPv4. Shorter IPv6 CIDRs that
 * cover the mapped range (`::/0`) stay IPv6 and match no IPv4 client: "all of IPv6" should not
 * silently mean "all of IPv4" too.
 */
export function parseCidr(text: string): ParsedCidr | null {
  if (typeof text !== 'string') return null;
  const out = cidrScratch;
  const version = scanCidr(text, out);
  if (version === 0) return null;
  const prefix = out[4]!;
  const hostBits = out[5] === 1;
  if (version === 4) {
    const first = out[0]!;
    return { version: 4, prefix, first, text: `${formatV4(first)}/${prefix}`, hostBits };
  }
  const first: Words = [out[0]!, out[1]!, out[2]!, out[3]!];
  return { version: 6, prefix, first, text: `${formatWords(first)}/${prefix}`, hostBits };
}
