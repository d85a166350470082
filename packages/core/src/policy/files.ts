/**
 * Reading the files a policy names (itself, list files, term and domain files) with a bound on
 * what they may hold. A path can name a device that never ends (`/dev/zero`) or a pipe: read
 * whole, the first held memory until the process was killed (`std::bad_alloc`, not an error
 * anyone could catch), and a synchronous open of a pipe waits for a writer forever.
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';

/** The most a policy file may hold: inline lists of a million entries fit; list files are read apart. */
export const MAX_POLICY_FILE_BYTES = 64 * 1024 * 1024;

/** The most a list, term or domain file may hold: some 4 million IPv4 ranges, one a line. */
export const MAX_LIST_FILE_BYTES = 64 * 1024 * 1024;

/** A file holding more than the bytes it was allowed to hold; `bytes` when its size was known up front. */
export class FileTooLargeError extends Error {
  constructor(
    readonly maxBytes: number,
    readonly bytes?: number,
  ) {
    super(`${bytes === undefined ? '' : `${bytes} bytes: `}more than ${maxBytes} bytes (${Math.round(maxBytes / 1024 / 1024)} MB), the most such a file may hold`);
  }
}

/**
 * A file's text, read up to `maxBytes`: a regular file larger than that rejects from its size,
 * unread, and anything else (a device, a pipe: the CLI may be handed `/dev/stdin`) once that much
 * has been read. Rejects with `FileTooLargeError`, or the file system's error.
 */
export async function readTextFile(path: string, maxBytes: number): Promise<string> {
  const info = await stat(path);
  if (info.isFile() && info.size > maxBytes) throw new FileTooLargeError(maxBytes, info.size);
  const chunks: Buffer[] = [];
  let bytes = 0;
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > maxBytes) throw new FileTooLargeError(maxBytes);
      chunks.push(chunk);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks, bytes).toString('utf8');
}

/**
 * A regular file's text, read synchronously up to `maxBytes` (the compile reads list files so).
 * Anything but a regular file is refused before it is opened: opening a pipe would block the
 * thread until a writer came. Throws `FileTooLargeError`, or an Error naming what the path is.
 */
export function readTextFileSync(path: string, maxBytes: number): string {
  regularFile(statSync(path), maxBytes);
  const fd = openSync(path, 'r');
  try {
    regularFile(fstatSync(fd), maxBytes); // the file opened, not the one stat saw before

    // Read to the end, not to the size stat gave: the file may grow (or shrink) meanwhile.
    const chunks: Buffer[] = [];
    let bytes = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, maxBytes + 1 - bytes));
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      bytes += read;
      if (bytes > maxBytes) throw new FileTooLargeError(maxBytes);
      chunks.push(read === chunk.length ? chunk : chunk.subarray(0, read));
    }
    return Buffer.concat(chunks, bytes).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Reads the list, term and domain files a policy names, relative to `baseDir`, with their bound. */
export function policyFileReader(baseDir: string): (path: string) => string {
  return (path) => readTextFileSync(resolve(baseDir, path), MAX_LIST_FILE_BYTES);
}

function regularFile(info: Stats, maxBytes: number): void {
  if (!info.isFile()) throw new Error(`${kindOf(info)}, not a regular file`);
  if (info.size > maxBytes) throw new FileTooLargeError(maxBytes, info.size);
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a pipe';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSocket()) return 'a socket';
  return 'something else';
}
