import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compilePolicy, isActiongateError, loadPolicy, PolicyError } from '../../src/index.js';
import { readTextFile } from '../../src/policy/load.js';

const reference = fileURLToPath(new URL('../../../../rules/classifieds.json', import.meta.url));

function problemsOf(fn: () => unknown): { pointer: string; message: string; file?: string }[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    expect(isActiongateError(error)).toBe(true);
    return [...(error as PolicyError).problems];
  }
  throw new Error('expected a PolicyError');
}

describe('compilePolicy', () => {
  it('loads the reference classifieds policy', async () => {
    const policy = await loadPolicy(reference);
    expect(policy.id).toBe('classifieds@1');
    expect(policy.limits.map((l) => l.id)).toEqual(['ip-minute', 'ip-hour', 'actor-burst', 'actor-daily']);
    expect(policy.lists.ids).toEqual(['known-spam', 'staff']);
    expect(policy.lists.size).toBeGreaterThanOrEqual(4);
    expect(policy.bans.ladder).toEqual([86_400_000, 604_800_000, null]);
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.document.limits)).toBe(true);
  });

  it('reports every problem with its JSON pointer, not only the first', () => {
    const problems = problemsOf(() =>
      compilePolicy({
        name: 'bad',
        mode: 'enforcing',
        limits: [
          { id: 'a', by: 'ip', window: '5 minutes', max: 3 },
          { id: 'b', by: 'ip', window: '1m', max: -1, colour: 'red' },
          { id: 'c', window: '1m', max: 1 },
        ],
        scoring: { challenge: 'forty' },
      }),
    );
    const pointers = problems.map((p) => p.pointer);
    expect(pointers).toContain('/mode');
    expect(pointers).toContain('/limits/0/window');
    expect(pointers).toContain('/limits/1/colour');
    expect(pointers).toContain('/limits/2/by');
    expect(pointers).toContain('/scoring/challenge');
    expect(problems.find((p) => p.pointer === '/limits/0/window')!.message).toBe('"5 minutes" is not a duration (use e.g. "90s", "5m", "24h", "7d")');
    expect(problems.find((p) => p.pointer === '/limits/1/max')).toBeDefined();
  });

  it('names the file in every problem and the message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-policy-'));
    const file = join(dir, 'p.json');
    writeFileSync(file, JSON.stringify({ name: 'x', limits: [{ id: 'a', by: 'ip', window: '1 min', max: 1 }] }));
    return loadPolicy(file).then(
      () => expect.unreachable(),
      (error: PolicyError) => {
        expect(error.code).toBe('POLICY_INVALID');
        expect(error.file).toBe(file);
        expect(error.problems[0]!.file).toBe(file);
        expect(error.message).toContain(file);
        expect(error.message).toContain('/limits/0/window');
      },
    );
  });

  it('locates JSON syntax errors by line and column', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-policy-'));
    const file = join(dir, 'p.json');
    writeFileSync(file, '{\n  "name": "x",\n  "mode": enforce\n}');
    await expect(loadPolicy(file)).rejects.toMatchObject({ code: 'POLICY_FILE', message: expect.stringMatching(/line 3, column \d+/) });
    await expect(loadPolicy(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'POLICY_FILE' });
  });

  it('reads a policy file up to its bound and no further: a path naming an endless device rejects, memory bounded', async () => {
    // Read whole, /dev/zero held the process until it ran out of memory.
    await expect(loadPolicy('/dev/zero')).rejects.toMatchObject({ code: 'POLICY_FILE', message: expect.stringMatching(/more than 67108864 bytes \(64 MB\)/) });
    expect(await readTextFile('/dev/null', 10)).toBe('');
    const file = join(mkdtempSync(join(tmpdir(), 'ag-policy-')), 'eleven.txt');
    writeFileSync(file, 'eleven char');
    expect(await readTextFile(file, 11)).toBe('eleven char');
    await expect(readTextFile(file, 10)).rejects.toThrow(/more than 10 bytes/);
  });

  it('reads a policy saved with a byte order mark (Windows Notepad does that), as list files are read', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ag-policy-')), 'bom.json');
    writeFileSync(file, '\uFEFF{"name": "bom", "version": "2"}');
    expect((await loadPolicy(file)).id).toBe('bom@2');
    // Only a leading one: a BOM elsewhere is no white space in JSON.
    writeFileSync(file, '{"name": "bom",\uFEFF "version": "2"}');
    await expect(loadPolicy(file)).rejects.toMatchObject({ code: 'POLICY_FILE', message: expect.stringMatching(/line 1, column 16/) });
  });

  it('rejects duplicate limit ids, bad CIDRs, bad regexes and unreadable list files together', () => {
    const problems = problemsOf(() =>
      compilePolicy(
        {
          name: 'x',
          lists: { bad: { cidrs: ['10.0.0.0/8', '300.1.1.1', 'nonsense/24'], files: ['nope.txt'] } },
          limits: [{ id: 'a', by: 'ip', window: '1m', max: 1 }, { id: 'a', by: 'actor', window: '1m', max: 1 }],
          content: { patterns: [{ id: 'p', regex: '(unclosed', score: 1 }] },
        },
        { baseDir: tmpdir() },
      ),
    );
    const pointers = problems.map((p) => p.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['/lists/bad/cidrs/1', '/lists/bad/cidrs/2', '/lists/bad/files/0', '/limits/1/id', '/content/patterns/0/regex']));
    expect(pointers).not.toContain('/lists/bad/cidrs/0');
  });

  it('loads list files relative to the policy and warns about bad lines without failing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-lists-'));
    writeFileSync(join(dir, 'drop.txt'), '# header\n1.2.3.0/24 ; SBL1\nnot-an-ip\n\n2001:db8::/32\n');
    const file = join(dir, 'policy.json');
    const policy = compilePolicy({ name: 'x', lists: { drop: { files: ['drop.txt'], verdict: 'block' } } }, { file });
    expect(policy.lists.size).toBe(2);
    expect(policy.warnings).toHaveLength(1);
    expect(policy.warnings[0]!.message).toMatch(/drop\.txt line 3/);
  });

  it('treats __proto__ and constructor keys as data, never as prototypes', () => {
    const document = JSON.parse('{"name":"x","content":{"terms":{"__proto__":5,"constructor":3}},"limits":[{"id":"a","by":"actor","window":"1m","max":{"constructor":2,"default":5}}]}');
    const policy = compilePolicy(document);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(policy.limits[0]!.maxFor('constructor')).toBe(2);
    expect(policy.limits[0]!.maxFor('toString')).toBe(5);
    const evil = JSON.parse('{"name":"x","lists":{"__proto__":{"cidrs":["1.1.1.1"]}}}');
    expect(problemsOf(() => compilePolicy(evil)).map((p) => p.pointer)).toContain('/lists/__proto__');
  });

  it('refuses durations the schema pattern lets through but that are no length: zero, or past a safe millisecond count', () => {
    const rule = (params: Record<string, unknown>, type = 'block') => ({ conditions: { all: [] }, event: { type, params } });
    for (const bad of ['0s', '000ms', '999999999w', '999999999d']) {
      const problems = problemsOf(() =>
        compilePolicy({
          name: 'x',
          bans: { within: bad, forget: bad, ladder: ['24h', bad] },
          challenges: { remember: bad },
          feedback: { remember: bad },
          content: { duplicates: { window: bad, score: 5 } },
          rules: [rule({ ban: bad }), rule({ retryAfter: bad }, 'throttle')],
        }),
      );
      expect(problems.map((p) => p.pointer).sort(), bad).toEqual([
        '/bans/forget', '/bans/ladder/1', '/bans/within', '/challenges/remember', '/content/duplicates/window',
        '/feedback/remember', '/rules/0/event/params/ban', '/rules/1/event/params/retryAfter',
      ]);
      for (const problem of problems) expect(problem.message).toContain(JSON.stringify(bad));
    }
    // The largest lengths that fit still load, and "permanent" stays a ladder rung of its own.
    const policy = compilePolicy({ name: 'x', bans: { within: '999999999h', ladder: ['1ms', '14000000w', 'permanent'] }, rules: [rule({ ban: '14000000w' })] });
    expect(policy.bans.withinMs).toBe(999_999_999 * 3_600_000);
    expect(policy.bans.ladder).toEqual([1, 14_000_000 * 604_800_000, null]);
  });

  it('refuses a policy nested too deep for the validators with a PolicyError pointing at it, not a stack overflow', async () => {
    const nested = (depth: number) => {
      let condition: unknown = { fact: 'score', operator: 'greaterThan', value: 1 };
      for (let i = 0; i < depth; i++) condition = i % 2 ? { not: condition } : { all: [condition] };
      return { name: 'x', rules: [{ conditions: { all: [condition] }, event: { type: 'block' } }] };
    };
    expect(compilePolicy(nested(40)).rules.compiled).toBe(true); // deeper than any policy needs
    for (const depth of [100, 5_000]) {
      const [problem, ...rest] = problemsOf(() => compilePolicy(nested(depth)));
      expect(rest).toEqual([]);
      expect(problem!.pointer).toMatch(/^\/rules\/0\/conditions\/all\/0(\/(all\/0|not))+$/);
      expect(problem!.message).toMatch(/nests deeper than 128 levels/);
    }
    // Depth hides in event params and condition values too, and a file is read the same way.
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    const inParams = { name: 'x', rules: [{ conditions: { all: [] }, event: { type: 'block', params: { extra: deep } } }] };
    expect(problemsOf(() => compilePolicy(inParams))[0]!.pointer).toMatch(/^\/rules\/0\/event\/params\/extra(\/0)+$/);
    const file = join(mkdtempSync(join(tmpdir(), 'ag-policy-')), 'deep.json');
    writeFileSync(file, `{"name":"x","rules":[{"event":{"type":"block"},"conditions":${'{"not":'.repeat(100_000)}{}${'}'.repeat(100_000)}}]}`);
    await expect(loadPolicy(file)).rejects.toMatchObject({ code: 'POLICY_INVALID', problems: [{ pointer: expect.stringMatching(/^\/rules\/0\/conditions(\/not)+$/), file }] });
    // A cycle, which only code can build, is as deep as it gets.
    const cyclic: Record<string, unknown> = { name: 'x', rules: [] };
    (cyclic.rules as unknown[]).push({ conditions: { all: [] }, event: { type: 'block', params: { self: cyclic } } });
    expect(problemsOf(() => compilePolicy(cyclic))[0]!.message).toMatch(/nests deeper/);
  });

  it('refuses rule priorities json-rules-engine would read as 1, in the schema too', () => {
    const problems = problemsOf(() => compilePolicy({ name: 'x', rules: [{ priority: 1e21, conditions: { all: [] }, event: { type: 'block' } }] }));
    expect(problems.map((p) => p.pointer)).toContain('/rules/0/priority');
  });

  it('refuses points beyond ±1e9, whose sums would reach Infinity (a score the decision log writes as null) or NaN (no threshold reached)', () => {
    const huge = 1e308;
    const problems = problemsOf(() => compilePolicy({
      name: 'x',
      lists: { l: { cidrs: ['192.0.2.0/24'], score: huge } },
      content: { terms: { aa: huge, bb: -huge }, patterns: [{ id: 'p', regex: 'x', score: huge }], linkScore: huge, uppercase: { ratio: 0.5, score: huge }, model: { name: 'm', score: huge } },
      scoring: { challenge: -huge, block: huge },
      rules: [{ conditions: { all: [] }, event: { type: 'score', params: { add: -huge } } }],
    }));
    expect(problems.map((p) => p.pointer).sort()).toEqual([
      '/content/linkScore', '/content/model/score', '/content/patterns/0/score', '/content/terms/aa', '/content/terms/bb',
      '/content/uppercase/score', '/lists/l/score', '/rules/0/event/params/add', '/scoring/block', '/scoring/challenge',
    ]);
    // The bound itself is a score.
    expect(() => compilePolicy({ name: 'x', content: { terms: { aa: 1e9, bb: -1e9 } }, scoring: { block: 1e9 } })).not.toThrow();
  });

  it('refuses functions and symbols in a policy built in code with a PolicyError at their pointer', () => {
    const leaf = (value: unknown) => ({ name: 'x', rules: [{ conditions: { all: [{ fact: 'score', operator: 'equal', value }] }, event: { type: 'block', params: { tag: value } } }] });
    for (const value of [() => 1, Symbol('s')]) {
      const problems = problemsOf(() => compilePolicy(leaf(value)));
      expect(problems.map((p) => p.pointer).sort()).toEqual(['/rules/0/conditions/all/0/value', '/rules/0/event/params/tag']);
      expect(problems[0]!.message).toMatch(/is a (function|symbol), not a JSON value/);
    }
    // undefined is what an optional field left out looks like in code: no problem.
    expect(compilePolicy({ name: 'x', version: undefined, rules: undefined }).id).toBe('x@0');
  });

  it('rejects non-objects', () => {
    for (const value of [null, 42, 'x', [], undefined]) {
      expect(problemsOf(() => compilePolicy(value)).length).toBeGreaterThan(0);
    }
  });

  it('warns about score thresholds in the wrong order', () => {
    const policy = compilePolicy({ name: 'x', scoring: { challenge: 90, block: 50 } });
    expect(policy.warnings.map((w) => w.pointer)).toContain('/scoring');
  });
});
