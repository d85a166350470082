import { MemoryStore } from '@actiongate/memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGuard, isActiongateError, prometheusText, type Store } from '../../src/index.js';
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

describe('bans in force', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const POLICY = { name: 'm', limits: [{ id: 'burst', by: 'ip' as const, window: '1m', max: 1, onExceed: 'throttle' as const }], bans: { after: 2, ladder: ['1h'] } };

  it('counts the bans in the whole store by subject kind, leaves out ended and lifted ones, and shows the count as a gauge', async () => {
    let t = Date.UTC(2026, 0, 1);
    const store = new MemoryStore();
    const guard = createGuard({ policy: POLICY, store, now: () => t });
    // No count yet: no gauge, rather than a 0 nobody counted.
    expect(guard.metrics().activeBans).toBeNull();
    expect(prometheusText(guard)).not.toContain('bans_active');

    for (let i = 0; i < 3; i++) await guard.evaluate({ action: 'a', ip: '192.0.2.1' }); // escalates to a 1h ban
    await guard.block('actor:a', { for: '10m' });
    await guard.block('actor:b', { for: 'permanent' });
    await guard.block('actor:c');
    await guard.unblock('actor:c');
    await guard.block('cidr:198.51.100.0/24', { for: '7d' });
    await guard.block('ip:2001:db8::1', { for: '1m' });
    // Another process's bans are in force here too: the count reads the store, not this guard.
    const other = createGuard({ policy: POLICY, store, now: () => t });
    await other.block('actor:d', { for: '1d' });

    const counted = await guard.countBans();
    expect(counted).toEqual({ ip: 2, actor: 3, cidr: 1, at: t });
    expect(guard.metrics().activeBans).toEqual(counted);
    const samples = parse(prometheusText(guard));
    expect(samples.get('actiongate_bans_active{kind="ip"}')).toBe(2);
    expect(samples.get('actiongate_bans_active{kind="actor"}')).toBe(3);
    expect(samples.get('actiongate_bans_active{kind="cidr"}')).toBe(1);
    expect(samples.get('actiongate_bans_active_counted_timestamp_seconds')).toBe(t / 1000);

    t += 11 * 60_000; // the 1m and 10m bans end; the 1h ban, the day, the week and the permanent one hold
    expect(await guard.countBans()).toEqual({ ip: 1, actor: 2, cidr: 1, at: t });
    expect(guard.metrics().activeBans?.actor).toBe(2);
  });

  it('counts past a page, and a subject the store lists twice once', async () => {
    const t = Date.UTC(2026, 0, 1);
    const store = new MemoryStore();
    const guard = createGuard({ policy: POLICY, store, now: () => t });
    for (let i = 0; i < 2_345; i++) await guard.block(`actor:u${i}`, { for: '1h' });
    expect(await guard.countBans()).toMatchObject({ actor: 2_345, ip: 0, cidr: 0 });

    // A store whose pages overlap (Redis SCAN may return a key again while its table is resized).
    let pages = 0;
    const repeating: Store = {
      name: 'repeating',
      apply: (batch) => store.apply(batch),
      async scan(name, options) {
        pages++;
        const page = await store.scan(name, options);
        return { entries: [...page.entries, ...page.entries.slice(0, 10)], cursor: page.cursor };
      },
      close: async () => {},
    };
    const counter = createGuard({ policy: POLICY, store: repeating, now: () => t });
    expect(await counter.countBans()).toMatchObject({ actor: 2_345 });
    expect(pages).toBe(3);
  });

  it('refuses a store that cannot list, and rejects with the store failure, keeping the last count', async () => {
    const t = Date.UTC(2026, 0, 1);
    const plain: Store = { name: 'plain', apply: (batch) => new MemoryStore().apply(batch), close: async () => {} };
    await expect(createGuard({ policy: POLICY, store: plain, now: () => t }).countBans()).rejects.toMatchObject({ code: 'TARGET_INVALID' });

    const store = new MemoryStore();
    let down = false;
    const flaky: Store = { name: 'flaky', apply: (batch) => store.apply(batch), scan: (name, options) => (down ? Promise.reject(new Error('ECONNRESET')) : store.scan(name, options)), close: async () => {} };
    const guard = createGuard({ policy: POLICY, store: flaky, now: () => t });
    await guard.block('actor:x');
    await guard.countBans();
    down = true;
    await expect(guard.countBans()).rejects.toMatchObject({ code: 'STORE_FAILED' });
    expect(guard.metrics().activeBans).toMatchObject({ actor: 1 });
  });

  it('counts on a schedule when asked, reports failures to onError, and stops on close', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const t = Date.UTC(2026, 0, 1);
    const store = new MemoryStore();
    let scans = 0;
    let down = false;
    const counted: Store = {
      name: 'counted',
      apply: (batch) => store.apply(batch),
      scan(name, options) {
        scans++;
        return down ? Promise.reject(new Error('ECONNRESET')) : store.scan(name, options);
      },
      close: async () => {},
    };
    const errors: Error[] = [];
    expect(() => createGuard({ policy: POLICY, store: counted, countBansEveryMs: 999 })).toThrow(/countBansEveryMs must be a number of milliseconds from 1000/);
    expect(() => createGuard({ policy: POLICY, store: counted, countBansEveryMs: Number.NaN })).toThrow(TypeError);
    expect(() => createGuard({ policy: POLICY, store: counted, countBansEveryMs: 2 ** 31 })).toThrow(TypeError);
    const guard = createGuard({ policy: POLICY, store: counted, now: () => t, countBansEveryMs: 60_000, onError: (e) => errors.push(e) });
    await guard.block('actor:x');
    await vi.advanceTimersByTimeAsync(0); // the first count starts at once
    expect(scans).toBe(1);
    expect(guard.metrics().activeBans).toMatchObject({ actor: 1 });

    await guard.block('actor:y');
    await vi.advanceTimersByTimeAsync(59_000);
    expect(scans).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(scans).toBe(2);
    expect(guard.metrics().activeBans).toMatchObject({ actor: 2 });

    down = true;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(scans).toBe(3);
    expect(errors.map((e) => (isActiongateError(e) ? e.code : e.message))).toEqual(['STORE_FAILED']);
    expect(guard.metrics().activeBans).toMatchObject({ actor: 2 }); // the last count stays, with its time
    down = false;

    await guard.close();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(scans).toBe(3);
    await expect(guard.countBans()).rejects.toMatchObject({ code: 'GUARD_CLOSED' });
    expect(errors).toHaveLength(1);
  });

  it('lets close() stop a count between pages rather than wait for the whole store', async () => {
    const t = Date.UTC(2026, 0, 1);
    const store = new MemoryStore();
    const seed = createGuard({ policy: POLICY, store, now: () => t });
    for (let i = 0; i < 3_500; i++) await seed.block(`actor:u${i}`, { for: '1h' });
    let pages = 0;
    let release!: () => void;
    const slow: Store = {
      name: 'slow',
      apply: (batch) => store.apply(batch),
      async scan(name, options) {
        if (++pages === 1) await new Promise<void>((resolve) => (release = resolve));
        return store.scan(name, options);
      },
      close: async () => {},
    };
    const guard = createGuard({ policy: POLICY, store: slow, now: () => t });
    const counting = guard.countBans();
    await vi.waitFor(() => expect(pages).toBe(1));
    const closing = guard.close();
    release();
    await expect(counting).rejects.toMatchObject({ code: 'GUARD_CLOSED' });
    await closing;
    expect(pages).toBe(1);
    expect(guard.metrics().activeBans).toBeNull();
  });
});
