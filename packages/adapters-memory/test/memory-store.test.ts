import { describe, expect, it } from 'vitest';
import { testStore } from '@actiongate/core/testing';
import { MemoryStore } from '@actiongate/memory';

testStore('memory', () => new MemoryStore());

describe('MemoryStore', () => {
  it('stays within maxKeys whatever the number of subjects', async () => {
    const store = new MemoryStore({ maxKeys: 10_000 });
    for (let i = 0; i < 200_000; i += 1000) {
      await store.apply({ now: 1, subjects: Array.from({ length: 1000 }, (_, k) => ({ subject: `ip:${i + k}`, take: [{ name: 'w', windowMs: 60_000, max: 10, cost: 1 }] })) });
      expect(store.size).toBeLessThanOrEqual(10_000);
    }
    expect(store.size).toBe(10_000);
  });

  it('validates its options with an actionable message', () => {
    for (const maxKeys of [0, -1, 1.5, Number.NaN, '10' as unknown as number]) {
      expect(() => new MemoryStore({ maxKeys })).toThrow(/maxKeys must be a positive integer/);
    }
  });

  it('rejects apply after close', async () => {
    const store = new MemoryStore();
    await store.close();
    await expect(store.apply({ now: 1, subjects: [] })).rejects.toThrow(/after close/);
  });
});

describe('MemoryStore per-subject bound', () => {
  it('holds at most maxNamesPerSubject names in one subject, dropping windows before marks', async () => {
    const store = new MemoryStore({ maxNamesPerSubject: 4 });
    await store.apply({ now: 1, subjects: [{ subject: 's', set: [{ name: 'ban', value: true, until: null }] }] });
    for (let i = 0; i < 50; i++) {
      await store.apply({ now: 1, subjects: [{ subject: 's', take: [{ name: `limit|action-${i}`, windowMs: 60_000, max: 5, cost: 1 }] }] });
    }
    const result = await store.apply({ now: 1, subjects: [{ subject: 's', get: ['ban'], peek: [{ name: 'limit|action-49', windowMs: 60_000 }, { name: 'limit|action-0', windowMs: 60_000 }] }] });
    expect(result.subjects[0]!.marks.ban).toBe(true);
    expect(result.subjects[0]!.counts).toEqual({ 'limit|action-49': 1, 'limit|action-0': 0 });
  });
});
