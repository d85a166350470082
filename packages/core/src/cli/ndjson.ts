/**
 * NDJSON in and out for the commands that stream (replay, report): a file is read chunk by
 * chunk and split into numbered lines, so a million-line log never sits in memory, and one bad
 * line is a numbered problem, not the end of the run. A line longer than `maxLineBytes` is
 * skipped without being buffered whole, so a file with no newline cannot exhaust memory either.
 * Output waits for the stream to drain, so writing a million decisions drops none.
 */
import { createReadStream, createWriteStream, fstatSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { CliError, usageError, type Command } from './command.js';
import { printable } from './terminal.js';

/** One line of input: its parsed value, or why it was skipped. 1-based line numbers. */
export type NdjsonItem = { line: number; value: unknown; error?: undefined } | { line: number; error: string; value?: undefined };

export interface NdjsonReadOptions {
  /** Longest line accepted; a longer one is skipped as a problem. @default 1 MiB */
  maxLineBytes?: number;
  /** Called with the bytes read so far after each chunk (progress). */
  onBytes?: (bytes: number) => void;
  /** The input as messages name it: its path, or `-` for stdin. @default '-' */
  name?: string;
}

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/** An input file opened for streaming: its size (null for stdin) and its lines. */
export interface NdjsonInput {
  size: number | null;
  lines: AsyncGenerator<NdjsonItem>;
}

/**
 * Opens `path` (`-` = stdin). A missing or unreadable file fails here, with the path in the
 * message, before any line is read.
 */
export async function openNdjson(path: string, options: NdjsonReadOptions = {}): Promise<NdjsonInput> {
  if (path === '-') {
    // `report - < logs/` (a directory, a slip of tab completion): Node reads a directory on
    // stdin as empty, and the report said "No decisions." with exit 0.
    if (stdinIsDirectory()) throw new CliError('stdin is a directory: redirect a file into it (actiongate … - < decisions.ndjson), or name the file instead of -');
    return { size: null, lines: splitLines(process.stdin, { ...options, name: '-' }) };
  }
  let size: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new Error('it is a directory');
    size = info.size;
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, 1, { cause: error });
  }
  return { size, lines: readLines(path, { ...options, name: path }) };
}

function stdinIsDirectory(): boolean {
  try {
    return fstatSync(0).isDirectory();
  } catch {
    return false; // no stdin at all (closed): read as empty, as a pipe with nothing in it
  }
}

/**
 * The file's lines; a file that cannot be read after all (no read permission, a socket, an I/O
 * error midway: `stat` succeeds on all of them) is an input problem with its path, like a
 * missing one, not an unexpected failure.
 */
async function* readLines(path: string, options: NdjsonReadOptions): AsyncGenerator<NdjsonItem> {
  try {
    yield* splitLines(createReadStream(path, { highWaterMark: 1 << 20 }), options);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, 1, { cause: error });
  }
}

const NEWLINE = 0x0a;

/**
 * A compressed input (a log rotated by logrotate is `decisions.ndjson.1.gz`) is refused at its
 * first bytes, the gzip magic number: read as text, every "line" of it was skipped as not JSON
 * and the report said "No decisions." with exit 0.
 */
function gzipped(name: string): CliError {
  return new CliError(
    name === '-'
      ? 'stdin is gzip-compressed: decompress it first (put "gunzip -c" in the pipe before actiongate)'
      : `${name} is gzip-compressed: decompress it first, or pipe it in: gunzip -c ${name} | actiongate … -`,
  );
}

/**
 * A UTF-16 input (what Windows PowerShell's `>` and Notepad's "Unicode" save write) is refused
 * at its byte order mark: read as UTF-8, every line held NUL bytes between its characters and
 * was skipped as not JSON, so a traffic file replayed as "0 actions".
 */
function utf16(name: string, bigEndian: boolean): CliError {
  const from = bigEndian ? 'UTF-16BE' : 'UTF-16LE';
  return new CliError(
    name === '-'
      ? `stdin is ${from} text: convert it to UTF-8 first (put "iconv -f ${from} -t UTF-8" in the pipe before actiongate)`
      : `${name} is ${from} text: convert it to UTF-8 first: iconv -f ${from} -t UTF-8 ${name} > ${name}.utf8`,
  );
}

/** Splits a byte stream into parsed lines. Blank lines are skipped silently. */
export async function* splitLines(stream: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, options: NdjsonReadOptions = {}): AsyncGenerator<NdjsonItem> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overlong = false; // the current line passed `max`: drop bytes until its newline
  let line = 0;
  let bytes = 0;

  function* finish(slice: Buffer): Generator<NdjsonItem> {
    line++;
    if (overlong || pendingBytes + slice.length > max) {
      yield { line, error: `line longer than ${max} bytes (skipped)` };
    } else {
      const text = (pendingBytes === 0 ? slice : Buffer.concat([...pending, slice])).toString('utf8');
      const item = parseLine(text, line);
      if (item) yield item;
    }
    pending = [];
    pendingBytes = 0;
    overlong = false;
  }

  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (bytes === 0 && buffer[0] === 0x1f && buffer[1] === 0x8b) throw gzipped(options.name ?? '-');
    if (bytes === 0 && ((buffer[0] === 0xff && buffer[1] === 0xfe) || (buffer[0] === 0xfe && buffer[1] === 0xff))) throw utf16(options.name ?? '-', buffer[0] === 0xfe);
    bytes += buffer.length;
    let start = 0;
    for (let end = buffer.indexOf(NEWLINE, start); end !== -1; end = buffer.indexOf(NEWLINE, start)) {
      yield* finish(buffer.subarray(start, end));
      start = end + 1;
    }
    if (start < buffer.length) {
      const rest = buffer.subarray(start);
      if (overlong || pendingBytes + rest.length > max) {
        overlong = true;
        pending = [];
        pendingBytes = 0;
      } else {
        // A copy: the stream may reuse its chunk's memory.
        pending.push(Buffer.from(rest));
        pendingBytes += rest.length;
      }
    }
    options.onBytes?.(bytes);
  }
  if (pendingBytes > 0 || overlong) yield* finish(Buffer.alloc(0));
}

function parseLine(text: string, line: number): NdjsonItem | null {
  let start = 0;
  let end = text.length;
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  if (start === end) return null;
  try {
    return { line, value: JSON.parse(start === 0 && end === text.length ? text : text.slice(start, end)) };
  } catch (error) {
    return { line, error: `not valid JSON (${(error as Error).message})` };
  }
}

/** Space, tab, CR, LF and a BOM (a file saved by an editor may start with one). */
const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a || c === 0xfeff;

/** Skipped lines: all counted, the first few kept with their numbers for the message. */
export interface SkippedLines {
  count: number;
  /** At most `MAX_SKIPPED_SHOWN`, in file order. */
  first: { line: number; error: string }[];
}

export const MAX_SKIPPED_SHOWN = 20;

export function createSkipped(): SkippedLines & { add(line: number, error: string): void } {
  const skipped = {
    count: 0,
    first: [] as { line: number; error: string }[],
    add(line: number, error: string) {
      skipped.count++;
      if (skipped.first.length < MAX_SKIPPED_SHOWN) skipped.first.push({ line, error });
    },
  };
  return skipped;
}

/** The stderr lines that report skipped input lines, or `[]`. */
export function describeSkipped(path: string, skipped: SkippedLines): string[] {
  if (skipped.count === 0) return [];
  const lines = skipped.first.map((s) => printable(`${path}:${s.line}: ${s.error}`));
  if (skipped.count > skipped.first.length) lines.push(`${path}: ${skipped.count - skipped.first.length} more skipped lines not shown`);
  lines.push(`${path}: ${skipped.count} line${skipped.count === 1 ? '' : 's'} skipped, the rest processed`);
  return lines;
}

/**
 * Refuses an output file that is one of the command's inputs (the same file, however it is
 * named: compared by device and inode, so `./t.ndjson` and a link to it are caught too). Opening
 * an output truncates it: `replay --log traffic.ndjson traffic.ndjson` emptied the traffic before
 * a line was read and reported "0 actions", and `report --out log log` replaced the log with its
 * report. An output that does not exist yet, or is not a regular file (`/dev/null`), is fine.
 */
export async function refuseOverwritingInput(command: Command, flag: string, output: string, inputs: readonly (string | undefined)[]): Promise<void> {
  const out = await stat(output).catch(() => null);
  if (!out?.isFile()) return;
  for (const input of inputs) {
    if (input === undefined || input === '-') continue;
    const info = await stat(input).catch(() => null);
    if (info && info.dev === out.dev && info.ino === out.ino) {
      throw usageError(command, `actiongate ${command.name}: --${flag} ${output} is ${input === output ? 'an input of the command' : `${input}, an input of the command`}: writing it would overwrite what is being read; name another file`);
    }
  }
}

/** An NDJSON file written with backpressure: `write` resolves once the line is buffered within limits. */
export interface NdjsonWriter {
  write(value: unknown): Promise<void> | void;
  close(): Promise<void>;
}

export function createNdjsonWriter(path: string): NdjsonWriter {
  const stream = createWriteStream(path);
  let failure: Error | undefined;
  stream.on('error', (error) => {
    failure = error;
  });
  // Waits for 'drain' or 'error', whichever comes first, leaving no listener behind.
  const drained = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('error', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('error', done);
    }).then(check);
  const check = () => {
    if (failure) throw new CliError(`cannot write ${path}: ${failure.message}`, 1, { cause: failure });
  };
  return {
    write(value) {
      check();
      if (!stream.write(`${JSON.stringify(value)}\n`)) return drained();
    },
    async close() {
      check();
      // A file that could not be opened may fail only now (a run that wrote little, fast): its
      // error is the same input problem as a failed write, not an unexpected failure. A write
      // that failed (ENOSPC) destroyed the stream, and end() then fails with "Cannot call end
      // after a stream was destroyed": the write's own error, `errored`, is the one to name.
      await new Promise<void>((resolve) =>
        stream.end((error?: Error | null) => {
          if (error) failure ??= stream.errored ?? error;
          resolve();
        }),
      );
      check();
    },
  };
}
