import { context, metrics, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '@actiongate/memory';
import { createGuard, isActiongateError, type Decision, type PolicyDocument, type Store } from '../../src/index.js';
import { createTelemetry, EVALUATE_SPAN } from '../../src/observe/otel.js';

// Real OpenTelemetry SDKs in memory: spans through an in-memory exporter, metric points through
// a pull reader. The guard sees them through the option or through the global API.

class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

function sdk() {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const reader = new PullReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const points = async (): Promise<Map<string, MetricData>> => {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    return new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
  };
  /** Finished spans, once the processor has handed them all to the exporter. */
  const spans = async () => {
    await tracerProvider.forceFlush();
    return exporter.getFinishedSpans();
  };
  return { spans, tracerProvider, meterProvider, points };
}

/** A metric's values keyed by one attribute's value ('' when the point has no attributes). */
function byAttribute(metric: MetricData | undefined, key?: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const point of metric?.dataPoints ?? []) out[key ? String(point.attributes[key]) : ''] = point.value as number;
  return out;
}

const POLICY: PolicyDocument = {
  name: 'otel',
  version: '3',
  limits: [{ id: 'burst', by: 'ip', window: '1m', max: 1, onExceed: 'throttle' }],
  bans: { after: 2, ladder: ['1h'] },
};

/** A MemoryStore that remembers the active span at each round trip, or fails on demand. */
class WatchedStore extends MemoryStore {
  active: (Span | undefined)[] = [];
  failing = false;
  override apply(batch: Parameters<Store['apply']>[0]) {
    this.active.push(trace.getActiveSpan());
    return this.failing ? Promise.reject(new Error('store down')) : super.apply(batch);
  }
}

afterEach(() => {
  trace.disable();
  metrics.disable();
  context.disable();
});

describe('OpenTelemetry', () => {
  it('records a span per evaluation with action, verdict, degraded and score, and never the IP or actor', async () => {
    const { spans: finished, tracerProvider, meterProvider } = sdk();
    let t = Date.UTC(2026, 0, 1);
    const guard = createGuard({ policy: POLICY, now: () => t++, telemetry: { tracer: tracerProvider.getTracer('t'), meter: meterProvider.getMeter('m') } });
    const decisions: Decision[] = [];
    for (let i = 0; i < 3; i++) decisions.push(await guard.evaluate({ action: 'ad.submit', ip: '198.51.100.23', actor: { id: 'user-4711', status: 'registered' }, content: { title: 'secret title' } }));

    const spans = await finished();
    expect(spans).toHaveLength(3);
    expect(spans.map((s) => s.name)).toEqual([EVALUATE_SPAN, EVALUATE_SPAN, EVALUATE_SPAN]);
    spans.forEach((span, i) => {
      const d = decisions[i]!;
      expect(span.attributes).toMatchObject({
        'actiongate.action': 'ad.submit',
        'actiongate.verdict': d.verdict,
        'actiongate.degraded': false,
        'actiongate.score': d.score,
        'actiongate.policy': 'otel@3',
        'actiongate.decision.id': d.id,
      });
      const values = JSON.stringify(Object.values(span.attributes));
      for (const secret of ['198.51.100', 'user-4711', 'secret title']) expect(values).not.toContain(secret);
      expect(span.status.code).toBe(0); // a "no" is an outcome, not an error
    });
    expect(spans.map((s) => s.attributes['actiongate.verdict'])).toEqual(['allow', 'throttle', 'block']);
  });

  it('exports the same counters as guard.metrics() as OTel instruments', async () => {
    const { tracerProvider, meterProvider, points } = sdk();
    let t = Date.UTC(2026, 0, 1);
    const guard = createGuard({ policy: POLICY, now: () => t++, telemetry: { tracer: tracerProvider.getTracer('t'), meter: meterProvider.getMeter('m') } });
    for (let i = 0; i < 4; i++) await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    await guard.block('actor:x');
    await guard.unblock('actor:x');
    const snapshot = guard.metrics();
    const m = await points();

    expect(byAttribute(m.get('actiongate.decisions'), 'actiongate.verdict')).toEqual({ allow: 1, throttle: 1, block: 2 });
    expect(byAttribute(m.get('actiongate.reasons'), 'actiongate.reason')).toEqual(snapshot.reasons);
    expect(byAttribute(m.get('actiongate.bans'), 'actiongate.ban.source')).toEqual({ escalation: 1, operator: 1 });
    expect(byAttribute(m.get('actiongate.unblocks'))).toEqual({ '': 1 });
    expect(m.get('actiongate.decisions.degraded')).toBeUndefined(); // nothing degraded yet

    const histogram = m.get('actiongate.store.duration')!;
    expect(histogram.descriptor.unit).toBe('s');
    const point = histogram.dataPoints[0]!.value as { count: number; sum: number; buckets: { boundaries: number[]; counts: number[] } };
    expect(point.count).toBe(snapshot.storeLatency.count);
    expect(point.sum).toBeCloseTo(snapshot.storeLatency.sumMs / 1000, 9);
    expect(point.buckets.boundaries).toEqual(snapshot.storeLatency.buckets.map((b) => b.le / 1000));
  });

  it('observes the bans in force as a gauge by subject kind once counted, and detaches it on close', async () => {
    const { tracerProvider, meterProvider, points } = sdk();
    const t = Date.UTC(2026, 0, 1);
    const guard = createGuard({ policy: POLICY, now: () => t, telemetry: { tracer: tracerProvider.getTracer('t'), meter: meterProvider.getMeter('m') } });
    await guard.block('actor:x');
    await guard.block('ip:192.0.2.9');
    await guard.block('actor:y');
    expect((await points()).get('actiongate.bans.active')?.dataPoints ?? []).toEqual([]); // nothing counted yet
    await guard.countBans();
    expect(byAttribute((await points()).get('actiongate.bans.active'), 'actiongate.ban.kind')).toEqual({ ip: 1, actor: 2, cidr: 0 });
    await guard.close();

    // The meter outlives the guard: close() takes the guard's callback off the gauge.
    const callbacks = new Set<unknown>();
    const noop = { add() {}, record() {} };
    const meter = {
      createCounter: () => noop,
      createHistogram: () => noop,
      createObservableGauge: () => ({ addCallback: (cb: unknown) => void callbacks.add(cb), removeCallback: (cb: unknown) => void callbacks.delete(cb) }),
    };
    const watched = createGuard({ policy: POLICY, telemetry: { tracer: tracerProvider.getTracer('t'), meter } });
    expect(callbacks.size).toBe(1);
    await watched.close();
    expect(callbacks.size).toBe(0);
    // A meter without observable gauges (the option's type allows one) still works.
    await createGuard({ policy: POLICY, telemetry: { tracer: tracerProvider.getTracer('t'), meter: { createCounter: () => noop, createHistogram: () => noop } } }).countBans();
  });

  it('marks degraded decisions on the span and the counter, and records a rejection as an error', async () => {
    const { spans: finished, tracerProvider, meterProvider, points } = sdk();
    const store = new WatchedStore();
    store.failing = true;
    const guard = createGuard({ policy: { ...POLICY, failMode: 'open' }, store, telemetry: { tracer: tracerProvider.getTracer('t'), meter: meterProvider.getMeter('m') } });
    const d = await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    expect(d.degraded).toBe(true);
    await expect(guard.evaluate({ action: '', ip: '192.0.2.1' })).rejects.toSatisfy((e) => isActiongateError(e) && e.code === 'ACTION_INVALID');

    const [degraded, rejected] = await finished();
    expect(degraded!.attributes['actiongate.degraded']).toBe(true);
    expect(rejected!.status.code).toBe(2);
    expect(rejected!.attributes['error.type']).toBe('ACTION_INVALID');
    expect(rejected!.events.map((e) => e.name)).toEqual(['exception']);
    expect(byAttribute((await points()).get('actiongate.decisions.degraded'))).toEqual({ '': 1 });
  });

  it('with telemetry: true uses the global API, and the store runs inside the evaluation span', async () => {
    const { spans: finished, tracerProvider, meterProvider, points } = sdk();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);
    const store = new WatchedStore();
    const guard = createGuard({ policy: POLICY, store, telemetry: true });
    await guard.evaluate({ action: 'a', ip: '192.0.2.1' });

    const [span] = await finished();
    expect(span?.name).toBe(EVALUATE_SPAN);
    expect(store.active.length).toBeGreaterThan(0);
    for (const active of store.active) expect(active?.spanContext().spanId).toBe(span!.spanContext().spanId);
    expect(byAttribute((await points()).get('actiongate.decisions'), 'actiongate.verdict')).toEqual({ allow: 1 });
  });

  it('is inert when no SDK is registered: same decisions, no recording span, guard.metrics() unchanged', async () => {
    // A context manager but no tracer or meter provider: a span the guard made active would show.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const run = async (telemetry: boolean) => {
      let t = Date.UTC(2026, 0, 1);
      const store = new WatchedStore();
      const guard = createGuard({ policy: POLICY, store, now: () => t++, telemetry });
      const verdicts: string[] = [];
      for (let i = 0; i < 4; i++) verdicts.push((await guard.evaluate({ action: 'a', ip: '192.0.2.1' })).verdict);
      return { verdicts, store, metrics: guard.metrics() };
    };
    const on = await run(true);
    const off = await run(false);
    expect(on.verdicts).toEqual(['allow', 'throttle', 'block', 'block']);
    expect(on.verdicts).toEqual(off.verdicts);
    expect(on.metrics.decisions).toEqual(off.metrics.decisions);
    expect(on.metrics.storeLatency.count).toBe(off.metrics.storeLatency.count);
    // The API's no-op tracer gave a non-recording span, which the guard never made active.
    expect(on.store.active.length).toBeGreaterThan(0);
    expect(on.store.active.every((span) => span === undefined)).toBe(true);
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
  });

  it('off by default: evaluate is not wrapped', () => {
    const evaluate = async () => ({}) as Decision;
    expect(createTelemetry(undefined).traced(evaluate)).toBe(evaluate);
    expect(createTelemetry(false).traced(evaluate)).toBe(evaluate);
    expect(createTelemetry(true).traced(evaluate)).not.toBe(evaluate);
    expect(() => createTelemetry('yes' as unknown as boolean)).toThrow(TypeError);
  });
});
