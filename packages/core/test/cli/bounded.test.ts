import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTopK } from '../../src/cli/topk.js';
import { createTimeline } from '../../src/cli/timeline.js';
import { CliError } from '../../src/cli/command.js';
import { createNdjsonWriter, DEFAULT_MAX_LINE_BYTES, splitLines, type NdjsonItem } from '../../src/cli/ndjson.js';
import { createProgress, progressLine } from '../../src/cli/progress.js';

// The structures that keep `report` and `replay` in bounded memory, against exact references.

describe('top-k (Space-Saving)', () => {
  it('is exact while there are no more distinct keys than its capacity', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 19 }), { maxLength: 400 }), (stream) => {
        const top = createTopK(20);
        const exact = new Map<string, number>();
        for (const n of stream) {
          top.add(`k${n}`);
          exact.set(`k${n}`, (exact.get(`k${n}`) ?? 0) + 1);
        }
        expect(top.approximate).toBe(false);
        expect(Object.fromEntries(top.top().map((e) => [e.key, e.count]))).toEqual(Object.fromEntries(exact));
        expect(top.top().every((e) => e.error === 0)).toBe(true);
      }),
    );
  });

  it('beyond its capacity keeps every key heavier than total / capacity, with count - error <= true <= count', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 2000 }), fc.integer({ min: 2, max: 16 }), (stream, capacity) => {
        // Skewed: small numbers are frequent.
        const keys = stream.map((n) => `k${Math.floor(Math.sqrt(n))}`);
        const top = createTopK(capacity);
        const exact = new Map<string, number>();
        for (const key of keys) {
          top.add(key);
          exact.set(key, (exact.get(key) ?? 0) + 1);
        }
        expect(top.size).toBeLessThanOrEqual(capacity);
        const kept = new Map(top.top().map((e) => [e.key, e]));
        for (const [key, count] of exact) {
          if (count > keys.length / capacity) expect(kept.has(key)).toBe(true);
          const entry = kept.get(key);
          if (entry) {
            expect(entry.count).toBeGreaterThanOrEqual(count);
            expect(entry.count - entry.error).toBeLessThanOrEqual(count);
          }
        }
      }),
    );
  });

  it('holds a million distinct keys in its capacity, and gives a re-entering key fresh data', () => {
    const top = createTopK(64, () => ({ seen: 0 }));
    for (let i = 0; i < 1_000_000; i++) top.add(`ip-${i}`).data.seen++;
    top.add('ip-0').data.seen++;
    expect(top.size).toBe(64);
    expect(top.approximate).toBe(true);
    expect(top.get('ip-0')!.data.seen).toBe(1);
  });
});

describe('timeline', () => {
  const MINUTE = 60_000;

  it('counts every decision once, whatever the span, in at most maxBuckets epoch-aligned buckets', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 400 * 24 * 60 }), { minLength: 1, maxLength: 300 }), fc.integer({ min: 2, max: 50 }), (minutes, max) => {
        const timeline = createTimeline(max);
        const base = Date.UTC(2026, 0, 1);
        for (const m of minutes) timeline.add(base + m * MINUTE + 17, 'block', ['rule:x']);
        const { bucketMs, buckets } = timeline.build();
        expect(buckets.length).toBeLessThanOrEqual(max);
        expect(buckets.reduce((n, b) => n + b.verdicts.block, 0)).toBe(minutes.length);
        expect(buckets.reduce((n, b) => n + (b.reasons['rule:x'] ?? 0), 0)).toBe(minutes.length);
        for (const [i, b] of buckets.entries()) {
          expect(b.start % bucketMs).toBe(0);
          if (i > 0) expect(b.start - buckets[i - 1]!.start).toBe(bucketMs);
        }
        // Each decision sits in the bucket that covers its time.
        const first = Math.min(...minutes.map((m) => base + m * MINUTE + 17));
        expect(buckets[0]!.start).toBe(Math.floor(first / bucketMs) * bucketMs);
      }),
      { numRuns: 60 },
    );
  });

  it('widens along round widths: minutes, then 5 minutes, … hours', () => {
    const timeline = createTimeline(120);
    const start = Date.UTC(2026, 0, 5, 8);
    timeline.add(start, 'allow', []);
    expect(timeline.build().bucketMs).toBe(MINUTE);
    timeline.add(start + 3 * 60 * MINUTE, 'allow', []);
    expect(timeline.build().bucketMs).toBe(5 * MINUTE);
    timeline.add(start + 4 * 24 * 60 * MINUTE, 'challenge', []); // 97 hours
    expect(timeline.build().bucketMs).toBe(60 * MINUTE);
  });

  it('keeps a bounded number of reasons per bucket', () => {
    const timeline = createTimeline();
    for (let i = 0; i < 500; i++) timeline.add(0, 'block', [`rule:r${i}`]);
    const [bucket] = timeline.build().buckets;
    expect(Object.keys(bucket!.reasons).length).toBeLessThanOrEqual(33);
    expect(Object.values(bucket!.reasons).reduce((a, b) => a + b, 0)).toBe(500);
  });
});

describe('NDJSON line splitting', () => {
  const collect = async (chunks: (string | Buffer)[], maxLineBytes?: number, name?: string) => {
    const items: NdjsonItem[] = [];
    for await (const item of splitLines(chunks, { ...(maxLineBytes ? { maxLineBytes } : {}), ...(name ? { name } : {}) })) items.push(item);
    return items;
  };

  it('numbers lines across chunk boundaries, skips blank lines, and reports a bad line without stopping', async () => {
    const items = await collect(['{"a":1}\n{"b"', ':2}\r\n\n  \nnot json\n{"c":', '3}']);
    expect(items).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 2, value: { b: 2 } },
      { line: 5, error: expect.stringContaining('not valid JSON') },
      { line: 6, value: { c: 3 } },
    ]);
  });

  it('splits a multi-byte character across chunks correctly', async () => {
    const bytes = Buffer.from('{"t":"ѵіаgrа ✓"}\n');
    const items = await collect([bytes.subarray(0, 9), bytes.subarray(9, 10), bytes.subarray(10)]);
    expect(items).toEqual([{ line: 1, value: { t: 'ѵіаgrа ✓' } }]);
  });

  it('skips an over-long line without buffering it, and goes on with the next', async () => {
    const long = 'x'.repeat(1000);
    const items = await collect([`{"a":"${long}`, long, long, '"}\n{"ok":true}\n'], 2048);
    expect(items).toEqual([{ line: 1, error: 'line longer than 2048 bytes (skipped)' }, { line: 2, value: { ok: true } }]);
    expect(DEFAULT_MAX_LINE_BYTES).toBe(1024 * 1024);
  });

  it('refuses gzip-compressed input at its first bytes with how to decompress it (exit 1), instead of skipping every "line"', async () => {
    const gz = gzipSync('{"a":1}\n{"b":2}\n');
    const read = async (name?: string) => {
      try {
        for await (const _item of splitLines([gz.subarray(0, 3), gz.subarray(3)], name ? { name } : {}));
        return null;
      } catch (error) {
        return error;
      }
    };
    expect(await read('log.1.gz')).toMatchObject({ exitCode: 1, message: 'log.1.gz is gzip-compressed: decompress it first, or pipe it in: gunzip -c log.1.gz | actiongate … -' });
    expect(await read()).toBeInstanceOf(CliError);
    expect(await read()).toMatchObject({ message: expect.stringContaining('stdin is gzip-compressed') });
  });

  it('refuses UTF-16 input at its byte order mark with how to convert it, instead of skipping every line as not JSON', async () => {
    const text = '{"a":1}\n{"b":2}\n';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.from(le.map((_, i) => le[i ^ 1]!)); // every pair of bytes swapped, the mark too
    const read = async (chunks: Buffer[], name?: string) => {
      try {
        return await collect(chunks, undefined, name);
      } catch (error) {
        return error;
      }
    };
    expect(await read([le], 'traffic.ndjson')).toMatchObject({ exitCode: 1, message: 'traffic.ndjson is UTF-16LE text: convert it to UTF-8 first: iconv -f UTF-16LE -t UTF-8 traffic.ndjson > traffic.ndjson.utf8' });
    expect(await read([be])).toMatchObject({ message: expect.stringContaining('stdin is UTF-16BE text') });
    // A UTF-8 byte order mark is no UTF-16 one: that file is read.
    expect(await read([Buffer.from(`\uFEFF${text}`)])).toEqual([{ line: 1, value: { a: 1 } }, { line: 2, value: { b: 2 } }]);
  });
});

describe('NDJSON writer', () => {
  it('reports a file that could not be opened as a CliError (exit 1) when it is closed, even before any write failed', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ag-writer-')), 'missing', 'out.ndjson');
    const writer = createNdjsonWriter(path);
    await writer.write({ a: 1 });
    const error = await writer.close().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ exitCode: 1, message: expect.stringContaining(`cannot write ${path}: ENOENT`) });
  });

  // /dev/full: every write fails with ENOSPC, as on a full disk.
  it.skipIf(!existsSync('/dev/full'))('names the failed write\'s own error (ENOSPC), not the "stream was destroyed" that closing it then gives', async () => {
    // Closed at every point of the failed write: before it, while the failed stream is being
    // torn down (its file closing; the window end() failed in), and after.
    const messages = new Set<string>();
    for (let turns = 0; turns < 40; turns++) {
      const writer = createNdjsonWriter('/dev/full');
      await writer.write({ a: 1 });
      for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
      const error = await writer.close().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CliError);
      messages.add((error as CliError).message);
    }
    expect([...messages]).toEqual(['cannot write /dev/full: ENOSPC: no space left on device, write']);
  });
});

describe('progress bar', () => {
  it('draws on a terminal at most ten times a second and erases itself', () => {
    const written: string[] = [];
    let now = 0;
    const progress = createProgress({ out: () => {}, err: (t) => written.push(t), errIsTty: true }, 1000, true, () => now);
    progress.update(100, 10);
    now = 50;
    progress.update(200, 20); // too soon
    now = 150;
    progress.update(500, 50);
    progress.done();
    expect(written).toHaveLength(3);
    expect(written[1]).toContain('[###############···············]  50%  50 actions  333/s');
    expect(written[2]).toBe('\r\u001b[K');
  });

  it('draws nothing when stderr is not a terminal', () => {
    const written: string[] = [];
    const progress = createProgress({ out: () => {}, err: (t) => written.push(t), errIsTty: false }, 1000);
    progress.update(1000, 100);
    progress.done();
    expect(written).toEqual([]);
    expect(progressLine(10, null, 3, 1000)).toBe('replaying… 3 actions  3/s');
  });
});
