/**
 * Timers for token expiry on live sockets.
 *
 * `setTimeout` takes a signed 32-bit delay: anything past 2^31-1 ms (about 24.8 days) overflows and
 * fires at once, which would disconnect a socket holding a 30-day token immediately. So a delay is
 * clamped, and a timer that fires before its deadline simply re-arms.
 *
 * One plain Node timer per socket, on purpose: Node keeps timers in per-duration lists under a
 * priority queue, so arming and cancelling are cheap even with thousands of sockets, and each timer
 * is one small object that dies with its socket. A shared timer wheel would save little and add its
 * own bookkeeping and its own bugs. Every timer is `unref`'d: an expiry deadline never keeps a
 * process alive.
 */

/** The longest delay `setTimeout` honours, in milliseconds (2^31-1). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

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
 * Calls `fn` once, when the wall clock reaches `whenMs` (milliseconds since the epoch, as a token's
 * `exp` is), however far away that is. The timer is `unref`'d.
 *
 * @example
 * const expiry = scheduleAt(identity.expiresAt + toleranceMs, () => disconnect(socket, "token_expired"));
 * socket.once("disconnect", () => expiry.cancel());
 */
export function scheduleAt(whenMs: number, fn: () => void): ScheduledCall {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    timer = setTimeout(
      () => {
        // Not due yet: the delay was clamped, or the wall clock moved back. Wait for the rest.
        if (Date.now() < whenMs) return arm();
        timer = undefined;
        fn();
      },
      timerDelayUntil(whenMs, Date.now()),
    );
    timer.unref();
  };
  arm();
  return {
    cancel(): void {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
