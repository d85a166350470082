import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createGuard, loadPolicy } from '../../src/index.js';

const rules = (name: string) => fileURLToPath(new URL(`../../../../rules/${name}`, import.meta.url));

describe('reference policies', () => {
  it.each(['classifieds.json', 'signup.json', 'api.json'])('%s compiles without warnings', async (name) => {
    const policy = await loadPolicy(rules(name));
    expect(policy.warnings.filter((w) => !/notEqual|substrings/.test(w.message))).toEqual([]);
  });

  it('classifieds: the ad rules judge ads only, not page views or sign-ups', async () => {
    const guard = createGuard({ policy: await loadPolicy(rules('classifieds.json')) });
    const browsing = [
      { action: 'page.view', ip: '198.18.1.1', attributes: { userAgent: 'Mozilla/5.0' } },
      { action: 'page.view', ip: '198.18.1.2', actor: { id: 'v-1', status: 'verified' }, attributes: { userAgent: 'Mozilla/5.0' } },
      { action: 'signup', ip: '198.18.1.3', attributes: { userAgent: 'Mozilla/5.0' } },
    ];
    for (const action of browsing) {
      const decision = await guard.evaluate(action);
      expect(decision, action.action).toMatchObject({ verdict: 'allow', reasons: [] });
      expect(decision).not.toHaveProperty('wouldBe');
    }
    // The monitored short-ad rule still watches ads.
    const ad = await guard.evaluate({ action: 'ad.submit', ip: '198.18.1.4', actor: { id: 'a-1', status: 'registered' }, content: { title: 'Bike', body: 'cheap' }, attributes: { userAgent: 'Mozilla/5.0' } });
    expect(ad.wouldBe).toBe('challenge');
    expect(ad.reasons.map((r) => r.id)).toContain('monitor-short-body');
    await guard.close();
  });

  it('signup: a device past its daily sign-ups is challenged, a fast bot form too', async () => {
    let t = Date.UTC(2026, 0, 1);
    const guard = createGuard({ policy: await loadPolicy(rules('signup.json')), now: () => (t += 60_000) });
    const signup = (i: number, extra: Record<string, unknown> = {}) =>
      guard.evaluate({ action: 'signup', ip: `198.18.0.${i}`, content: { email: `user${i}@example.org`, name: `User ${i}` }, attributes: { deviceId: 'dev-1', userAgent: 'Mozilla/5.0', formMs: 9000, ...extra } });
    const verdicts = [];
    for (let i = 0; i < 4; i++) verdicts.push((await signup(i)).verdict);
    expect(verdicts).toEqual(['allow', 'allow', 'allow', 'challenge']);
    expect((await signup(10, { deviceId: 'dev-2', formMs: 300 })).verdict).toBe('challenge');
  });

  it('api: an export costs ten units of the hourly budget', async () => {
    let t = Date.UTC(2026, 0, 1);
    const guard = createGuard({ policy: await loadPolicy(rules('api.json')), now: () => (t += 2_000) });
    const exports = [];
    for (let i = 0; i < 3; i++) exports.push((await guard.evaluate({ action: 'api.export', ip: '192.0.2.1', actor: { id: 'key-1', status: 'registered' } })).verdict);
    expect(exports).toEqual(['allow', 'allow', 'throttle']);
  });
});
