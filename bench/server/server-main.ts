/**
 * A benchmark server process: one Socket.IO server on 127.0.0.1 serving the bench application
 * (`/chat`, whose `echo` event acknowledges its argument), as one variant: plain, guarded by
 * sockguard, or guarded by the hand-written middleware. Driven over IPC by the bench (see
 * `HelperProcess`); it also reports its memory and times policy swaps on request.
 */
import { writeFile } from "node:fs/promises";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { Server } from "socket.io";
import { sockguard, type Guard, type TokenCacheOption } from "../../src/index.js";
import { serveCommands } from "../processes/serve-commands.js";
import { BENCH_EVENT, BENCH_NAMESPACE } from "../fixtures/scenario.js";
import {
  handwrittenServerOptions,
  installHandwrittenGuard,
  type HandwrittenConfig,
} from "./handwritten-guard.js";

export type ServerVariant =
  | { readonly kind: "plain" }
  | {
      readonly kind: "sockguard";
      readonly policyPath: string;
      /** The guard's `tokenCache` option; its default when absent. */
      readonly tokenCache?: TokenCacheOption;
    }
  | { readonly kind: "handwritten"; readonly config: HandwrittenConfig };

export interface MemoryReading {
  /** Resident set size after a full garbage collection, in bytes. */
  readonly rss: number;
  readonly heapUsed: number;
  /** Sockets connected to the bench namespace. */
  readonly sockets: number;
}

export interface SwapTimings {
  /** Milliseconds of each `guard.reload()`: read, check, compile and swap. */
  readonly reloadMs: readonly number[];
  /** Milliseconds of each swap alone: the new policy put in force and every live socket rechecked. */
  readonly swapMs: readonly number[];
  readonly sockets: number;
}

let httpServer: HttpServer | undefined;
let io: Server | undefined;
let guard: Guard | undefined;
let policyPath: string | undefined;

async function start(variant: ServerVariant): Promise<{ url: string }> {
  if (io) throw new Error("the server is already started");
  httpServer = createServer((_request, response) => {
    response.writeHead(404);
    response.end();
  });
  io = new Server(httpServer, variant.kind === "handwritten" ? handwrittenServerOptions(variant.config) : {});
  if (variant.kind === "sockguard") {
    policyPath = variant.policyPath;
    guard = await sockguard(io, {
      policy: variant.policyPath,
      watch: false,
      ...(variant.tokenCache === undefined ? {} : { tokenCache: variant.tokenCache }),
    });
  } else if (variant.kind === "handwritten") {
    await installHandwrittenGuard(io, variant.config);
  }
  io.of(BENCH_NAMESPACE).on("connection", (socket) => {
    socket.on(BENCH_EVENT, (message: unknown, ack: unknown) => {
      if (typeof ack === "function") ack(message);
    });
  });
  const server = httpServer;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** CPU time this process has used so far (user and system), in microseconds. */
function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

function connectedSockets(): number {
  return io?.of(BENCH_NAMESPACE).sockets.size ?? 0;
}

/** Memory after two full collections (the process runs with `--expose-gc`). */
async function memory(): Promise<MemoryReading> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("the server process needs --expose-gc to measure memory");
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed, sockets: connectedSockets() };
}

/**
 * Writes each of `revisions` (policy texts that all still admit the connected sockets) over the
 * policy file in turn and reloads, timing the whole reload and, inside it, the swap: the guard's
 * `swapPolicy`, which assigns the new policy and rechecks every live socket against it.
 */
async function timeSwaps(args: { revisions: readonly string[] }): Promise<SwapTimings> {
  if (!guard || !policyPath) throw new Error("timing swaps needs a sockguard server");
  const internals = guard as unknown as { swapPolicy?: (compiled: unknown) => void };
  const swap = internals.swapPolicy;
  if (typeof swap !== "function") throw new Error("the guard has no swapPolicy to time");
  const swapMs: number[] = [];
  internals.swapPolicy = (compiled: unknown) => {
    const begin = performance.now();
    swap.call(guard, compiled);
    swapMs.push(performance.now() - begin);
  };
  const reloadMs: number[] = [];
  try {
    for (const text of args.revisions) {
      await writeFile(policyPath, text);
      const begin = performance.now();
      const outcome = await guard.reload();
      reloadMs.push(performance.now() - begin);
      if (!outcome.ok) throw new Error(`a policy revision did not load: ${outcome.diagnostics[0]?.message}`);
    }
  } finally {
    internals.swapPolicy = swap;
  }
  return { reloadMs, swapMs, sockets: connectedSockets() };
}

async function stop(): Promise<void> {
  await guard?.close();
  io?.disconnectSockets(true);
  httpServer?.closeAllConnections();
  await io?.close();
}

serveCommands(
  {
    start: (variant: ServerVariant) => start(variant),
    sockets: () => connectedSockets(),
    cpuMicros: () => cpuMicros(),
    memory: () => memory(),
    timeSwaps: (args: { revisions: readonly string[] }) => timeSwaps(args),
  },
  stop,
);
