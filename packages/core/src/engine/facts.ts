/**
 * The facts rules see (DESIGN: action, ip, actor, content, limits, history, score, attributes),
 * assembled once per evaluation from the normalised action and the store's answer.
 */
import type { ContentSignals } from '../content/signals.js';
import type { ListMeta } from '../network/lists.js';
import type { NormalisedAction } from './action.js';
import type { State } from './state.js';

export type Facts = Record<string, unknown>;

export function buildFacts(action: NormalisedAction, lists: readonly ListMeta[], content: ContentSignals, state: State, score: number, now: number): Facts {
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
  let violations = 0;
  let bans = 0;
  for (let i = 0; i < state.history.length; i++) {
    const entry = state.history[i]!;
    violations = Math.max(violations, entry.violations);
    bans = Math.max(bans, entry.rung);
  }
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
    limits,
    history: { violations, bans, banned: state.bans.length > 0, challengesPassed: state.passed ? 1 : 0, tightened: state.factor },
    score,
    attributes: action.attributes,
  };
}
