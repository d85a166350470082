/**
 * Where the content model keeps its counts without a `modelStore`: in the guard's store, unless
 * that is a MemoryStore, which gets one of its own (heavy traffic must not evict the model from
 * the LRU). A MemoryStore is known by the registered symbol SYNC_APPLY, not by `instanceof`: the
 * MemoryStore of another copy of @actiongate/memory (two installs, a bundler) is one too.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore, SYNC_APPLY } from '@actiongate/memory';
import { createGuard, type PolicyDocument, type Store } from '../../src/index.js';

const policy: PolicyDocument = { name: 'model-store', content: { model: { name: 'm', minSpam: 1, minHam: 1 } } };
const spam = { action: 'ad.submit', ip: '192.0.2.1', content: { body: 'cheap pills here' } };

/** A store over a MemoryStore that records the subjects it is asked about; `memory`: it carries SYNC_APPLY as another copy's MemoryStore would. */
function recording(memory: boolean) {
  const inner = new MemoryStore();
  const subjects = new Set<string>();
  const store: Store = {
    name: 'recording',
    apply: (batch) => {
      for (const ops of batch.subjects) subjects.add(ops.subject);
      return inner.apply(batch);
    },
    close: () => inner.close(),
  };
  if (memory) Object.defineProperty(store, SYNC_APPLY, { value: () => {} });
  return { store, modelSubjects: () => [...subjects].filter((s) => s.startsWith('model:')) };
}

describe('the content model\'s store by default', () => {
  it('is the guard\'s store when that is not a MemoryStore', async () => {
    const { store, modelSubjects } = recording(false);
    const guard = createGuard({ policy, store });
    expect(await guard.feedback(spam, 'spam')).toMatchObject({ learned: true });
    expect(modelSubjects()).not.toEqual([]);
    await guard.close();
  });

  it('is a MemoryStore of its own when the guard\'s store is a MemoryStore of any copy of the package (SYNC_APPLY)', async () => {
    const { store, modelSubjects } = recording(true);
    const guard = createGuard({ policy, store });
    expect(await guard.feedback(spam, 'spam')).toMatchObject({ learned: true });
    expect(modelSubjects()).toEqual([]);
    await guard.close();
  });
});
