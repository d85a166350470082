/**
 * Plain node:http: the same routes as the Express recipe, without a framework.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createGuard, isActiongateError, loadPolicy, requestFrom, toHttpResponse, type Guard } from '@actiongate/core';

async function json(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 65_536) throw new Error('body too large');
  }
  try {
    const value: unknown = JSON.parse(text || '{}');
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const sender = (res: ServerResponse) => (status: number, body: unknown, headers: Record<string, string> = {}) =>
  void res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(body));

export async function createApp(given?: Guard) {
  const guard = given ?? createGuard({ policy: await loadPolicy(new URL('./policy.json', import.meta.url).pathname) });
  const server = createServer((req, res) => {
    const send = sender(res);
    // node:http does nothing with a handler's rejection: unhandled, it leaves the request hanging
    // and can end the process. A bad input (an admin's malformed target: ActionError) is a 400.
    route(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      const bad = isActiongateError(error) && (error.code === 'ACTION_INVALID' || error.code === 'TARGET_INVALID');
      send(bad ? 400 : 500, { error: bad ? (error as Error).message : 'internal error' });
    });
  });
  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = sender(res);
    // The client's address and headers before the body: once a client that sent it has closed
    // the connection, Node no longer knows its address (requestFrom then refuses).
    const client = requestFrom(req);
    const body = await json(req).catch(() => null);
    if (body === null) return send(413, { error: 'body too large' });
    if (req.method === 'POST' && req.url === '/ads') {
      const decision = await guard.evaluate({ action: 'ad.submit', request: client, content: { title: String(body.title ?? ''), body: String(body.body ?? '') } });
      const answer = toHttpResponse(decision);
      return answer.status !== 200 ? send(answer.status, answer.body, answer.headers) : send(201, { ok: true }, answer.headers);
    }
    if (req.method === 'POST' && req.url === '/challenge') {
      if (body.solved !== true) return send(400, { error: 'captcha not solved' });
      return send(200, { passed: await guard.passChallenge(String(body.token ?? '')) });
    }
    if (req.method === 'POST' && req.url === '/admin/unblock') {
      if (req.headers['x-admin-token'] !== process.env.ADMIN_TOKEN) return send(401, { error: 'unauthorised' });
      await guard.unblock(String(body.target ?? ''));
      return void res.writeHead(204).end();
    }
    send(404, { error: 'not found' });
  }
  return { server, guard };
}
