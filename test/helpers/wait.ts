/** Waiting for events in tests, always with a timeout so a missing event fails instead of hanging. */

interface ListenerTarget {
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * Resolves with the arguments of the next `event` on `target`; rejects after `timeoutMs`.
 *
 * @example
 * const [reason] = await nextEvent(client, "disconnect");
 */
export function nextEvent<T extends unknown[] = unknown[]>(
  target: ListenerTarget,
  event: string,
  timeoutMs = 3000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]): void => {
      clearTimeout(timer);
      resolve(args as unknown as T);
    };
    const timer = setTimeout(() => {
      target.off(event, listener);
      reject(new Error(`no "${event}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    target.once(event, listener);
  });
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `condition` until it holds; rejects after `timeoutMs`.
 *
 * @example
 * await waitUntil(() => received.length === 2);
 */
export async function waitUntil(
  condition: () => boolean,
  timeoutMs = 3000,
  what = "the condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await delay(5);
  }
}
