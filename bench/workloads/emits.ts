/**
 * Workload 7, the cost of checking emits (`emits: "warn"`, the default) against not checking them
 * (`emits: "off"`), in one run: two guarded servers in this process, each with the same policy
 * (one declared emit, an object schema) and the same number of WebSocket clients. Timed on the
 * server, around the synchronous emit calls: an emit to one socket (`socket.emit`) and a broadcast
 * to every socket of the namespace (`namespace.emit`), in rounds that alternate the two servers.
 * Each round waits until the clients received everything before the next, so no backlog carries
 * over. A broadcast is validated once, before the adapter fans it out: its added cost must not grow
 * with the recipients.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { Server, type Socket } from "socket.io";
import { io as connect, type Socket as ClientSocket } from "socket.io-client";
import { sockguard, type Guard, type Policy } from "../../src/index.js";
import { checkTarget, workloadReport, type WorkloadReport } from "../results.js";
import type { BenchSizes } from "../sizes.js";
import { median, ratio, rotation } from "../stats.js";

type Sizes = BenchSizes["emits"];
type Mode = "off" | "warn";

const NAMESPACE = "/room";
const POLICY: Policy = {
  version: 1,
  connection: { allowMissingOrigin: true, transports: ["websocket"] },
  namespaces: {
    [NAMESPACE]: {
      auth: "none",
      events: {},
      emits: {
        message: {
          schema: {
            type: "object",
            properties: {
              from: { type: "string", maxLength: 64 },
              text: { type: "string", maxLength: 500 },
              at: { type: "integer" },
            },
            required: ["from", "text", "at"],
            additionalProperties: false,
          },
        },
      },
    },
  },
};
const MESSAGE = { from: "bench-user", text: "hello, room: a short chat message", at: 1_700_000_000_000 };

interface EmitServer {
  readonly mode: Mode;
  readonly sockets: Socket[];
  readonly io: Server;
  /** Messages the clients received so far, all together. */
  received: number;
  close(): Promise<void>;
}

export async function runEmits(sizes: Sizes): Promise<WorkloadReport> {
  const report = workloadReport("Emits");
  const servers: EmitServer[] = [];
  try {
    for (const mode of ["off", "warn"] as const) servers.push(await startServer(mode, sizes.recipients));
    const single = new Map<Mode, number[]>([
      ["off", []],
      ["warn", []],
    ]);
    const broadcast = new Map<Mode, number[]>([
      ["off", []],
      ["warn", []],
    ]);
    for (let round = 0; round < sizes.rounds; round++) {
      for (const server of rotation(servers, round)) {
        single
          .get(server.mode)!
          .push(await timeEmits(server, sizes.emits, 1, () => server.sockets[0]!.emit("message", MESSAGE)));
        const namespace = server.io.of(NAMESPACE);
        broadcast
          .get(server.mode)!
          .push(
            await timeEmits(server, sizes.broadcasts, server.sockets.length, () =>
              namespace.emit("message", MESSAGE),
            ),
          );
      }
    }
    const value = (samples: Map<Mode, number[]>, mode: Mode): number => median(samples.get(mode)!.slice(1));
    for (const mode of ["off", "warn"] as const) {
      report.measurements.push(
        {
          variant: `emits: ${mode}`,
          metric: "emit to one socket",
          value: value(single, mode),
          unit: "µs",
          samples: single.get(mode)!,
        },
        {
          variant: `emits: ${mode}`,
          metric: `broadcast to ${sizes.recipients.toLocaleString("en")} sockets`,
          value: value(broadcast, mode),
          unit: "µs",
          samples: broadcast.get(mode)!,
        },
      );
    }
    const broadcastRatio = ratio(value(broadcast, "warn"), value(broadcast, "off"));
    report.measurements.push(
      {
        variant: "warn ÷ off",
        metric: "emit to one socket",
        value: ratio(value(single, "warn"), value(single, "off")),
        unit: "×",
      },
      {
        variant: "warn ÷ off",
        metric: `broadcast to ${sizes.recipients.toLocaleString("en")} sockets`,
        value: broadcastRatio,
        unit: "×",
      },
    );
    checkTarget(report, "a broadcast validates once: warn ≤ 1.10 × off", broadcastRatio, "<=", 1.1, "×");
    report.notes.push(
      `Server time per emit call (synchronous: validation, encoding, writes to each socket), median of ${sizes.rounds - 1} ` +
        `rounds of ${sizes.emits} single emits and ${sizes.broadcasts} broadcasts each (the first round warms up); ` +
        `${sizes.recipients} WebSocket clients per server, in this process.`,
    );
  } finally {
    for (const server of servers) await server.close();
  }
  return report;
}

/** Microseconds per call of `emit`, run `count` times; then waits until every copy was received. */
async function timeEmits(
  server: EmitServer,
  count: number,
  copies: number,
  emit: () => void,
): Promise<number> {
  const expected = server.received + count * copies;
  const begin = performance.now();
  for (let i = 0; i < count; i++) emit();
  const elapsed = performance.now() - begin;
  const deadline = Date.now() + 30_000;
  while (server.received < expected) {
    if (Date.now() > deadline)
      throw new Error(`emits: the clients received ${server.received} of ${expected} messages`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return (elapsed * 1000) / count;
}

async function startServer(mode: Mode, recipients: number): Promise<EmitServer> {
  const httpServer = createServer();
  const io = new Server(httpServer, { transports: ["websocket"] });
  const guard: Guard = await sockguard(io, {
    policy: POLICY,
    emits: mode,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  const sockets: Socket[] = [];
  io.of(NAMESPACE).on("connection", (socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const port = (httpServer.address() as AddressInfo).port;
  const clients: ClientSocket[] = [];
  const server: EmitServer = {
    mode,
    sockets,
    io,
    received: 0,
    close: async () => {
      for (const client of clients) client.disconnect();
      await guard.close();
      await new Promise((resolve) => io.close(resolve));
    },
  };
  for (let i = 0; i < recipients; i++) {
    const client = connect(`http://127.0.0.1:${port}${NAMESPACE}`, {
      transports: ["websocket"],
      reconnection: false,
    });
    client.on("message", () => void (server.received += 1));
    clients.push(client);
  }
  const deadline = Date.now() + 60_000;
  while (sockets.length < recipients) {
    if (Date.now() > deadline) throw new Error(`emits: ${sockets.length} of ${recipients} clients connected`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return server;
}
