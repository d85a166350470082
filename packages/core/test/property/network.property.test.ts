import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCidrSet } from '../../src/network/cidr-set.js';
import { parseCidr, parseIp } from '../../src/network/ip.js';

// Seeded: a failure prints the seed and the shrunk counterexample, and reruns identically.
const SEED = 20261123;
const hex = (n: number) => n.toString(16);
const dotted = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');

describe('IP canonicalisation (property)', () => {
  it('every IPv4 address and each of its IPv4-mapped IPv6 spellings are one address', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
        const canonical = dotted(v);
        const spellings = [
          canonical,
          `::ffff:${canonical}`,
          `::FFFF:${canonical}`,
          `0:0:0:0:0:ffff:${canonical}`,
          `0000:0000:0000:0000:0000:FFFF:${canonical}`,
          `::ffff:${hex(v >>> 16)}:${hex(v & 0xffff)}`,
          `0:0::ffff:${hex(v >>> 16).padStart(4, '0')}:${hex(v & 0xffff).toUpperCase()}`,
        ];
        for (const spelling of spellings) {
          const ip = parseIp(spelling);
          expect(ip, spelling).toMatchObject({ version: 4, address: canonical, v4: v });
        }
        // Round trip: the canonical text parses to itself.
        expect(parseIp(parseIp(canonical)!.address)!.address).toBe(canonical);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('IPv6 text round-trips through its canonical form', () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const ip = parseIp(text);
        expect(ip, text).not.toBeNull();
        expect(parseIp(ip!.address)!.address).toBe(ip!.address);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe('CIDR set (property)', () => {
  // Ranges clustered in a small space so that overlaps and nesting are common.
  const v4Range = fc.record({ base: fc.integer({ min: 0, max: 0xffff }), prefix: fc.integer({ min: 16, max: 32 }) });
  const lists = fc.array(fc.array(v4Range, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 });

  it('answers like a naive scan of every list, on random overlapping and nested IPv4 ranges', () => {
    fc.assert(
      fc.property(lists, fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 40 }), (ranges, probes) => {
        const entries = ranges.flatMap((list, index) => list.map((r) => ({ cidr: `${dotted((0x0a000000 | r.base) >>> 0)}/${r.prefix}`, list: index })));
        const set = buildCidrSet(entries, ranges.length);
        const parsed = entries.map((e) => ({ range: parseCidr(e.cidr)!, list: e.list }));
        for (const probe of probes) {
          const address = (0x0a000000 | probe) >>> 0;
          const naive = [...new Set(parsed.filter(({ range }) => range.version === 4 && (range.prefix === 0 || (address >>> (32 - range.prefix)) === (range.first >>> (32 - range.prefix)))).map((e) => e.list))].sort((a, b) => a - b);
          expect([...set.match(parseIp(dotted(address))!)], dotted(address)).toEqual(naive);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('answers like a naive scan on random IPv6 ranges', () => {
    const v6Range = fc.record({ low: fc.integer({ min: 0, max: 0xff }), prefix: fc.integer({ min: 104, max: 128 }) });
    fc.assert(
      fc.property(fc.array(fc.array(v6Range, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 }), fc.array(fc.integer({ min: 0, max: 0xff }), { minLength: 1, maxLength: 30 }), (ranges, probes) => {
        const entries = ranges.flatMap((list, index) => list.map((r) => ({ cidr: `2001:db8::${hex(r.low)}/${r.prefix}`, list: index })));
        const set = buildCidrSet(entries, ranges.length);
        for (const probe of probes) {
          // All ranges and probes share the first 120 bits: compare the last byte under the prefix.
          const naive = [...new Set(ranges.flatMap((list, index) => list.filter((r) => (probe >>> (128 - r.prefix)) === (r.low >>> (128 - r.prefix))).map(() => index)))].sort((a, b) => a - b);
          expect([...set.match(parseIp(`2001:db8::${hex(probe)}`)!)], hex(probe)).toEqual(naive);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
