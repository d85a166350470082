/**
 * Plain node:http: the same routes as the Express recipe, without a framework.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { createGuard, loadPolicy, requestFrom, toHttpResponse, type Guard } from '@actiongate/core';

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

export async function createApp(guard?: Guard) {
  guard ??= createGuard({ policy: await loadPolicy(new URL('./policy.json', import.meta.url).pathname) });
  const server = createServer(async (req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(body));
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
      return res.writeHead(204).end();
    }
    send(404, { error: 'not found' });
  });
  return { server, guard };
}
