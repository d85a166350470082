/**
 * Links in free text and the hosts they point to, as a browser would read them: the host of the
 * WHATWG URL standard (what browsers and Node's `new URL` implement) for http and https. Domain
 * lists are matched against these hosts, so wherever our reading differs from the browser's a
 * spammer can hide a blocked domain behind an allowed one: `http://evil.example\@good.example`
 * opens `evil.example` (a `\` ends the authority as `/` does), `http://good.example@evil.example`
 * and `http://a@b@evil.example` open `evil.example` (the host is after the last `@`),
 * `http://evil%2eexample` opens `evil.example`, `http://0x7f.1` opens `127.0.0.1`, and
 * `http://пример.рф` is `xn--e1afmkfd.xn--p1ai`, the ASCII (punycode) form domain lists hold.
 * Underscores are allowed (browsers open `a_b.evil.example`).
 *
 * Free text is not a URL, so where the two part ways the text's reading wins: a link ends at
 * white space (tab and line breaks included, which WHATWG would delete: `http://evil.example` at
 * the end of a line is not `evil.examplethanks`) and at `<`, `>`, `"` and a backtick (RFC 3986's
 * delimiters of a URL in text), and a host ends at the first character no host name has
 * (`(see http://evil.example).` and `http://evil.example,call` are `evil.example`, where a
 * browser would try `evil.example).` or `evil.example,call`, names that never resolve). Nor
 * does a host that is ASCII go on into a word of a script written without spaces (Japanese,
 * Chinese, Thai…; Korean, whose particles join the word before them): `http://evil.exampleまで`
 * and `http://evil.example。次へ` are `evil.example` to a reader and to linkifiers, where a browser
 * would try the internationalised `evil.xn--example-…`, a name no list holds (see `textHost`).
 * links.property.test.ts checks the rest against `new URL` on generated hostile URLs.
 *
 * Reads text that is lower case with invisible characters removed; for text that is not plain
 * ASCII, `linkForm` of the raw text (normalised text has lost the accents and look-alikes that
 * make an internationalised host what it is). The usual link (`https://host/path`) is read by one
 * regex match; only a host followed by something else (`\`, `@`, `%`, a number form…) takes the
 * slower reading, bounded in length and in count. Linear: every repetition is bounded, each match
 * starts at a fixed `http`/`www`, and each stretch of authority is scanned once.
 */
import { domainToASCII } from 'node:url';
import { requireFromCore } from '../require.js';

// `http(s):` with the slashes a browser takes after it (any number of `/` and `\`:
// `http:\\evil.example` opens evil.example), or `www.`.
const START = String.raw`\b(?:https?:[\/\\]+|www[.\u3002])`;
const ASCII_LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,62}[a-z0-9_])?';
// An IPv6 address in brackets, the host of `http://[2001:db8::1]/`: a link all the same.
const IPV6_HOST = String.raw`\[[0-9a-f:.]{2,45}\]`;
const ASCII_HOST = `${ASCII_LABEL}(?:\\.${ASCII_LABEL})*|${IPV6_HOST}`;
// Any script's letters, digits and marks; the ideographic full stop `。` separates labels too (IDNA maps it to `.`).
const LABEL = String.raw`[\p{L}\p{N}_](?:[\p{L}\p{N}\p{M}_-]{0,62}[\p{L}\p{N}\p{M}_])?`;
const UNICODE_HOST = `${LABEL}(?:[.\\u3002]${LABEL})*|${IPV6_HOST}`;
// A link's start and, when one is right there (most links), its host: one match per usual link.
const LINK_ASCII = new RegExp(`${START}(${ASCII_HOST})?`, 'g');
const LINK_UNICODE = new RegExp(`${START}(${UNICODE_HOST})?`, 'gu');
// A host where a user-info ends (after its last `@`).
const HOST_ASCII = new RegExp(ASCII_HOST, 'y');
const HOST_UNICODE = new RegExp(UNICODE_HOST, 'uy');
const ASCII = /^[\x21-\x7e]*$/;

/** What one text's link scan keeps between links. */
interface Scan {
  readonly text: string;
  /** The text is plain ASCII: no host needs IDNA. */
  readonly ascii: boolean;
  readonly hostAt: RegExp;
  /** Host parts converted by `domainToASCII` ('' for none), at most `MAX_CONVERSIONS`. */
  readonly converted: Map<string, string>;
  /** The authority scanned last: where it ends, and its last `@` (-1: none). */
  authorityEnd: number;
  lastAt: number;
  /** Links read the slow way so far. */
  slowReads: number;
}

/** A host read, and where in the text its reading ended. */
interface HostRead {
  readonly host: string;
  readonly end: number;
  /**
   * Where the link scan goes on, when before `end`: right after a host that `textHost` cut, so a
   * link the next word ran into is read too (`http://a.exampleまたはhttp://b.example`, "or";
   * `http://a.exampleまでwww.b.example`). Always after the link's start, so the scan moves on.
   */
  readonly next?: number;
}

/**
 * The hosts of the links in `text`, one per link, lower case, in ASCII form and without `www.`.
 * `ascii`: the text is plain ASCII (normalised text); otherwise it is `linkForm` of the raw text.
 */
export function linkedHosts(text: string, ascii: boolean): string[] {
  const hosts: string[] = [];
  text = refang(text);
  const scan: Scan = { text, ascii, hostAt: ascii ? HOST_ASCII : HOST_UNICODE, converted: new Map(), authorityEnd: -1, lastAt: -1, slowReads: 0 };
  // An exec loop on the shared regex, which matchAll would clone: the loop moves lastIndex past
  // what a link's reading took (a user-info is no place for a link to start).
  const link = ascii ? LINK_ASCII : LINK_UNICODE;
  link.lastIndex = 0;
  for (let match = link.exec(text); match !== null; match = link.exec(text)) {
    const read = readLink(scan, match);
    if (read === null) continue; // no host: a link may start further on
    hosts.push(boundedHost(read.host.startsWith('www.') ? read.host.slice(4) : read.host));
    if (read.next !== undefined) link.lastIndex = read.next;
    else if (read.end > link.lastIndex) link.lastIndex = read.end;
  }
  return hosts;
}

/** The host of the link `match` starts, or null when it has none. */
function readLink(scan: Scan, match: RegExpExecArray): HostRead | null {
  const { text } = scan;
  const quick = match[1];
  const matchEnd = match.index + match[0].length;
  const afterStart = matchEnd - (quick?.length ?? 0);
  // The usual link: the host the regex read is all of the authority (then `/`, a port, the end…).
  if (quick !== undefined && endsHost(text, matchEnd)) return plainHost(scan, quick, afterStart, matchEnd);
  // A host the next word ran into (`http://evil.exampleまで@good.example`) ends there, as a reader
  // and linkifiers end it: the `@` after that word makes no user-info of the link they see.
  if (quick !== undefined && !scan.ascii && !ASCII.test(quick) && textHost(quick) !== quick) return plainHost(scan, quick, afterStart, matchEnd);
  // A user-info: the host is after its last `@` (a `www.` link typed into a browser has one too).
  const at = lastAtSign(scan, text.charCodeAt(match.index) === 119 ? match.index : afterStart);
  let host = quick;
  let hostStart = afterStart;
  let hostEnd = matchEnd;
  if (at !== -1) {
    hostStart = at + 1;
    scan.hostAt.lastIndex = hostStart;
    host = scan.hostAt.exec(text)?.[0];
    hostEnd = hostStart + (host?.length ?? 0);
  }
  // A host the regex did not read whole (`evil%c3%a9.example`, `-a.example`): parsed as a browser parses it.
  if (host === undefined || isHostPartChar(text, hostEnd)) {
    const parsed = parsedHost(scan, hostStart);
    if (parsed !== null) return parsed;
  }
  // What follows is no host's (`evil.example,call`), or the browser would open nothing: as the regex read it.
  if (host !== undefined) return plainHost(scan, host, hostStart, hostEnd);
  return quick !== undefined ? plainHost(scan, quick, afterStart, matchEnd) : null;
}

/**
 * `host` (read by the regex from `start` to `end`) in the form a browser opens: an internationalised
 * one in punycode, an IPv4 address written as a number (`0x7f.1`, `3232235777`, `0300.0250.1.1`)
 * in its dotted form. Kept as written when it has no such form.
 */
function plainHost(scan: Scan, written: string, start: number, end: number): HostRead {
  const ascii = scan.ascii || ASCII.test(written);
  const host = ascii ? written : textHost(written);
  if (endsInNumber(host)) return parsedHost(scan, start) ?? { host, end };
  if (ascii) return { host, end };
  // An invalid internationalised name has no ASCII form: kept as written, it still counts as a link.
  if (host === written) return { host: converted(scan, host) || host, end };
  return { host: ASCII.test(host) ? host : converted(scan, host) || host, end, next: start + host.length };
}

// Scripts written without spaces between words, and Hangul, whose particles join the word
// before them (`evil.example에서`). By script extension, so that the letters they share count
// too: the prolonged sound mark `ー` is of the Common script, and kana by extension.
const UNSPACED = String.raw`\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}\p{scx=Thai}\p{scx=Lao}\p{scx=Khmer}\p{scx=Myanmar}`;
// An ASCII letter or digit followed by a letter of such a script, perhaps after ideographic full
// stops (which end a sentence there: `evil.example。次へ`): the host ends after the ASCII character.
// Not a digit of a percent escape (`%e3%80%82例` is `。例` to a browser, and no reader's word).
const INTO_UNSPACED = new RegExp(String.raw`(?<!%[0-9a-f]?)[a-z0-9](?=\u3002*(?=\p{L})[${UNSPACED}])`, 'gu');
// A whole ASCII label, then a full stop and a letter of such a script (`evil.com.这里`): when the
// label is a top-level domain, the name ended there and the full stop ended the sentence.
const TLD_INTO_UNSPACED = new RegExp(String.raw`(?<![\p{L}\p{N}\p{M}_%-])[a-z0-9-]+(?=[.\u3002](?=\p{L})[${UNSPACED}])`, 'gu');

/**
 * `host`, read out of free text, as a reader ends it: at the first place an ASCII letter or digit
 * runs straight into a letter of a script written without spaces (or into ideographic full stops
 * and then one) after the host's first full stop: `evil.exampleまで`, `evil.example这里`,
 * `evil.example。次へ` and `例え.jpまで` are `evil.example`, `evil.example` and `例え.jp`. Japanese,
 * Chinese or Thai text puts no space after a link, so the next word joins the host's last label,
 * and the internationalised name a browser would try (`evil.xn--example-…`) resolves nowhere
 * but slipped past every domain list, while a reader and linkifiers (twitter-text's, chat apps')
 * see `evil.example`.
 *
 * An ASCII full stop between the two ends the host too when the label before it is a top-level
 * domain (`http://evil.com.这里` is `evil.com`): the name was whole, and the full stop, half-width
 * punctuation in a CJK sentence, ended the sentence. Read whole, it was the internationalised
 * `evil.com.xn--…`, past every list again. Not after any other label (`a.b.例え.jp`,
 * `news.example.中国` are such names). The price: a name with a root-zone TLD as an inner label
 * before a label of the script (`evil.com.中国`; a brand's TLD too: `news.baidu.中国`) reads as
 * its ASCII part, the name its reader sees.
 *
 * Internationalised hosts keep their reading: a label of the script itself (`例え.jp`,
 * `baidu.中国`, `thnic.ไทย`: a full stop, not an ASCII letter, before it) and a label that mixes
 * the two before the first full stop (`abc例え.jp`, `www.abc例え.jp`: `abc` alone is no link).
 * Only a name with an ASCII subdomain before such a mixed label (`shop.abc例え.jp`, rare:
 * registries rarely mix the two) now reads as that subdomain. Latin, Cyrillic or Greek letters
 * after ASCII end nothing (`www.münchen.de`): those scripts put spaces between words, and their
 * hosts mix ASCII and other letters anywhere.
 */
function textHost(host: string): string {
  // The first full stop after the name's first label, `www.` being no name of its own.
  const from = host.startsWith('www.') || host.startsWith('www\u3002') ? 4 : 0;
  let dot = host.indexOf('.', from);
  const ideographic = host.indexOf('\u3002', from);
  if (dot === -1 || (ideographic !== -1 && ideographic < dot)) dot = ideographic;
  if (dot === -1) return host;
  INTO_UNSPACED.lastIndex = dot + 1;
  const junction = INTO_UNSPACED.exec(host);
  let end = junction === null ? host.length : junction.index + 1;
  TLD_INTO_UNSPACED.lastIndex = dot + 1;
  for (let label = TLD_INTO_UNSPACED.exec(host); label !== null && label.index < end; label = TLD_INTO_UNSPACED.exec(host)) {
    if (isTopLevelDomain(label[0])) end = label.index + label[0].length;
  }
  return end === host.length ? host : host.slice(0, end);
}

let topLevelDomains: ReadonlySet<string> | undefined;

/**
 * Whether `label` is a top-level domain of the root zone, from `tlds` (a maintained copy of
 * IANA's list, ~1,450 names, loaded on first use: only a host that is not plain ASCII asks).
 */
function isTopLevelDomain(label: string): boolean {
  if (!topLevelDomains) {
    topLevelDomains = new Set(requireFromCore('tlds') as string[]);
  }
  return topLevelDomains.has(label);
}

// An IPv4 address as every browser writes it: no number form to parse.
const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * Whether `host` may be an IPv4 address a browser reads as a number (WHATWG: its last label
 * starts with a digit; `0x7f.1`, `3232235777`, `1.2.3`), other than in its dotted form.
 */
function endsInNumber(host: string): boolean {
  const c = host.charCodeAt(host.lastIndexOf('.') + 1);
  return c >= 48 && c <= 57 && host.charCodeAt(0) !== 91 && !DOTTED_QUAD.test(host);
}

/**
 * Whether a host read up to `at` is the whole host: what follows is the end of the authority,
 * perhaps after a port (`:8080`) or after punctuation that ends the sentence (`evil.example).`).
 */
function endsHost(text: string, at: number): boolean {
  let i = at;
  while (i < text.length && TRAILING.has(text.charCodeAt(i))) i++;
  if (i < text.length && text.charCodeAt(i) === 58) {
    // A port, or a password (`http://a.example:pw@evil.example`): only digits make a port.
    const digits = ++i;
    while (i < text.length && i - digits <= MAX_PORT_DIGITS && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  }
  return i >= text.length || endsAuthority(text, i);
}

/** Digits of a port before it is no port (WHATWG allows leading zeros). */
const MAX_PORT_DIGITS = 8;
// Punctuation that ends a sentence or a bracket rather than a host: `.`, `,`, `;`, `!`, `)`, `]`, `}`, `'`, `*`.
const TRAILING: ReadonlySet<number> = new Set([46, 44, 59, 33, 41, 93, 125, 39, 42]);

/**
 * Whether the character at `i` ends an authority: `/`, `\`, `?` and `#` (WHATWG, for http and
 * https), white space, and the characters RFC 3986 says delimit a URL in text: `<`, `>`, `"`, a backtick.
 */
export function endsAuthority(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c <= 32) return true;
  if (c < 128) return c === 47 || c === 92 || c === 63 || c === 35 || c === 60 || c === 62 || c === 34 || c === 96;
  return SPACE.test(text[i]!);
}

const SPACE = /\s/;

/**
 * The last `@` of the authority that starts at `from`, or -1. Scans to the authority's end once:
 * a link starting inside an authority scanned before (`www.a,www.a,…`) reuses that scan, so the
 * cost stays linear in the text.
 */
function lastAtSign(scan: Scan, from: number): number {
  if (from >= scan.authorityEnd) {
    const { text } = scan;
    let lastAt = -1;
    let i = from;
    for (; i < text.length && !endsAuthority(text, i); i++) if (text.charCodeAt(i) === 64) lastAt = i;
    scan.authorityEnd = i;
    scan.lastAt = lastAt;
  }
  return scan.lastAt >= from ? scan.lastAt : -1;
}

/**
 * The host part that starts at `from`, parsed as a browser parses it: percent-encoded bytes
 * decoded, an IPv4 number in dotted form, IDNA mapping and punycode. `domainToASCII` is WHATWG's
 * host parser (Node runs it as the hostname setter of a special URL).
 *
 * The part is read up to the first character no host name has (letters, digits and marks of any
 * script, `-`, `_`, full stops, `%` escapes): a browser keeps `,`, `!`, `'`, `」`… in a host
 * (`http://evil.example,call` opens `evil.example,call`), but no name with them resolves, while
 * a reader, and linkifiers, take the link to end there, at `evil.example`, which is what the
 * domain lists must see. A character decoded from an escape is cut the same way.
 *
 * Null when the browser would open nothing, when the part is longer than any host DNS resolves,
 * or past `MAX_SLOW_READS` per text.
 */
function parsedHost(scan: Scan, from: number): HostRead | null {
  const { text } = scan;
  if (scan.slowReads >= MAX_SLOW_READS) return null;
  scan.slowReads++;
  let end = from;
  const limit = Math.min(text.length, from + MAX_HOST_PART + 1);
  while (end < limit && isHostPartChar(text, end)) end++;
  if (end - from > MAX_HOST_PART) return null;
  const written = text.slice(from, end);
  const name = scan.ascii || ASCII.test(written) ? written : textHost(written);
  const part = name.replace(FINAL_DOTS, '');
  if (part === '') return null;
  const ascii = converted(scan, part);
  const cut = NOT_IN_HOST_NAME.exec(ascii);
  const host = (cut === null ? ascii : ascii.slice(0, cut.index)).replace(FINAL_DOTS, '');
  if (host === '') return null;
  return name === written ? { host, end } : { host, end, next: from + name.length };
}

/** Whether the character at `i` may be part of a host name as written: see `parsedHost`. */
function isHostPartChar(text: string, i: number): boolean {
  if (i >= text.length) return false;
  const c = text.charCodeAt(i);
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95 || c === 37;
  return c === 0x3002 || UNICODE_LABEL_CHAR.test(text[i]!);
}

const UNICODE_LABEL_CHAR = /[\p{L}\p{N}\p{M}]/u;
// A final full stop names the same host (`evil.example.` is `evil.example`).
const FINAL_DOTS = /[.\u3002]+$/;
const NOT_IN_HOST_NAME = /[^a-z0-9_.-]/;

/**
 * The most characters a host part read the slow way may have: a 253-character name with every
 * character percent-encoded and then some. Longer, no browser resolves it.
 */
const MAX_HOST_PART = 1024;
/** Links per text whose host is read the slow way; past it, as the regex reads them. */
const MAX_SLOW_READS = 1024;

/**
 * `domainToASCII(part)`, '' when it has none; each part converted once, at most `MAX_CONVERSIONS`
 * of them per text. domainToASCII costs ~2 µs: 64 KB of distinct hosts would take ~10 ms a
 * field, and links past the first hundreds are counted all the same (`maxLinks` has long spoken).
 */
function converted(scan: Scan, part: string): string {
  const known = scan.converted.get(part);
  if (known !== undefined) return known;
  if (scan.converted.size >= MAX_CONVERSIONS) return '';
  const ascii = domainToASCII(part);
  scan.converted.set(part, ascii);
  return ascii;
}

/** The longest host name DNS allows (RFC 1035): 253 characters. */
const MAX_HOST = 253;

/**
 * `host` when it is at most 253 characters long, else its last labels that fit. The link scan
 * takes any number of labels, and a 64 KB host (`a.a.a…a.evil.example`) cost the domain-list
 * lookup and the model's parent-domain tokens time quadratic in its length (a second and more per
 * field); its last labels are where its registrable domain is, which is what lists match.
 */
export function boundedHost(host: string): string {
  if (host.length <= MAX_HOST) return host;
  const tail = host.slice(host.length - MAX_HOST);
  const dot = tail.indexOf('.');
  return dot === -1 ? tail : tail.slice(dot + 1);
}

/** Distinct internationalised hosts converted to ASCII per text. */
const MAX_CONVERSIONS = 256;

// Defanged links, as threat reports write them and spammers copy them to slip past link
// filters: `hxxp://`, `hxxps://`, and a full stop in brackets, `example[.]com`, `example(dot)com`.
const DEFANGED_SCHEME = /\bhxxp(s?):\/\//g;
const BRACKETED_DOT = /\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}/g;

/**
 * `text` with defanged link parts restored (`hxxp://` → `http://`, `[.]` → `.`) and percent-encoded
 * host characters decoded (`%2e` → `.`), so that the link scan reads `hxxp://evil[.]example/x` and
 * `http://evil%2eexample/x` as the links they are. The text itself when it has none.
 */
export function refang(text: string): string {
  const refanged = text.includes('hxxp') || hasBracketedDot(text) ? text.replace(DEFANGED_SCHEME, 'http$1://').replace(BRACKETED_DOT, '.') : text;
  return refanged.includes('%') ? refanged.replace(PERCENT_ENCODED, decodeHostChar) : refanged;
}

// A percent-encoded byte. A browser decodes these in a host (WHATWG URL: `http://evil%2eexample`
// and `http://%65vil.example` open `evil.example`), so a link written so slipped past the domain
// lists (read as host `evil`) or was no link at all.
const PERCENT_ENCODED = /%[0-9a-f]{2}/gi;

/** `%xx` as its character when that is one of a host (a letter, digit, `.`, `-` or `_`, lower-cased); otherwise as written. */
function decodeHostChar(encoded: string): string {
  let c = Number.parseInt(encoded.slice(1), 16);
  if (c >= 65 && c <= 90) c += 32;
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 46 || c === 45 || c === 95 ? String.fromCharCode(c) : encoded;
}

/**
 * Top-level domains a bare host must end with to count as a link (`example.com/x`): the generic
 * ones, those URL shorteners and spam campaigns use, and the larger country codes. Curated, not
 * the ~1,450 of the root zone: many country codes are also file extensions (`.md`, `.py`, `.sh`,
 * `.pl`), and a link needs a known ending to be told from "e.g." or "version 1.2".
 */
const KNOWN_TLDS: ReadonlySet<string> = new Set(
  ('com net org info biz edu gov mil int name pro mobi tel asia xyz top online site club shop store live app dev link click win bid ' +
    'loan icu vip buzz fun space website tech work today world life news email rest bar cam cyou monster sbs cfd quest lat pw ' +
    'io co me ly gl gd to cc tk ml ga cf gq tv ws cx gg im ai sh st vc fm am nu su ' +
    'ru ua by kz uk de fr it es nl be ch at se no dk fi ie pt gr tr cz sk hu ro bg hr si rs lt lv ee is eu us ca mx br ar cl ' +
    'co pe ve au nz jp kr cn hk tw sg my id th vn ph in pk bd lk ir il ae sa qa eg ma ng ke za').split(' '),
);

const LABEL_PART = '[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?';
// A chain of labels separated by full stops, plain or bracketed, starting where no label, URL or
// address part goes on before it. Linear: each repetition starts with a separator, which no
// label character can be.
const BARE_HOST = new RegExp(`(?<![a-z0-9@._/:\\\\%+=?&#~-])${LABEL_PART}(?:(?:\\.|\\[\\.\\]|\\(\\.\\)|\\{\\.\\}|\\[dot\\]|\\(dot\\)|\\{dot\\})${LABEL_PART}){1,16}`, 'g');
/**
 * A bracketed full stop in `text` (`[.]`, `(dot)`…): found from the few brackets by substring
 * search, which costs a fraction of a regex scan of every character (~0.4 µs per 1 KB ad).
 */
function hasBracketedDot(text: string): boolean {
  for (const open of ['[', '(', '{']) {
    for (let i = text.indexOf(open); i !== -1; i = text.indexOf(open, i + 1)) {
      const close = text.charCodeAt(i + 2);
      if (text.charCodeAt(i + 1) === 46 ? close === 93 || close === 41 || close === 125 : text.startsWith('dot', i + 1) && ']})'.includes(text[i + 4] ?? '-')) return true;
    }
  }
  return false;
}

// What precedes an e-mail domain, spelled out or not (`name(at)example(dot)com` is an address).
const AT_BEFORE = /(?:@|[([{] ?at ?[)\]}]|\sat) ?$/;

// A whole chain of labels, for the text before a `/`.
const PLAIN_CHAIN = new RegExp(`^${LABEL_PART}(?:\\.${LABEL_PART}){1,16}$`);
// Characters a chain of labels is made of, and those that, before it, make it part of a URL or
// an address rather than a link of its own.
const isChainChar = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 46 || c === 45 || c === 95;
const NOT_BEFORE = new Set([64, 47, 58, 92, 37, 43, 61, 63, 38, 35, 126].map((c) => String.fromCharCode(c)));

/**
 * Hosts of the links written without `http://` or `www.`: a known top-level domain followed by a
 * path (`example.com/x`, `bit.ly/abc`), or written defanged (`example[.]com`, `example(dot)com`,
 * path or not). A bare `example.com` with neither is not a link here: mailing lists and ads name
 * sites in passing, and too many names look like domains. Reads normalised text (lower case);
 * one host per link (`www.` ones are `linkedHosts`'s). Found from the few `/` and brackets of a
 * text: a regex scan for chains of labels cost ~10 µs per 1 KB ad.
 */
export function bareHosts(text: string): string[] {
  const hosts: string[] = [];
  // The ideographic full stop separates labels as `.` does (IDNA maps it): `evil。com/x` opens evil.com.
  if (text.includes('\u3002')) text = text.replaceAll('\u3002', '.');
  for (let slash = text.indexOf('/'); slash !== -1; slash = text.indexOf('/', slash + 1)) {
    let start = slash;
    while (start > 0 && slash - start < 260 && isChainChar(text.charCodeAt(start - 1))) start--;
    if (start === slash) continue;
    const host = text.slice(start, slash);
    if (start > 0 && text.charCodeAt(start - 1) === 64) {
      // After a user-info (`ftp://good.example@evil.example/x`): a link after a scheme the link scan does not read.
      if (PLAIN_CHAIN.test(host) && isLinkHost(host) && endsBrokenUserInfo(text, start - 1)) hosts.push(host);
      continue;
    }
    if (start > 0 && (isChainChar(text.charCodeAt(start - 1)) || (NOT_BEFORE.has(text[start - 1]!) && !afterBrokenScheme(text, start)))) continue;
    if (PLAIN_CHAIN.test(host) && isLink(text, start, host)) hosts.push(host);
  }
  if (hasBracketedDot(text)) {
    BARE_HOST.lastIndex = 0;
    for (let match = BARE_HOST.exec(text); match !== null; match = BARE_HOST.exec(text)) {
      const chain = match[0];
      if (!chain.includes('[') && !chain.includes('(') && !chain.includes('{')) continue; // plain: read above, with its path
      const host = chain.replace(BRACKETED_DOT, '.');
      if (isLink(text, match.index, host)) hosts.push(host);
    }
  }
  return hosts;
}

// The schemes the link scan reads (linkedHosts): `http(s):` with any slashes after it, as a
// browser takes them, and a defanged `hxxp(s)://` (`refang` restores it with its `//` only).
const SCANNED_SCHEME = /(?:^|[^a-z0-9_])https?:$/;
const DEFANGED_SCHEME_BEFORE = /(?:^|[^a-z0-9_])hxxps?:$/;

/**
 * Whether the slashes before `start` begin a link rather than a path: slashes (`/` or `\`) with
 * nothing, white space, an opening bracket or quote before them (`//evil.example/x`), or a scheme
 * the link scan does not read (`h**p://`, `ftp://`, `hxxp:/`): a browser opens those, or a reader
 * types them, and they had slipped past every link count. Not `http:` with its slashes
 * (`http:\\evil.example`) or `hxxp://` (the link scan's), nor a path (`a.example/b.example`).
 */
function afterBrokenScheme(text: string, start: number): boolean {
  let i = start;
  while (i > 0 && start - i < 8 && (text[i - 1] === '/' || text[i - 1] === '\\')) i--;
  if (i === start) return false;
  if (i === 0 || /[\s(<["'`]/.test(text[i - 1]!)) return true;
  if (text[i - 1] !== ':') return false;
  const scheme = text.slice(Math.max(0, i - 7), i);
  return !(SCANNED_SCHEME.test(scheme) || (text.slice(i, start) === '//' && DEFANGED_SCHEME_BEFORE.test(scheme)));
}

/** A chain of labels at `start` is a link: a link's host (`isLinkHost`), no address before it. */
function isLink(text: string, start: number, host: string): boolean {
  return isLinkHost(host) && !AT_BEFORE.test(text.slice(Math.max(0, start - 6), start)); // an e-mail domain, spelled out or not
}

/** A chain of labels is a bare link's host: a known top-level domain, no `www.` (linkedHosts counts those). */
function isLinkHost(host: string): boolean {
  return !host.startsWith('www.') && KNOWN_TLDS.has(host.slice(host.lastIndexOf('.') + 1));
}

// Where linkedHosts starts a link: `http(s):` and slashes, or `www.`.
const LINK_START = new RegExp(START);

/**
 * Whether the authority that starts at `start` is a link's, as this module reads links: after
 * `http:` or `https:` with any slashes (the link scan's `START`), after two slashes whatever the
 * scheme (`//name:pw@host`, `ftp://…`: `bareHosts`), or a `www.` link's. Its user-info names no
 * mailbox: contacts.ts asks this rather than keeping its own idea of where links start.
 */
export function startsLinkAuthority(text: string, start: number): boolean {
  if (text.startsWith('www.', start) || text.startsWith('www\u3002', start)) return true;
  let first = start;
  while (first > 0 && (text.charCodeAt(first - 1) === 47 || text.charCodeAt(first - 1) === 92)) first--;
  return start - first >= 2 || (first < start && SCANNED_SCHEME.test(text.slice(Math.max(0, first - 7), first)));
}

/**
 * Whether the `@` at `at` ends the user-info of an authority after a broken or missing scheme
 * (`afterBrokenScheme`): `ftp://good.example@evil.example/x`, `//a:pw@evil.example/x`. A browser
 * opens the host after the last `@`; read as an address's domain, the user-info made it no link,
 * and no address either (contacts.ts leaves the user-info of `//` alone), so the host was counted
 * nowhere. Not when the user-info holds a link linkedHosts reads (`ftp://www.good.example@…`:
 * it reads the host after the `@` itself), nor for an `@` in a path or query
 * (`ftp://a.example/p@b.example/`). Scans back to where the authority starts; only the `@` right
 * before a host and its `/` scans, so each stretch between two ends of an authority is scanned at
 * most once: linear in the text.
 */
function endsBrokenUserInfo(text: string, at: number): boolean {
  let start = at;
  while (start > 0 && !endsAuthority(text, start - 1)) start--;
  return afterBrokenScheme(text, start) && !LINK_START.test(text.slice(start, at));
}
