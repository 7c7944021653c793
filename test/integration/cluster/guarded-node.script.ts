// One node of a guarded fleet, run in a child process by the cluster tests (and the cluster
// benches): a real Socket.IO server on 127.0.0.1 with @socket.io/redis-adapter and sockguard given
// the same node-redis client (or, with BUDGETS=memory, no client: its budgets are counted in this
// process). It prints `{"port":N}` once it listens, then answers one JSON command per stdin line
// with one JSON line on stdout: {"id","revoke":{target}} → {"id","result"|"error"},
// {"id","status":true} → {"id","result"}, {"id","cpu":true} → {"id","result":µs of CPU so far}.
// The guard's warnings and infos go to stderr, one line each.
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { Server } from "socket.io";
import { sockguard, type Policy, type RevocationTarget } from "../../../src/index.js";

const [redisUrl, secret, variant = "v1", heartbeat = "300", budgets = "redis"] = process.argv.slice(2);
if (redisUrl === undefined || secret === undefined) {
  throw new Error("usage: guarded-node.script.ts REDIS_URL SECRET [VARIANT] [HEARTBEAT_MS] [redis|memory]");
}

const auth: Policy["auth"] = {
  clockTolerance: "0s",
  issuers: { services: { issuer: "urn:test:services", secret, audience: "chat", algorithms: ["HS256"] } },
};

/** The fleet's policy; another `variant` adds an event, so its version differs. */
const chatPolicy: Policy = {
  version: 1,
  connection: { allowMissingOrigin: true },
  auth,
  namespaces: {
    "/chat": {
      events: variant === "v1" ? { ping: { args: [] } } : { ping: { args: [] }, [variant]: { args: [] } },
    },
  },
};

/**
 * The `budgets` variant: every budget the fleet shares, each in a namespace of its own so one
 * test's spending never touches another's. Addresses come from X-Forwarded-For (the tests give
 * each client its own), and refusals never close a connection.
 */
const budgetPolicy: Policy = {
  version: 1,
  connection: {
    allowMissingOrigin: true,
    trustedProxies: ["127.0.0.1"],
    rateLimit: "5/10s",
    maxDenials: "1000/1m",
  },
  auth,
  namespaces: {
    "/events": { events: { spend: { args: [], rateLimit: "5/10s" } } },
    "/connects": { rateLimit: "5/10s", events: {} },
    "/quota": { maxConnections: 2, events: {} },
    // The bench's: the same event without a budget, and with one it never exhausts.
    "/bench": { events: { echo: { args: [{ type: "integer" }] } } },
    "/bench-counted": { events: { echo: { args: [{ type: "integer" }], rateLimit: "100000000/1m" } } },
  },
};

const redis = createClient({
  url: redisUrl,
  socket: { reconnectStrategy: () => 100, connectTimeout: 1_000 },
});
const subscriber = redis.duplicate();
// Outages are part of the tests: a client's errors are the guard's to handle, not the process's.
redis.on("error", () => undefined);
subscriber.on("error", () => undefined);
await Promise.all([redis.connect(), subscriber.connect()]);

const httpServer = createServer();
const io = new Server(httpServer, { adapter: createAdapter(redis, subscriber, { requestsTimeout: 1_000 }) });
const toStderr = (message: string): boolean => process.stderr.write(`${message}\n`);
const guard = await sockguard(io, {
  policy: variant === "budgets" ? budgetPolicy : chatPolicy,
  ...(budgets === "memory" ? {} : { redis }),
  heartbeatMs: Number(heartbeat),
  logger: { info: toStderr, warn: toStderr, error: toStderr },
});
type Ack = (reply: unknown) => void;
io.of("/chat").on("connection", (socket) => socket.on("ping", (ack: Ack) => ack("pong")));
io.of("/events").on("connection", (socket) => socket.on("spend", (ack: Ack) => ack("ok")));
for (const name of ["/bench", "/bench-counted"])
  io.of(name).on("connection", (socket) => socket.on("echo", (n: number, ack: Ack) => ack(n)));
io.of("/connects");
io.of("/quota");
await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
const address = httpServer.address();
process.stdout.write(
  `${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`,
);

interface Command {
  readonly id: number;
  readonly revoke?: RevocationTarget;
  readonly status?: true;
  readonly cpu?: true;
}

const answer = (line: object): boolean => process.stdout.write(`${JSON.stringify(line)}\n`);
createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line) as Command;
  if (command.status) {
    answer({ id: command.id, result: guard.status() });
  } else if (command.cpu) {
    const usage = process.cpuUsage();
    answer({ id: command.id, result: usage.user + usage.system });
  } else if (command.revoke) {
    guard.revoke(command.revoke).then(
      (result) => answer({ id: command.id, result }),
      (error: Error) => answer({ id: command.id, error: error.message }),
    );
  }
});
