/**
 * The link scan against the browser, on generated hostile URLs: whenever WHATWG's parser (Node's
 * `new URL`, what browsers implement) accepts a URL and its host is a name DNS can resolve, the
 * host `linkedHosts` reads is that host, in the form domain lists compare (no final dot, no
 * `www.`). URLs are built from the pieces that make hosts differ: `\`, `@`, `:`, percent escapes,
 * number forms of IPv4, upper case, full-width and ideographic full stops, internationalised
 * letters, invisible characters and punctuation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundedHost, linkedHosts } from '../../src/content/links.js';
import { isAscii, linkForm, normaliseAscii } from '../../src/content/normalise.js';

// Seeded: a failure prints the seed and the shrunk counterexample, and reruns identically.
const SEED = 20261203;

/** `text` prepared as content signals prepare it for the link scan, and the hosts read from it. */
function hostsIn(text: string): string[] {
  return isAscii(text) ? linkedHosts(normaliseAscii(text), true) : linkedHosts(linkForm(text), false);
}

// A host name DNS can hold: labels of letters, digits, `-` and `_`, perhaps a final dot. IPv6
// (which WHATWG rewrites, and no domain list holds) and hosts with `,`, `!`… (which no name
// resolves, and which the scan deliberately cuts where a reader ends the link) are left out.
const DNS_NAME = /^(?:[a-z0-9_-]+\.)*[a-z0-9_-]+\.?$/;

/** The host a browser opens for `url`, as domain lists compare it; null when it opens none a DNS name can be. */
function browserHost(url: string): string | null {
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    return null;
  }
  if (!DNS_NAME.test(hostname)) return null;
  const host = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  return boundedHost(host.startsWith('www.') ? host.slice(4) : host);
}

const scheme = fc.constantFrom('http:', 'https:', 'HTTP:', 'hTTpS:');
const slashes = fc.constantFrom('//', '//', '//', '\\\\', '/\\', '\\/', '/', '///');
const piece = fc.constantFrom(
  // Labels and their separators.
  'evil', 'paypal', 'com', 'example', 'a', 'x-y', '_b', 'www.', 'WWW.', 'EVIL', 'xn--bcher-kva', '-', '.', '..',
  // Where the authority, the user-info and the host end.
  '@', '@', ':', ':80', ':8080', ':pw@', '\\', '\\@', '/', '?', '#',
  // Percent escapes: host characters, delimiters, UTF-8 letters, invalid bytes.
  '%2e', '%2E', '%41', '%65', '%40', '%2f', '%5c', '%3a', '%C3%A9', '%c3%bc', '%e3%80%82', '%ff', '%25', '%',
  // IPv4 in every form a browser reads as a number.
  '0x7f', '0X7F', '0300', '0250', '3232235777', '1', '255', '256', '4294967295', '08', '0x', '.1', '.0x1',
  // IDNA: full-width and ideographic full stops, letters of other scripts, invisible characters, marks.
  '\u3002', '\uFF0E', '\uFF61', 'é', 'Ü', 'ß', 'пример', 'рф', 'ε', '例', '\u00AD', '\u200B', '\u0301',
  'ı', 'İ', '\uFB00', '\u24B6', '\u2460', '\uFF45\uFF56\uFF49\uFF4C', 'XN--E1AFMKFD', '%D0%BF', '%e2%80%8b', '%C2%AD', '%ef%bc%8e', '\u3002com',
  // Punctuation a browser keeps in a user-info or host.
  '!', ',', "'", '(', ')', '~', '$', '&', '+', '=', ';', '*', '[', ']', '[::1]', '|', '^', '{', '}',
  // More number forms, ports and separators.
  '%2e%2e', '0x100', '1.2.3.4', 'www', '%00', ':@', '@@', ':0', ':65536', '%3A80',
);
const authority = fc.array(piece, { minLength: 1, maxLength: 16 }).map((pieces) => pieces.join(''));

// The link scan reads text in its link form (NFKC, lower case: normalise.ts linkForm), where a
// combining mark after a percent escape's digit has joined it (`%bc\u0301` is `%bć`) before any
// URL is seen; a browser decodes the escape first. No host is written so but to test this.
const MARK_AFTER_ESCAPE = /%[0-9a-f]{0,2}\p{M}/iu;
// Free text ends a host where an ASCII letter or digit runs into a word of a script written
// without spaces (links.ts `textHost`: `http://evil.com例` is evil.com to a reader, where a
// browser tries `evil.xn--com-…`). The generator writes such hosts (`例` right after a label, in
// the link form): the browser is no reference for them, links.test.ts checks their reading.
const INTO_UNSPACED = /(?<!%[0-9a-f]?)[a-z0-9][\u3002\uff61]*例/i;
// Nor does it go on after a top-level domain and a full stop (`http://evil.com.例`): of the
// generator's labels, `com` is one.
const TLD_INTO_UNSPACED = /(?<![\p{L}\p{N}\p{M}_%-])com[.\u3002\uff61]例/iu;
// Such a junction in the host, or in a user-info (`http://evil.com例@good.example` is evil.com
// to a reader, good.example to a browser).
const intoUnspaced = (candidate: string): boolean => INTO_UNSPACED.test(linkForm(candidate)) || TLD_INTO_UNSPACED.test(linkForm(candidate));
const tail = fc.constantFrom('', '/', '/x', '/a@b.example', '?q=1', '#top', '/www.other.example');
const url = fc.tuple(scheme, slashes, authority, tail).map((parts) => parts.join(''));

describe('linkedHosts agrees with the browser (WHATWG URL) on the host (property)', () => {
  it('reads the host new URL reads, whenever new URL accepts the URL and its host is a DNS name', () => {
    let compared = 0;
    fc.assert(
      fc.property(url, (candidate) => {
        const expected = browserHost(candidate);
        if (expected === null || MARK_AFTER_ESCAPE.test(candidate) || intoUnspaced(candidate)) return;
        compared++;
        expect(hostsIn(candidate)[0], candidate).toBe(expected);
      }),
      { seed: SEED, numRuns: 20_000 },
    );
    // The generator makes URLs a browser accepts often enough for the comparison to mean something.
    expect(compared).toBeGreaterThan(2_000);
  });

  it('reads the same host when the URL stands in text, between white space or brackets', () => {
    const before = fc.constantFrom('', 'see ', 'Visit: ', '(', 'x\n');
    const after = fc.constantFrom('', ' now', '\nthanks', '\tx', ') ok');
    fc.assert(
      fc.property(before, url, after, (prefix, candidate, suffix) => {
        const expected = browserHost(candidate);
        if (expected === null || MARK_AFTER_ESCAPE.test(candidate) || intoUnspaced(candidate)) return;
        expect(hostsIn(`${prefix}${candidate}${suffix}`)[0], candidate).toBe(expected);
      }),
      { seed: SEED, numRuns: 5_000 },
    );
  });
});
