/**
 * `actiongate synthetic`: writes the seeded synthetic classified-ads traffic (synthetic.ts) in
 * the replay format, to try `replay` without real logs and to benchmark it at any size.
 */
import { CliError, EXIT, integerFlag, parseCommandArgs, usageError, type Command } from './command.js';
import { createNdjsonWriter, type NdjsonWriter } from './ndjson.js';
import { syntheticStream, syntheticTraffic } from './synthetic.js';

/** Writes `actions` synthetic traffic lines through `writer`. */
export async function writeSynthetic(writer: NdjsonWriter, options: { actions: number; seed?: number }): Promise<number> {
  let written = 0;
  for (const item of syntheticStream(options)) {
    await writer.write({ at: item.at, action: item.action, label: item.label, scenario: item.scenario });
    written++;
  }
  return written;
}

/** A writer on a stream the process does not own (stdout): waits for 'drain', never ends it. */
function streamWriter(stream: NodeJS.WritableStream): NdjsonWriter {
  return {
    write(value) {
      if (!stream.write(`${JSON.stringify(value)}\n`)) return new Promise<void>((resolve) => stream.once('drain', () => resolve()));
    },
    close: async () => {},
  };
}

export const syntheticCommand: Command = {
  name: 'synthetic',
  summary: 'write seeded synthetic ad traffic (labelled spam/ham) in the replay format',
  help: `Usage: actiongate synthetic [--actions N] [--seed N] [--out FILE]

Writes labelled synthetic traffic for a classified-ads site (legitimate users of every account
tier; a flood from one IP, IPv6 rotation in one /64, a listed range, a duplicate-ad campaign,
forged X-Forwarded-For, spam content), one traffic line per action in time order: the input
"actiongate replay" reads. Day after day of the same site until N actions; deterministic for a
seed.

Options:
  --actions N    how many actions (default: one day, 1,390 actions at the default seed)
  --seed N       the seed (default: 42)
  --out FILE     write to FILE instead of stdout
  -h, --help     show this help`,
  async run(args, io) {
    const parsed = parseCommandArgs(this, args, { actions: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' } }, io);
    if (!parsed) return EXIT.ok;
    // `synthetic out.ndjson` would otherwise pour the traffic onto the terminal.
    if (parsed.positionals.length > 0) throw usageError(this, `actiongate synthetic: takes no file argument, got ${JSON.stringify(parsed.positionals[0])} (write to a file with --out FILE)`);
    const seed = integerFlag(this, 'seed', parsed.values.seed, 42, 0, 2 ** 32 - 1);
    // One day at this seed, unless a count is asked for.
    const actions = parsed.values.actions === undefined ? syntheticTraffic({ seed }).length : integerFlag(this, 'actions', parsed.values.actions, 1, 1, 100_000_000);
    const writer = parsed.values.out ? createNdjsonWriter(parsed.values.out) : io.stdout ? streamWriter(io.stdout) : null;
    if (!writer) throw new CliError('actiongate synthetic: no output stream', EXIT.input);
    const written = await writeSynthetic(writer, { seed, actions });
    await writer.close();
    if (parsed.values.out) io.err(`actiongate synthetic: wrote ${written} actions to ${parsed.values.out}\n`);
    return EXIT.ok;
  },
};
