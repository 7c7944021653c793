/**
 * One schedule for every token expiry in the process: a binary min-heap of deadlines and a single
 * `unref`'d timer armed for the earliest. Arming and cancelling an expiry cost O(log n) and leave
 * no `Timeout` behind per socket.
 *
 * Node keeps one timer list per distinct duration, and in Node 20 a list whose timers were all
 * cleared stays in memory until its original duration has passed. So the one timer is never armed
 * further than {@link ARM_AHEAD_MS} ahead (every far deadline shares that one duration, and a list
 * left behind is gone within a minute), and it is not cleared when the earliest deadline moves
 * later (a socket that disconnects or renews): it fires, runs nothing that is not due, and is armed
 * again. It is cleared only for an earlier deadline, which must not wait.
 *
 * `setTimeout` takes a signed 32-bit delay: a deadline past 2^31-1 ms is reached by re-arming
 * (see {@link timerDelayUntil}); a timer that fires early (clamped, or the wall clock moved back)
 * runs nothing that is not due.
 */
/** The longest delay `setTimeout` honours, in milliseconds (2^31-1). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** The furthest ahead the schedule's timer is armed: a later deadline is reached by re-arming. */
export const ARM_AHEAD_MS = 60_000;

/** A scheduled call that can be cancelled (cancelling twice, or after it ran, is harmless). */
export interface ScheduledCall {
  cancel(): void;
}

/**
 * The delay to arm a timer with for a deadline: what is left until `whenMs`, at least 0 and at most
 * {@link MAX_TIMER_DELAY_MS}. A deadline that is not a number fires at once (fail closed).
 *
 * @example
 * timerDelayUntil(Date.now() + 30 * 86_400_000, Date.now()); // 2147483647: re-armed when it fires
 */
export function timerDelayUntil(whenMs: number, nowMs: number): number {
  if (Number.isNaN(whenMs)) return 0;
  return Math.min(Math.max(whenMs - nowMs, 0), MAX_TIMER_DELAY_MS);
}

/**
 * One deadline, and the handle its caller cancels it with: the entry is the handle, so arming
 * allocates one object and no closure. `subject` is handed to `fn` when it runs, so callers that
 * share one function across many deadlines (one per socket) need no closure of their own either.
 */
class Entry<T> implements ScheduledCall {
  readonly whenMs: number;
  readonly fn: (subject: T, call: ScheduledCall) => void;
  readonly subject: T;
  /** The entry's place in the heap; -1 once it ran or was cancelled. */
  index = -1;
  readonly #schedule: ExpirySchedule;

  constructor(
    schedule: ExpirySchedule,
    whenMs: number,
    fn: (subject: T, call: ScheduledCall) => void,
    subject: T,
  ) {
    this.#schedule = schedule;
    this.whenMs = whenMs;
    this.fn = fn;
    this.subject = subject;
  }

  cancel(): void {
    this.#schedule.cancel(this);
  }
}

/**
 * Deadlines that call a function when the wall clock reaches them.
 *
 * @example
 * const schedule = new ExpirySchedule();
 * const call = schedule.at(identity.expiresAt, () => disconnect(socket, "token_expired"));
 * socket.once("disconnect", () => call.cancel());
 */
export class ExpirySchedule {
  readonly #heap: Entry<unknown>[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (ms since the epoch); Infinity when it is not armed. */
  #firesAt = Number.POSITIVE_INFINITY;

  /** How many deadlines are waiting. */
  get size(): number {
    return this.#heap.length;
  }

  /**
   * Calls `fn(subject, call)` once, when the wall clock reaches `whenMs` (ms since the epoch; NaN
   * is due at once); `call` is what this returns, so `fn` can tell whether it is still the
   * deadline its subject holds.
   */
  at(whenMs: number, fn: () => void): ScheduledCall;
  at<T>(whenMs: number, fn: (subject: T, call: ScheduledCall) => void, subject: T): ScheduledCall;
  at<T>(whenMs: number, fn: (subject: T, call: ScheduledCall) => void, subject?: T): ScheduledCall {
    const entry = new Entry<T>(
      this,
      Number.isNaN(whenMs) ? Number.NEGATIVE_INFINITY : whenMs,
      fn,
      subject as T,
    );
    this.#push(entry as Entry<unknown>);
    if (entry.index === 0) this.#arm();
    return entry;
  }

  /** Cancels `call` (an entry of this schedule); harmless when it ran or was cancelled already. */
  cancel(call: ScheduledCall): void {
    // Only an entry waiting in this heap is removed (one of another schedule is not ours to touch).
    if (call instanceof Entry && this.#heap[call.index] === call) this.#remove(call as Entry<unknown>);
  }

  #remove(entry: Entry<unknown>): void {
    const index = entry.index;
    if (index < 0) return;
    const last = this.#heap.pop()!;
    entry.index = -1;
    if (last !== entry) {
      this.#heap[index] = last;
      last.index = index;
      this.#siftDown(index);
      this.#siftUp(last.index);
    }
    // The earliest deadline can only have moved later: the armed timer stays (see the module doc).
  }

  #runDue(): void {
    this.#timer = undefined;
    this.#firesAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    while (this.#heap.length > 0 && this.#heap[0]!.whenMs <= now) {
      const entry = this.#heap[0]!;
      this.#remove(entry);
      try {
        entry.fn(entry.subject, entry);
      } catch {
        // One expiry that throws must not stop the others; the caller's function reports its own errors.
      }
    }
    this.#arm();
  }

  /**
   * Makes sure the timer fires no later than the earliest deadline: an armed timer that fires at or
   * before it is kept; otherwise the timer is (re-)armed, at most {@link ARM_AHEAD_MS} ahead.
   */
  #arm(): void {
    const first = this.#heap[0];
    if (!first || this.#firesAt <= first.whenMs) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const now = Date.now();
    const delay = Math.min(timerDelayUntil(first.whenMs, now), ARM_AHEAD_MS);
    this.#firesAt = now + delay;
    this.#timer = setTimeout(() => this.#runDue(), delay);
    this.#timer.unref();
  }

  #push(entry: Entry<unknown>): void {
    entry.index = this.#heap.length;
    this.#heap.push(entry);
    this.#siftUp(entry.index);
  }

  #siftUp(start: number): void {
    const heap = this.#heap;
    let index = start;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent]!.whenMs <= heap[index]!.whenMs) break;
      this.#swap(index, parent);
      index = parent;
    }
  }

  #siftDown(start: number): void {
    const heap = this.#heap;
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && heap[left]!.whenMs < heap[smallest]!.whenMs) smallest = left;
      if (right < heap.length && heap[right]!.whenMs < heap[smallest]!.whenMs) smallest = right;
      if (smallest === index) return;
      this.#swap(index, smallest);
      index = smallest;
    }
  }

  #swap(a: number, b: number): void {
    const heap = this.#heap;
    const first = heap[a]!;
    const second = heap[b]!;
    heap[a] = second;
    heap[b] = first;
    first.index = b;
    second.index = a;
  }
}
