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
const LINK_ASCII = new RegExp(`${START}(${ASCII_LABEL}(?:\\.${ASCII_LABEL})*)`, 'g');
// Any script's letters, digits and marks; the ideographic full stop `。` separates labels too (IDNA maps it to `.`).
const LABEL = String.raw`[\p{L}\p{N}_](?:[\p{L}\p{N}\p{M}_-]{0,62}[\p{L}\p{N}\p{M}_])?`;
const LINK_UNICODE = new RegExp(`${START}(${LABEL}(?:[.\\u3002]${LABEL})*)`, 'gu');
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
    hosts.push(canonical.startsWith('www.') ? canonical.slice(4) : canonical);
  }
  return hosts;
}

/** Distinct internationalised hosts converted to ASCII per text. */
const MAX_CONVERSIONS = 256;
