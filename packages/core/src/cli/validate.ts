/**
 * `actiongate validate <policy…>`: every problem of every policy file, located by JSON pointer
 * and by line and column, the way compilers report (`file:line:column: error: …`), plus the
 * warnings of valid but suspicious policies. Exit 1 when any file has an error.
 */
import { dirname, resolve } from 'node:path';
import { isActiongateError, type PolicyError, type PolicyProblem } from '../errors.js';
import { compilePolicy } from '../policy/compile.js';
import { jsonErrorOffset, withoutBom } from '../policy/load.js';
import { MAX_POLICY_FILE_BYTES, policyFileReader, readTextFile } from '../policy/files.js';
import { policyWarnings } from '../policy/warnings.js';
import { choiceFlag, EXIT, parseCommandArgs, usageError, type Command } from './command.js';
import { createLocator, positionOf } from './locate.js';
import { printable, printableJson } from './terminal.js';

export interface Finding {
  severity: 'error' | 'warning';
  /** JSON pointer into the policy (`""`: the whole file). */
  pointer: string;
  line: number;
  column: number;
  message: string;
  /** The rule's name, for findings inside a rule. */
  rule?: string;
}

export interface FileResult {
  file: string;
  valid: boolean;
  /** `name@version` when the policy compiled. */
  policy?: string;
  findings: Finding[];
  /** What the policy holds, when it compiled. */
  counts?: { lists: number; listEntries: number; limits: number; rules: number };
}

/** Validates one policy file. Never throws: an unreadable file is an error finding. */
export async function validateFile(file: string): Promise<FileResult> {
  let text: string;
  try {
    text = await readTextFile(file, MAX_POLICY_FILE_BYTES);
  } catch (error) {
    return { file, valid: false, findings: [{ severity: 'error', pointer: '', line: 1, column: 1, message: `cannot read the policy file: ${(error as Error).message}` }] };
  }
  let document: unknown;
  try {
    document = JSON.parse(withoutBom(text));
  } catch (error) {
    const at = positionOf(text, jsonErrorOffset(text));
    return { file, valid: false, findings: [{ severity: 'error', pointer: '', ...at, message: `not valid JSON: ${(error as Error).message}` }] };
  }
  const locator = createLocator(text);
  const finding = (severity: Finding['severity'], problem: PolicyProblem): Finding => ({
    severity,
    pointer: problem.pointer,
    ...locator.locate(problem.pointer),
    message: problem.message,
    ...(problem.rule !== undefined ? { rule: problem.rule } : {}),
  });
  const byPosition = (a: Finding, b: Finding) => a.line - b.line || a.column - b.column;
  try {
    const policy = compilePolicy(document, { file });
    const warnings = [...policy.warnings, ...policyWarnings(policy.document, { readFile: policyFileReader(dirname(resolve(file))) })];
    return {
      file,
      valid: true,
      policy: policy.id,
      findings: warnings.map((w) => finding('warning', w)).sort(byPosition),
      counts: { lists: policy.lists.ids.length, listEntries: policy.lists.size, limits: policy.limits.length, rules: policy.document.rules?.length ?? 0 },
    };
  } catch (error) {
    // By code, not instanceof: a second copy of the package would make instanceof lie.
    if (isActiongateError(error) && error instanceof Error && 'problems' in error) {
      return { file, valid: false, findings: (error as PolicyError).problems.map((p) => finding('error', p)).sort(byPosition) };
    }
    throw error;
  }
}

const plural = (n: number, word: string, words = `${word}s`) => `${n} ${n === 1 ? word : words}`;

/** Compiler-style lines for one file, then its summary line. */
export function formatFileResult(result: FileResult): string[] {
  const lines = result.findings.map((f) =>
    printable(`${result.file}:${f.line}:${f.column}: ${f.severity}: ${f.pointer ? `${f.pointer}: ` : ''}${f.message}${f.rule !== undefined ? ` [rule ${JSON.stringify(f.rule)}]` : ''}`),
  );
  const errors = result.findings.filter((f) => f.severity === 'error').length;
  const warnings = result.findings.length - errors;
  if (result.valid && result.counts) {
    const c = result.counts;
    lines.push(
      printable(`${result.file}: ${result.policy} is valid${warnings ? ` with ${plural(warnings, 'warning')}` : ''} (${plural(c.lists, 'list')} of ${plural(c.listEntries, 'entry', 'entries')}, ${plural(c.limits, 'limit')}, ${plural(c.rules, 'rule')})`),
    );
  } else {
    lines.push(`${result.file}: invalid (${plural(errors, 'error')}${warnings ? `, ${plural(warnings, 'warning')}` : ''})`);
  }
  return lines;
}

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check policy files: every error and warning with its line, column and JSON pointer',
  help: `Usage: actiongate validate [--format text|json] <policy.json…>

Checks each policy file against the schema and compiles it (list files, regexes, rules), then
looks for valid but suspicious parts. Prints every problem as file:line:column: severity:
/json/pointer: message.

Warnings: a limit shadowed by a stricter one, tiers or ban rungs in the wrong order, challenge
and block thresholds that leave no room for a challenge, list entries that are invalid or
inside other entries (with the list file's line numbers), and json-rules-engine traps.

Options:
  --format text|json   output format (default: text)
  -h, --help           show this help

Exit status: 0 when every file is valid (warnings allowed), 1 when any file has an error, 2 on a
usage error.`,
  async run(args, io) {
    const parsed = parseCommandArgs(this, args, { format: { type: 'string' } }, io);
    if (!parsed) return EXIT.ok;
    const format = choiceFlag(this, 'format', parsed.values.format, ['text', 'json'] as const, 'text');
    if (parsed.positionals.length === 0) throw usageError(this, 'actiongate validate: name at least one policy file');
    const results: FileResult[] = [];
    for (const file of parsed.positionals) results.push(await validateFile(file));
    if (format === 'json') io.out(`${printableJson({ valid: results.every((r) => r.valid), files: results }, 2)}\n`);
    else io.out(`${results.flatMap(formatFileResult).join('\n')}\n`);
    return results.every((r) => r.valid) ? EXIT.ok : EXIT.input;
  },
};
