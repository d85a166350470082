/**
 * loadPolicy proves a policy's content patterns with recheck's asynchronous `check` before it
 * compiles, so the compile's synchronous check (which blocks the event loop for as long as a proof
 * takes, a second or two at worst) finds every verdict remembered: a hot reload that adds a
 * pattern must not stall the requests the process is serving. recheck is replaced here so that
 * which of the two ran is certain.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const vulnerable = { status: 'vulnerable', complexity: { type: 'exponential' }, attack: { pattern: "'a'.repeat(31)" } };
vi.mock('recheck', () => ({
  check: vi.fn(async (source: string) => (source.includes('(a+)+') ? vulnerable : { status: 'safe' })),
  checkSync: vi.fn(() => {
    throw new Error('checkSync must not run for a pattern loadPolicy has proven');
  }),
}));
const { loadPolicy } = await import('../../src/policy/load.js');
const { PolicyError } = await import('../../src/errors.js');
const { check, checkSync } = await import('recheck');

const policyFile = (patterns: unknown[]) => {
  const file = join(mkdtempSync(join(tmpdir(), 'ag-redos-')), 'policy.json');
  writeFileSync(file, JSON.stringify({ name: 'p', content: { patterns } }));
  return file;
};

describe('loadPolicy and the ReDoS proofs', () => {
  it('proves every pattern asynchronously, flags as compiled, and the compile checks none again', async () => {
    const policy = await loadPolicy(policyFile([
      { id: 'phone', field: 'title', regex: '\\d{3}[ -]?\\d{4}', score: 5 },
      { id: 'shout', regex: 'FREE+', flags: 'is', score: 5 },
    ]));
    expect(policy.content.evaluate({ title: 'call 555 1234' }).patterns).toContain('phone');
    expect(vi.mocked(check).mock.calls.map((call) => call.slice(0, 2))).toEqual([['\\d{3}[ -]?\\d{4}', ''], ['FREE+', 'is']]);
    expect(checkSync).not.toHaveBeenCalled();
  });

  it('refuses an unsafe pattern from the asynchronous verdict, naming it, and leaves invalid ones to the compile', async () => {
    vi.mocked(check).mockClear();
    const error = await loadPolicy(policyFile([
      { id: 'nested', regex: '^(a+)+$', score: 5 },
      { id: 'broken', regex: '(unclosed', score: 5 },
    ])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as InstanceType<typeof PolicyError>).problems).toEqual([
      expect.objectContaining({ pointer: '/content/patterns/0/regex', message: expect.stringMatching(/^pattern "nested" can backtrack catastrophically \(exponential\)/) }),
      expect.objectContaining({ pointer: '/content/patterns/1/regex', message: expect.stringMatching(/^not a valid regular expression/) }),
    ]);
    expect(check).toHaveBeenCalledTimes(1);
    expect(checkSync).not.toHaveBeenCalled();
  });
});
