import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateFile } from '../../src/cli/validate.js';
import { ensureBuilt, fixture, root, run } from './bin.js';

beforeAll(ensureBuilt, 200_000);

const rel = (name: string) => relative(root, fixture(name));

/** 1-based line and column of the first occurrence of `needle` in a fixture, computed independently of the CLI. */
function where(name: string, needle: string): string {
  const lines = readFileSync(fixture(name), 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes(needle));
  if (line < 0) throw new Error(`${needle} not in ${name}`);
  return `${line + 1}:${lines[line]!.indexOf(needle) + 1}`;
}

describe('actiongate validate', () => {
  it('reports every schema error with its line, column and JSON pointer, and exits 1', async () => {
    const { code, stdout } = await run(['validate', rel('bad-policy.json')]);
    expect(code).toBe(1);
    const file = rel('bad-policy.json');
    expect(stdout).toContain(`${file}:${where('bad-policy.json', '"5 minutes"')}: error: /limits/1/window: "5 minutes" is not a duration`);
    // A missing member points at the object that lacks it.
    expect(stdout).toContain(`${file}:${where('bad-policy.json', '{ "id": "nowindow"')}: error: /limits/2/window: is required`);
    expect(stdout).toContain(`${file}:${where('bad-policy.json', '"forty"')}: error: /scoring/challenge:`);
    expect(stdout).toContain(`${file}:${where('bad-policy.json', '"red"')}: error: /colour: is not a known property`);
    expect(stdout).toContain(`${file}: invalid (4 errors)`);
  });

  it('reports compile errors (unreadable list file, catastrophic regex, unknown operator) with the rule name', async () => {
    const { code, stdout } = await run(['validate', rel('bad-compile.json')]);
    expect(code).toBe(1);
    const file = rel('bad-compile.json');
    expect(stdout).toContain(`${file}:${where('bad-compile.json', '"lists/missing.txt"')}: error: /lists/feed/files/0: cannot read list file lists/missing.txt`);
    expect(stdout).toContain(`${file}:${where('bad-compile.json', '"(a+)+$"')}: error: /content/patterns/0/regex: pattern "slow" can backtrack catastrophically`);
    expect(stdout).toMatch(new RegExp(`${file.replace(/[.]/g, '\\.')}:${where('bad-compile.json', '"greaterThanish"')}: error: /rules/0/conditions/all/0/operator: unknown operator "greaterThanish".*\\[rule "typo"\\]`));
  });

  it('accepts a policy file that starts with a byte order mark, and locates its problems', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ag-validate-')), 'bom.json');
    writeFileSync(file, '\uFEFF{\n  "name": "bom",\n  "mode": "enforcing"\n}\n');
    const result = await validateFile(file);
    expect(result.findings).toEqual([expect.objectContaining({ severity: 'error', pointer: '/mode', line: 3, column: 11 })]);
  });

  it('locates a JSON syntax error by line and column', async () => {
    const { code, stdout } = await run(['validate', rel('broken.json')]);
    expect(code).toBe(1);
    // The second limit starts where a comma was expected.
    expect(stdout).toContain(`${rel('broken.json')}:${where('broken.json', '{ "id": "b"')}: error: not valid JSON`);
  });

  it('warns about valid but suspicious policies and exits 0', async () => {
    const { code, stdout } = await run(['validate', rel('warn-policy.json')]);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    const warning = (pointer: string, text: string) => lines.find((l) => l.includes(`: warning: ${pointer}: `) && l.includes(text));
    expect(warning('/limits/0', 'limit "minute" (10 per 1m) can never be exceeded first: "hour" (/limits/1)')).toBeDefined();
    expect(warning('/limits/2/max/registered', 'registered actors get 5, fewer than anonymous actors (10)')).toBeDefined();
    expect(warning('/scoring', 'challenge and block thresholds are both 50')).toBeDefined();
    expect(warning('/bans/ladder/1', 'rung 2 (24h) is not longer than rung 1 (7d)')).toBeDefined();
    expect(warning('/lists/drop/cidrs/1', 'cidrs[1]: 198.51.100.128/25 is inside 198.51.100.0/24 (cidrs[0])')).toBeDefined();
    // List-file lines by number: invalid, nested, repeated, inside an inline entry.
    expect(warning('/lists/drop/files/0', 'lists/overlap.txt line 4: "not-an-ip" is not an IP address or CIDR')).toBeDefined();
    expect(warning('/lists/drop/files/0', 'lists/overlap.txt line 3: 203.0.113.64/26 is inside 203.0.113.0/24 (lists/overlap.txt line 2)')).toBeDefined();
    expect(warning('/lists/drop/files/0', 'lists/overlap.txt line 5: 203.0.113.0/24 is listed again (first at lists/overlap.txt line 2)')).toBeDefined();
    expect(warning('/lists/drop/files/0', 'lists/overlap.txt line 6: 198.51.100.7/32 is inside 198.51.100.0/24 (cidrs[0])')).toBeDefined();
    // The json-rules-engine trap the compiler finds, with the rule's name.
    expect(warning('/rules/0/conditions/all/0/value', '"in" with a string value matches substrings')).toMatch(/\[rule "in-string"\]$/);
    expect(lines.at(-1)).toBe(`${rel('warn-policy.json')}: warn@0 is valid with 10 warnings (1 list of 6 entries, 3 limits, 1 rule)`);
  });

  it('checks several files, reports each, and exits 1 when any is invalid; --format json', async () => {
    const text = await run(['validate', rel('policy.json'), rel('bad-policy.json'), 'rules/classifieds.json']);
    expect(text.code).toBe(1);
    // Its one warning: a 1h rung as long as bans.within (the earning strike counts a slot longer).
    expect(text.stdout).toContain(`${rel('policy.json')}: fixture@1 is valid with 1 warning (2 lists of 2 entries, 2 limits, 2 rules)`);
    expect(text.stdout).toContain(`${rel('bad-policy.json')}: invalid`);
    expect(text.stdout).toMatch(/rules\/classifieds\.json: classifieds@\S+ is valid/);

    const json = await run(['validate', '--format', 'json', rel('policy.json'), rel('bad-policy.json')]);
    expect(json.code).toBe(1);
    const result = JSON.parse(json.stdout);
    expect(result.valid).toBe(false);
    expect(result.files.map((f: { valid: boolean }) => f.valid)).toEqual([true, false]);
    const window = result.files[1].findings.find((f: { pointer: string }) => f.pointer === '/limits/1/window');
    expect(`${window.line}:${window.column}`).toBe(where('bad-policy.json', '"5 minutes"'));
    expect(window.severity).toBe('error');
  });

  it('exits 0 on the reference policies', async () => {
    const { code, stdout } = await run(['validate', 'rules/classifieds.json', 'rules/signup.json', 'rules/api.json']);
    expect(code).toBe(0);
    expect(stdout.match(/ is valid/g)).toHaveLength(3);
  });

  it('reports a missing policy file as an error of that file', async () => {
    const { code, stdout } = await run(['validate', 'no/such/policy.json']);
    expect(code).toBe(1);
    expect(stdout).toContain('no/such/policy.json:1:1: error: cannot read the policy file: ENOENT');
  });
});
