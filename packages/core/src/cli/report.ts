/**
 * `actiongate report <decisions.ndjson>`: the decision log (what `createNdjsonSink` or
 * `replay --log` writes) read line by line into the operator's report, as text, JSON, or one
 * self-contained HTML page with charts.
 */
import { writeFile } from 'node:fs/promises';
import { createReportBuilder, type DecisionReport } from './aggregate.js';
import { choiceFlag, CliError, EXIT, integerFlag, parseCommandArgs, usageError, type Command } from './command.js';
import { readLoggedDecision } from './log-line.js';
import { createSkipped, describeSkipped, openNdjson, refuseOverwritingInput, type SkippedLines } from './ndjson.js';
import { renderHtmlReport } from './render-html.js';
import { renderDecisionReport } from './render-text.js';
import { printableJson } from './terminal.js';

export interface LogReport {
  report: DecisionReport;
  skipped: SkippedLines;
}

/** Reads a decision log (`-` = stdin) into a report; lines that are not decisions are skipped and counted. */
export async function reportFromLog(path: string, options: { top?: number } = {}): Promise<LogReport> {
  const builder = createReportBuilder(options.top !== undefined ? { top: options.top } : {});
  const skipped = createSkipped();
  for await (const item of (await openNdjson(path)).lines) {
    if (item.error !== undefined) {
      skipped.add(item.line, item.error);
      continue;
    }
    const decision = readLoggedDecision(item.value);
    if (typeof decision === 'string') skipped.add(item.line, decision);
    else builder.add(decision);
  }
  return { report: builder.build(), skipped: { count: skipped.count, first: skipped.first } };
}

export const reportCommand: Command = {
  name: 'report',
  summary: 'summarise a decision log: verdicts and reasons over time, top blocked subjects, limits (text, json or html)',
  help: `Usage: actiongate report [--format text|json|html] [--out FILE] [--top N] <decisions.ndjson | ->

Reads a decision log (one Decision as JSON a line: what createNdjsonSink and "replay --log"
write) and reports decisions by verdict (by policy too, when the log spans more than one) and
by reason over time, the most blocked IPs, subnets and actors with their bans and ban ends,
rate-limit violations, allowed submissions, challenges (with an inferred pass rate: the log
does not record passChallenge calls) and degraded decisions. Counts stay exact up to 1,024 distinct keys per list and are bounded estimates
beyond (memory stays bounded for any log size).

--format html writes one self-contained page (inline CSS, SVG charts and script; no network
access) with verdicts over time, top reasons and top subjects.

Lines that are not JSON or not decisions are skipped (line numbers on stderr); the rest is
reported. "-" reads stdin.

Options:
  --format text|json|html   output format (default: text)
  --out FILE                write the report to FILE instead of stdout
  --top N                   rows in top lists (default: 10)
  --strict                  exit 1 when any line was skipped
  -h, --help                show this help

Exit status: 0 reported, 1 an input problem (missing file; with --strict a skipped line), 2 a
usage error.`,
  async run(args, io) {
    const parsed = parseCommandArgs(this, args, { format: { type: 'string' }, out: { type: 'string' }, top: { type: 'string' }, strict: { type: 'boolean' } }, io);
    if (!parsed) return EXIT.ok;
    const { values, positionals } = parsed;
    const format = choiceFlag(this, 'format', values.format, ['text', 'json', 'html'] as const, 'text');
    const top = integerFlag(this, 'top', values.top, 10, 1, 1000);
    if (positionals.length !== 1) throw usageError(this, 'actiongate report: name one decision log (or - for stdin)');
    const file = positionals[0]!;
    if (values.out) await refuseOverwritingInput(this, 'out', values.out, [file]);
    const { report, skipped } = await reportFromLog(file, { top });
    const output =
      format === 'json'
        ? `${printableJson({ file, skipped, ...report }, 2)}\n`
        : format === 'html'
          ? renderHtmlReport(report, { source: file })
          : `${renderDecisionReport(report, `Actiongate report: ${file}`)}\n`;
    if (values.out) {
      try {
        await writeFile(values.out, output);
      } catch (error) {
        throw new CliError(`actiongate report: cannot write ${values.out}: ${(error as Error).message}`, EXIT.input, { cause: error });
      }
      io.err(`actiongate report: wrote ${values.out}\n`);
    } else io.out(output);
    for (const line of describeSkipped(file, skipped)) io.err(`${line}\n`);
    return values.strict && skipped.count > 0 ? EXIT.input : EXIT.ok;
  },
};
