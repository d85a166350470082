/**
 * Coalescing: the evaluations in flight share script calls. Each evaluation still costs exactly
 * one round trip, but under load (64 decisions in flight) one EVALSHA carries the subjects of
 * many of them, so Redis pays its per-call cost (command dispatch, script set-up, the clock) and
 * the client its per-command cost (encoding, parsing, a promise) once per call instead of once
 * per decision: this is what lets a single Redis keep up with several app processes.
 *
 * The policy is Nagle-like, without a timer: a batch that arrives while no call is in flight is
 * sent at once (a lone request waits for nothing); batches that arrive while calls are in flight
 * are gathered until the current turn of the event loop ends (`setImmediate`), so every decision
 * that resumed from the same socket read rides in the next call. Calls are per cluster slot (a
 * script may only touch one slot's keys) and capped in size, so no single script holds Redis for
 * long. A full call leaves at once: with a cap of a few evaluations, Redis starts on a call while
 * the client is still working through the evaluations of the last answer, instead of both taking
 * turns at idling (docs/performance.md measures it).
 */

import { ByteWriter } from './shapes.js';

/** One script call being gathered. */
export interface PendingCall {
  /**
   * Adds a subject: its key, its encoded operations (its "shape": bytes `start`..`end` of
   * `source`, `items` msgpack items) and how many items its answer has. Returns where its answer
   * starts in the reply. Equal shapes are sent once: the evaluations of one policy repeat a few.
   * A `readOnly` subject (gets and peeks only) whose key already joined with the same shape, and
   * no writing subject of that key since, is not sent again: it shares that answer, which is
   * the same (every decision reads the shared `ranges-version` key alike).
   */
  join(key: string, source: Buffer, start: number, end: number, items: number, answerLength: number, readOnly: boolean): number;
  /** Settles with the script's reply once the call has been sent and answered. */
  readonly reply: Promise<unknown>;
}

export interface Coalescer {
  /**
   * The call that the next subject should join: the one gathering for `group` (a cluster slot)
   * at `clock` (the caller's, or '' for Redis's own), or a new one when there is none yet, it is
   * full or of another clock. The call's arguments start with `clock` and a request id made when
   * it is sent.
   */
  callFor(group: string, clock: string): PendingCall;
  /** Called once a whole batch has been appended: sends now, or at the end of this turn. */
  submit(): void;
  /** Subjects joined and not yet answered (gathering or sent): what waiting on Redis holds. */
  subjectsInFlight(): number;
}

export interface CoalescerOptions {
  /** Sends one call: its keys, and its arguments (clock, request id, shapes and positions). */
  send(keys: string[], args: (string | Buffer)[]): Promise<unknown>;
  /** A request id unique to the call, made when it is sent. */
  requestId(): string;
  /**
   * Subjects per call, at most: a full call is sent at once.
   * @default 128
   */
  maxKeys?: number;
  /**
   * Batches (evaluations) per call, at most: a call that holds this many is sent as soon as
   * another batch needs room.
   * @default 16
   */
  maxBatches?: number;
}

/** Items before the first subject's answer in a reply: the clock and the resent flag. */
const REPLY_HEADER = 2;

/**
 * How many of a call's shapes, newest first, a joining subject is compared with. A policy sends a
 * few shapes, so a repeat is nearly always among the last ones; past this, a shape is sent again
 * (still correct, a little longer), and a call of many distinct shapes costs no quadratic search.
 */
const SHAPE_SEARCH = 8;

/** Bytes kept in front of a call's shapes for an array header, written when the call is large. */
const HEADER = 5;

/** Most items a call sends as a run rather than as one array (see `encoded`). */
export const FLAT_ITEMS = 4096;

/** What every call of one coalescer holds in memory until answered. */
interface InFlight {
  subjects: number;
}

/** A call on the client's hot path: a class, so gathering one allocates no closures. */
class Gathering implements PendingCall {
  readonly keys: string[] = [];
  /** The distinct shapes' bytes, after a header left free for the argument's item count. */
  readonly shapes = new ByteWriter(512);
  /** Where each distinct shape starts in `shapes`, in bytes. */
  readonly #starts: number[] = [];
  /** Where each distinct shape starts in the argument, in items (1-based, as Lua indexes it). */
  readonly #firstItems: number[] = [];
  #items = 0;
  /** Each key's shape, as the item where it starts. */
  readonly positions = new ByteWriter(64);
  #answerAt = REPLY_HEADER;
  /** Per key, its last read-only subject (shape and answer), while no subject has written it since. */
  readonly #reads = new Map<string, { index: number; at: number }>();
  /** The batches this call holds, and the number of the last one that joined. */
  batches = 0;
  lastBatch = -1;
  readonly reply: Promise<unknown>;
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;

  constructor(
    readonly clock: string,
    readonly count: InFlight,
  ) {
    this.shapes.length = HEADER;
    this.reply = new Promise<unknown>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Every waiter awaits it, but one that already failed on another call no longer does: a
    // rejection nobody awaits must not surface as an unhandled rejection in the host.
    this.reply.catch(() => {});
  }

  join(key: string, source: Buffer, start: number, end: number, items: number, answerLength: number, readOnly: boolean): number {
    // Compared as bytes: no lookup string is built and hashed per subject, which was most of
    // what a subject cost here.
    const starts = this.#starts;
    const shapes = this.shapes;
    let index = 0;
    for (let i = starts.length - 1; i >= 0 && i >= starts.length - SHAPE_SEARCH; i--) {
      const from = starts[i]!;
      const to = i + 1 < starts.length ? starts[i + 1]! : shapes.length;
      if (to - from === end - start && shapes.bytes.compare(source, start, end, from, to) === 0) {
        index = i + 1;
        break;
      }
    }
    const reads = this.#reads;
    if (!readOnly) {
      if (reads.size > 0) reads.delete(key);
    } else if (index !== 0) {
      const read = reads.get(key);
      if (read !== undefined && read.index === index) return read.at;
    }
    if (index === 0) {
      starts.push(shapes.length);
      this.#firstItems.push(this.#items + 1);
      this.#items += items;
      shapes.append(source, start, end);
      index = starts.length;
    }
    this.keys.push(key);
    this.count.subjects++;
    this.positions.number(this.#firstItems[index - 1]!);
    const at = this.#answerAt;
    this.#answerAt += answerLength;
    if (readOnly) reads.set(key, { index, at });
    return at;
  }

  /**
   * The script's argument after the clock and the request id: the shapes then the positions, as
   * a run of msgpack items the script unpacks into one table at its final size (decoding an array
   * grew the table item by item: ~10% of a one-decision call's Redis instructions). Past
   * FLAT_ITEMS, one array instead: each item of a run is a value on the Lua stack, which holds 8,000.
   */
  encoded(): Buffer {
    const shapes = this.shapes;
    const items = this.#items + this.keys.length;
    shapes.append(this.positions.bytes, 0, this.positions.length);
    if (items > FLAT_ITEMS) {
      shapes.array32At(0, items);
      return shapes.bytes.subarray(0, shapes.length);
    }
    return shapes.bytes.subarray(HEADER, shapes.length);
  }
}

export function createCoalescer(options: CoalescerOptions): Coalescer {
  const maxKeys = options.maxKeys ?? 128;
  const maxBatches = options.maxBatches ?? 16;
  /** Numbers the batches: a call counts the batches it holds by the last one that joined it. */
  let batch = 0;
  let gathering = new Map<string, Gathering>();
  let inFlight = 0;
  let scheduled = false;
  /** Subjects of the calls gathering or sent and not yet settled. */
  const count: InFlight = { subjects: 0 };

  const settled = (call: Gathering) => {
    inFlight--;
    count.subjects -= call.keys.length;
  };

  function send(call: Gathering): void {
    const args = [call.clock, options.requestId(), call.encoded()];
    inFlight++;
    let sent: Promise<unknown>;
    try {
      sent = options.send(call.keys, args);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (value) => {
        settled(call);
        call.resolve(value);
      },
      (error: unknown) => {
        settled(call);
        call.reject(error);
      },
    );
  }

  function flush(): void {
    scheduled = false;
    const calls = gathering;
    gathering = new Map();
    for (const call of calls.values()) send(call);
  }

  return {
    subjectsInFlight: () => count.subjects,
    callFor(group, clock) {
      const current = gathering.get(group);
      // Another clock's call is sent before this one gathers, not left to gather beside it: calls
      // of one group leave in the order their subjects came, so each key sees them in that order.
      if (current && current.clock === clock && current.keys.length < maxKeys && (current.lastBatch === batch || current.batches < maxBatches)) {
        if (current.lastBatch !== batch) {
          current.lastBatch = batch;
          current.batches++;
        }
        return current;
      }
      if (current) send(current); // full, or of another clock: on its way, and a new one gathers
      const call = new Gathering(clock, count);
      call.lastBatch = batch;
      call.batches = 1;
      gathering.set(group, call);
      return call;
    },
    submit() {
      batch++;
      if (inFlight === 0) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
  };
}
