/**
 * @actiongate/core: approve, challenge, throttle or block a user action just in time.
 */
export { createGuard, type BanEvent, type Guard, type GuardOptions } from './guard.js';
export type { FeedbackLabel, FeedbackResult } from './engine/feedback.js';
export type { BanCount, BlockOptions, Inspection, Target } from './engine/operator.js';
export { compilePolicy, isCompiledPolicy, type CompiledPolicy, type CompileOptions } from './policy/compile.js';
export { loadPolicy, parsePolicyJson } from './policy/load.js';
export { watchPolicy, type PolicyWatcher, type WatchPolicyOptions } from './policy/watch.js';
export { policySchema } from './policy/schema.js';
export { parseDuration, parseBanDuration, formatDuration } from './policy/duration.js';
export { ActiongateError, PolicyError, ActionError, StoreError, isActiongateError, type ActiongateErrorCode, type PolicyProblem } from './errors.js';
export { severity, worst, compose, scoreVerdict } from './verdict/compose.js';
export { normaliseText } from './content/normalise.js';
export { toHttpResponse, type HttpResponse, type HttpResponseOptions } from './http/response.js';
export { requestFrom, type RequestFromOptions } from './http/request.js';
export { prometheusText, type MetricsSnapshot } from './observe/metrics.js';
export type { TelemetryMeter, TelemetryOptions, TelemetrySpan, TelemetryTracer } from './observe/otel.js';
export { createNdjsonSink, type NdjsonSink, type NdjsonSinkOptions } from './log/ndjson.js';
export { STORE_SLOTS, validateBatch } from '@actiongate/memory';
export type * from './store/types.js';
export type * from './types.js';
export type * from './policy/types.js';
