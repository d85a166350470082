/**
 * Reading one decision-log line (as `createNdjsonSink` writes it) into what the report counts.
 * A log is other software's output, maybe truncated or hand-edited: a line that is not a
 * decision is skipped with the reason, never trusted into a crash. Only own properties are read.
 */
import { parseCidr, parseIp } from '../network/ip.js';
import type { Reason, Verdict } from '../types.js';
import { prefixOf } from '../text.js';
import type { LoggedDecision } from './aggregate.js';

const VERDICTS = new Set<string>(['allow', 'challenge', 'throttle', 'block']);
/** The range of a JavaScript Date: anything beyond is not a time. */
const MAX_TIME = 8.64e15;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const own = (record: Json, key: string): unknown => (Object.hasOwn(record, key) ? record[key] : undefined);
const isVerdict = (value: unknown): value is Verdict => typeof value === 'string' && VERDICTS.has(value);
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_TIME;
/**
 * Longest text kept from a line. The report keeps thousands of keys (1,024 per top list; the
 * 100,000 challenged subjects are kept as hashes, whatever their length): a hand-made log with
 * megabyte actor ids would make them cost gigabytes. The guard's own ids are at most 512
 * characters; longer text is cut, marked.
 */
export const MAX_LOG_TEXT = 1024;
// A copy (`prefixOf`), not a slice: a kept cut of a 1 MB actor id kept the megabyte alive.
const clip = (text: string): string => (text.length > MAX_LOG_TEXT ? `${prefixOf(text, MAX_LOG_TEXT)}…(+${text.length - MAX_LOG_TEXT} chars)` : text);

/** The decision on a log line, or why the line is not one. */
export function readLoggedDecision(value: unknown): LoggedDecision | string {
  if (!isObject(value)) return 'not a decision object';
  const at = own(value, 'at');
  if (!isTime(at)) return '"at" is not a time in epoch milliseconds';
  const verdict = own(value, 'verdict');
  if (isObject(own(value, 'action'))) return 'a traffic line, not a decision ("actiongate replay" reads traffic)';
  if (!isVerdict(verdict)) return '"verdict" is not allow, challenge, throttle or block';

  const reasons: Reason[] = [];
  const rawReasons = own(value, 'reasons') ?? [];
  if (!Array.isArray(rawReasons)) return '"reasons" is not an array';
  for (const [i, raw] of rawReasons.entries()) {
    if (!isObject(raw)) return `reasons[${i}] is not an object`;
    const source = own(raw, 'source');
    const id = own(raw, 'id');
    const reasonVerdict = own(raw, 'verdict');
    if (typeof source !== 'string' || typeof id !== 'string' || !isVerdict(reasonVerdict)) return `reasons[${i}] lacks a source, id or verdict`;
    const score = own(raw, 'score');
    const retryAfterMs = own(raw, 'retryAfterMs');
    reasons.push({
      source: clip(source) as Reason['source'],
      id: clip(id),
      message: typeof own(raw, 'message') === 'string' ? (own(raw, 'message') as string) : '',
      verdict: reasonVerdict,
      ...(typeof score === 'number' && Number.isFinite(score) ? { score } : {}),
      ...(own(raw, 'monitor') === true ? { monitor: true } : {}),
      ...(isTime(retryAfterMs) ? { retryAfterMs } : {}),
    });
  }

  const limits: LoggedDecision['limits'] = [];
  const rawLimits = own(value, 'limits') ?? [];
  if (!Array.isArray(rawLimits)) return '"limits" is not an array';
  for (const [i, raw] of rawLimits.entries()) {
    if (!isObject(raw) || typeof own(raw, 'id') !== 'string' || typeof own(raw, 'key') !== 'string') return `limits[${i}] lacks an id or key`;
    const number = (key: string) => (typeof own(raw, key) === 'number' ? (own(raw, key) as number) : 0);
    limits.push({ id: clip(own(raw, 'id') as string), key: clip(own(raw, 'key') as string), count: number('count'), max: number('max'), remaining: number('remaining'), windowMs: number('windowMs'), resetMs: number('resetMs'), exceeded: own(raw, 'exceeded') === true });
  }

  let ip: LoggedDecision['ip'] = null;
  const rawIp = own(value, 'ip') ?? null;
  if (rawIp !== null) {
    const address = isObject(rawIp) ? own(rawIp, 'address') : undefined;
    const version = isObject(rawIp) ? own(rawIp, 'version') : undefined;
    const subnet = isObject(rawIp) ? own(rawIp, 'subnet') : undefined;
    if (typeof address !== 'string' || (version !== 4 && version !== 6) || typeof subnet !== 'string') return '"ip" is not { address, version, subnet }';
    // The report groups by them (an IPv4 address's /24 is cut from its text): "x" grouped as "x.0/24".
    if (parseIp(address)?.version !== version) return `"ip.address" is not an IPv${version} address`;
    if ((parseIp(subnet) ?? parseCidr(subnet))?.version !== version) return `"ip.subnet" is not an IPv${version} address or network`;
    ip = { address: clip(address), version, subnet: clip(subnet) };
  }
  const actor = own(value, 'actor') ?? null;
  if (actor !== null && typeof actor !== 'string') return '"actor" is not a string or null';

  const decision: LoggedDecision = { at, verdict, reasons, limits, ip, actor: actor === null ? null : clip(actor), degraded: own(value, 'degraded') === true };
  const action = own(value, 'action');
  if (typeof action === 'string') decision.action = clip(action);
  const policy = own(value, 'policy');
  if (typeof policy === 'string') decision.policy = clip(policy);
  const wouldBe = own(value, 'wouldBe');
  if (isVerdict(wouldBe)) decision.wouldBe = wouldBe;
  const challenge = own(value, 'challenge');
  if (isObject(challenge) && typeof own(challenge, 'kind') === 'string') decision.challenge = { kind: clip(own(challenge, 'kind') as string), token: '' };
  const banUntil = own(value, 'banUntil');
  if (banUntil === null || isTime(banUntil)) decision.banUntil = banUntil;
  return decision;
}
