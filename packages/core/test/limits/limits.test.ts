import { describe, expect, it } from 'vitest';
import type { PolicyProblem } from '../../src/errors.js';
import { compileCapacity, compileLimits, planLimits } from '../../src/limits/limits.js';

describe('compileCapacity', () => {
  it('tiers by status; an unknown status gets default, else the strictest tier', () => {
    const tiers = compileCapacity({ anonymous: 3, registered: 5, verified: 10 });
    expect([tiers('anonymous'), tiers('registered'), tiers('verified'), tiers('made-up'), tiers('__proto__')]).toEqual([3, 5, 10, 3, 3]);
    const withDefault = compileCapacity({ verified: 10, default: 4 });
    expect(withDefault('registered')).toBe(4);
    expect(compileCapacity(7)('anything')).toBe(7);
  });
});

describe('planLimits', () => {
  const problems: PolicyProblem[] = [];
  const limits = compileLimits(
    [
      { id: 'ip', by: 'ip', window: '1m', max: 10 },
      { id: 'actor', actions: ['ad.submit'], by: 'actor', window: '5m', max: { anonymous: 3, verified: 10 } },
      { id: 'ip-action', by: 'ip+action', window: '1h', max: 50, cost: 5 },
      { id: 'device', by: 'attributes.deviceId', window: '1h', max: 20 },
    ],
    problems,
  );
  const subjects = (overrides: Partial<Parameters<typeof planLimits>[1]> = {}) => ({
    action: 'ad.submit', ip: 'ip:1.2.3.4', actor: 'actor:u1', status: 'verified',
    fact: (path: readonly string[]) => (path.join('.') === 'attributes.deviceId' ? 'dev-9' : undefined), ...overrides,
  });

  it('plans one take per applicable limit with its subject, window name and tier', () => {
    const takes = planLimits(limits, subjects());
    expect(problems).toEqual([]);
    expect(takes.map((t) => [t.limit.id, t.subject, t.name, t.key, t.max])).toEqual([
      ['ip', 'ip:1.2.3.4', 'limit:ip', 'ip:1.2.3.4', 10],
      ['actor', 'actor:u1', 'limit:actor', 'actor:u1', 10],
      ['ip-action', 'ip:1.2.3.4', 'limit:ip-action|ad.submit', 'ip:1.2.3.4|ad.submit', 50],
      ['device', 'fact:attributes.deviceId=dev-9', 'limit:device', 'fact:attributes.deviceId=dev-9', 20],
    ]);
  });

  it('skips limits for other actions and limits whose subject is missing', () => {
    const takes = planLimits(limits, subjects({ action: 'comment', actor: null, ip: null, fact: () => undefined }));
    expect(takes).toEqual([]);
  });

  it('counts a fact value longer than a store key by its digest: still one count per value, but a bounded key', () => {
    const huge = (tail: string) => planLimits(limits, subjects({ ip: null, actor: null, fact: () => `${'x'.repeat(5_000_000)}${tail}` }))[0]!;
    const [a, b, again] = [huge('a'), huge('b'), huge('a')];
    for (const take of [a, b]) {
      expect(take.subject.length).toBeLessThan(100);
      expect(take.subject).toMatch(/^fact:attributes\.deviceId=#sha256:[A-Za-z0-9_-]{43}$/);
      expect(take.key).toBe(take.subject);
    }
    expect(a.subject).not.toBe(b.subject);
    expect(again.subject).toBe(a.subject);
    // Up to 512 characters the value is the key, as before.
    expect(planLimits(limits, subjects({ ip: null, actor: null, fact: () => 'd'.repeat(512) }))[0]!.subject).toBe(`fact:attributes.deviceId=${'d'.repeat(512)}`);
  });

  it('reports duplicate ids and bad windows', () => {
    const bad: PolicyProblem[] = [];
    compileLimits([{ id: 'a', by: 'ip', window: 'soon', max: 1 }, { id: 'a', by: 'ip', window: '1m', max: 1 }], bad);
    expect(bad.map((p) => p.pointer)).toEqual(['/limits/0/window', '/limits/1/id']);
  });
});
