/**
 * The guard: `createGuard` compiles nothing itself (policies arrive compiled or are compiled
 * once here) and returns a small object whose `evaluate` reads top to bottom as DESIGN's way
 * of one evaluation: normalise, lists, content, one store round trip, rules, verdict, effects,
 * decision log.
 */
import { emptyRecord, MemoryStore, SYNC_APPLY } from '@actiongate/memory';
import { ActionError, ActiongateError, isActiongateError, StoreError } from './errors.js';
import { normaliseAction } from './engine/action.js';
import { buildFacts, factsInPlace } from './engine/facts.js';
import { challengeTokens, decisionIds } from './engine/decision-id.js';
import { feedbackOnDecision, feedbackOnSubjects, isDecisionId, recentDecisions, type FeedbackLabel, type FeedbackResult } from './engine/feedback.js';
import { createPendingBans, MAX_PENDING_BANS } from './engine/pending-bans.js';
import { createRanges } from './engine/ranges.js';
import { createContentModel, type ContentModel } from './content/model.js';
import { createMetrics, type MetricsSnapshot } from './observe/metrics.js';
import { createTelemetry, type TelemetryOptions } from './observe/otel.js';
import { planEffects, planState, readState, recordedBans, subjectsOf, type State } from './engine/state.js';
import { deadlineStore, storeCalls } from './engine/store-call.js';
import { allow, block, challengeBatch, countBans, inspect, listBlocks, passChallenge, subjectOf, unblock, type BanCount, type BlockOptions, type Inspection, type Target } from './engine/operator.js';
import { compilePolicy, isCompiledPolicy, type CompiledPolicy } from './policy/compile.js';
import type { PolicyDocument } from './policy/types.js';
import { prefixOf } from './text.js';
import type { FiredEvent } from './rules/compile.js';
import type { MarkEntry, Store, StoreResult } from './store/types.js';
import type { Action, Decision, EvaluateOptions } from './types.js';
import { baseScore, decide, duplicateScore, staticAllow } from './verdict/decide.js';

export interface GuardOptions {
  /** A compiled policy (`loadPolicy`, `compilePolicy`) or a policy document, compiled here. */
  policy: CompiledPolicy | PolicyDocument;
  /** Where counters, bans and violations live. @default new MemoryStore() */
  store?: Store;
  /** Decision log sink. Called after every decision; an exception it throws is swallowed (and reported to `onError`). */
  onDecision?: (decision: Decision) => void;
  /** Store failures of decisions and errors thrown by any callback (the sink's, `onBan`'s…), for logging. Never throws into `evaluate`. */
  onError?: (error: ActiongateError | Error) => void;
  /**
   * A decision's store call failed or missed `storeTimeoutMs` (the decision followed `failMode`),
   * or the write of its effects did. Not called for operator calls: those reject.
   */
  onStoreError?: (error: StoreError) => void;
  /** A subject was banned: by escalation, by a rule's `ban`, or by `guard.block`. */
  onBan?: (event: BanEvent) => void;
  /** A repeat offender moved up the ban ladder. */
  onEscalate?: (event: BanEvent & { rung: number }) => void;
  /**
   * Clock in epoch ms; replay and tests inject a virtual one. A reading that is not a number
   * within the Date range rejects the call with an `ActiongateError` `CLOCK_INVALID`. @default Date.now
   */
  now?: () => number;
  /** A store answer later than this follows `policy.failMode`. @default 50 */
  storeTimeoutMs?: number;
  /**
   * The deadline of each store call made by `block`, `unblock`, `allow`, `inspect`,
   * `listBlocks`, `passChallenge` and `feedback` (and the content model's reads and writes).
   * Unlike a decision, such a call never falls back: past the deadline, or on an answer outside
   * the Store contract, it rejects with `StoreError` (`STORE_TIMEOUT`, `STORE_FAILED`). Longer
   * than `storeTimeoutMs` because nobody's request waits on it and a range edit makes several
   * calls. @default 5000
   */
  operatorTimeoutMs?: number;
  /** Source of randomness for ban jitter, in [0, 1). @default Math.random */
  random?: () => number;
  /**
   * Where the content model (`content.model` in the policy) keeps its counts. Share one Redis
   * store between processes so they learn together. @default the guard's `store`, or a MemoryStore
   * of its own when that is a MemoryStore (so heavy traffic cannot evict the model from the LRU)
   */
  modelStore?: Store;
  /**
   * OpenTelemetry (optional peer `@opentelemetry/api`): a span `actiongate.evaluate` per
   * evaluation (action, verdict, degraded, score; never the IP, actor or content) and the
   * counters of `metrics()` as OTel instruments. `true` uses the global API's tracer and meter
   * (inert until the host registers an SDK); an object supplies its own. Off costs nothing.
   * @default false
   */
  telemetry?: boolean | TelemetryOptions;
  /**
   * Counts the bans in force (`countBans`) this often, in the background, for the
   * `activeBans` gauge of `metrics()` (and `prometheusText`, and OTel). A count pages through
   * every subject the store holds (on Redis a SCAN with one script call per key), so run it on
   * one process, or a few, not on every replica every few seconds. At least 1,000 ms; the first
   * count starts at once, each next one this long after the last ended. A failed count goes to
   * `onError` and the gauge keeps the last count (its `at` tells how old it is).
   * @default undefined (no counting: `activeBans` stays null unless `countBans()` is called)
   */
  countBansEveryMs?: number;
}

export interface BanEvent {
  subject: string;
  /** Epoch ms the ban ends; `null` = permanent. */
  until: number | null;
  /** Ladder rung (0 for rule and operator bans). */
  rung: number;
  reason: string;
  source: 'escalation' | 'rule' | 'operator';
  /** The decision that caused it, when one did. */
  decisionId?: string;
}

export interface Guard {
  /** Decides on an action. Rejects only with `ActionError` (bad input), or for a closed guard, a bad clock or a rule that throws (`GUARD_CLOSED`, `CLOCK_INVALID`, `POLICY_INVALID`); a "no" is a verdict. */
  evaluate(action: Action, options?: EvaluateOptions): Promise<Decision>;
  /** Swaps the policy atomically; an invalid one throws `PolicyError` and the old one stays. */
  setPolicy(policy: CompiledPolicy | PolicyDocument): void;
  /** The policy in force. */
  readonly policy: CompiledPolicy;
  /**
   * Bans `ip:<address>` (an IPv6 address bans its subnet), `cidr:<range>` or `actor:<id>` in every
   * process, until `for` (default 24h) has passed on the store's clock; an operator allow of the
   * same target goes (the latest action wins). A malformed target or duration rejects with
   * `ActionError` `TARGET_INVALID`.
   */
  block(target: Target, options?: BlockOptions): Promise<{ subject: string; until: number | null }>;
  /** Lifts a ban (and an operator allow) and forgets the strikes, ladder rung and adaptive limits: the target is judged afresh. */
  unblock(target: Target): Promise<void>;
  /** Never limit or block the target while it lasts (`for` defaults to permanent). */
  allow(target: Target, options?: BlockOptions): Promise<void>;
  /** The target's ban, allow, strikes, rung and counters. */
  inspect(target: Target): Promise<Inspection>;
  /**
   * Active bans (ended by the store's clock), a page at a time; needs a store with `scan`. A page
   * may hold fewer than `limit` (RedisStore bounds the keys one page reads): page on until
   * `cursor` is null.
   */
  listBlocks(options?: { cursor?: string; limit?: number }): Promise<{ entries: MarkEntry[]; cursor: string | null }>;
  /**
   * Redeems a challenge token the host verified; false when reused, expired or unknown. A token
   * issued on the local fallback (failMode memory) is redeemed there, during the outage or after.
   */
  passChallenge(token: string): Promise<boolean>;
  /**
   * Corrects history: `ham` takes back the strikes, the ban and the adaptive limits a decision
   * caused; `spam` adds the strike it did not give. By decision id (remembered for
   * `feedback.remember` when the decision struck or banned, by this process for its last
   * 1,000 decisions otherwise), or by action (one strike more or less for its subjects).
   */
  feedback(decision: string | Action, label: FeedbackLabel): Promise<FeedbackResult>;
  /** The store given (or the default MemoryStore). */
  readonly store: Store;
  /**
   * Counts the bans in force in the whole store, by subject kind (`ip`, `actor`, `cidr`), paging
   * through `listBlocks`; the count becomes `metrics().activeBans`. Needs a store with `scan`.
   * Costs a read of every subject the store holds: see `countBansEveryMs`.
   */
  countBans(): Promise<BanCount>;
  /** Counters of this guard's decisions, store latency and bans (render with `prometheusText`). */
  metrics(): MetricsSnapshot;
  /**
   * Refuses new evaluations and operator calls (`evaluate`, `block`, `unblock`, `allow`,
   * `inspect`, `listBlocks`, `countBans`, `passChallenge`, `feedback` then reject with
   * `ActiongateError` `GUARD_CLOSED`), stops the scheduled ban counts (a count under way ends after
   * its current page), waits for those under way and the decisions' writes, then closes the
   * store (and the fallback store).
   */
  close(): Promise<void>;
}

/** The longest delay `setTimeout` keeps (2^31 − 1 ms, ~24.8 days); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The latest (and, negated, earliest) time a Date can hold, in epoch ms. */
const MAX_TIME_MS = 8.64e15;

export function createGuard(options: GuardOptions): Guard {
  let policy = toCompiled(options.policy);
  const store = options.store ?? new MemoryStore();
  const readClock = options.now ?? Date.now;
  /**
   * The clock, checked on every read: from a NaN or Infinity no store can count anything, and far
   * outside the Date range slots lose their precision, so no hit would ever count.
   */
  const now = (): number => {
    const t = readClock();
    if (typeof t !== 'number' || !(Math.abs(t) <= MAX_TIME_MS)) throw new ActiongateError('CLOCK_INVALID', `now() must return epoch milliseconds within the Date range (±8.64e15), got ${String(t)}`);
    return t;
  };
  const random = options.random ?? Math.random;
  const storeTimeoutMs = options.storeTimeoutMs ?? 50;
  if (!(storeTimeoutMs > 0)) throw new TypeError(`storeTimeoutMs must be a positive number of milliseconds, got ${storeTimeoutMs}`);
  const calls = storeCalls(store, storeTimeoutMs);
  const operatorTimeoutMs = options.operatorTimeoutMs ?? 5_000;
  if (!(operatorTimeoutMs > 0)) throw new TypeError(`operatorTimeoutMs must be a positive number of milliseconds, got ${operatorTimeoutMs}`);
  // Operator calls get no failMode: an operator's block must never be "assumed" done.
  const operatorCalls = storeCalls(store, operatorTimeoutMs, { lateHint: OPERATOR_LATE });
  const operatorStore = deadlineStore(store, operatorCalls);
  /** Effect writes still on their way: a decision does not wait for them, close() does. */
  const writing = new Set<Promise<unknown>>();
  const onDecision = options.onDecision;
  const onError = options.onError;
  let fallback: MemoryStore | undefined;
  let closed = false;
  /** Evaluations under way, and what close() is waiting on for them to end. */
  let active = 0;
  let whenIdle: (() => void) | undefined;
  let closing: Promise<void> | undefined;
  const recent = recentDecisions(1_000);
  const nextId = decisionIds();
  const nextToken = challengeTokens();
  const telemetry = createTelemetry(options.telemetry);
  const counters = telemetry.metrics(createMetrics());
  const ranges = createRanges(store.name);
  const countBansEveryMs = options.countBansEveryMs;
  if (countBansEveryMs !== undefined && !(typeof countBansEveryMs === 'number' && countBansEveryMs >= 1_000 && countBansEveryMs <= MAX_TIMER_MS)) {
    throw new TypeError(`countBansEveryMs must be a number of milliseconds from 1000 to ${MAX_TIMER_MS}, got ${String(countBansEveryMs)}`);
  }
  let countTimer: ReturnType<typeof setTimeout> | undefined;
  // A MemoryStore (of any copy of the package: known by its symbol) gets one of its own for the model.
  const modelStore = options.modelStore ?? (SYNC_APPLY in store ? new MemoryStore() : store);
  // The model's reads and writes are made by feedback and in the background: a hung model store
  // must fail them, not hold feedback forever or stop the model from ever refreshing again.
  const modelCalls = modelStore === store ? operatorCalls : storeCalls(modelStore, operatorTimeoutMs, { lateHint: OPERATOR_LATE });
  const modelStoreCalls = deadlineStore(modelStore, modelCalls);
  let model: { key: string; model: ContentModel } | null = null;
  // The answer of `modelOf` for the last policy it saw. A compiled policy and its (frozen) model
  // settings never change, so the settings are serialised once per policy, not once per decision.
  let modelFor: { policy: CompiledPolicy; model: ContentModel | null } | null = null;
  /** The policy's content model replica: kept across policy swaps while its settings stay the same. */
  function modelOf(current: CompiledPolicy): ContentModel | null {
    if (modelFor?.policy === current) return modelFor.model;
    const config = current.content.model;
    if (config) {
      const key = JSON.stringify(config);
      if (model?.key !== key) model = { key, model: createContentModel({ ...config, now, onError: report }, modelStoreCalls) };
    }
    modelFor = { policy: current, model: config ? model!.model : null };
    return modelFor.model;
  }
  /** The facts of compiled rules: the same objects each decision (they are read synchronously, and kept by nothing). */
  const factsOnce = factsInPlace();
  /** The range registry's version read, riding along in every evaluation with an IP (one array, not one per call). */
  const rangeReads = [ranges.versionOps];

  /** Calls a host callback; what it throws must not turn a decision into a failure. */
  function notify<T>(callback: ((value: T) => void) | undefined, value: T): void {
    if (!callback) return;
    try {
      callback(value);
    } catch (error) {
      if (callback !== onError) notify(onError, error as Error);
    }
  }
  const report = (error: Error) => notify(onError, error);
  // Bans whose write the store did not take: written again with the next decision whose round
  // trip succeeds (engine/pending-bans.ts).
  const pendingBans = createPendingBans();
  const keepBans = (batch: Parameters<Store['apply']>[0]) => {
    const dropped = pendingBans.dropped;
    pendingBans.keep(batch);
    if (pendingBans.dropped > dropped) report(new StoreError(store.name, 'apply', `more than ${MAX_PENDING_BANS} subjects' bans are waiting for the store to take them: the oldest ${pendingBans.dropped - dropped} dropped`));
  };
  // A range edit that finds the registry lost writes back this process's copy, and says so.
  const restoreRanges = (version: string) => {
    const copy = ranges.copy(version);
    if (copy) report(new StoreError(store.name, 'apply', `the range registry was gone while its signal named version ${version} (keys evicted? Redis needs maxmemory-policy noeviction): restored from this process's copy (${Object.keys(copy).length} ranges)`));
    return copy;
  };

  /**
   * A decision's writes (strikes, bans, a challenge token) go out without holding the decision:
   * it returns once its one round trip is answered, within the deadline. A later call on the
   * same store is sent after them, so the next decision still sees them; a failed write has
   * already been reported and fallen back by roundTrip.
   */
  function writeLater(write: Promise<unknown>): void {
    const settled = write.then(
      () => undefined,
      (error: unknown) => report(error as Error),
    );
    writing.add(settled);
    void settled.then(() => writing.delete(settled));
  }

  /**
   * One store round trip, or failMode's answer when the store cannot give one by `due`. Not an
   * async function: on the way every decision takes (an answer in time) it is one `then`, not a
   * second promise and a resumption of this frame.
   */
  function roundTrip(current: CompiledPolicy, batch: Parameters<Store['apply']>[0], due?: number): Promise<RoundTrip> {
    if (batch.subjects.length === 0) return Promise.resolve({ result: { now: batch.now, subjects: [] }, degraded: null });
    const started = calls.now();
    return calls.apply(batch, due).then(
      (result) => {
        counters.storeLatency(calls.now() - started);
        return { result, degraded: null };
      },
      (error: unknown) => {
        counters.storeLatency(calls.now() - started);
        return storeFailed(current, batch, error as StoreError);
      },
    );
  }

  /** failMode's answer to a round trip that failed (down, late or malformed). */
  async function storeFailed(current: CompiledPolicy, batch: Parameters<Store['apply']>[0], failure: StoreError): Promise<RoundTrip> {
    report(failure);
    notify(options.onStoreError, failure);
    // A store that is down fails at once, so without this a decision would complete in
    // microtasks alone: a host awaiting decisions in a tight loop (a queue worker, a replay)
    // would never let the event loop run again, and the client's reconnection with it; the
    // store would stay "down" for good. One turn of the loop per decision that failed so. (A
    // timeout came from a timer, so the loop has turned already: it does not wait again, and
    // keeps within its deadline.)
    if (failure.code !== 'STORE_TIMEOUT') await new Promise<void>((resolve) => setImmediate(resolve));
    if (current.failMode !== 'memory') return { result: null, degraded: failure };
    fallback ??= new MemoryStore();
    return { result: await fallback.apply(batch), degraded: failure };
  }

  async function evaluate(input: Action, evaluateOptions?: EvaluateOptions): Promise<Decision> {
    if (closed) throw new ActiongateError('GUARD_CLOSED', 'evaluate() called after close()');
    // close() waits for the decisions already under way: their reads and writes need the store.
    active++;
    try {
      const current = policy; // one policy for the whole evaluation, whatever setPolicy does meanwhile
      const dryRun = evaluateOptions?.dryRun === true;
      const at = now();

      const action = normaliseAction(input, current);
      const lists = action.ip ? current.lists.match(action.ip.parsed) : [];
      const content = current.content.evaluate(action.content, modelOf(current));
      const plan = planState(current, action, content, at, dryRun, staticAllow(lists) !== undefined, action.ip ? rangeReads : NO_READS);
      // One deadline for the whole decision: a registry reload shares the first call's. The
      // decision's round trip is roundTrip's written out: awaiting the store's own promise, the
      // usual way (an answer in time) takes no `then` of its own, no closures and no answer object.
      const started = calls.now();
      const due = calls.due(started);
      let result: StoreResult | null;
      let degraded: StoreError | null = null;
      if (plan.batch.subjects.length === 0) {
        result = { now: plan.batch.now, subjects: [] };
      } else {
        try {
          result = await calls.apply(plan.batch, due);
          counters.storeLatency(calls.now() - started);
        } catch (error) {
          counters.storeLatency(calls.now() - started);
          ({ result, degraded } = await storeFailed(current, plan.batch, error as StoreError));
        }
      }
      if (result && !degraded && pendingBans.size > 0) {
        const replay = pendingBans.take(result.now);
        if (replay) writeLater(roundTrip(current, replay).then((trip) => trip.degraded && keepBans(replay)));
      }
      // On failure the ranges known so far stay in force.
      if (result && !degraded && ranges.stale(result)) {
        try {
          await ranges.reload((batch) => calls.apply(batch, due), result.now);
        } catch (error) {
          report(error as Error);
        }
      }
      const state: State = readState(plan, result ?? { now: at, subjects: [] }, action.ip && ranges.match(action.ip.parsed, result?.now ?? at));
      // A store with its own clock (Redis `time: 'server'`) answers with it: ban ends and account
      // ages use the same clock as the windows they sit beside.
      const clock = result?.now ?? at;
      const score = baseScore(lists, content, duplicateScore(current, state));
      const fired = current.rules.empty ? NO_EVENTS : runRules(current, (current.rules.compiled ? factsOnce : buildFacts)(action, lists, content, state, score, clock));
      // Compiled rules answer synchronously: no await (and no turn of the microtask queue) then.
      const events = Array.isArray(fired) ? fired : await fired;
      const outcome = decide(current, {
        lists, content, state, events, baseScore: score,
        degraded: degraded && { failMode: current.failMode, message: `store unavailable (${degraded.code}): ${current.failMode === 'memory' ? 'decided on the local fallback store' : `failMode ${current.failMode}`}` },
      }, clock, random);

      const id = nextId();
      if (!dryRun && result) {
        const effects = planEffects(current, plan, state, outcome.effects, clock, id);
        // A degraded decision (failMode memory: the only one with a result) took from the local
        // fallback; its effects (a refund alone) go back there, not to the store that never counted them.
        // A ban whose write the store did not take is kept, and written again with the next
        // decision whose round trip succeeds (a degraded decision bans no one: decide.ts). Only
        // a decision that bans pays for the extra step.
        if (effects) {
          if (degraded) writeLater(fallback!.apply(effects));
          else if (outcome.effects.bans.length === 0) writeLater(roundTrip(current, effects));
          else writeLater(roundTrip(current, effects).then((trip) => trip.degraded && keepBans(effects)));
        }
        if (plan.subjects.length > 0) {
          const bans = outcome.effects.bans.length === 0 ? NO_BANS : recordedBans(state, outcome.effects.bans);
          recent.add(id, action.content && current.content.model
            ? { at: clock, subjects: plan.subjects, violations: outcome.effects.violations, bans, content: boundedContent(action.content) }
            : { at: clock, subjects: plan.subjects, violations: outcome.effects.violations, bans });
        }
      }
      const challenge = outcome.challengeKind ? { kind: outcome.challengeKind, token: nextToken() } : null;
      if (challenge && !dryRun && plan.subjects.length > 0) writeLater(roundTrip(current, challengeBatch(challenge.token, plan.subjects, challenge.kind, clock)));

      if (!dryRun && result) {
        for (const ban of outcome.effects.bans) {
          const event: BanEvent = { ...ban, source: ban.rung > 0 ? 'escalation' : 'rule', decisionId: id };
          counters.ban(event.source);
          notify(options.onBan, event);
          if (ban.rung > 0) notify(options.onEscalate, event);
        }
      }
      // Nothing was counted when the store failed and failMode "open" or "closed" decided: limit
      // states read as empty windows there, and a 503's `RateLimit` header offered a full quota.
      const limits = result === null ? [] : state.limits.map((l) => l.state);
      const ip = action.ip && { address: action.ip.address, version: action.ip.version, subnet: action.ip.subnet };
      const actor = action.actor?.id ?? null;
      // The usual decision (no ban, nothing monitored, not a dry run) as one literal; the others
      // with their optional fields spread in, in the same key order (decision logs keep it).
      const decision: Decision = outcome.banUntil === undefined && outcome.wouldBe === undefined && !dryRun
        ? {
            id, at, policy: current.id, action: action.action, verdict: outcome.verdict, score: outcome.score, reasons: outcome.reasons,
            retryAfterMs: outcome.retryAfterMs, challenge, limits, ip, actor, degraded: degraded !== null,
          }
        : {
            id,
            at,
            policy: current.id,
            action: action.action,
            verdict: outcome.verdict,
            score: outcome.score,
            reasons: outcome.reasons,
            retryAfterMs: outcome.retryAfterMs,
            challenge,
            ...(outcome.banUntil !== undefined ? { banUntil: outcome.banUntil, banRung: outcome.banRung ?? 0 } : {}),
            limits,
            ip,
            actor,
            degraded: degraded !== null,
            ...(outcome.wouldBe !== undefined ? { wouldBe: outcome.wouldBe } : {}),
            ...(dryRun ? { dryRun } : {}),
          };
      counters.decision(decision);
      notify(onDecision, decision);
      return decision;
    } finally {
      if (--active === 0) whenIdle?.();
    }
  }

  const countActiveBans = operator(async (): Promise<BanCount> => {
    const count = await countBans(operatorStore, now(), () => closed);
    counters.activeBans(count);
    return count;
  }, 'countBans');
  /** The scheduled counts: one at a time, the next `countBansEveryMs` after the last one ended. */
  function countLater(delayMs: number): void {
    countTimer = setTimeout(() => {
      countTimer = undefined;
      countActiveBans().then(
        () => undefined,
        (error: unknown) => {
          if (!closed) report(error as Error); // a count that close() stopped is no failure
        },
      ).finally(() => {
        if (!closed) countLater(countBansEveryMs!);
      });
    }, delayMs);
    // The schedule never keeps a process alive: the host's own work does.
    countTimer.unref();
  }
  if (countBansEveryMs !== undefined) countLater(0);

  return {
    evaluate: telemetry.traced(evaluate),
    setPolicy(next) {
      policy = toCompiled(next);
    },
    get policy() {
      return policy;
    },
    store,
    block: operator(async (target: Target, blockOptions: BlockOptions = {}) => {
      const ban = await block(operatorStore, policy, target, blockOptions, now(), restoreRanges);
      counters.ban('operator');
      notify(options.onBan, { subject: ban.subject, until: ban.until, rung: 0, reason: blockOptions.reason ?? 'blocked by an operator', source: 'operator' });
      return ban;
    }, 'block'),
    unblock: operator(async (target: Target) => {
      // A ban still waiting to be written again must not come back after the operator lifted it:
      // the writes in flight settle first (a failed one is kept only once it has failed).
      const subject = subjectOf(target, policy);
      if (writing.size > 0) await Promise.allSettled(writing);
      pendingBans.forget(subject);
      await unblock(operatorStore, subject, now(), restoreRanges);
      counters.unblock();
    }, 'unblock'),
    metrics: () => counters.snapshot(),
    // async: a bad clock (or target) rejects, as every other call does, rather than throwing.
    allow: operator(async (target: Target, allowOptions: BlockOptions = {}) => allow(operatorStore, policy, target, allowOptions, now(), restoreRanges), 'allow'),
    inspect: operator(async (target: Target) => inspect(operatorStore, policy, target, now()), 'inspect'),
    listBlocks: operator(async (listOptions: { cursor?: string; limit?: number } = {}) => listBlocks(operatorStore, listOptions, now()), 'listBlocks'),
    countBans: countActiveBans,
    passChallenge: operator(async (token: string) => {
      // A challenge issued while the store was down (failMode memory) keeps its token on the
      // local fallback, where the decisions of the outage also read the pass: redeemed there when
      // the store does not know it or cannot answer. A store that failed and a token the fallback
      // does not know either: the failure, not a "forged token" false.
      let failure: unknown;
      try {
        if (await passChallenge(operatorStore, policy, token, now())) return true;
      } catch (error) {
        if (!fallback) throw error;
        failure = error;
      }
      if (fallback && (await passChallenge(fallback, policy, token, now()))) return true;
      if (failure !== undefined) throw failure;
      return false;
    }, 'passChallenge'),
    feedback: operator(async (decision: string | Action, label: FeedbackLabel): Promise<FeedbackResult> => {
      if (label !== 'spam' && label !== 'ham') throw new ActionError('label', `feedback is "spam" or "ham", got ${JSON.stringify(label)}`);
      const current = policy;
      let result: FeedbackResult;
      let content: Readonly<Record<string, string>> | undefined;
      if (typeof decision === 'string') {
        if (!isDecisionId(decision)) throw new ActionError('decision', `${JSON.stringify(decision.slice(0, 60))} is not a decision id (Decision.id)`);
        // Ids are made in lower case and stored under it; a UUID is the same in any case, and a
        // host's database may hand it back in upper case (SQL Server's uniqueidentifier does).
        const id = decision.toLowerCase();
        if (label === 'ham') {
          // A ban this decision set that is still waiting to be written again is lifted too (unblock).
          if (writing.size > 0) await Promise.allSettled(writing);
          pendingBans.forgetDecision(id);
        }
        result = await feedbackOnDecision(operatorStore, current, recent, id, label, now());
        content = recent.get(id)?.content;
      } else {
        const action = normaliseAction(decision, current);
        const { ip, actor } = subjectsOf(action);
        result = await feedbackOnSubjects(operatorStore, current, [ip, actor].filter((s): s is string => s !== null), label, now());
        content = action.content;
      }
      // The content model learns from what a person judged, once per report.
      const learner = modelOf(current);
      let learned = false;
      if (!result.repeated && result.found && learner !== null && content !== undefined) {
        // Content with no text the model reads teaches nothing, and says so.
        const counted = await learner.learnMany([{ content, label }]);
        learned = counted.spam + counted.ham > 0;
      }
      return { ...result, learned };
    }, 'feedback'),
    close() {
      // A second close() while the first is under way ends with it, not before the store is closed.
      return (closing ??= closeNow());
    },
  };

  /**
   * An operator call: refused after close() as evaluate is (the store it would go to is closed or
   * closing), and counted with the evaluations under way so close() waits for it as for them.
   */
  function operator<A extends unknown[], R>(call: (...args: A) => Promise<R>, name: string): (...args: A) => Promise<R> {
    return async (...args: A) => {
      if (closed) throw new ActiongateError('GUARD_CLOSED', `${name}() called after close()`);
      active++;
      try {
        return await call(...args);
      } finally {
        if (--active === 0) whenIdle?.();
      }
    };
  }

  async function closeNow(): Promise<void> {
    closed = true;
    clearTimeout(countTimer);
    telemetry.close();
    if (active > 0) await new Promise<void>((resolve) => (whenIdle = resolve));
    // Writes in flight finish (or meet their deadline) first; then no timer keeps the process.
    await Promise.allSettled(writing);
    // Bans the store has not taken yet get a last try, and are reported if it fails too.
    let at: number;
    try {
      at = now();
    } catch {
      at = Date.now(); // a host clock gone bad must not keep close() from closing
    }
    const replay = pendingBans.take(at);
    if (replay && (await roundTrip(policy, replay)).degraded) {
      report(new StoreError(store.name, 'apply', `close(): ${replay.subjects.length} subjects' bans the store never took are lost (it failed their writes and is failing now)`));
    }
    calls.close();
    operatorCalls.close();
    modelCalls.close();
    await Promise.all([store.close(), fallback?.close()]);
  }
}

const NO_READS: readonly never[] = Object.freeze([]);
/** What a policy without rules fires: its facts are never built. */
const NO_EVENTS: readonly FiredEvent[] = Object.freeze([]);
/** A round trip's answer: the store's, or failMode's (`result` null: decide without the store; the memory fallback's). */
interface RoundTrip {
  result: StoreResult | null;
  degraded: StoreError | null;
}
/** What an operator can do about a call that missed its deadline. */
const OPERATOR_LATE = ' (operatorTimeoutMs): the store is slow or down; a write may still land when it answers, so check with inspect() before repeating it';
/** A record's bans when the decision caused none (most do not): shared, never written to (feedback copies). */
const NO_BANS = Object.freeze([]) as unknown as { subject: string; rung: number }[];

const KEPT_FIELDS = 8;
const KEPT_LENGTH = 8192;

/**
 * What a decision keeps of its content for the model to learn from later: a bounded prefix.
 * The normalised action's content is already the guard's own copy (nothing else holds or
 * changes it), so when it is within the bounds it is kept as it is, without another copy.
 */
export function boundedContent(content: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  let fields = 0;
  for (const field in content) {
    if (++fields > KEPT_FIELDS || content[field]!.length > KEPT_LENGTH) return boundedCopy(content);
  }
  return content;
}

function boundedCopy(content: Readonly<Record<string, string>>): Record<string, string> {
  // No prototype: a field named `__proto__` (content is the host's to name) stays a field.
  const kept = emptyRecord<string>();
  for (const field of Object.keys(content).slice(0, KEPT_FIELDS)) {
    const text = content[field]!;
    kept[field] = prefixOf(text, KEPT_LENGTH);
  }
  return kept;
}

function toCompiled(policy: CompiledPolicy | PolicyDocument): CompiledPolicy {
  return isCompiledPolicy(policy) ? policy : compilePolicy(policy);
}

/** The fired events: an array straight away when every rule is compiled (the usual case), else a promise. */
function runRules(policy: CompiledPolicy, facts: Record<string, unknown>): readonly FiredEvent[] | Promise<readonly FiredEvent[]> {
  try {
    const events = policy.rules.evaluate(facts);
    return Array.isArray(events) ? events : Promise.resolve(events).catch(ruleFailure);
  } catch (error) {
    return ruleFailure(error);
  }
}

/** A custom operator that throws is a policy bug, not a reason to crash the caller. */
function ruleFailure(error: unknown): never {
  if (isActiongateError(error)) throw error;
  throw new ActiongateError('POLICY_INVALID', `a rule failed at run time: ${(error as Error).message}`, { cause: error });
}
