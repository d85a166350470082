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
});
