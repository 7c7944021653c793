/**
 * The soak's guarded server, in its own process (started with --expose-gc by bench/soak.ts): a
 * real Socket.IO server behind sockguard, its policy file watched, optionally with a Redis store.
 * The handler re-validates every event that reaches it and acks "ok"; `sample` reports the heap
 * after a full GC, RSS, open file descriptors, event-loop delay and what the guard reported.
 */
import { readdirSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createClient } from "redis";
import { Server } from "socket.io";
import { sockguard, type Guard } from "../../src/index.js";
import { serveCommands } from "../processes/serve-commands.js";
import { admissible } from "./soak-events.js";
import { SOAK_NAMESPACE } from "./soak-policy.js";

export interface StartArgs {
  readonly policyFile: string;
  readonly redisUrl?: string;
}

/** What one `sample` reports. */
export interface ServerSample {
  readonly heapAfterGcBytes: number;
  readonly rssBytes: number;
  readonly openFds: number;
  /** Event-loop delay since the last sample, in milliseconds. */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  readonly sockets: number;
  readonly reloads: number;
  readonly reloadsFailed: number;
  /** Events a handler received that break the policy (must stay 0), and the first few. */
  readonly violations: number;
  readonly violationExamples: readonly string[];
  /** The guard's denials so far, by code. */
  readonly denials: Readonly<Record<string, number>>;
}

type RedisClient = ReturnType<typeof createClient>;

let httpServer: HttpServer | undefined;
let io: Server | undefined;
let guard: Guard | undefined;
let redis: RedisClient | undefined;
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
const counts = { reloads: 0, reloadsFailed: 0, violations: 0 };
const violationExamples: string[] = [];
const denials: Record<string, number> = {};
const quiet = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};

async function start({ policyFile, redisUrl }: StartArgs): Promise<{ url: string }> {
  if (redisUrl !== undefined) {
    redis = createClient({ url: redisUrl });
    redis.on("error", () => undefined);
    await redis.connect();
  }
  httpServer = createServer((_req, res) => res.writeHead(404).end());
  io = new Server(httpServer);
  guard = await sockguard(io, {
    policy: policyFile,
    logger: quiet,
    ...(redis === undefined ? {} : { redis }),
  });
  guard.on("reload", () => (counts.reloads += 1));
  guard.on("reloadFailed", () => (counts.reloadsFailed += 1));
  guard.on("decision", (decision) => (denials[decision.code] = (denials[decision.code] ?? 0) + 1));
  io.of(SOAK_NAMESPACE).on("connection", (socket) => {
    socket.onAny((event: string, ...received: unknown[]) => {
      const last = received.at(-1);
      const ack = typeof last === "function" ? (last as (reply: unknown) => void) : undefined;
      const args = ack ? received.slice(0, -1) : received;
      if (!admissible(event, args)) {
        counts.violations += 1;
        if (violationExamples.length < 5) violationExamples.push(`${event}: ${safeJson(args)}`);
      }
      ack?.("ok");
    });
  });
  await new Promise<void>((resolve) => httpServer!.listen(0, "127.0.0.1", resolve));
  loopDelay.enable();
  return { url: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}` };
}

function sample(): ServerSample {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("the soak server needs --expose-gc");
  gc();
  gc();
  const result: ServerSample = {
    heapAfterGcBytes: process.memoryUsage().heapUsed,
    rssBytes: process.memoryUsage.rss(),
    openFds: readdirSync("/proc/self/fd").length,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
    sockets: io?.of(SOAK_NAMESPACE).sockets.size ?? 0,
    ...counts,
    violationExamples: [...violationExamples],
    denials: { ...denials },
  };
  loopDelay.reset();
  return result;
}

/** Closes the guard, the server and the Redis client; answers what is still active afterwards. */
async function close(): Promise<{ active: string[] }> {
  loopDelay.disable();
  await guard?.close();
  if (io) {
    const closing = io.close();
    httpServer?.closeAllConnections();
    await closing;
  }
  await redis?.close().catch(() => undefined);
  guard = undefined;
  io = undefined;
  redis = undefined;
  // Let closing handles finish their last callbacks before looking.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { active: process.getActiveResourcesInfo() };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value).slice(0, 120);
  } catch {
    return "(not JSON)";
  }
}

serveCommands({ start, sample, close }, () => close());
