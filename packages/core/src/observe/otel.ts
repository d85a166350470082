/**
 * Optional OpenTelemetry: a span per evaluation and the counters of `guard.metrics()` as OTel
 * instruments, for SREs whose dashboards and traces already run on OpenTelemetry.
 *
 * Why it looks like this:
 * - `@opentelemetry/api` is an *optional* peer. Nothing here imports it at module load: the
 *   core must load (ESM and CJS builds alike) where it is not installed. It is required
 *   lazily, synchronously, only when a guard asks for telemetry, resolved from this module
 *   (its file in the CommonJS build, its URL in the ESM build). The API keeps its registry on
 *   `globalThis`, so the copy found this way sees the SDK the host registered through either
 *   module format.
 * - The public option types are structural (`TelemetryTracer`, `TelemetryMeter`) rather than
 *   the API's own: a user without `@opentelemetry/api` still type-checks against our `.d.ts`.
 *   The API's `Tracer` and `Meter` satisfy them.
 * - Off by default: no wrapper, no allocation, the evaluate path is untouched. Enabled without
 *   a registered SDK, the API hands out non-recording spans and no-op instruments: inert.
 * - No personal data on spans or metrics: the client address, the actor id and content are
 *   never recorded; reason labels are bounded exactly as `guard.metrics()` bounds them (ban
 *   reasons by source only, at most `MAX_REASON_SERIES` labels, the rest as `other`).
 */
import { requireFromCore } from '../require.js';
import { ActiongateError } from '../errors.js';
import type { Decision, EvaluateOptions, Action } from '../types.js';
import type { BanCount } from '../engine/operator.js';
import { BAN_KINDS, MAX_REASON_SERIES, STORE_LATENCY_BUCKETS_MS, heldBack, type Metrics } from './metrics.js';

/** Name and version of the instrumentation scope (tracer and meter). */
export const INSTRUMENTATION_SCOPE = '@actiongate/core';
/** Name of the span around each `guard.evaluate`. */
export const EVALUATE_SPAN = 'actiongate.evaluate';

type AttributeValue = string | number | boolean;
type Attributes = Record<string, AttributeValue>;

/** What the guard uses of an OpenTelemetry `Span` (the API's `Span` satisfies it). */
export interface TelemetrySpan {
  setAttribute(key: string, value: AttributeValue): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  recordException(exception: Error): void;
  isRecording(): boolean;
  end(): void;
}

/** What the guard uses of an OpenTelemetry `Tracer` (the API's `Tracer` satisfies it). */
export interface TelemetryTracer {
  startSpan(name: string, options?: { kind?: number; attributes?: Attributes }): TelemetrySpan;
}

/** What the guard uses of an OpenTelemetry `Meter` (the API's `Meter` satisfies it). */
export interface TelemetryMeter {
  createCounter(name: string, options?: { description?: string; unit?: string }): { add(value: number, attributes?: Attributes): void };
  createHistogram(
    name: string,
    options?: { description?: string; unit?: string; advice?: { explicitBucketBoundaries?: number[] } },
  ): { record(value: number, attributes?: Attributes): void };
  /** Optional so a meter without it still fits; the API's `Meter` has it (1.3+). Without it there is no active-ban gauge. */
  createObservableGauge?(
    name: string,
    options?: { description?: string; unit?: string },
  ): { addCallback(callback: ObservableCallback): void; removeCallback(callback: ObservableCallback): void };
}

/** The callback of an observable instrument: observes its values when the SDK collects. */
export type ObservableCallback = (result: { observe(value: number, attributes?: Attributes): void }) => void;

/** Where spans and instruments go. Each one omitted comes from the global API (`trace.getTracer`, `metrics.getMeter`). */
export interface TelemetryOptions {
  /** @default trace.getTracer('@actiongate/core') from `@opentelemetry/api` */
  tracer?: TelemetryTracer;
  /** @default metrics.getMeter('@actiongate/core') from `@opentelemetry/api` */
  meter?: TelemetryMeter;
}

/** The slice of `@opentelemetry/api` used to make the evaluation span the active one. */
interface OtelApi {
  trace: {
    getTracer(name: string): TelemetryTracer;
    setSpan(context: unknown, span: TelemetrySpan): unknown;
  };
  metrics: { getMeter(name: string): TelemetryMeter };
  context: { active(): unknown; with<R>(context: unknown, fn: () => R): R };
}

/** `@opentelemetry/api`'s SpanKind.INTERNAL and SpanStatusCode.ERROR (stable numbers of the API). */
const SPAN_KIND_INTERNAL = 0;
const STATUS_ERROR = 2;

let api: OtelApi | null | undefined;

/** `@opentelemetry/api`, or null when it is not installed. Loaded once, on first need. */
function loadApi(): OtelApi | null {
  if (api === undefined) {
    try {
      api = requireFromCore('@opentelemetry/api') as OtelApi;
    } catch {
      api = null;
    }
  }
  return api;
}

export interface Telemetry {
  /** Wraps the guard's counters so every update also reaches the OTel instruments. */
  metrics(inner: Metrics): Metrics;
  /** Wraps `evaluate` in a span; returns it unchanged when telemetry is off. */
  traced(evaluate: (action: Action, options?: EvaluateOptions) => Promise<Decision>): (action: Action, options?: EvaluateOptions) => Promise<Decision>;
  /** Detaches the guard from the meter (its gauge callback), which outlives a closed guard. */
  close(): void;
}

const OFF: Telemetry = { metrics: (inner) => inner, traced: (evaluate) => evaluate, close: () => {} };

/**
 * Telemetry for one guard. `false`/`undefined`: off. `true`: the global API's tracer and
 * meter. An object: its tracer and meter, the global API's for what it omits.
 * @throws TelemetryError (code `TELEMETRY_UNAVAILABLE`) when the global API is needed but `@opentelemetry/api` is not installed.
 */
export function createTelemetry(option: boolean | TelemetryOptions | undefined): Telemetry {
  if (option === undefined || option === false) return OFF;
  if (option !== true && (typeof option !== 'object' || option === null)) {
    throw new TypeError(`telemetry is a boolean or { tracer?, meter? }, got ${typeof option}`);
  }
  const given: TelemetryOptions = option === true ? {} : option;
  const otel = loadApi();
  const need = (what: string): never => {
    throw new TelemetryError(`telemetry needs a ${what} or the optional peer dependency @opentelemetry/api (npm install @opentelemetry/api), which is not installed`);
  };
  const tracer = given.tracer ?? otel?.trace.getTracer(INSTRUMENTATION_SCOPE) ?? need('tracer');
  const meter = given.meter ?? otel?.metrics.getMeter(INSTRUMENTATION_SCOPE) ?? need('meter');
  const instruments = createInstruments(meter);
  const detach: (() => void)[] = [];

  return {
    metrics: (inner) => {
      // The gauge is read when the SDK collects, from the count the snapshot holds.
      detach.push(instruments.observeActiveBans(() => inner.snapshot().activeBans));
      return {
        decision(decision) {
          inner.decision(decision);
          instruments.decision(decision);
        },
        storeLatency(ms) {
          inner.storeLatency(ms);
          instruments.storeLatency.record(ms / 1000);
        },
        ban(source) {
          inner.ban(source);
          instruments.bans.add(1, { 'actiongate.ban.source': source });
        },
        unblock() {
          inner.unblock();
          instruments.unblocks.add(1);
        },
        activeBans: (count) => inner.activeBans(count),
        snapshot: () => inner.snapshot(),
      };
    },
    close() {
      for (const undo of detach.splice(0)) undo();
    },
    traced: (evaluate) => (action, options) => {
      const span = tracer.startSpan(EVALUATE_SPAN, { kind: SPAN_KIND_INTERNAL });
      // The span is the active one while the evaluation runs, so a store client's own
      // instrumentation (ioredis, node-redis) nests its commands under it.
      const run = () => evaluate(action, options);
      const pending = otel && span.isRecording() ? otel.context.with(otel.trace.setSpan(otel.context.active(), span), run) : run();
      return pending.then(
        (decision) => {
          if (span.isRecording()) describeDecision(span, decision);
          span.end();
          return decision;
        },
        (error: unknown) => {
          if (span.isRecording()) {
            const failure = error instanceof Error ? error : new Error(String(error));
            span.recordException(failure);
            const code = (failure as Error & { code?: unknown }).code;
            span.setAttribute('error.type', typeof code === 'string' ? code : failure.name);
            span.setStatus({ code: STATUS_ERROR, message: failure.message.slice(0, 200) });
          }
          span.end();
          throw error;
        },
      );
    },
  };
}

/** The span's attributes for a decision: what was decided and why in numbers, never who. */
function describeDecision(span: TelemetrySpan, decision: Decision): void {
  span.setAttribute('actiongate.action', decision.action);
  span.setAttribute('actiongate.verdict', decision.verdict);
  span.setAttribute('actiongate.degraded', decision.degraded);
  span.setAttribute('actiongate.score', decision.score);
  span.setAttribute('actiongate.policy', decision.policy);
  span.setAttribute('actiongate.decision.id', decision.id);
  span.setAttribute('actiongate.reasons', decision.reasons.length);
  if (decision.wouldBe !== undefined) span.setAttribute('actiongate.would_be', decision.wouldBe);
  if (decision.dryRun) span.setAttribute('actiongate.dry_run', true);
}

/** The OTel counterparts of `MetricsSnapshot`'s counters and histogram. */
function createInstruments(meter: TelemetryMeter) {
  const decisions = meter.createCounter('actiongate.decisions', { description: 'Decisions by verdict.', unit: '{decision}' });
  const reasons = meter.createCounter('actiongate.reasons', { description: 'Reasons given, by source and id (bans by source only).', unit: '{reason}' });
  const degraded = meter.createCounter('actiongate.decisions.degraded', { description: 'Decisions taken while the store was unavailable (per failMode).', unit: '{decision}' });
  const monitored = meter.createCounter('actiongate.decisions.monitored', { description: 'Decisions where monitor mode held back a verdict (wouldBe worse than the verdict).', unit: '{decision}' });
  const storeLatency = meter.createHistogram('actiongate.store.duration', {
    description: 'Latency of store round trips.',
    unit: 's',
    advice: { explicitBucketBoundaries: STORE_LATENCY_BUCKETS_MS.map((ms) => ms / 1000) },
  });
  const bans = meter.createCounter('actiongate.bans', { description: 'Bans issued by this process, by source.', unit: '{ban}' });
  const unblocks = meter.createCounter('actiongate.unblocks', { description: 'Operator unblocks by this process.', unit: '{unblock}' });
  const activeBans = meter.createObservableGauge?.('actiongate.bans.active', { description: 'Bans in force in the store, by subject kind, as of the latest count.', unit: '{ban}' });
  const seen = new Set<string>();

  return {
    storeLatency,
    bans,
    unblocks,
    /** Nothing is observed until a count has finished: a 0 would claim "no bans" that nobody counted. */
    observeActiveBans(latest: () => BanCount | null): () => void {
      if (!activeBans) return () => {};
      const callback: ObservableCallback = (result) => {
        const count = latest();
        if (count) for (const kind of BAN_KINDS) result.observe(count[kind], { 'actiongate.ban.kind': kind });
      };
      activeBans.addCallback(callback);
      return () => activeBans.removeCallback(callback);
    },
    decision(decision: Decision) {
      decisions.add(1, { 'actiongate.verdict': decision.verdict });
      if (decision.degraded) degraded.add(1);
      if (heldBack(decision)) monitored.add(1);
      for (const reason of decision.reasons) {
        let label = reason.source === 'ban' ? 'ban' : `${reason.source}:${reason.id}`;
        if (!seen.has(label)) {
          if (seen.size >= MAX_REASON_SERIES) label = 'other';
          else seen.add(label);
        }
        reasons.add(1, { 'actiongate.reason': label });
      }
    },
  };
}

/** Telemetry was asked for but cannot be given (no tracer or meter, and no `@opentelemetry/api`). */
export class TelemetryError extends ActiongateError {
  constructor(message: string) {
    super('TELEMETRY_UNAVAILABLE', message);
  }
}
