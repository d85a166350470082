/**
 * IP address parsing and canonicalisation. Strict (no ports, zones, brackets, octal-looking
 * octets or surrounding spaces), allocation-light, and with one security rule at its heart:
 * an IPv4-mapped IPv6 address (`::ffff:0:0/96`, in any spelling) IS the IPv4 address, so it can
 * neither slip past an IPv4 list nor share one bucket with every other mapped client.
 *
 * Only `::ffff:0:0/96` maps. IPv4-compatible addresses (`::a.b.c.d`) are deprecated and not
 * routed, and NAT64 (`64:ff9b::/96`) is a translator's address, not the client's; both stay IPv6.
 */

export interface ParsedIpv4 {
  version: 4;
  /** Dotted quad. */
  address: string;
  /** The address as an unsigned 32-bit integer. */
  v4: number;
}

export interface ParsedIpv6 {
  version: 6;
  /** RFC 5952 text: lower case, no leading zeros, longest zero run compressed. */
  address: string;
  /** The 128 bits as four unsigned 32-bit words, most significant first. */
  words: readonly [number, number, number, number];
}

export type ParsedIp = ParsedIpv4 | ParsedIpv6;

export interface ParsedCidr {
  version: 4 | 6;
  prefix: number;
  /** First address of the range: v4 as a number, v6 as four words. */
  first: number | readonly [number, number, number, number];
  /** Canonical text `address/prefix` with host bits cleared. */
  text: string;
  /** The input had bits set beyond the prefix (they were cleared). */
  hostBits: boolean;
}

/** Longest text that can be an address (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`). */
const MAX_TEXT = 45;

/** Parses an IPv4 or IPv6 address, or returns `null`. IPv4-mapped IPv6 gives the IPv4 address. */
export function parseIp(text: string): ParsedIp | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_TEXT) return null;
  if (text.indexOf(':') === -1) {
    const v4 = parseV4(text, 0, text.length);
    return v4 < 0 ? null : { version: 4, address: text, v4 };
  }
  const groups = parseV6Groups(text);
  if (!groups) return null;
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    const v4 = ((groups[6]! << 16) | groups[7]!) >>> 0;
    return { version: 4, address: formatV4(v4), v4 };
  }
  return v6From(groups);
}

/** Dotted quad of `text[start, end)` as uint32, or -1. Rejects leading zeros ("010") and extra dots. */
function parseV4(text: string, start: number, end: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  let leadingZero = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (leadingZero) return -1;
      if (digits === 0 && c === 48) leadingZero = true;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      leadingZero = false;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

function formatV4(v4: number): string {
  return `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`;
}

/** Eight 16-bit groups, or null. Accepts one `::` and a trailing dotted quad. */
function parseV6Groups(text: string): number[] | null {
  const groups = [0, 0, 0, 0, 0, 0, 0, 0];
  const n = text.length;
  let count = 0;
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return null;
    gap = 0;
    i = 2;
    if (n === 2) return groups;
  }
  for (;;) {
    const start = i;
    let value = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (digit < 0) break;
      value = value * 16 + digit;
    }
    const c = i < n ? text.charCodeAt(i) : -1;
    if (c === 46) {
      // A dotted quad ends the address and fills two groups.
      if (count > 6) return null;
      const v4 = parseV4(text, start, n);
      if (v4 < 0) return null;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      break;
    }
    if (i === start || i - start > 4 || count === 8) return null;
    groups[count++] = value;
    if (i === n) break;
    if (c !== 58) return null;
    i++;
    if (text.charCodeAt(i) === 58) {
      if (gap >= 0) return null;
      gap = count;
      i++;
      if (i === n) break;
    } else if (i === n) {
      return null;
    }
  }
  if (gap < 0) return count === 8 ? groups : null;
  if (count > 7) return null;
  // Move the groups after the gap to the end; zeros fill the gap.
  const shift = 8 - count;
  for (let k = count - 1; k >= gap; k--) {
    groups[k + shift] = groups[k]!;
    groups[k] = 0;
  }
  return groups;
}

function v6From(groups: readonly number[]): ParsedIpv6 {
  return new Ipv6(groups);
}

/**
 * A class only for speed: the canonical text is formatted on first use (a list lookup needs only
 * the words), and a prototype getter costs nothing per address where an object-literal getter
 * costs a closure and a slow object shape.
 */
class Ipv6 implements ParsedIpv6 {
  readonly version = 6 as const;
  readonly words: readonly [number, number, number, number];
  readonly #groups: readonly number[];
  #address: string | undefined;

  constructor(groups: readonly number[]) {
    this.#groups = groups;
    this.words = [
      ((groups[0]! << 16) | groups[1]!) >>> 0,
      ((groups[2]! << 16) | groups[3]!) >>> 0,
      ((groups[4]! << 16) | groups[5]!) >>> 0,
      ((groups[6]! << 16) | groups[7]!) >>> 0,
    ];
  }

  get address(): string {
    return (this.#address ??= formatV6(this.#groups));
  }

  toJSON() {
    return { version: this.version, address: this.address, words: this.words };
  }
}

/** RFC 5952: the longest run (≥ 2) of zero groups becomes `::`, the first on a tie. */
function formatV6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

function wordsToGroups(words: readonly number[]): number[] {
  const groups: number[] = [];
  for (const word of words) groups.push(word >>> 16, word & 0xffff);
  return groups;
}

/** Clears every bit past `prefix` of a 128-bit value. */
export function maskWords(words: readonly number[], prefix: number): [number, number, number, number] {
  const out: [number, number, number, number] = [0, 0, 0, 0];
  for (let w = 0; w < 4; w++) {
    const bits = Math.min(32, Math.max(0, prefix - w * 32));
    out[w] = bits === 0 ? 0 : bits === 32 ? words[w]! : (words[w]! & (~0 << (32 - bits))) >>> 0;
  }
  return out;
}

/** The subject that groups `ip`: the IPv4 address itself, or the IPv6 network `prefix/len`. */
export function subnetOf(ip: ParsedIp, ipv6Prefix: number): string {
  if (ip.version === 4) return ip.address;
  return `${formatV6(wordsToGroups(maskWords(ip.words, ipv6Prefix)))}/${ipv6Prefix}`;
}

/**
 * Parses `address/prefix` or a bare address (a /32 or /128). Mapped-IPv4 CIDRs
 * (`::ffff:192.0.2.0/120`) become IPv4 CIDRs. Host bits are cleared and reported.
 */
export function parseCidr(text: string): ParsedCidr | null {
  if (typeof text !== 'string' || text.length > MAX_TEXT + 4) return null;
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  let prefix: number;
  if (slash < 0) {
    prefix = -1;
  } else {
    const prefixText = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return null;
    prefix = Number(prefixText);
  }
  if (addressText.indexOf(':') === -1) {
    const v4 = parseV4(addressText, 0, addressText.length);
    if (v4 < 0) return null;
    return v4Cidr(v4, prefix < 0 ? 32 : prefix);
  }
  const groups = parseV6Groups(addressText);
  if (!groups) return null;
  if (prefix < 0) prefix = 128;
  if (prefix > 128) return null;
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped && prefix >= 96) return v4Cidr(((groups[6]! << 16) | groups[7]!) >>> 0, prefix - 96);
  const words = v6From(groups).words;
  const first = maskWords(words, prefix);
  return {
    version: 6,
    prefix,
    first,
    text: `${formatV6(wordsToGroups(first))}/${prefix}`,
    hostBits: first.some((w, i) => w !== words[i]),
  };
}

function v4Cidr(v4: number, prefix: number): ParsedCidr | null {
  if (prefix > 32) return null;
  const first = prefix === 0 ? 0 : (v4 & (~0 << (32 - prefix))) >>> 0;
  return { version: 4, prefix, first, text: `${formatV4(first)}/${prefix}`, hostBits: first !== v4 };
}
