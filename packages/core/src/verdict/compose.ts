/**
 * Verdict composition: from every reason an evaluation collected to the one answer. Pure: the
 * same reasons always give the same verdict, and adding a more severe reason never lowers it.
 */
import type { Reason, Verdict } from '../types.js';

const SEVERITY: Readonly<Record<Verdict, number>> = { allow: 0, challenge: 1, throttle: 2, block: 3 };
const BY_SEVERITY: readonly Verdict[] = ['allow', 'challenge', 'throttle', 'block'];

/** allow < challenge < throttle < block. */
export function severity(verdict: Verdict): number {
  return SEVERITY[verdict];
}

/** The more severe of two verdicts. */
export function worst(a: Verdict, b: Verdict): Verdict {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

export interface ScoreThresholds {
  challenge?: number | undefined;
  block?: number | undefined;
}

/** The verdict a score reaches, or allow below every threshold. */
export function scoreVerdict(score: number, thresholds: ScoreThresholds): Verdict {
  if (thresholds.block !== undefined && score >= thresholds.block) return 'block';
  if (thresholds.challenge !== undefined && score >= thresholds.challenge) return 'challenge';
  return 'allow';
}

export interface Composition {
  /** The verdict from every enforced reason. */
  verdict: Verdict;
  /** The verdict counting monitored reasons too (what enforcing everything would give). */
  wouldBe: Verdict;
}

/** The most severe enforced reason decides; monitored reasons only move `wouldBe`. */
export function compose(reasons: readonly Reason[]): Composition {
  let enforced = 0;
  let all = 0;
  for (const reason of reasons) {
    const level = SEVERITY[reason.verdict];
    if (level > all) all = level;
    if (!reason.monitor && level > enforced) enforced = level;
  }
  return { verdict: BY_SEVERITY[enforced]!, wouldBe: BY_SEVERITY[all]! };
}
