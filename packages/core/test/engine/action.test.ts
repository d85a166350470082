import { describe, expect, it } from 'vitest';
import { ActionError, createGuard, isActiongateError } from '../../src/index.js';
import { MAX_ATTRIBUTE_DEPTH, MAX_ATTRIBUTE_VALUES } from '../../src/engine/action.js';

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

describe('hostile objects', () => {
  const ruled = createGuard({
    policy: {
      name: 'attributes',
      rules: [
        { name: 'anywhere', conditions: { all: [{ fact: 'attributes', path: '$..flag', operator: 'contains', value: 'on' }] }, event: { type: 'challenge', params: { reason: 'flagged' } } },
        { name: 'bot', conditions: { all: [{ fact: 'attributes', path: '$.ua', operator: 'equal', value: 'bot' }] }, event: { type: 'block', params: { reason: 'bot' } } },
      ],
    },
  });

  async function refused(action: unknown): Promise<ActionError> {
    const error: unknown = await ruled.evaluate(action as never).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ActionError);
    expect((error as ActionError).code).toBe('ACTION_INVALID');
    return error as ActionError;
  }

  it('names the missing action type without repeating "undefined"', async () => {
    expect((await refused({})).message).toBe('action: expected a non-empty string, got undefined');
    expect((await refused(undefined)).message).toBe('action: expected an object, got undefined');
  });

  it('refuses attributes nested too deep or circular, instead of a stack overflow blamed on the policy', async () => {
    let deep: Record<string, unknown> = { flag: 'on' };
    for (let i = 0; i < 50_000; i++) deep = { a: deep };
    const error = await refused({ action: 'a', attributes: deep });
    expect(error.field).toBe(`attributes${'.a'.repeat(MAX_ATTRIBUTE_DEPTH)}`);
    expect(error.message).toContain(`nested deeper than ${MAX_ATTRIBUTE_DEPTH} levels`);
    const circular: Record<string, unknown> = { flag: 'off' };
    circular.self = circular;
    expect((await refused({ action: 'a', attributes: circular })).message).toContain('circular');
    // Within the bound, a recursive path still finds what it looks for.
    let fine: Record<string, unknown> = { flag: 'on' };
    for (let i = 0; i < MAX_ATTRIBUTE_DEPTH - 2; i++) fine = { a: fine };
    expect((await ruled.evaluate({ action: 'a', attributes: fine })).verdict).toBe('challenge');
  });

  it('refuses a huge array in attributes before walking it', async () => {
    const error = await refused({ action: 'a', attributes: { ids: new Array(MAX_ATTRIBUTE_VALUES + 1).fill(1) } });
    expect(error.field).toBe('attributes');
    expect((await ruled.evaluate({ action: 'a', attributes: { ids: [1, 2, 3], ua: 'bot' } })).verdict).toBe('block');
  });

  it('names the field whose getter or Proxy trap throws', async () => {
    const boom = () => {
      throw new Error('boom');
    };
    expect((await refused({ get action() { return boom(); } })).field).toBe('action');
    expect((await refused({ action: 'a', actor: { id: 'u', get status() { return boom(); } } })).field).toBe('actor.status');
    expect((await refused({ action: 'a', content: { get body() { return boom(); } } })).field).toBe('content.body');
    expect((await refused({ action: 'a', attributes: { geo: { get country() { return boom(); } } } })).field).toBe('attributes.geo.country');
    expect((await refused({ action: 'a', attributes: new Proxy({}, { ownKeys: boom }) })).field).toBe('attributes');
    expect((await refused(new Proxy({ action: 'a' }, { getOwnPropertyDescriptor: boom }))).field).toBe('action');
    expect((await refused({ action: 'a', request: { get remoteAddress() { return boom(); } } })).field).toBe('request');
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect((await refused({ action: 'a', attributes: { x: proxy } })).field).toBe('attributes.x');
  });

  it('reads attributes once: rules see them as they were passed, not as the host changed them meanwhile', async () => {
    const attributes: Record<string, unknown> = { ua: 'bot' };
    const pending = ruled.evaluate({ action: 'a', ip: '192.0.2.9', attributes });
    attributes.ua = 'browser';
    expect((await pending).verdict).toBe('block');
    // Frozen input, Dates and class instances are values like any other.
    const when = new Date(0);
    const frozen = Object.freeze({ action: 'a', attributes: Object.freeze({ ua: 'bot', when, nested: Object.freeze({ flag: 'on' }) }) });
    expect((await ruled.evaluate(frozen)).verdict).toBe('block');
  });
});
