/**
 * How RedisStore gathers evaluations into script calls, without Redis: what is sent at once and
 * what waits for the end of the turn, the size cap, shapes sent once, where each answer starts.
 */
import { describe, expect, it } from 'vitest';
import { createCoalescer, FLAT_ITEMS, type PendingCall } from '../src/coalesce.js';
import { ByteWriter, packCall, writeShape } from '../src/shapes.js';

interface Sent {
  keys: string[];
  args: (string | Buffer)[];
  answer(value: unknown): void;
}

function recorder(maxKeys?: number, maxBatches?: number) {
  const sent: Sent[] = [];
  let id = 0;
  const coalescer = createCoalescer({
    maxKeys,
    maxBatches,
    requestId: () => `req-${id++}`,
    send: (keys, args) => new Promise((resolve) => sent.push({ keys, args, answer: resolve })),
  });
  return { coalescer, sent };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A shape reading the marks `names`, encoded as the store encodes a subject. */
const shape = (...names: string[]) => ({ get: names });

/** Joins `key` with `ops`' encoding, placed amid other bytes as in the store's scratch buffer. */
function join(call: PendingCall, key: string, ops: Parameters<typeof writeShape>[1], answerLength: number, readOnly = false): number {
  const scratch = new ByteWriter(16);
  writeShape(scratch, shape('before'));
  const start = scratch.length;
  const items = writeShape(scratch, ops);
  const end = scratch.length;
  writeShape(scratch, shape('after'));
  return call.join(key, scratch.bytes, start, end, items, answerLength, readOnly);
}

describe('createCoalescer', () => {
  it('sends a lone batch at once, and gathers the batches that arrive while a call is in flight', async () => {
    const { coalescer, sent } = recorder();
    join(coalescer.callFor('0', ''), 'k1', shape('a'), 1);
    coalescer.submit();
    expect(sent).toHaveLength(1);
    for (const key of ['k2', 'k3', 'k4']) {
      join(coalescer.callFor('0', ''), key, shape('a'), 1);
      coalescer.submit();
    }
    expect(sent).toHaveLength(1);
    await turn();
    expect(sent.map((s) => s.keys)).toEqual([['k1'], ['k2', 'k3', 'k4']]);
    // Clock, request id, the one distinct shape, then each key's shape number.
    expect(sent[1]!.args).toEqual(['', 'req-1', packCall([shape('a')], [1, 1, 1])]);
  });

  it('sends each distinct shape once and tells where each answer starts', async () => {
    const { coalescer, sent } = recorder();
    const call = coalescer.callFor('0', '1700000000000');
    expect(join(call, 'k1', shape('x', 'y'), 3)).toBe(2);
    expect(join(call, 'k2', shape('y'), 1)).toBe(5);
    expect(join(call, 'k3', shape('x', 'y'), 3)).toBe(6);
    // Bytes are compared whole: a shape whose one name holds another's names is its own shape.
    expect(join(call, 'k4', shape('x\u0000y'), 2)).toBe(9);
    expect(join(call, 'k5', shape('x\u0000y'), 2)).toBe(11);
    expect(join(call, 'k6', shape('x', 'y', ''), 1)).toBe(13);
    coalescer.submit();
    expect(sent[0]!.args).toEqual([
      '1700000000000',
      'req-0',
      packCall([shape('x', 'y'), shape('y'), shape('x\u0000y'), shape('x', 'y', '')], [1, 2, 1, 3, 3, 4]),
    ]);
  });

  it('sends a read-only key joined again with the same shape once, sharing its answer, until a subject writes that key', async () => {
    const { coalescer, sent } = recorder();
    const call = coalescer.callFor('0', '');
    const write = { set: [{ name: 'v', value: 2, until: null }] };
    expect(join(call, 'rv', shape('v'), 1, true)).toBe(2);
    expect(join(call, 'ip1', shape('a'), 1)).toBe(3);
    expect(join(call, 'rv', shape('v'), 1, true)).toBe(2); // shared, not sent
    expect(join(call, 'rv', shape('v', 'w'), 2, true)).toBe(4); // another shape: sent
    expect(join(call, 'rv', shape('v'), 1, true)).toBe(6); // its last read was another shape
    expect(join(call, 'rv', write, 1)).toBe(7);
    expect(join(call, 'rv', shape('v'), 1, true)).toBe(8); // after a write: read again
    expect(join(call, 'rv', shape('v'), 1, true)).toBe(8);
    coalescer.submit();
    expect(sent[0]!.keys).toEqual(['rv', 'ip1', 'rv', 'rv', 'rv', 'rv']);
    expect(sent[0]!.args[2]).toEqual(packCall([shape('v'), shape('a'), shape('v', 'w'), write], [1, 2, 3, 1, 4, 1]));
  });

  it('compares a joining subject with the newest shapes only, sending an older repeat again', async () => {
    const { coalescer, sent } = recorder();
    const call = coalescer.callFor('0', '');
    for (let i = 0; i < 10; i++) join(call, `k${i}`, shape(String(i)), 1);
    join(call, 'again-newest', shape('9'), 1);
    join(call, 'again-oldest', shape('0'), 1); // ten shapes back: past the search, sent as a new shape
    coalescer.submit();
    const names = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '0'];
    expect(sent[0]!.args.slice(2)).toEqual([packCall(names.map((name) => shape(name)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 11])]);
  });

  it('grows a call past its first buffers: 200 distinct shapes of long names, all sent', async () => {
    const { coalescer, sent } = recorder(300);
    const call = coalescer.callFor('0', '');
    const shapes = Array.from({ length: 200 }, (_, i) => shape(`a name long enough to grow the buffer ${i}`));
    for (let i = 0; i < shapes.length; i++) join(call, `k${i}`, shapes[i]!, 1);
    coalescer.submit();
    expect(sent[0]!.args.slice(2)).toEqual([packCall(shapes, shapes.map((_, i) => i + 1))]);
  });

  it('sends a call of more than FLAT_ITEMS items as one array rather than a run (the Lua stack holds 8,000 values)', async () => {
    const { coalescer, sent } = recorder(300);
    const call = coalescer.callFor('0', '');
    const shapes = Array.from({ length: 100 }, (_, i) => shape(...Array.from({ length: 40 }, (_, j) => `m${i}.${j}`)));
    for (let i = 0; i < shapes.length; i++) join(call, `k${i}`, shapes[i]!, 1);
    coalescer.submit();
    expect(100 * (6 + 40) + 100).toBeGreaterThan(FLAT_ITEMS);
    expect(sent[0]!.args.slice(2)).toEqual([packCall(shapes, shapes.map((_, i) => i + 1), 'array')]);
  });

  it('caps a call at maxKeys subjects, and keeps groups (slots, clocks) apart', async () => {
    const { coalescer, sent } = recorder(2);
    for (const key of ['a', 'b', 'c']) join(coalescer.callFor('slot-1', ''), key, shape('s'), 1);
    join(coalescer.callFor('slot-2', ''), 'z', shape('s'), 1);
    // The full call left as soon as a third subject needed room.
    expect(sent.map((s) => s.keys)).toEqual([['a', 'b']]);
    coalescer.submit();
    await turn();
    expect(sent.map((s) => s.keys)).toEqual([['a', 'b'], ['c'], ['z']]);
  });

  it('sends a group\'s calls of different clocks in the order their subjects came', async () => {
    const { coalescer, sent } = recorder();
    join(coalescer.callFor('0', ''), 'warm', shape('s'), 1);
    coalescer.submit(); // in flight: what follows gathers
    for (const [key, clock] of [['a', '1'], ['b', '1'], ['c', '2'], ['d', '1']] as const) {
      join(coalescer.callFor('0', clock), key, shape('s'), 1);
      coalescer.submit();
    }
    await turn();
    expect(sent.map((s) => [s.args[0], s.keys])).toEqual([['', ['warm']], ['1', ['a', 'b']], ['2', ['c']], ['1', ['d']]]);
  });

  it('caps a call at maxBatches batches, each batch with all its subjects', async () => {
    const { coalescer, sent } = recorder(100, 2);
    join(coalescer.callFor('0', ''), 'first', shape('s'), 1);
    coalescer.submit(); // sent at once: nothing was in flight
    // Three batches of two subjects arrive while it is in flight: two fit a call, the third
    // sends that call on its way as soon as it needs room.
    for (const b of ['a', 'b', 'c']) {
      for (const k of ['1', '2']) join(coalescer.callFor('0', ''), `${b}${k}`, shape('s'), 1);
      coalescer.submit();
    }
    expect(sent.map((s) => s.keys)).toEqual([['first'], ['a1', 'a2', 'b1', 'b2']]);
    await turn();
    expect(sent.map((s) => s.keys)).toEqual([['first'], ['a1', 'a2', 'b1', 'b2'], ['c1', 'c2']]);
  });

  it('settles every waiter with its call, and a failed call rejects only its own', async () => {
    let calls = 0;
    const coalescer = createCoalescer({
      requestId: () => 'r',
      send: () => (++calls === 1 ? Promise.resolve(['answer']) : Promise.reject(new Error('down'))),
    });
    const first = coalescer.callFor('0', '');
    join(first, 'a', shape('s'), 1);
    coalescer.submit();
    const second = coalescer.callFor('0', '');
    join(second, 'b', shape('s'), 1);
    join(second, 'c', shape('s'), 1);
    coalescer.submit();
    // Counted from joining (gathering too) until answered or failed: what RedisStore bounds.
    expect(coalescer.subjectsInFlight()).toBe(3);
    await expect(first.reply).resolves.toEqual(['answer']);
    expect(coalescer.subjectsInFlight()).toBe(2);
    await expect(second.reply).rejects.toThrow('down');
    expect(coalescer.subjectsInFlight()).toBe(0);
  });
});
