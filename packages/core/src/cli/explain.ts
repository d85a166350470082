/**
 * `actiongate explain`: one action through a policy, with everything that went into its
 * verdict. The decision comes from the real guard (`createGuard`, `evaluate` with `dryRun`, so
 * nothing is consumed or written, also against a live Redis); the guard's rules evaluator is
 * wrapped to capture the exact facts it saw, and json-rules-engine — the reference interpreter —
 * re-runs the rules on those facts to show which condition passed or failed on which value.
 * Nothing here re-implements the engine: lists, content, limits and the client IP come from the
 * compiled policy's own functions.
 */
import { createGuard } from '../guard.js';
import { normaliseAction, type NormalisedAction } from '../engine/action.js';
import { readPath } from '../engine/state.js';
import { planLimits, type CompiledLimit } from '../limits/limits.js';
import { isActiongateError } from '../errors.js';
import { jsonErrorOffset, loadPolicy, readTextFile, withoutBom } from '../policy/load.js';
import { formatDuration } from '../policy/duration.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { createReferenceInterpreter, type RuleExplanation } from '../rules/reference.js';
import type { Facts, FiredEvent } from '../rules/types.js';
import type { ContentSignals } from '../content/signals.js';
import type { Action, Decision, HeaderBag, LimitState } from '../types.js';
import { choiceFlag, CliError, EXIT, integerFlag, parseCommandArgs, usageError, type Command } from './command.js';
import { positionOf } from './locate.js';
import { openNdjson } from './ndjson.js';
import { openStore } from './store-url.js';
import { printableJson } from './terminal.js';
import { parseTime, readTrafficRecord } from './traffic.js';
import { renderExplanation } from './explain-text.js';

export interface LimitExplanation {
  id: string;
  window: string;
  by: string;
  onExceed: string;
  monitor: boolean;
  /** False: the limit did not count this action (`why` says why). */
  applies: boolean;
  why: string;
  state?: LimitState;
}

export interface Explanation {
  policy: string;
  store: string;
  /** The evaluation's time (epoch ms). */
  at: number;
  /** How many earlier traffic lines were replayed first (`--line`): evaluated ones, as `replay` counts actions (not the lines it skips). */
  replayedBefore: number;
  action: {
    action: string;
    ip: (NonNullable<Decision['ip']> & { from: string }) | null;
    actor: NormalisedAction['actor'];
    /** Content field names and their lengths (the text is in the input). */
    content: Record<string, number>;
    attributes: Readonly<Record<string, unknown>>;
  };
  /** The facts the rules saw, exactly as the guard built them. */
  facts: Facts;
  lists: { id: string; matched: boolean; verdict?: string; score?: number }[];
  content: Omit<ContentSignals, 'fingerprint'>;
  limits: LimitExplanation[];
  /** Every rule as json-rules-engine evaluated it on `facts`, in policy order. */
  rules: (RuleExplanation & { mode: 'enforce' | 'monitor' })[];
  /** The policy's score thresholds. */
  scoring: { challenge?: number; block?: number };
  /** The compiled rules fired the same events as json-rules-engine (they are proven to; shown as a check). */
  rulesAgree: boolean;
  decision: Decision;
}

export interface ExplainOptions {
  policy: CompiledPolicy;
  action: Action;
  /** Evaluation time; default: now (and the store's clock for Redis). */
  at?: number;
  store?: string;
  prefix?: string;
  /** Traffic lines to replay through the store before explaining (`--line`). */
  before?: AsyncIterable<{ at: number; action: Action }>;
}

/** Explains one action. Dry run: the store is read, never written (except by `before`, on a fresh memory store). */
export async function explain(options: ExplainOptions): Promise<Explanation> {
  const { policy } = options;
  let facts: Facts | undefined;
  let fired: FiredEvent[] = [];
  // The guard's own rules evaluator, wrapped to see what it is given and what it answers.
  const rules = policy.rules;
  const tracing: CompiledPolicy = {
    ...policy,
    rules: {
      ...rules,
      evaluate(input) {
        facts = input;
        const result = rules.evaluate(input);
        if (!Array.isArray(result)) return result.then((events) => (fired = events));
        fired = result;
        return result;
      },
    },
  };
  const opened = await openStore(options.store, options.prefix !== undefined ? { prefix: options.prefix } : {});
  let clock = Number.NEGATIVE_INFINITY;
  let replayed = 0;
  const guard = createGuard({ policy: tracing, store: opened.store, now: () => clock, random: () => 0.5, storeTimeoutMs: options.store ? 5_000 : 50 });
  try {
    for await (const record of options.before ?? []) {
      clock = Math.max(clock, record.at); // the virtual clock never goes back
      try {
        await guard.evaluate(record.action);
        // Counted only when evaluated: "after replaying the N earlier lines" is the replay's
        // action count up to here, not one more per line the replay skipped.
        replayed++;
      } catch (error) {
        // An invalid earlier action changes no state, as in a replay; anything else is a failure.
        if (!isActiongateError(error) || error.code !== 'ACTION_INVALID') throw error;
      }
    }
    clock = Math.max(clock, options.at ?? Date.now());
    const decision = await guard.evaluate(options.action, { dryRun: true });
    const action = normaliseAction(options.action, policy);
    const seen = facts ?? {};
    const reference = await createReferenceInterpreter(policy.document.rules ?? []).explain(seen);
    const lists = action.ip ? policy.lists.match(action.ip.parsed) : [];
    const listed = new Set(lists.map((l) => l.id));
    const allowlisted = lists.some((l) => l.verdict === 'allow');
    const signals = policy.content.evaluate(action.content);
    const { fingerprint: _fingerprint, ...content } = signals;
    return {
      policy: policy.id,
      store: opened.label,
      at: decision.at,
      replayedBefore: replayed,
      action: {
        action: action.action,
        ip: action.ip && { address: action.ip.address, version: action.ip.version, subnet: action.ip.subnet, from: ipSource(options.action, action, policy) },
        actor: action.actor,
        content: Object.fromEntries(Object.entries(action.content ?? {}).map(([field, text]) => [field, text.length])),
        attributes: action.attributes,
      },
      facts: seen,
      lists: policy.lists.ids.map((id) => {
        const declared = policy.document.lists?.[id];
        return { id, matched: listed.has(id), ...(declared?.verdict ? { verdict: declared.verdict } : {}), ...(declared?.score ? { score: declared.score } : {}) };
      }),
      content,
      limits: explainLimits(policy, action, decision, allowlisted),
      rules: reference.map((rule) => ({ ...rule, mode: rule.event.mode })),
      scoring: { ...(policy.scoring.challenge !== undefined ? { challenge: policy.scoring.challenge } : {}), ...(policy.scoring.block !== undefined ? { block: policy.scoring.block } : {}) },
      rulesAgree: sameEvents(fired, reference),
      decision,
    };
  } finally {
    await guard.close().catch(() => undefined);
    await opened.close().catch(() => undefined);
  }
}

/** Fired rule indexes of the compiled evaluator against json-rules-engine's (as sets: order is proven elsewhere). */
function sameEvents(compiled: readonly FiredEvent[], reference: readonly RuleExplanation[]): boolean {
  const a = compiled.map((e) => e.index).sort((x, y) => x - y);
  const b = reference.filter((r) => r.result).map((r) => r.index);
  return a.length === b.length && a.every((index, i) => index === b[i]);
}

/** How the client IP was found, in words. */
function ipSource(input: Action, action: NormalisedAction, policy: CompiledPolicy): string {
  if (input.ip !== undefined) return 'the ip the host passed';
  const peer = input.request?.remoteAddress;
  const header = policy.document.network?.header ?? 'x-forwarded-for';
  const headers: HeaderBag = input.request?.headers ?? {};
  const sent = Object.keys(headers).some((name) => name.toLowerCase() === header);
  const peerIp = peer === undefined ? null : policy.resolveIp({ ip: peer });
  if (peerIp && action.ip && peerIp.address === action.ip.address) {
    return sent ? `the peer address (${header} ignored: the peer ${peer} is not a trusted proxy)` : 'the peer address';
  }
  return `the ${header} header, walked from the right past trusted proxies (peer ${peer ?? 'unknown'})`;
}

function explainLimits(policy: CompiledPolicy, action: NormalisedAction, decision: Decision, allowlisted: boolean): LimitExplanation[] {
  const ip = action.ip ? `ip:${action.ip.subnet}` : null;
  const actor = action.actor ? `actor:${action.actor.id}` : null;
  const takes = planLimits(policy.limits, {
    action: action.action,
    ip,
    actor,
    status: action.actor?.status ?? 'anonymous',
    fact: (path) => readPath(action, path),
  });
  return policy.limits.map((limit) => {
    const base = { id: limit.id, window: formatDuration(limit.windowMs), by: limit.by, onExceed: limit.onExceed, monitor: limit.monitor };
    const take = takes.find((t) => t.limit === limit);
    if (!take) return { ...base, applies: false, why: notApplying(limit, action, ip, actor) };
    if (allowlisted) return { ...base, applies: false, why: 'not counted: the IP is on an allowlist, which skips every limit' };
    const state = decision.limits.find((l) => l.id === limit.id && l.key === take.key);
    if (!state) return { ...base, applies: false, why: 'not counted (the store was not asked: see the decision reasons)' };
    const why = state.exceeded
      ? `exceeded: ${state.count} of ${state.max} per ${base.window} used by ${state.key}${state.resetMs ? `, room again in ${formatDuration(state.resetMs)}` : ''} → ${limit.monitor ? `would ${limit.onExceed} (monitor)` : limit.onExceed}`
      : `within: this action would make it ${state.count} of ${state.max} per ${base.window} for ${state.key} (${state.remaining} left)`;
    return { ...base, applies: true, why, state };
  });
}

function notApplying(limit: CompiledLimit, action: NormalisedAction, ip: string | null, actor: string | null): string {
  if (limit.actions && !limit.actions.has(action.action)) return `not counted: action ${JSON.stringify(action.action)} is not one of ${JSON.stringify([...limit.actions])}`;
  if ((limit.by === 'ip' || limit.by === 'ip+action') && !ip) return 'not counted: the action has no client IP';
  if ((limit.by === 'actor' || limit.by === 'actor+action') && !actor) return 'not counted: the action has no actor';
  return `not counted: ${limit.by} is missing or not a string or number`;
}

/** Reads the action file: an action, or a traffic line `{ at, action }` whose `at` sets the time. */
/** An action file holds one action: its content fields are read up to 64 KB each. */
const MAX_ACTION_FILE_BYTES = 16 * 1024 * 1024;

async function readActionFile(path: string): Promise<{ action: Action; at?: number }> {
  let text: string;
  try {
    text = await readTextFile(path, MAX_ACTION_FILE_BYTES);
  } catch (error) {
    throw new CliError(`actiongate explain: cannot read ${path}: ${(error as Error).message}`, EXIT.input, { cause: error });
  }
  // A file saved by an editor may start with a byte order mark, as policies and traffic lines may.
  text = withoutBom(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const { line, column } = positionOf(text, jsonErrorOffset(text));
    throw new CliError(`actiongate explain: ${path}:${line}:${column}: not valid JSON: ${(error as Error).message}`, EXIT.input, { cause: error });
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, 'at') && typeof (value as { action?: unknown }).action === 'object') {
    const record = readTrafficRecord(value, 1);
    if (typeof record === 'string') throw new CliError(`actiongate explain: ${path}: ${record}`, EXIT.input);
    return { action: record.action, at: record.at };
  }
  return { action: value as Action };
}

/** The traffic lines before `line` and the record on it (`--line`). */
async function readTrafficLine(path: string, line: number): Promise<{ before: AsyncIterable<{ at: number; action: Action }>; record: { at: number; action: Action } }> {
  // Two passes over the file: the first finds the line (and fails early if it is not a record),
  // the second streams the lines before it into the store; neither holds the file in memory.
  let target: { at: number; action: Action } | undefined;
  for await (const item of (await openNdjson(path)).lines) {
    if (item.line < line) continue;
    if (item.line > line) break;
    if (item.error !== undefined) throw new CliError(`actiongate explain: ${path}:${line}: ${item.error}`, EXIT.input);
    const record = readTrafficRecord(item.value, line);
    if (typeof record === 'string') throw new CliError(`actiongate explain: ${path}:${line}: ${record}`, EXIT.input);
    target = record;
  }
  if (!target) throw new CliError(`actiongate explain: ${path} has no traffic record on line ${line}`, EXIT.input);
  async function* before() {
    for await (const item of (await openNdjson(path)).lines) {
      if (item.line >= line) return;
      if (item.error !== undefined) continue;
      const record = readTrafficRecord(item.value, item.line);
      if (typeof record !== 'string') yield record;
    }
  }
  return { before: before(), record: target };
}

export const explainCommand: Command = {
  name: 'explain',
  summary: 'show how a policy decides one action: facts, lists, limits, every rule condition, the verdict',
  help: `Usage: actiongate explain --policy FILE [options] <action.json>
       actiongate explain --policy FILE --line N <traffic.ndjson>

Evaluates one action as a dry run (nothing is counted or written) and shows the normalised
action, every fact the rules see, each list, limit and content signal, every rule with each of
its conditions as json-rules-engine evaluated it (the fact value it saw), and the verdict.

<action.json> holds what guard.evaluate() takes, or a traffic line { "at", "action" } whose
"at" sets the time. With --line N, <traffic.ndjson> is a replay file: lines 1..N-1 are replayed
first on a fresh in-memory store (virtual clock), then line N is explained, so the counters,
strikes and bans it meets are the ones it met in the replay.

Options:
  --policy FILE        the policy (required)
  --store URL          explain against live state: redis://[:password@]host:port[/db]
                       (needs @actiongate/redis and ioredis in the project; read only)
  --prefix P           the RedisStore key prefix the application uses (default: ag)
  --at TIME            evaluation time, epoch ms or ISO 8601 (memory store only; default: now)
  --line N             explain line N of a traffic file (not stdin: it is read twice)
                       after replaying the lines before it
  --format text|json   output format (default: text)
  -h, --help           show this help

Exit status: 0 explained, 1 an input problem (policy, action, file, store), 2 a usage error.`,
  async run(args, io) {
    const parsed = parseCommandArgs(
      this,
      args,
      { policy: { type: 'string' }, store: { type: 'string' }, prefix: { type: 'string' }, at: { type: 'string' }, line: { type: 'string' }, format: { type: 'string' } },
      io,
    );
    if (!parsed) return EXIT.ok;
    const { values, positionals } = parsed;
    const format = choiceFlag(this, 'format', values.format, ['text', 'json'] as const, 'text');
    if (!values.policy) throw usageError(this, 'actiongate explain: --policy FILE is required');
    if (positionals.length !== 1) throw usageError(this, 'actiongate explain: name one action file');
    if (values.store && values.line) throw usageError(this, 'actiongate explain: --line replays into a fresh memory store; it cannot be combined with --store');
    if (values.store && values.at) throw usageError(this, 'actiongate explain: --at sets a virtual time; against --store the store\'s clock is used');
    // --line reads the file twice (finds the line, then replays the ones before it): stdin would
    // be gone the second time, and the first pass's early stop aborted it with a stack trace.
    if (values.line !== undefined && positionals[0] === '-') throw usageError(this, 'actiongate explain: --line reads the traffic file twice (the line, then the lines before it), so it cannot be stdin: save the traffic to a file and name that');
    const at = values.at === undefined ? undefined : parseTime(/^\d+$/.test(values.at) ? Number(values.at) : values.at);
    if (values.at !== undefined && at === undefined) throw usageError(this, `actiongate explain: --at must be epoch milliseconds or an ISO 8601 time, got ${JSON.stringify(values.at)}`);
    const policy = await loadPolicy(values.policy);
    const file = positionals[0]!;
    let input: { action: Action; at?: number; before?: AsyncIterable<{ at: number; action: Action }> };
    if (values.line !== undefined) {
      const line = integerFlag(this, 'line', values.line, 1, 1, Number.MAX_SAFE_INTEGER);
      const { before, record } = await readTrafficLine(file, line);
      input = { action: record.action, at: record.at, before };
    } else {
      input = await readActionFile(file);
    }
    const explanation = await explain({
      policy,
      action: input.action,
      ...(at ?? input.at) !== undefined ? { at: (at ?? input.at)! } : {},
      ...(values.store !== undefined ? { store: values.store } : {}),
      ...(values.prefix !== undefined ? { prefix: values.prefix } : {}),
      ...(input.before ? { before: input.before } : {}),
    });
    io.out(format === 'json' ? `${asJson(explanation)}\n` : `${renderExplanation(explanation)}\n`);
    return EXIT.ok;
  },
};

/** The explanation as JSON; an action nested too deep for JSON.stringify (the guard takes it) is an input problem. */
function asJson(explanation: Explanation): string {
  try {
    return printableJson(explanation, 2);
  } catch (error) {
    throw new CliError(`actiongate explain: the action cannot be printed as JSON (${(error as Error).message}): it nests too deep; --format text shows the rest`, EXIT.input, { cause: error });
  }
}
