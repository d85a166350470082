/**
 * The facts rules see (DESIGN: action, ip, actor, content, limits, history, score, attributes),
 * assembled once per evaluation from the normalised action and the store's answer: fresh objects
 * (`buildFacts`), or for rules that read them synchronously and keep nothing, the same objects
 * written anew each time (`factsInPlace`).
 */
import type { ContentSignals } from '../content/signals.js';
import type { ListMeta } from '../network/lists.js';
import type { NormalisedAction } from './action.js';
import type { State } from './state.js';

export type Facts = Record<string, unknown>;

/** The `limits` fact when no limit applied, and the `ip.lists` fact on no list: shared, frozen. */
const NO_LIMITS: Readonly<Record<string, never>> = Object.freeze({});
const NO_LISTS: readonly string[] = Object.freeze([]);

/**
 * A builder of facts that writes each decision's into the same few objects (one set per
 * builder), for compiled rules only: they read facts synchronously, call no host code and keep
 * nothing, so the objects are free again when `evaluate` returns, and a decision allocates no
 * facts (about a tenth of what a light decision allocated). json-rules-engine and custom
 * operators run asynchronously and may hold on to what they are given: they get `buildFacts`'s.
 * The facts are the same as `buildFacts`'s, key for key and in the same order; a value that is a
 * list or object of the decision's own (`ip.lists`, `limits`) is still made per decision, unless
 * it is empty (a shared frozen one then).
 */
export function factsInPlace(): typeof buildFacts {
  const ip = { address: '', version: 4 as 4 | 6, subnet: '', lists: NO_LISTS, banned: false };
  const actor: { id: string; status: string; createdAt: number | undefined; ageMs: number | undefined } = { id: '', status: '', createdAt: undefined, ageMs: undefined };
  const content = {
    score: 0,
    terms: [] as ContentSignals['terms'],
    patterns: [] as ContentSignals['patterns'],
    links: 0,
    domains: [] as ContentSignals['domains'],
    domainLists: [] as ContentSignals['domainLists'],
    phones: 0,
    emails: 0,
    disposable: false,
    uppercase: 0,
    repeats: 0,
    length: 0,
    duplicates: 0,
    nearDuplicates: 0,
    spamProbability: null as ContentSignals['spamProbability'],
  };
  const history = { violations: 0, bans: 0, banned: false, challengesPassed: 0, tightened: 1 };
  const facts: Facts = { action: '', ip: null, actor: null, content, limits: NO_LIMITS, history, score: 0, attributes: NO_LIMITS };
  return (action, lists, signals, state, score, now) => {
    facts.action = action.action;
    if (action.ip) {
      ip.address = action.ip.address;
      ip.version = action.ip.version;
      ip.subnet = action.ip.subnet;
      ip.lists = lists.length === 0 ? NO_LISTS : lists.map((list) => list.id);
      ip.banned = state.bans.length > 0;
      facts.ip = ip;
    } else facts.ip = null;
    if (action.actor) {
      const createdAt = action.actor.createdAt;
      actor.id = action.actor.id;
      actor.status = action.actor.status;
      actor.createdAt = createdAt;
      actor.ageMs = createdAt === undefined ? undefined : now - createdAt;
      facts.actor = actor;
    } else facts.actor = null;
    content.score = signals.score;
    content.terms = signals.terms;
    content.patterns = signals.patterns;
    content.links = signals.links;
    content.domains = signals.domains;
    content.domainLists = signals.domainLists;
    content.phones = signals.phones;
    content.emails = signals.emails;
    content.disposable = signals.disposable;
    content.uppercase = signals.uppercase;
    content.repeats = signals.repeats;
    content.length = signals.length;
    content.duplicates = state.duplicates;
    content.nearDuplicates = state.nearDuplicates;
    content.spamProbability = signals.spamProbability;
    facts.limits = state.limits.length === 0 ? NO_LIMITS : limitFacts(state);
    history.violations = mostViolations(state);
    history.bans = highestRung(state);
    history.banned = state.bans.length > 0;
    history.challengesPassed = state.passed ? 1 : 0;
    history.tightened = state.factor;
    facts.score = score;
    facts.attributes = action.attributes;
    return facts;
  };
}

export function buildFacts(action: NormalisedAction, lists: readonly ListMeta[], content: ContentSignals, state: State, score: number, now: number): Facts {
  return {
    action: action.action,
    ip: action.ip && {
      address: action.ip.address,
      version: action.ip.version,
      subnet: action.ip.subnet,
      lists: lists.map((list) => list.id),
      banned: state.bans.length > 0,
    },
    actor: action.actor && {
      id: action.actor.id,
      status: action.actor.status,
      createdAt: action.actor.createdAt,
      ageMs: action.actor.createdAt === undefined ? undefined : now - action.actor.createdAt,
    },
    content: {
      score: content.score,
      terms: content.terms,
      patterns: content.patterns,
      links: content.links,
      domains: content.domains,
      domainLists: content.domainLists,
      phones: content.phones,
      emails: content.emails,
      disposable: content.disposable,
      uppercase: content.uppercase,
      repeats: content.repeats,
      length: content.length,
      duplicates: state.duplicates,
      nearDuplicates: state.nearDuplicates,
      spamProbability: content.spamProbability,
    },
    limits: limitFacts(state),
    history: { violations: mostViolations(state), bans: highestRung(state), banned: state.bans.length > 0, challengesPassed: state.passed ? 1 : 0, tightened: state.factor },
    score,
    attributes: action.attributes,
  };
}

/** The `limits` fact: each limit id's state, the tighter one where a limit id applied twice. */
function limitFacts(state: State): Record<string, { count: number; max: number; remaining: number; exceeded: boolean }> {
  const limits: Record<string, { count: number; max: number; remaining: number; exceeded: boolean }> = {};
  for (let i = 0; i < state.limits.length; i++) {
    const limit = state.limits[i]!.state;
    // Own keys only: a limit id `constructor` or `toString` must not find Object.prototype's.
    const previous = Object.hasOwn(limits, limit.id) ? limits[limit.id] : undefined;
    // Two subjects of one limit id (ip+action over several actions is one per action) can
    // both apply; rules see the tighter one.
    if (!previous || limit.remaining < previous.remaining) {
      limits[limit.id] = { count: limit.count, max: limit.max, remaining: limit.remaining, exceeded: limit.exceeded };
    }
  }
  return limits;
}

/** The most violations of any ban subject. */
function mostViolations(state: State): number {
  let violations = 0;
  for (let i = 0; i < state.history.length; i++) violations = Math.max(violations, state.history[i]!.violations);
  return violations;
}

/** The highest ladder rung any ban subject reached. */
function highestRung(state: State): number {
  let rung = 0;
  for (let i = 0; i < state.history.length; i++) rung = Math.max(rung, state.history[i]!.rung);
  return rung;
}
