import { describe, expect, it } from 'vitest';
import { loadListFile, parseListText } from '../../src/network/list-file.js';

describe('parseListText', () => {
  it('reads one IP or CIDR per line with # and ; comments, CRLF and blanks', () => {
    const text = '# FireHOL header\r\n; another comment\r\n1.2.3.0/24 ; SBL123\r\n\r\n5.6.7.8 # trailing\r\n2001:db8::/32\r\n  9.9.9.9  \r\n';
    expect(parseListText(text)).toEqual({ entries: ['1.2.3.0/24', '5.6.7.8/32', '2001:db8::/32', '9.9.9.9/32'], problems: [] });
  });

  it('reports bad lines by number and keeps the rest', () => {
    const result = parseListText('1.1.1.1\nnot an ip\n300.1.1.1/8\n2.2.2.0/24\n');
    expect(result.entries).toEqual(['1.1.1.1/32', '2.2.2.0/24']);
    expect(result.problems.map((p) => p.line)).toEqual([2, 3]);
  });

  it('reads Spamhaus DROP NDJSON with its metadata line', () => {
    const text = '{"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}\n{"cidr":"2001:db8:bad::/48","sblid":"SBL1"}\n{"type":"metadata","timestamp":1700000000,"size":2}\n{"cidr":"nope"}\n{broken\n';
    const result = parseListText(text);
    expect(result.entries).toEqual(['1.10.16.0/20', '2001:db8:bad::/48']);
    expect(result.problems.map((p) => p.line)).toEqual([4, 5]);
  });

  it('returns an error for an unreadable file instead of throwing', async () => {
    const result = await loadListFile('/nonexistent/list.txt');
    expect(result.error).toMatch(/cannot read/);
    expect(result.entries).toEqual([]);
  });
});
