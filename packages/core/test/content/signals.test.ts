import { describe, expect, it } from 'vitest';
import { linkedHosts } from '../../src/content/links.js';
import { normaliseText, words } from '../../src/content/normalise.js';
import { compileContent, fingerprint } from '../../src/content/signals.js';
import type { PolicyProblem } from '../../src/errors.js';
import { createGuard } from '../../src/guard.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { parseDuration } from '../../src/policy/duration.js';

describe('normaliseText', () => {
  it('folds look-alikes, width, case, accents and invisible characters', () => {
    expect(normaliseText('ѵіаgrа')).toBe('viagra');
    expect(normaliseText('ＶＩＡＧＲＡ')).toBe('viagra');
    expect(normaliseText('vi\u200Bag\u00ADra')).toBe('viagra');
    expect(normaliseText('Café  CASINO\n\n')).toBe('cafe casino');
  });

  it('reads at most maxLength characters', () => {
    expect(normaliseText('a'.repeat(10) + 'casino', 10)).toBe('a'.repeat(10));
  });

  it('splits words in any script', () => {
    expect(words('free money, 100% привет')).toEqual(['free', 'money', '100', 'привет']);
  });

  it('keeps the marks on their letters: vowel signs of Indic scripts are inside their words', () => {
    expect(words(normaliseText('सस्ता लोन यहाँ'))).toEqual(['सस्ता', 'लोन', 'यहाँ'.normalize('NFKD')]);
    expect(words(normaliseText('கடன் வேண்டுமா'))).toEqual(['கடன்', 'வேண்டுமா']);
  });
});

describe('compileContent', () => {
  const problems: PolicyProblem[] = [];
  const content = compileContent(
    {
      terms: { casino: 20, 'Free Money': 30, __proto__: 1 } as Record<string, number>,
      patterns: [{ id: 'phone', field: 'title', regex: '(?:\\d[\\s.-]?){9,}', score: 15 }],
      maxLinks: 1,
      linkScore: 10,
    },
    problems,
  );

  it('scores whole-word terms once each, after normalisation', () => {
    const signals = content.evaluate({ body: 'Best CASINO, casino! FREE   money. casinos are not counted' });
    expect(signals.terms.sort()).toEqual(['casino', 'free money']);
    expect(signals.score).toBe(50);
    expect(content.evaluate({ body: 'casinos and freemoney' }).score).toBe(0);
  });

  it('reads an underscore as a word separator, as words() does, in ASCII and other text alike', () => {
    expect(content.evaluate({ body: 'best_casino_online' }).terms).toEqual(['casino']);
    expect(content.evaluate({ body: 'best_casino_online, ок' }).terms).toEqual(['casino']);
    expect(content.evaluate({ body: '__free__money__' }).terms).toEqual(['free money']);
    expect(content.evaluate({ body: 'casino2 and 2casino' }).terms).toEqual([]);
  });

  it('matches patterns on their field only', () => {
    expect(content.evaluate({ title: 'call 0123 456 789' }).patterns).toEqual(['phone']);
    expect(content.evaluate({ body: 'call 0123 456 789' }).patterns).toEqual([]);
  });

  it('counts links and their domains, scoring links beyond maxLinks', () => {
    const signals = content.evaluate({ body: 'see http://a.example/x and https://www.b.example and www.c.example' });
    expect(signals.links).toBe(3);
    expect(signals.domains).toEqual(['a.example', 'b.example', 'c.example']);
    expect(signals.hits.find((h) => h.id === 'links')!.score).toBe(20);
  });

  it('counts bare links with a known top-level domain and a path, and defanged links', () => {
    const linksOf = (body: string) => {
      const signals = content.evaluate({ body });
      return { links: signals.links, domains: signals.domains };
    };
    expect(linksOf('see example.com/offer and bit.ly/abc')).toEqual({ links: 2, domains: ['example.com', 'bit.ly'] });
    expect(linksOf('go to evil[.]com or evil(dot)ru, hxxps://bad[.]example/x')).toEqual({ links: 3, domains: ['bad.example', 'evil.com', 'evil.ru'] });
    expect(linksOf('www[.]evil[.]com')).toEqual({ links: 1, domains: ['evil.com'] });
    expect(linksOf('cheap.website/x and {dot} and evil{.}com')).toEqual({ links: 2, domains: ['cheap.website', 'evil.com'] });
    // Not links: no path, no known ending, a file name, a version, an address, a URL's own path.
    expect(linksOf('e.g. version 1.2 of readme.md/x, mail me at a@b.com/x or john(at)example(dot)com; example.com; http://a.example/b.com/c'))
      .toEqual({ links: 1, domains: ['a.example'] });
  });

  it('fingerprints the normalised text, so disguises share a fingerprint', () => {
    const a = content.evaluate({ body: 'Cheap viagra here' }).fingerprint;
    const b = content.evaluate({ body: 'CHEAP  ѵіаgrа here' }).fingerprint;
    const c = content.evaluate({ body: 'Cheap viagra there' }).fingerprint;
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(content.evaluate({}).fingerprint).toBeNull();
  });

  it('reads a percent-encoded host as a browser does (http://%65vil%2eexample is evil.example)', () => {
    const listed = compileContent({ maxLinks: 0, linkScore: 10, domains: { bad: { domains: ['evil.example'], score: 20 } } }, []);
    for (const body of ['http://evil%2eexample/x', 'http://%65vil.example/', 'see HTTPS://%65%76%69%6C%2E%65%78%61%6D%70%6C%65/a', 'http://u:p@evil%2Eexample', 'http://эх.рф http://evil%2eexample']) {
      const signals = listed.evaluate({ body });
      expect(signals.domains, body).toContain('evil.example');
      expect(signals.domainLists, body).toEqual(['bad']);
    }
    // Only host characters are decoded: an encoded `/` or `@` stays as written.
    expect(listed.evaluate({ body: 'http://a.example%2fevil.example/' }).domains).toEqual(['a.example']);
  });

  it('keeps at most the last 253 characters of a host (DNS\'s bound), so a 64 KB host costs no quadratic lookup', () => {
    const listed = compileContent({ maxLinks: 0, linkScore: 1, domains: { bad: { domains: ['evil.example'], score: 20 } } }, []);
    const host = `${'a.'.repeat(32_000)}evil.example`;
    // ~0.5 s before (the domain-list lookup hashed every parent domain of each 64 KB host): the
    // bound below is what keeps it linear (a timing here would be flaky on a loaded machine).
    const signals = listed.evaluate({ title: `http://${host}/x`, body: `http://${host}`, email: `https://www.${host}` });
    expect(signals.links).toBe(3);
    expect(signals.domains).toHaveLength(1);
    expect(signals.domains[0]!.length).toBeLessThanOrEqual(253);
    expect(signals.domains[0]!.endsWith('.a.evil.example')).toBe(true);
    expect(signals.domainLists).toEqual(['bad']);
  });

  it('counts a link whose scheme is broken or missing (http:/, //, h**p://), as a browser or a reader takes it', () => {
    const linksOf = (body: string) => {
      const signals = content.evaluate({ body });
      return { links: signals.links, domains: signals.domains };
    };
    for (const body of ['see http:/evil.com/x', 'see //evil.com/x', '(//evil.com/x)', 'h**p://evil.com/x', 'http:\\\\evil.com/x', 'http:///evil.com/x', 'ftp://evil.com/x']) {
      expect(linksOf(body), body).toEqual({ links: 1, domains: ['evil.com'] });
    }
    // Counted once, by the link scan: a well-formed or defanged scheme, and a path's own parts.
    expect(linksOf('http://evil.com/x hxxps://evil.com/y https://evil.com/a.com/b')).toEqual({ links: 3, domains: ['evil.com'] });
    expect(linksOf('C:/Users/bob.com/x and 1/2 cup and a.com/b.com/c')).toEqual({ links: 1, domains: ['a.com'] });
  });

  it('counts a link whose scheme is spelled with look-alikes, whose host is an IPv6 address, or whose labels an ideographic full stop separates', () => {
    const listed = compileContent({ maxLinks: 0, linkScore: 1, domains: { bad: { domains: ['evil.com'], score: 20 } } }, []);
    const linksOf = (body: string) => {
      const signals = listed.evaluate({ body });
      return { links: signals.links, domains: signals.domains, lists: signals.domainLists };
    };
    // Cyrillic һ and р: the normalised text reads `http`, and so must the link scan.
    for (const body of ['see \u04BBttp://evil.com/x', 'see htt\u0440s://evil.com/x', 'see evil\u3002com/x', 'see evil\uFF61com/x']) {
      expect(linksOf(body), body).toEqual({ links: 1, domains: ['evil.com'], lists: ['bad'] });
    }
    // An internationalised host behind such a scheme keeps its letters.
    expect(linksOf('see \u04BBttp://\u043F\u0440\u0438\u043C\u0435\u0440.\u0440\u0444/x').domains).toEqual(['xn--e1afmkfd.xn--p1ai']);
    expect(linksOf('see http://[2001:db8::1]/x and HTTPS://[::FFFF:192.0.2.1]:8080/')).toEqual({ links: 2, domains: ['[2001:db8::1]', '[::ffff:192.0.2.1]'], lists: [] });
    // A Japanese full stop between words is no host.
    expect(linksOf('\u6771\u4EAC\u3002\u5927\u962A/x \u3002com/x').links).toBe(0);
  });

  it('finds a disposable or listed e-mail domain written defanged (a@mailinator[.]com)', () => {
    const checked = compileContent({ contacts: {}, disposable: { score: 25 }, domains: { bad: { domains: ['evil.example'], score: 10 } } }, []);
    expect(checked.evaluate({ body: 'write to a@mailinator[.]com' })).toMatchObject({ emails: 1, disposable: true, score: 25 });
    expect(checked.evaluate({ body: 'or b@evil(.)example' })).toMatchObject({ emails: 1, domainLists: ['bad'], score: 10 });
  });

  it('gives no fingerprint to text that normalises to nothing, and leaves such fields out of it', () => {
    // Blank or invisible-only submissions are not one shared "text" whose copies add up to a campaign.
    expect(content.evaluate({ body: '  \n\t ' }).fingerprint).toBeNull();
    expect(content.evaluate({ title: '\u200B\u2060', body: '\u00AD' }).fingerprint).toBeNull();
    expect(content.evaluate({ title: ' ', body: 'ok' }).length).toBe(3);
    // A blank or invisible field does not make a copy a new text.
    const plain = content.evaluate({ body: 'Cheap viagra here' }).fingerprint;
    expect(content.evaluate({ title: ' ', body: 'Cheap viagra here' }).fingerprint).toBe(plain);
    expect(content.evaluate({ title: '\u200B', body: 'Cheap viagra here', email: '\u2060 ' }).fingerprint).toBe(plain);
    expect(content.evaluate({ title: '\u200B', body: 'Cheap ѵіаgrа here' }).fingerprint).toBe(plain);
  });

  it('warns about a term with no letters or digits, which can never match a whole word', () => {
    const warnings: PolicyProblem[] = [];
    const inert = compileContent({ terms: { '💊': 30, '$$$': 10, 'a/b': 5, casino: 1 } }, [], '/content', parseDuration, { warnings });
    expect(warnings.map((w) => w.pointer)).toEqual(['/content/terms/💊', '/content/terms/$$$']);
    expect(warnings[0]!.message).toContain('can never match');
    expect(inert.evaluate({ body: '💊💊 $$$ casino a b' }).terms.sort()).toEqual(['a b', 'casino']);
  });

  it('warns about a term whose symbols at either end are ignored, which matches more than meant', () => {
    const warnings: PolicyProblem[] = [];
    // A mark at the end is part of the term's last letter (เงินกู้, लोन…), not a symbol.
    const wide = compileContent({ terms: { '18+': 10, 'c++': 5, '(free money)': 5, 'free-money': 5, 'Viagra': 5, เงินกู้: 5, मदद: 5, सेवाएँ: 5 } }, [], '/content', parseDuration, { warnings });
    expect(warnings.map((w) => w.pointer)).toEqual(['/content/terms/18+', '/content/terms/c++', '/content/terms/(free money)']);
    expect(warnings[0]!.message).toContain('matches the whole word(s) "18"');
    expect(wide.evaluate({ body: 'a bike, 18 months old, grade c' }).terms.sort()).toEqual(['18', 'c']);
  });

  it('treats a __proto__ term and field as data', () => {
    const fields = JSON.parse('{"__proto__":"casino night"}');
    expect(content.evaluate(fields).terms).toEqual(['casino']);
    expect(problems).toEqual([]);
  });

  it('refuses patterns that can backtrack catastrophically, naming them', () => {
    const bad: PolicyProblem[] = [];
    compileContent({ patterns: [
      { id: 'nested', regex: '(a+)+$', score: 1 },
      { id: 'words', regex: '^(\\w+\\s?)*$', score: 1 },
      { id: 'fine', regex: '(?:\\+?\\d[\\s.-]?){9,}', score: 1 },
    ] }, bad);
    expect(bad.map((p) => p.pointer)).toEqual(['/content/patterns/0/regex', '/content/patterns/1/regex']);
    expect(bad[0]!.message).toMatch(/pattern "nested" can backtrack catastrophically \(exponential\)/);
  });

  it('reports an invalid regex as a policy problem', () => {
    const bad: PolicyProblem[] = [];
    compileContent({ patterns: [{ id: 'x', regex: '([a-z]', score: 1 }] }, bad);
    expect(bad[0]!.pointer).toBe('/content/patterns/0/regex');
  });

  it('fingerprint is stable and spreads near-identical texts', () => {
    // Pinned: a fingerprint stored by one version must match the next one's.
    expect(fingerprint('foobar')).toBe(fingerprint('foobar'));
    expect(fingerprint('')).toMatch(/^[0-9a-f]{16}$/);
    const seen = new Set(Array.from({ length: 10_000 }, (_, i) => fingerprint(`ad number ${i}`)));
    expect(seen.size).toBe(10_000);
  });
});

describe('content signals', () => {
  const compile = (policy: Parameters<typeof compileContent>[0], options: Parameters<typeof compileContent>[4] = {}) => {
    const problems: PolicyProblem[] = [];
    const content = compileContent(policy, problems, '/content', parseDuration, options);
    expect(problems).toEqual([]);
    return content;
  };

  it('matches terms through look-alikes and spelled-out letters, on word boundaries', () => {
    const content = compile({ terms: { viagra: 40, casino: 20 } });
    for (const body of ['v.i.a.g.r.a', 'v-i-a-g-r-a', 'v i a g r a', 'ѵіаgrа', 'ᴠɪᴀɢʀᴀ', 'V\u200BIAGRA']) {
      expect(content.evaluate({ body }).terms, body).toEqual(['viagra']);
    }
    expect(content.evaluate({ body: 'viagras and casinos, a v i a trip' }).terms).toEqual([]);
  });

  it('matches terms inside Chinese, Japanese and Korean text, which has no spaces between words', () => {
    const cjk = compile({ terms: { 信用卡: 20, 貸款: 10, casino: 5, 출장안마: 30, 副業: 15 } });
    expect(cjk.evaluate({ body: '低利率信用卡代償，快速貸款' }).terms.sort()).toEqual(['信用卡', '貸款']);
    expect(cjk.evaluate({ body: '在家副業で月収100万円' }).terms).toEqual(['副業']);
    // Reported as written: NFKD splits a Korean syllable into its letters (jamo), normalising composes it again.
    expect(cjk.evaluate({ body: '서울출장안마전문' }).terms).toEqual(['출장안마']);
    // A word of another script next to CJK text is a word of its own; inside another word it is not.
    expect(cjk.evaluate({ body: '線上casino網站' }).terms).toEqual(['casino']);
    expect(cjk.evaluate({ body: '線上casinos網站 онлайнcasino' }).terms).toEqual([]);
  });

  it('matches Indic terms as whole words, their vowel signs included', () => {
    // Words ended at every vowel sign: लोन was the words ल and न, and matched लान, लिन and ल न.
    const hindi = compile({ terms: { लोन: 20, सस्ता: 10, ता: 5 } });
    expect(hindi.evaluate({ body: 'सस्ता लोन यहाँ' }).terms.sort()).toEqual(['लोन', 'सस्ता']);
    for (const body of ['लान', 'लिन', 'ल न', 'लोनी', 'सस्ती', 'सस्ता'.slice(0, -1)]) {
      expect(hindi.evaluate({ body }).terms, body).not.toContain('लोन');
    }
    // Nor a term inside a word, after a letter with its marks; the search goes on after it, past
    // a first character outside the BMP too.
    expect(hindi.evaluate({ body: 'सस्ता' }).terms).toEqual(['सस्ता']);
    const astral = compile({ terms: { '𠀀x': 1 } });
    expect(astral.evaluate({ body: 'का𠀀x का 𠀀x' }).terms).toEqual(['𠀀x']);
    expect(astral.evaluate({ body: 'का𠀀x' }).terms).toEqual([]);
  });

  it('matches a term whose letters carry marks of another script (vi่agra), which would hide it', () => {
    const terms = compile({ terms: { viagra: 40, 信用卡: 20 } });
    expect(terms.evaluate({ title: 'vi\u0E48agra', body: '低利率信用卡\u0E48代償' }).terms.sort()).toEqual(['viagra', '信用卡']);
  });

  it('matches Thai, Lao, Khmer and Burmese terms inside text written without spaces', () => {
    const terms = compile({ terms: { เงินกู้: 20, ด่วน: 5, ကြော်ငြာ: 10, ប្រាក់កម្ចី: 15 } });
    expect(terms.evaluate({ body: 'สินเชื่อเงินกู้ด่วน' }).terms.sort()).toEqual(['ด่วน', 'เงินกู้']);
    // After a syllable ending in marks (ที่): a letter's marks end the letter, not the word.
    expect(terms.evaluate({ body: 'ที่นี่เงินกู้' }).terms).toEqual(['เงินกู้']);
    expect(terms.evaluate({ body: 'ဒီမှာကြော်ငြာပါ' }).terms).toEqual(['ကြော်ငြာ']);
    expect(terms.evaluate({ body: 'ខ្ចីប្រាក់កម្ចីលឿន' }).terms).toEqual(['ប្រាក់កម្ចី']);
    // A term never ends inside a letter: เงินก is not in เงินกู้ nor in เงินกับ, whose ก carries
    // marks, but it is in เงินกลาง.
    const partial = compile({ terms: { เงินก: 20 } });
    expect(partial.evaluate({ body: 'สินเชื่อเงินกู้ด่วน เงินกับ' }).terms).toEqual([]);
    expect(partial.evaluate({ body: 'เงินกลาง' }).terms).toEqual(['เงินก']);
  });

  it('finds phone numbers and e-mail addresses, spelled-out ones too, in the contact fields only', () => {
    const content = compile({ contacts: { fields: ['title', 'body'], phone: 10, email: 5 } });
    const signals = content.evaluate({
      title: 'Call 07700 900123',
      body: 'or +33 1 23 45 67 89, mail bob (at) example (dot) com or alice at mail dot example dot org',
      email: 'seller@example.net',
    });
    expect(signals.phones).toBe(2);
    expect(signals.emails).toBe(2);
    expect(signals.hits.filter((h) => h.id === 'phone' || h.id === 'email').map((h) => [h.id, h.score])).toEqual([['phone', 10], ['email', 5]]);
    // Dates, prices and a link after "at" are not contact details.
    const plain = content.evaluate({ body: 'Bought 2024-01-15 for 1500 euros, see it at shop.example.com' });
    expect([plain.phones, plain.emails, plain.score]).toEqual([0, 0, 0]);
  });

  it('finds phone numbers written in the digits of any script', () => {
    const content = compile({ contacts: { phone: 10 } });
    expect(content.evaluate({ body: 'اتصل ٠٧٧٠٠ ٩٠٠١٢٣' }).phones).toBe(1); // Arabic-Indic
    expect(content.evaluate({ body: 'call ۰۷۷۰۰ ۹۰۰۱۲۳ or ०७७०० ९००४५६' }).phones).toBe(2); // Persian, Devanagari
    expect(content.evaluate({ body: 'โทร ๐๘๑ ๒๓๔ ๕๖๗๘' }).phones).toBe(1); // Thai
    expect(content.evaluate({ body: 'سعر ١٢٠٠ دينار، سنة ٢٠١٩' }).phones).toBe(0); // a price and a year stay short
  });

  it('measures shouting and repeated characters on the raw text', () => {
    const content = compile({ uppercase: { ratio: 0.7, minLetters: 10, score: 15 }, repeats: { min: 6, score: 10 } });
    const loud = content.evaluate({ title: 'AMAZING DEAL ON PHONES', body: 'Call now!!!!!!!' });
    expect(loud.uppercase).toBe(1);
    expect(loud.repeats).toBe(7);
    expect(loud.hits.map((h) => h.id).sort()).toEqual(['repeats', 'uppercase']);
    const calm = content.evaluate({ title: 'OK', body: 'A quiet bike for sale, price 1000000 (or offer).' });
    expect(calm.uppercase).toBeCloseTo(1 / 29, 3); // "OK" is too short to count; the body has one capital
    expect(calm.repeats).toBe(2); // the ff of offer: digits are not a run
    expect(calm.score).toBe(0);
  });

  it('flags disposable e-mail domains from mailchecker, subdomains included', () => {
    const content = compile({ disposable: { score: 25 } });
    expect(content.evaluate({ email: 'someone@mailinator.com' }).disposable).toBe(true);
    expect(content.evaluate({ body: 'write to x (at) sub.mailinator (dot) com' }).disposable).toBe(true);
    expect(content.evaluate({ email: 'someone@gmail.com' }).disposable).toBe(false);
    expect(content.evaluate({ email: 'someone@mailinator.com' }).score).toBe(25);
    // Without the policy asking, the check is not made.
    expect(compile({}).evaluate({ email: 'someone@mailinator.com' }).disposable).toBe(false);
  });

  it('matches linked and e-mail domains against domain lists, on the domain and its subdomains', () => {
    const files: Record<string, string> = { 'shorteners.txt': '# shorteners\nbit.ly\n*.tinyurl.com ; wildcard\n0.0.0.0 t.co\nnot a domain\n' };
    const warnings: PolicyProblem[] = [];
    const content = compile(
      { domains: { shorteners: { files: ['shorteners.txt'], score: 20 }, pharma: { domains: ['pills.example', 'ПРИМЕР.рф'], reason: 'pharmacy spam' } } },
      { readFile: (path) => files[path]!, warnings },
    );
    expect(warnings.map((w) => w.message)).toEqual(['shorteners.txt line 5: "not a domain" is not a domain name (line skipped)']);
    expect(content.domainLists.size).toBe(5);
    const signals = content.evaluate({ body: 'go to https://x.bit.ly/abc or www.tinyurl.com/y, mail me: bob@shop.pills.example' });
    expect(signals.domainLists).toEqual(['shorteners', 'pharma']);
    expect(signals.hits.find((h) => h.id === 'domain:shorteners')?.score).toBe(20);
    expect(signals.hits.some((h) => h.id === 'domain:pharma')).toBe(false); // no score: a fact for rules only
    expect(content.evaluate({ body: 'see http://notbit.ly and http://t.co.example.org' }).domainLists).toEqual([]);
    expect(content.evaluate({ body: 'http://xn--e1afmkfd.xn--p1ai/' }).domainLists).toEqual(['pharma']);
  });

  it('reads the host of a link as a browser does: after any user-info, with underscores, internationalised in punycode', () => {
    const content = compile({ maxLinks: 5, domains: { bad: { domains: ['evil.example', 'ПРИМЕР.рф', 'bücher.example'], score: 50 } } });
    const domainsOf = (body: string) => {
      const signals = content.evaluate({ body });
      return { links: signals.links, domains: signals.domains, lists: signals.domainLists };
    };
    // The browser goes to the host after the "@"; the part before it is a user name.
    expect(domainsOf('see http://good.example@evil.example/x')).toEqual({ links: 1, domains: ['evil.example'], lists: ['bad'] });
    expect(domainsOf('see https://user:pw@www.evil.example:8080/x')).toEqual({ links: 1, domains: ['evil.example'], lists: ['bad'] });
    expect(domainsOf('see http://good.example/a@b and http://good.example?r=evil.example@x/')).toEqual({ links: 2, domains: ['good.example'], lists: [] });
    expect(domainsOf('see http://free_pills.evil.example/x')).toEqual({ links: 1, domains: ['free_pills.evil.example'], lists: ['bad'] });
    // Internationalised hosts are counted and matched in the ASCII form the lists hold, whatever their case or full stop.
    expect(domainsOf('see http://пример.рф/x and WWW.ПРИМЕР.РФ')).toEqual({ links: 2, domains: ['xn--e1afmkfd.xn--p1ai'], lists: ['bad'] });
    expect(domainsOf('see http://Bücher.example and http://evil。example')).toEqual({ links: 2, domains: ['xn--bcher-kva.example', 'evil.example'], lists: ['bad'] });
    // Accents and look-alikes make another host: not the plain one on the list.
    expect(domainsOf('see http://bucher.example and http://еvil.example')).toEqual({ links: 2, domains: ['bucher.example', 'xn--vil-qdd.example'], lists: [] });
    expect(domainsOf('ｈｔｔｐ：／／ｅｖｉｌ．ｅｘａｍｐｌｅ and http://ev\u200Bil.example')).toEqual({ links: 2, domains: ['evil.example'], lists: ['bad'] });
    // The internationalised domain of an e-mail address is looked up in its ASCII form too.
    expect(domainsOf('пишите иван@пример.рф')).toEqual({ links: 0, domains: [], lists: ['bad'] });
  });

  it('reads every line form the docs name: comments, "*." and "." prefixes, hosts-file lines, a final dot, any case, IDN', () => {
    const files: Record<string, string> = {
      'list.txt': '; a comment\n# another\nA.example # trailing comment\n*.b.example\n.c.example\n0.0.0.0 d.example\n127.0.0.1 e.example\n::1 f.example\n:: g.example\nh.example.\nBÜCHER.example\n',
    };
    const warnings: PolicyProblem[] = [];
    const content = compile({ domains: { l: { files: ['list.txt'] } } }, { readFile: (path) => files[path]!, warnings });
    expect(warnings).toEqual([]);
    expect(content.domainLists.size).toBe(9);
    for (const host of ['a', 'x.b', 'c', 'd', 'e', 'f', 'g', 'h', 'xn--bcher-kva']) {
      expect(content.domainLists.match([`${host}.example`]).map((m) => m.id), host).toEqual(['l']);
    }
  });

  it('converts at most 256 distinct internationalised hosts per field to punycode, counting every link', () => {
    const text = Array.from({ length: 300 }, (_, i) => `http://пример${i}.рф http://пример${i}.рф`).join(' ');
    const hosts = linkedHosts(text, false);
    expect(hosts).toHaveLength(600);
    expect(hosts[0]).toBe('xn--0-itbiqngd.xn--p1ai');
    expect(hosts[511]).toMatch(/^xn--/); // the 256th, twice
    expect(hosts[512]).toBe('пример256.рф'); // past the bound: counted, kept as written
  });

  it('reports bad inline domains and unreadable list files with their pointers', () => {
    const problems: PolicyProblem[] = [];
    compileContent({ domains: { bad: { domains: ['example.com', 'not a domain', 'http://x.example/'], files: ['missing.txt'] } } }, problems, '/content', parseDuration, {
      readFile: () => {
        throw new Error('ENOENT');
      },
    });
    expect(problems.map((p) => p.pointer)).toEqual(['/content/domains/bad/domains/1', '/content/domains/bad/domains/2', '/content/domains/bad/files/0']);
  });

  it('gives near-duplicate keys only when the policy counts near-duplicates', () => {
    expect(compile({ duplicates: { window: '1h', score: 1 } }).evaluate({ body: 'a b c d' }).nearKeys).toEqual([]);
    const keys = compile({ duplicates: { window: '1h', score: 1, near: { bands: 4 } } }).evaluate({ body: 'a b c d' }).nearKeys;
    expect(keys).toHaveLength(4);
    expect(keys.every((key, band) => new RegExp(`^${band}:[0-9a-f]{16}$`).test(key))).toBe(true);
  });

  it('bounds every field: 1 MB of hostile text is read to maxFieldLength only', () => {
    const content = compile({ terms: { casino: 1 }, contacts: {}, maxFieldLength: 1000 });
    const signals = content.evaluate({ body: `${'a'.repeat(1000)} casino ${'1 '.repeat(500_000)}` });
    expect(signals.length).toBe(1000);
    expect(signals.terms).toEqual([]);
  });
});

describe('content facts in rules', () => {
  it('exposes every signal to rules under content.*', async () => {
    let facts: Record<string, unknown> | undefined;
    const policy = compilePolicy({
      name: 'facts',
      content: { contacts: {}, disposable: { score: 0 }, uppercase: { ratio: 0.9, score: 0, minLetters: 4 }, domains: { shorteners: { domains: ['bit.ly'] } } },
      rules: [{ name: 'shortener', conditions: { all: [{ fact: 'content', path: '$.domainLists', operator: 'contains', value: 'shorteners' }] }, event: { type: 'block' } }],
    });
    const traced = { ...policy, rules: { ...policy.rules, evaluate: (input: Record<string, unknown>) => ((facts = input), policy.rules.evaluate(input)) } };
    const guard = createGuard({ policy: traced as typeof policy });
    const decision = await guard.evaluate({ action: 'ad.submit', content: { title: 'CALL 07700 900123', body: 'http://bit.ly/x', email: 'a@mailinator.com' } });
    expect(decision.verdict).toBe('block');
    expect(facts!.content).toMatchObject({ phones: 1, emails: 1, disposable: true, uppercase: 1, domainLists: ['shorteners'], duplicates: 0, nearDuplicates: 0, spamProbability: null, links: 1, domains: ['bit.ly'] });
    await guard.close();
  });
});
