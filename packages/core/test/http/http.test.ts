import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionError, createGuard, requestFrom, toHttpResponse, type Decision } from '../../src/index.js';

const base: Decision = {
  id: '00000000-0000-4000-8000-000000000000', at: 0, policy: 'p@1', action: 'a', verdict: 'allow', score: 0, reasons: [],
  retryAfterMs: null, challenge: null, limits: [], ip: null, actor: null, degraded: false,
};
const limit = (id: string, remaining: number, resetMs: number, max = 5, windowMs = 300_000) => ({ id, key: 'ip:x', count: max - remaining, max, remaining, windowMs, resetMs, exceeded: remaining === 0 });

describe('toHttpResponse', () => {
  it('answers allow with 200, no body, and the IETF rate-limit headers of the tightest limit', () => {
    const res = toHttpResponse({ ...base, limits: [limit('burst', 2, 40_000), limit('daily', 40, 3_600_000, 50, 86_400_000)] });
    expect(res).toEqual({
      status: 200,
      body: null,
      headers: { 'RateLimit-Policy': '"burst";q=5;w=300, "daily";q=50;w=86400', RateLimit: '"burst";r=2;t=40' },
    });
  });

  it('answers throttle with 429 and Retry-After rounded up; legacy headers on request', () => {
    const res = toHttpResponse({ ...base, verdict: 'throttle', retryAfterMs: 1_500, limits: [limit('burst', 0, 1_500)] }, { rateLimitHeaders: 'legacy' });
    expect(res.status).toBe(429);
    expect(res.headers).toMatchObject({ 'Retry-After': '2', RateLimit: '"burst";r=0;t=2', 'X-RateLimit-Limit': '5', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': '2', 'Cache-Control': 'no-store' });
    expect(res.body).toEqual({ verdict: 'throttle', retryAfter: 2 });
  });

  it('answers block with 403, a challenge with 403 carrying kind and token, reasons only when asked', () => {
    const reasons = [{ source: 'ban' as const, id: 'ip:x', message: 'banned', verdict: 'block' as const }, { source: 'rule' as const, id: 'trial', message: 'monitored', verdict: 'block' as const, monitor: true }];
    expect(toHttpResponse({ ...base, verdict: 'block', retryAfterMs: null, banUntil: null, reasons })).toMatchObject({ status: 403, body: { verdict: 'block' } });
    expect(toHttpResponse({ ...base, verdict: 'block', reasons }).body).not.toHaveProperty('reasons');
    expect(toHttpResponse({ ...base, verdict: 'block', reasons }, { exposeReasons: true }).body?.reasons).toEqual([{ id: 'ip:x', message: 'banned' }]);
    expect(toHttpResponse({ ...base, verdict: 'challenge', challenge: { kind: 'captcha', token: 't0k' } })).toMatchObject({ status: 403, body: { verdict: 'challenge', challenge: { kind: 'captcha', token: 't0k' } } });
    expect(toHttpResponse({ ...base, limits: [limit('x', 1, 1)] }, { rateLimitHeaders: 'none' }).headers).toEqual({});
  });

  it('answers a block that only failMode "closed" gave with 503 (the store was down, nobody judged the client), a real block during an outage with 403', async () => {
    const store = { name: 'down', apply: () => Promise.reject(new Error('ECONNREFUSED')), close: async () => {} };
    const guard = createGuard({ policy: { name: 'outage', failMode: 'closed', lists: { bad: { cidrs: ['203.0.113.0/24'], verdict: 'block' } } }, store });
    const outage = await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    expect(outage).toMatchObject({ verdict: 'block', degraded: true });
    // Nothing says when the store is back: a short Retry-After keeps clients from retrying at once.
    expect(toHttpResponse(outage)).toMatchObject({ status: 503, body: { verdict: 'block', retryAfter: 5 }, headers: { 'Cache-Control': 'no-store', 'Retry-After': '5' } });
    expect(toHttpResponse(outage, { outageRetryAfter: 30 }).headers['Retry-After']).toBe('30');
    for (const outageRetryAfter of [0, 1.5, 86_401, Number.NaN, '5' as unknown as number]) {
      expect(() => toHttpResponse(outage, { outageRetryAfter })).toThrow(/outageRetryAfter must be a whole number of seconds from 1 to 86400/);
    }
    // Listed: blocked whatever the store says, so still forbidden.
    const listed = await guard.evaluate({ action: 'a', ip: '203.0.113.9' });
    expect(listed).toMatchObject({ verdict: 'block', degraded: true });
    expect(toHttpResponse(listed).status).toBe(403);
    // A store reason that only monitors, or a block without the store's reason, is no outage.
    expect(toHttpResponse({ ...base, verdict: 'block', degraded: true, reasons: [{ source: 'ban', id: 'ip:x', message: 'banned', verdict: 'block' }] }).status).toBe(403);
    await guard.close();
  });

  it('advertises no quota while the store is down and failMode "open" or "closed" decides: nothing was counted', async () => {
    const store = { name: 'down', apply: () => Promise.reject(new Error('ECONNREFUSED')), close: async () => {} };
    const limits = [{ id: 'burst', by: 'ip' as const, window: '1m', max: 5 }];
    for (const failMode of ['open', 'closed'] as const) {
      const guard = createGuard({ policy: { name: 'outage', failMode, limits }, store });
      const decision = await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
      expect(decision).toMatchObject({ degraded: true, limits: [] });
      // A "burst";r=5;t=0 here offered a full quota that nothing had counted.
      expect(Object.keys(toHttpResponse(decision).headers).filter((h) => h.startsWith('RateLimit'))).toEqual([]);
      await guard.close();
    }
    // failMode "memory" counts on its fallback: those counts are real, and advertised.
    const guard = createGuard({ policy: { name: 'outage', failMode: 'memory', limits }, store });
    const decision = await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    expect(decision.limits).toEqual([expect.objectContaining({ id: 'burst', count: 1, remaining: 4 })]);
    expect(toHttpResponse(decision).headers.RateLimit).toMatch(/^"burst";r=4;t=6[01]$/);
    await guard.close();
  });

  it('throttles with a Retry-After no earlier than the end of the RateLimit effective window (draft -11, section 6)', async () => {
    const limits = [
      { id: 'minute', by: 'ip' as const, window: '1m', max: 2 },
      { id: 'hour', by: 'ip' as const, window: '1h', max: 3 },
    ];
    let clock = 1_000_000;
    const guard = createGuard({ policy: { name: 'two', limits }, now: () => clock });
    const answers = [];
    for (let i = 0; i < 5; i++) {
      answers.push(toHttpResponse(await guard.evaluate({ action: 'a', ip: '192.0.2.9' })));
      clock += 25_000;
    }
    // Allowed twice, then the minute is full; once it has room again, a third hit fills the hour.
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429, 200, 429]);
    for (const answer of answers.filter((a) => a.status === 429)) {
      const [, r, t] = /^"(?:minute|hour)";r=(\d+);t=(\d+)$/.exec(answer.headers.RateLimit!)!;
      expect(Number(r)).toBe(0);
      expect(Number(answer.headers['Retry-After'])).toBeGreaterThanOrEqual(Number(t));
    }
    expect(answers[4]!.headers.RateLimit).toMatch(/^"hour";r=0;/);
  });

  it('on a 429, names in RateLimit the limit that refused, not one with less left that did not, so t never runs past Retry-After', async () => {
    // A cost of 3 in 5: refused with 2 left, while the other limit keeps 1 and refused nothing.
    const limits = [
      { id: 'slow', by: 'ip' as const, window: '5m', max: 2 },
      { id: 'heavy', by: 'ip' as const, window: '1m', max: 5, cost: 3 },
      { id: 'soft', by: 'ip' as const, window: '1h', max: 1, onExceed: 'challenge' as const },
    ];
    const guard = createGuard({ policy: { name: 'costly', limits }, now: () => 1_000_000 });
    await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    const d = await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    expect(d.verdict).toBe('throttle');
    expect(d.limits.map((l) => [l.id, l.remaining, l.exceeded])).toEqual([['slow', 1, false], ['heavy', 2, true], ['soft', 0, true]]);
    const res = toHttpResponse(d);
    expect(res.status).toBe(429);
    const [, t] = /^"heavy";r=2;t=(\d+)$/.exec(res.headers.RateLimit ?? '') ?? [];
    expect(Number(t)).toBeGreaterThanOrEqual(60);
    expect(res.headers['Retry-After']).toBe(t);
    // Allowed, or refused by no limit (a ban, a rule), the tightest is named as before.
    expect(toHttpResponse({ ...d, verdict: 'block', reasons: [{ source: 'ban', id: 'ip:x', message: 'banned', verdict: 'block' }] }).headers.RateLimit).toMatch(/^"soft";r=0;/);
  });

  it('advertises no monitored limit: it never refuses, so a client must not back off for it', async () => {
    const limits = [
      { id: 'burst', by: 'ip' as const, window: '1m', max: 10 },
      { id: 'trial', by: 'ip' as const, window: '1h', max: 1, mode: 'monitor' as const },
    ];
    const guard = createGuard({ policy: { name: 'trial', limits }, now: () => 0 });
    await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    const d = await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    expect(d).toMatchObject({ verdict: 'allow', wouldBe: 'throttle' });
    expect(d.limits.find((l) => l.id === 'trial')).toMatchObject({ exceeded: true, monitor: true });
    expect(toHttpResponse(d).headers).toEqual({ 'RateLimit-Policy': '"burst";q=10;w=60', RateLimit: expect.stringMatching(/^"burst";r=8;t=\d+$/) });

    // A policy in monitor mode: every limit only counts.
    const monitored = createGuard({ policy: { name: 'rollout', mode: 'monitor', limits: [limits[0]!] }, now: () => 0 });
    let last: Decision | undefined;
    for (let i = 0; i < 11; i++) last = await monitored.evaluate({ action: 'a', ip: '192.0.2.2' });
    expect(last).toMatchObject({ verdict: 'allow', wouldBe: 'throttle' });
    expect(last!.limits[0]).toMatchObject({ exceeded: true, monitor: true });
    expect(toHttpResponse(last!, { rateLimitHeaders: 'legacy' }).headers).toEqual({});
  });

  it('advertises no limit to a client an operator allowed: it is never limited, so RateLimit r=0 would hold back a compliant client for nothing', async () => {
    const guard = createGuard({ policy: { name: 'partner', limits: [{ id: 'burst', by: 'ip', window: '1m', max: 1 }] }, now: () => 1_000_000 });
    await guard.allow('ip:192.0.2.1');
    for (let i = 0; i < 3; i++) {
      const d = await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
      // Still counted (the limit reads full, then exceeded), yet allowed.
      expect(d).toMatchObject({ verdict: 'allow', limits: [{ id: 'burst', remaining: 0 }] });
      expect(toHttpResponse(d, { rateLimitHeaders: 'legacy' })).toEqual({ status: 200, headers: {}, body: null });
    }
    // Anyone else is told as before.
    expect(toHttpResponse(await guard.evaluate({ action: 'a', ip: '192.0.2.2' })).headers.RateLimit).toMatch(/^"burst";r=0;t=\d+$/);
    await guard.close();
  });

  it('caps every number of seconds it sends at 2^31 - 1, which 32-bit parsers still read', () => {
    // A 100-year ban, and a window of a million weeks (the policy schema allows both).
    const century = 100 * 365 * 86_400_000;
    const huge = limit('eon', 0, 1e6 * 7 * 86_400_000, 5, 1e6 * 7 * 86_400_000);
    const res = toHttpResponse({ ...base, verdict: 'throttle', retryAfterMs: century, limits: [huge] }, { rateLimitHeaders: 'legacy' });
    expect(res.headers).toMatchObject({ 'Retry-After': '2147483647', RateLimit: '"eon";r=0;t=2147483647', 'RateLimit-Policy': '"eon";q=5;w=2147483647', 'X-RateLimit-Reset': '2147483647' });
    expect(res.body).toMatchObject({ retryAfter: 2_147_483_647 });
    // Below the cap, exact as before.
    expect(toHttpResponse({ ...base, verdict: 'block', retryAfterMs: 2_147_483_646_001 }).headers['Retry-After']).toBe('2147483647');
    expect(toHttpResponse({ ...base, verdict: 'block', retryAfterMs: 2_147_483_645_001 }).headers['Retry-After']).toBe('2147483646');
  });

  it('never sends a Retry-After of 0, a negative or a non-number when a refusal is due', () => {
    // "Retry-After: 0" on a 429 tells a client to hammer again at once; "NaN" is no header value.
    for (const retryAfterMs of [0, -5_000, 0.2]) {
      for (const verdict of ['throttle', 'block'] as const) {
        const res = toHttpResponse({ ...base, verdict, retryAfterMs });
        expect(res.headers['Retry-After']).toBe('1');
        expect(res.body).toMatchObject({ retryAfter: 1 });
      }
    }
    for (const retryAfterMs of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const res = toHttpResponse({ ...base, verdict: 'throttle', retryAfterMs });
      expect(res.headers).not.toHaveProperty('Retry-After');
      expect(res.body).not.toHaveProperty('retryAfter');
    }
  });

  it('never lets a limit id inject a header line or break the structured field', () => {
    const res = toHttpResponse({ ...base, limits: [limit('evil"\r\nSet-Cookie: a=b\\', 1, 1000)] });
    for (const value of Object.values(res.headers)) expect(value).not.toMatch(/[\r\n]/);
    expect(res.headers.RateLimit).toBe('"evil\\"Set-Cookie: a=b\\\\";r=1;t=1');
  });

  it('sends a plain limit id as it is, and any id at most 100 characters long', () => {
    const plain = 'ip-minute ~!#$%&()*+,./:;<=>?@[]^_`{|}';
    expect(toHttpResponse({ ...base, limits: [limit(plain, 1, 1000)] }).headers.RateLimit).toBe(`"${plain}";r=1;t=1`);
    expect(toHttpResponse({ ...base, limits: [limit('x'.repeat(150), 1, 1000)] }).headers.RateLimit).toBe(`"${'x'.repeat(100)}";r=1;t=1`);
    expect(toHttpResponse({ ...base, limits: [limit(`${'y'.repeat(99)}é\t"z`, 1, 1000)] }).headers.RateLimit).toBe(`"${'y'.repeat(99)}\\"";r=1;t=1`);
  });
});

describe('requestFrom', () => {
  it('reads a web Request (headers lower-cased; the peer address given)', () => {
    const req = new Request('http://x/', { headers: { 'X-Forwarded-For': '203.0.113.9', 'User-Agent': 'ua' } });
    expect(requestFrom(req, { remoteAddress: '10.0.0.1' })).toEqual({ remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': '203.0.113.9', 'user-agent': 'ua' } });
    expect(requestFrom(req)).not.toHaveProperty('remoteAddress');
    expect(() => requestFrom(null as never)).toThrow(expect.objectContaining({ code: 'ACTION_INVALID', field: 'request' }));
    expect(() => requestFrom({ body: 'x' } as never)).toThrow(expect.objectContaining({ code: 'ACTION_INVALID', field: 'request' }));
    // A getter that throws (a framework's lazy request, a revoked proxy) and null options: typed errors or an answer, never a raw crash.
    const throwing = { socket: { remoteAddress: '10.0.0.1' }, get headers(): never { throw new Error('body already used'); } };
    expect(() => requestFrom(throwing as never)).toThrow(expect.objectContaining({ code: 'ACTION_INVALID', field: 'request', message: expect.stringContaining('body already used') }));
    expect(requestFrom({ headers: {}, socket: { remoteAddress: '10.0.0.1' } }, null)).toEqual({ remoteAddress: '10.0.0.1', headers: {} });
  });

  it('hands a Node request\'s own header bag over unchanged, and the guard believes neither of two spellings of one header (they cannot be ordered)', async () => {
    const headers = { 'X-Forwarded-For': '6.6.6.6', 'x-forwarded-for': '203.0.113.9', Accept: 'x' };
    const req = { headers, socket: { remoteAddress: '127.0.0.1' } };
    const extracted = requestFrom(req);
    expect(extracted).toEqual({ remoteAddress: '127.0.0.1', headers });
    expect(extracted.headers).toBe(headers);
    const guard = createGuard({ policy: { name: 'dup', network: { trustedProxies: ['loopback'] } } });
    await expect(guard.evaluate({ action: 'a', request: extracted })).resolves.toMatchObject({ ip: { address: '127.0.0.1' } });
    // One spelling, in either case, is believed; the guard wrote nothing to the bag.
    const single = { 'X-Forwarded-For': '203.0.113.9' };
    await expect(guard.evaluate({ action: 'a', request: requestFrom({ headers: single, socket: { remoteAddress: '127.0.0.1' } }) })).resolves.toMatchObject({ ip: { address: '203.0.113.9' } });
    expect(single).toEqual({ 'X-Forwarded-For': '203.0.113.9' });
    expect(headers).toEqual({ 'X-Forwarded-For': '6.6.6.6', 'x-forwarded-for': '203.0.113.9', Accept: 'x' });
  });

  it('refuses a Node request whose connection closed before its address was read, rather than judge it without an IP', async () => {
    // Node forgets a closed socket's peer: a client resetting its connection right after sending
    // would otherwise pass every IP limit while the host still does the work.
    const guard = createGuard({ policy: { name: 'reset', limits: [{ id: 'burst', by: 'ip', window: '5m', max: 1, onExceed: 'block' }] } });
    const outcomes: unknown[] = [];
    const server = createServer((req, res) => {
      const judge = async () => {
        try {
          outcomes.push((await guard.evaluate({ action: 'signup', request: requestFrom(req) })).verdict);
        } catch (error) {
          outcomes.push(error);
        }
        res.destroy();
      };
      // The host awaited something (the body, a database) while the client reset.
      if (req.socket.destroyed) void judge();
      else req.socket.once('close', () => void judge());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      for (let i = 0; i < 2; i++) {
        await new Promise<void>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => {
            socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n', () => setTimeout(() => socket.resetAndDestroy(), 20));
          });
          socket.on('error', () => undefined).on('close', () => resolve());
        });
      }
      await expect.poll(() => outcomes.length).toBe(2);
      for (const outcome of outcomes) {
        expect(outcome).toBeInstanceOf(ActionError);
        expect((outcome as ActionError).field).toBe('request.remoteAddress');
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('refuses a request whose client reset the connection before Node noticed (the socket not yet destroyed), even read at once', async () => {
    // A request and a reset sent together: the handler runs on a socket Node has not yet seen
    // close, whose peer the kernel has already dropped. Judged then, it would carry no IP.
    const outcomes: unknown[] = [];
    let client: Socket | undefined;
    const server = createServer((req, res) => {
      // The reset reaches the kernel before the handler reads the socket, as when both arrive at once.
      client!.resetAndDestroy();
      const before = { destroyed: req.socket.destroyed };
      try {
        outcomes.push({ ...before, result: requestFrom(req) });
      } catch (error) {
        outcomes.push({ ...before, error });
      }
      res.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await new Promise<void>((resolve) => {
        client = connect(port, '127.0.0.1', () => client!.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'));
        client.on('error', () => undefined).on('close', () => resolve());
      });
      await expect.poll(() => outcomes.length).toBe(1);
      const [outcome] = outcomes as { destroyed: boolean; result?: unknown; error?: unknown }[];
      expect(outcome!.destroyed).toBe(false);
      // Either the address was still known, or the request is refused: never judged without one.
      if (outcome!.error === undefined) expect(outcome!.result).toMatchObject({ remoteAddress: '127.0.0.1' });
      else expect(outcome!.error).toBeInstanceOf(ActionError);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    // A socket-like object with a local IP address but no peer is no Unix socket either.
    expect(() => requestFrom({ headers: {}, socket: { localAddress: '10.0.0.2', destroyed: false } })).toThrow(ActionError);
    expect(requestFrom({ headers: {}, socket: { localAddress: '10.0.0.2' } }, { remoteAddress: '203.0.113.1' })).toEqual({ remoteAddress: '203.0.113.1', headers: {} });
  });

  it('still reads a live socket without an address (a Unix socket) as no peer, and takes a given address whatever the socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-unix-'));
    const path = join(dir, 'http.sock');
    const seen: unknown[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      seen.push(requestFrom(req));
      res.end();
    });
    try {
      await new Promise<void>((resolve) => server.listen(path, resolve));
      await new Promise<void>((resolve, reject) => {
        const socket = connect(path, () => socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
        socket.on('error', reject).on('close', () => resolve()).resume();
      });
      expect(seen).toEqual([{ headers: { host: 'x', connection: 'close' } }]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
    expect(requestFrom({ headers: {}, socket: { destroyed: true } }, { remoteAddress: '203.0.113.1' })).toEqual({ remoteAddress: '203.0.113.1', headers: {} });
    expect(requestFrom({ headers: {}, socket: { destroyed: true, remoteAddress: '203.0.113.2' } })).toEqual({ remoteAddress: '203.0.113.2', headers: {} });
    expect(() => requestFrom({ headers: {}, socket: { destroyed: true } })).toThrow(ActionError);
  });

  describe('over real HTTP on loopback (node:http)', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      // A trusted loopback proxy: the guard believes its X-Forwarded-For.
      const guard = createGuard({ policy: { name: 'http', network: { trustedProxies: ['loopback'] }, limits: [{ id: 'burst', by: 'ip', window: '5m', max: 2, onExceed: 'throttle' }] } });
      server = createServer(async (req, res) => {
        const decision = await guard.evaluate({ action: 'ad.submit', request: requestFrom(req) });
        const answer = toHttpResponse(decision);
        res.writeHead(answer.status, { ...answer.headers, 'content-type': 'application/json', 'x-client': decision.ip?.address ?? '' });
        res.end(JSON.stringify(answer.body ?? { ok: true }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('limits per forwarded client and answers 429 with Retry-After', async () => {
      const post = (ip: string) => fetch(url, { method: 'POST', headers: { 'x-forwarded-for': ip } });
      const first = await post('203.0.113.5');
      expect(first.status).toBe(200);
      expect(first.headers.get('x-client')).toBe('203.0.113.5');
      // The window releases a hit at the end of its slot (5 s slots for 5 minutes): t is 300–305.
      const [, reset] = /^"burst";r=1;t=(\d+)$/.exec(first.headers.get('ratelimit') ?? '') ?? [];
      expect(Number(reset)).toBeGreaterThanOrEqual(300);
      expect(Number(reset)).toBeLessThanOrEqual(305);
      expect(first.headers.get('ratelimit-policy')).toBe('"burst";q=2;w=300');
      await post('203.0.113.5');
      const third = await post('203.0.113.5');
      expect(third.status).toBe(429);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await third.json()).toMatchObject({ verdict: 'throttle' });
      expect((await post('203.0.113.6')).status).toBe(200);
    });
  });
});
