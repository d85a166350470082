/**
 * In-process counters of what a guard does, for the tools an SRE already runs: decisions by
 * verdict and by reason, degraded decisions, store latency, bans. Plain numbers and small maps
 * updated on the hot path (no allocation per decision beyond a first-seen label), read as a
 * snapshot; `prometheusText` renders a snapshot in the Prometheus text format.
 *
 * Reason ids come from policies (rule names, limit ids, list ids) and from subjects (`ip:…`
 * for bans): the latter would give one series per attacker, so ban reasons are counted by
 * source only, and at most `MAX_REASON_SERIES` distinct reason labels are kept (the rest count
 * under `other`).
 *
 * The bans in force are the one figure that is not this process's: they live in the shared
 * store, and counting them reads every subject there (`guard.countBans`), so the snapshot holds
 * the latest count made, with its time, rather than counting on each scrape.
 */
import type { BanCount } from '../engine/operator.js';
import type { Decision, Verdict } from '../types.js';

/** Upper bounds (ms) of the store latency histogram. */
export const STORE_LATENCY_BUCKETS_MS = Object.freeze([0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000]);
export const MAX_REASON_SERIES = 256;
/** The kinds of subject a ban holds, the labels of the active-ban gauge. */
export const BAN_KINDS = Object.freeze(['ip', 'actor', 'cidr'] as const);

export interface MetricsSnapshot {
  decisions: Record<Verdict, number>;
  /** By `source:id` (ban reasons by source only); capped, overflow under `other`. */
  reasons: Record<string, number>;
  degraded: number;
  /** Decisions whose verdict monitor mode softened (`wouldBe` worse than `verdict`). */
  monitored: number;
  storeLatency: { buckets: { le: number; count: number }[]; count: number; sumMs: number };
  /** Bans issued by this process, by source. */
  bans: { escalation: number; rule: number; operator: number };
  /** Operator unblocks by this process. */
  unblocks: number;
  /**
   * Bans in force in the whole store, by subject kind, as of the latest `guard.countBans()` (run
   * by hand or every `countBansEveryMs`); `null` until one has finished. A gauge, not a counter of
   * this process: every process that counts sees the same bans.
   */
  activeBans: BanCount | null;
}

export interface Metrics {
  decision(decision: Decision): void;
  storeLatency(ms: number): void;
  ban(source: 'escalation' | 'rule' | 'operator'): void;
  unblock(): void;
  activeBans(count: BanCount): void;
  snapshot(): MetricsSnapshot;
}

export function createMetrics(): Metrics {
  const decisions: Record<Verdict, number> = { allow: 0, challenge: 0, throttle: 0, block: 0 };
  // Counts by source, then id: no `source:id` label is built per reason, because a fresh string
  // is hashed anew on every Map lookup (the ids themselves come from the policy, hashed once).
  const reasons = new Map<string, Map<string, number>>();
  let series = 0;
  let otherReasons = 0;
  const latency = new Array<number>(STORE_LATENCY_BUCKETS_MS.length + 1).fill(0);
  let latencySum = 0;
  let latencyCount = 0;
  let degraded = 0;
  let monitored = 0;
  let unblocks = 0;
  const bans = { escalation: 0, rule: 0, operator: 0 };
  let activeBans: BanCount | null = null;

  return {
    decision(decision) {
      decisions[decision.verdict]++;
      if (decision.degraded) degraded++;
      if (heldBack(decision)) monitored++;
      for (const reason of decision.reasons) {
        let ids = reasons.get(reason.source);
        if (!ids) reasons.set(reason.source, (ids = new Map()));
        const id = reason.source === 'ban' ? '' : reason.id; // bans by source only: ids are subjects
        const count = ids.get(id);
        if (count !== undefined) ids.set(id, count + 1);
        else if (series < MAX_REASON_SERIES) {
          series++;
          ids.set(id, 1);
        } else otherReasons++;
      }
    },
    storeLatency(ms) {
      let i = 0;
      while (i < STORE_LATENCY_BUCKETS_MS.length && ms > STORE_LATENCY_BUCKETS_MS[i]!) i++;
      latency[i]!++;
      latencySum += ms;
      latencyCount++;
    },
    ban(source) {
      bans[source]++;
    },
    unblock() {
      unblocks++;
    },
    activeBans(count) {
      // Two counts that overlap (one by hand, one scheduled) finish in any order: the later start wins.
      if (activeBans === null || count.at >= activeBans.at) activeBans = { ...count };
    },
    snapshot() {
      let cumulative = 0;
      return {
        decisions: { ...decisions },
        reasons: reasonLabels(reasons, otherReasons),
        degraded,
        monitored,
        storeLatency: {
          buckets: STORE_LATENCY_BUCKETS_MS.map((le, i) => ({ le, count: (cumulative += latency[i]!) })),
          count: latencyCount,
          sumMs: latencySum,
        },
        bans: { ...bans },
        unblocks,
        activeBans: activeBans && { ...activeBans },
      };
    },
  };
}

/**
 * Whether monitor mode held a verdict back. A monitor-mode policy sets `wouldBe` on every
 * decision, `allow` included, so its being set alone would count every decision such a policy
 * takes rather than those it softened.
 */
export const heldBack = (decision: Decision): boolean => decision.wouldBe !== undefined && decision.wouldBe !== decision.verdict;

/** The counts by `source:id` label (`ban` alone), `other` last for those past the series bound. */
function reasonLabels(reasons: ReadonlyMap<string, ReadonlyMap<string, number>>, other: number): Record<string, number> {
  const labels: Record<string, number> = {};
  for (const [source, ids] of reasons) for (const [id, count] of ids) labels[source === 'ban' ? 'ban' : `${source}:${id}`] = count;
  if (other > 0) labels.other = other;
  return labels;
}

/** A label value in the text format: `\`, `"` and newlines escaped. */
const label = (value: string) => value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));

/** The snapshot in the Prometheus text exposition format 0.0.4. */
export function prometheusText(source: MetricsSnapshot | { metrics(): MetricsSnapshot }, prefix = 'actiongate'): string {
  // A name Prometheus cannot parse (`my-app`) fails the whole scrape, every series at once.
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) throw new TypeError(`prefix must be a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), got ${JSON.stringify(prefix)}`);
  const m = 'metrics' in source ? source.metrics() : source;
  const lines: string[] = [];
  const family = (name: string, type: string, help: string) => lines.push(`# HELP ${prefix}_${name} ${help}`, `# TYPE ${prefix}_${name} ${type}`);
  family('decisions_total', 'counter', 'Decisions by verdict.');
  for (const [verdict, count] of Object.entries(m.decisions)) lines.push(`${prefix}_decisions_total{verdict="${verdict}"} ${count}`);
  family('reasons_total', 'counter', 'Reasons given, by source and id (bans by source only).');
  for (const [reason, count] of Object.entries(m.reasons)) lines.push(`${prefix}_reasons_total{reason="${label(reason)}"} ${count}`);
  family('degraded_decisions_total', 'counter', 'Decisions taken while the store was unavailable (per failMode).');
  lines.push(`${prefix}_degraded_decisions_total ${m.degraded}`);
  family('monitored_decisions_total', 'counter', 'Decisions where monitor mode held back a verdict (wouldBe worse than the verdict).');
  lines.push(`${prefix}_monitored_decisions_total ${m.monitored}`);
  family('store_latency_seconds', 'histogram', 'Latency of store round trips.');
  for (const bucket of m.storeLatency.buckets) lines.push(`${prefix}_store_latency_seconds_bucket{le="${bucket.le / 1000}"} ${bucket.count}`);
  lines.push(`${prefix}_store_latency_seconds_bucket{le="+Inf"} ${m.storeLatency.count}`);
  lines.push(`${prefix}_store_latency_seconds_sum ${m.storeLatency.sumMs / 1000}`);
  lines.push(`${prefix}_store_latency_seconds_count ${m.storeLatency.count}`);
  family('bans_total', 'counter', 'Bans issued by this process, by source.');
  for (const [source, count] of Object.entries(m.bans)) lines.push(`${prefix}_bans_total{source="${source}"} ${count}`);
  family('unblocks_total', 'counter', 'Operator unblocks by this process.');
  lines.push(`${prefix}_unblocks_total ${m.unblocks}`);
  // Absent until counted: a 0 would claim "no bans" that nobody counted.
  if (m.activeBans) {
    family('bans_active', 'gauge', 'Bans in force in the store, by subject kind, as of the latest count.');
    for (const kind of BAN_KINDS) lines.push(`${prefix}_bans_active{kind="${kind}"} ${m.activeBans[kind]}`);
    family('bans_active_counted_timestamp_seconds', 'gauge', 'Store time of the latest count of bans in force.');
    lines.push(`${prefix}_bans_active_counted_timestamp_seconds ${m.activeBans.at / 1000}`);
  }
  return `${lines.join('\n')}\n`;
}
