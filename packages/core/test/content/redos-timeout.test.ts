/**
 * recheck's verdicts are remembered per pattern, but running out of time is no verdict: on a busy
 * machine a pattern that takes recheck a second or two can time out, and a remembered timeout
 * would refuse that pattern on every reload until the process restarts. recheck is replaced here
 * so that the timeout is certain.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PolicyProblem } from '../../src/errors.js';

const verdicts: unknown[] = [];
vi.mock('recheck', () => ({ checkSync: vi.fn(() => verdicts.shift()) }));
const { compileContent } = await import('../../src/content/signals.js');
const { checkSync } = await import('recheck');

afterEach(() => {
  vi.mocked(checkSync).mockClear();
  verdicts.length = 0;
});

const compile = (regex: string) => {
  const problems: PolicyProblem[] = [];
  compileContent({ patterns: [{ id: 'p', regex, score: 1 }] }, problems);
  return problems;
};

describe('the ReDoS verdict memo', () => {
  it('asks again after a timeout, and refuses meanwhile', () => {
    verdicts.push({ status: 'unknown', error: { kind: 'timeout' } }, { status: 'safe' });
    expect(compile('slow(?:to)?prove')).toEqual([{ pointer: '/content/patterns/0/regex', message: expect.stringMatching(/pattern "p" could not be proven free of catastrophic backtracking \(timeout\)/) }]);
    expect(compile('slow(?:to)?prove')).toEqual([]);
    expect(checkSync).toHaveBeenCalledTimes(2);
  });

  it('remembers a real verdict', () => {
    verdicts.push({ status: 'vulnerable', complexity: { type: 'exponential' }, attack: { pattern: "'a'.repeat(31)" } });
    expect(compile('^(a|a)+$')).toHaveLength(1);
    expect(compile('^(a|a)+$')).toHaveLength(1);
    expect(checkSync).toHaveBeenCalledTimes(1);
  });
});
