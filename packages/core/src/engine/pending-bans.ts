/**
 * Bans the store did not take, written again once it answers.
 *
 * A decision's writes go out after it returns (guard.ts `writeLater`). When that write fails (the
 * store went down between the decision's read and its write, or answered too late), the client
 * was told it is banned and `onBan` fired, but the shared store never heard of the ban (with
 * `failMode: "memory"` only the local fallback did): once the store answered again, every
 * process let the banned client through, this one included. So the ban and rung marks of such a
 * write are kept here and written again with the next decision whose round trip succeeds.
 *
 * Only those marks: they are written with `ifLater` (a ban never shortens one in force), so
 * writing one twice, or after a timeout that did reach the store, changes nothing; strikes and
 * counters are additions, which a second write would count twice. Bounded: past `max` subjects
 * the oldest kept go first.
 */
import { endsLater } from '../policy/duration.js';
import type { MarkWrite, StoreBatch, SubjectOps } from '../store/types.js';
import { MARK } from './state.js';

export interface PendingBans {
  /** Keeps the ban and rung writes of a batch the store did not take. */
  keep(batch: StoreBatch): void;
  /** The writes kept that still matter at `now`, as one batch, and forgets them; null when none. */
  take(now: number): StoreBatch | null;
  /** Forgets what is kept for `subject` (an operator lifted its ban). */
  forget(subject: string): void;
  /** Forgets the bans decision `id` set (it was reported wrong), and the rungs that went with them. */
  forgetDecision(id: string): void;
  /** Subjects kept. */
  readonly size: number;
  /** Subjects dropped so far to stay within `max`. */
  readonly dropped: number;
}

/** Subjects whose bans are kept at most: a whole outage's worth for most sites. */
export const MAX_PENDING_BANS = 10_000;

const REPLAYED: readonly string[] = [MARK.ban, MARK.rung];

export function createPendingBans(max = MAX_PENDING_BANS): PendingBans {
  /** By subject, in the order first kept (a Map's order): the oldest is dropped first. */
  const kept = new Map<string, MarkWrite[]>();
  let dropped = 0;

  return {
    keep(batch) {
      for (const ops of batch.subjects) {
        for (const write of ops.set ?? []) {
          if (write.ifLater !== true || !REPLAYED.includes(write.name)) continue;
          const writes = kept.get(ops.subject);
          if (writes === undefined) {
            kept.set(ops.subject, [write]);
            continue;
          }
          const at = writes.findIndex((w) => w.name === write.name);
          if (at === -1) writes.push(write);
          else if (endsLater(write.until, writes[at]!.until)) writes[at] = write;
        }
      }
      while (kept.size > max) {
        kept.delete(kept.keys().next().value!);
        dropped++;
      }
    },
    take(now) {
      const subjects: SubjectOps[] = [];
      for (const [subject, writes] of kept) {
        const live = writes.filter((w) => w.until === null || w.until > now);
        if (live.length > 0) subjects.push({ subject, set: live });
      }
      kept.clear();
      return subjects.length === 0 ? null : { now, subjects };
    },
    forget(subject) {
      kept.delete(subject);
    },
    forgetDecision(id) {
      for (const [subject, writes] of kept) {
        const ban = writes.find((w) => w.name === MARK.ban);
        if (ban === undefined || (ban.value as { decision?: unknown } | null)?.decision !== id) continue;
        kept.delete(subject);
      }
    },
    get size() {
      return kept.size;
    },
    get dropped() {
      return dropped;
    },
  };
}
