/**
 * The dynamic range registry as the store sees it: every evaluation reads the registry's version
 * from a subject of its own, never the entries (up to 10,000 of them, which a store that reads
 * subjects whole would otherwise read on every decision); edits announce a new version only once
 * the registry holds it.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@actiongate/memory';
import { createGuard } from '../../src/guard.js';
import { REGISTRY, REGISTRY_VERSION } from '../../src/engine/ranges.js';
import type { Store, StoreBatch } from '../../src/store/types.js';

function spyStore() {
  const inner = new MemoryStore();
  const batches: StoreBatch[] = [];
  const store: Store = { name: 'spy', apply: (batch) => (batches.push(batch), inner.apply(batch)), close: () => inner.close() };
  return { store, batches };
}

describe('the range registry in the store', () => {
  it('an evaluation reads only the version subject; a reload reads the entries once per change', async () => {
    const { store, batches } = spyStore();
    const guard = createGuard({ policy: { name: 'ranges' }, store });
    for (let i = 0; i < 50; i++) await guard.block(`cidr:198.51.${i}.0/24`, { for: '1h' });
    batches.length = 0;

    for (let i = 0; i < 5; i++) expect((await guard.evaluate({ action: 'x', ip: `198.51.${i}.7` })).verdict).toBe('block');
    const subjects = batches.flatMap((b) => b.subjects);
    const versionReads = subjects.filter((s) => s.subject === REGISTRY_VERSION);
    expect(versionReads).toHaveLength(5);
    for (const read of versionReads) expect(read).toEqual({ subject: REGISTRY_VERSION, get: ['version'] });
    // The entries were read once, by the first evaluation after the edits.
    expect(subjects.filter((s) => s.subject === REGISTRY)).toEqual([{ subject: REGISTRY, get: ['version', 'entries'] }]);
  });

  it('skips a registry entry that is not a range instead of failing every reload (and every later edit)', async () => {
    const { store } = spyStore();
    const errors: Error[] = [];
    const guard = createGuard({ policy: { name: 'a' }, store, onError: (error) => errors.push(error) });
    // Written by something else (another version, a hand edit): not a CIDR, not even a string key it knows.
    const junk = { kind: 'ban', until: null, reason: 'junk', at: 0 };
    await store.apply({ now: Date.now(), subjects: [{ subject: REGISTRY, set: [{ name: 'entries', value: { 'not-a-cidr': junk, '10.0.0.0/33': junk }, until: null }, { name: 'version', value: 'v1', until: null }] }, { subject: REGISTRY_VERSION, set: [{ name: 'version', value: 'v1', until: null }] }] });
    await guard.block('cidr:203.0.113.0/24', { for: '1h', reason: 'hosting range' });
    expect((await guard.evaluate({ action: 'x', ip: '203.0.113.9' })).reasons[0]).toMatchObject({ source: 'ban', message: 'hosting range' });
    expect((await guard.evaluate({ action: 'x', ip: '198.51.100.1' })).verdict).toBe('allow');
    expect(errors).toEqual([]);
  });

  it('another guard on the same store enforces an edit from its next decision', async () => {
    const { store } = spyStore();
    const [one, two] = [createGuard({ policy: { name: 'a' }, store }), createGuard({ policy: { name: 'a' }, store })];
    expect((await two.evaluate({ action: 'x', ip: '203.0.113.9' })).verdict).toBe('allow');
    await one.block('cidr:203.0.113.0/24', { for: '1h', reason: 'hosting range' });
    expect((await two.evaluate({ action: 'x', ip: '203.0.113.9' })).reasons[0]).toMatchObject({ source: 'ban', message: 'hosting range' });
    await one.unblock('cidr:203.0.113.0/24');
    expect((await two.evaluate({ action: 'x', ip: '203.0.113.9' })).verdict).toBe('allow');
  });

  it('a lost registry: readers keep what they know and stop reloading; an edit restores it from a copy, or refuses', async () => {
    // Lost while its signal stays: a Redis that evicts keys with no TTL, a MemoryStore whose
    // bound is full of permanent marks. Written afresh, the registry would lift every range block.
    const { store, batches } = spyStore();
    const errors = { one: [] as Error[], two: [] as Error[], three: [] as Error[] };
    const guard = (name: keyof typeof errors) => createGuard({ policy: { name: 'a' }, store, onError: (error) => errors[name].push(error) });
    const [one, two, three] = [guard('one'), guard('two'), guard('three')];
    const verdict = async (g: typeof one, ip: string) => (await g.evaluate({ action: 'x', ip })).verdict;
    await one.block('cidr:198.51.100.0/24', { for: 'permanent' });
    expect(await verdict(two, '198.51.100.7')).toBe('block'); // two now holds a copy

    await store.apply({ now: Date.now(), subjects: [{ subject: REGISTRY, del: ['entries', 'version'] }] });
    // A process that never read the registry cannot know the ranges; it says so once, not on every decision.
    batches.length = 0;
    for (let i = 0; i < 3; i++) expect(await verdict(three, '198.51.100.7')).toBe('allow');
    expect(batches.flatMap((b) => b.subjects).filter((s) => s.subject === REGISTRY)).toHaveLength(1);
    expect(errors.three).toEqual([expect.objectContaining({ code: 'STORE_FAILED', message: expect.stringMatching(/range registry is gone/) })]);
    expect(await verdict(two, '198.51.100.7')).toBe('block'); // what it knows stays in force

    // An edit from a process without a copy would write the registry afresh: refused, nothing written.
    await expect(one.block('cidr:203.0.113.0/24')).rejects.toMatchObject({ code: 'STORE_FAILED', message: expect.stringMatching(/holds no copy/) });
    expect((await store.apply({ now: Date.now(), subjects: [{ subject: REGISTRY, get: ['entries'] }] })).subjects[0]!.marks).toEqual({});
    // From a process with a copy: restored, with the edit, and every process enforces both again.
    await two.block('cidr:203.0.113.0/24');
    expect(errors.two).toEqual([expect.objectContaining({ message: expect.stringMatching(/restored from this process's copy \(1 ranges\)/) })]);
    for (const g of [one, two, three]) {
      expect(await verdict(g, '198.51.100.7')).toBe('block');
      expect(await verdict(g, '203.0.113.9')).toBe('block');
    }
    expect(errors.one).toEqual([]);
  });

  it('a lost registry with no copy anywhere: deleting its signal, as docs/operations.md says, starts an empty one', async () => {
    const { store } = spyStore();
    const guard = createGuard({ policy: { name: 'a' }, store });
    await guard.block('cidr:198.51.100.0/24', { for: 'permanent' });
    await store.apply({ now: Date.now(), subjects: [{ subject: REGISTRY, del: ['entries', 'version'] }] });
    await expect(guard.block('cidr:203.0.113.0/24')).rejects.toMatchObject({ code: 'STORE_FAILED' });
    await guard.store.apply({ now: Date.now(), subjects: [{ subject: 'ranges-version', del: ['version'] }] });
    await guard.block('cidr:203.0.113.0/24');
    expect((await guard.evaluate({ action: 'x', ip: '203.0.113.9' })).verdict).toBe('block');
    expect((await guard.evaluate({ action: 'x', ip: '198.51.100.7' })).verdict).toBe('allow');
  });
});
