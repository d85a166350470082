/**
 * The policy document as operators write it (JSON). `schema/policy.schema.json` is the
 * authoritative description; these types mirror it for TypeScript users who build policies in code.
 */

export type Verdict = 'allow' | 'challenge' | 'throttle' | 'block';
/** `"90s"`, `"5m"`, `"24h"`, `"7d"`… (see `parseDuration`). */
export type Duration = string;
export type BanDuration = Duration | 'permanent';

export interface PolicyDocument {
  $schema?: string;
  name: string;
  version?: string;
  /** `enforce` returns the verdict; `monitor` returns allow and reports the verdict as `wouldBe`. @default "enforce" */
  mode?: 'enforce' | 'monitor';
  /** What a decision does when the store is down or slower than `storeTimeoutMs`. @default "memory" */
  failMode?: 'open' | 'closed' | 'memory';
  network?: NetworkPolicy;
  lists?: Record<string, ListPolicy>;
  limits?: LimitPolicy[];
  content?: ContentPolicy;
  scoring?: ScoringPolicy;
  bans?: BanPolicy;
  challenges?: ChallengePolicy;
  feedback?: FeedbackPolicy;
  rules?: RulePolicy[];
}

export interface NetworkPolicy {
  /** Peers whose forwarding headers are believed: CIDRs, addresses, or `loopback`, `private`, `linklocal`, `uniquelocal`. @default [] */
  trustedProxies?: string[];
  /** Prefix length that groups IPv6 clients into one subject. @default 64 */
  ipv6Subnet?: number;
  /** Which forwarding header to read from trusted proxies. @default "x-forwarded-for" */
  header?: 'x-forwarded-for' | 'forwarded' | 'x-real-ip';
}

export interface ListPolicy {
  /** Inline addresses and CIDRs. */
  cidrs?: string[];
  /** List files, relative to the policy file: one IP/CIDR a line (`#`/`;` comments) or Spamhaus DROP NDJSON. */
  files?: string[];
  /** Verdict on a match; `allow` makes this an allowlist, which beats every other source. */
  verdict?: Verdict;
  /** Risk points added on a match. */
  score?: number;
  /** Shown in reasons. */
  reason?: string;
}

export type SubjectBy = 'ip' | 'actor' | 'ip+action' | 'actor+action' | (string & {});

export interface LimitPolicy {
  id: string;
  /** Action types this limit counts; omitted = every action. */
  actions?: string[];
  by: SubjectBy;
  window: Duration;
  /** A number, or tiers by `actor.status` (`anonymous`, `registered`, `verified`, …, `default`). */
  max: number | Record<string, number>;
  /** Units one action consumes. @default 1 */
  cost?: number;
  /** Verdict when the limit is exceeded. @default "throttle" */
  onExceed?: Exclude<Verdict, 'allow'>;
  mode?: 'enforce' | 'monitor';
}

export interface ContentPattern {
  id: string;
  /** Content field to match; omitted = every field. */
  field?: string;
  regex: string;
  flags?: string;
  score: number;
}

export interface ContentPolicy {
  /** Field names to read; omitted = every field of `action.content`. */
  fields?: string[];
  /** Weighted terms, matched on whole words of the normalised text. */
  terms?: Record<string, number>;
  patterns?: ContentPattern[];
  /** Links beyond this count add `linkScore` each. */
  maxLinks?: number;
  /** @default 10 */
  linkScore?: number;
  /** Named domain lists matched against linked and e-mail domains (fact `content.domainLists`). */
  domains?: Record<string, DomainListPolicy>;
  /** Phone numbers and e-mail addresses in the text, spelled-out ones included (facts `content.phones`, `content.emails`). */
  contacts?: ContactsPolicy;
  /** Shouting: the share of upper-case letters in a field (fact `content.uppercase`). */
  uppercase?: { ratio: number; score: number; /** Letters a field needs before its ratio counts. @default 20 */ minLetters?: number };
  /** The longest run of one repeated character, like `!!!!!!` (fact `content.repeats`). */
  repeats?: { min: number; score: number };
  /** Check e-mail addresses against mailchecker's disposable domains (fact `content.disposable`). */
  disposable?: { score: number };
  duplicates?: DuplicatesPolicy;
  /** The learning model (fact `content.spamProbability`). */
  model?: ContentModelPolicy;
  /** Characters of a field that are scanned. @default 65536 */
  maxFieldLength?: number;
}

export interface DomainListPolicy {
  /** Inline domains; each matches itself and its subdomains. */
  domains?: string[];
  /** Files relative to the policy file: one domain a line, `#`/`;` comments, hosts-file lines allowed. */
  files?: string[];
  /** Risk points added when a linked or e-mail domain is on the list. */
  score?: number;
  /** Shown in reasons. */
  reason?: string;
}

export interface ContactsPolicy {
  /** Fields searched; omitted = every field read. */
  fields?: string[];
  /** Points when the text holds a phone number. */
  phone?: number;
  /** Points when the text holds an e-mail address. */
  email?: number;
}

export interface DuplicatesPolicy {
  /** How long a submission counts as an earlier copy. */
  window: Duration;
  /** Points when the text was seen `after` times before. */
  score: number;
  /** @default 1 */
  after?: number;
  /** Near-duplicates (MinHash bands) counted too: fact `content.nearDuplicates`. */
  near?: {
    /** Bands, each one more store subject per decision: more catch looser copies. @default 3 */
    bands?: number;
  };
}

export interface ContentModelPolicy {
  /** The model's name in the store; guards with the same name share it. @default "default" */
  name?: string;
  /** How long a learned example counts. @default "180d" */
  window?: Duration;
  /** Spam examples before the model predicts. @default 200 */
  minSpam?: number;
  /** Ham examples before the model predicts. @default 200 */
  minHam?: number;
  /** Hash buckets, a power of two. @default 65536 */
  buckets?: number;
  /** How often each process refreshes its copy from the store. @default "1m" */
  refresh?: Duration;
  /** `content.spamProbability` at or above which `score` is added. @default 0.9 */
  threshold?: number;
  /** Points at or above the threshold. @default 0 */
  score?: number;
}

export interface ScoringPolicy {
  /** Score at or above which the verdict is at least challenge. */
  challenge?: number;
  /** Score at or above which the verdict is block. */
  block?: number;
  /** Challenge kind for score challenges. @default "captcha" */
  challengeKind?: string;
}

export interface BanPolicy {
  /** Violations… @default 3 */
  after?: number;
  /** …within this window escalate to the next rung. @default "1h" */
  within?: Duration;
  /** @default ["24h", "7d", "permanent"] */
  ladder?: BanDuration[];
  /** Rungs and strikes are forgotten after this long without a violation. @default "30d" */
  forget?: Duration;
  /** Random extra ban time, as a fraction of the rung (0–1). @default 0 */
  jitter?: number;
}

export interface ChallengePolicy {
  /** How long a passed challenge lets the subject through. @default "30m" */
  remember?: Duration;
  /** @default "captcha" */
  kind?: string;
}

export interface FeedbackPolicy {
  /** How long `guard.feedback(decisionId, …)` can still undo what a decision did. @default "7d" */
  remember?: Duration;
}

/** A json-rules-engine rule. */
export interface RulePolicy {
  name?: string;
  priority?: number;
  conditions: RuleConditions;
  event: RuleEvent;
  mode?: 'enforce' | 'monitor';
}

export type RuleConditions =
  | { all: RuleCondition[]; name?: string; priority?: number }
  | { any: RuleCondition[]; name?: string; priority?: number }
  | { not: RuleCondition; name?: string; priority?: number };

export type RuleCondition =
  | RuleConditions
  | {
      fact: string;
      operator: string;
      value: unknown;
      path?: string;
      params?: Record<string, unknown>;
      name?: string;
      priority?: number;
    };

export interface RuleEvent {
  type: Verdict | 'score' | 'tighten';
  params?: {
    reason?: string;
    /** score events: points to add */
    add?: number;
    /** challenge events: kind */
    challenge?: string;
    /** block events: ban duration */
    ban?: BanDuration;
    /** tighten events: scale the subject's limits by this factor (0–1, never below 0.1) */
    factor?: number;
    /** tighten events: for how long. @default "1h" */
    for?: Duration;
    [key: string]: unknown;
  };
}
