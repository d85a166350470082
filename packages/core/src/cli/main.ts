#!/usr/bin/env node
/**
 * The `actiongate` command line. Commands are small modules; this file only parses arguments
 * and maps errors to exit codes (1: the input is wrong, 2: usage).
 */
import { parseArgs } from 'node:util';
import { isActiongateError } from '../errors.js';
import { runDemo } from './demo.js';

const HELP = `Usage: actiongate <command> [options]

Commands:
  demo [--policy FILE] [--seed N]   replay seeded synthetic ad traffic through a policy and print a report

Options:
  -h, --help                        show this help`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    console.log(HELP);
    return command ? 0 : 2;
  }
  switch (command) {
    case 'demo': {
      const { values } = parseArgs({ args: rest, options: { policy: { type: 'string', default: 'rules/classifieds.json' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
      if (values.help) {
        console.log('Usage: actiongate demo [--policy FILE] [--seed N]');
        return 0;
      }
      const result = await runDemo({ policy: values.policy, ...(values.seed ? { seed: Number(values.seed) } : {}) });
      console.log(result.text);
      return 0;
    }
    default:
      console.error(`actiongate: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(isActiongateError(error) ? error.message : error);
    process.exitCode = 1;
  },
);
