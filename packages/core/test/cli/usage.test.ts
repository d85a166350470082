import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bin, ensureBuilt, fixture, root, run } from './bin.js';

beforeAll(ensureBuilt, 200_000);

const COMMANDS = ['validate', 'explain', 'replay', 'report', 'demo', 'synthetic'];
const policy = relative(root, fixture('policy.json'));

describe('actiongate usage and exit codes', () => {
  it('prints the command list: on --help to stdout (exit 0), without a command to stderr (exit 2)', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const command of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('Usage: actiongate <command>');
  });

  it('refuses an unknown command with exit 2', async () => {
    const { code, stderr } = await run(['replya']);
    expect(code).toBe(2);
    expect(stderr).toContain('actiongate: unknown command "replya"');
  });

  it.each(COMMANDS)('%s --help shows its usage and exits 0', async (command) => {
    const { code, stdout } = await run([command, '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^Usage: actiongate ${command} `));
    expect(stdout).toContain('-h, --help');
  });

  it.each(COMMANDS)('%s refuses an unknown flag with exit 2 and its usage', async (command) => {
    const { code, stderr, stdout } = await run([command, '--bogus', 'x']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`actiongate ${command}: Unknown option '--bogus'`);
    expect(stderr).toContain(`Usage: actiongate ${command} `);
  });

  it('refuses missing required flags and bad flag values with exit 2', async () => {
    const noPolicy = await run(['replay', fixture('traffic.ndjson')]);
    expect(noPolicy.code).toBe(2);
    expect(noPolicy.stderr).toContain('--policy FILE is required');
    const format = await run(['report', '--format', 'pdf', fixture('decisions.ndjson')]);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('--format must be one of text, json, html, got "pdf"');
    const top = await run(['replay', '--policy', policy, '--top', 'many', fixture('traffic.ndjson')]);
    expect(top.code).toBe(2);
    expect(top.stderr).toContain('--top must be a whole number from 1 to 1000, got "many"');
    const files = await run(['validate']);
    expect(files.code).toBe(2);
  });

  it('refuses an argument a command does not take with exit 2, instead of ignoring it', async () => {
    // `synthetic out.ndjson` used to write the traffic to the terminal and exit 0.
    const synthetic = await run(['synthetic', '--actions', '3', 'out.ndjson']);
    expect(synthetic.code).toBe(2);
    expect(synthetic.stdout).toBe('');
    expect(synthetic.stderr).toContain('actiongate synthetic: takes no file argument, got "out.ndjson" (write to a file with --out FILE)');
    const demo = await run(['demo', 'policy.json']);
    expect(demo.code).toBe(2);
    expect(demo.stdout).toBe('');
    expect(demo.stderr).toContain('actiongate demo: takes no argument, got "policy.json"');
    const model = await run(['model', 'stats', '--policy', policy, 'extra.json']);
    expect(model.code).toBe(2);
    expect(model.stderr).toContain('actiongate model stats: takes no file argument, got "extra.json"');
  });

  it('reports a missing input file with exit 1 and the path', async () => {
    const replay = await run(['replay', '--policy', policy, 'no/such/traffic.ndjson']);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toContain('cannot read no/such/traffic.ndjson: ENOENT');
    const report = await run(['report', 'no/such/decisions.ndjson']);
    expect(report.code).toBe(1);
    expect(report.stderr).toContain('cannot read no/such/decisions.ndjson: ENOENT');
    const explain = await run(['explain', '--policy', policy, 'no/such/action.json']);
    expect(explain.code).toBe(1);
    expect(explain.stderr).toContain('cannot read no/such/action.json: ENOENT');
    const missingPolicy = await run(['replay', '--policy', 'no/such/policy.json', fixture('traffic.ndjson')]);
    expect(missingPolicy.code).toBe(1);
    expect(missingPolicy.stderr).toContain('cannot read the policy file');
  });

  it('says so when a decision log is given to replay, or traffic to report', async () => {
    const replay = await run(['replay', '--policy', policy, fixture('decisions.ndjson')]);
    expect(replay.code).toBe(0);
    expect(replay.stderr).toContain('decisions.ndjson:1: a decision-log line, not traffic ("actiongate report" reads decision logs)');
    const report = await run(['report', fixture('traffic.ndjson')]);
    expect(report.stderr).toContain('traffic.ndjson:1: a traffic line, not a decision ("actiongate replay" reads traffic)');
  });

  it('a directory redirected into stdin ("-") is exit 1 saying so, not an empty log reported as "No decisions."', () => {
    const dir = openSync(root, 'r');
    try {
      for (const args of [['report', '-'], ['replay', '--policy', policy, '-']]) {
        const { status, stdout, stderr } = spawnSync(process.execPath, [bin, ...args], { cwd: root, stdio: [dir, 'pipe', 'pipe'], encoding: 'utf8' });
        expect(status).toBe(1);
        expect(stdout).toBe('');
        expect(stderr).toContain('stdin is a directory: redirect a file into it');
      }
    } finally {
      closeSync(dir);
    }
  });

  // /dev/full: every write fails with ENOSPC, as a redirect to a full disk does.
  it.skipIf(!existsSync('/dev/full'))('an output that cannot be written (stdout on a full disk) is one line and exit 1, not an uncaught stack trace', () => {
    const full = openSync('/dev/full', 'w');
    try {
      for (const args of [['report', fixture('decisions.ndjson')], ['synthetic', '--actions', '50000']]) {
        const { status, stderr } = spawnSync(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
        expect(status).toBe(1);
        expect(stderr).toContain('actiongate: cannot write the output: ENOSPC: no space left on device');
        expect(stderr).not.toMatch(/^\s+at /m);
      }
    } finally {
      closeSync(full);
    }
  });

  it('reports an invalid policy given to replay with its problems and exit 1', async () => {
    const { code, stderr } = await run(['replay', '--policy', fixture('bad-policy.json'), fixture('traffic.ndjson')]);
    expect(code).toBe(1);
    expect(stderr).toContain('/limits/1/window: "5 minutes" is not a duration');
  });
});
