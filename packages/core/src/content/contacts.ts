/**
 * Contact details in free text: the phone numbers and e-mail addresses a spam ad stuffs into
 * its title and body so buyers leave the site. Reads normalised text (lower case, look-alikes
 * folded, white space collapsed), so full-width digits and `ｎａｍｅ＠ｅｘａｍｐｌｅ．ｃｏｍ` are
 * already plain. Finds the spelled-out forms too: `name at example dot com`, `name (at)
 * example (dot) com`, `name [at] example [dot] com`. Every regular expression here is linear
 * (checked by recheck in the tests) and each field is bounded by the caller.
 */
import { domainToASCII } from 'node:url';
import { endsAuthority, startsLinkAuthority } from './links.js';
import { isAscii } from './normalise.js';

// A run of digits with the separators phone numbers are written with; the digit count decides.
// Up to 40 digits: a few numbers written side by side are one run, split below.
const PHONE = /(?:\+|\b)\d(?:[ ./-]?\(?\d\)?){6,39}(?!\d)/g;
// Spelled-out "at" and "dot": (at) [at] {at} or " at " / " dot " between words. A dot is also
// written defanged, a full stop in brackets (`a@mailinator[.]com`, as links are: links.ts), which
// otherwise hid the address and its domain from the disposable check and the domain lists.
const AT = /\s?@\s?|\s?[([{]\s?at\s?[)\]}]\s?|\sat\s/g;
const DOT = String.raw`(?:\.|\s?[([{]\s?(?:dot|\.)\s?[)\]}]\s?|\sdot\s)`;
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
// The domain after an "at", matched where the "at" ends (sticky): no scan of the whole text.
const DOMAIN = new RegExp(String.raw`${LABEL}(?:${DOT}${LABEL}){0,8}${DOT}[a-z]{2,24}(?![a-z0-9-])`, 'y');
// The same for text that is not plain ASCII: internationalised domains (`пример.рф`, `例え.jp`),
// whose labels are letters, digits and marks of any script.
const LABEL_UNICODE = String.raw`[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}-]{0,61}[\p{L}\p{N}\p{M}])?`;
const DOMAIN_UNICODE = new RegExp(String.raw`${LABEL_UNICODE}(?:${DOT}${LABEL_UNICODE}){0,8}${DOT}[\p{L}]{2,24}(?![\p{L}\p{N}\p{M}-])`, 'uy');
const LOCAL_CHAR_UNICODE = /[\p{L}\p{N}\p{M}._%+-]/u;
// A dot spelled out (what a plain " at " needs to be an address), and every way DOT writes one but `.`.
const SPELLED_DOT = /\s?[([{]\s?dot\s?[)\]}]\s?|\sdot\s/;
const SPELLED_DOTS = /\s?[([{]\s?(?:dot|\.)\s?[)\]}]\s?|\sdot\s/g;
const LOCAL_CHAR = /[a-z0-9._%+-]/;
const ASCII_DOMAIN = /^[\x21-\x7e]+$/;
// A bracketed "(at)" or "(dot)": the text may hold a spelled-out address.
const BRACKETED = /[([{]\s?(?:at|dot)\s?[)\]}]/;

export interface Contacts {
  phones: number;
  /** E-mail addresses, spelled-out ones rebuilt (`name@example.com`). */
  emails: string[];
}

/** The fewest digits of a phone number (after a `+`). */
const MIN_PHONE_DIGITS = 7;
// A date in a run of digits (`12/11/2024 10:30`, `2024-11-13 14:00`): its digits are no part of a
// phone number, and with a time after it they would make one. Anywhere in the run, not only at
// its start: in `15.01.2024 15:30 16.01.2024 18:00` the time `:` splits the runs, and the second
// one is `30 16.01.2024 18`. Bounded, and tried only where no digit is before it.
const DATES = /(?<!\d)(?:\d\d?([./-])\d\d?\1(?:19|20)\d\d|(?:19|20)\d\d([./-])\d\d?\2\d\d?)(?!\d)/g;
const DIGIT_GROUPS = /\d+/g;
// Letters written for digits (`O7700 9OO l23`, after lower-casing `o7700 9oo l23`): `o` for 0,
// `l` and `i` for 1. Only in a token made of nothing but digits and those letters, with a digit
// in it, so words (`oil`, `lol`, `io`) stay words. Linear: a token starts where no letter or
// digit is before it.
const LETTER_BY_DIGIT = /[0-9][oil]|[oil][0-9]/;
const DIGITISH = /(?<![a-z0-9])[0-9oil]{2,}(?![a-z0-9])/g;
const digitsForLetters = (token: string): string => (/[0-9]/.test(token) ? token.replace(/o/g, '0').replace(/[il]/g, '1') : token);

/**
 * Phone numbers: 9 to 15 digits, or 7 and more after a `+` (dates and prices have fewer; a date
 * in a run of digits, before a time, is left out, and so is a list of numbers: `isNumberList`), `o`, `l` and `i` read as digits in tokens of digits (`o7700 9oo l23`). A longer run is numbers side by side, each made of whole groups.
 * ISBNs and IBANs whose check digits hold are no phone numbers: `blankNonPhoneNumbers`.
 * `digits`: how many digits the whole text holds, when the caller knows (shape.ts `AsciiFacts`):
 * with fewer than a number needs there is nothing to scan for.
 */
export function countPhones(normalised: string, digits = Number.POSITIVE_INFINITY): number {
  if (digits < MIN_PHONE_DIGITS) return 0;
  let runs = phoneRuns(digitsForLettersIn(normalised));
  if (runs.length === 0) return 0;
  // Only now, with runs of digits found (most ads have none), are ISBNs and IBANs looked for,
  // around those runs only, in the text as written (`il62 …` is an IBAN, not `1162 …`).
  const blanked = blankNonPhoneNumbers(normalised, runs);
  if (blanked !== normalised) runs = phoneRuns(digitsForLettersIn(blanked));
  let phones = 0;
  for (const match of runs) {
    if (isNumberList(match[0])) continue;
    // Each date becomes a space: the digits on either side of it are groups of their own.
    const run = match[0].includes('19') || match[0].includes('20') ? match[0].replace(DATES, ' ') : match[0];
    let count = 0;
    for (let i = 0; i < run.length; i++) {
      const c = run.charCodeAt(i);
      if (c >= 48 && c <= 57) count++;
    }
    if (count <= 15) {
      if (count >= 9 || (run.startsWith('+') && count >= MIN_PHONE_DIGITS)) phones++;
      continue;
    }
    // More digits than one number has: numbers side by side (`0612345678 0698765432`). Each
    // takes groups of digits until it has 9; a single group of more than 15 is no number.
    let taken = 0;
    for (const group of run.match(DIGIT_GROUPS)!) {
      taken += group.length;
      if (taken < 9) continue;
      if (taken <= 15) phones++;
      taken = 0;
    }
  }
  return phones;
}

/** The runs of digits `PHONE` finds, in order. */
function phoneRuns(text: string): RegExpExecArray[] {
  const runs: RegExpExecArray[] = [];
  // An exec loop on the shared regex rather than matchAll, which clones the regex on every call.
  // PHONE never matches empty text, and exec leaves lastIndex at 0 once it finds no more.
  PHONE.lastIndex = 0;
  for (let match = PHONE.exec(text); match !== null; match = PHONE.exec(text)) runs.push(match);
  return runs;
}

const digitsForLettersIn = (normalised: string): string => (LETTER_BY_DIGIT.test(normalised) ? normalised.replace(DIGITISH, digitsForLetters) : normalised);

// An ISBN or EAN where a token starts: a keyword perhaps (`isbn`, `isbn-13:`, `ean13`), then 9
// to 13 digits with hyphens or single spaces, perhaps an ISBN-10's check `x`, ending a token.
// What the digits are is decided by their check digit (`isbnEnd`). Sticky, tried at given
// starts only; the repetitions are bounded and separators are no digits: linear.
const ISBN = /(?<![a-z0-9+])(?:(isbn|ean)(?:[ -]?1[03])?:? ?)?(\d(?:[ -]?\d){8,12}(?:[ -]?x)?)(?![a-z0-9])/y;
// The printed form of an ISBN-10: four hyphenated groups, the last the check character.
const ISBN10_HYPHENATED = /^\d{1,5}-\d{1,7}-\d{1,7}-[\dx]$/;
// An IBAN: a country's two letters, two check digits and 11 to 30 letters and digits, written
// as one token or in groups of four (`de89 3704 0044 0532 0130 00`), ending a token. Sticky as
// ISBN is; bounded repetitions that cannot match the same text two ways.
const IBAN = /(?<![a-z0-9])[a-z]{2}\d\d(?:[a-z0-9]{11,30}|(?: [a-z0-9]{4}){2,7}(?: [a-z0-9]{1,4})?)(?![a-z0-9])/y;
/** The most characters an IBAN candidate has: 4, 7 groups of 4 and one of up to 4, with spaces. */
const IBAN_MAX_LENGTH = 44;

/**
 * `normalised` with the numbers that are no phone numbers, though they have as many digits,
 * written over with spaces (the same length, so nothing else moves and no digits on either side
 * join), or `normalised` itself when it has none:
 *
 * - ISBNs (`978-3-16-148410-0`, `isbn 0-8044-2957-x`) and, after an `ean` keyword, EAN-13
 *   barcodes, whose check digit is valid: `isbnEnd`.
 * - IBANs (`de89 3704 0044 0532 0130 00`) whose ISO 7064 mod-97 check holds: `ibanLength`.
 *
 * A book or a bank account in an honest ad, beside one real number, made it "contact stuffing".
 * Only a number that overlaps one of `runs` (`PHONE`'s, at the same places in the text with
 * digits for letters) changes a count, and such a number starts at most `IBAN_MAX_LENGTH`
 * characters before its run: the sticky matchers are tried where a token starts in those
 * stretches, each place once, so the cost follows the runs, not the text. Reads normalised
 * (lower-case) text.
 */
function blankNonPhoneNumbers(normalised: string, runs: readonly RegExpExecArray[]): string {
  let spans: number[] | undefined;
  let from = 0; // where the stretch of the next run may start: every place before is tried, or blanked
  for (const run of runs) {
    const end = run.index + run[0].length;
    let at = Math.max(from, run.index - IBAN_MAX_LENGTH);
    for (; at < end; at++) {
      if (at > 0 && isAlphanumeric(normalised.charCodeAt(at - 1))) continue;
      // Character tests first: most tokens are neither, and a regex call costs more.
      const c = normalised.charCodeAt(at);
      let spanEnd = 0;
      if (isDigit(c)) {
        // After other digits only an ISBN-13 can start (`isbnEnd`): its `97` first.
        if (!separatedDigit(normalised, at - 1, at - 2) || normalised.startsWith('97', at)) spanEnd = isbnAt(normalised, at);
      } else if (c >= 97 && c <= 122) {
        if (normalised.startsWith('isbn', at) || normalised.startsWith('ean', at)) spanEnd = isbnAt(normalised, at);
        if (spanEnd === 0 && isDigit(normalised.charCodeAt(at + 2)) && isDigit(normalised.charCodeAt(at + 3))) spanEnd = ibanAt(normalised, at);
      }
      if (spanEnd > 0) {
        (spans ??= []).push(at, spanEnd);
        at = spanEnd - 1; // spans neither overlap nor go back
      }
    }
    from = at; // the run's end, or past it where a span ends after it
  }
  if (spans === undefined) return normalised;
  let blanked = '';
  let copied = 0;
  for (let i = 0; i < spans.length; i += 2) {
    blanked += normalised.slice(copied, spans[i]) + ' '.repeat(spans[i + 1]! - spans[i]!);
    copied = spans[i + 1]!;
  }
  return blanked + normalised.slice(copied);
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

const isAlphanumeric = (c: number): boolean => isDigit(c) || (c >= 97 && c <= 122);

/** Where the ISBN or EAN starting at `at` ends, or 0. */
function isbnAt(text: string, at: number): number {
  ISBN.lastIndex = at;
  const match = ISBN.exec(text);
  if (match === null) return 0;
  const number = match[2]!;
  return isbnEnd(text, at + match[0].length - number.length, number, match[1]);
}

/** Where the IBAN starting at `at` ends, or 0. */
function ibanAt(text: string, at: number): number {
  IBAN.lastIndex = at;
  const match = IBAN.exec(text);
  if (match === null) return 0;
  const length = ibanLength(match[0]);
  return length > 0 ? at + length : 0;
}

/**
 * Where the ISBN (or EAN) that starts with `number` (found by `ISBN` at `start`, after `keyword`
 * if there is one) ends, or 0 when it is none. Every one needs a valid check digit, and then:
 *
 * - After `isbn`: 10 digits (the last may be `x`), or 13 starting with 978 or 979, as every
 *   ISBN-13 does. The keyword says where the number starts; where it ends, the check digit says:
 *   its first 10 and its first 13 digits are tried where they end a group, the longer kept.
 * - After `ean`: 13 digits, any prefix (a product's barcode).
 * - Without a keyword: 13 digits starting with 978 or 979, wherever they are
 *   (`0612345678 978-3-16-148410-0` is a number and an ISBN: phone digits rarely have 978 or 979
 *   where a group starts, a group ending 13 digits later and a valid check digit), or an ISBN-10 in its printed
 *   form (`0-306-40615-2`) standing alone: no digit just before or after, but for a separator.
 *   Never in a number written after a `+`: `+49 978 316 148 410 0` is a phone number.
 *   Not a bare EAN-13 without its keyword: a phone number written with its `00` international
 *   prefix has 12 to 15 digits, and one in ten of those with 13 has a valid check digit, so
 *   they would be lost; a barcode beside the number to call is too rare in an ad to be worth it.
 *   Nor a bare 10-digit ISBN: one 10-digit phone number in eleven passes the mod-11 check.
 */
function isbnEnd(text: string, start: number, number: string, keyword: string | undefined): number {
  if (keyword === undefined) {
    const end = start + number.length;
    const digits = number.replace(/[ -]/g, '');
    if (digits.length === 13) return isIsbn13Prefix(number) && validEan13(digits) && !afterPlus(text, start) ? end : 0;
    const alone = !separatedDigit(text, start - 1, start - 2) && !separatedDigit(text, end, end + 1);
    return alone && digits.length === 10 && ISBN10_HYPHENATED.test(number) && validIsbn10(digits) ? end : 0;
  }
  // The digits up to each group's end.
  let digits = '';
  let found = 0;
  for (let i = 0; i < number.length; i++) {
    const c = number[i]!;
    if (c === ' ' || c === '-') continue;
    digits += c;
    const groupEnds = i + 1 === number.length || number[i + 1] === ' ' || number[i + 1] === '-';
    if (!groupEnds) continue;
    if (digits.length === 10 && keyword === 'isbn' && validIsbn10(digits)) found = i + 1;
    else if (digits.length === 13 && (keyword === 'ean' || isIsbn13Prefix(number)) && validEan13(digits)) found = i + 1;
  }
  return found > 0 ? start + found : 0;
}

/**
 * Whether the digits at `start` go on a number written after a `+` (`+49 978 316…`), which is
 * always a phone number. Looks back over digits and separators, 24 characters at most.
 */
function afterPlus(text: string, start: number): boolean {
  for (let i = start - 1; i >= 0 && i >= start - 24; i--) {
    const c = text[i]!;
    if (c === '+') return true;
    if (!((c >= '0' && c <= '9') || c === ' ' || c === '.' || c === '/' || c === '-' || c === '(' || c === ')')) return false;
  }
  return false;
}

/** A separator at `at` with a digit at `next`: the digits there go on. */
function separatedDigit(text: string, at: number, next: number): boolean {
  if (at < 0 || next < 0 || next >= text.length) return false;
  const c = text[at];
  const d = text.charCodeAt(next);
  return (c === ' ' || c === '.' || c === '/' || c === '-') && d >= 48 && d <= 57;
}

const isIsbn13Prefix = (number: string): boolean => number.startsWith('978') || number.startsWith('979');

/** EAN-13 (and ISBN-13): digits weighted 1, 3, 1, 3… sum to a multiple of 10. */
function validEan13(digits: string): boolean {
  if (!/^\d{13}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < 13; i++) sum += (digits.charCodeAt(i) - 48) * (i % 2 === 0 ? 1 : 3);
  return sum % 10 === 0;
}

/** ISBN-10: digits weighted 10 down to 1 (a last `x` is 10) sum to a multiple of 11. */
function validIsbn10(digits: string): boolean {
  if (!/^\d{9}[\dx]$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < 10; i++) sum += (10 - i) * (digits[i] === 'x' ? 10 : digits.charCodeAt(i) - 48);
  return sum % 11 === 0;
}

/**
 * The length of the IBAN `candidate` starts with (spaces included), or 0. ISO 7064 mod 97-10:
 * the number moved to end with its country and check digits, letters read as 10 (`a`) to 35
 * (`z`), leaves 1 divided by 97, and the check digits are 02 to 98. A candidate written in
 * groups may have taken a word after the IBAN for a last group (`be68 5390 0754 7034 tel`), so
 * every group end of 11 and more characters is tried, the longest first: one pass, the
 * remainder of the number up to each group end kept.
 */
function ibanLength(candidate: string): number {
  const check = (candidate.charCodeAt(2) - 48) * 10 + (candidate.charCodeAt(3) - 48);
  if (check < 2 || check > 98) return 0;
  // The country and check digits as the number they end with: 6 digits.
  const tail = ((candidate.charCodeAt(0) - 87) * 100 + (candidate.charCodeAt(1) - 87)) * 100 + check;
  let remainder = 0;
  let length = 0;
  let found = 0;
  for (let i = 4; i < candidate.length; i++) {
    const c = candidate.charCodeAt(i);
    if (c === 32) continue;
    remainder = c <= 57 ? (remainder * 10 + c - 48) % 97 : (remainder * 100 + c - 87) % 97;
    length++;
    const groupEnds = i + 1 === candidate.length || candidate.charCodeAt(i + 1) === 32;
    if (groupEnds && length >= 11 && length <= 30 && (remainder * 1_000_000 + tail) % 97 === 1) found = i + 1;
  }
  return found;
}

// Two amounts written with thousands separators, a range (`10.000-15.000`, `150.000 - 200.000`).
// A number starting with 0 is not an amount (`06.123.456-78` is a phone).
const AMOUNT_RANGE = /^[1-9]\d{0,2}(?:\.\d{3})+ ?- ?[1-9]\d{0,2}(?:\.\d{3})+$/;

/**
 * Whether a run of digits is a list of numbers rather than a phone number: a price or mileage
 * range (`10.000-15.000`), or three or more groups of one length that step up evenly (sizes
 * `36 38 40 42 44`, years `2019 2020 2021 2022`, `42/44/46/48`). Honest ads are full of these,
 * and each counted as a phone number, so an ad with sizes and one real number was "contact
 * stuffing". Real numbers whose groups rise in even steps (`01 23 45 67 89`) are rare, and a
 * spammer cannot choose the digits of the number they want called.
 */
function isNumberList(run: string): boolean {
  if (run.startsWith('+')) return false; // an international prefix: a phone number
  if (AMOUNT_RANGE.test(run)) return true;
  const groups = run.match(DIGIT_GROUPS)!;
  if (groups.length < 3) return false;
  const width = groups[0]!.length;
  if (width < 2) return false;
  const step = Number(groups[1]) - Number(groups[0]);
  if (step <= 0) return false;
  for (let i = 1; i < groups.length; i++) {
    if (groups[i]!.length !== width || Number(groups[i]) - Number(groups[i - 1]) !== step) return false;
  }
  return true;
}

/**
 * E-mail addresses in normalised text, plain or spelled out. Found from their "at" (`@`,
 * `(at)`, ` at `…): the local part is read backwards from it, the domain forwards. A plain
 * " at " counts only with a spelled-out " dot " after it (`john at example dot com`): "see us at
 * example.com" is a link, not an address.
 */
export function findEmails(normalised: string, ascii = isAscii(normalised)): string[] {
  // Three substring searches find a bracket several times faster than a character-class regex.
  // `dot ` first: V8 seeks a pattern by its first character, and a space is every fifth one, so
  // searching ' dot ' alone costs four times as much on text that has neither.
  const spelled = (normalised.includes('dot ') && normalised.includes(' dot ')) || ((normalised.includes('(') || normalised.includes('[') || normalised.includes('{')) && BRACKETED.test(normalised));
  if (!normalised.includes('@') && !spelled) return [];
  const found: string[] = [];
  const inUserInfo = userInfoTest(normalised);
  let searchFrom = 0;
  for (const match of spelled ? normalised.matchAll(AT) : plainAts(normalised)) {
    const at = match[0];
    if (at === ' at ' && !spelled) continue;
    const start = match.index;
    if (start < searchFrom) continue;
    const localChar = ascii ? LOCAL_CHAR : LOCAL_CHAR_UNICODE;
    let local = start;
    while (local > 0 && start - local < 64 && localChar.test(normalised[local - 1]!)) local--;
    if (local === start || !(ascii ? /[a-z0-9]/ : /[\p{L}\p{N}]/u).test(normalised[local]!) || (local > 0 && localChar.test(normalised[local - 1]!))) continue;
    const domainAt = ascii ? DOMAIN : DOMAIN_UNICODE;
    domainAt.lastIndex = start + at.length;
    const domain = domainAt.exec(normalised)?.[0];
    if (!domain || (at === ' at ' && !SPELLED_DOT.test(domain)) || (at === '@' && inUserInfo(start))) continue;
    const plain = domain.replace(SPELLED_DOTS, '.');
    // An internationalised domain in the ASCII (punycode) form domain lists hold.
    found.push(`${normalised.slice(local, start)}@${ascii || ASCII_DOMAIN.test(plain) ? plain : domainToASCII(plain) || plain}`);
    searchFrom = domainAt.lastIndex;
  }
  return found;
}

/** How far back from an `@` the `//` of a URL is looked for: a user-info longer than this is counted as an address. */
const MAX_USER_INFO = 256;

/**
 * A test of whether the `@` at an index of `text` is in the user-info of a URL
 * (`http://paypal.example@evil.example/`, `//name:pw@host`): the part before it names no
 * mailbox, and the host after it is the link's (links.ts reads it). Counted as an address, it
 * inflated `content.emails` and put the link's host among the e-mail domains. Looks back from the
 * `@` to where the authority starts (links.ts `endsAuthority`) and asks links.ts whether a link's
 * authority starts there (`startsLinkAuthority`: after `http:/`, `//` or as `www.`); asked for `@`
 * signs in increasing order, and each stretch of text is looked at once (the answer of the
 * stretch up to the previous `@` is kept), so the cost is linear.
 */
function userInfoTest(text: string): (at: number) => boolean {
  let previous = -2; // no `@` asked yet (-1 is the start of the text)
  let previousAnswer = false;
  const answer = (at: number): boolean => {
    for (let i = at - 1; i >= -1 && at - i <= MAX_USER_INFO; i--) {
      if (i === previous) return previousAnswer; // the same authority as the previous `@`
      if (i === -1 || endsAuthority(text, i)) return startsLinkAuthority(text, i + 1);
    }
    return false;
  };
  return (at) => {
    previousAnswer = answer(at);
    previous = at;
    return previousAnswer;
  };
}

/** The `@` signs of a text with the white space around them, as `AT` would match them: no regex scan. */
function* plainAts(text: string): Generator<{ 0: string; index: number }> {
  for (let i = text.indexOf('@'); i !== -1; i = text.indexOf('@', i + 1)) {
    const start = i > 0 && text[i - 1] === ' ' ? i - 1 : i;
    const end = text[i + 1] === ' ' ? i + 2 : i + 1;
    yield { 0: text.slice(start, end), index: start };
  }
}

/** The domain of an address, lower case. */
export const emailDomain = (address: string): string => address.slice(address.lastIndexOf('@') + 1);
