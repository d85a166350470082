import { describe, expect, it } from 'vitest';
import { countPhones, findEmails } from '../../src/content/contacts.js';

describe('findEmails: a spelled-out " dot "', () => {
  it.each([
    ['found', 'mail john at example dot com today', ['john@example.com']],
    ['several', 'a at b dot c dot org', ['a@b.c.org']],
    ['at the very end of the text', 'john at example dot co', ['john@example.co']],
    ['"dot " with no space before it is no dot', 'john at exampledot com', []],
    ['"dot" at the start of the text is no dot', 'dot com and john at example', []],
    ['words holding "dot" are none', 'a dotted anecdote at the dots', []],
    ['empty text', '', []],
  ])('%s', (_, text, emails) => {
    expect(findEmails(text)).toEqual(emails);
  });
});

describe('countPhones with the digit count of the text', () => {
  it('scans text with enough digits for a number, and skips text with fewer', () => {
    expect(countPhones('call +1 234 5678', 7)).toBe(1); // the shortest number: 7 digits after a +
    expect(countPhones('call +1 234 5678')).toBe(1);
    expect(countPhones('6 years old, 466 euros', 6)).toBe(0);
    expect(countPhones('', 0)).toBe(0);
  });
});
