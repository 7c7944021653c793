/**
 * `maxDenials`: how often one Engine.IO connection may be refused (its events, re-authentications
 * and namespace connects, every namespace together) before the guard closes it. The budget belongs
 * to the connection, not to a namespace socket: a client that sends CONNECT again on the same
 * connection gets a new socket, never a new budget. A sliding window
 * estimated from two fixed windows (the current one, and the previous one weighted by how much of
 * it still overlaps the last `windowMs`): constant memory per socket whatever the count, and no
 * burst of twice the limit across a window boundary as a plain fixed window would allow.
 */
import type { Socket } from "socket.io";

/** A rate: at most `count` per `windowMs`. */
export interface DenialRate {
  readonly count: number;
  readonly windowMs: number;
}

/**
 * Counts one connection's denials.
 *
 * @example
 * const window = new DenialWindow();
 * if (window.record(Date.now(), { count: 20, windowMs: 60_000 })) disconnect(socket, "too_many_denials");
 */
export class DenialWindow {
  #windowStart = Number.NEGATIVE_INFINITY;
  #current = 0;
  #previous = 0;

  /** Records a denial at `nowMs`; true when the connection has now been refused more often than `rate`. */
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

/** Each connection's window, keyed by its Socket.IO client: gone with the connection. */
const windows = new WeakMap<Socket["client"], DenialWindow>();

/**
 * Records a denial against the connection `client` stands for; true when it has now been refused
 * more often than `rate` (the caller closes it).
 *
 * @example
 * if (recordConnectionDenial(socket.client, Date.now(), policy.connection.maxDenials)) closeConnection(...);
 */
export function recordConnectionDenial(client: Socket["client"], nowMs: number, rate: DenialRate): boolean {
  let window = windows.get(client);
  if (!window) {
    window = new DenialWindow();
    windows.set(client, window);
  }
  return window.record(nowMs, rate);
}
