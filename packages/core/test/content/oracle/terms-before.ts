/**
 * The terms of ASCII text as signals.ts found them before it read them from the words its digest
 * records (near.ts `TEXT_WORDS`): one regex of the policy's terms, longest first, matched on
 * whole words (`\b`) with any non-alphanumerics between a term's words, in an exec loop over the
 * normalised and joined text with `_` read as a space. The reference of terms.test.ts. Not used
 * by the library.
 */
import { joinSpelledOut, normaliseText, words } from '../../../src/content/normalise.js';

export function asciiTermsBefore(terms: readonly string[], fields: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const raw of terms) {
    const key = words(normaliseText(raw)).join(' ');
    if (/^[a-z0-9 ]+$/.test(key)) keys.add(key);
  }
  if (keys.size === 0) return [];
  const alternatives = [...keys].map((key) => key.split(' ').join('[^a-z0-9]+')).sort((a, b) => b.length - a.length);
  const regex = new RegExp(`\\b(?:${alternatives.join('|')})\\b`, 'g');
  const matched = new Set<string>();
  for (const field of fields) {
    const text = joinSpelledOut(normaliseText(field), true).replaceAll('_', ' ');
    for (const match of text.matchAll(regex)) matched.add(words(match[0]).join(' '));
  }
  return [...matched];
}
