/**
 * From a decision to an HTTP answer, the same in every framework: 429 for throttle, 403 for block
 * (503 when only `failMode: "closed"` blocked: the store was down) and for a challenge (with the kind and token in the body, so a form can show the CAPTCHA and an
 * API client can tell a challenge from a ban), `Retry-After`, and the IETF rate-limit headers.
 *
 * Header values are built from policy ids and numbers only, as structured-field strings with
 * every character outside printable ASCII dropped: a policy id can never inject a header line.
 * Reasons' messages go in the JSON body, never in a header.
 */
import type { Decision, LimitState, Verdict } from '../types.js';

export interface HttpResponseOptions {
  /**
   * Rate-limit headers: `ietf` sends `RateLimit` and `RateLimit-Policy` as in
   * draft-ietf-httpapi-ratelimit-headers-09 to -11, the latest (structured fields: `"burst";q=5;w=300` and
   * `"burst";r=2;t=40`); `legacy` adds the older `X-RateLimit-Limit/Remaining/Reset`; `none` sends neither.
   * Monitored limits (`monitor: true`) are never advertised, nor any to a client an operator allowed.
   * @default "ietf"
   */
  rateLimitHeaders?: 'ietf' | 'legacy' | 'none';
  /** Include the decision's reasons (ids and messages) in the body. Useful in development, a hint to bots in production. @default false */
  exposeReasons?: boolean;
  /**
   * `Retry-After`, in whole seconds from 1 to 86400, of the 503 a store outage gives (a block that
   * only `failMode: "closed"` gave). Nothing tells when the store will be back; without a value a
   * client, and a retrying proxy, comes back at once, and every one of them again while it is down.
   * @default 5
   */
  outageRetryAfter?: number;
}

export interface HttpResponse {
  /**
   * 200 allow, 403 challenge or block, 429 throttle; 503 for a block that only `failMode:
   * "closed"` gave (the store was unavailable, nothing judged the client).
   */
  status: 200 | 403 | 429 | 503;
  headers: Record<string, string>;
  /** JSON-ready: `{ verdict, retryAfter?, challenge?, reasons? }`; for allow `null` (the host answers). */
  body: { verdict: Verdict; retryAfter?: number; challenge?: { kind: string; token: string }; reasons?: { id: string; message: string }[] } | null;
}

const STATUS: Record<Verdict, HttpResponse['status']> = { allow: 200, challenge: 403, throttle: 429, block: 403 };

export function toHttpResponse(decision: Decision, options: HttpResponseOptions = {}): HttpResponse {
  const mode = options.rateLimitHeaders ?? 'ietf';
  const outageRetryAfter = options.outageRetryAfter ?? DEFAULT_OUTAGE_RETRY_AFTER;
  if (!Number.isInteger(outageRetryAfter) || outageRetryAfter < 1 || outageRetryAfter > 86_400) {
    throw new TypeError(`outageRetryAfter must be a whole number of seconds from 1 to 86400, got ${String(outageRetryAfter)}`);
  }
  const headers: Record<string, string> = {};
  // A monitored limit never refuses, and no limit refuses a client an operator allowed
  // (`guard.allow`): advertising them would make a polite client back off for nothing.
  const limits = exempt(decision) ? [] : (decision.limits ?? []).filter((l) => l.monitor !== true);
  if (mode !== 'none' && limits.length > 0) {
    const tightest = shownLimit(decision, limits);
    headers['RateLimit-Policy'] = limits.map((l) => `${sfString(l.id)};q=${l.max};w=${windowSeconds(l)}`).join(', ');
    headers['RateLimit'] = `${sfString(tightest.id)};r=${tightest.remaining};t=${seconds(tightest.resetMs)}`;
    if (mode === 'legacy') {
      headers['X-RateLimit-Limit'] = String(tightest.max);
      headers['X-RateLimit-Remaining'] = String(tightest.remaining);
      headers['X-RateLimit-Reset'] = String(seconds(tightest.resetMs));
    }
  }
  if (decision.verdict === 'allow') return { status: 200, headers, body: null };
  const outage = outageOnly(decision);
  const retryAfter = outage ? outageRetryAfter : retryAfterSeconds(decision.retryAfterMs);
  if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter);
  headers['Cache-Control'] = 'no-store';
  return {
    status: outage ? 503 : STATUS[decision.verdict],
    headers,
    body: {
      verdict: decision.verdict,
      ...(retryAfter !== undefined ? { retryAfter } : {}),
      ...(decision.challenge ? { challenge: { kind: decision.challenge.kind, token: decision.challenge.token } } : {}),
      ...(options.exposeReasons ? { reasons: decision.reasons.filter((r) => !r.monitor).map((r) => ({ id: r.id, message: r.message })) } : {}),
    },
  };
}

/**
 * An operator's allow (`guard.allow` of the subject or its range) decided: the client is never
 * limited while it lasts. Its limits are still counted, so they read full once it goes past
 * them, and a `RateLimit: "burst";r=0;t=60` on every 200 told a compliant client (a partner
 * allowed so that it is not limited) to hold back.
 */
function exempt(decision: Decision): boolean {
  if (decision.verdict !== 'allow') return false;
  for (const reason of decision.reasons) if (reason.source === 'ban' && reason.verdict === 'allow' && !reason.monitor) return true;
  return false;
}

/**
 * A block that `failMode: "closed"` alone gave: the store was unavailable and no other enforced
 * reason blocks. That is the server's failure, not a judgement of the client: 503, which tells a
 * client (and a retrying proxy) to come back, where a 403 said "forbidden" to every honest user
 * of an outage and to their browsers' retries.
 */
function outageOnly(decision: Decision): boolean {
  if (!decision.degraded || decision.verdict !== 'block') return false;
  let outage = false;
  for (const reason of decision.reasons) {
    if (reason.monitor || reason.verdict === 'allow') continue;
    if (reason.source === 'store') outage = true;
    else if (reason.verdict === 'block') return false;
  }
  return outage;
}

/**
 * The limit `RateLimit` describes. On a refusal that limits gave, the refusing limit that frees
 * last, which is the one `Retry-After` waits for: the least `remaining` alone named, on a 429,
 * a limit that did not refuse (with a cost above 1, a refused limit can keep more than another
 * holds), and its `t` ran past `Retry-After`, which the draft (-11, section 6) says it should
 * not. A limit exceeded with `onExceed: "challenge"` gave no part of the wait, so it is not one.
 * Otherwise the tightest.
 */
function shownLimit(decision: Decision, limits: readonly LimitState[]): LimitState {
  if (decision.verdict === 'throttle' || decision.verdict === 'block') {
    let refusing: LimitState | undefined;
    for (const limit of limits) {
      if (!limit.exceeded || !refusedBy(decision, limit.id)) continue;
      if (refusing === undefined || limit.resetMs > refusing.resetMs || (limit.resetMs === refusing.resetMs && limit.remaining < refusing.remaining)) refusing = limit;
    }
    if (refusing !== undefined) return refusing;
  }
  return tightestOf(limits);
}

/** Whether the limit `id` refused the action: an enforced throttle or block reason of its own. */
function refusedBy(decision: Decision, id: string): boolean {
  return decision.reasons.some((r) => r.source === 'limit' && r.id === id && !r.monitor && (r.verdict === 'throttle' || r.verdict === 'block'));
}

/** The limit closest to refusing: least remaining, then the one that resets last. */
function tightestOf(limits: readonly LimitState[]): LimitState {
  let best = limits[0]!;
  for (const limit of limits) if (limit.remaining < best.remaining || (limit.remaining === best.remaining && limit.resetMs > best.resetMs)) best = limit;
  return best;
}

const DEFAULT_OUTAGE_RETRY_AFTER = 5;

/**
 * The most seconds a header says: 2^31 - 1, about 68 years. A policy may ban for longer (or give
 * a window of a million weeks), and a larger number overflows the 32-bit integers many clients
 * and proxies parse it into, some of which then read a negative wait and retry at once (RFC 9111,
 * section 1.2.2, has caches take any overflow as 2^31 for the same reason).
 */
const MAX_SECONDS = 2_147_483_647;

/** Whole seconds, rounded up: a client that waits that long is never early. */
const seconds = (ms: number) => Math.min(MAX_SECONDS, Math.max(0, Math.ceil(ms / 1000)));

const windowSeconds = (limit: LimitState) => seconds(limit.windowMs);

/**
 * `Retry-After` in whole seconds, at least 1: a refusal is in force now, and `0` (from a reason
 * lifting this very millisecond, or a clock a little behind the store's) would tell a client to
 * retry at once, a busy loop against a 429. Not a finite number: no header (`NaN` is no value).
 */
function retryAfterSeconds(ms: number | null | undefined): number | undefined {
  return typeof ms === 'number' && Number.isFinite(ms) ? Math.max(1, seconds(ms)) : undefined;
}

/**
 * An RFC 8941 sf-string: printable ASCII only, `"` and `\` escaped. A limit id is nearly always
 * plain (`burst`, `ip-minute`): one test then, instead of two replaces with a callback, which made
 * this ~8% of an `ad.submit` decision answered over HTTP.
 */
function sfString(text: string): string {
  if (PLAIN_SF.test(text)) return `"${text}"`;
  const printable = text.replace(/[^\x20-\x7e]/g, '').slice(0, 100);
  return `"${printable.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
/** Printable ASCII but `"` and `\`, at most 100 characters: an sf-string as it is. */
const PLAIN_SF = /^[\x20\x21\x23-\x5b\x5d-\x7e]{0,100}$/;
