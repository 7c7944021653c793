/**
 * Keeps one socket's events in the order they arrived while some of them wait for an asynchronous
 * check (a rate limit's store answers with a promise). Steps run one after another; while none is
 * waiting the caller decides synchronously and pays nothing. The number of steps waiting is
 * bounded, so a slow store can never make a socket's backlog grow without end.
 */

/** How many events of one socket may wait for a decision at once; one more is refused `rate_limited`. */
export const MAX_UNDECIDED_EVENTS = 64;

/**
 * One socket's queue of undecided events.
 *
 * @example
 * const order = new ArrivalOrder();
 * if (order.idle && !needsAsyncCheck) decideNow(packet);
 * else if (!order.enqueue(() => decideLater(packet))) refuse(packet, "rate_limited");
 */
export class ArrivalOrder {
  readonly #max: number;
  #waiting = 0;
  #tail: Promise<void> = Promise.resolve();

  constructor(max = MAX_UNDECIDED_EVENTS) {
    this.#max = max;
  }

  /** True when no event is waiting: the next one may be decided at once, in order. */
  get idle(): boolean {
    return this.#waiting === 0;
  }

  /** How many events are waiting. */
  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Runs `step` once every step queued before it has finished. Returns false, and runs nothing,
   * when {@link MAX_UNDECIDED_EVENTS} are already waiting. A step that throws or rejects does not
   * stop the ones after it.
   */
  enqueue(step: () => Promise<void> | void): boolean {
    if (this.#waiting >= this.#max) return false;
    this.#waiting += 1;
    const run = this.#tail.then(step).then(
      () => this.#settle(),
      () => this.#settle(),
    );
    this.#tail = run;
    return true;
  }

  #settle(): void {
    this.#waiting -= 1;
  }
}
