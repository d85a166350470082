import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RulePolicy } from '../../src/policy/types.js';
import { codeGenerationAllowed } from '../../src/rules/codegen.js';
import { compileRules, type FiredEvent } from '../../src/rules/compile.js';
import { createReferenceInterpreter } from '../../src/rules/reference.js';

const names = (events: FiredEvent[] | Promise<FiredEvent[]>) => (events as FiredEvent[]).map((event) => event.rule);

// Text that would break out of a string literal, a template, a comment or a line if it were
// pasted into source: none of it may become code.
const HOSTILE = ['"); globalThis.injected = 1; ("', "'); globalThis.injected = 1; ('", '`${globalThis.injected = 1}`', '*/ globalThis.injected = 1; /*', '\\', '\u2028globalThis.injected = 1\u2029', '\uD800', '__proto__', 'constructor'];

describe('rules compiled to generated code', () => {
  afterEach(() => {
    delete (globalThis as Record<string, unknown>).injected;
    vi.restoreAllMocks();
  });

  it('is what compileRules uses where the runtime allows it', () => {
    expect(codeGenerationAllowed()).toBe(true);
    const make = vi.spyOn(globalThis, 'Function');
    compileRules([{ conditions: { all: [{ fact: 'score', operator: 'greaterThan', value: 5 }] }, event: { type: 'block' } }]);
    expect(make).toHaveBeenCalledTimes(1);
    make.mockClear();
    compileRules([{ conditions: { all: [{ fact: 'score', operator: 'greaterThan', value: 5 }] }, event: { type: 'block' } }], { generate: false });
    expect(make).not.toHaveBeenCalled();
  });

  it('turns no policy text into code: hostile fact names and values are data', async () => {
    for (const text of HOSTILE) {
      const rules: RulePolicy[] = [
        { name: 'fact-and-value', conditions: { all: [{ fact: text, operator: 'equal', value: text }] }, event: { type: 'block' } },
        { name: 'in-list', conditions: { any: [{ fact: 'x', path: '$.k', operator: 'in', value: [text, 'other'] }] }, event: { type: 'challenge' } },
        { name: 'against-fact', conditions: { all: [{ fact: 'x', path: '$.k', operator: 'equal', value: { fact: text } }] }, event: { type: 'throttle' } },
      ];
      const facts = JSON.parse(JSON.stringify({ [text]: text, x: { k: text } })) as Record<string, unknown>;
      const expected = names(await createReferenceInterpreter(rules).run(facts));
      for (const generate of [true, false]) {
        const compiled = compileRules(rules, { facts: null, generate });
        expect(compiled.problems, JSON.stringify(text)).toEqual([]);
        expect(names(compiled.evaluate(facts)), JSON.stringify(text)).toEqual(expected);
        expect(names(compiled.evaluate({ x: { k: 'else' } })), JSON.stringify(text)).toEqual([]);
      }
      expect(expected, JSON.stringify(text)).toEqual(['fact-and-value', 'in-list', 'against-fact']);
      expect(globalThis).not.toHaveProperty('injected');
    }
  });

  it('turns no policy text into code: hostile path keys, rule names and event params are data', async () => {
    // A very long string pushes its rule past the per-rule source budget, to a closure.
    for (const text of [...HOSTILE, '</script>', 'prototype', '\u2029', `${'`${'.repeat(20_000)}"`]) {
      const path = text.includes("'") ? `$["${text}"]` : `$['${text}']`;
      const rules: RulePolicy[] = [
        { name: text, conditions: { all: [{ fact: 'x', path: '$.k', operator: 'equal', value: text }] }, event: { type: 'block', params: { reason: text, [text]: text } } },
        // (A path is at most 1000 characters: check.ts.)
        ...((text.includes("'") && text.includes('"')) || text.length > 900 ? [] : [{ name: 'by-key', conditions: { all: [{ fact: 'x', path, operator: 'equal', value: 1 }] }, event: { type: 'challenge' } } as RulePolicy]),
      ];
      const facts = JSON.parse(JSON.stringify({ x: { k: text, [text]: 1 } })) as Record<string, unknown>;
      const expected = await createReferenceInterpreter(rules).run(facts);
      for (const generate of [true, false]) {
        const compiled = compileRules(rules, { facts: null, generate });
        expect(compiled.problems, JSON.stringify(text)).toEqual([]);
        const fired = await compiled.evaluate(facts);
        expect(names(fired), JSON.stringify(text)).toEqual(names(expected));
        expect(fired[0]).toMatchObject({ rule: text, params: { reason: text, [text]: text } });
        expect(names(await compiled.evaluate({ x: { k: 'else' } })), JSON.stringify(text)).toEqual([]);
      }
      expect(globalThis).not.toHaveProperty('injected');
    }
  });

  it('generates a large policy only in part (the rest run as closures), deciding alike', () => {
    // ~1 KB of source per rule: past the source budget well before the last rule.
    const rules: RulePolicy[] = Array.from({ length: 3000 }, (_, i) => ({
      name: `r${i}`,
      conditions: { all: [{ fact: 'actor', path: '$.status', operator: 'equal', value: `s${i % 7}` }, { fact: 'score', operator: 'greaterThan', value: i }, { any: [{ fact: 'attributes', path: '$.a.b', operator: 'in', value: ['x', String(i % 5)] }, { not: { fact: 'content', path: '$.links', operator: 'lessThan', value: 3 } }] }] },
      event: { type: 'score', params: { add: 1 } },
    }));
    const make = vi.spyOn(globalThis, 'Function');
    const generated = compileRules(rules);
    const source = String(make.mock.calls[0]!.at(-1));
    expect(source).toContain('function rule0(');
    expect(source).not.toContain('function rule2999(');
    const closures = compileRules(rules, { generate: false });
    for (const score of [10, 1500, 2990, 5000]) {
      const facts = { actor: { status: 's3' }, score, attributes: { a: { b: '2' } }, content: { links: 9 } };
      const fired = names(generated.evaluate(facts));
      expect(fired.length).toBeGreaterThan(0);
      expect(fired).toEqual(names(closures.evaluate(facts)));
    }
  });

  it('leaves a rule too large on its own to closures, and generates the rest', async () => {
    const huge: RulePolicy = {
      name: 'huge',
      conditions: { any: Array.from({ length: 1500 }, (_, i) => ({ fact: 'score', operator: 'equal', value: i * 2, ...(i % 3 === 0 ? { priority: 2 } : {}) })) },
      event: { type: 'block' },
    };
    const small: RulePolicy = { name: 'small', conditions: { all: [{ fact: 'score', operator: 'greaterThan', value: 10 }, { fact: 'action', operator: 'in', value: ['a', 'b'] }] }, event: { type: 'challenge' } };
    const make = vi.spyOn(globalThis, 'Function');
    const generated = compileRules([huge, small]);
    const source = String(make.mock.calls[0]!.at(-1));
    expect(source).not.toContain('function rule0(');
    expect(source).toContain('function rule1(');
    const reference = createReferenceInterpreter([huge, small]);
    for (const facts of [{ score: 12, action: 'a' }, { score: 13, action: 'b' }, { score: 2998, action: 'c' }, { action: 'a' }]) {
      expect(names(generated.evaluate(facts)), JSON.stringify(facts)).toEqual(names(await reference.run(facts)));
    }
  });

  it('falls back to closures, deciding alike, where code generation from strings is forbidden', () => {
    const root = fileURLToPath(new URL('../../../..', import.meta.url));
    const fixture = fileURLToPath(new URL('./fixtures/classifieds-rules.json', import.meta.url));
    const rules = JSON.parse(readFileSync(fixture, 'utf8')) as RulePolicy[];
    const facts = {
      action: 'ad.submit',
      ip: { address: '203.0.113.7', version: 4, subnet: '203.0.113.7', lists: ['known-spam'], banned: false },
      actor: { id: 'u1', status: 'anonymous', ageMs: 3_600_000 },
      content: { score: 40, terms: ['casino'], patterns: [], links: 3, domains: ['bit.ly'], length: 500, duplicates: 6 },
      limits: { 'actor-daily': { count: 9, max: 10, remaining: 1, exceeded: false } },
      history: { violations: 2, bans: 0, banned: false, challengesPassed: 1 },
      score: 40,
      attributes: { tor: true, userAgent: 'curl', countryRisk: 0.9 },
    };
    const script = `
      const { compileRules } = await import(${JSON.stringify(`${root}/packages/core/src/rules/compile.ts`)});
      const { codeGenerationAllowed } = await import(${JSON.stringify(`${root}/packages/core/src/rules/codegen.ts`)});
      const rules = ${JSON.stringify(rules)};
      const events = compileRules(rules).evaluate(${JSON.stringify(facts)});
      console.log(JSON.stringify({ allowed: codeGenerationAllowed(), events: events.map((e) => e.rule) }));`;
    const out = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    const child = JSON.parse(out.trim().split('\n').pop()!) as { allowed: boolean; events: string[] };
    expect(child.allowed).toBe(false);
    expect(child.events.length).toBeGreaterThan(5);
    expect(child.events).toEqual(names(compileRules(rules).evaluate(facts)));
  });
});
