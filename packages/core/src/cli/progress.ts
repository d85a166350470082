/**
 * A progress bar on stderr for long replays. Drawn only when stderr is a terminal (a pipe or a
 * log file gets nothing), at most ten times a second, and erased when done, so the report on
 * stdout is never interleaved with it.
 */
import type { Io } from './command.js';

export interface Progress {
  /** Reports bytes read so far and actions evaluated. */
  update(bytes: number, actions: number): void;
  /** Erases the bar. */
  done(): void;
}

const NONE: Progress = { update() {}, done() {} };
const WIDTH = 30;

/** The bar's text: `[#####·····]  45%  450,000 actions  23,410/s`. Pure, for tests. */
export function progressLine(bytes: number, total: number | null, actions: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? Math.round((actions * 1000) / elapsedMs).toLocaleString('en') : '–';
  const counts = `${actions.toLocaleString('en')} actions  ${rate}/s`;
  if (total === null || total === 0) return `replaying… ${counts}`;
  const fraction = Math.min(1, bytes / total);
  const filled = Math.round(fraction * WIDTH);
  return `[${'#'.repeat(filled)}${'·'.repeat(WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ${counts}`;
}

/** @param total Input size in bytes, null when unknown (stdin). */
export function createProgress(io: Io, total: number | null, enabled = io.errIsTty, now: () => number = Date.now): Progress {
  if (!enabled) return NONE;
  const started = now();
  let last = Number.NEGATIVE_INFINITY;
  let drawn = false;
  return {
    update(bytes, actions) {
      const t = now();
      if (t - last < 100) return;
      last = t;
      drawn = true;
      io.err(`\r${progressLine(bytes, total, actions, t - started)}\u001b[K`);
    },
    done() {
      if (drawn) io.err('\r\u001b[K');
    },
  };
}
