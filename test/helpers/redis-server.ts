/**
 * A real `redis-server` (Debian's package) for the cluster tests: started on a free loopback port
 * with persistence off, stopped after. Where it is not installed the tests that need it skip with
 * one loud line, unless SOCKGUARD_REDIS=required (as in CI), where they fail.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createClient } from "redis";

/** True when `redis-server` can be run here. */
export function redisServerInstalled(): boolean {
  const probe = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  return probe.status === 0;
}

/**
 * Skips the calling suite (mocha `this`) when redis-server is missing, loudly; fails instead when
 * SOCKGUARD_REDIS=required.
 *
 * @example
 * before(function () { requireRedisServer(this); });
 */
export function requireRedisServer(context: Mocha.Context): void {
  if (redisServerInstalled()) return;
  const message = "redis-server is not installed (apt-get install redis-server): the Redis tests are SKIPPED";
  if (process.env.SOCKGUARD_REDIS === "required")
    throw new Error(`${message.replace(" SKIPPED", " required")}`);
  console.warn(`\n  !!! ${message}\n`);
  context.skip();
}

/** A free TCP port on 127.0.0.1 (the port of a listener that was closed at once). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A running redis-server; `stop()` ends it (SIGTERM, then SIGKILL) and resolves once it exited. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
  /** Starts it again on the same port (after `stop()`), for outage tests. */
  restart(): Promise<void>;
}

/**
 * Starts redis-server on `port` (a free one by default), resolving once it accepts connections.
 *
 * @example
 * const redis = await startRedisServer();
 * after(() => redis.stop());
 */
export async function startRedisServer(port?: number): Promise<RedisServer> {
  const chosen = port ?? (await freePort());
  let child: ChildProcess = await launch(chosen);
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    stop: async () => {
      await terminate(child);
    },
    restart: async () => {
      await terminate(child);
      child = await launch(chosen);
    },
  };
}

async function launch(port: number): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--protected-mode",
      "yes",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server did not start on port ${port}: ${output.slice(-500)}`));
    }, 10_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) before it was ready: ${output.slice(-500)}`));
    });
  });
  return child;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 3_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** node-redis client type as the tests use it. */
export type TestRedisClient = ReturnType<typeof createClient>;

/**
 * Mocha hooks for a suite that needs Redis: starts a redis-server before the suite (skipping it
 * loudly when the server is missing), hands out connected node-redis clients, and closes them and
 * the server after.
 *
 * @example
 * const redis = useRedisServer();
 * it("…", async () => { const client = await redis.client(); });
 */
export function useRedisServer(): { server(): RedisServer; client(): Promise<TestRedisClient> } {
  let server: RedisServer | undefined;
  const clients: TestRedisClient[] = [];
  before(async function () {
    requireRedisServer(this);
    server = await startRedisServer();
  });
  after(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    await server?.stop();
  });
  return {
    server: () => server!,
    client: async () => {
      const client = createClient({
        url: server!.url,
        socket: { reconnectStrategy: () => 100, connectTimeout: 1_000 },
      });
      client.on("error", () => undefined);
      await client.connect();
      clients.push(client);
      return client;
    },
  };
}
