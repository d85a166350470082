import { describe, expect, it } from 'vitest';
import type { PolicyProblem } from '../../src/errors.js';
import { parseIp } from '../../src/network/ip.js';
import { compileLists } from '../../src/network/lists.js';

describe('compileLists', () => {
  const files: Record<string, string> = { 'drop.txt': '1.10.16.0/20 ; SBL1\nbad line\n2001:db8:bad::/48\n' };
  const io = { readFile: (path: string) => files[path] ?? (() => { throw new Error('ENOENT'); })() };

  it('answers every list at once, in policy order, and the same array for the same lists', () => {
    const problems: PolicyProblem[] = [];
    const warnings: PolicyProblem[] = [];
    const lists = compileLists(
      { spam: { cidrs: ['203.0.113.0/24'], files: ['drop.txt'], verdict: 'block' }, staff: { cidrs: ['203.0.113.10', '::ffff:198.51.100.0/120'], verdict: 'allow' } },
      io,
      problems,
      warnings,
    );
    expect(problems).toEqual([]);
    expect(lists.ids).toEqual(['spam', 'staff']);
    expect(lists.match(parseIp('203.0.113.10')!).map((m) => m.id)).toEqual(['spam', 'staff']);
    expect(lists.match(parseIp('::ffff:203.0.113.10')!)).toBe(lists.match(parseIp('203.0.113.10')!));
    expect(lists.match(parseIp('1.10.20.1')!).map((m) => m.id)).toEqual(['spam']);
    expect(lists.match(parseIp('2001:db8:bad:1::1')!).map((m) => m.id)).toEqual(['spam']);
    expect(lists.match(parseIp('198.51.100.9')!).map((m) => m.id)).toEqual(['staff']);
    expect(lists.match(parseIp('192.0.2.1')!)).toEqual([]);
    expect(warnings).toEqual([{ pointer: '/lists/spam/files/0', message: 'drop.txt line 2: "bad line" is not an IP address or CIDR (line skipped)' }]);
  });

  it('fails on a bad inline CIDR and warns about host bits', () => {
    const problems: PolicyProblem[] = [];
    const warnings: PolicyProblem[] = [];
    const lists = compileLists({ a: { cidrs: ['10.1.2.3/8', 'nope', '2001:db8::1/32'] } }, io, problems, warnings);
    expect(problems).toEqual([{ pointer: '/lists/a/cidrs/1', message: '"nope" is not an IP address or CIDR' }]);
    expect(warnings.map((w) => [w.pointer, w.message])).toEqual([
      ['/lists/a/cidrs/0', '"10.1.2.3/8" has host bits set; it is read as 10.0.0.0/8'],
      ['/lists/a/cidrs/2', '"2001:db8::1/32" has host bits set; it is read as 2001:db8::/32'],
    ]);
    expect(lists.match(parseIp('10.200.0.1')!).map((m) => m.id)).toEqual(['a']);
  });
});
