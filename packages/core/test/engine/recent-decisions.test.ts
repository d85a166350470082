import { describe, expect, it } from 'vitest';
import { recentDecisions, type RecentRecord } from '../../src/engine/feedback.js';

const record = (at: number, content?: Record<string, string>): RecentRecord => ({ at, subjects: [`ip:${at}`], violations: [], bans: [], ...(content ? { content } : {}) });

describe('recentDecisions (the ring of this process\'s last decisions)', () => {
  it('keeps at most `max` records and forgets the oldest first', () => {
    const recent = recentDecisions(3);
    for (let i = 1; i <= 5; i++) recent.set(`id-${i}`, record(i));
    expect(recent.get('id-1')).toBeUndefined();
    expect(recent.get('id-2')).toBeUndefined();
    expect([3, 4, 5].map((i) => recent.get(`id-${i}`)?.at)).toEqual([3, 4, 5]);
    // Around the ring several times: still the last three, in order of arrival.
    for (let i = 6; i <= 100; i++) recent.set(`id-${i}`, record(i));
    expect([97, 98, 99, 100].map((i) => recent.get(`id-${i}`)?.at)).toEqual([undefined, 98, 99, 100]);
  });

  it('an update keeps its place in line (it is not made newer) and keeps the content it had', () => {
    const recent = recentDecisions(3);
    recent.set('a', record(1, { body: 'kept' }));
    recent.set('b', record(2));
    recent.set('c', record(3));
    recent.set('a', { ...record(1), feedback: 'ham' }); // feedback rewrites the record without content
    expect(recent.get('a')).toMatchObject({ feedback: 'ham', content: { body: 'kept' } });
    recent.set('d', record(4)); // 'a' is still the oldest: it goes first
    expect(recent.get('a')).toBeUndefined();
    expect(['b', 'c', 'd'].map((id) => recent.get(id)?.at)).toEqual([2, 3, 4]);
  });

  it('an update with content of its own replaces the content', () => {
    const recent = recentDecisions(2);
    recent.set('a', record(1, { body: 'old' }));
    recent.set('a', record(1, { body: 'new' }));
    expect(recent.get('a')?.content).toEqual({ body: 'new' });
  });

  it('add (fresh ids, the guard\'s path) and set (updates) share one line', () => {
    const recent = recentDecisions(3);
    recent.add('a', record(1, { body: 'a' }));
    recent.add('b', record(2));
    recent.set('a', { ...record(1), feedback: 'spam' });
    recent.add('c', record(3));
    expect(recent.get('a')).toMatchObject({ feedback: 'spam', content: { body: 'a' } });
    recent.add('d', record(4));
    expect(recent.get('a')).toBeUndefined();
    recent.set('e', record(5)); // an id not remembered is added as the newest
    expect(['b', 'c', 'd', 'e'].map((id) => recent.get(id)?.at)).toEqual([undefined, 3, 4, 5]);
  });

  it('remembers nothing when max is 0', () => {
    const recent = recentDecisions(0);
    recent.set('a', record(1));
    recent.add('b', record(2));
    expect(recent.get('a')).toBeUndefined();
    expect(recent.get('b')).toBeUndefined();
  });

  it('matches the order of a plain insertion-ordered map over a random mix of new ids and updates', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const max = 7;
    const recent = recentDecisions(max);
    const model = new Map<string, number>();
    for (let i = 0; i < 2_000; i++) {
      const known = [...model.keys()];
      const id = known.length > 0 && random() < 0.3 ? known[Math.floor(random() * known.length)]! : `id-${i}`;
      if (model.has(id) || random() < 0.5) recent.set(id, record(i));
      else recent.add(id, record(i));
      model.set(id, i);
      if (model.size > max) model.delete(model.keys().next().value!);
      for (const [key, at] of model) expect(recent.get(key)?.at).toBe(at);
      expect(recent.get(`id-${i - 50}`)?.at).toBe(model.get(`id-${i - 50}`));
    }
  });
});
