/**
 * Timers for token expiry on live sockets.
 *
 * `setTimeout` takes a signed 32-bit delay: anything past 2^31-1 ms (about 24.8 days) overflows and
 * fires at once, which would disconnect a socket holding a 30-day token immediately. So a delay is
 * clamped, and a timer that fires before its deadline simply re-arms.
 *
 * Every deadline of the process shares one schedule ({@link ExpirySchedule}): one `unref`'d timer
 * for the earliest deadline, so an expiry deadline never keeps a process alive and a socket holds no
 * timer of its own.
 */
import { ExpirySchedule, type ScheduledCall } from "./expiry-schedule.js";

export { MAX_TIMER_DELAY_MS, timerDelayUntil, type ScheduledCall } from "./expiry-schedule.js";

/**
 * Calls `fn` once, when the wall clock reaches `whenMs` (milliseconds since the epoch, as a token's
 * `exp` is), however far away that is. The timer is `unref`'d.
 *
 * @example
 * const expiry = scheduleAt(identity.expiresAt + toleranceMs, () => disconnect(socket, "token_expired"));
 * socket.once("disconnect", () => expiry.cancel());
 */
export function scheduleAt(whenMs: number, fn: () => void): ScheduledCall;
/** The same, calling `fn(subject, call)`: one function shared by every socket, and no closure per socket. */
export function scheduleAt<T>(
  whenMs: number,
  fn: (subject: T, call: ScheduledCall) => void,
  subject: T,
): ScheduledCall;
export function scheduleAt<T>(
  whenMs: number,
  fn: (subject: T, call: ScheduledCall) => void,
  subject?: T,
): ScheduledCall {
  return processSchedule.at(whenMs, fn, subject as T);
}

/** The schedule {@link scheduleAt} uses: one per process. */
const processSchedule = new ExpirySchedule();
