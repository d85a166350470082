import { describe, expect, it } from 'vitest';
import { ActionError } from '../../src/errors.js';
import { createClientIpResolver, trustedProxyProblems } from '../../src/network/client-ip.js';

const resolve = createClientIpResolver({ trustedProxies: ['10.0.0.0/8', 'loopback'] });
const via = (remoteAddress: string, headers: Record<string, string | string[]>) => resolve({ request: { remoteAddress, headers } })?.address;

describe('client IP resolution', () => {
  it('uses the peer when it is not a trusted proxy, whatever the headers say', () => {
    expect(via('198.51.100.7', { 'x-forwarded-for': '1.1.1.1' })).toBe('198.51.100.7');
    expect(via('::ffff:198.51.100.7', { 'x-forwarded-for': '1.1.1.1' })).toBe('198.51.100.7');
  });

  it('walks X-Forwarded-For from the right past trusted proxies only', () => {
    expect(via('10.0.0.1', { 'x-forwarded-for': '203.0.113.5' })).toBe('203.0.113.5');
    expect(via('10.0.0.1', { 'x-forwarded-for': 'spoofed, 6.6.6.6, 203.0.113.5, 10.9.9.9' })).toBe('203.0.113.5');
    expect(via('127.0.0.1', { 'x-forwarded-for': ['6.6.6.6, 203.0.113.5', '10.1.1.1'] })).toBe('203.0.113.5');
    expect(via('10.0.0.1', { 'X-Forwarded-For': '203.0.113.5' })).toBe('203.0.113.5');
  });

  it('takes the leftmost hop when every hop is trusted, and the peer without a header', () => {
    expect(via('10.0.0.1', { 'x-forwarded-for': '10.3.3.3, 10.2.2.2' })).toBe('10.3.3.3');
    expect(via('10.0.0.1', {})).toBe('10.0.0.1');
  });

  it('stops at a malformed hop: nothing to its left is believed', () => {
    expect(via('10.0.0.1', { 'x-forwarded-for': '6.6.6.6, garbage, 10.2.2.2' })).toBe('10.2.2.2');
    expect(via('10.0.0.1', { 'x-forwarded-for': '6.6.6.6, , 203.0.113.9' })).toBe('203.0.113.9');
    expect(via('10.0.0.1', { 'x-forwarded-for': 'unknown' })).toBe('10.0.0.1');
  });

  it('accepts hops with ports and brackets', () => {
    expect(via('10.0.0.1', { 'x-forwarded-for': '203.0.113.5:4711' })).toBe('203.0.113.5');
    expect(via('10.0.0.1', { 'x-forwarded-for': '[2001:db8::1]:4711' })).toBe('2001:db8::1');
    expect(via('10.0.0.1', { 'x-forwarded-for': '2001:db8::1' })).toBe('2001:db8::1');
  });

  it('bounds the work on a huge header to its right end', () => {
    const header = `${'6.6.6.6, '.repeat(200_000)}203.0.113.5`;
    expect(via('10.0.0.1', { 'x-forwarded-for': header })).toBe('203.0.113.5');
    const allTrusted = `${'10.1.1.1, '.repeat(100)}10.2.2.2`;
    // More hops than are walked: the walk ends on a trusted hop, never further left.
    expect(via('10.0.0.1', { 'x-forwarded-for': allTrusted })).toMatch(/^10\./);
  });

  it('reads RFC 7239 Forwarded when configured', () => {
    const fwd = createClientIpResolver({ trustedProxies: ['10.0.0.0/8'], header: 'forwarded' });
    const at = (value: string) => fwd({ request: { remoteAddress: '10.0.0.1', headers: { forwarded: value } } })?.address;
    expect(at('for=6.6.6.6, for=203.0.113.60;proto=http;by=10.0.0.1')).toBe('203.0.113.60');
    expect(at('For="[2001:db8:cafe::17]:4711"')).toBe('2001:db8:cafe::17');
    expect(at('for=6.6.6.6, for=_hidden')).toBe('10.0.0.1');
    expect(at('for=unknown')).toBe('10.0.0.1');
  });

  it('reads X-Real-IP when configured', () => {
    const real = createClientIpResolver({ trustedProxies: ['10.0.0.0/8'], header: 'x-real-ip' });
    expect(real({ request: { remoteAddress: '10.0.0.1', headers: { 'x-real-ip': '203.0.113.8' } } })!.address).toBe('203.0.113.8');
    expect(real({ request: { remoteAddress: '198.51.100.1', headers: { 'x-real-ip': '203.0.113.8' } } })!.address).toBe('198.51.100.1');
  });

  it('ignores inherited and __proto__ headers', () => {
    const headers = JSON.parse('{"__proto__": {"x-forwarded-for": "6.6.6.6"}}');
    expect(via('10.0.0.1', headers)).toBe('10.0.0.1');
    expect(via('10.0.0.1', Object.create({ 'x-forwarded-for': '6.6.6.6' }))).toBe('10.0.0.1');
  });

  it('throws ActionError for malformed addresses and returns null without any', () => {
    expect(() => resolve({ ip: 'nope' })).toThrow(ActionError);
    expect(() => resolve({ request: { remoteAddress: 42 } })).toThrow(/request.remoteAddress/);
    expect(resolve({})).toBeNull();
    expect(resolve({ request: {} })).toBeNull();
  });

  it('validates trusted proxy entries', () => {
    expect(trustedProxyProblems(['loopback', '10.0.0.0/8', 'bogus', '1.2.3.4/40']).map((p) => p.pointer)).toEqual(['/network/trustedProxies/2', '/network/trustedProxies/3']);
  });
});
