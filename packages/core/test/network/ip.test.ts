import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { formatWords, maskWords, parseCidr, parseIp, scanIp, subnetOf, type Words } from '../../src/network/ip.js';

const dotted = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/** RFC 5952 text of eight groups, by ipaddr.js: the reference our formatter must agree with. */
const reference = (groups: readonly number[]) => new ipaddr.IPv6(groups as number[]).toRFC5952String();

/**
 * Every way to write eight groups: any zero run (not only the longest) as `::`, leading zeros,
 * upper case, and the last two groups as a dotted quad.
 */
const spelling = fc
  .record({
    groups: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }) }, { weight: 1, arbitrary: fc.constantFrom(1, 0xffff) }), { minLength: 8, maxLength: 8 }),
    pad: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 8 }),
    upper: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
    compress: fc.nat(),
    dottedTail: fc.boolean(),
  })
  .map(({ groups, pad, upper, compress, dottedTail }) => {
    const parts = groups.map((g, i) => {
      const hex = g.toString(16);
      const padded = '0'.repeat(Math.min(pad[i]!, 4 - hex.length)) + hex;
      return upper[i] ? padded.toUpperCase() : padded;
    });
    if (dottedTail) parts.splice(6, 2, dotted(((groups[6]! << 16) | groups[7]!) >>> 0));
    // Zero runs that `::` may replace (any run of one or more zero groups, not in the dotted tail).
    const runs: [number, number][] = [];
    const limit = dottedTail ? 6 : 8;
    for (let i = 0; i < limit; i++) for (let j = i; j < limit && groups[j] === 0; j++) runs.push([i, j + 1]);
    let text: string;
    if (runs.length === 0 || compress % 3 === 0) {
      text = parts.join(':');
    } else {
      const [from, to] = runs[compress % runs.length]!;
      text = `${parts.slice(0, from).join(':')}::${parts.slice(to).join(':')}`;
    }
    return { groups, text };
  });

describe('parseIp: IPv4', () => {
  it('parses dotted quads to a uint32, the text itself being canonical', () => {
    expect(parseIp('192.0.2.1')).toEqual({ version: 4, address: '192.0.2.1', v4: 0xc0000201 });
    expect(parseIp('0.0.0.0')).toEqual({ version: 4, address: '0.0.0.0', v4: 0 });
    expect(parseIp('255.255.255.255')).toEqual({ version: 4, address: '255.255.255.255', v4: 0xffffffff });
    expect(parseIp('10.0.0.1')).toMatchObject({ v4: 0x0a000001 });
  });

  it('refuses anything but four plain decimal octets', () => {
    const bad = [
      '256.1.1.1', '1.2.3.256', '999.1.1.1', '1.2.3', '1.2.3.4.5', '1..2.3', '1.2.3.', '.1.2.3', '',
      // octal-looking leading zeros mean 8 to inet_aton and 10 to everyone else
      '010.1.1.1', '01.2.3.4', '1.2.3.04', '00.0.0.0', '0.0.0.00',
      ' 1.2.3.4', '1.2.3.4 ', '\t1.2.3.4', '1.2.3.4\n', '1. 2.3.4',
      '1.2.3.4/24', '1.2.3.4:80', '[1.2.3.4]', '1.2.3.4%eth0',
      'a.b.c.d', '1e2.1.1.1', '0x1.1.1.1', '+1.2.3.4', '-1.2.3.4', '٣.1.1.1', '１.1.1.1', '1,2,3,4', '16909060', '1.2.3.4.',
    ];
    for (const text of bad) expect(parseIp(text), text).toBeNull();
  });

  it('agrees with ipaddr.js on every generated address', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        const ip = parseIp(dotted(n));
        expect(ip).toEqual({ version: 4, address: dotted(n), v4: n });
        expect(ip!.address).toBe(ipaddr.parse(dotted(n)).toString());
      }),
      { seed: 11, numRuns: 2000 },
    );
  });

  it('refuses non-strings and overlong text without reading it', () => {
    expect(parseIp(undefined as unknown as string)).toBeNull();
    expect(parseIp(42 as unknown as string)).toBeNull();
    expect(parseIp({ toString: () => '1.2.3.4' } as unknown as string)).toBeNull();
    const huge = '1'.repeat(10_000_000);
    const start = performance.now();
    for (let i = 0; i < 1000; i++) expect(parseIp(huge)).toBeNull();
    expect(performance.now() - start).toBeLessThan(200);
    expect(parseIp(`${'0'.repeat(40)}1.2.3.4`)).toBeNull();
    expect(parseIp('x'.repeat(65))).toBeNull();
  });
});

describe('parseIp: IPv6', () => {
  it('writes RFC 5952 text: lower case, no leading zeros, the longest zero run (first on a tie) as ::', () => {
    const cases: [string, string][] = [
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // tie: the first run
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longer run, not the first
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group is never compressed
      ['2001:db8::1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // …even when the input did
      ['2001:db8::0:1', '2001:db8::1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['::', '::'],
      ['::1', '::1'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['1::', '1::'],
      ['fe80::', 'fe80::'],
      ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
      ['FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
      ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
      ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
      ['2001:db8::192.0.2.1', '2001:db8::c000:201'],
    ];
    for (const [input, canonical] of cases) {
      const ip = parseIp(input);
      expect(ip, input).toMatchObject({ version: 6, address: canonical });
      expect(parseIp(canonical)!.address, canonical).toBe(canonical);
    }
  });

  it('holds the 128 bits as four uint32 words', () => {
    expect(parseIp('2001:db8::1')).toEqual({ version: 6, address: '2001:db8::1', words: [0x20010db8, 0, 0, 1] });
    expect(parseIp('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toMatchObject({ words: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff] });
  });

  it('refuses malformed text, zones, brackets, ports and spaces', () => {
    const bad = [
      '1::2::3', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7:', ':', ':::', '1:::2', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8',
      '12345::', 'g::', '::g', '1:2:3:4:5:6:7:8 ', ' ::1', '::1 ', 'fe80::1%eth0', 'fe80::1%1', '[::1]', '[::1]:80', '::1/128', '::1:80:', '2001:db8::1%',
      '::ffff:1.2.3', '::ffff:1.2.3.4.5', '::ffff:1.2.3.256', '::ffff:01.2.3.4', '::ffff:1.2.3.4:80', '1:2:3:4:5:6:7:1.2.3.4', '1:2:3:4:5:6::7:1.2.3.4', '1.2.3.4::', '::1.2.3.4:1', '::ffff:1a.2.3.4', '::1234.1.1.1',
      'x'.repeat(1000), '٣::', '::ffff:１.2.3.4',
    ];
    for (const text of bad) expect(parseIp(text), text).toBeNull();
  });

  it('agrees with ipaddr.js on every spelling of random addresses (case, padding, any zero run as ::, dotted tail)', () => {
    fc.assert(
      fc.property(spelling, ({ groups, text }) => {
        const ip = parseIp(text);
        expect(ip, text).not.toBeNull();
        const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
        if (mapped) {
          expect(ip).toEqual({ version: 4, address: dotted(((groups[6]! << 16) | groups[7]!) >>> 0), v4: ((groups[6]! << 16) | groups[7]!) >>> 0 });
        } else {
          expect(ip!.address, text).toBe(reference(groups));
          expect(ip!.version === 6 && [...ip!.words]).toEqual([0, 2, 4, 6].map((i) => ((groups[i]! << 16) | groups[i + 1]!) >>> 0));
        }
        // The canonical text parses to itself.
        expect(parseIp(ip!.address)!.address).toBe(ip!.address);
      }),
      { seed: 12, numRuns: 5000 },
    );
  });

  // ipaddr.js reads `::1.2.3.4` as `::ffff:1.2.3.4` (RFC 4291 says 0:0:0:0:0:0:102:304), so
  // dotted tails are compared against the reference built from groups above, not its parser.
  it('agrees with ipaddr.js on fast-check addresses', () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        fc.pre(!text.includes('.'));
        const theirs = ipaddr.parse(text) as ipaddr.IPv6;
        const ours = parseIp(text);
        expect(ours, text).not.toBeNull();
        expect(ours!.address).toBe(theirs.isIPv4MappedAddress() ? theirs.toIPv4Address().toString() : theirs.toRFC5952String());
      }),
      { seed: 13, numRuns: 3000 },
    );
  });
});

describe('IPv4-mapped IPv6 is the IPv4 address', () => {
  it('maps every spelling', () => {
    const spellings = [
      '::ffff:192.0.2.1', '::FFFF:192.0.2.1', '::ffff:c000:201', '::ffff:C000:0201', '::FFFF:C000:201',
      '0:0:0:0:0:ffff:192.0.2.1', '0:0:0:0:0:FFFF:c000:0201', '0000:0000:0000:0000:0000:ffff:c000:0201', '0000:0000:0000:0000:0000:FFFF:192.0.2.1',
      '::0:ffff:192.0.2.1', '0::ffff:c000:201', '0:0::ffff:192.0.2.1', '0:0:0::ffff:c000:201', '0:0:0:0::ffff:192.0.2.1', '::0:0:0:ffff:c000:0201', '::0000:ffff:192.0.2.1',
    ];
    for (const text of spellings) expect(parseIp(text), text).toEqual({ version: 4, address: '192.0.2.1', v4: 0xc0000201 });
    expect(parseIp('::ffff:0.0.0.0')).toEqual({ version: 4, address: '0.0.0.0', v4: 0 });
    expect(parseIp('::ffff:ffff:ffff')).toEqual({ version: 4, address: '255.255.255.255', v4: 0xffffffff });
    expect(parseIp('::ffff:102:304')).toEqual({ version: 4, address: '1.2.3.4', v4: 0x01020304 });
    expect(parseIp('::FFFF:102:304')).toEqual({ version: 4, address: '1.2.3.4', v4: 0x01020304 });
  });

  it('maps nothing else: IPv4-compatible, NAT64, IPv4-translated and near misses stay IPv6', () => {
    // ::/96 holds :: and ::1 too: mapping it would make the IPv6 loopback 0.0.0.1.
    expect(parseIp('::192.0.2.1')).toMatchObject({ version: 6, address: '::c000:201' });
    expect(parseIp('::1')).toMatchObject({ version: 6 });
    // NAT64: a translator's prefix, not proof of the IPv4 speaker.
    expect(parseIp('64:ff9b::192.0.2.1')).toMatchObject({ version: 6, address: '64:ff9b::c000:201' });
    for (const text of ['::ffff:0:192.0.2.1', '::fffe:192.0.2.1', '::1:ffff:192.0.2.1', 'ffff::192.0.2.1', '1::ffff:192.0.2.1', '0:0:0:0:1:ffff:c000:201']) {
      expect(parseIp(text), text).toMatchObject({ version: 6 });
    }
  });

  it('gives one subject per IPv4 client, whatever the spelling, never one shared /64', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        const v4 = dotted(n);
        const hex = `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
        const spellings = [v4, `::ffff:${v4}`, `::FFFF:${v4}`, `::ffff:${hex}`, `0:0:0:0:0:ffff:${hex.toUpperCase()}`, `0000:0000:0000:0000:0000:ffff:${v4}`];
        for (const text of spellings) {
          expect(parseIp(text), text).toEqual({ version: 4, address: v4, v4: n });
          expect(subnetOf(parseIp(text)!, 64)).toBe(v4);
        }
      }),
      { seed: 2, numRuns: 1000 },
    );
  });
});

describe('scanIp (allocation-free parse for lookups)', () => {
  it('agrees with parseIp', () => {
    const out = new Uint32Array(4);
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), spelling.map((s) => s.text), fc.string({ maxLength: 50 })), (text) => {
        const ip = parseIp(text);
        const version = scanIp(text, out);
        expect(version).toBe(ip ? ip.version : 0);
        if (ip?.version === 4) expect(out[0]).toBe(ip.v4);
        if (ip?.version === 6) expect([...out]).toEqual([...ip.words]);
      }),
      { seed: 14, numRuns: 3000 },
    );
  });
});

describe('subnetOf', () => {
  const ip = parseIp('2001:db8:1:2:3:4:5:6')!;
  it('groups IPv6 by the prefix, canonically', () => {
    expect(subnetOf(ip, 64)).toBe('2001:db8:1:2::/64');
    expect(subnetOf(ip, 48)).toBe('2001:db8:1::/48');
    expect(subnetOf(ip, 56)).toBe('2001:db8:1::/56');
    expect(subnetOf(ip, 60)).toBe('2001:db8:1::/60');
    expect(subnetOf(ip, 63)).toBe('2001:db8:1:2::/63');
    expect(subnetOf(ip, 128)).toBe('2001:db8:1:2:3:4:5:6/128');
    expect(subnetOf(ip, 127)).toBe('2001:db8:1:2:3:4:5:6/127');
    expect(subnetOf(ip, 0)).toBe('::/0');
    expect(subnetOf(ip, 1)).toBe('::/1');
    expect(subnetOf(parseIp('ffff::1')!, 1)).toBe('8000::/1');
    expect(subnetOf(parseIp('2001:DB8:1:2::ABCD')!, 64)).toBe('2001:db8:1:2::/64');
  });

  it('keeps IPv4 addresses whole', () => {
    expect(subnetOf(parseIp('203.0.113.7')!, 64)).toBe('203.0.113.7');
    expect(subnetOf(parseIp('::ffff:203.0.113.7')!, 48)).toBe('203.0.113.7');
  });

  it('agrees with ipaddr.js on random addresses and prefixes', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 0, max: 128 }), (text, prefix) => {
        fc.pre(!text.includes('.'));
        const ours = parseIp(text)!;
        fc.pre(ours.version === 6);
        const theirs = ipaddr.IPv6.networkAddressFromCIDR(`${text}/${prefix}`).toRFC5952String();
        expect(subnetOf(ours, prefix)).toBe(`${theirs}/${prefix}`);
      }),
      { seed: 15, numRuns: 2000 },
    );
  });
});

describe('maskWords and formatWords', () => {
  it('clear the bits past the prefix, word boundaries included', () => {
    const all: Words = [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff];
    expect(maskWords(all, 0)).toEqual([0, 0, 0, 0]);
    expect(maskWords(all, 32)).toEqual([0xffffffff, 0, 0, 0]);
    expect(maskWords(all, 33)).toEqual([0xffffffff, 0x80000000, 0, 0]);
    expect(maskWords(all, 127)).toEqual([0xffffffff, 0xffffffff, 0xffffffff, 0xfffffffe]);
    expect(maskWords(all, 128)).toEqual(all);
    expect(formatWords([0x20010db8, 0, 0, 1])).toBe('2001:db8::1');
  });
});

describe('parseCidr', () => {
  it('parses IPv4 and IPv6 CIDRs and bare addresses', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ version: 4, prefix: 8, first: 0x0a000000, text: '10.0.0.0/8', hostBits: false });
    expect(parseCidr('192.0.2.7')).toEqual({ version: 4, prefix: 32, first: 0xc0000207, text: '192.0.2.7/32', hostBits: false });
    expect(parseCidr('0.0.0.0/0')).toMatchObject({ prefix: 0, first: 0, text: '0.0.0.0/0' });
    expect(parseCidr('2001:DB8::/32')).toEqual({ version: 6, prefix: 32, first: [0x20010db8, 0, 0, 0], text: '2001:db8::/32', hostBits: false });
    expect(parseCidr('2001:db8::1')).toMatchObject({ version: 6, prefix: 128, text: '2001:db8::1/128' });
    expect(parseCidr('::/0')).toMatchObject({ version: 6, prefix: 0, text: '::/0' });
  });

  it('accepts host bits, clears them and says so (validate warns)', () => {
    expect(parseCidr('10.1.2.3/8')).toMatchObject({ version: 4, first: 0x0a000000, text: '10.0.0.0/8', hostBits: true });
    expect(parseCidr('255.255.255.255/0')).toMatchObject({ first: 0, text: '0.0.0.0/0', hostBits: true });
    expect(parseCidr('2001:db8::1/32')).toMatchObject({ text: '2001:db8::/32', hostBits: true });
    expect(parseCidr('2001:db8:0:0:8000::/65')).toMatchObject({ text: '2001:db8:0:0:8000::/65', hostBits: false });
    expect(parseCidr('2001:db8:0:0:8000::/64')).toMatchObject({ text: '2001:db8::/64', hostBits: true });
  });

  it('turns mapped-IPv4 CIDRs of /96 and longer into IPv4 CIDRs; shorter ones stay IPv6', () => {
    expect(parseCidr('::ffff:1.2.3.0/120')).toMatchObject({ version: 4, prefix: 24, text: '1.2.3.0/24', hostBits: false });
    expect(parseCidr('::FFFF:102:304/128')).toMatchObject({ version: 4, prefix: 32, text: '1.2.3.4/32' });
    expect(parseCidr('::ffff:1.2.3.4')).toMatchObject({ version: 4, text: '1.2.3.4/32' });
    expect(parseCidr('0:0:0:0:0:ffff:1.2.3.4/112')).toMatchObject({ version: 4, text: '1.2.0.0/16', hostBits: true });
    expect(parseCidr('::ffff:0.0.0.0/96')).toMatchObject({ version: 4, text: '0.0.0.0/0' });
    expect(parseCidr('::ffff:0:0/95')).toMatchObject({ version: 6, text: '::fffe:0:0/95' });
    expect(parseCidr('::1.2.3.0/120')).toMatchObject({ version: 6, text: '::102:300/120' });
  });

  it('refuses bad prefixes and addresses', () => {
    const bad = ['10.0.0.0/33', '::/129', '::ffff:1.2.3.4/129', '10.0.0.0/', '10.0.0.0/08', '10.0.0.0/-1', '10.0.0.0/+8', '10.0.0.0/ 8', '10.0.0.0 /8', '10.0.0.0/8 ', 'x/8', '/8', '10.0.0.0/8/8', '10.0.0.0/1000', '010.0.0.0/8', '[::1]/128', 'fe80::1%eth0/64', '', '::/', '1.2.3.4/1e1', `${'1'.repeat(100)}/8`];
    for (const text of bad) expect(parseCidr(text), text).toBeNull();
    expect(parseCidr(null as unknown as string)).toBeNull();
  });

  it('agrees with ipaddr.js on random CIDRs', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })), fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 }))), ([address, prefix]) => {
        fc.pre(!address.includes(':') || !address.includes('.'));
        const ours = parseCidr(`${address}/${prefix}`);
        const theirs = ipaddr.parse(address);
        fc.pre(!(theirs.kind() === 'ipv6' && (theirs as ipaddr.IPv6).isIPv4MappedAddress()));
        expect(ours).not.toBeNull();
        const network = theirs.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(`${address}/${prefix}`).toString() : ipaddr.IPv6.networkAddressFromCIDR(`${address}/${prefix}`).toRFC5952String();
        expect(ours!.text).toBe(`${network}/${prefix}`);
        expect(ours!.hostBits).toBe(parseIp(address)!.address !== network);
        // The canonical text is a fixed point.
        expect(parseCidr(ours!.text)).toEqual({ ...ours, hostBits: false });
      }),
      { seed: 16, numRuns: 3000 },
    );
  });
});
