/**
 * The data that crosses the public API: what the host passes to `evaluate` and what it gets back.
 * Plain objects only, so decisions serialise to the NDJSON log as they are.
 */
import type { Verdict } from './policy/types.js';

export type { Verdict };

export type ActorStatus = 'anonymous' | 'registered' | 'verified' | (string & {});

/** Headers as Node (`IncomingHttpHeaders`) or a plain object gives them; names are matched case-insensitively. */
export type HeaderBag = Record<string, string | string[] | undefined>;

export interface Action {
  /** Action type, e.g. `"ad.submit"`. */
  action: string;
  /** The peer address when the host resolved it; otherwise give `request`. */
  ip?: string;
  /** The raw connection, resolved through `policy.network.trustedProxies`. */
  request?: { remoteAddress?: string; headers?: HeaderBag };
  actor?: { id: string; status?: ActorStatus; createdAt?: number };
  /** Text fields, e.g. `{ title, body, email }`. */
  content?: Record<string, string>;
  /** The host's own facts (country, asn, userAgent…), visible to rules as `attributes`. */
  attributes?: Record<string, unknown>;
}

export interface EvaluateOptions {
  /** Evaluate without consuming counters or writing any state. @default false */
  dryRun?: boolean;
}

export interface ResolvedIp {
  /** Canonical text: IPv4 dotted quad (also for IPv4-mapped IPv6), IPv6 compressed lower case. */
  address: string;
  version: 4 | 6;
  /** The grouping subject: the address itself for IPv4, `prefix/len` for IPv6. */
  subnet: string;
}

export type ReasonSource = 'list' | 'limit' | 'content' | 'rule' | 'ban' | 'score' | 'store';

export interface Reason {
  source: ReasonSource;
  id: string;
  message: string;
  verdict: Verdict;
  /** Risk points this reason added, when it added any. */
  score?: number;
  /** True when the part that produced it runs in monitor mode (it never shapes the verdict). */
  monitor?: boolean;
  /** For throttles and timed blocks: when this reason stops applying. */
  retryAfterMs?: number;
  /** For bans from escalation: the ladder rung (1 = the first). */
  rung?: number;
}

export interface LimitState {
  id: string;
  /** The counted subject, e.g. `ip:203.0.113.7` or `actor:u42|ad.submit`. */
  key: string;
  count: number;
  max: number;
  remaining: number;
  /** The limit's window length in ms. */
  windowMs: number;
  /**
   * Exceeded: milliseconds until the window has room for the action's cost. Otherwise: until its
   * oldest counted hit leaves (the `t` of the `RateLimit` header); 0 for a monitored limit.
   */
  resetMs: number;
  exceeded: boolean;
  /** The limit only counts (its `mode` or the policy's is `monitor`): it never refuses. */
  monitor?: boolean;
}

export interface Decision {
  id: string;
  at: number;
  /** `name@version` of the policy that decided. */
  policy: string;
  action: string;
  verdict: Verdict;
  score: number;
  reasons: Reason[];
  /** Throttle or block: ms until every enforced throttle and block reason has lifted; `null` when one never does. */
  retryAfterMs: number | null;
  challenge: { kind: string; token: string } | null;
  /** Epoch ms the ban ends, `null` for a permanent ban, `undefined` when no ban applies. */
  banUntil?: number | null;
  /** With `banUntil`: the highest ban-ladder rung among the bans that apply (0 for operator and rule bans). */
  banRung?: number;
  /** The limits counted for the action; empty when the store failed and `failMode` "open" or "closed" decided (nothing was counted). */
  limits: LimitState[];
  ip: ResolvedIp | null;
  actor: string | null;
  /** True when the store failed and `failMode` decided. */
  degraded: boolean;
  /** In monitor mode (policy, limit or rule): the verdict enforcement would have given. */
  wouldBe?: Verdict;
  dryRun?: boolean;
}
