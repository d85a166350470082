/**
 * What every `actiongate` command shares: the command shape `main.ts` dispatches to, the two
 * ways a command fails (exit 1: the input is wrong; exit 2: the command line is wrong), and
 * flag parsing on `node:util`'s `parseArgs` with those failures mapped to the right exit code.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Exit codes of the bin: documented in docs/cli.md. */
export const EXIT = { ok: 0, input: 1, usage: 2 } as const;

/** Where a command writes. The bin passes the process streams; nothing else is global. */
export interface Io {
  /** Results: what a pipe or a redirect should receive. */
  out(text: string): void;
  /** Diagnostics, warnings and the progress bar. */
  err(text: string): void;
  /** True when stderr is a terminal (the progress bar is drawn only then). */
  readonly errIsTty: boolean;
  /** stdout as a stream, for commands that write more than fits in memory (they wait for 'drain'). */
  readonly stdout?: NodeJS.WritableStream;
}

export interface Command {
  name: string;
  /** One line for `actiongate --help`. */
  summary: string;
  /** The command's `--help` text. */
  help: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[], io: Io): Promise<number>;
}

/**
 * A failure the bin reports as one message and an exit code, without a stack trace: a missing
 * file, a malformed flag value. (`ActiongateError`s from the library — a `PolicyError`, an
 * `ActionError` — are input problems too and are printed the same way.)
 */
export class CliError extends Error {
  readonly exitCode: 1 | 2;

  constructor(message: string, exitCode: 1 | 2 = EXIT.input, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A command line that cannot be run: exit 2, with the command's usage after the message. */
export const usageError = (command: Command | string, message: string): CliError =>
  new CliError(`${message}\n\n${typeof command === 'string' ? command : command.help}`, EXIT.usage);

type Options = NonNullable<ParseArgsConfig['options']>;
/** The flag values `parseArgs` gives for `O`. */
export type FlagValues<O extends Options> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values'];

/** Parsed flags and positionals, or `null` when `--help` was asked for (and printed). */
export function parseCommandArgs<const O extends Options>(command: Command, args: string[], options: O, io: Io): { values: FlagValues<O>; positionals: string[] } | null {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs names the flag ("Unknown option '--polcy'"); its advice about `--` is noise here.
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw usageError(command, `actiongate ${command.name}: ${message}`);
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.out(`${command.help}\n`);
    return null;
  }
  return { values: parsed.values as FlagValues<O>, positionals: parsed.positionals };
}

/** A flag that must be a whole number in a range (`--top 10`). */
export function integerFlag(command: Command, flag: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw usageError(command, `actiongate ${command.name}: --${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

/** A flag that takes one of a few words (`--format text|json|html`). */
export function choiceFlag<T extends string>(command: Command, flag: string, value: string | undefined, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) throw usageError(command, `actiongate ${command.name}: --${flag} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}
