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

  it('reports duplicate ids and bad windows', () => {
    const bad: PolicyProblem[] = [];
    compileLimits([{ id: 'a', by: 'ip', window: 'soon', max: 1 }, { id: 'a', by: 'ip', window: '1m', max: 1 }], bad);
    expect(bad.map((p) => p.pointer)).toEqual(['/limits/0/window', '/limits/1/id']);
  });
});
