import { describe, expect, it } from 'vitest';
import { listOverlaps, policyWarnings, shadowedLimits, thresholdWarnings, trustedProxyWarnings } from '../../src/policy/warnings.js';
import { createClientIpResolver } from '../../src/network/client-ip.js';
import { createLocator } from '../../src/cli/locate.js';
import type { LimitPolicy, PolicyDocument } from '../../src/policy/types.js';

describe('policy warnings', () => {
  const limit = (over: Partial<LimitPolicy>): LimitPolicy => ({ id: 'l', by: 'ip', window: '1m', max: 10, ...over });

  it('finds a limit that a stricter one on the same subject, actions and a longer window always beats', () => {
    expect(shadowedLimits([limit({ id: 'minute' }), limit({ id: 'hour', window: '1h', max: 5 })]).map((w) => w.pointer)).toEqual(['/limits/0']);
    // A longer window with more room, another subject, fewer actions, another cost, monitor mode: no warning.
    expect(shadowedLimits([limit({ id: 'minute' }), limit({ id: 'hour', window: '1h', max: 50 })])).toEqual([]);
    expect(shadowedLimits([limit({ id: 'a' }), limit({ id: 'b', by: 'actor', max: 5 })])).toEqual([]);
    expect(shadowedLimits([limit({ id: 'a' }), limit({ id: 'b', max: 5, actions: ['ad.submit'] })])).toEqual([]);
    expect(shadowedLimits([limit({ id: 'a', actions: ['ad.submit'] }), limit({ id: 'b', max: 5 })]).map((w) => w.pointer)).toEqual(['/limits/0']);
    expect(shadowedLimits([limit({ id: 'a' }), limit({ id: 'b', max: 5, cost: 2 })])).toEqual([]);
    expect(shadowedLimits([limit({ id: 'a' }), limit({ id: 'b', max: 5, mode: 'monitor' })])).toEqual([]);
  });

  it('compares tiers status by status, unknown statuses included', () => {
    const tiers = limit({ id: 'tiers', max: { anonymous: 3, verified: 30 } });
    // 5 for everyone is stricter than 30 for verified, but not than 3 for anonymous.
    expect(shadowedLimits([tiers, limit({ id: 'flat', window: '1h', max: 5 })])).toEqual([]);
    expect(shadowedLimits([tiers, limit({ id: 'flat', window: '1h', max: 3 })]).map((w) => w.pointer)).toEqual(['/limits/0']);
    // An unknown status gets the strictest tier (3) without a default, 10 with one.
    expect(shadowedLimits([limit({ id: 'd', max: { anonymous: 3, default: 10 } }), limit({ id: 'flat', max: 3 })]).map((w) => w.pointer)).toEqual(['/limits/0']);
    expect(shadowedLimits([limit({ id: 'flat', max: 4 }), limit({ id: 'd', max: { anonymous: 3, default: 10 } })])).toEqual([]);
  });

  it('names only the later of two identical limits', () => {
    const warnings = shadowedLimits([limit({ id: 'a' }), limit({ id: 'b' })]);
    expect(warnings.map((w) => w.pointer)).toEqual(['/limits/1']);
    expect(warnings[0]!.message).toContain('the two limits are the same');
  });

  it('warns about thresholds in the wrong order', () => {
    const pointers = (doc: Parameters<typeof thresholdWarnings>[0]) => thresholdWarnings(doc).map((w) => w.pointer);
    expect(pointers({ name: 'p', scoring: { challenge: 40, block: 40 } })).toEqual(['/scoring']);
    expect(pointers({ name: 'p', scoring: { challenge: 40, block: 80 } })).toEqual([]);
    expect(pointers({ name: 'p', limits: [limit({ max: { anonymous: 5, registered: 3, verified: 10 } })] })).toEqual(['/limits/0/max/registered']);
    expect(pointers({ name: 'p', limits: [limit({ max: { anonymous: 5, verified: 10 } })] })).toEqual([]);
    expect(pointers({ name: 'p', bans: { ladder: ['24h', 'permanent', '7d'] } })).toEqual(['/bans/ladder/2']);
    expect(pointers({ name: 'p', bans: { within: '30m', ladder: ['1h', '1h'] } })).toEqual([]);
    expect(pointers({ name: 'p', bans: { ladder: ['7d', '1h'] } })).toEqual(['/bans/ladder/1']);
    // Jitter that lets a rung's ban outlast the next rung's (24h × 1.5 > 30h); 7d clears it.
    expect(pointers({ name: 'p', bans: { jitter: 0.5, ladder: ['24h', '30h', '7d'] } })).toEqual(['/bans/ladder/1']);
    expect(thresholdWarnings({ name: 'p', bans: { jitter: 0.5, ladder: ['24h', '30h'] } })[0]?.message).toBe('rung 2 (30h) is within bans.jitter (0.5) of rung 1 (24h): a jittered rung 1 ban can last longer than a rung 2 ban');
    expect(pointers({ name: 'p', bans: { jitter: 0.1, ladder: ['24h', '7d', 'permanent'] } })).toEqual([]);
    // A rung shorter than `within` (default 1h), the last one aside: its strikes outlast it.
    expect(pointers({ name: 'p', bans: { ladder: ['10m', '24h', '30m'] } })).toEqual(['/bans/ladder/2', '/bans/ladder/0']);
    expect(pointers({ name: 'p', bans: { within: '5m', ladder: ['10m', '24h'] } })).toEqual([]);
    expect(thresholdWarnings({ name: 'p', bans: { within: '2h', ladder: ['1h', '24h'] } })[0]?.message).toBe('rung 1 (1h) is shorter than bans.within (2h): when it ends, the strikes that earned it still count, so one more violation may climb to rung 2');
    // As long as within: the earning strike counts up to one slot (2h / 60) past it.
    expect(thresholdWarnings({ name: 'p', bans: { within: '2h', ladder: ['2h', '24h'] } })[0]?.message).toBe('rung 1 (2h) is not longer than bans.within (2h): when it ends, the strikes that earned it still count, so one more violation may climb to rung 2');
    expect(thresholdWarnings({ name: 'p', bans: { within: '2h', ladder: ['122m', '24h'] } })).toEqual([]);
  });

  it('finds nested and repeated list entries across inline CIDRs and files, IPv4 and IPv6, with line numbers', () => {
    const files: Record<string, string> = {
      'a.txt': '# feed\n10.0.0.0/8 ; big\n2001:db8::/32\n\n10.1.2.0/24\nbogus\n2001:db8:1::/48 ; nested v6\n',
      'b.ndjson': '{"cidr":"192.0.2.0/24","sblid":"SBL1"}\n{"cidr":"192.0.2.128/25"}\n{"type":"metadata"}\n',
    };
    const warnings = listOverlaps('feeds', { cidrs: ['10.9.9.9', '172.16.0.0/12'], files: ['a.txt', 'b.ndjson', 'missing.txt'] }, (path) => {
      if (!(path in files)) throw new Error('ENOENT');
      return files[path]!;
    });
    expect(warnings.map((w) => `${w.pointer} ${w.message}`)).toEqual([
      '/lists/feeds/cidrs/0 cidrs[0]: 10.9.9.9/32 is inside 10.0.0.0/8 (a.txt line 2)',
      '/lists/feeds/files/0 a.txt line 5: 10.1.2.0/24 is inside 10.0.0.0/8 (a.txt line 2)',
      '/lists/feeds/files/0 a.txt line 7: 2001:db8:1::/48 is inside 2001:db8::/32 (a.txt line 3)',
      '/lists/feeds/files/1 b.ndjson line 2: 192.0.2.128/25 is inside 192.0.2.0/24 (b.ndjson line 1)',
    ]);
  });

  it('caps the overlaps it lists and counts the rest', () => {
    const text = ['10.0.0.0/8', ...Array.from({ length: 120 }, (_, i) => `10.0.${i}.0/24`)].join('\n');
    const warnings = listOverlaps('big', { files: ['big.txt'] }, () => text);
    expect(warnings).toHaveLength(51);
    expect(warnings.at(-1)!.message).toBe('70 more entries of list "big" overlap others (not listed)');
  });

  it('warns about a trusted proxy range holding a whole address family: every client then picks its address', () => {
    const all = ['0.0.0.0/0', '::/0', '::ffff:0:0/96'];
    // Why it is worth a warning: behind a real proxy, the client's own leftmost entry wins.
    const resolve = createClientIpResolver({ trustedProxies: all });
    expect(resolve({ request: { remoteAddress: '198.51.100.1', headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.9' } } })?.address).toBe('6.6.6.6');
    expect(trustedProxyWarnings([...all, 'loopback', '10.0.0.0/8', '0.0.0.0/1']).map((w) => w.pointer)).toEqual(['/network/trustedProxies/0', '/network/trustedProxies/1', '/network/trustedProxies/2']);
    expect(trustedProxyWarnings(['::/0'])[0]!.message).toMatch(/every IPv6 address .* choose its own address/);
    expect(policyWarnings({ name: 'x', network: { trustedProxies: ['10.0.0.1', '0.0.0.0/0'] } }).map((w) => w.pointer)).toEqual(['/network/trustedProxies/1']);
  });

  it('warns about a trusted proxy CIDR with host bits: one proxy meant, a whole range trusted', () => {
    expect(trustedProxyWarnings(['192.168.1.10/24', '192.168.1.0/24', '192.168.1.10', '2001:db8::1/64', '::ffff:10.0.0.1/120'])).toEqual([
      { pointer: '/network/trustedProxies/0', message: '"192.168.1.10/24" has host bits set; it trusts all of 192.168.1.0/24 (write the address alone to trust one proxy)' },
      { pointer: '/network/trustedProxies/3', message: '"2001:db8::1/64" has host bits set; it trusts all of 2001:db8::/64 (write the address alone to trust one proxy)' },
      { pointer: '/network/trustedProxies/4', message: '"::ffff:10.0.0.1/120" has host bits set; it trusts all of 10.0.0.0/24 (write the address alone to trust one proxy)' },
    ]);
  });

  it('gives nothing for a clean policy', () => {
    expect(policyWarnings({ name: 'clean', network: { trustedProxies: ['loopback', '10.0.0.0/8'] }, lists: { l: { cidrs: ['10.0.0.0/8', '11.0.0.0/8'] } }, limits: [limit({ id: 'a' }), limit({ id: 'b', window: '1h', max: 100 })], scoring: { challenge: 1, block: 2 } })).toEqual([]);
  });
});

describe('JSON pointer locator', () => {
  const text = '{\n  "a": [1, {"b~c": {"d/e": "x"}}],\n  "k": "v",\n  "k": "last",\n  "deep": [[[["z"]]]]\n}';
  const locator = createLocator(text);

  it('finds values by pointer, with RFC 6901 escapes and the last of duplicate keys', () => {
    expect(locator.locate('')).toEqual({ line: 1, column: 1 });
    expect(locator.locate('/a/0')).toEqual({ line: 2, column: 9 });
    expect(locator.locate('/a/1/b~0c/d~1e')).toEqual({ line: 2, column: 28 });
    expect(locator.locate('/k')).toEqual({ line: 4, column: 8 });
    expect(locator.locate('/deep/0/0/0/0')).toEqual({ line: 5, column: 15 });
  });

  it('falls back to the closest existing parent of a missing member', () => {
    expect(locator.locate('/a/1/missing/x')).toEqual(locator.locate('/a/1'));
    expect(locator.locate('/nope')).toEqual({ line: 1, column: 1 });
  });

  it('stays bounded on absurd nesting', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(createLocator(deep).locate('/0/0/0')).toEqual({ line: 1, column: 4 });
  });
  it('warns about a content pattern id or a rule name used twice', () => {
    const rule = (name: string) => ({ name, conditions: { all: [{ fact: 'action', operator: 'equal', value: 'x' }] }, event: { type: 'block' } });
    const warnings = policyWarnings({
      name: 'p',
      content: { patterns: [{ id: 'phone', regex: 'a', score: 1 }, { id: 'link', regex: 'b', score: 1 }, { id: 'phone', regex: 'c', score: 2 }] },
      rules: [rule('r'), rule('other'), rule('r')],
    } as PolicyDocument);
    expect(warnings.map((w) => [w.pointer, w.message])).toEqual([
      ['/content/patterns/2/id', 'content pattern id "phone" is also /content/patterns/0\'s: decisions, the log and reports cannot tell the two apart'],
      ['/rules/2/name', 'rule name "r" is also /rules/0\'s: decisions, the log and reports cannot tell the two apart'],
    ]);
  });
});
