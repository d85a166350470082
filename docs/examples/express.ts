/**
 * Express: ad submission guarded by Actiongate, with challenge handling and an admin unblock.
 *   POST /ads {title, body}            → 201, or the guard's 403/429 answer (a challenge carries a token)
 *   POST /challenge {token, solved}    → the host checks its CAPTCHA, then redeems the token
 *   POST /admin/unblock {target}       → lifts a ban (protect it properly in a real app)
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { createGuard, isActiongateError, loadPolicy, requestFrom, toHttpResponse, type Guard } from '@actiongate/core';

export async function createApp(guard?: Guard): Promise<{ app: Express; guard: Guard }> {
  guard ??= createGuard({ policy: await loadPolicy(new URL('./policy.json', import.meta.url).pathname) });
  const app = express();
  // The client's address and headers first, as the request arrives: once a client that sent its
  // body has closed the connection, Node no longer knows its address (requestFrom then refuses).
  app.use((req, res, next) => {
    res.locals.client = requestFrom(req);
    next();
  });
  app.use(express.json({ limit: '64kb' }));
  app.post('/ads', async (req, res) => {
    const client = res.locals.client as ReturnType<typeof requestFrom>;
    const decision = await guard.evaluate({ action: 'ad.submit', request: client, content: { title: String(req.body?.title ?? ''), body: String(req.body?.body ?? '') } });
    const answer = toHttpResponse(decision);
    res.set(answer.headers);
    if (answer.status !== 200) return res.status(answer.status).json(answer.body);
    res.status(201).json({ ok: true });
  });
  app.post('/challenge', async (req, res) => {
    // Verify the CAPTCHA with your provider here; `solved` stands in for its answer.
    if (req.body?.solved !== true) return res.status(400).json({ error: 'captcha not solved' });
    res.json({ passed: await guard.passChallenge(String(req.body?.token ?? '')) });
  });
  app.post('/admin/unblock', async (req, res) => {
    if (req.get('x-admin-token') !== process.env.ADMIN_TOKEN) return res.sendStatus(401);
    await guard.unblock(String(req.body?.target ?? ''));
    res.sendStatus(204);
  });
  // Express 5 passes a handler's rejection here. A bad input (an admin's malformed target:
  // ActionError) is a 400, not the default 500.
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent || !isBadInput(error)) return next(error);
    res.status(400).json({ error: (error as Error).message });
  });
  return { app, guard };
}

/** An `ActionError`: input the guard cannot read (`ACTION_INVALID`) or a malformed target (`TARGET_INVALID`). */
const isBadInput = (error: unknown): boolean => isActiongateError(error) && (error.code === 'ACTION_INVALID' || error.code === 'TARGET_INVALID');
