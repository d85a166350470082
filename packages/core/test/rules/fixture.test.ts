import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RulePolicy } from '../../src/policy/types.js';
import { compileRules, type FiredEvent } from '../../src/rules/compile.js';
import { createReferenceInterpreter } from '../../src/rules/reference.js';

/** 15 rules of a classifieds site, over the facts the engine builds (engine/facts.ts). */
const rules: RulePolicy[] = JSON.parse(readFileSync(new URL('./fixtures/classifieds-rules.json', import.meta.url), 'utf8'));
const compiled = compileRules(rules);
const reference = createReferenceInterpreter(rules);
const names = (events: readonly FiredEvent[]) => events.map((event) => event.rule);

const spammy = {
  action: 'ad.submit',
  ip: { address: '203.0.113.7', version: 4, subnet: '203.0.113.7', lists: ['known-spam'], banned: false },
  actor: { id: 'u1', status: 'anonymous', createdAt: 1_700_000_000_000, ageMs: 3_600_000 },
  content: { score: 40, terms: ['casino'], patterns: [], links: 3, domains: ['bit.ly', 'example.com'], length: 500, duplicates: 6 },
  limits: { 'actor-daily': { count: 9, max: 10, remaining: 1, exceeded: false } },
  history: { violations: 2, bans: 0, banned: false, challengesPassed: 1 },
  score: 40,
  attributes: { tor: true, userAgent: 'curl', countryRisk: 0.9, emailDisposable: true },
};
const clean = {
  action: 'ad.submit',
  ip: { address: '198.51.100.4', version: 4, subnet: '198.51.100.4', lists: [], banned: false },
  actor: { id: 'u2', status: 'verified', createdAt: 1_600_000_000_000, ageMs: 90 * 86_400_000 },
  content: { score: 0, terms: [], patterns: [], links: 0, domains: [], length: 200, duplicates: 0 },
  limits: { 'actor-daily': { count: 1, max: 200, remaining: 199, exceeded: false } },
  history: { violations: 0, bans: 0, banned: false, challengesPassed: 0 },
  score: 0,
  attributes: { userAgent: 'Mozilla/5.0', countryRisk: 0.1 },
};
const bare = {
  action: 'comment',
  ip: null,
  actor: null,
  content: { score: 0, terms: [], patterns: [], links: 1, domains: [], length: 10, duplicates: 0 },
  limits: {},
  history: { violations: 0, bans: 0, banned: false, challengesPassed: 0 },
  score: 0,
  attributes: {},
};

describe('the classifieds rule set', () => {
  it('checks out and compiles entirely, with warnings only for its deliberate traps', () => {
    expect(rules).toHaveLength(15);
    expect(compiled.problems).toEqual([]);
    expect(compiled.compiled).toBe(true);
    expect(compiled.warnings.map((w) => `${w.rule} ${w.pointer}`)).toEqual(['disposable-contact /rules/10/conditions/all/1/operator']);
  });

  it.each([
    // Within a priority, json-rules-engine reports rules as their promise chains settle: a lone
    // path condition before two, a `not` or a nested group later still.
    ['spammy', spammy, ['campaign-duplicate', 'listed-and-risky', 'anonymous-near-daily-cap', 'repeat-offender', 'tor-exit', 'scripted-client', 'link-shortener', 'new-account-with-links', 'disposable-contact', 'duplicates-beyond-challenges', 'high-risk-network-unverified', 'anonymous-with-links']],
    ['clean', clean, ['verified-trusted']],
    ['bare', bare, ['monitor-short-body', 'anonymous-with-links']],
  ])('fires the expected events on %s facts, compiled and on json-rules-engine', async (_, facts, expected) => {
    expect(names(compiled.evaluate(facts) as FiredEvent[])).toEqual(expected);
    expect(names(await reference.run(facts))).toEqual(expected);
  });

  it('fires identical events on random realistic facts', async () => {
    const status = fc.constantFrom('anonymous', 'registered', 'verified', 'banned-once');
    const facts = fc.record({
      action: fc.constantFrom('ad.submit', 'comment', 'signup'),
      ip: fc.option(fc.record({ address: fc.ipV4(), version: fc.constant(4), subnet: fc.ipV4(), lists: fc.subarray(['known-spam', 'staff']), banned: fc.boolean() }), { nil: null }),
      actor: fc.option(fc.record({ id: fc.string({ maxLength: 4 }), status, createdAt: fc.option(fc.nat(), { nil: undefined }), ageMs: fc.option(fc.integer({ min: 0, max: 3 * 86_400_000 }), { nil: undefined }) }, { requiredKeys: ['id', 'status'] }), { nil: null }),
      content: fc.record({ score: fc.nat(80), terms: fc.subarray(['casino', 'viagra']), patterns: fc.constant([]), links: fc.nat(5), domains: fc.subarray(['bit.ly', 't.co', 'example.com']), length: fc.nat(600), duplicates: fc.nat(8) }),
      limits: fc.record({ 'actor-daily': fc.record({ count: fc.nat(10), max: fc.constant(10), remaining: fc.nat(10), exceeded: fc.boolean() }), 'ip-minute': fc.record({ count: fc.nat(5), max: fc.constant(5), remaining: fc.nat(5), exceeded: fc.boolean() }) }, { requiredKeys: [] }),
      history: fc.record({ violations: fc.nat(4), bans: fc.nat(2), banned: fc.boolean(), challengesPassed: fc.nat(3) }),
      score: fc.nat(120),
      attributes: fc.record({ tor: fc.boolean(), userAgent: fc.constantFrom('', null, 'curl', 'Wget', 'Mozilla/5.0', 'cur'), countryRisk: fc.double({ min: 0, max: 1, noNaN: true }), emailDisposable: fc.boolean() }, { requiredKeys: [] }),
    });
    let fired = 0;
    await fc.assert(
      fc.asyncProperty(facts, async (f) => {
        const expected = names(await reference.run(f));
        expect(names(compiled.evaluate(f) as FiredEvent[])).toEqual(expected);
        fired += expected.length;
      }),
      { seed: 5, numRuns: 1500 },
    );
    expect(fired).toBeGreaterThan(3000);
  });
});
