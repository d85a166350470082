/**
 * Decision ids: random (version 4) UUIDs, as `crypto.randomUUID()` makes them, but each one flat
 * string rather than a rope.
 *
 * Why not `randomUUID()` itself: Node builds its UUID by adding two-digit pieces together, and V8
 * keeps such a sum as a chain of ~15 concatenation nodes (half a kilobyte) until something flattens
 * it. The guard keeps the id of each of its last 1,000 decisions for `feedback`, so every
 * young-generation collection found a thousand of those chains alive, copied them and promoted
 * them: keeping the ids cost a `page.view` decision ~10% of its CPU (`bench/ab.ts`: a ring that
 * kept the ids beside placeholder records against one that kept placeholders for both). Written
 * into a buffer and read out once, an id is one 36-byte string.
 *
 * The random bytes come from the system's CSPRNG (`randomFillSync`), 256 ids' worth at a time, as
 * Node itself buffers them for `randomUUID()`.
 *
 * Challenge tokens draw from a pool the same way: `randomBytes(18)` per token cost a challenged
 * decision ~5 µs (a buffer and a CSPRNG call each time), a pooled one ~0.15 µs.
 */
import { randomFillSync } from 'node:crypto';

const IDS_PER_FILL = 256;
/** The character codes of the hex digits. */
const HEX = Uint8Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0));

/**
 * A maker of fresh random UUIDs (RFC 9562 version 4, lower case), each a flat string. Each guard
 * has its own (its pool of random bytes with it): no state is shared between guards.
 */
export function decisionIds(): () => string {
  const random = Buffer.allocUnsafeSlow(16 * IDS_PER_FILL);
  let used = random.length;
  const text = Buffer.allocUnsafeSlow(36);
  return function decisionId(): string {
    if (used === random.length) {
      randomFillSync(random);
      used = 0;
    }
    const at = used;
    used += 16;
    random[at + 6] = (random[at + 6]! & 0x0f) | 0x40; // version 4
    random[at + 8] = (random[at + 8]! & 0x3f) | 0x80; // the RFC's variant
    let out = 0;
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) text[out++] = 45; // '-'
      const byte = random[at + i]!;
      text[out++] = HEX[byte >> 4]!;
      text[out++] = HEX[byte & 15]!;
    }
    return text.toString('latin1', 0, 36);
  };
}

const TOKEN_BYTES = 18;
const TOKENS_PER_FILL = 256;

/**
 * A maker of fresh challenge tokens: 18 random bytes (144 bits) each, base64url (24 characters).
 * Each guard has its own pool, as with `decisionIds`.
 */
export function challengeTokens(): () => string {
  const random = Buffer.allocUnsafeSlow(TOKEN_BYTES * TOKENS_PER_FILL);
  let used = random.length;
  return function challengeToken(): string {
    if (used === random.length) {
      randomFillSync(random);
      used = 0;
    }
    const at = used;
    used += TOKEN_BYTES;
    return random.toString('base64url', at, used);
  };
}
