import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { parseCidr, parseIp, subnetOf } from '../../src/network/ip.js';

describe('parseIp', () => {
  it('parses IPv4 strictly', () => {
    expect(parseIp('192.0.2.1')).toEqual({ version: 4, address: '192.0.2.1', v4: 0xc0000201 });
    expect(parseIp('0.0.0.0')).toMatchObject({ v4: 0 });
    expect(parseIp('255.255.255.255')).toMatchObject({ v4: 0xffffffff });
    for (const bad of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', ' 1.2.3.4', '1.2.3.4 ', '1..2.3', '1.2.3.', '', '1.2.3.4/24', '1.2.3.4:80', 'a.b.c.d', '1e2.1.1.1', '٣.1.1.1']) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });

  it('parses and canonicalises IPv6 (RFC 5952)', () => {
    expect(parseIp('2001:DB8:0:0:0:0:0:1')!.address).toBe('2001:db8::1');
    expect(parseIp('2001:db8:0:0:1:0:0:1')!.address).toBe('2001:db8::1:0:0:1');
    expect(parseIp('::')!.address).toBe('::');
    expect(parseIp('::1')!.address).toBe('::1');
    expect(parseIp('fe80::')!.address).toBe('fe80::');
    expect(parseIp('2001:0db8:0000:0000:0000:ff00:0042:8329')!.address).toBe('2001:db8::ff00:42:8329');
    expect(parseIp('1:0:1:0:1:0:1:0')!.address).toBe('1:0:1:0:1:0:1:0');
    for (const bad of ['1::2::3', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::', 'fe80::1%eth0', '[::1]', '::1 ', '1:2:3:4:5:6:7:8::', ':::', '::ffff:1.2.3', '1:2:3:4:5:6:7:1.2.3.4', 'x'.repeat(1000)]) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });

  it('maps IPv4-mapped IPv6 in every spelling to the IPv4 address', () => {
    for (const spelling of ['::ffff:192.0.2.1', '::FFFF:192.0.2.1', '::ffff:c000:201', '::ffff:C000:0201', '0:0:0:0:0:ffff:192.0.2.1', '0:0:0:0:0:FFFF:c000:0201', '0000:0000:0000:0000:0000:ffff:c000:0201', '::0:ffff:192.0.2.1', '0::ffff:c000:201']) {
      expect(parseIp(spelling), spelling).toEqual({ version: 4, address: '192.0.2.1', v4: 0xc0000201 });
    }
    // Not mapped: IPv4-compatible (deprecated) and NAT64 stay IPv6.
    expect(parseIp('::192.0.2.1')!.version).toBe(6);
    expect(parseIp('64:ff9b::192.0.2.1')!.version).toBe(6);
  });

  it('agrees with ipaddr.js on random addresses', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
        // ipaddr.js also maps IPv4-compatible `::a.b.c.d`; we deliberately do not (see ip.ts).
        if (text.includes(':') && text.includes('.') && !/ffff:[\d.]+$/i.test(text)) return;
        const ours = parseIp(text);
        expect(ours).not.toBeNull();
        let theirs = ipaddr.parse(text);
        if (theirs.kind() === 'ipv6' && (theirs as ipaddr.IPv6).isIPv4MappedAddress()) theirs = (theirs as ipaddr.IPv6).toIPv4Address();
        expect(ours!.address).toBe(theirs.toString());
        // Round trip: the canonical text parses to itself.
        expect(parseIp(ours!.address)!.address).toBe(ours!.address);
      }),
      { seed: 1, numRuns: 2000 },
    );
  });

  it('every IPv4 address and its mapped spellings resolve to one subject', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        const v4 = `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
        const hex = `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
        const subjects = [v4, `::ffff:${v4}`, `::ffff:${hex}`, `0:0:0:0:0:ffff:${hex.toUpperCase()}`].map((t) => subnetOf(parseIp(t)!, 64));
        expect(new Set(subjects)).toEqual(new Set([v4]));
      }),
      { seed: 2, numRuns: 1000 },
    );
  });
});

describe('subnetOf and parseCidr', () => {
  it('groups IPv6 by the configured prefix', () => {
    expect(subnetOf(parseIp('2001:db8:1:2:3:4:5:6')!, 64)).toBe('2001:db8:1:2::/64');
    expect(subnetOf(parseIp('2001:db8:1:2:3:4:5:6')!, 48)).toBe('2001:db8:1::/48');
    expect(subnetOf(parseIp('2001:db8:1:2:3:4:5:6')!, 128)).toBe('2001:db8:1:2:3:4:5:6/128');
    expect(subnetOf(parseIp('2001:db8:1:2:3:4:5:6')!, 60)).toBe('2001:db8:1::/60');
  });

  it('parses CIDRs, clears and reports host bits, maps mapped-v4 ranges', () => {
    expect(parseCidr('10.1.2.3/8')).toMatchObject({ version: 4, prefix: 8, text: '10.0.0.0/8', hostBits: true });
    expect(parseCidr('10.0.0.0/8')).toMatchObject({ hostBits: false });
    expect(parseCidr('192.0.2.7')).toMatchObject({ prefix: 32, text: '192.0.2.7/32' });
    expect(parseCidr('2001:db8::1/32')).toMatchObject({ version: 6, text: '2001:db8::/32', hostBits: true });
    expect(parseCidr('::ffff:192.0.2.0/120')).toMatchObject({ version: 4, text: '192.0.2.0/24' });
    expect(parseCidr('0.0.0.0/0')).toMatchObject({ text: '0.0.0.0/0' });
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/08', '10.0.0.0/-1', 'x/8', '10.0.0.0/8/8']) expect(parseCidr(bad), bad).toBeNull();
  });
});
