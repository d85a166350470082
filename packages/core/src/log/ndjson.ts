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
  /** Lines not written: the buffer was full, the file failed (every line it held then counts), or the sink was closed. */
  readonly dropped: number;
  /** Flushes and closes the file; rejects with the write error if the file failed. Calling it again returns the same promise. */
  close(): Promise<void>;
}

export function createNdjsonSink(path: string, options: NdjsonSinkOptions = {}): NdjsonSink {
  const maxBufferBytes = options.maxBufferBytes ?? 16 * 1024 * 1024;
  // NaN would never compare greater: the buffer would grow without bound.
  if (!(maxBufferBytes >= 0)) throw new TypeError(`maxBufferBytes must be a number of bytes, 0 or more, got ${maxBufferBytes}`);
  const stream = createWriteStream(path, { flags: options.append === false ? 'w' : 'a' });
  let dropped = 0;
  let failure: Error | undefined;
  let closing: Promise<void> | undefined;
  stream.on('error', (error) => {
    failure = error;
  });
  // Node calls each write's callback with an error for every line the stream still held when it
  // failed (a full disk, a missing directory) or that came after `end`: those are lost too. One
  // shared function, not a closure per decision.
  const written = (error?: Error | null) => {
    if (error) dropped++;
  };
  return {
    write(decision) {
      if (failure || closing || stream.writableLength > maxBufferBytes) {
        dropped++;
        return;
      }
      stream.write(`${JSON.stringify(decision)}\n`, written);
    },
    get dropped() {
      return dropped;
    },
    close() {
      closing ??= new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
      });
      return closing;
    },
  };
}
