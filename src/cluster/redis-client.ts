/**
 * The app's Redis client, as sockguard uses it: node-redis (v4, v5) or ioredis, whichever the app
 * already has. sockguard sends its own commands as Lua scripts only, so the one call that differs
 * between the two clients is `eval`; readiness is `isReady` (node-redis) or `status` (ioredis).
 */

/** A node-redis or ioredis client, as far as sockguard uses it. */
export interface RedisClientLike {
  /** node-redis: true while connected and ready. */
  readonly isReady?: boolean;
  /** ioredis: `"ready"` while connected and ready. */
  readonly status?: string;
  on(event: "error" | "ready" | "end", listener: (...args: unknown[]) => void): unknown;
  off?(event: "error" | "ready" | "end", listener: (...args: unknown[]) => void): unknown;
  eval(...args: never[]): Promise<unknown>;
}

/** True when the client can take commands now (a command sent otherwise would wait in its offline queue). */
export function isRedisReady(client: RedisClientLike): boolean {
  return client.isReady === true || client.status === "ready";
}

/**
 * Runs a Lua script with `keys` and `args` on either client.
 *
 * @example
 * await runScript(client, "return redis.call('GET', KEYS[1])", ["sockguard:x"], []);
 */
export function runScript(
  client: RedisClientLike,
  script: string,
  keys: readonly string[],
  args: readonly string[],
): Promise<unknown> {
  const evaluate = client.eval.bind(client) as unknown as (...params: unknown[]) => Promise<unknown>;
  // node-redis: eval(script, { keys, arguments }); ioredis: eval(script, numKeys, ...keys, ...args).
  if (client.isReady !== undefined) return evaluate(script, { keys: [...keys], arguments: [...args] });
  return evaluate(script, keys.length, ...keys, ...args);
}

/**
 * Follows a client's readiness: `down` once when it stops being ready (an error, the connection
 * ended), `up` once when it is ready again. Returns the function that stops following.
 *
 * @example
 * const stop = followReadiness(client, { down: () => log("redis down"), up: () => log("redis back") });
 */
export function followReadiness(
  client: RedisClientLike,
  listener: { down(): void; up(): void },
): { stop(): void; markDown(): void; markUp(): void } {
  let down = false;
  const markDown = (): void => {
    if (down) return;
    down = true;
    listener.down();
  };
  const markUp = (): void => {
    if (!down) return;
    down = false;
    listener.up();
  };
  client.on("error", markDown);
  client.on("end", markDown);
  client.on("ready", markUp);
  return {
    markDown,
    markUp,
    stop: () => {
      client.off?.("error", markDown);
      client.off?.("end", markDown);
      client.off?.("ready", markUp);
    },
  };
}
