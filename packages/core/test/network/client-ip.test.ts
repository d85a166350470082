import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActionError, isActiongateError } from '../../src/errors.js';
import { createClientIpResolver, MAX_HEADER_CHARS, MAX_HOPS, TRUSTED_PROXY_KEYWORDS, trustedProxyProblems, validateTrustedProxies } from '../../src/network/client-ip.js';

const resolve = createClientIpResolver({ trustedProxies: ['10.0.0.0/8', 'loopback'] });
const via = (remoteAddress: string, headers: unknown) => resolve({ request: { remoteAddress, headers } })?.address;

describe('resolution without a trusted proxy', () => {
  it('uses `ip` as given (the host resolved the peer), canonically', () => {
    expect(resolve({ ip: '203.0.113.7' })).toEqual({ address: '203.0.113.7', version: 4, subnet: '203.0.113.7', parsed: { version: 4, address: '203.0.113.7', v4: 0xcb007107 } });
    expect(resolve({ ip: '::FFFF:203.0.113.7' })).toMatchObject({ address: '203.0.113.7', version: 4, subnet: '203.0.113.7' });
    expect(resolve({ ip: '2001:DB8:0:0:1::7' })).toMatchObject({ address: '2001:db8::1:0:0:7', version: 6, subnet: '2001:db8::/64' });
    // `ip` wins over `request`, headers and all.
    expect(resolve({ ip: '203.0.113.7', request: { remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': '1.1.1.1' } } })!.address).toBe('203.0.113.7');
  });

  it('uses the peer when it is not a trusted proxy, whatever the headers say', () => {
    expect(via('198.51.100.7', { 'x-forwarded-for': '1.1.1.1' })).toBe('198.51.100.7');
    expect(via('::ffff:198.51.100.7', { 'x-forwarded-for': '1.1.1.1' })).toBe('198.51.100.7');
    expect(via('2001:db8::7', { 'x-forwarded-for': '1.1.1.1' })).toBe('2001:db8::7');
    const fwd = createClientIpResolver({ trustedProxies: ['10.0.0.0/8'], header: 'forwarded' });
    expect(fwd({ request: { remoteAddress: '198.51.100.7', headers: { forwarded: 'for=1.1.1.1' } } })!.address).toBe('198.51.100.7');
    const real = createClientIpResolver({ trustedProxies: ['10.0.0.0/8'], header: 'x-real-ip' });
    expect(real({ request: { remoteAddress: '198.51.100.7', headers: { 'x-real-ip': '1.1.1.1' } } })!.address).toBe('198.51.100.7');
  });

  it('ignores headers entirely when no proxy is trusted', () => {
    const none = createClientIpResolver();
    expect(none({ request: { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '1.1.1.1' } } })!.address).toBe('127.0.0.1');
  });

  it('returns null when there is no address at all', () => {
    expect(resolve({})).toBeNull();
    expect(resolve({ request: undefined })).toBeNull();
    expect(resolve({ request: null })).toBeNull();
    expect(resolve({ request: {} })).toBeNull();
    expect(resolve({ request: { headers: { 'x-forwarded-for': '1.1.1.1' } } })).toBeNull();
    // An inherited remoteAddress is not the request's own.
    expect(resolve({ request: Object.create({ remoteAddress: '1.1.1.1' }) })).toBeNull();
  });
});

describe('X-Forwarded-For from a trusted peer', () => {
  it('walks from the right past trusted proxies only; spoofed entries on the left are never read', () => {
    expect(via('10.0.0.1', { 'x-forwarded-for': '203.0.113.5' })).toBe('203.0.113.5');
    expect(via('10.0.0.1', { 'x-forwarded-for': '6.6.6.6, 203.0.113.5' })).toBe('203.0.113.5');
    expect(via('10.0.0.1', { 'x-forwarded-for': '6.6.6.6, 10.9.9.9, 203.0.113.5, 10.8.8.8, 127.0.0.1' })).toBe('203.0.113.5');
    expect(via('::ffff:10.0.0.1', { 'x-forwarded-for': '6.6.6.6,203.0.113.5,::ffff:10.8.8.8' })).toBe('203.0.113.5');
    expect(via('::1', { 'x-forwarded-for': '6.6.6.6, 2001:db8::5' })).toBe('2001:db8::5');
    expect(via('127.0.0.1', { 'x-forwarded-for': '::ffff:203.0.113.5' })).toBe('203.0.113.5');
  });

  it('takes the leftmost hop when every hop is trusted, and the peer without a header', () => {
    expect(via('10.0.0.1', { 'x-forwarded-for': '10.3.3.3, 10.2.2.2' })).toBe('10.3.3.3');
    expect(via('10.0.0.1', {})).toBe('10.0.0.1');
    expect(via('10.0.0.1', undefined)).toBe('10.0.0.1');
    expect(via('10.0.0.1', 'x-forwarded-for: 1.1.1.1')).toBe('10.0.0.1');
    expect(via('10.0.0.1', { 'x-forwarded-for': '' })).toBe('10.0.0.1');
    expect(via('10.0.0.1', { 'x-forwarded-for': [] })).toBe('10.0.0.1');
  });

  it('joins several header lines in order', () => {
    expect(via('127.0.0.1', { 'x-forwarded-for': ['6.6.6.6, 203.0.113.5', '10.1.1.1'] })).toBe('203.0.113.5');
    expect(via('127.0.0.1', { 'x-forwarded-for': ['6.6.6.6', '203.0.113.5, 10.1.1.1', '', '10.2.2.2'] })).toBe('203.0.113.5');
    expect(via('127.0.0.1', { 'x-forwarded-for': ['10.3.3.3', '10.1.1.1'] })).toBe('10.3.3.3');
  });

  it('finds the header whatever its case, in plain objects, null-prototype objects, Headers and Maps', () => {
    expect(via('10.0.0.1', { 'X-Forwarded-For': '203.0.113.5' })).toBe('203.0.113.5');
    expect(via('10.0.0.1', { 'X-FORWARDED-FOR': '203.0.113.5', Host: 'example.com' })).toBe('203.0.113.5');
    expect(via('10.0.0.1', Object.assign(Object.create(null), { 'x-forwarded-for': '203.0.113.5' }))).toBe('203.0.113.5');
    expect(via('10.0.0.1', new Headers({ 'X-Forwarded-For': '6.6.6.6, 203.0.113.5' }))).toBe('203.0.113.5');
    expect(via('10.0.0.1', new Map([['x-forwarded-for', '203.0.113.5']]))).toBe('203.0.113.5');
  });

  it('believes neither of two spellings of the header, which cannot be put in order', () => {
    expect(via('10.0.0.1', { 'x-forwarded-for': '6.6.6.6', 'X-Forwarded-For': '203.0.113.5' })).toBe('10.0.0.1');
  });


  it('ignores inherited and __proto__ headers', () => {
    expect(via('10.0.0.1', JSON.parse('{"__proto__": {"x-forwarded-for": "6.6.6.6"}}'))).toBe('10.0.0.1');
    expect(via('10.0.0.1', JSON.parse('{"__proto__": "6.6.6.6", "constructor": "6.6.6.6"}'))).toBe('10.0.0.1');
    expect(via('10.0.0.1', Object.create({ 'x-forwarded-for': '6.6.6.6' }))).toBe('10.0.0.1');
    expect(via('10.0.0.1', JSON.parse('{"__proto__": {"x-forwarded-for": "6.6.6.6"}, "x-forwarded-for": "203.0.113.5"}'))).toBe('203.0.113.5');
    expect(({} as Record<string, unknown>)['x-forwarded-for']).toBeUndefined();
  });

  it('stops at a malformed hop: the nearest valid address to its right stands, nothing to its left is believed', () => {
    expect(via('10.0.0.1', { 'x-forwarded-for': '6.6.6.6, garbage, 10.2.2.2' })).toBe('10.2.2.2');
    expect(via('10.0.0.1', { 'x-forwarded-for': '6.6.6.6, garbage' })).toBe('10.0.0.1');
    expect(via('10.0.0.1', { 'x-forwarded-for': 'unknown' })).toBe('10.0.0.1');
    expect(via('10.0.0.1', { 'x-forwarded-for': '6.6.6.6, 010.1.1.1' })).toBe('10.0.0.1');
    expect(via('10.0.0.1', { 'x-forwarded-for': '6.6.6.6, 1.2.3.4 5.6.7.8' })).toBe('10.0.0.1');
    expect(via('10.0.0.1', { 'x-forwarded-for': '6.6.6.6, "1.2.3.4"' })).toBe('10.0.0.1');
    expect(via('10.0.0.1', { 'x-forwarded-for': '6.6.6.6, [1.2.3.4]' })).toBe('10.0.0.1');
    expect(via('10.0.0.1', { 'x-forwarded-for': '6.6.6.6, 1.2.3.4:http' })).toBe('10.0.0.1');
    expect(via('10.0.0.1', { 'x-forwarded-for': '6.6.6.6, fe80::1%eth0' })).toBe('10.0.0.1');
    // A line that is not text (a hand-built bag) is such a hop: dropped, the walk went past it to
    // the address a client chose.
    expect(via('10.0.0.1', { 'x-forwarded-for': ['6.6.6.6', 42, '10.2.2.2'] })).toBe('10.2.2.2');
    expect(via('10.0.0.1', { 'x-forwarded-for': ['6.6.6.6', null] })).toBe('10.0.0.1');
    expect(via('10.0.0.1', { 'x-forwarded-for': [42, '203.0.113.5'] })).toBe('203.0.113.5');
  });

  it('skips empty list elements, which say nothing', () => {
    expect(via('10.0.0.1', { 'x-forwarded-for': '6.6.6.6, , 203.0.113.9' })).toBe('203.0.113.9');
    expect(via('10.0.0.1', { 'x-forwarded-for': '203.0.113.9,,, 10.2.2.2 ,' })).toBe('203.0.113.9');
  });

  it('accepts hops with ports and brackets, as some proxies write them', () => {
    expect(via('10.0.0.1', { 'x-forwarded-for': '203.0.113.5:4711' })).toBe('203.0.113.5');
    expect(via('10.0.0.1', { 'x-forwarded-for': '[2001:db8::1]:4711' })).toBe('2001:db8::1');
    expect(via('10.0.0.1', { 'x-forwarded-for': '[2001:db8::1]' })).toBe('2001:db8::1');
    expect(via('10.0.0.1', { 'x-forwarded-for': '2001:db8::1' })).toBe('2001:db8::1');
    expect(via('10.0.0.1', { 'x-forwarded-for': '[::ffff:203.0.113.5]:80' })).toBe('203.0.113.5');
    expect(via('10.0.0.1', { 'x-forwarded-for': '\t203.0.113.5\t' })).toBe('203.0.113.5');
  });

  it('bounds the work on a huge header to its right end', () => {
    const header = `${'6.6.6.6, '.repeat(200_000)}203.0.113.5`;
    const start = performance.now();
    for (let i = 0; i < 200; i++) expect(via('10.0.0.1', { 'x-forwarded-for': header })).toBe('203.0.113.5');
    expect(via('10.0.0.1', { 'x-forwarded-for': Array.from({ length: 100_000 }, () => '') })).toBe('10.0.0.1');
    expect(via('10.0.0.1', { 'x-forwarded-for': 'x'.repeat(5_000_000) })).toBe('10.0.0.1');
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it(`walks at most ${MAX_HOPS} hops: a longer all-trusted chain ends on a trusted hop, never further left`, () => {
    const chain = [...Array.from({ length: 40 }, (_, i) => `10.1.1.${i}`)];
    expect(via('10.0.0.1', { 'x-forwarded-for': ['6.6.6.6', ...chain].join(', ') })).toBe(`10.1.1.${40 - MAX_HOPS}`);
  });

  it(`never reads a hop cut by the ${MAX_HEADER_CHARS}-character limit`, () => {
    // Read from the right, the limit falls inside "199.1.2.3", leaving "9.1.2.3": a valid
    // address that was never in the header. The walk must stop at the trusted hop instead.
    const right = `,${' '.repeat(MAX_HEADER_CHARS - 7 - 1 - 8)}10.0.0.9`;
    expect(right.length).toBe(MAX_HEADER_CHARS - 7);
    expect(via('10.0.0.1', { 'x-forwarded-for': `199.1.2.3${right}` })).toBe('10.0.0.9');
    // The same across lines.
    expect(via('10.0.0.1', { 'x-forwarded-for': ['199.1.2.3', right.slice(1)] })).toBe('10.0.0.9');
    // Short enough to be read whole: the untrusted client is found.
    expect(via('10.0.0.1', { 'x-forwarded-for': `9.1.2.3${right}` })).toBe('9.1.2.3');
  });

  it('never lets the client choose its address (property)', () => {
    const trustedHop = fc.oneof(fc.integer({ min: 0, max: 0xffffff }).map((n) => `10.${n >>> 16}.${(n >>> 8) & 255}.${n & 255}`), fc.constantFrom('127.0.0.1', '::1', '::ffff:10.1.2.3'));
    const client = fc.oneof(fc.ipV4().filter((ip) => !ip.startsWith('10.') && !ip.startsWith('127.')), fc.ipV6().filter((ip) => ip !== '::1' && !/^::ffff:(10|127)\./i.test(ip) && !ip.includes('.')));
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 30 }), { maxLength: 5 }), client, fc.array(trustedHop, { maxLength: 6 }), fc.boolean(), (spoofed, real, proxies, lines) => {
        // The client writes anything; its first proxy appends the address it saw, the others theirs.
        const hops = [...spoofed, real, ...proxies];
        const headers = { 'x-forwarded-for': lines ? [spoofed.join(','), [real, ...proxies].join(', ')] : hops.join(', ') };
        const expected = resolve({ ip: real })!.address;
        expect(via('10.0.0.1', headers)).toBe(expected);
      }),
      { seed: 21, numRuns: 1000 },
    );
  });
});

describe('RFC 7239 Forwarded', () => {
  const fwd = createClientIpResolver({ trustedProxies: ['10.0.0.0/8'], header: 'forwarded' });
  const at = (value: string | string[]) => fwd({ request: { remoteAddress: '10.0.0.1', headers: { Forwarded: value } } })?.address;

  it('reads for= with parameters, quotes, brackets and ports', () => {
    expect(at('for=203.0.113.60')).toBe('203.0.113.60');
    expect(at('for=6.6.6.6, for=203.0.113.60;proto=http;by=10.0.0.1')).toBe('203.0.113.60');
    expect(at('proto=https; For="[2001:db8:cafe::17]:4711"; host=example.com')).toBe('2001:db8:cafe::17');
    expect(at('for="[2001:db8:cafe::17]"')).toBe('2001:db8:cafe::17');
    expect(at('for="203.0.113.60:8080"')).toBe('203.0.113.60');
    expect(at('for="[2001:db8::1]:_port3"')).toBe('2001:db8::1');
    expect(at('FOR=203.0.113.60')).toBe('203.0.113.60');
    expect(at(['for=6.6.6.6', 'for=203.0.113.60, for=10.2.2.2'])).toBe('203.0.113.60');
    expect(at('for=203.0.113.60, for="10.3.3.3"')).toBe('203.0.113.60');
    expect(at('for=10.2.2.2, for=10.3.3.3')).toBe('10.2.2.2');
  });

  it('stops at unknown, obfuscated, missing or ambiguous for= at the last trusted hop', () => {
    expect(at('for=unknown')).toBe('10.0.0.1');
    expect(at('for=6.6.6.6, for=_hidden')).toBe('10.0.0.1');
    expect(at('for=6.6.6.6, for=_hidden, for=10.2.2.2')).toBe('10.2.2.2');
    expect(at('for=6.6.6.6, proto=https')).toBe('10.0.0.1');
    expect(at('for=6.6.6.6;for=7.7.7.7')).toBe('10.0.0.1');
    expect(at('for="6.6.6.6')).toBe('10.0.0.1');
    expect(at('for="6.6.\\"6.6"')).toBe('10.0.0.1');
    expect(at('for=[2001:db8::1')).toBe('10.0.0.1');
    expect(at('for="[2001:db8::1]:x"')).toBe('10.0.0.1');
    expect(at('for=""')).toBe('10.0.0.1');
    expect(at('for="[1.2.3.4]"')).toBe('10.0.0.1');
  });

  it('reads a quoted value as text: a comma, semicolon or for= a client put in the proxy\'s host="…" is not an element', () => {
    // A proxy that copies the client's Host into its own element (nginx lets `,;=` through).
    expect(at('for=203.0.113.60;host="a,for=6.6.6.6;x="')).toBe('203.0.113.60');
    expect(at('for=203.0.113.60;host="a,for=6.6.6.6;x=";proto=https')).toBe('203.0.113.60');
    expect(at('host="a,for=6.6.6.6;x=";for=203.0.113.60')).toBe('203.0.113.60');
    expect(at('for=203.0.113.60;host="a;for=6.6.6.6"')).toBe('203.0.113.60');
    expect(at('for=203.0.113.60;host="a\\",for=6.6.6.6;x="')).toBe('203.0.113.60');
    expect(at('for=6.6.6.6, for=203.0.113.60;host="a\\\\", for=10.2.2.2')).toBe('203.0.113.60');
    expect(at(['for=6.6.6.6;host="a', 'b", for=203.0.113.60'])).toBe('203.0.113.60');
    // A quote the proxy's element leaves open: nothing in it is believed.
    expect(at('for=6.6.6.6, for=203.0.113.60;host="a')).toBe('10.0.0.1');
    expect(at('for=203.0.113.60;host=a"b')).toBe('10.0.0.1');
  });

  it('never lets the client choose its address (property)', () => {
    // The client writes the elements on the left and the Host the proxy quotes into its own.
    const host = fc.string({ maxLength: 30, unit: fc.constantFrom('a', ',', ';', '=', '"', '\\', ' ', 'for=6.6.6.6') });
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 30 }), { maxLength: 4 }), fc.ipV4().filter((ip) => !ip.startsWith('10.')), fc.ipV6().filter((ip) => !ip.includes('.')), fc.boolean(), host, fc.boolean(), (spoofed, v4, v6, useV6, clientHost, hostFirst) => {
        const real = useV6 ? `"[${v6}]:1234"` : v4;
        const quotedHost = `host="${clientHost.replace(/[\\"]/g, '\\$&')}"`;
        const element = hostFirst ? `${quotedHost};for=${real};proto=https` : `for=${real};${quotedHost};proto=https`;
        const header = [...spoofed, element, 'for=10.9.9.9'].join(', ');
        expect(at(header)).toBe(fwd({ ip: useV6 ? v6 : v4 })!.address);
      }),
      { seed: 22, numRuns: 500 },
    );
  });
});

describe('X-Real-IP', () => {
  const real = createClientIpResolver({ trustedProxies: ['10.0.0.0/8'], header: 'x-real-ip' });
  const at = (value: unknown) => real({ request: { remoteAddress: '10.0.0.1', headers: { 'x-real-ip': value } } })!.address;

  it('takes the one address the proxy set (its last value when repeated), trusted or not', () => {
    expect(at('203.0.113.8')).toBe('203.0.113.8');
    expect(at(' 203.0.113.8 ')).toBe('203.0.113.8');
    expect(at('6.6.6.6, 203.0.113.8')).toBe('203.0.113.8');
    expect(at(['6.6.6.6', '203.0.113.8'])).toBe('203.0.113.8');
    expect(at('6.6.6.6, 10.5.5.5')).toBe('10.5.5.5');
    expect(at('[2001:db8::8]:443')).toBe('2001:db8::8');
  });

  it('falls back to the peer when the value is not an address', () => {
    expect(at('garbage')).toBe('10.0.0.1');
    expect(at('6.6.6.6, garbage')).toBe('10.0.0.1');
    expect(at('')).toBe('10.0.0.1');
  });
});

describe('malformed peers', () => {
  it('throws ActionError naming the field', () => {
    const cases: [unknown, string][] = [
      [{ ip: 'nope' }, 'ip'],
      [{ ip: '' }, 'ip'],
      [{ ip: 42 }, 'ip'],
      [{ ip: null }, 'ip'],
      [{ ip: ' 1.2.3.4' }, 'ip'],
      [{ ip: '1.2.3.4:80' }, 'ip'],
      [{ request: { remoteAddress: 42 } }, 'request.remoteAddress'],
      [{ request: { remoteAddress: null } }, 'request.remoteAddress'],
      [{ request: { remoteAddress: '999.1.1.1' } }, 'request.remoteAddress'],
      [{ request: { remoteAddress: `${'1'.repeat(100_000)}` } }, 'request.remoteAddress'],
      [{ request: 'GET /' }, 'request'],
    ];
    for (const [input, field] of cases) {
      let error: unknown;
      try {
        resolve(input as never);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(input).slice(0, 80)).toBeInstanceOf(ActionError);
      expect(isActiongateError(error)).toBe(true);
      expect((error as ActionError).field).toBe(field);
      expect((error as ActionError).code).toBe('ACTION_INVALID');
      expect((error as Error).message.length).toBeLessThan(200);
    }
  });

  it("drops the zone Node reports on link-local peers (it names our interface, not the client)", () => {
    expect(resolve({ request: { remoteAddress: 'fe80::1%eth0' } })!.address).toBe('fe80::1');
    expect(resolve({ ip: 'fe80::1%2' })!.address).toBe('fe80::1');
    expect(() => resolve({ ip: '1.2.3.4%eth0' })).toThrow(ActionError);
    expect(() => resolve({ ip: '%eth0' })).toThrow(ActionError);
  });
});

describe('subnets', () => {
  it('groups IPv6 clients by ipv6Subnet (default 64) and IPv4 clients by address', () => {
    expect(resolve({ ip: '2001:db8:1:2:3:4:5:6' })!.subnet).toBe('2001:db8:1:2::/64');
    const r48 = createClientIpResolver({ ipv6Subnet: 48 });
    expect(r48({ ip: '2001:db8:1:2:3:4:5:6' })!.subnet).toBe('2001:db8:1::/48');
    expect(r48({ ip: '::ffff:192.0.2.1' })!.subnet).toBe('192.0.2.1');
    expect(createClientIpResolver({ ipv6Subnet: 128 })({ ip: '2001:db8::1' })!.subnet).toBe('2001:db8::1/128');
  });

  it('refuses an impossible ipv6Subnet', () => {
    for (const bad of [-1, 129, 64.5, Number.NaN]) expect(() => createClientIpResolver({ ipv6Subnet: bad })).toThrow(RangeError);
  });
});

describe('trusted proxy keywords and validation', () => {
  it('expands loopback, private, linklocal and uniquelocal', () => {
    const cases: [string, string[], string[]][] = [
      ['loopback', ['127.0.0.1', '127.255.255.254', '::1', '::ffff:127.0.0.1'], ['128.0.0.1', '::2', '10.0.0.1']],
      ['private', ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', 'fc00::1', 'fd12:3456::1', '::ffff:192.168.1.1'], ['172.32.0.1', '192.169.0.1', '11.0.0.1', 'fe80::1', '127.0.0.1']],
      ['linklocal', ['169.254.1.1', 'fe80::1', 'febf::1'], ['169.255.0.1', 'fec0::1']],
      ['uniquelocal', ['fc00::1', 'fdff::1'], ['fe00::1', '10.0.0.1']],
    ];
    for (const [keyword, inside, outside] of cases) {
      const r = createClientIpResolver({ trustedProxies: [keyword] });
      for (const peer of inside) expect(r({ request: { remoteAddress: peer, headers: { 'x-forwarded-for': '203.0.113.1' } } })!.address, `${keyword} ${peer}`).toBe('203.0.113.1');
      for (const peer of outside) expect(r({ request: { remoteAddress: peer, headers: { 'x-forwarded-for': '203.0.113.1' } } })!.address, `${keyword} ${peer}`).not.toBe('203.0.113.1');
    }
    expect(Object.keys(TRUSTED_PROXY_KEYWORDS).sort()).toEqual(['linklocal', 'loopback', 'private', 'uniquelocal']);
  });

  it('accepts addresses, CIDRs (mapped ones too) and mixes them', () => {
    const r = createClientIpResolver({ trustedProxies: ['203.0.113.10', '2001:db8:ffff::/48', '::ffff:198.51.100.0/120'] });
    const client = (peer: string) => r({ request: { remoteAddress: peer, headers: { 'x-forwarded-for': '192.0.2.1' } } })!.address;
    expect(client('203.0.113.10')).toBe('192.0.2.1');
    expect(client('203.0.113.11')).toBe('203.0.113.11');
    expect(client('2001:db8:ffff:1::1')).toBe('192.0.2.1');
    expect(client('198.51.100.77')).toBe('192.0.2.1');
  });

  it('reports each bad entry with its index', () => {
    expect(validateTrustedProxies(['loopback', '10.0.0.0/8', 'bogus', '1.2.3.4/40', 42, 'LOOPBACK', ' 10.0.0.1', '::1', '__proto__', 'constructor'])).toEqual([
      { index: 2, message: expect.stringContaining('"bogus" is not an IP address, a CIDR or one of loopback, private, linklocal, uniquelocal') },
      { index: 3, message: expect.stringContaining('"1.2.3.4/40"') },
      { index: 4, message: expect.stringContaining('42') },
      { index: 5, message: expect.stringContaining('"LOOPBACK"') },
      { index: 6, message: expect.stringContaining('" 10.0.0.1"') },
      { index: 8, message: expect.stringContaining('"__proto__"') },
      { index: 9, message: expect.stringContaining('"constructor"') },
    ]);
    expect(validateTrustedProxies([])).toEqual([]);
    expect(validateTrustedProxies('10.0.0.0/8')).toEqual([{ index: -1, message: expect.any(String) }]);
  });

  it('gives policy problems with JSON pointers', () => {
    expect(trustedProxyProblems(['loopback', '10.0.0.0/8', 'bogus', '1.2.3.4/40']).map((p) => p.pointer)).toEqual(['/network/trustedProxies/2', '/network/trustedProxies/3']);
    expect(trustedProxyProblems('x', '/n')).toEqual([{ pointer: '/n', message: expect.any(String) }]);
  });
});
