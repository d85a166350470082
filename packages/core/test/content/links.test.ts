import { describe, expect, it } from 'vitest';
import { bareHosts, linkedHosts } from '../../src/content/links.js';
import { isAscii, linkForm, normaliseAscii, normaliseText, WIDE_DELIMITERS } from '../../src/content/normalise.js';
import { compileContent } from '../../src/content/signals.js';

/** The hosts of the links in `text`, read as content signals read them (normalised, or the link form). */
function hostsIn(text: string): string[] {
  return isAscii(text) ? linkedHosts(normaliseAscii(text), true) : linkedHosts(linkForm(text), false);
}

describe('linkedHosts: the host a browser opens (WHATWG URL)', () => {
  it.each([
    // A `\` ends the authority as `/` does: the allowed domain after it is a path.
    ['http://evil.com\\@paypal.com', 'evil.com'],
    ['https://evil.com\\\\@paypal.com/x', 'evil.com'],
    ['www.evil.com\\@paypal.com', 'evil.com'],
    // The host is after the last `@` of the authority, however long the user-info.
    ['http://paypal.com@evil.com/x', 'evil.com'],
    ['http://a:b@evil.com', 'evil.com'],
    ['http://a@b@evil.com', 'evil.com'],
    ['http://@evil.com', 'evil.com'],
    ['http://paypal.com:80@evil.com', 'evil.com'],
    [`http://paypal.com:${'x'.repeat(300)}@evil.com`, 'evil.com'],
    ['http://!paypal.com@evil.com', 'evil.com'],
    ['www.paypal.com@evil.com', 'evil.com'],
    // An `@` after the authority is in the path, query or fragment.
    ['http://evil.com/@paypal.com', 'evil.com'],
    ['http://evil.com?@paypal.com', 'evil.com'],
    ['http://evil.com#@paypal.com', 'evil.com'],
    // Percent-encoded host characters, decoded as a browser does; UTF-8 ones make an internationalised host.
    ['http://evil%2Ecom', 'evil.com'],
    ['http://%65vil.com', 'evil.com'],
    ['http://ev%C3%A9il.com', 'xn--evil-cpa.com'],
    // IDNA maps the capital sharp s to "ss", where lower case makes it ß (another host).
    ['http://claẞic.com/x', 'classic.com'],
    // A full-width or small `/ \ ? #` is part of the user-info, not its end: it is ASCII only after NFKC.
    ['http://paypal.com／@evil.com', 'evil.com'],
    ['http://paypal.com？@evil.com', 'evil.com'],
    ['http://paypal.com＼@evil.com', 'evil.com'],
    ['http://paypal.com﹟@evil.com', 'evil.com'],
    ['http://paypal.com℅@evil.com', 'evil.com'],
    ['http://claßic.com/x', 'xn--claic-nqa.com'],
    // IPv4 written as numbers: the dotted address a browser connects to.
    ['http://0x7f.1', '127.0.0.1'],
    ['http://3232235777/x', '192.168.1.1'],
    ['http://0300.0250.1.1:8080', '192.168.1.1'],
    ['http://1.2.3', '1.2.0.3'],
    ['http://192.168.1.1/admin', '192.168.1.1'],
    // Case, a final dot, full-width and ideographic full stops, internationalised names.
    ['HTTP://EVIL.COM./x', 'evil.com'],
    ['http://evil\u3002com', 'evil.com'],
    ['http://evil\uFF0Ecom', 'evil.com'],
    ['http://evil\uFF61com', 'evil.com'],
    ['http://Bücher.example', 'xn--bcher-kva.example'],
    // Slashes a browser takes after the scheme.
    ['http:\\\\evil.com', 'evil.com'],
    ['http:/\\evil.com', 'evil.com'],
    ['https:\\\\evil.com\\x', 'evil.com'],
  ])('%s opens %s', (url, host) => {
    expect(hostsIn(url)).toEqual([host]);
    expect(hostsIn(`see ${url} now`)).toEqual([host]);
  });

  it('agrees with new URL on each of the cases above that new URL parses', () => {
    for (const url of ['http://evil.com\\@paypal.com', 'http://a@b@evil.com', 'http://0x7f.1', 'http://ev%C3%A9il.com', 'http:/\\evil.com', 'HTTP://EVIL.COM./x']) {
      expect(new URL(url).hostname.replace(/\.$/, ''), url).toBe(hostsIn(url)[0]);
    }
  });

  it('reads a link in text as text reads it: white space ends it, and so does punctuation after the host', () => {
    // A browser deletes tabs and line breaks inside a URL, but in text they end the link: a link at
    // the end of a line is not the link joined to the next line's first word.
    expect(hostsIn('see http://evil.com\nthanks')).toEqual(['evil.com']);
    expect(hostsIn('http://evil.com\t@paypal.com')).toEqual(['evil.com']);
    // A browser keeps `,` `'` `」` in a host that no name resolves; a reader and linkifiers end the link there.
    for (const text of ['(see http://evil.com), or', "it's http://evil.com's", 'http://evil.com,call now', 'http://evil.com!!!', '"http://evil.com"', '<http://evil.com>', '「http://evil.com」です', 'http://evil.com、次へ', 'см. http://evil.com»']) {
      expect(hostsIn(text), text).toEqual(['evil.com']);
    }
  });

  it('counts each link once and reads on after its host, not inside its user-info', () => {
    expect(hostsIn('http://a.com,http://b.com and www.c.com')).toEqual(['a.com', 'b.com', 'c.com']);
    expect(hostsIn('http://www.paypal.com@www.evil.com/www.x.com')).toEqual(['evil.com', 'x.com']);
    // No host: no link, and a link further on is still found.
    expect(hostsIn('http://!!! then www.evil.com')).toEqual(['evil.com']);
    expect(hostsIn('http://paypal.com@ and more')).toEqual(['paypal.com']);
  });

  it('keeps the forms it read before: IPv6 as written, underscores, a host the browser would not open', () => {
    expect(hostsIn('http://[2001:DB8::1]:80/ http://free_pills.evil.com http://evil.com%40x.com')).toEqual(['[2001:db8::1]', 'free_pills.evil.com', 'evil.com']);
  });

  it('reads a link after `http:` and any slashes once: bareHosts leaves it to the link scan', () => {
    for (const text of ['http:/evil.com/x', 'http:\\\\evil.com/x', 'http:///evil.com/x', 'https:\\/evil.com/x']) {
      expect(hostsIn(text), text).toEqual(['evil.com']);
      expect(bareHosts(normaliseText(text)), text).toEqual([]);
    }
    // Schemes the link scan does not read stay bareHosts' own.
    expect(bareHosts(normaliseText('ftp://evil.com/x hxxp:/evil.com/y //evil.com/z'))).toEqual(['evil.com', 'evil.com', 'evil.com']);
  });
});

describe('linkedHosts: a host written straight into text of an unspaced script', () => {
  // Japanese, Chinese, Thai… put no space between words, nor between a link and the word after
  // it, and Korean particles join the word before them: a reader, and linkifiers such as
  // twitter-text, end the host where the ASCII name meets the script. Read whole, it was an
  // internationalised host no list names (`evil.comまで` is `evil.xn--com-ub4boe`).
  it.each([
    ['http://evil.comまで', 'evil.com'],
    ['詳しくはhttp://evil.com这里', 'evil.com'],
    ['詳しくはhttp://evil.com这里/x', 'evil.com'],
    ['www.evil.comをクリック', 'evil.com'],
    ['https://evil.com에서 확인', 'evil.com'],
    ['http://evil.comถึง', 'evil.com'],
    ['http://evil.com:8080まで', 'evil.com'],
    ['http://paypal.com@evil.comまで', 'evil.com'],
    // The word after the host, not an `@` further on, ends what the reader sees: no user-info.
    ['http://evil.comまで@paypal.com', 'evil.com'],
    ['http://evil.com.这里@paypal.com/x', 'evil.com'],
    ['http://evil.comーー', 'evil.com'],
    ['ｈｔｔｐ：／／ｅｖｉｌ．ｃｏｍまで', 'evil.com'],
    // Full-width and ideographic punctuation ends a sentence, and the host with it.
    ['http://evil.com。', 'evil.com'],
    ['http://evil.com。次へ', 'evil.com'],
    ['http://evil.comまで。詳細は', 'evil.com'],
    ['http://evil.com、次へ', 'evil.com'],
    ['（http://evil.com）', 'evil.com'],
    ['http://evil.com！', 'evil.com'],
    ['http://evil.com」です', 'evil.com'],
    // An internationalised name ends where an ASCII label runs into the script, too.
    ['http://例え.jpまで', 'xn--r8jz45g.jp'],
    // A half-width full stop after a top-level domain ends the sentence, not the name's last label.
    ['http://evil.com.这里', 'evil.com'],
    ['访问www.evil.com.这里有优惠', 'evil.com'],
    ['http://evil.co.uk.ここ/x', 'evil.co.uk'],
    ['http://paypal.com@evil.com.这里', 'evil.com'],
    ['http://evil.com%2e这里', 'evil.com'],
    ['http://evil.net.ไทย', 'evil.net'],
    ['http://evil.com.中国', 'evil.com'],
  ])('%s is %s', (text, host) => {
    expect(hostsIn(text)).toEqual([host]);
  });

  it('reads the link that the next word ran into', () => {
    // "or": the word and the next scheme had joined the first host, and the second link was never read.
    expect(hostsIn('http://paypal.comまたはhttp://evil.com')).toEqual(['paypal.com', 'evil.com']);
    expect(hostsIn('www.paypal.com或https://evil.com/x')).toEqual(['paypal.com', 'evil.com']);
    expect(hostsIn('http://paypal.com:8080或者https://evil.com')).toEqual(['paypal.com', 'evil.com']);
    expect(hostsIn('http://paypal.comまたはhttp://evil.comまたはhttp://evil2.comまで')).toEqual(['paypal.com', 'evil.com', 'evil2.com']);
    // A www. link too: the scan goes on right after the cut host, not after what the first had swallowed.
    expect(hostsIn('http://paypal.comまでwww.evil.com')).toEqual(['paypal.com', 'evil.com']);
    expect(hostsIn('http://例え.jpまでwww.evil.com/x')).toEqual(['xn--r8jz45g.jp', 'evil.com']);
    expect(hostsIn('http://paypal.com.这里http://evil.com')).toEqual(['paypal.com', 'evil.com']);
  });

  it('reads every link of a long run of cut hosts', () => {
    // Each cut host sends the scan back into what it had read, never to before the link's own
    // start: each character is read at most twice. 1,500 repeats stay within a field's 64 KB.
    const text = 'http://a.bまhttps://a.b/xまでwww.a.bまで'.repeat(1_500);
    expect(hostsIn(text)).toEqual(Array.from({ length: 4_500 }, () => 'a.b'));
  });

  it.each([
    // Internationalised hosts keep reading as they did: the script is the name, not the next word.
    ['http://例え.jp', 'xn--r8jz45g.jp'],
    ['http://münchen.de', 'xn--mnchen-3ya.de'],
    ['http://www.münchen.de/x', 'xn--mnchen-3ya.de'],
    ['http://abc例え.jp', 'xn--abc-b73b408n.jp'],
    ['http://www.abc例え.jp', 'xn--abc-b73b408n.jp'],
    ['http://baidu.中国', 'baidu.xn--fiqs8s'],
    ['http://www.例え.jp', 'xn--r8jz45g.jp'],
    ['http://thnic.ไทย', 'thnic.xn--o3cw4h'],
    ['http://www.baidu.中国', 'baidu.xn--fiqs8s'],
    ['http://a.b.例え.jp', 'a.b.xn--r8jz45g.jp'],
    // A full stop after a label that is no top-level domain: the script's label is the name's.
    ['http://shop.example.这里', 'shop.example.xn--r73ak2b'],
    ['http://evil\u3002com', 'evil.com'],
  ])('%s is still %s', (text, host) => {
    expect(hostsIn(text)).toEqual([host]);
    expect(new URL(text).hostname.replace(/^www\./, '')).toBe(host);
  });
});

describe('bareHosts: a host behind a user-info after a scheme the link scan does not read', () => {
  it('reads the host after the last `@`, as a browser opens ftp: and scheme-relative links', () => {
    for (const text of ['ftp://paypal.com@evil.com/x', 'ftp://a:b@evil.com/x', 'see ftp://a@b@evil.com/x', '//paypal.com@evil.com/x', 'h**p://paypal.com:pw@evil.com/login']) {
      expect(bareHosts(normaliseText(text)), text).toEqual(['evil.com']);
      expect(new URL(text.replace(/^see /, '').replace(/^\/\//, 'ftp://').replace('h**p:', 'http:')).hostname).toBe('evil.com');
    }
  });

  it('leaves the links the link scan reads to it, and an `@` in a path or an address alone', () => {
    for (const [text, hosts] of [
      ['http://paypal.com@evil.com/x', []],
      ['hxxp://paypal.com@evil.com/x', []],
      ['ftp://www.paypal.com@evil.com/x', []],
      ['ftp://x.com/p@evil.com/y', ['x.com']],
      ['ftp://x.com/?a@evil.com/y', ['x.com']],
      ['mail bob@evil.com/x', []],
      ['paypal.com@evil.com/x', []],
    ] as const) {
      expect(bareHosts(normaliseText(text)), text).toEqual(hosts);
    }
    expect(hostsIn('ftp://www.paypal.com@evil.com/x')).toEqual(['evil.com']);
  });
});

describe('domain lists see the host a browser opens', () => {
  const content = compileContent(
    { maxLinks: 0, linkScore: 1, contacts: { email: 5 }, domains: { bad: { domains: ['evil.com', '127.0.0.1'], score: 20 }, good: { domains: ['paypal.com'], score: 0 } } },
    [],
  );

  it('a full-width scheme is still a scheme, and a full-width slash after the host still ends it', () => {
    expect(hostsIn('ｈｔｔｐ：／／evil.com／path')).toEqual(['evil.com']);
    expect(hostsIn('see http:／／evil.com now')).toEqual(['evil.com']);
    expect(hostsIn('ｈｔｔｐｓ：／／bücher.example／a')).toEqual(['xn--bcher-kva.example']);
    expect(hostsIn('http://evil.com／x')).toEqual(['evil.com']);
  });

  it('WIDE_DELIMITERS holds every code point that NFKC turns into a character ending an authority', () => {
    const found: string[] = [];
    for (let code = 0x80; code <= 0x10ffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const char = String.fromCodePoint(code);
      if (/[/\\?#]/.test(char.normalize('NFKC'))) found.push(char);
    }
    expect(found.join('')).toBe(WIDE_DELIMITERS);
  });

  it('a blocked domain behind an allowed one is the blocked one', () => {
    for (const body of ['http://evil.com\\@paypal.com', 'http://paypal.com@evil.com/login', 'http://paypal.com:x@y@evil.com', 'https://evil%2ecom\\@paypal.com', 'http://0x7f.1\\@paypal.com']) {
      const signals = content.evaluate({ body });
      expect(signals.domainLists, body).toEqual(['bad']);
      expect(signals.links, body).toBe(1);
    }
  });

  it('a blocked domain written straight into CJK text, or behind the user-info of an ftp: link, is the blocked one', () => {
    for (const body of ['詳しくはhttp://evil.com这里', 'http://evil.comまで。', 'ftp://paypal.com@evil.com/x', '访问http://evil.com.这里', 'http://evil.comまで@paypal.com']) {
      const signals = content.evaluate({ body });
      expect(signals.domainLists, body).toEqual(['bad']);
      expect(signals.links, body).toBe(1);
      expect(signals.emails, body).toBe(0);
    }
  });

  it('the user-info of a link is no e-mail address', () => {
    const signals = content.evaluate({ body: 'log in at http://paypal.com@evil.com/x or http://me:pw@evil.com, mail bob@example.net' });
    expect(signals.emails).toBe(1);
    expect(signals.hits.find((h) => h.id === 'email')?.score).toBe(5);
    expect(signals.domains).toEqual(['evil.com']);
  });
});
