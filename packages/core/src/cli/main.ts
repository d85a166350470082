#!/usr/bin/env node
/**
 * The `actiongate` bin: finds the command and maps what it throws to an exit code (0 ok,
 * 1 the input is wrong, 2 the command line is wrong). Each command is its own module exporting
 * a `Command`; adding one is one import and one entry in `COMMANDS`.
 */
import { isActiongateError } from '../errors.js';
import { CliError, EXIT, type Command, type Io } from './command.js';
import { demoCommand } from './demo.js';
import { explainCommand } from './explain.js';
import { modelCommand } from './model.js';
import { replayCommand } from './replay.js';
import { reportCommand } from './report.js';
import { syntheticCommand } from './synthetic-command.js';
import { printableLines } from './terminal.js';
import { validateCommand } from './validate.js';

const COMMANDS: readonly Command[] = [validateCommand, explainCommand, replayCommand, reportCommand, demoCommand, syntheticCommand, modelCommand];

const help = () => `Usage: actiongate <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

Run "actiongate <command> --help" for a command's options.
Exit status: 0 ok, 1 an input problem (invalid policy, missing file…), 2 a usage error.`;

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    (name === undefined ? io.err : io.out)(`${help()}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`actiongate: unknown command "${name}"\n\n${help()}\n`);
    return EXIT.usage;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    // Messages quote their input (an ActionError names the offending field, whose key is the
    // client's): escaped like every other text from traffic before it reaches a terminal.
    if (error instanceof CliError) {
      io.err(`${printableLines(error.message)}\n`);
      return error.exitCode;
    }
    // PolicyError, ActionError, StoreError: the input (or the store named in it) is the problem.
    if (isActiongateError(error)) {
      io.err(`actiongate ${name}: ${printableLines(error.message)}\n`);
      return EXIT.input;
    }
    throw error;
  }
}

const io: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  errIsTty: process.stderr.isTTY === true,
  stdout: process.stdout,
};

// `actiongate report log | head`: a closed pipe ends the output, it is not a failure. Any other
// write error (`report log > out.txt` on a full disk: ENOSPC) is the output's problem, said in
// one line with exit 1 as for --out, not thrown from this listener as an uncaught stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(EXIT.ok);
  process.stderr.write(`actiongate: cannot write the output: ${error.message}\n`);
  process.exit(EXIT.input);
});

main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('actiongate: unexpected failure (please report it):', error);
    process.exitCode = EXIT.input;
  },
);
