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
 * long.
 */

/** One script call being gathered. */
export interface PendingCall {
  /**
   * Adds a subject: its key, its encoded operations (its "shape") and how many items its answer
   * has. Returns where its answer starts in the reply. Equal shapes are sent once: the
   * evaluations of one policy repeat a few.
   */
  join(key: string, shape: readonly string[], answerLength: number): number;
  /** Settles with the script's reply once the call has been sent and answered. */
  readonly reply: Promise<unknown>;
}

export interface Coalescer {
  /**
   * The call that the next subject should join: the one gathering for `group` (a cluster slot,
   * and the clock when the caller's clock is used), or a new one when there is none yet or it is
   * full. The call's arguments start with `clock` and a request id made when it is sent.
   */
  callFor(group: string, clock: string): PendingCall;
  /** Called once a whole batch has been appended: sends now, or at the end of this turn. */
  submit(): void;
}

export interface CoalescerOptions {
  /** Sends one call: its keys, and its arguments (clock, request id, #shapes, shapes, positions). */
  send(keys: string[], args: string[]): Promise<unknown>;
  /** A request id unique to the call, made when it is sent. */
  requestId(): string;
  /**
   * Subjects per call, at most.
   * @default 128
   */
  maxKeys?: number;
}

/** Items before the first subject's answer in a reply: the clock and the resent flag. */
const REPLY_HEADER = 2;

/** A call on the client's hot path: a class, so gathering one allocates no closures. */
/**
 * How many of a call's shapes, newest first, a joining subject is compared with. A policy sends a
 * few shapes, so a repeat is nearly always among the last ones; past this, a shape is sent again
 * (still correct, a little longer), and a call of many distinct shapes costs no quadratic search.
 */
const SHAPE_SEARCH = 8;

class Gathering implements PendingCall {
  readonly keys: string[] = [];
  /** The distinct shapes, in order (index + 1 is the shape's number); `shapeArgs` holds their items. */
  readonly #shapes: (readonly string[])[] = [];
  readonly shapeArgs: string[] = [];
  shapeCount = 0;
  /** Each key's shape index, as sent. */
  readonly positions: string[] = [];
  #answerAt = REPLY_HEADER;
  readonly reply: Promise<unknown>;
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;

  constructor(readonly clock: string) {
    this.reply = new Promise<unknown>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Every waiter awaits it, but one that already failed on another call no longer does: a
    // rejection nobody awaits must not surface as an unhandled rejection in the host.
    this.reply.catch(() => {});
  }

  join(key: string, shape: readonly string[], answerLength: number): number {
    // Compared item by item, not through a joined lookup string: building and hashing that string
    // was most of what a subject cost here, and whole items cannot be mistaken for runs of others.
    let index = 0;
    for (let i = this.#shapes.length - 1; i >= 0 && i >= this.#shapes.length - SHAPE_SEARCH; i--) {
      if (sameItems(this.#shapes[i]!, shape)) {
        index = i + 1;
        break;
      }
    }
    if (index === 0) {
      this.#shapes.push(shape);
      index = ++this.shapeCount;
      for (const item of shape) this.shapeArgs.push(item);
    }
    this.keys.push(key);
    this.positions.push(String(index));
    const at = this.#answerAt;
    this.#answerAt += answerLength;
    return at;
  }
}

function sameItems(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function createCoalescer(options: CoalescerOptions): Coalescer {
  const maxKeys = options.maxKeys ?? 128;
  let gathering = new Map<string, Gathering>();
  let inFlight = 0;
  let scheduled = false;

  const settled = () => {
    inFlight--;
  };

  function send(call: Gathering): void {
    const args = [call.clock, options.requestId(), String(call.shapeCount)];
    for (const item of call.shapeArgs) args.push(item);
    for (const index of call.positions) args.push(index);
    inFlight++;
    let sent: Promise<unknown>;
    try {
      sent = options.send(call.keys, args);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (value) => {
        settled();
        call.resolve(value);
      },
      (error: unknown) => {
        settled();
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
    callFor(group, clock) {
      const current = gathering.get(group);
      if (current && current.keys.length < maxKeys) return current;
      if (current) send(current); // full: on its way, and a new one gathers
      const call = new Gathering(clock);
      gathering.set(group, call);
      return call;
    },
    submit() {
      if (inFlight === 0) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
  };
}
