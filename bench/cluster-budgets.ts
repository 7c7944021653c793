/**
 * `node --import tsx bench/cluster-budgets.ts [--rounds N] [--events N]`: what an event budget
 * costs per event when Redis counts it, against the same budget counted in memory and against no
 * budget, in one run. Two guarded node processes (the cluster tests' node script, policy variant
 * "budgets") share a real redis-server on loopback through @socket.io/redis-adapter: node R's guard
 * has the Redis client, node M's counts its budgets in memory. One client per variant sends `echo`
 * with an acknowledgement, one at a time: to `/bench` on R (no budget), to `/bench-counted` on M
 * (memory) and on R (Redis), a rate limit it never exhausts. Each round runs every variant once,
 * in a rotated order, for N events (default 1,000; 20 rounds); the first round warms up and is not counted.
 * Latency is the `emitWithAck` round trip; CPU is the node process's user + system time over the
 * variant's events, divided by their count (redis-server's own CPU is not included).
 */
import { parseArgs } from "node:util";
import type { Socket as ClientSocket } from "socket.io-client";
import { Cleanup } from "../test/helpers/cleanup.js";
import { connected, createClient } from "../test/helpers/clients.js";
import { startFleetNode, type FleetNode } from "../test/helpers/fleet-node.js";
import { redisServerInstalled, startRedisServer } from "../test/helpers/redis-server.js";
import { claimsFor, createSecret, signWithSecret } from "../test/helpers/tokens.js";
import { concatSamples, median, percentile, rotation } from "./stats.js";

/** The target: a Redis-counted event adds less than this to the p99 round trip. */
const TARGET_ADDED_P99_MS = 0.5;

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "20" }, events: { type: "string", default: "1000" } },
});
const rounds = Number(values.rounds);
const events = Number(values.events);
if (!redisServerInstalled()) {
  process.stderr.write("bench: redis-server is not installed (apt-get install redis-server)\n");
  process.exit(2);
}

interface Variant {
  readonly name: "no budget" | "memory" | "redis";
  readonly node: FleetNode;
  readonly namespace: string;
  client?: ClientSocket;
  readonly latency: Float64Array[];
  readonly cpuPerEvent: number[];
}

const secret = createSecret();
const redis = await startRedisServer();
const cleanup = new Cleanup();
const [shared, alone] = await Promise.all([
  startFleetNode(redis.url, secret, { variant: "budgets" }),
  startFleetNode(redis.url, secret, { variant: "budgets", budgets: "memory" }),
]);
try {
  const variants: Variant[] = [
    { name: "no budget", node: shared, namespace: "/bench", latency: [], cpuPerEvent: [] },
    { name: "memory", node: alone, namespace: "/bench-counted", latency: [], cpuPerEvent: [] },
    { name: "redis", node: shared, namespace: "/bench-counted", latency: [], cpuPerEvent: [] },
  ];
  const token = await signWithSecret(secret, claimsFor("urn:test:services", "chat", { sub: "bench" }));
  for (const [i, variant] of variants.entries()) {
    variant.client = createClient(cleanup, variant.node.url, variant.namespace, {
      transports: ["websocket"],
      auth: { token },
      extraHeaders: { "x-forwarded-for": `10.88.0.${i + 1}` },
    });
    await connected(variant.client, 5_000);
  }

  for (let round = 0; round <= rounds; round++) {
    for (const variant of rotation(variants, round)) {
      const client = variant.client!;
      const samples = new Float64Array(events);
      const cpuBefore = await variant.node.cpuMicros();
      for (let i = 0; i < events; i++) {
        const started = performance.now();
        const reply: unknown = await client.timeout(5_000).emitWithAck("echo", i);
        samples[i] = performance.now() - started;
        if (reply !== i) throw new Error(`${variant.name}: event ${i} was answered ${JSON.stringify(reply)}`);
      }
      const cpuAfter = await variant.node.cpuMicros();
      if (round === 0) continue;
      variant.latency.push(samples);
      variant.cpuPerEvent.push((cpuAfter - cpuBefore) / events);
    }
  }

  const ms = (value: number): string => `${value.toFixed(3)} ms`;
  const baseline = variants[0]!;
  const p = (variant: Variant, at: number): number => percentile(concatSamples(variant.latency), at);
  process.stdout.write(
    `per-event cost over ${rounds} rounds × ${events} events per variant (emitWithAck, one at a time)\n` +
      "| variant | p50 | p99 | added p99 | server CPU per event |\n| --- | --- | --- | --- | --- |\n",
  );
  for (const variant of variants) {
    process.stdout.write(
      `| ${variant.name} | ${ms(p(variant, 50))} | ${ms(p(variant, 99))} | ` +
        `${variant === baseline ? "–" : ms(p(variant, 99) - p(baseline, 99))} | ` +
        `${median(variant.cpuPerEvent).toFixed(1)} µs |\n`,
    );
  }
  const added = p(variants[2]!, 99) - p(baseline, 99);
  process.stdout.write(
    `target: a Redis-counted event adds < ${TARGET_ADDED_P99_MS} ms p99: ` +
      `${added < TARGET_ADDED_P99_MS ? "PASS" : "MISS"} (${ms(added)})\n`,
  );
} finally {
  await cleanup.run();
  await Promise.all([shared.kill("SIGTERM"), alone.kill("SIGTERM")]);
  await redis.stop();
}
