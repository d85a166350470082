import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCidrSet, MAX_LISTS, type CidrEntry } from '../../src/network/cidr-set.js';
import { parseCidr, parseIp, type ParsedCidrV4, type ParsedIp } from '../../src/network/ip.js';
import { loadListFile, parseListText } from '../../src/network/list-file.js';

const toBig = (words: readonly number[]) => words.reduce((acc, w) => (acc << 32n) | BigInt(w), 0n);
const fromBig = (value: bigint) => [96n, 64n, 32n, 0n].map((s) => Number((value >> s) & 0xffffffffn));
const dotted = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const v6Text = (value: bigint) =>
  fromBig(value)
    .flatMap((w) => [(w >>> 16).toString(16), (w & 0xffff).toString(16)])
    .join(':');

/** A range as [first, last] big integers; the obviously right model. */
function range(cidr: string): { version: 4 | 6; first: bigint; last: bigint } {
  const c = parseCidr(cidr)!;
  const bits = c.version === 4 ? 32 : 128;
  const first = c.version === 4 ? BigInt(c.first) : toBig(c.first);
  return { version: c.version, first, last: first + (1n << BigInt(bits - c.prefix)) - 1n };
}

/** The obviously right answer: test every range. */
function naive(entries: readonly { cidr: string; list: number }[], ip: ParsedIp): number[] {
  const value = ip.version === 4 ? BigInt(ip.v4) : toBig(ip.words);
  const found = new Set<number>();
  for (const { cidr, list } of entries) {
    const r = range(cidr);
    if (r.version === ip.version && value >= r.first && value <= r.last) found.add(list);
  }
  return [...found].sort((a, b) => a - b);
}

/** Probes where bugs live: each range's first and last address and their neighbours. */
function boundaries(entries: readonly { cidr: string }[]): string[] {
  const out: string[] = [];
  for (const { cidr } of entries) {
    const r = range(cidr);
    const max = r.version === 4 ? 0xffffffffn : (1n << 128n) - 1n;
    for (const v of [r.first - 1n, r.first, r.first + 1n, r.last - 1n, r.last, r.last + 1n]) {
      if (v < 0n || v > max) continue;
      out.push(r.version === 4 ? dotted(Number(v)) : v6Text(v));
    }
  }
  return out;
}

// Small address spaces so that ranges nest and overlap often, within and across lists.
const v4Any = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 })).map(([n, p]) => `${dotted(n)}/${p}`);
const v4Near = fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 16, max: 32 })).map(([n, p]) => `10.20.${n >>> 8}.${n & 255}/${p}`);
const v4Edge = fc.constantFrom('0.0.0.0/0', '0.0.0.0/32', '255.255.255.255/32', '128.0.0.0/1', '0.0.0.0/1', '255.255.255.0/24');
const v6Any = fc.tuple(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 128 })).map(([w, p]) => `${v6Text(toBig(w))}/${p}`);
const v6Near = fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xff }), fc.integer({ min: 96, max: 128 })).map(([a, b, p]) => `2001:db8::${a.toString(16)}:${b.toString(16)}/${p}`);
const v6Word = fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 24, max: 72 })).map(([a, p]) => `2001:db8:${a}::/${p}`);
const v6Edge = fc.constantFrom('::/0', '::/128', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128', '8000::/1', '::/1', 'ffff:ffff:ffff:ffff::/64', '::ffff:0:0/96', '::ffff:10.20.0.0/112');

const entryArb = (lists: number) =>
  fc.record({ cidr: fc.oneof(v4Any, v4Near, v4Near, v4Edge, v6Any, v6Near, v6Near, v6Word, v6Edge), list: fc.integer({ min: 0, max: lists - 1 }) });
const probeArb = fc.oneof(
  fc.ipV4(),
  fc.integer({ min: 0, max: 0xffff }).map((n) => `10.20.${n >>> 8}.${n & 255}`),
  fc.ipV6(),
  fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xff })).map(([a, b]) => `2001:db8::${a.toString(16)}:${b.toString(16)}`),
);

describe('buildCidrSet against a naive scan', () => {
  it('agrees on random lists: IPv4 and IPv6, nested, overlapping, duplicated, within and across lists', () => {
    fc.assert(
      fc.property(fc.array(entryArb(5), { maxLength: 60 }), fc.array(probeArb, { maxLength: 20 }), (entries, probes) => {
        const set = buildCidrSet(entries, 5);
        for (const probe of [...probes, ...boundaries(entries)]) {
          const ip = parseIp(probe)!;
          const expected = naive(entries, ip);
          expect([...set.match(ip)], probe).toEqual(expected);
          expect([...set.matchText(probe)!], probe).toEqual(expected);
        }
      }),
      { seed: 3, numRuns: 500 },
    );
  });

  it('agrees with many lists (list sets that no bit mask holds)', () => {
    fc.assert(
      fc.property(fc.array(entryArb(200), { minLength: 50, maxLength: 300 }), (entries) => {
        const set = buildCidrSet(entries, 200);
        for (const probe of boundaries(entries)) expect([...set.matchText(probe)!], probe).toEqual(naive(entries, parseIp(probe)!));
      }),
      { seed: 4, numRuns: 40 },
    );
  });

  it('agrees on deep nesting: a CIDR at every prefix length over one address, one list each', () => {
    for (const [address, bits] of [['203.0.113.77', 32], ['2001:db8:1:2:3:4:5:6', 128]] as const) {
      const entries = Array.from({ length: bits + 1 }, (_, prefix) => ({ cidr: `${address}/${prefix}`, list: prefix }));
      const set = buildCidrSet(entries, bits + 1);
      expect([...set.matchText(address)!]).toEqual(entries.map((e) => e.list));
      for (const probe of boundaries(entries)) expect([...set.matchText(probe)!], probe).toEqual(naive(entries, parseIp(probe)!));
    }
  });

  it('agrees at scale: 50k IPv4 and 5k IPv6 ranges', () => {
    let seed = 7;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    const int = (n: number) => Math.floor(random() * n);
    const entries: { cidr: string; list: number }[] = [];
    for (let i = 0; i < 50_000; i++) entries.push({ cidr: `${10 + int(4)}.${int(256)}.${int(256)}.${int(256)}/${[12, 16, 20, 24, 28, 30, 32][int(7)]}`, list: int(6) });
    for (let i = 0; i < 5_000; i++) entries.push({ cidr: `2001:db8:${int(8).toString(16)}:${int(0x10000).toString(16)}::${int(0x10000).toString(16)}/${[36, 48, 56, 64, 112, 128][int(6)]}`, list: int(6) });
    const set = buildCidrSet(entries, 6);
    expect(set.size).toBe(55_000);
    // A fast model for IPv4: per list, the ranges as numbers.
    const v4 = entries.filter((e) => !e.cidr.includes(':')).map((e) => ({ ...range(e.cidr), list: e.list })).map((r) => ({ first: Number(r.first), last: Number(r.last), list: r.list }));
    const probes: number[] = [];
    for (let i = 0; i < 300; i++) {
      const r = v4[int(v4.length)]!;
      probes.push(r.first, r.last, r.last + 1, r.first - 1, (10 + int(4)) * 2 ** 24 + int(2 ** 24));
    }
    for (const n of probes) {
      const expected = [...new Set(v4.filter((r) => n >= r.first && n <= r.last).map((r) => r.list))].sort((a, b) => a - b);
      expect([...set.match(parseIp(dotted(n))!)], dotted(n)).toEqual(expected);
    }
    const v6 = entries.filter((e) => e.cidr.includes(':'));
    for (const probe of boundaries(v6.slice(0, 100))) expect([...set.matchText(probe)!], probe).toEqual(naive(v6, parseIp(probe)!));
  });
});

describe('buildCidrSet behaviour', () => {
  it('handles the edges of both address spaces', () => {
    const set = buildCidrSet([
      { cidr: '0.0.0.0/1', list: 0 },
      { cidr: '255.255.255.255/32', list: 1 },
      { cidr: '::/0', list: 2 },
      { cidr: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128', list: 3 },
    ]);
    expect(set.matchText('0.0.0.0')).toEqual([0]);
    expect(set.matchText('127.255.255.255')).toEqual([0]);
    expect(set.matchText('128.0.0.0')).toEqual([]);
    expect(set.matchText('255.255.255.254')).toEqual([]);
    expect(set.matchText('255.255.255.255')).toEqual([1]);
    expect(set.matchText('::')).toEqual([2]);
    expect(set.matchText('ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe')).toEqual([2]);
    expect(set.matchText('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toEqual([2, 3]);
    // ::/0 is every IPv6 address, not every IPv4 client.
    expect(set.matchText('200.1.1.1')).toEqual([]);
  });

  it('matches mapped IPv4 clients against IPv4 lists, and mapped CIDRs against IPv4 clients', () => {
    const set = buildCidrSet([
      { cidr: '203.0.113.0/24', list: 0 },
      { cidr: '::ffff:198.51.100.0/120', list: 1 },
    ]);
    for (const text of ['203.0.113.9', '::ffff:203.0.113.9', '::FFFF:cb00:7109', '0:0:0:0:0:ffff:203.0.113.9']) {
      expect(set.matchText(text), text).toEqual([0]);
      expect(set.match(parseIp(text)!), text).toEqual([0]);
    }
    expect(set.matchText('198.51.100.200')).toEqual([1]);
    expect(set.matchText('::ffff:198.51.100.200')).toEqual([1]);
  });

  it('returns one frozen array per distinct answer, and one shared empty array', () => {
    const set = buildCidrSet([
      { cidr: '10.0.0.0/8', list: 0 },
      { cidr: '10.1.0.0/16', list: 1 },
      { cidr: '2001:db8::/32', list: 1 },
      { cidr: '2001:db8::/48', list: 0 },
    ]);
    const both = set.matchText('10.1.2.3')!;
    expect(both).toEqual([0, 1]);
    expect(set.matchText('10.1.9.9')).toBe(both);
    expect(set.matchText('2001:db8::1')).toBe(both);
    expect(Object.isFrozen(both)).toBe(true);
    const none = set.matchText('192.0.2.1')!;
    expect(none).toEqual([]);
    expect(Object.isFrozen(none)).toBe(true);
    expect(buildCidrSet([]).matchText('192.0.2.1')).toBe(none);
  });

  it('reports the same lists when one range appears in several lists or twice', () => {
    const set = buildCidrSet([
      { cidr: '192.0.2.0/24', list: 2 },
      { cidr: '192.0.2.0/24', list: 0 },
      { cidr: '192.0.2.0/24', list: 2 },
      { cidr: '192.0.2.7', list: 1 },
      { cidr: '192.0.2.8/29', list: 1 },
    ]);
    expect(set.size).toBe(5);
    expect(set.matchText('192.0.2.1')).toEqual([0, 2]);
    expect(set.matchText('192.0.2.7')).toEqual([0, 1, 2]);
    expect(set.matchText('192.0.2.15')).toEqual([0, 1, 2]);
    expect(set.matchText('192.0.2.16')).toEqual([0, 2]);
    expect(set.matchText('192.0.3.0')).toEqual([]);
  });

  it('accepts parsed CIDRs and any iterable', () => {
    function* entries(): Generator<CidrEntry> {
      yield { cidr: parseCidr('10.1.2.3/16')!, list: 0 };
      yield { cidr: parseCidr('::ffff:1.2.3.0/120')!, list: 1 };
      yield { cidr: parseCidr('2001:db8::/32')!, list: 1 };
    }
    const set = buildCidrSet(entries(), 2);
    expect(set.matchText('10.1.200.1')).toEqual([0]);
    expect(set.matchText('1.2.3.4')).toEqual([1]);
    expect(set.matchText('2001:db8:ffff::1')).toEqual([1]);
    expect(set.size).toBe(3);
    expect(set.bytes).toBeGreaterThan(0);
  });

  it('an empty set matches nothing', () => {
    const set = buildCidrSet([], 0);
    expect(set.size).toBe(0);
    for (const text of ['0.0.0.0', '255.255.255.255', '::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db8::1']) expect(set.matchText(text)).toEqual([]);
  });

  it('matchText returns null for text that is not an address', () => {
    const set = buildCidrSet([{ cidr: '0.0.0.0/0', list: 0 }]);
    for (const text of ['', 'nope', '1.2.3.4/32', ' 1.2.3.4', '010.1.1.1', '[::1]', 'fe80::1%eth0', 'x'.repeat(10_000)]) expect(set.matchText(text), text).toBeNull();
    expect(set.matchText(undefined as unknown as string)).toBeNull();
  });

  it('refuses bad entries: TypeError for a bad CIDR, RangeError for a bad list', () => {
    expect(() => buildCidrSet([{ cidr: 'nonsense', list: 0 }])).toThrow(TypeError);
    expect(() => buildCidrSet([{ cidr: '10.0.0.0/33', list: 0 }])).toThrow(/not an IP address or CIDR/);
    expect(() => buildCidrSet([{ cidr: { version: 4 } as never, list: 0 }])).toThrow(TypeError);
    expect(() => buildCidrSet([{ cidr: '10.0.0.0/8', list: 2 }], 2)).toThrow(RangeError);
    expect(() => buildCidrSet([{ cidr: '10.0.0.0/8', list: -1 }])).toThrow(RangeError);
    expect(() => buildCidrSet([{ cidr: '10.0.0.0/8', list: 0.5 }])).toThrow(RangeError);
    expect(() => buildCidrSet([{ cidr: '10.0.0.0/8', list: MAX_LISTS }])).toThrow(RangeError);
    expect(() => buildCidrSet([], MAX_LISTS + 1)).toThrow(RangeError);
    const last = buildCidrSet([{ cidr: '10.0.0.0/8', list: MAX_LISTS - 1 }, { cidr: '2001:db8::/32', list: MAX_LISTS - 1 }]);
    expect(last.matchText('10.9.9.9')).toEqual([MAX_LISTS - 1]);
    expect(last.matchText('2001:db8::9')).toEqual([MAX_LISTS - 1]);
  });

  it('re-reads a parsed CIDR from its text: a hand-made object cannot widen or shift its range', () => {
    const forged = { ...(parseCidr('10.0.0.0/8') as ParsedCidrV4), prefix: 0, first: 0 };
    const set = buildCidrSet([{ cidr: forged, list: 0 }]);
    expect(set.matchText('10.1.1.1')).toEqual([0]);
    expect(set.matchText('11.0.0.0')).toEqual([]);
  });
});

// ../shared/data/blocklists beside the project root: read in place, never copied.
const shared = fileURLToPath(new URL('../../../../../shared/data/blocklists', import.meta.url));
const realFiles = existsSync(shared) ? readdirSync(shared).filter((name) => /\.(netset|ipset)$/.test(name)).sort() : [];

/** The number of addresses a list covers, by merging its ranges: FireHOL headers state it. */
function uniqueAddresses(entries: readonly string[]): bigint {
  const ranges = entries.map(range).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  let total = 0n;
  let end = -1n;
  for (const r of ranges) {
    if (r.last <= end) continue;
    total += r.last - (r.first > end ? r.first : end + 1n) + 1n;
    end = r.last;
  }
  return total;
}

function checkListSet(files: { name: string; entries: string[] }[]) {
  const all = files.flatMap((file, list) => file.entries.map((cidr) => ({ cidr, list })));
  const set = buildCidrSet(all, files.length);
  expect(set.size).toBe(all.length);
  // Every file's own ranges, at their edges, are found in that file's list; a sample of edges
  // agrees exactly with the naive answer over every file.
  for (const [list, file] of files.entries()) {
    for (const cidr of file.entries) {
      const r = range(cidr);
      for (const v of [r.first, r.last]) expect(set.matchText(dotted(Number(v))), `${file.name} ${cidr}`).toContain(list);
    }
  }
  const sample = all.filter((_, i) => i % 97 === 0);
  const sampleProbes = boundaries(sample);
  const byFirstOctet = new Map<number, { cidr: string; list: number }[]>();
  for (const e of all) {
    const r = range(e.cidr);
    for (let o = Number(r.first >> 24n); o <= Number(r.last >> 24n); o++) {
      const bucket = byFirstOctet.get(o) ?? [];
      bucket.push(e);
      byFirstOctet.set(o, bucket);
    }
  }
  for (const probe of sampleProbes) {
    const ip = parseIp(probe)!;
    expect([...set.match(ip)], probe).toEqual(naive(byFirstOctet.get(ip.version === 4 ? ip.v4 >>> 24 : -1) ?? [], ip));
  }
  return set;
}

describe('real block lists', () => {
  const title = 'reads every FireHOL / Spamhaus file in ../shared/data/blocklists in place, as its header counts, and finds every range';
  it.skipIf(realFiles.length === 0)(realFiles.length > 0 ? title : `${title} — skipped: ${shared} is absent; the generated files below still run`, async () => {
    const files: { name: string; entries: string[] }[] = [];
    for (const name of realFiles) {
      const text = readFileSync(join(shared, name), 'utf8');
      const parsed = await loadListFile(join(shared, name));
      expect(parsed).toEqual(parseListText(text));
      expect(parsed.error).toBeUndefined();
      expect(parsed.problems, name).toEqual([]);
      // "# Entries : 2744 subnets, 619265499 unique IPs" / "# Entries : 1000 unique IPs"
      const header = /^# Entries\s*:\s*(?:(\d+) subnets, )?(\d+) unique IPs/m.exec(text);
      expect(header, name).not.toBeNull();
      expect(parsed.entries.length, name).toBe(Number(header![1] ?? header![2]));
      expect(uniqueAddresses(parsed.entries), name).toBe(BigInt(header![2]!));
      files.push({ name, entries: parsed.entries });
    }
    const set = checkListSet(files);
    expect(set.matchText('8.8.4.4')).toEqual([]);
    expect(set.matchText('::ffff:8.8.4.4')).toEqual([]);
  });

  describe('generated FireHOL-style files (always run, so a copy of the project without ../shared is tested too)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'actiongate-lists-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('writes, loads and matches netset and ipset files', async () => {
      let seed = 99;
      const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
      const int = (n: number) => Math.floor(random() * n);
      const files: { name: string; entries: string[] }[] = [];
      for (const [name, count, netset] of [['generated_level1.netset', 3000, true], ['generated_drop.netset', 900, true], ['generated_top.ipset', 1000, false]] as const) {
        const lines = new Set<string>();
        while (lines.size < count) {
          const prefix = netset ? [8, 12, 16, 19, 20, 22, 24, 24, 24, 32][int(10)]! : 32;
          lines.add(parseCidr(`${1 + int(223)}.${int(256)}.${int(256)}.${int(256)}/${prefix}`)!.text.replace(/\/32$/, ''));
        }
        const header = `#\n# ${name}\n#\n# ipv4 hash:${netset ? 'net' : 'ip'} ipset\n#\n# Entries         : ${count} ${netset ? 'subnets' : 'unique IPs'}\n#\n`;
        writeFileSync(join(dir, name), `${header}${[...lines].join('\n')}\n`);
        const parsed = await loadListFile(join(dir, name));
        expect(parsed.problems).toEqual([]);
        expect(parsed.entries).toHaveLength(count);
        files.push({ name, entries: parsed.entries });
      }
      checkListSet(files);
    });
  });
});
