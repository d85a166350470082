import { describe, expect, it } from 'vitest';
import { joinSpelledOut, normaliseText } from '../../src/content/normalise.js';

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
  ])('%s', (_, input, expected) => {
    expect(normaliseText(input)).toBe(expected);
  });

  it('leaves ordinary Russian and Greek words alone, so non-Latin terms still match', () => {
    expect(normaliseText('Продам нос и сено')).toBe('продам нос и сено');
    expect(normaliseText('Καλημέρα κόσμε')).toBe('καλημερα κοσμε');
  });

  it('removes invisible characters: zero-width, soft hyphen, bidi marks, tag characters', () => {
    expect(normaliseText('vi\u200Bag\u00ADra')).toBe('viagra');
    expect(normaliseText('c\u200Da\u2060s\u202Ei\uFEFFno')).toBe('casino');
    expect(normaliseText('vi\u{E0041}agra')).toBe('viagra');
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
