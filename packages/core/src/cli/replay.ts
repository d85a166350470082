/**
 * `actiongate replay`: recorded (or synthetic) traffic through one policy, or two to compare,
 * before the policy ships. Each policy gets its own guard on a fresh MemoryStore and the same
 * virtual clock (`createGuard({ now })`), set from each line's `at`, so a day of traffic replays
 * in seconds with the windows, bans and escalations it would have met. The input is streamed
 * and every aggregate is bounded, so a million lines take the memory of a thousand.
 */
import { MemoryStore } from '@actiongate/memory';
import { isActiongateError } from '../errors.js';
import { createGuard, type Guard } from '../guard.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { loadPolicy } from '../policy/load.js';
import type { Decision } from '../types.js';
import { createReportBuilder, type DecisionReport } from './aggregate.js';
import { choiceFlag, EXIT, integerFlag, parseCommandArgs, usageError, type Command, type Io } from './command.js';
import { createNdjsonWriter, createSkipped, describeSkipped, openNdjson, refuseOverwritingInput, type NdjsonItem, type NdjsonWriter, type SkippedLines } from './ndjson.js';
import { createProgress, type Progress } from './progress.js';
import { renderReplay } from './render-text.js';
import { createComparison, createPolicyStats, type Comparison, type PolicyStats } from './replay-stats.js';
import { printableJson } from './terminal.js';
import { readTrafficRecord } from './traffic.js';

export interface ReplayOptions {
  /** One policy, or two to compare (the first is the baseline). */
  policies: readonly CompiledPolicy[];
  lines: AsyncIterable<NdjsonItem>;
  /** Decisions of the first policy are written here, one JSON line each. */
  log?: NdjsonWriter;
  progress?: Progress;
  /** Called after each chunk with the bytes read (progress). */
  bytesRead?: () => number;
  /** Rows in top lists. @default 10 */
  top?: number;
  /** MemoryStore bound per policy. @default 100000 */
  maxKeys?: number;
}

export interface ReplayResult {
  policies: string[];
  /** Traffic lines evaluated. */
  actions: number;
  skipped: SkippedLines;
  /** Lines earlier than one before them: evaluated at the latest time seen (the clock never goes back). */
  outOfOrder: number;
  seconds: number;
  actionsPerSecond: number;
  /** Peak resident memory of the process (MB). */
  peakRssMb: number;
  /** One report and one set of statistics per policy, in order. */
  reports: DecisionReport[];
  stats: PolicyStats[];
  comparison: Comparison | null;
}

export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  if (options.policies.length < 1 || options.policies.length > 2) throw new RangeError('replay takes one or two policies');
  let clock = Number.NEGATIVE_INFINITY;
  const guards: Guard[] = options.policies.map((policy) =>
    // random: no ban jitter, so a replay is deterministic.
    createGuard({ policy, store: new MemoryStore({ maxKeys: options.maxKeys ?? 100_000 }), now: () => clock, random: () => 0.5 }),
  );
  const reports = options.policies.map(() => createReportBuilder({ top: options.top ?? 10 }));
  const stats = options.policies.map((p) => createPolicyStats(p.id));
  const comparison = guards.length === 2 ? createComparison() : null;
  const skipped = createSkipped();
  let actions = 0;
  let outOfOrder = 0;
  const started = process.hrtime.bigint();
  const decisions: Decision[] = [];
  try {
    for await (const item of options.lines) {
      if (item.error !== undefined) {
        skipped.add(item.line, item.error);
        continue;
      }
      const record = readTrafficRecord(item.value, item.line);
      if (typeof record === 'string') {
        skipped.add(item.line, record);
        continue;
      }
      if (record.at < clock) outOfOrder++;
      else clock = record.at;
      decisions.length = 0;
      try {
        for (const guard of guards) decisions.push(await guard.evaluate(record.action));
      } catch (error) {
        // A malformed action is the line's problem (ActionError names the field); it is
        // refused before any state is touched, by every policy alike.
        if (isActiongateError(error) && error.code === 'ACTION_INVALID') {
          skipped.add(item.line, `invalid action: ${error.message}`);
          continue;
        }
        throw error;
      }
      actions++;
      decisions.forEach((decision, i) => {
        reports[i]!.add(decision);
        stats[i]!.add(record, decision);
      });
      comparison?.add(record, decisions[0]!, decisions[1]!);
      if (options.log) await options.log.write(decisions[0]);
      if ((actions & 1023) === 0) options.progress?.update(options.bytesRead?.() ?? 0, actions);
    }
  } finally {
    options.progress?.done();
    await Promise.all(guards.map((g) => g.close()));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    policies: options.policies.map((p) => p.id),
    actions,
    skipped: { count: skipped.count, first: skipped.first },
    outOfOrder,
    seconds,
    actionsPerSecond: seconds > 0 ? actions / seconds : 0,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    reports: reports.map((r) => r.build()),
    stats: stats.map((s) => s.build()),
    comparison: comparison?.build() ?? null,
  };
}

export const replayCommand: Command = {
  name: 'replay',
  summary: 'replay timestamped traffic through a policy (or compare two) on a virtual clock',
  help: `Usage: actiongate replay --policy FILE [--compare FILE2] [options] <traffic.ndjson | ->

Streams traffic (one JSON object a line: { "at", "action", "label"?, "verdict"?, "scenario"? },
see docs/cli.md) through the policy on a fresh in-memory store with a virtual clock set from
each line's "at", then prints the report: verdicts and reasons over time, top blocked subjects,
rate-limit violations, and with labels how much spam was stopped and how many legitimate
actions were hurt, with each rule's and limit's SpamAssassin-style hit rates (SPAM%, HAM%, S/O).

With --compare, both policies see the same stream (each on its own store) and the report shows
what changes: decisions changed, legitimate actions newly blocked or challenged, spam newly
stopped or let through, hit rates side by side.

Lines that are not JSON or not traffic are skipped (with their line numbers on stderr) and the
rest is processed. "-" reads stdin.

Options:
  --policy FILE        the policy (required)
  --compare FILE       a second policy to compare with the first
  --log FILE           write the first policy's decisions as NDJSON (for "actiongate report")
  --format text|json   output format (default: text)
  --top N              rows in top lists (default: 10)
  --max-keys N         subjects each in-memory store keeps (default: 100000)
  --no-progress        no progress bar (it is drawn on stderr only when stderr is a terminal)
  --strict             exit 1 when any line was skipped
  -h, --help           show this help

Exit status: 0 replayed, 1 an input problem (policy, missing file; with --strict a skipped
line), 2 a usage error.`,
  async run(args, io) {
    const parsed = parseCommandArgs(
      this,
      args,
      {
        policy: { type: 'string' }, compare: { type: 'string' }, log: { type: 'string' }, format: { type: 'string' },
        top: { type: 'string' }, 'max-keys': { type: 'string' }, 'no-progress': { type: 'boolean' }, strict: { type: 'boolean' },
      },
      io,
    );
    if (!parsed) return EXIT.ok;
    const { values, positionals } = parsed;
    if (!values.policy) throw usageError(this, 'actiongate replay: --policy FILE is required');
    if (positionals.length !== 1) throw usageError(this, 'actiongate replay: name one traffic file (or - for stdin)');
    const format = choiceFlag(this, 'format', values.format, ['text', 'json'] as const, 'text');
    const top = integerFlag(this, 'top', values.top, 10, 1, 1000);
    const maxKeys = integerFlag(this, 'max-keys', values['max-keys'], 100_000, 1, 100_000_000);
    const file = positionals[0]!;
    if (values.log) await refuseOverwritingInput(this, 'log', values.log, [file, values.policy, values.compare]);
    const policies = [await loadPolicy(values.policy)];
    if (values.compare) policies.push(await loadPolicy(values.compare));
    const result = await runReplay(io, file, policies, { top, maxKeys, progress: values['no-progress'] !== true, ...(values.log ? { log: values.log } : {}) });
    io.out(format === 'json' ? `${printableJson({ file, ...result }, 2)}\n` : `${renderReplay(file, result)}\n`);
    for (const line of describeSkipped(file, result.skipped)) io.err(`${line}\n`);
    return values.strict && result.skipped.count > 0 ? EXIT.input : EXIT.ok;
  },
};

/** Opens the input (and the log), replays, closes: the part `demo` shares. */
export async function runReplay(
  io: Io,
  file: string,
  policies: CompiledPolicy[],
  options: { top?: number; maxKeys?: number; progress?: boolean; log?: string },
): Promise<ReplayResult> {
  let bytes = 0;
  const input = await openNdjson(file, { onBytes: (n) => (bytes = n) });
  const log = options.log ? createNdjsonWriter(options.log) : undefined;
  try {
    return await replay({
      policies,
      lines: input.lines,
      ...(log ? { log } : {}),
      progress: createProgress(io, input.size, io.errIsTty && options.progress !== false),
      bytesRead: () => bytes,
      ...(options.top !== undefined ? { top: options.top } : {}),
      ...(options.maxKeys !== undefined ? { maxKeys: options.maxKeys } : {}),
    });
  } finally {
    await log?.close();
  }
}
