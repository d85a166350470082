/**
 * Every recipe, end to end over real HTTP on loopback: an ad is accepted, an ad with a link is
 * challenged, the host verifies the CAPTCHA and redeems the token, the retry goes through; a
 * flood is throttled with Retry-After and rate-limit headers, then banned; an admin unblocks.
 */
import { serve } from '@hono/node-server';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, loadPolicy, type Decision, type Guard } from '@actiongate/core';
import { createApp as expressApp } from './express.js';
import { createApp as fastifyApp } from './fastify.js';
import { createApp as honoApp } from './hono.js';
import { createApp as nodeApp } from './node-http.js';

process.env.ADMIN_TOKEN = 'test-admin';

type Started = { url: string; server: Server; close: () => Promise<void> };
const listen = (server: Server): Promise<Started> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, close: () => new Promise<void>((done) => server.close(() => done())) })));

const recipes: [string, (guard?: Guard) => Promise<Started>][] = [
  ['node:http', async (guard) => listen((await nodeApp(guard)).server)],
  ['Express', async (guard) => listen(createServerFrom((await expressApp(guard)).app))],
  ['Fastify', async (guard) => {
    const { app } = await fastifyApp(guard);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, server: app.server, close: () => app.close() };
  }],
  ['Hono', async (guard) => {
    const { app } = await honoApp(guard);
    return new Promise((resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve({ url: `http://127.0.0.1:${info.port}`, server: server as Server, close: () => new Promise<void>((done) => server.close(() => done())) }));
    });
  }],
];

/**
 * Makes a socket look as Node leaves it once the client has closed it: no peer address, and
 * destroyed (own properties over net.Socket's getters); `remember` takes that back.
 */
const forget = (socket: Socket) => {
  Object.defineProperty(socket, 'remoteAddress', { configurable: true, get: () => undefined });
  Object.defineProperty(socket, 'destroyed', { configurable: true, get: () => true });
};
const remember = (socket: Socket) => {
  delete (socket as { remoteAddress?: unknown }).remoteAddress;
  delete (socket as { destroyed?: unknown }).destroyed;
};

/** An Express app is a request listener. */
const createServerFrom = (app: RequestListener): Server => createServer(app);

describe.each(recipes)('recipe: %s', (_, start) => {
  let server: Started;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server.close());
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('accepts an ad, challenges one with a link until the CAPTCHA is passed', async () => {
    const ip = { 'x-forwarded-for': '203.0.113.10' };
    expect((await post('/ads', { title: 'Bike', body: 'Good bike' }, ip)).status).toBe(201);
    const challenged = await post('/ads', { title: 'Bike', body: 'see http://example.com' }, ip);
    expect(challenged.status).toBe(403);
    const answer = (await challenged.json()) as { verdict: string; challenge: { kind: string; token: string } };
    expect(answer).toMatchObject({ verdict: 'challenge', challenge: { kind: 'captcha' } });
    expect(await (await post('/challenge', { token: answer.challenge.token, solved: false })).status).toBe(400);
    expect(await (await post('/challenge', { token: answer.challenge.token, solved: true })).json()).toEqual({ passed: true });
    expect(await (await post('/challenge', { token: answer.challenge.token, solved: true })).json()).toEqual({ passed: false });
    expect((await post('/ads', { title: 'Bike', body: 'see http://example.com' }, ip)).status).toBe(201);
  });

  it('throttles a flood with Retry-After, bans it, and an admin unblocks', async () => {
    const ip = { 'x-forwarded-for': '203.0.113.20' };
    for (let i = 0; i < 3; i++) expect((await post('/ads', { title: `Ad ${i}`, body: 'text' }, ip)).status).toBe(201);
    const throttled = await post('/ads', { title: 'Ad', body: 'text' }, ip);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(throttled.headers.get('ratelimit-policy')).toBe('"ad-burst";q=3;w=300');
    const banned = await post('/ads', { title: 'Ad', body: 'text' }, ip);
    expect(banned.status).toBe(403);
    expect(await banned.json()).toMatchObject({ verdict: 'block', retryAfter: 3600 });
    expect((await post('/admin/unblock', { target: 'ip:203.0.113.20' })).status).toBe(401);
    expect((await post('/admin/unblock', { target: 'ip:203.0.113.20' }, { 'x-admin-token': 'test-admin' })).status).toBe(204);
    // Unblocked; the 5-minute window is still full, so the next ad is throttled, not banned.
    expect((await post('/ads', { title: 'Ad', body: 'text' }, ip)).status).toBe(429);
  });

  it('answers an admin\'s malformed target with a 400 naming it and keeps serving', async () => {
    // guard.unblock rejects (ActionError TARGET_INVALID): in a bare node:http handler that
    // rejection went unhandled, so the request hung and the process could die of it; the
    // frameworks answered their default 500, as if the server had failed.
    const refused = await post('/admin/unblock', { target: 'nonsense' }, { 'x-admin-token': 'test-admin' });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: expect.stringContaining('nonsense') });
    expect((await post('/ads', { title: 'Still', body: 'up' }, { 'x-forwarded-for': '203.0.113.30' })).status).toBe(201);
  });
});

describe.each(recipes)('recipe: %s, a client that closes right after sending', (_, start) => {
  it('is judged by the address it came from: the recipe reads it as the request arrives, before the body', async () => {
    // Node forgets a closed socket's peer; requestFrom then refuses the request. The socket is
    // made to look closed right after the recipe's first synchronous step on the request (a
    // 'request' listener added after the framework's own), and until its decision is made.
    const decisions: Decision[] = [];
    const closed = new Set<Socket>();
    const guard = createGuard({
      policy: await loadPolicy(new URL('./policy.json', import.meta.url).pathname),
      onDecision: (d) => {
        decisions.push(d);
        for (const socket of closed) remember(socket);
      },
    });
    const server = await start(guard);
    server.server.on('request', (req: IncomingMessage) => {
      closed.add(req.socket);
      forget(req.socket);
    });
    try {
      const answer = await fetch(`${server.url}/ads`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.30' }, body: JSON.stringify({ title: 'Bike', body: 'Good bike' }) });
      expect(answer.status).toBe(201);
      expect(decisions.map((d) => d.ip?.address)).toEqual(['203.0.113.30']);
    } finally {
      for (const socket of closed) remember(socket);
      await server.close();
    }
  });
});
