import { describe, expect, it } from 'vitest';
import { challengeTokens, decisionIds } from '../../src/engine/decision-id.js';
import { isDecisionId } from '../../src/engine/feedback.js';

describe('decisionIds', () => {
  const decisionId = decisionIds();
  it('makes version 4 UUIDs, lower case, distinct across many refills of its random pool', () => {
    const ids = Array.from({ length: 10_000 }, () => decisionId());
    const seen = new Set(ids);
    expect(seen.size).toBe(ids.length);
    const other = decisionIds(); // another guard's, with its own pool
    for (let i = 0; i < 1_000; i++) expect(seen.has(other())).toBe(false);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(isDecisionId(id)).toBe(true);
    }
  });

  it('draws every random digit from the whole range (no position stuck or biased to a few values)', () => {
    const ids = Array.from({ length: 4_000 }, () => decisionId());
    for (let position = 0; position < 36; position++) {
      if ([8, 13, 14, 18, 23].includes(position)) continue; // the dashes, the version digit
      const seen = new Map<string, number>();
      for (const id of ids) seen.set(id[position]!, (seen.get(id[position]!) ?? 0) + 1);
      // The variant digit takes 4 values; every other one all 16, each near 1/16 of the time.
      const values = position === 19 ? 4 : 16;
      expect(seen.size).toBe(values);
      for (const count of seen.values()) expect(count).toBeGreaterThan((ids.length / values) * 0.6);
    }
  });
});

describe('challengeTokens', () => {
  it('makes 24-character base64url tokens of 144 random bits, distinct across many refills, apart per guard', () => {
    const token = challengeTokens();
    const tokens = Array.from({ length: 10_000 }, () => token());
    const seen = new Set(tokens);
    expect(seen.size).toBe(tokens.length);
    const other = challengeTokens();
    for (let i = 0; i < 1_000; i++) expect(seen.has(other())).toBe(false);
    for (const t of tokens) {
      expect(t).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(Buffer.from(t, 'base64url')).toHaveLength(18);
    }
  });

  it('draws every character from the whole alphabet at every position', () => {
    const token = challengeTokens();
    const tokens = Array.from({ length: 8_000 }, () => token());
    for (let position = 0; position < 24; position++) {
      const seen = new Map<string, number>();
      for (const t of tokens) seen.set(t[position]!, (seen.get(t[position]!) ?? 0) + 1);
      expect(seen.size).toBe(64);
      for (const count of seen.values()) expect(count).toBeGreaterThan((tokens.length / 64) * 0.5);
    }
  });
});
