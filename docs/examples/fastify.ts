/**
 * Fastify: the same routes; `requestFrom(request.raw)` reads the Node request under Fastify's,
 * in an onRequest hook: before the body is read, while the connection still has its address.
 */
import Fastify from 'fastify';
import { createGuard, isActiongateError, loadPolicy, requestFrom, toHttpResponse, type Guard } from '@actiongate/core';

export async function createApp(guard?: Guard) {
  guard ??= createGuard({ policy: await loadPolicy(new URL('./policy.json', import.meta.url).pathname) });
  const app = Fastify({ bodyLimit: 65_536 });
  // Once a client that sent its body has closed the connection, Node no longer knows its
  // address (requestFrom then refuses): read it as the request arrives.
  const clients = new WeakMap<object, ReturnType<typeof requestFrom>>();
  app.addHook('onRequest', async (request) => {
    clients.set(request, requestFrom(request.raw));
  });
  app.post<{ Body: { title?: string; body?: string } }>('/ads', async (request, reply) => {
    const decision = await guard.evaluate({ action: 'ad.submit', request: clients.get(request)!, content: { title: String(request.body?.title ?? ''), body: String(request.body?.body ?? '') } });
    const answer = toHttpResponse(decision);
    reply.headers(answer.headers);
    return answer.status !== 200 ? reply.code(answer.status).send(answer.body) : reply.code(201).send({ ok: true });
  });
  app.post<{ Body: { token?: string; solved?: boolean } }>('/challenge', async (request, reply) => {
    if (request.body?.solved !== true) return reply.code(400).send({ error: 'captcha not solved' });
    return { passed: await guard.passChallenge(String(request.body.token ?? '')) };
  });
  app.post<{ Body: { target?: string } }>('/admin/unblock', async (request, reply) => {
    if (request.headers['x-admin-token'] !== process.env.ADMIN_TOKEN) return reply.code(401).send();
    await guard.unblock(String(request.body?.target ?? ''));
    return reply.code(204).send();
  });
  // A bad input (an admin's malformed target: ActionError) is a 400, not Fastify's default 500.
  // Anything else is thrown on to Fastify's own handler.
  app.setErrorHandler(async (error, _request, reply) => {
    if (isBadInput(error)) return reply.code(400).send({ error: (error as Error).message });
    throw error;
  });
  return { app, guard };
}

/** An `ActionError`: input the guard cannot read (`ACTION_INVALID`) or a malformed target (`TARGET_INVALID`). */
const isBadInput = (error: unknown): boolean => isActiongateError(error) && (error.code === 'ACTION_INVALID' || error.code === 'TARGET_INVALID');
