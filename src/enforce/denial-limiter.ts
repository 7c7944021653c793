/**
 * `maxDenials`: how often a socket may be refused before the guard disconnects it. A sliding window
 * estimated from two fixed windows (the current one, and the previous one weighted by how much of
 * it still overlaps the last `windowMs`): constant memory per socket whatever the count, and no
 * burst of twice the limit across a window boundary as a plain fixed window would allow.
 */

/** A rate: at most `count` per `windowMs`. */
export interface DenialRate {
  readonly count: number;
  readonly windowMs: number;
}

/**
 * Counts one socket's denials.
 *
 * @example
 * const window = new DenialWindow();
 * if (window.record(Date.now(), { count: 20, windowMs: 60_000 })) disconnect(socket, "too_many_denials");
 */
export class DenialWindow {
  #windowStart = Number.NEGATIVE_INFINITY;
  #current = 0;
  #previous = 0;

  /** Records a denial at `nowMs`; true when the socket has now been refused more often than `rate`. */
  record(nowMs: number, rate: DenialRate): boolean {
    const { count, windowMs } = rate;
    const elapsed = nowMs - this.#windowStart;
    if (elapsed >= windowMs) {
      const adjacent = elapsed < 2 * windowMs;
      this.#previous = adjacent ? this.#current : 0;
      this.#windowStart = adjacent ? this.#windowStart + windowMs : nowMs;
      this.#current = 0;
    }
    this.#current += 1;
    const overlap = Math.max(0, windowMs - (nowMs - this.#windowStart)) / windowMs;
    return this.#current + this.#previous * overlap > count;
  }
}
