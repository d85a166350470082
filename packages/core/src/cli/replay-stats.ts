/**
 * What a replay learns beyond the decision report: how each policy did against the traffic's
 * labels and against the verdicts recorded at the time, how often each rule, limit, list and
 * content signal hit spam and ham (SpamAssassin's hit-frequencies: SPAM%, HAM%, S/O), and, with
 * two policies, what changes from one to the other. Streaming and bounded: counts per reason
 * key (bounded by the policy, and capped), a fixed number of example lines.
 */
import { severity } from '../verdict/compose.js';
import type { Decision, Verdict } from '../types.js';
import { contributes, reasonKey } from './aggregate.js';
import type { TrafficRecord } from './traffic.js';
import { createTopK } from './topk.js';

export interface LabelCounts {
  spam: number;
  ham: number;
  /** Spam answered with anything but allow. */
  spamStopped: number;
  hamAllowed: number;
  hamChallenged: number;
  hamThrottled: number;
  hamBlocked: number;
}

/** One reason's hits, as SpamAssassin's hit-frequencies reports a rule. */
export interface HitRow {
  key: string;
  /** Decisions the reason appeared in. */
  hits: number;
  spamHits: number;
  hamHits: number;
  /** Percent of spam / ham actions it hit (null without labels of that kind). */
  spamPercent: number | null;
  hamPercent: number | null;
  /** SPAM% / (SPAM% + HAM%): 1 hits only spam, 0.5 both alike, 0 only ham; null without labels. */
  so: number | null;
}

export interface PolicyStats {
  policy: string;
  decisions: number;
  byVerdict: Record<Verdict, number>;
  labels: LabelCounts | null;
  /**
   * The labels against what enforcing would have answered (`wouldBe`), when monitor mode (a
   * policy, rule or limit in monitor mode) softened any labelled decision; null otherwise. A
   * monitor-mode policy allows everything, so `labels` alone said it stopped no spam: the figure a
   * replay before switching it on is for is this one.
   */
  labelsIfEnforced: LabelCounts | null;
  /** Against the verdicts recorded in the traffic (`"verdict"` on a line). */
  recorded: { compared: number; same: number; changes: Record<string, number> } | null;
  hits: HitRow[];
  /** Verdicts per `"scenario"` of the traffic, when lines carry one. */
  scenarios: Record<string, Record<Verdict, number>>;
}

export interface PolicyStatsBuilder {
  add(record: TrafficRecord, decision: Decision): void;
  build(): PolicyStats;
}

const emptyLabels = (): LabelCounts => ({ spam: 0, ham: 0, spamStopped: 0, hamAllowed: 0, hamChallenged: 0, hamThrottled: 0, hamBlocked: 0 });

function countLabel(counts: LabelCounts, label: 'spam' | 'ham', verdict: Verdict): void {
  if (label === 'spam') {
    counts.spam++;
    if (verdict !== 'allow') counts.spamStopped++;
  } else {
    counts.ham++;
    if (verdict === 'allow') counts.hamAllowed++;
    else if (verdict === 'challenge') counts.hamChallenged++;
    else if (verdict === 'throttle') counts.hamThrottled++;
    else counts.hamBlocked++;
  }
}

/** Distinct reason keys (and scenarios) counted; a policy has far fewer. */
const MAX_KEYS = 4096;
const emptyVerdicts = (): Record<Verdict, number> => ({ allow: 0, challenge: 0, throttle: 0, block: 0 });

export function createPolicyStats(policy: string): PolicyStatsBuilder {
  const byVerdict = emptyVerdicts();
  const labels = emptyLabels();
  const enforced = emptyLabels();
  let softened = 0;
  let labelled = 0;
  const recorded = { compared: 0, same: 0, changes: new Map<string, number>() };
  const hits = createTopK<{ spam: number; ham: number }>(MAX_KEYS, () => ({ spam: 0, ham: 0 }));
  const scenarios = new Map<string, Record<Verdict, number>>();
  let decisions = 0;

  return {
    add(record, decision) {
      decisions++;
      const verdict = decision.verdict;
      byVerdict[verdict]++;
      if (record.label) {
        labelled++;
        countLabel(labels, record.label, verdict);
        const wouldBe = decision.wouldBe ?? verdict;
        countLabel(enforced, record.label, wouldBe);
        if (wouldBe !== verdict) softened++;
      }
      if (record.verdict) {
        recorded.compared++;
        if (record.verdict === verdict) recorded.same++;
        else {
          const key = `${record.verdict}→${verdict}`;
          recorded.changes.set(key, (recorded.changes.get(key) ?? 0) + 1);
        }
      }
      for (const key of new Set(decision.reasons.map(reasonKey))) {
        const row = hits.add(key);
        if (record.label === 'spam') row.data.spam++;
        else if (record.label === 'ham') row.data.ham++;
      }
      if (record.scenario !== undefined && (scenarios.has(record.scenario) || scenarios.size < MAX_KEYS)) {
        let counts = scenarios.get(record.scenario);
        if (!counts) scenarios.set(record.scenario, (counts = emptyVerdicts()));
        counts[verdict]++;
      }
    },
    build() {
      const percent = (part: number, whole: number) => (whole === 0 ? null : (100 * part) / whole);
      return {
        policy,
        decisions,
        byVerdict: { ...byVerdict },
        labels: labelled > 0 ? { ...labels } : null,
        labelsIfEnforced: softened > 0 ? { ...enforced } : null,
        recorded: recorded.compared > 0 ? { compared: recorded.compared, same: recorded.same, changes: Object.fromEntries([...recorded.changes].sort((a, b) => b[1] - a[1])) } : null,
        hits: hits.top().map(({ key, count, data }) => {
          const spamPercent = percent(data.spam, labels.spam);
          const hamPercent = percent(data.ham, labels.ham);
          const so = spamPercent === null || hamPercent === null || spamPercent + hamPercent === 0 ? null : spamPercent / (spamPercent + hamPercent);
          return { key, hits: count, spamHits: data.spam, hamHits: data.ham, spamPercent, hamPercent, so };
        }),
        scenarios: Object.fromEntries(scenarios),
      };
    },
  };
}

/** One traffic line whose answer changed, for the comparison's examples. */
export interface ChangedLine {
  line: number;
  action: string;
  ip: string | null;
  actor: string | null;
  scenario?: string;
  from: Verdict;
  to: Verdict;
  /** What the second policy answered it for (the reasons that shaped its verdict). */
  reasons: string[];
}

export interface Comparison {
  actions: number;
  changed: number;
  /** `from→to` counts, most frequent first. */
  transitions: Record<string, number>;
  /** Legitimate actions the second policy answers more strictly (challenge, throttle or block). */
  hamNewlyStopped: { count: number; byVerdict: Record<Verdict, number>; examples: ChangedLine[] };
  /** Legitimate actions the second policy lets through that the first stopped. */
  hamNewlyAllowed: number;
  /** Spam the first policy allowed and the second stops. */
  spamNewlyStopped: { count: number; examples: ChangedLine[] };
  /** Spam the first policy stopped and the second allows. */
  spamNewlyAllowed: { count: number; examples: ChangedLine[] };
}

export interface ComparisonBuilder {
  add(record: TrafficRecord, a: Decision, b: Decision): void;
  build(): Comparison;
}

/** @param maxExamples Example lines kept per list. @default 10 */
export function createComparison(maxExamples = 10): ComparisonBuilder {
  let actions = 0;
  let changed = 0;
  const transitions = new Map<string, number>();
  const hamNewlyStopped = { count: 0, byVerdict: emptyVerdicts(), examples: [] as ChangedLine[] };
  let hamNewlyAllowed = 0;
  const spamNewlyStopped = { count: 0, examples: [] as ChangedLine[] };
  const spamNewlyAllowed = { count: 0, examples: [] as ChangedLine[] };

  const example = (record: TrafficRecord, a: Decision, b: Decision): ChangedLine => ({
    line: record.line,
    action: b.action,
    ip: b.ip?.address ?? null,
    actor: b.actor,
    ...(record.scenario !== undefined ? { scenario: record.scenario } : {}),
    from: a.verdict,
    to: b.verdict,
    reasons: [...new Set(b.reasons.filter(contributes).map(reasonKey))],
  });
  const keep = (list: ChangedLine[], record: TrafficRecord, a: Decision, b: Decision) => {
    if (list.length < maxExamples) list.push(example(record, a, b));
  };

  return {
    add(record, a, b) {
      actions++;
      if (a.verdict === b.verdict) return;
      changed++;
      const key = `${a.verdict}→${b.verdict}`;
      transitions.set(key, (transitions.get(key) ?? 0) + 1);
      const stricter = severity(b.verdict) > severity(a.verdict);
      if (record.label === 'ham') {
        if (stricter) {
          hamNewlyStopped.count++;
          hamNewlyStopped.byVerdict[b.verdict]++;
          keep(hamNewlyStopped.examples, record, a, b);
        } else if (b.verdict === 'allow') hamNewlyAllowed++;
      } else if (record.label === 'spam') {
        if (a.verdict === 'allow') {
          spamNewlyStopped.count++;
          keep(spamNewlyStopped.examples, record, a, b);
        } else if (b.verdict === 'allow') {
          spamNewlyAllowed.count++;
          keep(spamNewlyAllowed.examples, record, a, b);
        }
      }
    },
    build() {
      return {
        actions,
        changed,
        transitions: Object.fromEntries([...transitions].sort((x, y) => y[1] - x[1])),
        hamNewlyStopped,
        hamNewlyAllowed,
        spamNewlyStopped,
        spamNewlyAllowed,
      };
    },
  };
}
