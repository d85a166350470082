import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compose, scoreVerdict, severity, worst } from '../../src/verdict/compose.js';
import type { Reason, Verdict } from '../../src/types.js';

const verdicts: Verdict[] = ['allow', 'challenge', 'throttle', 'block'];
const reason = (verdict: Verdict, monitor = false): Reason => ({ source: 'rule', id: verdict, message: verdict, verdict, ...(monitor ? { monitor } : {}) });

describe('compose', () => {
  it('orders allow < challenge < throttle < block', () => {
    expect(verdicts.map(severity)).toEqual([0, 1, 2, 3]);
    expect(worst('throttle', 'challenge')).toBe('throttle');
  });

  it('takes the most severe enforced reason; monitored ones only move wouldBe', () => {
    expect(compose([reason('challenge'), reason('throttle')]).verdict).toBe('throttle');
    expect(compose([reason('challenge'), reason('block', true)])).toEqual({ verdict: 'challenge', wouldBe: 'block' });
    expect(compose([])).toEqual({ verdict: 'allow', wouldBe: 'allow' });
  });

  it('is monotone: adding a more severe reason never lowers the verdict', () => {
    const arbReason = fc.record({ verdict: fc.constantFrom(...verdicts), monitor: fc.boolean() }).map((r) => reason(r.verdict, r.monitor));
    fc.assert(
      fc.property(fc.array(arbReason, { maxLength: 8 }), arbReason, (reasons, extra) => {
        const before = compose(reasons);
        const after = compose([...reasons, extra]);
        expect(severity(after.verdict)).toBeGreaterThanOrEqual(severity(before.verdict));
        expect(severity(after.wouldBe)).toBeGreaterThanOrEqual(severity(before.wouldBe));
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  it('applies score thresholds inclusively', () => {
    const thresholds = { challenge: 40, block: 80 };
    expect(scoreVerdict(39, thresholds)).toBe('allow');
    expect(scoreVerdict(40, thresholds)).toBe('challenge');
    expect(scoreVerdict(80, thresholds)).toBe('block');
    expect(scoreVerdict(1000, {})).toBe('allow');
  });
});
