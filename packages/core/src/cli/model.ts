/**
 * `actiongate model train|export|import|stats`: the content model of a policy
 * (`content.model`) handled from the command line, against the store the guards use, so every
 * process sees what the command did: batch training from a labelled NDJSON file, export to a
 * file, import (merge) from one, and the model's counts. The model settings (name, buckets,
 * window, fields) come from the policy, exactly as `createGuard` reads them.
 */
import { writeFile } from 'node:fs/promises';
import { createContentModel, type ContentModel, type ModelInput, type ModelLabel } from '../content/model.js';
import { FileTooLargeError, loadPolicy, readTextFile } from '../policy/load.js';
import { CliError, EXIT, integerFlag, parseCommandArgs, usageError, type Command, type Io } from './command.js';
import { openNdjson, refuseOverwritingInput } from './ndjson.js';
import { openStore, type OpenedStore } from './store-url.js';

const HELP = `Usage:
  actiongate model train --policy <policy.json> --labelled <file.ndjson> [--store <url>] [--out <model.json>]
  actiongate model export --policy <policy.json> [--store <url>] [--out <model.json>]
  actiongate model import --policy <policy.json> [--store <url>] <model.json>
  actiongate model stats --policy <policy.json> [--store <url>]

The content model of a policy (its content.model section), in the store the guards share.

  train    learns every line of a labelled NDJSON file: {"label":"spam"|"ham","content":{"title":…,"body":…}}
           (or "content" as one string, or the lines of "actiongate synthetic": {"label":…,"action":{"content":…}}).
           The whole file is checked first; nothing is learned from a file with a bad line.
  export   writes the model's counts as JSON (to stdout without --out)
  import   adds the counts of an exported model to the store (merging with what is there)
  stats    examples learned, buckets used, whether the model predicts yet

Options:
  --policy <file>     the policy whose content.model is meant (required)
  --store <url>       redis:// or rediss:// URL of the guards' store; without it a fresh
                      in-memory store, which only --out keeps
  --prefix <prefix>   the RedisStore key prefix the application uses (default ag)
  --labelled <file>   train: the labelled examples (a file: not "-", it is read twice)
  --out <file>        train, export: write the model file there
  --batch <n>         train: examples learned per store write (default 5000)
  -h, --help          this help`;

const FLAGS = {
  policy: { type: 'string' },
  store: { type: 'string' },
  prefix: { type: 'string' },
  labelled: { type: 'string' },
  out: { type: 'string' },
  batch: { type: 'string' },
} as const;

export const modelCommand: Command = {
  name: 'model',
  summary: 'train, export, import the content model shared through the store',
  help: HELP,
  async run(args, io) {
    const parsed = parseCommandArgs(modelCommand, args, FLAGS, io);
    if (!parsed) return EXIT.ok;
    const { values, positionals } = parsed;
    const [action, ...rest] = positionals;
    if (!action || !['train', 'export', 'import', 'stats'].includes(action)) {
      throw usageError(modelCommand, `actiongate model: expected train, export, import or stats, got ${action === undefined ? 'nothing' : JSON.stringify(action)}`);
    }
    if (!values.policy) throw usageError(modelCommand, 'actiongate model: --policy is required');
    if (action === 'train' && !values.labelled) throw usageError(modelCommand, 'actiongate model train: --labelled is required');
    // Training reads the file twice (every line is checked before any is learned): stdin would be
    // empty the second time, and "learned 0 examples" would pass for a training.
    if (action === 'train' && values.labelled === '-') throw usageError(modelCommand, 'actiongate model train: --labelled must be a file, not stdin (it is read twice: checked, then learned)');
    if (action === 'import' && rest.length !== 1) throw usageError(modelCommand, 'actiongate model import: give one model file');
    if (action !== 'import' && rest.length > 0) throw usageError(modelCommand, `actiongate model ${action}: takes no file argument, got ${JSON.stringify(rest[0])}`);
    const batch = integerFlag(modelCommand, 'batch', values.batch, 5_000, 1, 1_000_000);
    if (values.out) await refuseOverwritingInput(modelCommand, 'out', values.out, [values.labelled, values.policy, ...rest]);

    const policy = await loadPolicy(values.policy);
    const settings = policy.content.model;
    if (!settings) throw new CliError(`actiongate model: ${values.policy} has no content.model section: add one (for example "model": { "name": "${policy.name}" }) to give the policy a model`);
    const opened = await openStore(values.store, values.prefix !== undefined ? { prefix: values.prefix } : {});
    try {
      const model = createContentModel(settings, opened.store);
      await model.sync();
      switch (action) {
        case 'train':
          await train(model, values.labelled!, batch, io);
          if (!values.store && !values.out) io.err('actiongate model train: nothing kept (no --store and no --out)\n');
          if (values.out) await writeModel(model, values.out);
          break;
        case 'export':
          if (values.out) await writeModel(model, values.out);
          else io.out(`${JSON.stringify(await model.export())}\n`);
          break;
        case 'import':
          await model.import(await readModelFile(rest[0]!));
          break;
      }
      if (action !== 'export' || values.out) io.out(`${describe(model, opened)}\n`);
      return EXIT.ok;
    } finally {
      await opened.close();
    }
  },
};

function describe(model: ContentModel, opened: OpenedStore): string {
  const s = model.stats();
  return `model "${s.name}" in ${opened.label}: ${s.spam} spam and ${s.ham} ham examples, ${s.usedBuckets} of ${s.buckets} buckets used; ${s.ready ? 'ready (predicting)' : 'inert (learning, not predicting yet)'}`;
}

/** One labelled example from a line, or why the line is not one. */
export function readExample(value: unknown): { content: ModelInput; label: ModelLabel } | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const record = value as Record<string, unknown>;
  const label = record.label;
  if (label !== 'spam' && label !== 'ham') return `"label" must be "spam" or "ham", got ${JSON.stringify(label) ?? 'nothing'}`;
  const action = record.action;
  const content = record.content ?? (typeof action === 'object' && action !== null ? (action as Record<string, unknown>).content : undefined);
  if (typeof content === 'string') return { content, label };
  if (typeof content !== 'object' || content === null || Array.isArray(content)) return '"content" must be a string or an object of string fields';
  for (const [field, text] of Object.entries(content)) {
    if (typeof text !== 'string') return `content field "${field}" must be a string, got ${typeof text}`;
  }
  return { content: content as Record<string, string>, label };
}

async function train(model: ContentModel, file: string, batch: number, io: Io): Promise<void> {
  // First pass: every line is checked before anything is learned.
  const problems: string[] = [];
  let lines = 0;
  for await (const item of (await openNdjson(file)).lines) {
    lines++;
    const example = item.error ?? readExample(item.value);
    if (typeof example === 'string' && problems.push(`${file}:${item.line}: ${example}`) >= 5) break;
  }
  if (problems.length > 0) throw new CliError(`actiongate model train: nothing learned, ${file} has bad lines:\n  ${problems.join('\n  ')}`, EXIT.input);
  if (lines === 0) throw new CliError(`actiongate model train: ${file} has no examples`, EXIT.input);
  let pending: { content: ModelInput; label: ModelLabel }[] = [];
  let learned = 0;
  for await (const item of (await openNdjson(file)).lines) {
    pending.push(readExample(item.value) as { content: ModelInput; label: ModelLabel });
    if (pending.length >= batch) {
      learned += sum(await model.learnMany(pending));
      pending = [];
    }
  }
  if (pending.length > 0) learned += sum(await model.learnMany(pending));
  io.err(`learned ${learned} examples from ${file}\n`);
}

const sum = (counts: { spam: number; ham: number }) => counts.spam + counts.ham;

async function writeModel(model: ContentModel, path: string): Promise<void> {
  try {
    await writeFile(path, `${JSON.stringify(await model.export())}\n`);
  } catch (error) {
    throw new CliError(`cannot write ${path}: ${(error as Error).message}`, EXIT.input, { cause: error });
  }
}

/**
 * The largest model file read. An export of the largest model (1,048,576 buckets, every one
 * counted in both classes) is about 50 MB; a bigger file is not one, and reading and parsing
 * hundreds of MB of JSON could exhaust the heap before the file is checked.
 */
const MAX_MODEL_FILE_BYTES = 128 * 1024 * 1024;

async function readModelFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readTextFile(path, MAX_MODEL_FILE_BYTES);
  } catch (error) {
    if (error instanceof FileTooLargeError) {
      const size = error.bytes === undefined ? `more than ${MAX_MODEL_FILE_BYTES} bytes` : `${error.bytes} bytes`;
      throw new CliError(`${path} is not a model file: ${size}, more than the ${MAX_MODEL_FILE_BYTES} (128 MB) a model file can take`, EXIT.input);
    }
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, EXIT.input, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${path} is not a model file (not JSON: ${(error as Error).message})`, EXIT.input, { cause: error });
  }
}
