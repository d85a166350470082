/**
 * Contact details in free text: the phone numbers and e-mail addresses a spam ad stuffs into
 * its title and body so buyers leave the site. Reads normalised text (lower case, look-alikes
 * folded, white space collapsed), so full-width digits and `ｎａｍｅ＠ｅｘａｍｐｌｅ．ｃｏｍ` are
 * already plain. Finds the spelled-out forms too: `name at example dot com`, `name (at)
 * example (dot) com`, `name [at] example [dot] com`. Every regular expression here is linear
 * (checked by recheck in the tests) and each field is bounded by the caller.
 */
import { domainToASCII } from 'node:url';
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
 * `digits`: how many digits the whole text holds, when the caller knows (shape.ts `AsciiFacts`):
 * with fewer than a number needs there is nothing to scan for.
 */
export function countPhones(normalised: string, digits = Number.POSITIVE_INFINITY): number {
  if (digits < MIN_PHONE_DIGITS) return 0;
  if (LETTER_BY_DIGIT.test(normalised)) normalised = normalised.replace(DIGITISH, digitsForLetters);
  let phones = 0;
  // An exec loop on the shared regex rather than matchAll, which clones the regex on every call.
  // PHONE never matches empty text, and exec leaves lastIndex at 0 once it finds no more.
  PHONE.lastIndex = 0;
  for (let match = PHONE.exec(normalised); match !== null; match = PHONE.exec(normalised)) {
    if (isNumberList(match[0])) continue;
    // Each date becomes a space: the digits on either side of it are groups of their own.
    const text = match[0].includes('19') || match[0].includes('20') ? match[0].replace(DATES, ' ') : match[0];
    let count = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 48 && c <= 57) count++;
    }
    if (count <= 15) {
      if (count >= 9 || (text.startsWith('+') && count >= MIN_PHONE_DIGITS)) phones++;
      continue;
    }
    // More digits than one number has: numbers side by side (`0612345678 0698765432`). Each
    // takes groups of digits until it has 9; a single group of more than 15 is no number.
    let run = 0;
    for (const group of text.match(DIGIT_GROUPS)!) {
      run += group.length;
      if (run < 9) continue;
      if (run <= 15) phones++;
      run = 0;
    }
  }
  return phones;
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
    if (!domain || (at === ' at ' && !SPELLED_DOT.test(domain))) continue;
    const plain = domain.replace(SPELLED_DOTS, '.');
    // An internationalised domain in the ASCII (punycode) form domain lists hold.
    found.push(`${normalised.slice(local, start)}@${ascii || ASCII_DOMAIN.test(plain) ? plain : domainToASCII(plain) || plain}`);
    searchFrom = domainAt.lastIndex;
  }
  return found;
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
