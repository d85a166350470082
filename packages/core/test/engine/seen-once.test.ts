import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashedSet, seenOnce } from '../../src/engine/seen-once.js';

describe('seenOnce', () => {
  it('answers true once per distinct string, whatever the order and repeats, as a Set would', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', '__proto__', 'ip:1.2.3.4', 'ip:1.2.3.4 ')), { maxLength: 300 }), (texts) => {
      const firstTime = seenOnce();
      const reference = new Set<string>();
      for (const text of texts) {
        expect(firstTime(text)).toBe(!reference.has(text));
        reference.add(text);
      }
    }), { numRuns: 300 });
  });

  it('keeps telling repeats apart while its table grows past many doublings', () => {
    const firstTime = seenOnce();
    const subjects = Array.from({ length: 200_000 }, (_, i) => `ip:10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    let first = 0;
    for (const subject of subjects) if (firstTime(subject)) first++;
    expect(first).toBe(subjects.length);
    // Every one of them again, interleaved with new ones: only the new ones are first.
    let again = 0;
    for (let i = 0; i < subjects.length; i += 7) {
      if (firstTime(subjects[i]!)) again++;
      if (firstTime(`actor:${i}`)) again++;
    }
    expect(again).toBe(Math.ceil(subjects.length / 7));
  });
});

describe('hashedSet', () => {
  it('answers has, add and size as a Set of the strings would', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', 'actor:x', 'ip:x'))), { maxLength: 300 }), (ops) => {
        const set = hashedSet();
        const reference = new Set<string>();
        for (const [add, text] of ops) {
          if (add) expect(set.add(text)).toBe(!reference.has(text));
          else expect(set.has(text)).toBe(reference.has(text));
          if (add) reference.add(text);
          expect(set.size).toBe(reference.size);
        }
      }),
      { numRuns: 300 },
    );
  });
});
