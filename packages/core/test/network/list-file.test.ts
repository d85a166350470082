import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadListFile, MAX_PROBLEMS, parseListText } from '../../src/network/list-file.js';

describe('parseListText: one IP or CIDR per line', () => {
  it('reads addresses and CIDRs with # and ; comments, whole-line and trailing', () => {
    const text = [
      '# FireHOL header',
      '#',
      '; another comment',
      '1.2.3.0/24 ; SBL123',
      '5.6.7.8 # trailing',
      '2001:db8::/32',
      '  9.9.9.9  ',
      '\t10.0.0.0/8\t;\tSBL9',
      '',
      '   ',
      '#1.1.1.1',
      '::ffff:192.0.2.0/120',
    ].join('\n');
    expect(parseListText(text)).toEqual({ entries: ['1.2.3.0/24', '5.6.7.8/32', '2001:db8::/32', '9.9.9.9/32', '10.0.0.0/8', '192.0.2.0/24'], problems: [] });
  });

  it('reads CRLF, lone CR and a BOM, and counts lines the same way', () => {
    expect(parseListText('\ufeff1.1.1.1\r\nbad\r\n2.2.2.2\r\n')).toEqual({ entries: ['1.1.1.1/32', '2.2.2.2/32'], problems: [{ line: 2, message: expect.any(String) }] });
    expect(parseListText('1.1.1.1\rbad\r2.2.2.2')).toEqual({ entries: ['1.1.1.1/32', '2.2.2.2/32'], problems: [{ line: 2, message: expect.any(String) }] });
    expect(parseListText('1.1.1.1\n\r\nbad')).toEqual({ entries: ['1.1.1.1/32'], problems: [{ line: 3, message: expect.any(String) }] });
  });

  it('writes canonical CIDRs: host bits cleared, IPv6 compressed', () => {
    expect(parseListText('10.1.2.3/8\n2001:DB8:0:0::1/32\n').entries).toEqual(['10.0.0.0/8', '2001:db8::/32']);
  });

  it('reports bad lines by number, keeps the rest, and never throws', () => {
    const result = parseListText('1.1.1.1\nnot an ip\n300.1.1.1/8\n2.2.2.0/24\n010.1.1.1\n1.2.3.4 5.6.7.8\n1.2.3.4-1.2.3.9\n');
    expect(result.entries).toEqual(['1.1.1.1/32', '2.2.2.0/24']);
    expect(result.problems).toEqual([
      { line: 2, message: '"not an ip" is not an IP address or CIDR' },
      { line: 3, message: '"300.1.1.1/8" is not an IP address or CIDR' },
      { line: 5, message: '"010.1.1.1" is not an IP address or CIDR' },
      { line: 6, message: '"1.2.3.4 5.6.7.8" is not an IP address or CIDR' },
      { line: 7, message: '"1.2.3.4-1.2.3.9" is not an IP address or CIDR' },
    ]);
    expect(parseListText('')).toEqual({ entries: [], problems: [] });
    expect(parseListText(`${'x'.repeat(100_000)}\n`).problems[0]!.message.length).toBeLessThan(100);
  });

  it(`lists at most ${MAX_PROBLEMS} problems, then counts the rest in one`, () => {
    const lines = Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? `bad${i}` : `10.0.${i >> 8}.${i & 255}`));
    const result = parseListText(lines.join('\n'));
    expect(result.entries).toHaveLength(500);
    expect(result.problems).toHaveLength(MAX_PROBLEMS + 1);
    expect(result.problems[MAX_PROBLEMS]).toEqual({ line: 999, message: `${500 - MAX_PROBLEMS} more invalid lines not listed` });
  });
});

describe('parseListText: Spamhaus DROP NDJSON', () => {
  it('reads cidr records and skips the metadata line', () => {
    const text = [
      '{"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}',
      '{"cidr":"2001:db8:bad::/48","sblid":"SBL1","rir":"ripencc"}',
      '',
      '{"type":"metadata","timestamp":1700000000,"size":2,"records":2,"copyright":"(c) 2024 The Spamhaus Project SLU","terms":"https://www.spamhaus.org/drop/terms/"}',
    ].join('\n');
    expect(parseListText(text)).toEqual({ entries: ['1.10.16.0/20', '2001:db8:bad::/48'], problems: [] });
  });

  it('is detected by the first visible character, after blank lines and a BOM', () => {
    expect(parseListText('\ufeff\n\n  {"cidr":"1.10.16.0/20"}\r\n{"cidr":"5.6.7.0/24"}\r\n').entries).toEqual(['1.10.16.0/20', '5.6.7.0/24']);
  });

  it('reports bad records with their line numbers', () => {
    const text = '{"cidr":"1.10.16.0/20"}\n{"cidr":"nope"}\n{broken\n[1,2]\n"1.2.3.4"\n{"sblid":"SBL2"}\n{"cidr":42}\n{"type":"metadata","cidr":"x"}\n{"cidr":"5.6.7.0/24"}\n';
    const result = parseListText(text);
    expect(result.entries).toEqual(['1.10.16.0/20', '5.6.7.0/24']);
    expect(result.problems).toEqual([
      { line: 2, message: '"nope" is not an IP address or CIDR' },
      { line: 3, message: 'not a JSON line' },
      { line: 4, message: 'not a JSON object' },
      { line: 5, message: 'not a JSON object' },
      { line: 6, message: 'has no "cidr"' },
      { line: 7, message: '"cidr" is 42, not a string' },
      { line: 8, message: '"x" is not an IP address or CIDR' },
    ]);
  });

  it('reads an inherited cidr as missing (no prototype games)', () => {
    expect(parseListText('{"__proto__":{"cidr":"1.2.3.4"}}\n').problems).toEqual([{ line: 1, message: 'has no "cidr"' }]);
  });
});

describe('loadListFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'actiongate-list-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads and parses a file', async () => {
    const path = join(dir, 'drop.txt');
    writeFileSync(path, '; Spamhaus DROP List\n1.10.16.0/20 ; SBL256894\nbad\n');
    expect(await loadListFile(path)).toEqual({ entries: ['1.10.16.0/20'], problems: [{ line: 3, message: '"bad" is not an IP address or CIDR' }] });
  });

  it('returns an error for an unreadable file instead of throwing', async () => {
    const missing = await loadListFile(join(dir, 'missing.txt'));
    expect(missing).toEqual({ entries: [], problems: [], error: expect.stringMatching(/^cannot read .*missing\.txt: .*ENOENT/) });
    expect((await loadListFile(dir)).error).toMatch(/cannot read/);
  });
});
