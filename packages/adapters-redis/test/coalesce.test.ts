/**
 * How RedisStore gathers evaluations into script calls, without Redis: what is sent at once and
 * what waits for the end of the turn, the size cap, shapes sent once, where each answer starts.
 */
import { describe, expect, it } from 'vitest';
import { createCoalescer } from '../src/coalesce.js';

interface Sent {
  keys: string[];
  args: string[];
  answer(value: unknown): void;
}

function recorder(maxKeys?: number) {
  const sent: Sent[] = [];
  let id = 0;
  const coalescer = createCoalescer({
    maxKeys,
    requestId: () => `req-${id++}`,
    send: (keys, args) => new Promise((resolve) => sent.push({ keys, args, answer: resolve })),
  });
  return { coalescer, sent };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('createCoalescer', () => {
  it('sends a lone batch at once, and gathers the batches that arrive while a call is in flight', async () => {
    const { coalescer, sent } = recorder();
    coalescer.callFor('0', '').join('k1', ['a'], 1);
    coalescer.submit();
    expect(sent).toHaveLength(1);
    for (const key of ['k2', 'k3', 'k4']) {
      coalescer.callFor('0', '').join(key, ['a'], 1);
      coalescer.submit();
    }
    expect(sent).toHaveLength(1);
    await turn();
    expect(sent.map((s) => s.keys)).toEqual([['k1'], ['k2', 'k3', 'k4']]);
    // Clock, request id, one shape, its items, then each key's shape index.
    expect(sent[1]!.args).toEqual(['', 'req-1', '1', 'a', '1', '1', '1']);
  });

  it('sends each distinct shape once and tells where each answer starts', async () => {
    const { coalescer, sent } = recorder();
    const call = coalescer.callFor('0', '1700000000000');
    expect(call.join('k1', ['2', 'x'], 3)).toBe(2);
    expect(call.join('k2', ['1', 'y'], 1)).toBe(5);
    expect(call.join('k3', ['2', 'x'], 3)).toBe(6);
    // Items are compared whole: one item that holds another shape's items and a separator is a
    // shape of its own, and shared only with an equal one.
    expect(call.join('k4', ['2\u0000x'], 2)).toBe(9);
    expect(call.join('k5', ['2\u0000x'], 2)).toBe(11);
    expect(call.join('k6', ['2', 'x', ''], 1)).toBe(13);
    coalescer.submit();
    expect(sent[0]!.args).toEqual(['1700000000000', 'req-0', '4', '2', 'x', '1', 'y', '2\u0000x', '2', 'x', '', '1', '2', '1', '3', '3', '4']);
  });

  it('compares a joining subject with the newest shapes only, sending an older repeat again', async () => {
    const { coalescer, sent } = recorder();
    const call = coalescer.callFor('0', '');
    for (let i = 0; i < 10; i++) call.join(`k${i}`, [String(i)], 1);
    call.join('again-newest', ['9'], 1);
    call.join('again-oldest', ['0'], 1); // ten shapes back: past the search, sent as a new shape
    coalescer.submit();
    expect(sent[0]!.args.slice(0, 3)).toEqual(['', 'req-0', '11']);
    expect(sent[0]!.args.slice(3, 14)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '0']);
    expect(sent[0]!.args.slice(14)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '10', '11']);
  });

  it('caps a call at maxKeys subjects, and keeps groups (slots, clocks) apart', async () => {
    const { coalescer, sent } = recorder(2);
    for (const key of ['a', 'b', 'c']) coalescer.callFor('slot-1', '').join(key, ['s'], 1);
    coalescer.callFor('slot-2', '').join('z', ['s'], 1);
    // The full call left as soon as a third subject needed room.
    expect(sent.map((s) => s.keys)).toEqual([['a', 'b']]);
    coalescer.submit();
    await turn();
    expect(sent.map((s) => s.keys)).toEqual([['a', 'b'], ['c'], ['z']]);
  });

  it('settles every waiter with its call, and a failed call rejects only its own', async () => {
    let calls = 0;
    const coalescer = createCoalescer({
      requestId: () => 'r',
      send: () => (++calls === 1 ? Promise.resolve(['answer']) : Promise.reject(new Error('down'))),
    });
    const first = coalescer.callFor('0', '');
    first.join('a', ['s'], 1);
    coalescer.submit();
    const second = coalescer.callFor('0', '');
    second.join('b', ['s'], 1);
    coalescer.submit();
    await expect(first.reply).resolves.toEqual(['answer']);
    await expect(second.reply).rejects.toThrow('down');
  });
});
