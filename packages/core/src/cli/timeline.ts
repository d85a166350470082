/**
 * Decisions over time in a bounded number of buckets, for a log whose time span is not known
 * until its last line. Buckets start at one minute and widen along a ladder of round widths
 * (5 min, 15 min, 1 h, … 1 day, 1 week, then doubling) whenever the span from the earliest to
 * the latest bucket would exceed `maxBuckets`; each width is a multiple of the one before, so
 * widening only merges whole buckets. Buckets are aligned to the epoch (UTC), so two reports of
 * the same period line up.
 */
import type { Verdict } from '../types.js';

const MINUTE = 60_000;
const LADDER = [MINUTE, 5 * MINUTE, 15 * MINUTE, 60 * MINUTE, 3 * 60 * MINUTE, 6 * 60 * MINUTE, 12 * 60 * MINUTE, 24 * 60 * MINUTE, 7 * 24 * 60 * MINUTE];

/** Reason keys a bucket keeps; the rest of a busy bucket is counted under `other`. */
export const MAX_BUCKET_REASONS = 32;

export interface Bucket {
  /** Epoch ms of the bucket's start. */
  start: number;
  verdicts: Record<Verdict, number>;
  /** Decisions each reason appeared in (non-allow decisions only). */
  reasons: Record<string, number>;
}

export interface Timeline {
  /** Width of every bucket (ms). */
  bucketMs: number;
  /** Every bucket from the first to the last decision, empty ones included. */
  buckets: Bucket[];
}

/** A bucket width in its largest whole unit: `1h`, `15m`, `1w`. */
export function bucketLabel(ms: number): string {
  for (const [unit, size] of [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export interface TimelineBuilder {
  add(at: number, verdict: Verdict, reasons: Iterable<string>): void;
  build(): Timeline;
}

interface Counts {
  verdicts: Record<Verdict, number>;
  reasons: Map<string, number>;
}

const emptyVerdicts = (): Record<Verdict, number> => ({ allow: 0, challenge: 0, throttle: 0, block: 0 });

/** @param maxBuckets Most buckets between the first and the last decision. @default 120 */
export function createTimeline(maxBuckets = 120): TimelineBuilder {
  let width = LADDER[0]!;
  let rung = 0;
  const buckets = new Map<number, Counts>();
  let low = Infinity;
  let high = -Infinity;

  /** The next rung of widths; buckets are re-keyed by their start, merging whole buckets. */
  const widen = () => {
    const previous = width;
    rung++;
    width = rung < LADDER.length ? LADDER[rung]! : width * 2;
    const old = [...buckets];
    buckets.clear();
    low = Infinity;
    high = -Infinity;
    for (const [index, counts] of old) merge(Math.floor((index * previous) / width), counts);
  };

  const merge = (index: number, counts: Counts) => {
    const into = bucketAt(index);
    for (const verdict of Object.keys(counts.verdicts) as Verdict[]) into.verdicts[verdict] += counts.verdicts[verdict];
    for (const [reason, n] of counts.reasons) addReason(into, reason, n);
  };

  const bucketAt = (index: number): Counts => {
    let counts = buckets.get(index);
    if (!counts) {
      buckets.set(index, (counts = { verdicts: emptyVerdicts(), reasons: new Map() }));
      low = Math.min(low, index);
      high = Math.max(high, index);
    }
    return counts;
  };

  return {
    add(at, verdict, reasons) {
      let index = Math.floor(at / width);
      while (Math.max(high, index) - Math.min(low, index) + 1 > maxBuckets) {
        widen();
        index = Math.floor(at / width);
      }
      const counts = bucketAt(index);
      counts.verdicts[verdict]++;
      for (const reason of reasons) addReason(counts, reason, 1);
    },
    build() {
      const out: Bucket[] = [];
      if (buckets.size === 0) return { bucketMs: width, buckets: out };
      for (let index = low; index <= high; index++) {
        const counts = buckets.get(index);
        out.push({ start: index * width, verdicts: counts ? { ...counts.verdicts } : emptyVerdicts(), reasons: counts ? Object.fromEntries(counts.reasons) : {} });
      }
      return { bucketMs: width, buckets: out };
    },
  };
}

function addReason(counts: Counts, reason: string, n: number): void {
  const key = counts.reasons.has(reason) || counts.reasons.size < MAX_BUCKET_REASONS ? reason : 'other';
  counts.reasons.set(key, (counts.reasons.get(key) ?? 0) + n);
}
