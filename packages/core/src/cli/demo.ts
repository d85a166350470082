/**
 * `actiongate demo` (`pnpm demo`): the operator's loop on bundled synthetic traffic, with the
 * real commands: validate the policy, write a day of labelled traffic, replay it (with the
 * decision log), explain one spam action as the replay met it, and report the log as text and
 * as the HTML page, whose path is printed. Each step prints the command that reproduces it.
 */
import { existsSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadPolicy } from '../policy/load.js';
import { requireFromCore } from '../require.js';
import { CliError, EXIT, integerFlag, parseCommandArgs, usageError, type Command, type Io } from './command.js';
import { explain } from './explain.js';
import { renderExplanation } from './explain-text.js';
import { createNdjsonWriter } from './ndjson.js';
import { renderHtmlReport } from './render-html.js';
import { renderReplay } from './render-text.js';
import { reportFromLog } from './report.js';
import { runReplay } from './replay.js';
import { writeSynthetic } from './synthetic-command.js';
import { syntheticTraffic } from './synthetic.js';
import { formatFileResult, validateFile } from './validate.js';

export interface DemoOptions {
  policy: string;
  /** @default 42 */
  seed?: number;
  /** Where the traffic, the decision log and the HTML report go. @default <tmpdir>/actiongate-demo */
  out?: string;
}

export interface DemoResult {
  /** Exit code: 1 when the policy is invalid. */
  code: number;
  files: { traffic: string; decisions: string; html: string } | null;
}

/**
 * `mkdir -p`, one level at a time. Node's own `{ recursive: true }` never returns for a path
 * under a file system that refuses new entries with ENOENT (`/proc/x`: it makes the parent,
 * which exists, and tries again, forever); here a level that still cannot be made after its
 * parent was is an error.
 */
async function makeDirectory(path: string): Promise<void> {
  try {
    await mkdir(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && (await stat(path)).isDirectory()) return;
    const parent = dirname(path);
    if (code !== 'ENOENT' || parent === path) throw error;
    await makeDirectory(parent);
    await mkdir(path).catch(async (again: NodeJS.ErrnoException) => {
      if (again.code !== 'EEXIST' || !(await stat(path)).isDirectory()) throw again;
    });
  }
}

export async function runDemo(options: DemoOptions, io: Io): Promise<DemoResult> {
  const out = options.out ?? join(tmpdir(), 'actiongate-demo');
  const seed = options.seed ?? 42;
  const files = { traffic: join(out, 'traffic.ndjson'), decisions: join(out, 'decisions.ndjson'), html: join(out, 'report.html') };
  const step = (command: string) => io.out(`\n$ actiongate ${command}\n`);
  try {
    await makeDirectory(out);
  } catch (error) {
    // A file of that name, or a place the user cannot write: the --out given is the problem.
    throw new CliError(`actiongate demo: cannot use ${out} as the output directory: ${(error as Error).message}`, EXIT.input, { cause: error });
  }

  step(`validate ${options.policy}`);
  const validation = await validateFile(options.policy);
  io.out(`${formatFileResult(validation).join('\n')}\n`);
  if (!validation.valid) return { code: EXIT.input, files: null };
  const policy = await loadPolicy(options.policy);

  const day = syntheticTraffic({ seed });
  step(`synthetic --seed ${seed} --out ${files.traffic}`);
  const writer = createNdjsonWriter(files.traffic);
  const written = await writeSynthetic(writer, { seed, actions: day.length });
  await writer.close();
  io.out(`${written} labelled ad submissions (${day.filter((a) => a.label === 'spam').length} spam) over one virtual day\n`);

  step(`replay --policy ${options.policy} --log ${files.decisions} ${files.traffic}`);
  const result = await runReplay(io, files.traffic, [policy], { log: files.decisions });
  io.out(`${renderReplay(files.traffic, result)}\n`);

  // The first spam-content submission the policy challenged or stopped, as the replay met it.
  const index = day.findIndex((a) => a.scenario === 'spam-content');
  if (index >= 0) {
    step(`explain --policy ${options.policy} --line ${index + 1} ${files.traffic}`);
    const target = day[index]!;
    const explanation = await explain({
      policy,
      action: target.action,
      at: target.at,
      before: (async function* () {
        for (const item of day.slice(0, index)) yield item;
      })(),
    });
    io.out(`${renderExplanation(explanation)}\n`);
  }

  step(`report --format html --out ${files.html} ${files.decisions}`);
  const { report } = await reportFromLog(files.decisions);
  await writeFile(files.html, renderHtmlReport(report, { source: files.decisions }));
  io.out(`HTML report (open it in a browser): ${files.html}\n`);
  return { code: EXIT.ok, files };
}

/**
 * The policy `demo` runs without `--policy`: `rules/classifieds.json` of the current directory
 * (this repository), else the copy `@actiongate/core` ships (an installed package).
 */
export function defaultDemoPolicy(): string {
  const local = join('rules', 'classifieds.json');
  if (existsSync(local)) return local;
  return requireFromCore.resolve('@actiongate/core/rules/classifieds.json');
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'validate, replay, explain and report on bundled synthetic traffic (writes an HTML report)',
  help: `Usage: actiongate demo [--policy FILE] [--seed N] [--out DIR]

Runs the operator's loop on a day of seeded synthetic classified-ads traffic: validate the
policy, write the traffic, replay it with a decision log, explain one spam submission, and
report the log as an HTML page (its path is printed). Each step prints its command.

Options:
  --policy FILE   the policy (default: rules/classifieds.json here, else the
                  reference policy shipped with @actiongate/core)
  --seed N        traffic seed (default: 42)
  --out DIR       where traffic.ndjson, decisions.ndjson and report.html go
                  (default: <tmp>/actiongate-demo)
  -h, --help      show this help`,
  async run(args, io) {
    const parsed = parseCommandArgs(this, args, { policy: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' } }, io);
    if (!parsed) return EXIT.ok;
    if (parsed.positionals.length > 0) throw usageError(this, `actiongate demo: takes no argument, got ${JSON.stringify(parsed.positionals[0])} (the policy is --policy FILE, the directory --out DIR)`);
    const seed = integerFlag(this, 'seed', parsed.values.seed, 42, 0, 2 ** 32 - 1);
    const result = await runDemo({ policy: parsed.values.policy ?? defaultDemoPolicy(), seed, ...(parsed.values.out ? { out: parsed.values.out } : {}) }, io);
    return result.code;
  },
};
