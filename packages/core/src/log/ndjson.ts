/**
 * A decision-log sink writing one JSON object per line, for `actiongate report` and `replay`.
 * Writes never block `evaluate`; if the disk cannot keep up, the buffer is bounded and the
 * overflow is counted as dropped instead of growing without limit.
 */
import { createWriteStream } from 'node:fs';
import type { Decision } from '../types.js';

export interface NdjsonSinkOptions {
  /** Bytes buffered before lines are dropped (and counted in `dropped`). @default 16 MiB */
  maxBufferBytes?: number;
  /** Append to an existing file instead of truncating it. @default true */
  append?: boolean;
}

export interface NdjsonSink {
  /** Pass as `onDecision`. */
  readonly write: (decision: Decision) => void;
  /** Lines dropped because the buffer was full. */
  readonly dropped: number;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

export function createNdjsonSink(path: string, options: NdjsonSinkOptions = {}): NdjsonSink {
  const maxBufferBytes = options.maxBufferBytes ?? 16 * 1024 * 1024;
  const stream = createWriteStream(path, { flags: options.append === false ? 'w' : 'a' });
  let dropped = 0;
  let failure: Error | undefined;
  stream.on('error', (error) => {
    failure = error;
  });
  return {
    write(decision) {
      if (failure || stream.writableLength > maxBufferBytes) {
        dropped++;
        return;
      }
      stream.write(`${JSON.stringify(decision)}\n`);
    },
    get dropped() {
      return dropped;
    },
    close() {
      return new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
      });
    },
  };
}
