import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compose, severity } from '../../src/index.js';
import type { Reason, Verdict } from '../../src/index.js';

const SEED = 20261123;
const verdict = fc.constantFrom<Verdict>('allow', 'challenge', 'throttle', 'block');
const reason: fc.Arbitrary<Reason> = fc.record({
  source: fc.constantFrom('list', 'limit', 'content', 'rule', 'ban', 'score'),
  id: fc.string({ maxLength: 8 }),
  message: fc.constant('m'),
  verdict,
  monitor: fc.boolean(),
}) as fc.Arbitrary<Reason>;

describe('verdict composition (property)', () => {
  it('is monotone: adding a reason never lowers the verdict nor wouldBe; an enforced one at least reaches its own', () => {
    fc.assert(
      fc.property(fc.array(reason, { maxLength: 12 }), reason, (reasons, extra) => {
        const before = compose(reasons);
        const after = compose([...reasons, extra]);
        expect(severity(after.verdict)).toBeGreaterThanOrEqual(severity(before.verdict));
        expect(severity(after.wouldBe)).toBeGreaterThanOrEqual(severity(before.wouldBe));
        if (!extra.monitor) expect(severity(after.verdict)).toBeGreaterThanOrEqual(severity(extra.verdict));
        // Monitored reasons move only wouldBe.
        if (extra.monitor) expect(after.verdict).toBe(before.verdict);
        expect(severity(after.wouldBe)).toBeGreaterThanOrEqual(severity(after.verdict));
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it('does not depend on the order of reasons', () => {
    fc.assert(
      fc.property(fc.array(reason, { maxLength: 12 }).chain((r) => fc.tuple(fc.constant(r), fc.shuffledSubarray(r, { minLength: r.length, maxLength: r.length }))), ([reasons, shuffled]) => {
        expect(compose(shuffled)).toEqual(compose(reasons));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});
