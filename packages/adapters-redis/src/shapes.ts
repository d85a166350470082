/**
 * A subject's operations ("shape") as the apply script reads them: msgpack, decoded in Lua by one
 * `cmsgpack.unpack` call per script call. Flat arguments cost Redis far more: each argument is a
 * string Lua turns into a number with `tonumber`, and on a call carrying one decision that parsing
 * was a third of the script's whole CPU (measured in docs/performance.md). A msgpack shape
 * arrives with its numbers and booleans already typed.
 *
 * Only the forms the script needs are written: arrays, strings, numbers and booleans. Bytes go
 * into a growable buffer the caller owns, so encoding a subject allocates nothing once the buffer
 * is large enough, and a call's shapes can be compared and concatenated as bytes.
 *
 * A shape is six counted lists, written flat (no array per list: each Lua table the script has
 * to build costs Redis ~1,000 instructions, and nested lists made a decision's two shapes 16 of
 * them), in the script's order:
 *
 *   #gets,  name…,
 *   #peeks, (name windowMs)…,
 *   #takes, (name windowMs max cost dryRun)…,
 *   #adds,  (name windowMs cost at (false = the call's now))…,
 *   #sets,  (name json until (false = no end) ifLater)…,
 *   #dels,  name…
 *
 * A call's one argument is a single msgpack array: its distinct shapes one after the other, then,
 * per key, the index (1-based, in that same array) where its shape starts.
 */
import type { SubjectOps } from '@actiongate/core';

/** Bytes written so far into a buffer that grows by doubling. */
export class ByteWriter {
  bytes: Buffer;
  length = 0;

  constructor(size = 256) {
    this.bytes = Buffer.allocUnsafe(size);
  }

  /** Room for `n` more bytes. */
  room(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }

  /** Copies bytes `start`..`end` of `source` to the end. */
  append(source: Buffer, start: number, end: number): void {
    this.room(end - start);
    source.copy(this.bytes, this.length, start, end);
    this.length += end - start;
  }

  /** An array header that fits any count: the caller may fill it in later, with `array32At`. */
  array32(count: number): void {
    this.room(5);
    this.array32At(this.length, count);
    this.length += 5;
  }

  array32At(at: number, count: number): void {
    this.bytes[at] = 0xdd;
    this.bytes.writeUInt32BE(count, at + 1);
  }

  array(count: number): void {
    if (count < 16) {
      this.room(1);
      this.bytes[this.length++] = 0x90 | count;
    } else {
      this.array32(count);
    }
  }

  boolean(value: boolean): void {
    this.room(1);
    this.bytes[this.length++] = value ? 0xc3 : 0xc2;
  }

  /** Small whole numbers in one byte, others in five; the rest (times, fractions, ∞) as doubles. */
  number(value: number): void {
    this.room(9);
    const bytes = this.bytes;
    if (Number.isInteger(value) && value >= 0 && value <= 0xffffffff) {
      if (value < 128) {
        bytes[this.length++] = value;
      } else {
        bytes[this.length] = 0xce;
        bytes.writeUInt32BE(value, this.length + 1);
        this.length += 5;
      }
    } else {
      bytes[this.length] = 0xcb;
      bytes.writeDoubleBE(value, this.length + 1);
      this.length += 9;
    }
  }

  string(text: string): void {
    const n = text.length;
    // Names are short and ASCII: copied char by char, without a call into the runtime.
    if (n < 32) {
      let ascii = true;
      for (let i = 0; i < n; i++) {
        if (text.charCodeAt(i) > 0x7f) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        this.room(1 + n);
        const bytes = this.bytes;
        let at = this.length;
        bytes[at++] = 0xa0 | n;
        for (let i = 0; i < n; i++) bytes[at++] = text.charCodeAt(i);
        this.length = at;
        return;
      }
    }
    // Lone surrogates and U+FFFD are 3 bytes each alike, so the size holds for `writeLoneSurrogates`.
    const size = Buffer.byteLength(text, 'utf8');
    if (size < 32) {
      this.room(1 + size);
      this.bytes[this.length++] = 0xa0 | size;
    } else if (size <= 0xffff) {
      this.room(3 + size);
      this.bytes[this.length] = 0xda;
      this.bytes.writeUInt16BE(size, this.length + 1);
      this.length += 3;
    } else {
      this.room(5 + size);
      this.bytes[this.length] = 0xdb;
      this.bytes.writeUInt32BE(size, this.length + 1);
      this.length += 5;
    }
    if (SURROGATE.test(text) && LONE_SURROGATE.test(text)) this.length = writeLoneSurrogates(this.bytes, this.length, text);
    else this.length += this.bytes.write(text, this.length, 'utf8');
  }
}

const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/**
 * Writes `text` as UTF-8 except that each lone surrogate keeps its own three bytes (WTF-8:
 * `\uD800` is ED A0 80), where UTF-8 makes every one of them U+FFFD: names are the client's text
 * (an `ip+action` limit names its window by the action), and `a\uD800`, `a\uDC00` and `a\uFFFD`
 * were one window and one mark in the record, where MemoryStore keeps three. A well-formed string
 * is written as before, so the records already stored read the same. Returns the new length.
 */
function writeLoneSurrogates(bytes: Buffer, at: number, text: string): number {
  let from = 0;
  for (const match of text.matchAll(LONE_SURROGATES)) {
    at += bytes.write(text.slice(from, match.index), at, 'utf8');
    const unit = text.charCodeAt(match.index!);
    bytes[at++] = 0xe0 | (unit >> 12);
    bytes[at++] = 0x80 | ((unit >> 6) & 0x3f);
    bytes[at++] = 0x80 | (unit & 0x3f);
    from = match.index! + 1;
  }
  return at + bytes.write(text.slice(from), at, 'utf8');
}

/** A name as an argument the script compares with the names of shapes: its own bytes when it holds a lone surrogate (see `writeLoneSurrogates`). */
export function nameArgument(name: string): string | Buffer {
  if (!SURROGATE.test(name) || !LONE_SURROGATE.test(name)) return name;
  const bytes = Buffer.allocUnsafe(Buffer.byteLength(name, 'utf8'));
  return bytes.subarray(0, writeLoneSurrogates(bytes, 0, name));
}

/**
 * Writes one subject's operations as a shape (the subject itself is the key, not in the shape).
 * Returns how many msgpack items it wrote: a call's positions count in items.
 */
export function writeShape(out: ByteWriter, ops: Omit<SubjectOps, 'subject'>): number {
  const { get, peek, take, add, set, del } = ops;
  const gets = get?.length ?? 0;
  const peeks = peek?.length ?? 0;
  const takes = take?.length ?? 0;
  const adds = add?.length ?? 0;
  const sets = set?.length ?? 0;
  const dels = del?.length ?? 0;
  out.number(gets);
  if (get) for (let i = 0; i < gets; i++) out.string(get[i]!);
  out.number(peeks);
  if (peek) {
    for (let i = 0; i < peeks; i++) {
      const p = peek[i]!;
      out.string(p.name);
      out.number(p.windowMs);
    }
  }
  out.number(takes);
  if (take) {
    for (let i = 0; i < takes; i++) {
      const t = take[i]!;
      out.string(t.name);
      out.number(t.windowMs);
      out.number(t.max);
      out.number(t.cost);
      out.boolean(t.dryRun === true);
    }
  }
  out.number(adds);
  if (add) {
    for (const a of add) {
      out.string(a.name);
      out.number(a.windowMs);
      out.number(a.cost);
      if (a.at === undefined) out.boolean(false);
      else out.number(a.at);
    }
  }
  out.number(sets);
  if (set) {
    for (const m of set) {
      out.string(m.name);
      out.string(JSON.stringify(m.value));
      // A mark that never ends is stored without an end: no TTL can be derived from ∞.
      if (m.until === null || m.until === Number.POSITIVE_INFINITY) out.boolean(false);
      else out.number(m.until);
      out.boolean(m.ifLater === true);
    }
  }
  out.number(dels);
  if (del) for (const name of del) out.string(name);
  return 6 + gets + 2 * peeks + 5 * takes + 4 * adds + 4 * sets + dels;
}

/**
 * A whole call's argument, for tests and benchmarks that run the script directly: the distinct
 * `shapes`, then each key's shape given by number (1-based) in `positions`, as a run of items
 * (what the store sends) or as one array (what it sends for a call too large for a run). (The
 * store builds it incrementally, sending each distinct shape once.)
 */
export function packCall(shapes: readonly Omit<SubjectOps, 'subject'>[], positions: readonly number[], form: 'run' | 'array' = 'run'): Buffer {
  const body = new ByteWriter();
  const starts: number[] = [];
  let items = 0;
  for (const shape of shapes) {
    starts.push(items + 1);
    items += writeShape(body, shape);
  }
  const out = new ByteWriter();
  if (form === 'array') out.array32(items + positions.length);
  out.append(body.bytes, 0, body.length);
  for (const position of positions) out.number(starts[position - 1]!);
  return out.bytes.subarray(0, out.length);
}
