/**
 * MemoryStore's windows against the brute-force reference model (`test/window-model.ts`) on
 * random timelines: an independent restatement of the slot arithmetic, so a mistake in the
 * window module that MemoryStore shares with the conformance suite cannot hide. Seeded (set
 * WINDOW_MODEL_SEED to explore other timelines); about a second each.
 */
import { describe, it } from 'vitest';
import { MemoryStore } from '@actiongate/memory';
import { checkTimelines, expectCoverage } from '../../../test/window-model.js';

const seed = Number(process.env.WINDOW_MODEL_SEED ?? 20261130);

describe('MemoryStore windows against the brute-force model', () => {
  it('agree on random timelines with tiny windows (1–300 ms: 1–5 ms slots)', async () => {
    expectCoverage(await checkTimelines(new MemoryStore(), { windowMs: { min: 1, max: 300 }, numRuns: 300, seed }, 'tiny'));
  });

  it('agree on random timelines with long windows (1 min – 2 days)', async () => {
    expectCoverage(await checkTimelines(new MemoryStore(), { windowMs: { min: 60_000, max: 2 * 86_400_000 }, numRuns: 300, seed: seed + 1 }, 'long'));
  });
});
