/**
 * Hono on @hono/node-server: a web `Request` has no peer address, so the request is read from
 * the Node request that @hono/node-server exposes as `c.env.incoming` (headers and socket; a
 * socket the client has already closed is refused, not judged without an IP).
 */
import type { IncomingMessage } from 'node:http';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { createGuard, isActiongateError, loadPolicy, requestFrom, toHttpResponse, type Guard } from '@actiongate/core';

export async function createApp(guard?: Guard) {
  guard ??= createGuard({ policy: await loadPolicy(new URL('./policy.json', import.meta.url).pathname) });
  const app = new Hono<{ Bindings: { incoming: IncomingMessage } }>();
  app.post('/ads', async (c) => {
    // Before the body: once a client that sent it has closed the connection, Node no longer
    // knows its address (requestFrom then refuses).
    const request = requestFrom(c.env.incoming);
    const body = await c.req.json<{ title?: string; body?: string }>().catch(() => ({}) as { title?: string; body?: string });
    const decision = await guard.evaluate({ action: 'ad.submit', request, content: { title: String(body.title ?? ''), body: String(body.body ?? '') } });
    const answer = toHttpResponse(decision);
    if (answer.status !== 200) return c.json(answer.body, answer.status, answer.headers);
    return c.json({ ok: true }, 201, answer.headers);
  });
  app.post('/challenge', async (c) => {
    const body = await c.req.json<{ token?: string; solved?: boolean }>().catch(() => ({}) as { token?: string; solved?: boolean });
    if (body.solved !== true) return c.json({ error: 'captcha not solved' }, 400);
    return c.json({ passed: await guard.passChallenge(String(body.token ?? '')) });
  });
  app.post('/admin/unblock', async (c) => {
    if (c.req.header('x-admin-token') !== process.env.ADMIN_TOKEN) return c.body(null, 401);
    const body = await c.req.json<{ target?: string }>().catch(() => ({}) as { target?: string });
    await guard.unblock(String(body.target ?? ''));
    return c.body(null, 204);
  });
  // A bad input (an admin's malformed target: ActionError) is a 400, not Hono's default 500;
  // anything else is answered as Hono's default handler does.
  app.onError((error, c) => {
    if (isBadInput(error)) return c.json({ error: error.message }, 400);
    if (error instanceof HTTPException) return error.getResponse();
    console.error(error);
    return c.text('Internal Server Error', 500);
  });
  return { app, guard };
}

/** An `ActionError`: input the guard cannot read (`ACTION_INVALID`) or a malformed target (`TARGET_INVALID`). */
const isBadInput = (error: unknown): boolean => isActiongateError(error) && (error.code === 'ACTION_INVALID' || error.code === 'TARGET_INVALID');
