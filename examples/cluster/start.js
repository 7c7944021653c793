/**
 * `npm run build && node examples/cluster/start.js`: starts a redis-server (Debian's package) on a
 * free loopback port with persistence off, two guarded chat nodes (node.js) sharing it, and then a
 * short demo: alice connects to the second node, the first node revokes her, her socket on the
 * second node is disconnected with `revoked`, her reconnect is refused on both nodes, and
 * `status()` lists both nodes with the policy version each enforces. Ctrl-C stops everything.
 */
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import { io as connect } from "socket.io-client";

const children = [];
const stopAll = () => children.forEach((child) => child.kill("SIGTERM"));
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    stopAll();
    process.exit(0);
  });
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts `command` and resolves once its output includes `ready`. */
function start(command, args, env, ready) {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.stdout.on("data", (chunk) => {
      const text = chunk.toString();
      if (command === process.execPath) process.stdout.write(text);
      if (text.includes(ready)) resolve(child);
    });
  });
}

const secret = randomBytes(32).toString("base64url");
const redisPort = await freePort();
await start(
  "redis-server",
  ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
  {},
  "Ready to accept connections",
).catch(() => {
  console.error("redis-server could not be started: install it (apt-get install redis-server)");
  process.exit(2);
});
const env = { REDIS_URL: `redis://127.0.0.1:${redisPort}`, CLUSTER_SECRET: secret };
const node = fileURLToPath(new URL("node.js", import.meta.url));
const ports = [await freePort(), await freePort()];
await Promise.all(
  ports.map((port) => start(process.execPath, [node], { ...env, NODE_PORT: String(port) }, "listening")),
);

const token = await new SignJWT({ sub: "alice" })
  .setProtectedHeader({ alg: "HS256" })
  .setIssuer("urn:sockguard:cluster-demo")
  .setAudience("chat")
  .setIssuedAt(Math.floor(Date.now() / 1000) - 1)
  .setExpirationTime("1h")
  .sign(Buffer.from(secret));
const client = (port) =>
  connect(`http://127.0.0.1:${port}/chat`, {
    transports: ["websocket"],
    reconnection: false,
    auth: { token },
  });

const alice = client(ports[1]);
await new Promise((resolve) => alice.once("connect", resolve));
console.log(`demo: alice is connected to node ${ports[1]}`);
const gone = new Promise((resolve) => alice.once("sockguard:denied", (notice) => resolve(notice.code)));
const revoked = await fetch(`http://127.0.0.1:${ports[0]}/revoke?sub=alice`, { method: "POST" }).then((r) =>
  r.json(),
);
console.log(
  `demo: node ${ports[0]} revoked alice: ${JSON.stringify(revoked)}; node ${ports[1]} told her: ${await gone}`,
);
for (const port of ports) {
  const again = client(port);
  const refusal = await new Promise((resolve) =>
    again.once("connect_error", (error) => resolve(error.data?.code)),
  );
  console.log(`demo: alice reconnecting to node ${port}: ${refusal}`);
  again.close();
}
// status().nodes is the fleet as read at the node's last heartbeat (every 5 s): the first node's
// first read came before the second node wrote its entry, so wait for a heartbeat that sees both.
const readStatus = () => fetch(`http://127.0.0.1:${ports[0]}/status`).then((r) => r.json());
let status = await readStatus();
for (let tries = 0; (status.nodes ?? []).length < ports.length && tries < 24; tries += 1) {
  await new Promise((resolve) => setTimeout(resolve, 500));
  status = await readStatus();
}
console.log(`demo: status() on node ${ports[0]}:`);
for (const entry of status.nodes ?? [])
  console.log(`  ${entry.id}  policy ${entry.version}  sockets ${entry.sockets}`);
console.log("demo: done; the nodes keep running (curl their /status), Ctrl-C stops everything");
