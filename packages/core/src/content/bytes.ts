/**
 * Plain-ASCII text as bytes, for the loops that read every character of a field (the shape of
 * the raw text, the fingerprint and near-duplicate words of the normalised text). A byte read
 * from a typed array costs a fraction of `charCodeAt`, which checks the string's representation
 * on every call (and walks to the parent of a sliced string); copying the text out first costs
 * a fraction of a nanosecond per character. For ASCII text the UTF-8 bytes are the character
 * codes, so `bytes[i] === text.charCodeAt(i)`.
 */

/** Characters copied into the shared scratch array; longer texts get an array of their own. */
const SCRATCH_LENGTH = 65_536;
// Reused by every call, like near.ts's scratch space: the callers are synchronous and read the
// bytes before they ask for another text's.
const SCRATCH = new Uint8Array(SCRATCH_LENGTH);
const encoder = new TextEncoder();

/**
 * The character codes of `text` in the first `text.length` bytes of the returned array, or null
 * when `text` is not plain ASCII: a non-ASCII character takes two to four UTF-8 bytes, and every
 * index after it would be wrong. The copy tells ASCII from other text on the way, at a fraction
 * of the cost of `isAscii`'s regex. The array is shared: valid until the next call.
 */
export function bytesIfAscii(text: string): Uint8Array | null {
  const bytes = text.length <= SCRATCH_LENGTH ? SCRATCH : new Uint8Array(text.length);
  const { read, written } = encoder.encodeInto(text, bytes);
  return read === text.length && written === text.length ? bytes : null;
}

/** `bytesIfAscii` of text the caller knows is plain ASCII; other text throws. */
export function asciiBytes(text: string): Uint8Array {
  const bytes = bytesIfAscii(text);
  if (!bytes) throw new Error('asciiBytes: the text is not plain ASCII');
  return bytes;
}
