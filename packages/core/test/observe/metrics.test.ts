import { describe, expect, it } from 'vitest';
import { createGuard, prometheusText } from '../../src/index.js';
import { MAX_REASON_SERIES, createMetrics } from '../../src/observe/metrics.js';

/** Parses the text format into `name{labels}` → value, checking every sample has a TYPE. */
function parse(text: string): Map<string, number> {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.trimEnd().split('\n')) {
    const type = /^# TYPE (\w+) (counter|histogram|gauge)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line.startsWith('#')) continue;
    const sample = /^(\w+)(\{[^}]*\})? (-?[\d.e+]+)$/.exec(line);
    expect(sample, line).not.toBeNull();
    const family = sample![1]!.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(sample![1]!) || types.get(family) === 'histogram', line).toBe(true);
    samples.set(`${sample![1]}${sample![2] ?? ''}`, Number(sample![3]));
  }
  return samples;
}

describe('metrics', () => {
  it('counts decisions by verdict and reason, store latency and bans, in the Prometheus text format', async () => {
    let t = Date.UTC(2026, 0, 1);
    const guard = createGuard({ policy: { name: 'm', limits: [{ id: 'burst', by: 'ip', window: '1m', max: 1, onExceed: 'throttle' }], bans: { after: 2, ladder: ['1h'] } }, now: () => t++ });
    for (let i = 0; i < 4; i++) await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    await guard.block('actor:x');
    await guard.unblock('actor:x');
    const m = guard.metrics();
    expect(m.decisions).toEqual({ allow: 1, challenge: 0, throttle: 1, block: 2 });
    expect(m.reasons).toMatchObject({ 'limit:burst': 3, ban: 2 });
    expect(m.bans).toEqual({ escalation: 1, rule: 0, operator: 1 });
    expect(m.unblocks).toBe(1);
    expect(m.storeLatency.count).toBeGreaterThanOrEqual(4);

    const samples = parse(prometheusText(guard));
    expect(samples.get('actiongate_decisions_total{verdict="block"}')).toBe(2);
    expect(samples.get('actiongate_reasons_total{reason="limit:burst"}')).toBe(3);
    expect(samples.get('actiongate_bans_total{source="escalation"}')).toBe(1);
    expect(samples.get('actiongate_store_latency_seconds_bucket{le="+Inf"}')).toBe(m.storeLatency.count);
    expect(samples.get('actiongate_store_latency_seconds_count')).toBe(m.storeLatency.count);
    // Buckets are cumulative.
    const buckets = m.storeLatency.buckets.map((b) => b.count);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
  });

  it('counts as monitored only the decisions monitor mode softened, not every decision of a monitor-mode policy', async () => {
    const guard = createGuard({ policy: { name: 'm', mode: 'monitor', limits: [{ id: 'burst', by: 'ip', window: '1m', max: 1, onExceed: 'throttle' }] } });
    const decisions = [];
    for (let i = 0; i < 3; i++) decisions.push(await guard.evaluate({ action: 'a', ip: '192.0.2.1' }));
    // Each decision of a monitor-mode policy carries wouldBe; only the two past the limit were held back.
    expect(decisions.map((d) => [d.verdict, d.wouldBe])).toEqual([['allow', 'allow'], ['allow', 'throttle'], ['allow', 'throttle']]);
    expect(guard.metrics().monitored).toBe(2);
    expect(parse(prometheusText(guard)).get('actiongate_monitored_decisions_total')).toBe(2);
  });

  it('keeps label cardinality bounded and escapes label values', () => {
    const metrics = createMetrics();
    const decision = (id: string) => ({ id: 'd', at: 0, policy: 'p', action: 'a', verdict: 'block' as const, score: 0, retryAfterMs: null, challenge: null, limits: [], ip: null, actor: null, degraded: false, reasons: [{ source: 'rule' as const, id, message: '', verdict: 'block' as const }] });
    for (let i = 0; i < MAX_REASON_SERIES + 50; i++) metrics.decision(decision(`r${i}`));
    metrics.decision(decision('evil"\n{x}'));
    const snapshot = metrics.snapshot();
    expect(Object.keys(snapshot.reasons)).toHaveLength(MAX_REASON_SERIES + 1);
    expect(snapshot.reasons.other).toBe(51);
    const text = prometheusText(createMetrics().snapshot());
    expect(parse(text).get('actiongate_decisions_total{verdict="allow"}')).toBe(0);
    const fresh = createMetrics();
    fresh.decision(decision('evil"\n{x}'));
    expect(prometheusText(fresh.snapshot())).toContain('actiongate_reasons_total{reason="rule:evil\\"\\n{x}"} 1');
  });

  it('takes a prefix that is a metric name, and refuses one that would break the whole scrape', () => {
    const snapshot = createMetrics().snapshot();
    expect(parse(prometheusText(snapshot, 'shop_ag')).get('shop_ag_decisions_total{verdict="allow"}')).toBe(0);
    expect(() => prometheusText(snapshot, 'my-app')).toThrow(/prefix must be a Prometheus metric name/);
    expect(() => prometheusText(snapshot, '')).toThrow(TypeError);
    expect(() => prometheusText(snapshot, 'a b{x="1"}')).toThrow(TypeError);
  });
});
