/**
 * Links in free text and the hosts they point to, as a browser would read them: the host after
 * any `user:password@` (`http://good.example@evil.example` goes to `evil.example`), underscores
 * allowed (browsers open `a_b.evil.example`), and internationalised hosts in their ASCII
 * (punycode) form, the form domain lists hold (`http://пример.рф` is `xn--e1afmkfd.xn--p1ai`).
 * Reads text that is lower case with invisible characters removed; for text that is not plain
 * ASCII, `linkForm` of the raw text (normalised text has lost the accents and look-alikes that
 * make an internationalised host what it is). Linear: every repetition is bounded and each
 * match starts at a fixed `http`/`www`.
 */
import { domainToASCII } from 'node:url';

// `http(s)://` with an optional user-info (at most 64 characters, none of them a delimiter), or `www.`.
const START = String.raw`\b(?:https?:\/\/(?:[^\s/?#@]{1,64}@)?|www[.\u3002])`;
const ASCII_LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,62}[a-z0-9_])?';
// An IPv6 address in brackets, the host of `http://[2001:db8::1]/`: a link all the same.
const IPV6_HOST = String.raw`\[[0-9a-f:.]{2,45}\]`;
const LINK_ASCII = new RegExp(`${START}(${ASCII_LABEL}(?:\\.${ASCII_LABEL})*|${IPV6_HOST})`, 'g');
// Any script's letters, digits and marks; the ideographic full stop `。` separates labels too (IDNA maps it to `.`).
const LABEL = String.raw`[\p{L}\p{N}_](?:[\p{L}\p{N}\p{M}_-]{0,62}[\p{L}\p{N}\p{M}_])?`;
const LINK_UNICODE = new RegExp(`${START}(${LABEL}(?:[.\\u3002]${LABEL})*|${IPV6_HOST})`, 'gu');
const ASCII = /^[\x21-\x7e]*$/;

/**
 * The hosts of the links in `text`, one per link, lower case, in ASCII form and without `www.`.
 * `ascii`: the text is plain ASCII (normalised text); otherwise it is `linkForm` of the raw text.
 */
export function linkedHosts(text: string, ascii: boolean): string[] {
  const hosts: string[] = [];
  // domainToASCII costs ~2 µs: each host is converted once, and at most MAX_CONVERSIONS of them
  // (64 KB of distinct hosts would take ~10 ms a field; links past the first hundreds are
  // counted all the same, and `maxLinks` has long spoken).
  const converted = new Map<string, string>();
  text = refang(text);
  for (const match of text.matchAll(ascii ? LINK_ASCII : LINK_UNICODE)) {
    const host = match[1]!;
    let canonical = host;
    if (!ascii && !ASCII.test(host)) {
      const known = converted.get(host);
      if (known !== undefined) canonical = known;
      else if (converted.size < MAX_CONVERSIONS) {
        // An invalid internationalised name has no ASCII form: kept as written, it still counts as a link.
        canonical = domainToASCII(host) || host;
        converted.set(host, canonical);
      }
    }
    hosts.push(boundedHost(canonical.startsWith('www.') ? canonical.slice(4) : canonical));
  }
  return hosts;
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
    if (start === slash || (start > 0 && (isChainChar(text.charCodeAt(start - 1)) || (NOT_BEFORE.has(text[start - 1]!) && !afterBrokenScheme(text, start))))) continue;
    const host = text.slice(start, slash);
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

// A scheme the link scan reads (linkedHosts, after `refang`), with the `//` it takes.
const SCANNED_SCHEME = /(?:^|[^a-z0-9])h(?:tt|xx)ps?:$/;

/**
 * Whether the slashes before `start` begin a link rather than a path: slashes (`/` or `\`) with
 * nothing, white space, an opening bracket or quote before them (`//evil.example/x`), or a scheme
 * the link scan does not read (`http:/evil.example/x`, `http:\\evil.example`, `h**p://`,
 * `ftp://`): a browser opens those, or a reader types them, and they had slipped past every link
 * count. Not `http://` or `hxxp://` (the link scan's), nor a path (`a.example/b.example`).
 */
function afterBrokenScheme(text: string, start: number): boolean {
  let i = start;
  while (i > 0 && start - i < 8 && (text[i - 1] === '/' || text[i - 1] === '\\')) i--;
  if (i === start) return false;
  if (i === 0 || /[\s(<["'`]/.test(text[i - 1]!)) return true;
  if (text[i - 1] !== ':') return false;
  return !(text.slice(i, start) === '//' && SCANNED_SCHEME.test(text.slice(Math.max(0, i - 7), i)));
}

/** A chain of labels at `start` is a link: a known top-level domain, no `www.` (linkedHosts counts those), no address before it. */
function isLink(text: string, start: number, host: string): boolean {
  if (host.startsWith('www.') || !KNOWN_TLDS.has(host.slice(host.lastIndexOf('.') + 1))) return false;
  return !AT_BEFORE.test(text.slice(Math.max(0, start - 6), start)); // an e-mail domain, spelled out or not
}
