/**
 * "Which lists contain this IP", for a million CIDRs, in well under a microsecond.
 *
 * At build time every range of every list is cut into disjoint segments, each labelled with the
 * set of lists covering it (nested and overlapping ranges included); a lookup is one binary
 * search over a sorted typed array. IPv4 segment starts sit in a Uint32Array; IPv6 starts in a
 * Uint32Array of four words per start. Each distinct combination of lists is interned, so
 * `match` returns the same frozen array for the same lists and allocates nothing.
 */
import { parseCidr, type ParsedCidr, type ParsedIp } from './ip.js';

export interface CidrSet {
  /** Sorted list indexes containing `ip`; a shared frozen empty array when none. */
  match(ip: ParsedIp): readonly number[];
  /** Ranges added. */
  readonly size: number;
  /** Bytes held by the lookup tables (typed arrays), for capacity planning. */
  readonly bytes: number;
}

export interface CidrEntry {
  cidr: string | ParsedCidr;
  /** Index of the list this range belongs to (0 ≤ list < 65536). */
  list: number;
}

const NONE: readonly number[] = Object.freeze([]);
const TWO32 = 4294967296;

export function buildCidrSet(entries: Iterable<CidrEntry>): CidrSet {
  // v4 events are packed as position * 65536 + list into doubles (exact below 2^53) so the
  // native Float64Array sort orders a million of them without a comparator.
  let v4Starts: Float64Array<ArrayBuffer> = new Float64Array(1024);
  let v4Ends: Float64Array<ArrayBuffer> = new Float64Array(1024);
  let v4Count = 0;
  const v6Events: bigint[] = [];
  let size = 0;
  for (const entry of entries) {
    const cidr = typeof entry.cidr === 'string' ? parseCidr(entry.cidr) : entry.cidr;
    if (!cidr) throw new TypeError(`not a CIDR: ${String(entry.cidr)}`);
    size++;
    if (cidr.version === 4) {
      if (v4Count === v4Starts.length) {
        v4Starts = grow(v4Starts);
        v4Ends = grow(v4Ends);
      }
      const first = cidr.first as number;
      const end = first + 2 ** (32 - cidr.prefix); // exclusive
      v4Starts[v4Count] = first * 65536 + entry.list;
      v4Ends[v4Count] = end * 65536 + entry.list;
      v4Count++;
    } else {
      const words = cidr.first as readonly number[];
      const first = (BigInt(words[0]!) << 96n) | (BigInt(words[1]!) << 64n) | (BigInt(words[2]!) << 32n) | BigInt(words[3]!);
      const end = first + (1n << BigInt(128 - cidr.prefix));
      // Bit 0 marks start (0) or end (1) below the list index; ends sort after starts at one position.
      v6Events.push((first << 17n) | (BigInt(entry.list) << 1n), (end << 17n) | (BigInt(entry.list) << 1n) | 1n);
    }
  }

  const idByKey = new Map<string | number, number>();
  const setsById: (readonly number[])[] = [NONE];
  const idOf = (active: Int32Array): number => {
    // With up to 30 lists the set of active lists is a bit mask: no string per boundary.
    let key: string | number = 0;
    if (active.length <= 30) {
      for (let i = 0; i < active.length; i++) if (active[i]! > 0) key |= 1 << i;
      if (key === 0) return 0;
    } else {
      const lists: number[] = [];
      for (let i = 0; i < active.length; i++) if (active[i]! > 0) lists.push(i);
      if (lists.length === 0) return 0;
      key = lists.join(',');
    }
    let id = idByKey.get(key);
    if (id === undefined) {
      const lists: number[] = [];
      for (let i = 0; i < active.length; i++) if (active[i]! > 0) lists.push(i);
      id = setsById.push(Object.freeze(lists)) - 1;
      idByKey.set(key, id);
    }
    return id;
  };

  const v4 = buildV4(v4Starts.subarray(0, v4Count).sort(), v4Ends.subarray(0, v4Count).sort(), idOf);
  const v6 = buildV6(v6Events.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), idOf);

  return {
    size,
    bytes: v4.starts.byteLength + v4.ids.byteLength + v4.index.byteLength + v6.starts.byteLength + v6.ids.byteLength,
    match(ip) {
      const id = ip.version === 4 ? lookupV4(v4, ip.v4) : lookupV6(v6, ip.words);
      return id === 0 ? NONE : setsById[id]!;
    },
  };
}

function grow(array: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const next = new Float64Array(array.length * 2);
  next.set(array);
  return next;
}

interface Segments4 {
  starts: Uint32Array;
  ids: Uint32Array;
  length: number;
  /** `index[h]`: the first segment starting at or above `h << 16`; narrows each search to one /16. */
  index: Uint32Array;
}

interface Segments6 {
  /** Four words per segment start. */
  starts: Uint32Array;
  ids: Uint32Array;
  length: number;
}

function buildV4(starts: Float64Array, ends: Float64Array, idOf: (active: Int32Array) => number): Segments4 {
  const active = new Int32Array(maxList(starts, ends) + 1);
  const segStarts: number[] = [];
  const segIds: number[] = [];
  let s = 0;
  let e = 0;
  while (s < starts.length || e < ends.length) {
    const nextStart = s < starts.length ? Math.floor(starts[s]! / 65536) : Infinity;
    const nextEnd = e < ends.length ? Math.floor(ends[e]! / 65536) : Infinity;
    const position = Math.min(nextStart, nextEnd);
    while (e < ends.length && Math.floor(ends[e]! / 65536) === position) active[ends[e++]! % 65536]!--;
    while (s < starts.length && Math.floor(starts[s]! / 65536) === position) active[starts[s++]! % 65536]!++;
    if (position >= TWO32) break;
    const id = idOf(active);
    if (segIds.length > 0 && segIds[segIds.length - 1] === id) continue;
    segStarts.push(position);
    segIds.push(id);
  }
  const index = new Uint32Array(65537);
  for (let h = 0, i = 0; h <= 65536; h++) {
    while (i < segStarts.length && segStarts[i]! < h * 65536) i++;
    index[h] = i;
  }
  return { starts: Uint32Array.from(segStarts), ids: Uint32Array.from(segIds), length: segStarts.length, index };
}

function maxList(starts: Float64Array, ends: Float64Array): number {
  let max = 0;
  for (const v of starts) max = Math.max(max, v % 65536);
  for (const v of ends) max = Math.max(max, v % 65536);
  return max;
}

function buildV6(events: readonly bigint[], idOf: (active: Int32Array) => number): Segments6 {
  let maxIndex = 0;
  for (const event of events) maxIndex = Math.max(maxIndex, Number((event >> 1n) & 0xffffn));
  const active = new Int32Array(maxIndex + 1);
  const starts: number[] = [];
  const ids: number[] = [];
  const end = 1n << 128n;
  let i = 0;
  while (i < events.length) {
    const position = events[i]! >> 17n;
    for (; i < events.length && events[i]! >> 17n === position; i++) {
      const list = Number((events[i]! >> 1n) & 0xffffn);
      active[list]! += (events[i]! & 1n) === 1n ? -1 : 1;
    }
    if (position >= end) break;
    const id = idOf(active);
    if (ids.length > 0 && ids[ids.length - 1] === id) continue;
    starts.push(Number((position >> 96n) & 0xffffffffn), Number((position >> 64n) & 0xffffffffn), Number((position >> 32n) & 0xffffffffn), Number(position & 0xffffffffn));
    ids.push(id);
  }
  return { starts: Uint32Array.from(starts), ids: Uint32Array.from(ids), length: ids.length };
}

/** Id of the segment holding `ip`: the last start ≤ ip, 0 before the first. */
function lookupV4(segments: Segments4, ip: number): number {
  const { starts, ids, index } = segments;
  const h = ip >>> 16;
  // The answer is the last segment starting at or below ip: at most one before this /16's first.
  let lo = index[h]! === 0 ? 0 : index[h]! - 1;
  let hi = index[h + 1]! - 1;
  if (hi < lo || segments.length === 0 || ip < starts[0]!) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid]! <= ip) lo = mid;
    else hi = mid - 1;
  }
  return ids[lo]!;
}

function lookupV6(segments: Segments6, words: readonly number[]): number {
  const { starts, ids } = segments;
  let lo = 0;
  let hi = segments.length - 1;
  if (hi < 0 || compare(starts, 0, words) > 0) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (compare(starts, mid * 4, words) <= 0) lo = mid;
    else hi = mid - 1;
  }
  return ids[lo]!;
}

function compare(starts: Uint32Array, offset: number, words: readonly number[]): number {
  for (let w = 0; w < 4; w++) {
    const a = starts[offset + w]!;
    const b = words[w]!;
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}
