/**
 * One node of the cluster example: a Socket.IO server with @socket.io/redis-adapter, guarded by
 * policy.yaml with the same node-redis client, so revocations and the fleet's status are shared.
 * Besides Socket.IO it answers two loopback-only HTTP routes for the demo: `GET /status`
 * (guard.status()) and `POST /revoke?sub=NAME` (guard.revoke). A real app would put those behind
 * its own admin authentication.
 *
 * Environment: NODE_PORT, REDIS_URL, CLUSTER_SECRET (see start.js).
 */
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { Server } from "socket.io";
import { sockguard } from "../../dist/index.js";

const port = Number(process.env.NODE_PORT ?? "3001");
const redis = createClient({ url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" });
const subscriber = redis.duplicate();
redis.on("error", () => undefined); // outages are reported by the guard, once each
subscriber.on("error", () => undefined);
await Promise.all([redis.connect(), subscriber.connect()]);

const httpServer = createServer((request, response) => {
  const url = new URL(request.url ?? "/", "http://localhost");
  const reply = (status, body) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  };
  if (request.method === "GET" && url.pathname === "/status") return reply(200, guard.status());
  if (request.method === "POST" && url.pathname === "/revoke" && url.searchParams.get("sub")) {
    return void guard.revoke({ sub: url.searchParams.get("sub") }).then(
      (result) => reply(200, result),
      (error) => reply(500, { error: error.message }),
    );
  }
  reply(404, { error: "not found" });
});
const io = new Server(httpServer, { adapter: createAdapter(redis, subscriber), transports: ["websocket"] });
const guard = await sockguard(io, {
  policy: fileURLToPath(new URL("policy.yaml", import.meta.url)),
  redis,
});
guard.on("decision", (decision) => console.log(`node ${port}: ${decision.code} (${decision.stage})`));
io.of("/chat").on("connection", (socket) => {
  socket.on("message", (message) =>
    io.of("/chat").emit("message", { from: socket.data.sockguard.subject, ...message }),
  );
});
httpServer.listen(port, "127.0.0.1", () => console.log(`node ${port}: listening, policy ${guard.version}`));
