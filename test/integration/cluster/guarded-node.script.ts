// One node of a guarded fleet, run in a child process by the cluster tests (and the revoke bench):
// a real Socket.IO server on 127.0.0.1 with @socket.io/redis-adapter and sockguard given the same
// node-redis client. It prints `{"port":N}` once it listens, then answers one JSON command per
// stdin line with one JSON line on stdout: {"id","revoke":{target}} → {"id","result"|"error"},
// {"id","status":true} → {"id","result"}.
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { Server } from "socket.io";
import { sockguard, type Policy, type RevocationTarget } from "../../../src/index.js";

const [redisUrl, secret, variant = "v1", heartbeat = "300"] = process.argv.slice(2);
if (redisUrl === undefined || secret === undefined) {
  throw new Error("usage: guarded-node.script.ts REDIS_URL SECRET [VARIANT] [HEARTBEAT_MS]");
}

/** The fleet's policy; another `variant` adds an event, so its version differs. */
const policy: Policy = {
  version: 1,
  connection: { allowMissingOrigin: true },
  auth: {
    clockTolerance: "0s",
    issuers: { services: { issuer: "urn:test:services", secret, audience: "chat", algorithms: ["HS256"] } },
  },
  namespaces: {
    "/chat": {
      events: variant === "v1" ? { ping: { args: [] } } : { ping: { args: [] }, [variant]: { args: [] } },
    },
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
const guard = await sockguard(io, {
  policy,
  redis,
  heartbeatMs: Number(heartbeat),
  logger: {
    info: () => undefined,
    warn: (m) => process.stderr.write(`${m}\n`),
    error: (m) => process.stderr.write(`${m}\n`),
  },
});
io.of("/chat").on("connection", (socket) => socket.on("ping", (ack: (r: string) => void) => ack("pong")));
await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
const address = httpServer.address();
process.stdout.write(
  `${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`,
);

interface Command {
  readonly id: number;
  readonly revoke?: RevocationTarget;
  readonly status?: true;
}

const answer = (line: object): boolean => process.stdout.write(`${JSON.stringify(line)}\n`);
createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line) as Command;
  if (command.status) {
    answer({ id: command.id, result: guard.status() });
  } else if (command.revoke) {
    guard.revoke(command.revoke).then(
      (result) => answer({ id: command.id, result }),
      (error: Error) => answer({ id: command.id, error: error.message }),
    );
  }
});
