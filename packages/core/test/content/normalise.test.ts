import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { joinSpelledOut, normaliseAscii, normaliseText, normaliseUnicode, sparseAscii } from '../../src/content/normalise.js';
import { compileContent } from '../../src/content/signals.js';

const matchForm = (text: string) => joinSpelledOut(normaliseText(text));

describe('normaliseText: look-alikes', () => {
  it.each([
    ['Cyrillic mixed into a Latin word', 'vіаgrа', 'viagra'],
    ['Cyrillic and Latin', 'ѵіаgrа', 'viagra'],
    ['Cyrillic capitals', 'САЅІNО', 'casino'],
    ['a whole word of Cyrillic look-alikes in Latin text', 'buy ѕех toys now', 'buy sex toys now'],
    ['Greek capitals (Η looks like H)', 'ΗΟΤ deal', 'hot deal'],
    ['Greek small letters', 'frεε mοnεy', 'free money'],
    ['Armenian', 'fօօd', 'food'],
    ['Cherokee', 'ᏙᎥᎪᏀᏒᎪ', 'viagra'],
    ['Cherokee small letters', 'ꮩiagra', 'viagra'],
    ['small capitals', 'ᴠɪᴀɢʀᴀ', 'viagra'],
    ['dotless i', 'vıagra', 'viagra'],
    ['mathematical bold (NFKC)', '𝐯𝐢𝐚𝐠𝐫𝐚', 'viagra'],
    ['full width (NFKC)', 'ＶＩＡＧＲＡ', 'viagra'],
    ['circled letters (NFKC)', 'ⓥⓘⓐⓖⓡⓐ', 'viagra'],
    ['accents', 'Vïägrà', 'viagra'],
    ['a dotted capital I', 'İstanbul', 'istanbul'],
    ['sharp s, whose upper case is SS', 'Maßage', 'massage'],
    ['capital sharp s', 'MAẞAGE', 'massage'],
  ])('%s', (_, input, expected) => {
    expect(normaliseText(input)).toBe(expected);
  });

  it('matches a term with "ss" written with ß, and a ß term written with SS (case folding, not lower case)', () => {
    const content = compileContent({ terms: { massage: 10, 'Straße': 5 } }, []);
    expect(content.evaluate({ body: 'Thai Maßage, discreet' }).terms).toEqual(['massage']);
    expect(content.evaluate({ body: 'WOHNUNG IN DER HAUPTSTRASSE' }).terms).toEqual([]);
    expect(content.evaluate({ body: 'Wohnung, ruhige STRASSE' }).terms).toEqual(['strasse']);
    expect(content.evaluate({ body: 'Wohnung, ruhige Straße' }).terms).toEqual(['strasse']);
  });

  it('leaves ordinary Russian and Greek words alone, so non-Latin terms still match', () => {
    expect(normaliseText('Продам нос и сено')).toBe('продам нос и сено');
    expect(normaliseText('Καλημέρα κόσμε')).toBe('καλημερα κοσμε');
    // Korean syllables and voiced kana come out whole, though NFKD splits them.
    expect(normaliseText('무담보 대출, 닭갈비')).toBe('무담보 대출, 닭갈비');
    expect(normaliseText('ガスとパン')).toBe('ガスとパン');
  });

  it('folds a word of look-alikes from two scripts (Greek with Cyrillic or Armenian), even in a text without Latin letters', () => {
    // No Latin letter at all: a whole word of look-alikes used to be read as a word of its own script.
    expect(normaliseText('ΒΙΤСОΙΝ')).toBe('bitcoin'); // Greek Β Ι Τ Ο Ι Ν, Cyrillic С О
    expect(normaliseText('продам ΒΙΤСОΙΝ дёшево')).toBe('продам bitcoin дешево');
    // Some Latin, fewer than half the letters: the same word folds there too.
    expect(normaliseText('ВІТСΟΙΝ free')).toBe('bitcoin free');
    // One script, however many look-alikes: still a word of that script.
    expect(normaliseText('ВОТ ТАК')).toBe('вот так');
    expect(normaliseText('Καλημέρα ΟΚ κόσμε')).toBe('καλημερα οκ κοσμε');
    const content = compileContent({ terms: { bitcoin: 20 } }, []);
    expect(content.evaluate({ title: 'ΒΙΤСОΙΝ' }).terms).toEqual(['bitcoin']);
    expect(content.evaluate({ title: 'ВОТ' }).terms).toEqual([]);
  });

  it('reads Latin look-alikes in a Cyrillic word as the Cyrillic letters they imitate, so Russian terms still match', () => {
    // `кaзинo` with Latin a and o: folded to Latin it was `kazиho`, neither Russian nor Latin.
    expect(normaliseText('Онлайн кaзинo')).toBe('онлаин казино'); // й loses its breve, as every accent
    expect(normaliseText('КAЗИНO, крeдит')).toBe('казино, кредит');
    expect(normaliseText('к.a.з.и.н.o')).toBe('к.a.з.и.н.o'.toLowerCase()); // joining comes after
    expect(matchForm('к.a.з.и.н.o')).toBe('казино');
    // Words that fold wholly to Latin are Latin disguises, as before.
    expect(normaliseText('vіаgrа и кредит')).toBe('viagra и кредит');
    const content = compileContent({ terms: { казино: 20, кредит: 10 } }, []);
    expect(content.evaluate({ body: 'Лучшее онлайн кaзинo! Быстрый крeдuт' }).terms).toEqual(['казино']);
    expect(content.evaluate({ title: 'ONLINE КAЗИНO' }).terms).toEqual(['казино']);
  });

  it('removes invisible characters: zero-width, soft hyphen, bidi marks, tag characters', () => {
    expect(normaliseText('vi\u200Bag\u00ADra')).toBe('viagra');
    expect(normaliseText('c\u200Da\u2060s\u202Ei\uFEFFno')).toBe('casino');
    expect(normaliseText('vi\u{E0041}agra')).toBe('viagra');
  });

  it('removes every assigned default-ignorable code point, wherever it sits in a word', () => {
    const kept: string[] = [];
    for (let cp = 0; cp < 0x110000; cp++) {
      const char = cp >= 0xd800 && cp <= 0xdfff ? '' : String.fromCodePoint(cp);
      if (!/\p{Default_Ignorable_Code_Point}/u.test(char) || /\p{Cn}/u.test(char)) continue;
      if (normaliseText(`vi${char}agra`) !== 'viagra') kept.push(cp.toString(16));
    }
    expect(kept).toEqual([]);
    // The variation selectors supplement hides whole messages in "invisible" text.
    expect(normaliseText('ca\u{E0100}\u{E01EF}sino \u{1D173}\u180Bfree')).toBe('casino free');
  });

  it('removes marks stacked on letters ("Zalgo" text), in every generic combining block', () => {
    expect(normaliseText('v\u0334i\u1DC0a\u20D2g\u1AB0r\uFE20a\u0489')).toBe('viagra');
    expect(normaliseText('c\u0336a\u0336s\u0336i\u0336n\u0336o\u0336')).toBe('casino');
    // Vowel signs of Indic scripts are part of their words and stay.
    expect(normaliseText('नमस्ते')).toBe('नमस्ते');
  });

  it('removes marks of any block from letters that take none of it, and from what is no letter', () => {
    // A mark is part of its word, so a Thai, Devanagari or Brahmi mark on a Latin or Cyrillic
    // letter kept the word from matching (the generic blocks alone were removed).
    expect(normaliseText('vi\u0E48agra')).toBe('viagra');
    expect(normaliseText('v\u0E31i\u0E31a\u0E31g\u0E31r\u0E31a\u0E31')).toBe('viagra');
    expect(normaliseText('ви\u0901агра')).toBe('виагра');
    expect(normaliseText('cas\u{11001}ino')).toBe('casino');
    expect(normaliseText('信用\u0E49卡 7\u0E48 \u0E48days')).toBe('信用卡 7 days');
    // Marks on the letters of scripts that use them stay, whatever their block.
    expect(normaliseText('เงินกู้ด่วน')).toBe('เงินกู้ด่วน');
    expect(normaliseText('सस्ता लोन')).toBe('सस्ता लोन');
    expect(normaliseText('ガス')).toBe('ガス');
  });

  it('reads the decimal digits of every script as ASCII digits', () => {
    expect(normaliseText('٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹ ०१२३४५६७८९ ๐๑๒๓๔๕๖๗๘๙')).toBe('0123456789 0123456789 0123456789 0123456789');
    expect(normaliseText('\u{1E950}\u{1E959} \u{116D0}\u{116D9}\u{116E0}\u{116E9} Продам 😀')).toBe('09 0909 продам 😀');
    // Every decimal digit of the BMP, whatever its script: Unicode puts each script's 0 to 9 in a
    // row, so its value is its distance from the start of its run.
    const wrong: string[] = [];
    for (let cp = 0x80; cp <= 0xffff; cp++) {
      const char = String.fromCharCode(cp);
      if (!/\p{Nd}/u.test(char)) continue;
      let zero = cp;
      while (/\p{Nd}/u.test(String.fromCharCode(zero - 1))) zero--;
      if (normaliseText(char) !== String((cp - zero) % 10)) wrong.push(cp.toString(16));
    }
    expect(wrong).toEqual([]);
  });

  it('folds case and collapses white space', () => {
    expect(normaliseText('Café  CASINO\n\n\tnight ')).toBe('cafe casino night');
  });

  it('reads at most maxLength characters', () => {
    expect(normaliseText('a'.repeat(10) + 'casino', 10)).toBe('a'.repeat(10));
    expect(normaliseText('é'.repeat(70_000)).length).toBe(65_536);
  });
});

describe('joinSpelledOut', () => {
  it.each([
    ['v.i.a.g.r.a', 'viagra'],
    ['v-i-a-g-r-a', 'viagra'],
    ['v i a g r a', 'viagra'],
    ['v . i . a . g . r . a', 'viagra'],
    ['v_i_a_g_r_a', 'viagra'],
    ['c*a*s*i*n*o', 'casino'],
    ['V.I.A.G.R.A', 'viagra'],
    ['ѵ.і.а.g.r.а', 'viagra'],
  ])('%s → %s', (input, expected) => {
    expect(matchForm(input)).toBe(expected);
  });

  it('joins each run on its own separator, so two spelled words stay two words', () => {
    expect(matchForm('v.i.a.g.r.a c-i-a-l-i-s')).toBe('viagra cialis');
    expect(matchForm('buy v i a g r a, now')).toBe('buy viagra, now');
  });

  it('leaves ordinary text alone: words, abbreviations of two letters, single letters', () => {
    expect(matchForm('a bike in good shape, e.g. for a kid')).toBe('a bike in good shape, e.g. for a kid');
    expect(matchForm('size 10 x 20 cm')).toBe('size 10 x 20 cm');
  });
});

describe('normaliseAscii', () => {
  // Every ASCII character, white space and its neighbours (\x1c-\x1f are not white space to \s) often.
  const asciiText = fc
    .array(fc.oneof(fc.constantFrom(' ', ' ', '\t', '\n', '\v', '\f', '\r', '\x1c', '\x1f', 'a', 'B'), fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c))), { maxLength: 200 })
    .map((chars) => chars.join(''));

  it('collapses white space exactly as the Unicode \\s does on ASCII text', () => {
    fc.assert(
      fc.property(asciiText, (text) => {
        expect(normaliseAscii(text)).toBe(text.toLowerCase().replace(/\s+/g, ' ').trim());
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([
    ['empty', '', ''],
    ['only white space', ' \t\r\n ', ''],
    ['a lone tab or newline becomes a space', 'a\tb\nc', 'a b c'],
    ['runs become one space', 'A  \r\n\r\n  B', 'a b'],
    ['separators that are not white space stay', 'a\x1cb\x1fc', 'a\x1cb\x1fc'],
  ])('%s', (_, text, normalised) => {
    expect(normaliseAscii(text)).toBe(normalised);
  });
});

describe('joinSpelledOut on ASCII text', () => {
  // The whole regex replacement, without the quick test that skips text holding no spelled-out run.
  const SPELLED = /(?<![a-z0-9])[a-z0-9]([ ._*+~|/\\:,-]{1,3})[a-z0-9](?![a-z0-9])(?:\1[a-z0-9](?![a-z0-9]))+/g;
  const reference = (text: string) => text.replace(SPELLED, (run) => run.replace(/[^a-z0-9]/g, ''));
  // Lone letters and digits, words, every separator and a few characters that are none.
  const text = fc
    .array(fc.constantFrom('v', 'i', 'a', '1', '2', 'ab', 'sofa', ' ', ' ', '.', '_', '*', '+', '~', '|', '/', '\\', ':', ',', '-', '!', '@', '\n'), { maxLength: 60 })
    .map((parts) => parts.join(''));

  it('joins exactly what the whole regex joins (the quick test only skips text with nothing to join)', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(joinSpelledOut(t, true)).toBe(reference(t));
      }),
      { numRuns: 3_000 },
    );
  });

  it.each([
    ['empty', '', ''],
    ['two lone letters are not a run', 'a b sofa', 'a b sofa'],
    ['at the start of the text', 'v.i.a sofa', 'via sofa'],
    ['at the end of the text', 'sofa v-i-a', 'sofa via'],
    ['a long run', `${'x '.repeat(5_000)}y`, `${'x'.repeat(5_000)}y`],
  ])('%s', (_, input, joined) => {
    expect(joinSpelledOut(input, true)).toBe(joined);
  });
});

describe('normaliseText: the shortcut for text ASCII but for a few characters', () => {
  // The code units the shortcut's table may hold, its neighbours, and characters it must leave to
  // the Unicode path (marks, Cherokee, twinless Cyrillic, CJK, surrogates, ß, Arabic digits).
  const tried = fc.oneof(
    fc.integer({ min: 0x00a0, max: 0x024f }), fc.integer({ min: 0x0370, max: 0x04ff }), fc.integer({ min: 0x1e00, max: 0x1eff }),
    fc.integer({ min: 0x2000, max: 0x206f }), fc.integer({ min: 0xff01, max: 0xff5e }), fc.constantFrom(0xfeff, 0x0301, 0x13a0, 0x0437, 0x4e2d, 0xd83d, 0x00df, 0x0663),
  ).map((c) => String.fromCharCode(c));
  const ascii = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCXYZ0189  .,-!\n\t'.split(''));
  const mostlyAscii = fc.array(fc.oneof({ weight: 6, arbitrary: ascii }, { weight: 1, arbitrary: tried }), { maxLength: 60 }).map((chars) => chars.join(''));
  const mixed = fc.array(fc.oneof(ascii, tried), { maxLength: 30 }).map((chars) => chars.join(''));

  it('gives what every step of the Unicode path gives', () => {
    fc.assert(
      fc.property(fc.oneof(mostlyAscii, mixed), (text) => {
        expect(normaliseText(text)).toBe(normaliseUnicode(text));
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([
    ['accents', 'Café crème brûlée', 'cafe creme brulee'],
    ['look-alikes in English', 'Cheap ѵіаgrа and c\u200Bialis', 'cheap viagra and cialis'],
    ['full-width letters', 'ＶＩＡＧＲＡ now', 'viagra now'],
    ['a no-break space', 'a\u00A0\u00A0b', 'a b'],
    ['a Russian word stays Russian', 'нос', 'нос'],
    ['a word with a twinless letter is Cyrillic', 'кaзинo', 'казино'],
    ['more look-alikes than Latin letters', 'ѕех ab', normaliseUnicode('ѕех ab')],
  ])('%s', (_, text, normalised) => {
    expect(normaliseText(text)).toBe(normalised);
    expect(normaliseUnicode(text)).toBe(normalised);
  });

  it('takes the usual disguises and accents the short way, and leaves the rest to the Unicode path', () => {
    for (const text of ['Café crème', 'Cheap ѵіаgrа and c\u200Bialis', 'ＶＩＡＧＲＡ\u00A0now', 'soft\u00ADhyphen', 'İstanbul', 'a\u2028b\u2003c']) {
      expect(sparseAscii(text), JSON.stringify(text)).not.toBeNull();
    }
    // Russian, a twinless Cyrillic letter, a combining mark, CJK, an emoji, ß (its own folding), Arabic digits.
    for (const text of ['нос', 'кaзинo', 'cafe\u0301', '出售', 'ok 😀', 'Straße', '٠٧٧']) {
      expect(sparseAscii(text), JSON.stringify(text)).toBeNull();
    }
  });
});
