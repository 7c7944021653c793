/**
 * A guarded fleet node in a child process (test/integration/cluster/guarded-node.script.ts),
 * driven from the test: it is started with `node --import tsx`, says which port it listens on, and
 * takes `revoke`, `status` and `cpu` commands over stdin. Killed (SIGKILL by default) by `kill()`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { GuardStatus, RevocationResult, RevocationTarget } from "../../src/index.js";
import { requireRedisServer, startRedisServer, type RedisServer } from "./redis-server.js";

const SCRIPT = fileURLToPath(new URL("../integration/cluster/guarded-node.script.ts", import.meta.url));

export interface FleetNode {
  readonly url: string;
  revoke(target: RevocationTarget): Promise<RevocationResult>;
  status(): Promise<GuardStatus>;
  /** The CPU time (user and system, µs) the node's process has used so far. */
  cpuMicros(): Promise<number>;
  /** What the node wrote on stderr (its guard's warnings). */
  readonly stderr: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts one node on `redisUrl`; `variant` other than "v1" runs a policy with another version
 * ("budgets": the policy with every budget); `budgets: "memory"` gives its guard no Redis client,
 * so it counts its budgets alone (the adapter still joins the fleet).
 *
 * @example
 * const a = await startFleetNode(redis.url, SECRET);
 * await a.revoke({ sub: "u1" });
 */
export async function startFleetNode(
  redisUrl: string,
  secret: string,
  {
    variant = "v1",
    heartbeatMs = 300,
    startupMs = 20_000,
    budgets = "redis",
  }: { variant?: string; heartbeatMs?: number; startupMs?: number; budgets?: "redis" | "memory" } = {},
): Promise<FleetNode> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", SCRIPT, redisUrl, secret, variant, String(heartbeatMs), budgets],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const pending = new Map<number, (line: { result?: unknown; error?: string }) => void>();
  let nextId = 1;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the node did not start; stderr: ${stderr}`)), startupMs);
    child.once("exit", (code) => reject(new Error(`the node exited (${code}); stderr: ${stderr}`)));
    createInterface({ input: child.stdout! }).on("line", (text) => {
      const line = JSON.parse(text) as { port?: number; id?: number; result?: unknown; error?: string };
      if (line.port !== undefined) {
        clearTimeout(timer);
        resolve(line.port);
      } else if (line.id !== undefined) {
        pending.get(line.id)?.(line);
        pending.delete(line.id);
      }
    });
  });
  const ask = <T>(command: object): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (line) =>
        line.error === undefined ? resolve(line.result as T) : reject(new Error(line.error)),
      );
      child.stdin!.write(`${JSON.stringify({ id, ...command })}\n`);
    });
  return {
    url: `http://127.0.0.1:${port}`,
    revoke: (target) => ask({ revoke: target }),
    status: () => ask({ status: true }),
    cpuMicros: () => ask({ cpu: true }),
    stderr: () => stderr,
    kill: (signal = "SIGKILL") => stop(child, signal),
  };
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

/** Options of {@link startFleetNode}. */
export type FleetNodeOptions = NonNullable<Parameters<typeof startFleetNode>[2]>;

/**
 * Mocha hooks for a suite on a fleet: starts a redis-server (skipping the suite loudly when it is
 * missing, failing under SOCKGUARD_REDIS=required) and `count` nodes on it before the suite, and
 * kills them and stops the server after.
 *
 * @example
 * const fleet = useFleet(3, SECRET);
 * it("…", async () => { const [a, b] = fleet.nodes(); await a.revoke({ sub: "u1" }); });
 */
export function useFleet(
  count: number,
  secret: string,
  options: FleetNodeOptions = {},
): { redis(): RedisServer; nodes(): FleetNode[] } {
  let redis: RedisServer | undefined;
  let nodes: FleetNode[] = [];
  before(async function () {
    requireRedisServer(this);
    const server = await startRedisServer();
    redis = server;
    nodes = await Promise.all(
      Array.from({ length: count }, () => startFleetNode(server.url, secret, options)),
    );
  });
  after(async () => {
    for (const node of nodes) await node.kill();
    await redis?.stop();
  });
  return { redis: () => redis!, nodes: () => nodes };
}
