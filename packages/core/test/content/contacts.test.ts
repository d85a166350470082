import { describe, expect, it } from 'vitest';
import { countPhones, findEmails } from '../../src/content/contacts.js';
import { normaliseText } from '../../src/content/normalise.js';

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

describe('findEmails: the user-info of a URL is no address', () => {
  it.each([
    ['a user name before the host', 'log in at http://paypal.example@evil.example/x', []],
    ['a user name and password', 'see https://me:secret@evil.example', []],
    ['several @ in one authority', 'http://a@b.example@evil.example', []],
    ['a scheme-relative URL', 'go to //paypal.example@evil.example/', []],
    ['in a query, an address all the same', 'http://shop.example/?to=bob@example.net', ['bob@example.net']],
    ['after a link, an address', 'http://shop.example/x bob@example.net', ['bob@example.net']],
    ['after a URL with a user-info, an address', 'http://me@evil.example, or mail bob@example.net', ['bob@example.net']],
    ['a mailto: link', 'mailto:bob@example.net', ['bob@example.net']],
    // links.ts reads a www. link without a scheme, and http: with any slashes: so does this.
    ['a www. link without a scheme', 'www.paypal.example@evil.example/x', []],
    ['a www. link after a word', 'go to www.shop.example@evil.example now', []],
    ['http: with one slash', 'see http:/paypal.example@evil.example/x', []],
    ['https: with a backslash', 'see https:\\paypal.example@evil.example', []],
    ['www inside a mailbox name, an address', 'mail a.www.b@example.net or wwwbob@example.net', ['a.www.b@example.net', 'wwwbob@example.net']],
    ['a path after http:/, then an address', 'see http:/x and bob@example.net', ['bob@example.net']],
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

describe('countPhones: where one number ends and the next begins', () => {
  it('counts numbers written side by side, which together have too many digits for one', () => {
    expect(countPhones('0612345678 0698765432')).toBe(2);
    expect(countPhones('call 07700 900123 07700 900456 or 07700 900789')).toBe(3);
    expect(countPhones('0612 345 678 0698 765 432')).toBe(2);
    // One group longer than any number is none.
    expect(countPhones('ref 061234567806987654321')).toBe(0);
  });

  it('leaves a date out of a number: a date and a time are no phone number', () => {
    expect(countPhones('viewing 12/11/2024 10:30 or 2024-11-13 14:00, 1.12.2024 9:15')).toBe(0);
    expect(countPhones('12.11.2024 0612345678')).toBe(1);
    // A number that only looks like the start of a date is still a number.
    expect(countPhones('06/12/34/56/78 and 06.12.34.56.78')).toBe(2);
  });

  it('leaves out a date anywhere in a run of digits: two viewing times are no phone number', () => {
    expect(countPhones('viewing 15.01.2024 15:30 or 16.01.2024 18:00')).toBe(0);
    expect(countPhones('2024-01-15 14:00 2024-01-16 16:00')).toBe(0);
    expect(countPhones('open 12/11/2024 10-12 and 13/11/2024 14-16')).toBe(0);
    // The numbers around a date are still counted.
    expect(countPhones('call 0612345678 12.11.2024')).toBe(1);
    expect(countPhones('from 12.11.2024 call 0612345678 or 0698765432')).toBe(2);
  });

  it('leaves out lists of numbers an honest ad holds: sizes, years, a price or mileage range', () => {
    // Each was one phone number, so sizes and one real number made "contact stuffing".
    for (const text of ['sizes 36 38 40 42 44 46', 'models 2019 2020 2021 2022', '42/44/46/48/50', '2015/2016/2017', 'price 10.000-15.000 eur', '150.000 - 200.000 km']) expect(countPhones(text), text).toBe(0);
    expect(countPhones('shoes, sizes 36 38 40 42 44, call 06 12 34 56 78')).toBe(1);
    // Phone numbers stay phone numbers: uneven steps, a leading 0 before thousands, a + prefix.
    for (const text of ['06 12 34 56 78', '06.123.456-78', '+33 6 12 34 56 78', '+49 30 40 50 60 70', '0612345678 0687654321']) expect(countPhones(text), text).toBeGreaterThan(0);
  });
});

describe('countPhones: ISBNs and IBANs are no phone numbers', () => {
  // Each was one phone number (two for a French IBAN), so a book or a bank account beside one
  // real number made "contact stuffing". What tells them from a phone number is a valid check.
  it.each([
    ['an ISBN-13 with hyphens', 'book 978-3-16-148410-0'],
    ['an ISBN-13 with spaces, after isbn', 'isbn 978 3 16 148410 0'],
    ['a bare ISBN-13 after isbn', 'isbn 9783161484100'],
    ['after isbn-13:', 'isbn-13: 978-0-306-40615-7'],
    ['a bare ISBN-13 without the keyword (978 and a valid check)', 'ref 9783161484100'],
    ['an ISBN-10 ending in x', 'isbn 0-8044-2957-x'],
    ['a bare ISBN-10 ending in x', 'isbn: 080442957x'],
    ['an ISBN-10 after isbn', 'isbn 0306406152'],
    ['an ISBN-10 in its printed form, without the keyword', 'see 0-306-40615-2'],
    ['an EAN-13 barcode after ean', 'ean 4006381333931'],
  ])('%s', (_, text) => {
    expect(countPhones(text)).toBe(0);
  });

  it.each([
    ['in groups of four', 'iban de89 3704 0044 0532 0130 00'],
    ['of France, which made two numbers', 'iban fr76 3000 6000 0112 3456 7890 189'],
    ['with letters in its groups', 'gb82 west 1234 5698 7654 32'],
    ['of Norway, the shortest', 'no93 8601 1117 947'],
    ['of Israel, whose il is not read as 11', 'il62 0108 0000 0009 9999 999'],
    // Never a run of digits (no word boundary before them): a guard that it stays so.
    ['without spaces', 'iban de89370400440532013000, gb82west12345698765432'],
  ])('an IBAN %s', (_, text) => {
    expect(countPhones(text)).toBe(0);
  });

  it('reads the IBANs of the text as written: countPhones is given it lower-cased', () => {
    expect(countPhones(normaliseText('IBAN: DE89 3704 0044 0532 0130 00, Tel. 0612345678'))).toBe(1);
    expect(countPhones(normaliseText('ISBN 0-8044-2957-X'))).toBe(0);
  });

  it('still counts the phone numbers beside them', () => {
    expect(countPhones('book, isbn 978-3-16-148410-0, call 0612345678')).toBe(1);
    expect(countPhones('0612345678 9783161484100')).toBe(1);
    expect(countPhones('0612345678 978-3-16-148410-0 978-0-306-40615-7')).toBe(1);
    expect(countPhones('call 06 12 34 56 78 isbn 0-8044-2957-x')).toBe(1);
    expect(countPhones('pay to de89 3704 0044 0532 0130 00 0612345678')).toBe(1);
    // A word after an IBAN whose last group is full is not taken for one more group.
    expect(countPhones('be68 5390 0754 7034 tel 0612345678')).toBe(1);
    expect(countPhones('be68 5390 0754 7034 0612 3456 78')).toBe(1);
  });

  it('counts numbers whose check fails, or that only an ISBN keyword would make ISBNs, as before', () => {
    for (const text of [
      '9783161484101', // 978 but an invalid check digit, no keyword
      '4006381333931', // a valid EAN-13 check without the ean keyword: 13 digits can be a phone number
      'isbn 0306406153', // the keyword, an invalid check digit
      '0-306-40615-3', // the printed ISBN-10 form, an invalid check digit
      '0306406152', // a valid ISBN-10 check, but bare: one 10-digit number in eleven has one
      '+49 30 12345678',
      '+49 978 316 148 410 0', // a valid ISBN-13 check, but after a +
      'de89 3704 0044 0532 0130 01', // an IBAN's shape, but the mod-97 check fails
    ]) expect(countPhones(text), text).toBe(1);
    // An IBAN-looking run whose check fails is digits, counted as before.
    expect(countPhones('fr76 3000 6000 0112 3456 7890 188')).toBe(2);
  });
});

describe('countPhones: letters written for digits', () => {
  it.each([
    ['O for 0 and l for 1', 'call o7700 9oo l23', 1],
    ['I for 1', 'call 07700 9oo i23', 1],
    ['after a +', '+44 77oo 9oo123', 1],
    ['plain numbers are unchanged', 'call 07700 900123', 1],
    ['words made of the same letters stay words', 'oil and lol io 12345678', 0],
    ['a token needs a digit to be read as one', 'o oo ooo ll iii 1234567', 0],
    ['letters inside a longer word are letters', 'hello7700 9oodles 123', 0],
  ])('%s', (_, text, phones) => {
    expect(countPhones(text)).toBe(phones);
  });
});

describe('findEmails: internationalised addresses', () => {
  it.each([
    ['a Cyrillic domain, in punycode', 'пишите иван@пример.рф', ['иван@xn--e1afmkfd.xn--p1ai']],
    ['a Japanese label under an ASCII TLD', 'a@b.com и x@例え.jp', ['a@b.com', 'x@xn--r8jz45g.jp']],
    ['spelled out', 'name (at) пример (dot) рф', ['name@xn--e1afmkfd.xn--p1ai']],
    ['a local part in another script', 'шлите на почту@mail.ru', ['почту@mail.ru']],
  ])('%s', (_, text, emails) => {
    expect(findEmails(text, false)).toEqual(emails);
  });

  it('reads a defanged domain, a full stop in brackets, as the address it is', () => {
    expect(findEmails('write to a@mailinator[.]com or b@evil(.)example{.}org', true)).toEqual(['a@mailinator.com', 'b@evil.example.org']);
    expect(findEmails('name (at) mailinator [.] com', true)).toEqual(['name@mailinator.com']);
    expect(findEmails('почта a@пример[.]рф', false)).toEqual(['a@xn--e1afmkfd.xn--p1ai']);
    // A plain " at " still needs a spelled-out " dot ": "see us at example[.]com" names a site.
    expect(findEmails('see us at example[.]com', true)).toEqual([]);
  });

  it('reads ASCII text as before (the ASCII classes)', () => {
    expect(findEmails('mail x@example.org', true)).toEqual(['x@example.org']);
  });
});
