import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCidrSet } from '../../src/network/cidr-set.js';
import { parseCidr, parseIp, type ParsedIp } from '../../src/network/ip.js';
import { parseListText } from '../../src/network/list-file.js';

/** The obviously right answer: test every range. */
function naive(entries: { cidr: string; list: number }[], ip: ParsedIp): number[] {
  const found = new Set<number>();
  for (const { cidr, list } of entries) {
    const c = parseCidr(cidr)!;
    if (c.version !== ip.version) continue;
    if (ip.version === 4) {
      const size = 2 ** (32 - c.prefix);
      if (ip.v4 >= (c.first as number) && ip.v4 < (c.first as number) + size) found.add(list);
    } else {
      const toBig = (w: readonly number[]) => w.reduce((acc, x) => (acc << 32n) | BigInt(x), 0n);
      const first = toBig(c.first as readonly number[]);
      const value = toBig(ip.words);
      if (value >= first && value < first + (1n << BigInt(128 - c.prefix))) found.add(list);
    }
  }
  return [...found].sort((a, b) => a - b);
}

const v4 = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 })).map(([n, p]) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${p === 0 ? 1 : p}`);
// Small address space so ranges overlap and nest often.
const v4Near = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 20, max: 32 })).map(([n, p]) => `10.0.${n}.${(n * 7) & 255}/${p}`);
const v6Near = fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 100, max: 128 })).map(([n, p]) => `2001:db8::${n.toString(16)}:${(n * 13).toString(16)}/${p}`);

describe('buildCidrSet', () => {
  it('agrees with a naive scan on random, overlapping and nested lists (IPv4 and IPv6)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ cidr: fc.oneof(v4, v4Near, v6Near), list: fc.integer({ min: 0, max: 4 }) }), { maxLength: 40 }),
        fc.array(fc.oneof(fc.ipV4(), fc.integer({ min: 0, max: 255 }).map((n) => `10.0.${n}.${(n * 7 + 3) & 255}`), fc.integer({ min: 0, max: 15 }).map((n) => `2001:db8::${n.toString(16)}:${(n * 13).toString(16)}`), fc.ipV6()), { minLength: 1, maxLength: 20 }),
        (entries, probes) => {
          const set = buildCidrSet(entries);
          for (const probe of probes) {
            const ip = parseIp(probe)!;
            expect([...set.match(ip)], probe).toEqual(naive(entries, ip));
          }
        },
      ),
      { seed: 3, numRuns: 400 },
    );
  });

  it('handles the edges of the address space', () => {
    const set = buildCidrSet([{ cidr: '0.0.0.0/1', list: 0 }, { cidr: '255.255.255.255/32', list: 1 }, { cidr: '::/0', list: 2 }, { cidr: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128', list: 3 }]);
    expect(set.match(parseIp('0.0.0.0')!)).toEqual([0]);
    expect(set.match(parseIp('127.255.255.255')!)).toEqual([0]);
    expect(set.match(parseIp('128.0.0.0')!)).toEqual([]);
    expect(set.match(parseIp('255.255.255.255')!)).toEqual([1]);
    expect(set.match(parseIp('::')!)).toEqual([2]);
    expect(set.match(parseIp('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')!)).toEqual([2, 3]);
  });

  it('returns the same frozen array for the same lists', () => {
    const set = buildCidrSet([{ cidr: '10.0.0.0/8', list: 0 }, { cidr: '10.1.0.0/16', list: 1 }]);
    const a = set.match(parseIp('10.1.2.3')!);
    expect(a).toEqual([0, 1]);
    expect(set.match(parseIp('10.1.9.9')!)).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
  });

  const shared = fileURLToPath(new URL('../../../../../shared/data/blocklists', import.meta.url));
  it.runIf(existsSync(shared))('loads the real FireHOL and Spamhaus lists and finds their entries', () => {
    for (const name of readdirSync(shared)) {
      const parsed = parseListText(readFileSync(`${shared}/${name}`, 'utf8'));
      expect(parsed.problems, name).toEqual([]);
      expect(parsed.entries.length, name).toBeGreaterThan(500);
      const set = buildCidrSet(parsed.entries.map((cidr) => ({ cidr, list: 0 })));
      for (const cidr of parsed.entries.slice(0, 200)) {
        expect(set.match(parseIp(cidr.split('/')[0]!)!), cidr).toEqual([0]);
      }
      expect(set.match(parseIp('8.8.4.4')!)).toEqual([]);
    }
  });
});
