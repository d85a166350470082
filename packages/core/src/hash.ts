/**
 * The project's one 64-bit string hash: cyrb53's two 32-bit lanes (bryc's hash, kept at 64 bits),
 * over a string's UTF-16 code units. Content fingerprints (content/signals.ts, and near.ts's
 * one-pass `AsciiDigest`, which must give the same) and the hashed sets of engine/seen-once.ts
 * (`countBans`'s seen subjects, the report's challenged ones) use it; 64 bits, so unrelated texts never collide by chance.
 *
 * Constants of 2^31 and above are written as their signed 32-bit values (0xdeadbeef is
 * -559038737): Math.imul reads both the same, but a variable that starts at 0xdeadbeef starts as a
 * heap number, and V8 then keeps the whole loop's hash in doubles (near.ts measures it).
 */

/** cyrb53's final mixing of two lanes into `out`: `out[0]` the low lane, `out[1]` the high. */
export function mix64(h1: number, h2: number, out: Int32Array): void {
  h1 = Math.imul(h1 ^ (h1 >>> 16), -2048144789) ^ Math.imul(h2 ^ (h2 >>> 13), -1028477387);
  h2 = Math.imul(h2 ^ (h2 >>> 16), -2048144789) ^ Math.imul(h1 ^ (h1 >>> 13), -1028477387);
  out[0] = h1;
  out[1] = h2;
}

/** The hash of `text` into `out` (as `mix64` writes it). */
export function hash64(text: string, out: Int32Array): void {
  let h1 = -559038737;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, -1640531535);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  mix64(h1, h2, out);
}
