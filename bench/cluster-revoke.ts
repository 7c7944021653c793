/**
 * `node --import tsx bench/cluster-revoke.ts [-- --revokes N]`: the time from `guard.revoke()` on
 * one node to the disconnect of the revoked subject's socket on another node, over N revokes
 * (default 100). Two guarded node processes (the cluster tests' node script) share a real
 * redis-server on loopback through @socket.io/redis-adapter; this process holds one client per
 * subject on node B and asks node A to revoke each subject in turn. The time counts from the
 * command sent to A (a pipe write) to the client's `disconnect` event: the Redis write, the
 * adapter's broadcast, node B's disconnect and the WebSocket frame back.
 */
import { parseArgs } from "node:util";
import type { Socket as ClientSocket } from "socket.io-client";
import { Cleanup } from "../test/helpers/cleanup.js";
import { connected, createClient } from "../test/helpers/clients.js";
import { startFleetNode } from "../test/helpers/fleet-node.js";
import { redisServerInstalled, startRedisServer } from "../test/helpers/redis-server.js";
import { claimsFor, createSecret, signWithSecret } from "../test/helpers/tokens.js";
import { percentile } from "./stats.js";

const { values } = parseArgs({ options: { revokes: { type: "string", default: "100" } } });
const revokes = Number(values.revokes);
if (!redisServerInstalled()) {
  process.stderr.write("bench: redis-server is not installed (apt-get install redis-server)\n");
  process.exit(2);
}

const secret = createSecret();
const redis = await startRedisServer();
const cleanup = new Cleanup();
const [a, b] = await Promise.all([startFleetNode(redis.url, secret), startFleetNode(redis.url, secret)]);
try {
  const clients: ClientSocket[] = [];
  for (let i = 0; i < revokes; i++) {
    const token = await signWithSecret(secret, claimsFor("urn:test:services", "chat", { sub: `bench-${i}` }));
    const client = createClient(cleanup, b.url, "/chat", { transports: ["websocket"], auth: { token } });
    await connected(client, 5_000);
    clients.push(client);
  }
  const samples = new Float64Array(revokes);
  let reached = 0;
  for (let i = 0; i < revokes; i++) {
    const client = clients[i]!;
    const gone = new Promise<number>((resolve) =>
      client.once("disconnect", () => resolve(performance.now())),
    );
    const started = performance.now();
    const result = await a.revoke({ sub: `bench-${i}` });
    samples[i] = (await gone) - started;
    if (result.disconnected === 1 && result.nodes === 2) reached += 1;
  }
  const ms = (value: number): string => value.toFixed(2);
  process.stdout.write(
    `cross-node revoke → disconnect over ${revokes} revokes: p50 ${ms(percentile(samples, 50))} ms, ` +
      `p99 ${ms(percentile(samples, 99))} ms, max ${ms(Math.max(...samples))} ms; ` +
      `${reached}/${revokes} resolved { disconnected: 1, nodes: 2 }\n`,
  );
} finally {
  await cleanup.run();
  await Promise.all([a.kill("SIGTERM"), b.kill("SIGTERM")]);
  await redis.stop();
}
