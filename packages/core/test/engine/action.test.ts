import { describe, expect, it } from 'vitest';
import { ActionError, createGuard, isActiongateError } from '../../src/index.js';

const guard = createGuard({ policy: { name: 'input', content: { terms: { casino: 10 } }, limits: [{ id: 'a', by: 'actor', window: '1m', max: 5 }] } });

async function rejection(action: unknown): Promise<ActionError> {
  try {
    await guard.evaluate(action as never);
  } catch (error) {
    expect(isActiongateError(error)).toBe(true);
    expect(error).toBeInstanceOf(ActionError);
    return error as ActionError;
  }
  throw new Error('expected an ActionError');
}

describe('bad input', () => {
  it.each([
    [null, 'action'],
    ['ad.submit', 'action'],
    [[], 'action'],
    [{}, 'action'],
    [{ action: 42 }, 'action'],
    [{ action: '' }, 'action'],
    [{ action: 'x'.repeat(10_000) }, 'action'],
    [{ action: 'a', ip: 17 }, 'ip'],
    [{ action: 'a', ip: '999.1.1.1' }, 'ip'],
    [{ action: 'a', ip: '1.2.3.4 ' }, 'ip'],
    [{ action: 'a', ip: 'x'.repeat(1_000_000) }, 'ip'],
    [{ action: 'a', request: 'nope' }, 'request'],
    [{ action: 'a', request: { remoteAddress: 'localhost' } }, 'request.remoteAddress'],
    [{ action: 'a', actor: 'u1' }, 'actor'],
    [{ action: 'a', actor: { id: 5 } }, 'actor.id'],
    [{ action: 'a', actor: { id: 'u', status: {} } }, 'actor.status'],
    [{ action: 'a', actor: { id: 'u', createdAt: 'yesterday' } }, 'actor.createdAt'],
    [{ action: 'a', content: 'text' }, 'content'],
    [{ action: 'a', content: { body: 5 } }, 'content.body'],
    [{ action: 'a', attributes: [1] }, 'attributes'],
  ])('%j → ActionError on %s', async (action, field) => {
    const error = await rejection(action);
    expect(error.code).toBe('ACTION_INVALID');
    expect(error.field).toBe(field);
  });

  it('never reads or pollutes prototypes through __proto__ / constructor keys', async () => {
    const hostile = JSON.parse('{"action":"a","ip":"192.0.2.1","actor":{"id":"__proto__","status":"constructor"},"content":{"__proto__":"casino","constructor":"x"},"attributes":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}');
    const d = await guard.evaluate(hostile);
    expect(d.verdict).toBe('allow');
    expect(d.score).toBe(10);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    const inherited = Object.create({ action: 'inherited' });
    expect((await rejection(inherited)).field).toBe('action');
  });

  it('scans at most maxFieldLength of a huge field', async () => {
    // "casino" lies beyond the first 64 KiB, so it is never read.
    const d = await guard.evaluate({ action: 'a', content: { body: 'x '.repeat(5_000_000) + 'casino' } });
    expect(d.score).toBe(0);
    expect((await guard.evaluate({ action: 'a', content: { body: 'x '.repeat(100) + 'casino' } })).score).toBe(10);
  });
});
