/**
 * "Which lists contain this IP", for a million CIDRs of any number of lists, in a few hundred
 * nanoseconds and a few bytes per range.
 *
 * Two CIDRs are either disjoint or nested, never partly overlapping. Sorted by (start, prefix)
 * they are a depth-first walk of a tree, so one pass with a stack cuts the address space into
 * disjoint segments, each labelled with the set of lists covering it: nesting and overlaps within
 * and across lists are resolved once at build time, not per lookup. Segment starts sit in typed
 * arrays (IPv6 as four uint32 words, one array per word so the search mostly reads the first),
 * neighbours with the same label merged. A lookup is a bucket index on the top bits, then a short
 * binary search. Each distinct combination of lists is interned once as a frozen sorted array,
 * so `match` allocates nothing and returns the identical array for the identical answer.
 */
import { scanCidr, scanIp, type ParsedCidr, type ParsedIp } from './ip.js';

export interface CidrEntry {
  /** A CIDR or bare address, as text or from `parseCidr`. */
  cidr: string | ParsedCidr;
  /** Index of the list this range belongs to: an integer, 0 ≤ list < `listCount`. */
  list: number;
}

export interface CidrSet {
  /** The sorted indexes of the lists containing `ip`; one shared frozen empty array for none. */
  match(ip: ParsedIp): readonly number[];
  /** `match` straight from text, parsed without allocating; `null` when `text` is not an address. */
  matchText(text: string): readonly number[] | null;
  /** Entries the set was built from (duplicates included). */
  readonly size: number;
  /** Bytes of the lookup tables, for capacity planning (typed arrays: outside the JS heap). */
  readonly bytes: number;
}

/** Lists one set can tell apart: a list index shares a 53-bit sort key with start and prefix. */
export const MAX_LISTS = 32768;

const NONE: readonly number[] = Object.freeze([]);

/**
 * Builds the set. Throws `TypeError` for an entry that is not a CIDR and `RangeError` for a list
 * index out of range: callers validate first (policy compilation reports a bad CIDR with its JSON
 * pointer), so here a bad entry is a bug.
 *
 * @param listCount Number of lists, indexes 0…listCount-1 (at most `MAX_LISTS`). @default MAX_LISTS
 */
export function buildCidrSet(entries: Iterable<CidrEntry>, listCount: number = MAX_LISTS): CidrSet {
  if (!Number.isInteger(listCount) || listCount < 0 || listCount > MAX_LISTS) throw new RangeError(`listCount must be an integer from 0 to ${MAX_LISTS}, got ${String(listCount)}`);
  const { v4, v6, size } = collect(entries, listCount);
  const labels = createLabels();
  const four = sweepV4(v4, labels.add);
  const six = sweepV6(v6, labels.add);
  const sets = labels.sets;
  // Compiled in functions of their own, so the lookups' closures hold the final tables and
  // nothing of the build (a closure keeps its whole scope's captured variables alive).
  const v4Table = compileV4(four, sets);
  const v6Table = compileV6(six, sets);
  const lookup4 = v4Table.lookup;
  const lookup6 = v6Table.lookup;
  const words = new Uint32Array(4);
  return {
    size,
    bytes: v4Table.bytes + v6Table.bytes,
    match(ip) {
      return ip.version === 4 ? lookup4(ip.v4) : lookup6(ip.words[0], ip.words[1], ip.words[2], ip.words[3]);
    },
    matchText(text) {
      if (typeof text !== 'string') return null;
      const version = scanIp(text, words);
      return version === 4 ? lookup4(words[0]!) : version === 6 ? lookup6(words[0]!, words[1]!, words[2]!, words[3]!) : null;
    },
  };
}

/**
 * The IPv4 lookup: typed-array reads only, no allocation. Segment 0 starts at the lowest address,
 * so "the last segment starting at or below ip" always exists: the last one before the ip's
 * bucket, or one inside it.
 */
function compileV4(segments: { starts: Uint32Array; ids: Uint32Array }, sets: readonly (readonly number[])[]) {
  const starts = segments.starts;
  const ids = narrow(segments.ids, sets.length);
  const { index, base, buckets, shift } = bucketIndex(starts);
  const lookup = (ip: number): readonly number[] => {
    const bucket = ip < base ? 0 : Math.min(buckets - 1, (ip - base) >>> shift);
    let lo = index[bucket]!;
    if (lo > 0) lo--;
    let hi = index[bucket + 1]! - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= ip) lo = mid;
      else hi = mid - 1;
    }
    return sets[ids[lo]!]!;
  };
  return { lookup, bytes: starts.byteLength + ids.byteLength + index.byteLength };
}

/** The IPv6 lookup, as `compileV4` on four words. */
function compileV6(segments: { starts: Uint32Array; ids: Uint32Array }, sets: readonly (readonly number[])[]) {
  const [s0, s1, s2, s3] = byWord(segments.starts);
  const ids = narrow(segments.ids, sets.length);
  const { index, base, buckets, shift } = bucketIndex(s0);
  const lookup = (w0: number, w1: number, w2: number, w3: number): readonly number[] => {
    const bucket = w0 < base ? 0 : Math.min(buckets - 1, (w0 - base) >>> shift);
    let lo = index[bucket]!;
    if (lo > 0) lo--;
    let hi = index[bucket + 1]! - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      let a = s0[mid]!;
      const atOrBelow = a !== w0 ? a < w0 : (a = s1[mid]!) !== w1 ? a < w1 : (a = s2[mid]!) !== w2 ? a < w2 : s3[mid]! <= w3;
      if (atOrBelow) lo = mid;
      else hi = mid - 1;
    }
    return sets[ids[lo]!]!;
  };
  return { lookup, bytes: 4 * s0.byteLength + ids.byteLength + index.byteLength };
}

/** Four-word starts as one array per word: a binary search step rarely reads past the first. */
function byWord(starts: Uint32Array): [Uint32Array, Uint32Array, Uint32Array, Uint32Array] {
  const n = starts.length / 4;
  const [s0, s1, s2, s3] = [new Uint32Array(n), new Uint32Array(n), new Uint32Array(n), new Uint32Array(n)];
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    s0[i] = starts[o]!;
    s1[i] = starts[o + 1]!;
    s2[i] = starts[o + 2]!;
    s3[i] = starts[o + 3]!;
  }
  return [s0, s1, s2, s3];
}

interface V6Ranges {
  /** First addresses, four words each. */
  words: Uint32Array;
  prefixes: Uint8Array;
  lists: Uint16Array;
  length: number;
}

/**
 * Parses every entry into flat typed arrays: IPv4 as one sortable double each — (start, prefix,
 * list) in 32 + 6 + 15 bits, exact below 2^53 — so the native sort orders a million ranges with
 * no comparator and no object per range; IPv6 as parallel arrays.
 */
function collect(entries: Iterable<CidrEntry>, listCount: number): { v4: Float64Array; v6: V6Ranges; size: number } {
  const hint = Array.isArray(entries) ? entries.length : 1024;
  let v4 = new Float64Array(hint);
  let n4 = 0;
  const v6: V6Ranges = { words: new Uint32Array(4 * 64), prefixes: new Uint8Array(64), lists: new Uint16Array(64), length: 0 };
  const scratch = new Uint32Array(6);
  let size = 0;
  for (const entry of entries) {
    const list = entry.list;
    if (!Number.isInteger(list) || list < 0 || list >= listCount) throw new RangeError(`list index ${String(list)} is not an integer from 0 to ${listCount - 1}`);
    const version = readCidr(entry.cidr, scratch);
    if (version === 0) throw new TypeError(`not an IP address or CIDR: ${describe(entry.cidr)}`);
    size++;
    if (version === 4) {
      if (n4 === v4.length) v4 = grow(v4);
      v4[n4++] = (scratch[0]! * 64 + scratch[4]!) * MAX_LISTS + list;
    } else {
      if (v6.length === v6.prefixes.length) {
        v6.words = grow(v6.words);
        v6.prefixes = grow(v6.prefixes);
        v6.lists = grow(v6.lists);
      }
      for (let w = 0; w < 4; w++) v6.words[v6.length * 4 + w] = scratch[w]!;
      v6.prefixes[v6.length] = scratch[4]!;
      v6.lists[v6.length++] = list;
    }
  }
  return { v4: v4.subarray(0, n4).sort(), v6, size };
}

function grow<A extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(array: A): A {
  const next = new (array.constructor as new (length: number) => A)(Math.max(64, array.length * 2));
  next.set(array);
  return next;
}

/** Reads a CIDR (text or parsed) into `out` as `scanCidr` does; 0 when it is not one. */
function readCidr(cidr: unknown, out: Uint32Array): 0 | 4 | 6 {
  if (typeof cidr === 'string') return scanCidr(cidr, out);
  if (typeof cidr !== 'object' || cidr === null) return 0;
  // A parsed CIDR is re-read from its canonical text: a hand-made object cannot smuggle in
  // host bits or a range that disagrees with its text.
  const text = (cidr as { text?: unknown }).text;
  return typeof text === 'string' ? scanCidr(text, out) : 0;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  return typeof value === 'object' && value !== null ? JSON.stringify(value).slice(0, 80) : String(value);
}

/**
 * Interned list sets; id 0 is the empty set. `add(id, list)` is memoised, so labelling a
 * segment costs one map lookup however many lists there are.
 */
function createLabels(): { sets: (readonly number[])[]; add: (id: number, list: number) => number } {
  const sets: (readonly number[])[] = [NONE];
  const byText = new Map<string, number>();
  const added = new Map<number, number>();
  const add = (id: number, list: number): number => {
    const key = id * MAX_LISTS + list;
    let next = added.get(key);
    if (next !== undefined) return next;
    const set = sets[id]!;
    if (set.includes(list)) {
      next = id;
    } else {
      const lists = [...set, list].sort((a, b) => a - b);
      const text = lists.join(',');
      next = byText.get(text);
      if (next === undefined) {
        next = sets.push(Object.freeze(lists)) - 1;
        byText.set(text, next);
      }
    }
    added.set(key, next);
    return next;
  };
  return { sets, add };
}

/**
 * Segments under construction, `width` words a start. `emit` keeps starts strictly increasing
 * (a segment left empty is replaced) and neighbours' labels distinct (a segment with its left
 * neighbour's lists just extends it). Every range emits at most twice (its start and the point
 * after its end), so `2 × ranges + 1` is room enough.
 */
function createSegments(width: number, ranges: number) {
  const starts = new Uint32Array((2 * ranges + 1) * width);
  const ids = new Uint32Array(2 * ranges + 1);
  let count = 0;
  const startsAt = (words: ArrayLike<number>, offset: number): boolean => {
    const o = (count - 1) * width;
    for (let w = 0; w < width; w++) if (starts[o + w] !== words[offset + w]) return false;
    return true;
  };
  return {
    emit(words: ArrayLike<number>, offset: number, id: number): void {
      if (count > 0 && startsAt(words, offset)) count--;
      if (count > 0 && ids[count - 1] === id) return;
      for (let w = 0; w < width; w++) starts[count * width + w] = words[offset + w]!;
      ids[count++] = id;
    },
    finish: () => ({ starts: starts.slice(0, count * width), ids: ids.subarray(0, count) }),
  };
}

/**
 * The IPv4 pass over the sorted keys, with a stack of the open (enclosing) ranges: at most 33
 * deep, as a range equal to the top one only relabels it.
 */
function sweepV4(keys: Float64Array, add: (id: number, list: number) => number): { starts: Uint32Array; ids: Uint32Array } {
  const segments = createSegments(1, keys.length);
  const at = [0];
  const emit = (position: number, id: number) => {
    at[0] = position;
    segments.emit(at, 0, id);
  };
  emit(0, 0);
  const stackStart = new Float64Array(34);
  const stackEnd = new Float64Array(34); // exclusive: 2^32 for a range reaching the top
  const stackId = new Uint32Array(34);
  let depth = 0;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    const list = key % MAX_LISTS;
    const rest = (key - list) / MAX_LISTS;
    const prefix = rest % 64;
    const start = (rest - prefix) / 64;
    const end = start + 2 ** (32 - prefix);
    // Ranges that end before this one starts are closed; past each end its parent's lists resume.
    while (depth > 0 && stackEnd[depth - 1]! <= start) {
      depth--;
      emit(stackEnd[depth]!, depth > 0 ? stackId[depth - 1]! : 0);
    }
    if (depth > 0 && stackStart[depth - 1] === start && stackEnd[depth - 1] === end) {
      stackId[depth - 1] = add(stackId[depth - 1]!, list);
      emit(start, stackId[depth - 1]!);
      continue;
    }
    const id = add(depth > 0 ? stackId[depth - 1]! : 0, list);
    stackStart[depth] = start;
    stackEnd[depth] = end;
    stackId[depth++] = id;
    emit(start, id);
  }
  for (; depth > 0; depth--) {
    if (stackEnd[depth - 1]! <= 0xffffffff) emit(stackEnd[depth - 1]!, depth > 1 ? stackId[depth - 2]! : 0);
  }
  return segments.finish();
}

/**
 * The IPv6 pass, as `sweepV4` on four-word positions (sorted with a comparator: IPv6 lists are
 * the smaller part). The stack keeps each open range's last address, inclusive, because the
 * end of `ffff::/16` would need a 129th bit.
 */
function sweepV6(ranges: V6Ranges, add: (id: number, list: number) => number): { starts: Uint32Array; ids: Uint32Array } {
  const { words, prefixes, lists, length } = ranges;
  const segments = createSegments(4, length);
  segments.emit(new Uint32Array(4), 0, 0);
  const order = new Uint32Array(length);
  for (let i = 0; i < length; i++) order[i] = i;
  order.sort((a, b) => compare(words, a * 4, words, b * 4) || prefixes[a]! - prefixes[b]!);

  const stackFirst = new Uint32Array(130 * 4);
  const stackLast = new Uint32Array(130 * 4);
  const stackId = new Uint32Array(130);
  const last = new Uint32Array(4);
  let depth = 0;
  const close = () => {
    depth--;
    // The segment after the range's last address (none past the very last address).
    let carry = 1;
    for (let w = 3; w >= 0; w--) {
      const sum = stackLast[depth * 4 + w]! + carry;
      last[w] = sum >>> 0;
      carry = sum > 0xffffffff ? 1 : 0;
    }
    if (carry === 0) segments.emit(last, 0, depth > 0 ? stackId[depth - 1]! : 0);
  };

  for (let k = 0; k < length; k++) {
    const i = order[k]!;
    const o = i * 4;
    const list = lists[i]!;
    while (depth > 0 && compare(stackLast, (depth - 1) * 4, words, o) < 0) close();
    lastOf(words, o, prefixes[i]!, last);
    const top = (depth - 1) * 4;
    if (depth > 0 && compare(stackFirst, top, words, o) === 0 && compare(stackLast, top, last, 0) === 0) {
      stackId[depth - 1] = add(stackId[depth - 1]!, list);
      segments.emit(words, o, stackId[depth - 1]!);
      continue;
    }
    const id = add(depth > 0 ? stackId[depth - 1]! : 0, list);
    stackFirst.set(words.subarray(o, o + 4), depth * 4);
    stackLast.set(last, depth * 4);
    stackId[depth++] = id;
    segments.emit(words, o, id);
  }
  while (depth > 0) close();
  return segments.finish();
}

/** Writes the last address of `words[o..o+3]/prefix` (host bits all set) to `out`. */
function lastOf(words: Uint32Array, o: number, prefix: number, out: Uint32Array): void {
  for (let w = 0; w < 4; w++) {
    const bits = prefix - 32 * w;
    out[w] = bits >= 32 ? words[o + w]! : bits <= 0 ? 0xffffffff : (words[o + w]! | (0xffffffff >>> bits)) >>> 0;
  }
}

function compare(a: Uint32Array, ao: number, b: Uint32Array, bo: number): number {
  for (let w = 0; w < 4; w++) {
    const x = a[ao + w]!;
    const y = b[bo + w]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Labels as 16-bit ids when there are few enough distinct list sets (there almost always are). */
function narrow(ids: Uint32Array, distinct: number): Uint16Array | Uint32Array {
  return distinct <= 65536 ? Uint16Array.from(ids) : ids.slice();
}

/**
 * A bucket index over sorted uint32 keys (IPv4 starts, or the first word of IPv6 starts):
 * `index[b]` is the first key in bucket `b`, so a lookup binary-searches one bucket, not every
 * segment. Buckets split the span from the first non-zero key to the last (IPv6 lists crowd
 * into 2000::/3), about eight keys a bucket, at most 2^20 of them.
 */
function bucketIndex(keys: Uint32Array): { index: Uint32Array; base: number; shift: number; buckets: number } {
  const base = keys.length > 1 ? keys[1]! : 0;
  const span = keys.length > 0 ? keys[keys.length - 1]! - base : 0;
  const bits = Math.min(20, Math.max(1, Math.floor(Math.log2(keys.length / 8 + 1))));
  // Smallest shift that fits the span into 2^bits buckets: span >>> shift < 2^bits.
  let shift = 0;
  while (shift < 31 && span / 2 ** shift >= 2 ** bits) shift++;
  const buckets = Math.max(1, Math.min(2 ** bits, Math.floor(span / 2 ** shift) + 1));
  const index = new Uint32Array(buckets + 1);
  let k = 0;
  for (let b = 0; b <= buckets; b++) {
    while (k < keys.length && (keys[k]! < base ? 0 : Math.min(buckets - 1, (keys[k]! - base) >>> shift)) < b) k++;
    index[b] = k;
  }
  return { index, base, shift, buckets };
}
