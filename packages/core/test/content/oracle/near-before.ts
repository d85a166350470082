/**
 * Near-duplicate keys of text that is not plain ASCII as near.ts computed them before its loop
 * over chars.ts's facts (commit 71b5b1f): the words `words` splits (the Unicode regex) hashed one
 * by one with FNV-1a, then the same banding (`bandKeys`). The reference of unicode-paths.test.ts,
 * which checks the loop finds the same words. Since then a word holds the marks on its letters,
 * and a letter of a script written without spaces (CJK, Thai…) is a word of its own with its
 * marks: `WORDS` says so. Not used by the library.
 */
import { UNSPACED_SCRIPTS } from '../../../src/content/chars.js';
import { bandKeys, MAX_WORDS } from '../../../src/content/near.js';

const UNSPACED_LETTER = `(?=\\p{L})[${UNSPACED_SCRIPTS}]`;
const WORDS = new RegExp(`${UNSPACED_LETTER}\\p{M}*|(?:(?!${UNSPACED_LETTER})[\\p{L}\\p{M}\\p{N}])+`, 'gu');
const words = (text: string): string[] => text.match(WORDS) ?? [];

export function nearKeys(normalised: string, bands: number): string[] {
  const list = words(normalised.length > MAX_WORDS * 24 ? normalised.slice(0, MAX_WORDS * 24) : normalised).slice(0, MAX_WORDS);
  const hashes = new Int32Array(list.length);
  list.forEach((word, i) => {
    let h = 0x811c9dc5;
    for (let j = 0; j < word.length; j++) h = Math.imul(h ^ word.charCodeAt(j), 0x01000193);
    hashes[i] = h;
  });
  return bandKeys(hashes, list.length, bands);
}
