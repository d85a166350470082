/**
 * normalise.ts works out its shortcut's table a block of code points at a time, the first time a
 * text holds one, running the Unicode path as it does. A file of its own, so that no other test
 * has worked out a block before: the first texts here are the ones that build them, mid-text.
 */
import { describe, expect, it } from 'vitest';
import { normaliseText, normaliseUnicode } from '../../src/content/normalise.js';

describe('the shortcut table, worked out while a text is read', () => {
  it('gives what the Unicode path gives for texts whose characters build blocks on the way', () => {
    // Many replacements (the codes path), four blocks met for the first time one after another.
    const dense = `${'Crème brûlée à la café. '.repeat(3)} ѵіаgrа ＦＲＥＥ\u200B now\u00A0${'é'.repeat(20)} ΑΒΕΖ abcdefgh`;
    expect(normaliseText(dense)).toBe(normaliseUnicode(dense));
    // Few replacements (the joined path), a fifth block.
    const sparse = 'Vietnamese ad: Bán xe đạp ấy, call now';
    expect(normaliseText(sparse)).toBe(normaliseUnicode(sparse));
  });
});
