import { expect } from "chai";
import { createServer, connect, type Server, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { createClient } from "redis";
import { REDIS_ANSWER_TIMEOUT_MS } from "../../../src/budget/redis-rate-store.js";
import { budgetStoresFor } from "../../../src/cluster/budget-stores.js";
import { useRedisServer } from "../../helpers/redis-server.js";

/**
 * A loopback TCP relay to redis-server that can go silent: while frozen it keeps every connection
 * open but forwards nothing either way, as a network split that drops packets does (Redis neither
 * answers nor closes, and the client sees no error). What was sent meanwhile waits, as TCP
 * retransmits it, and arrives once the relay thaws.
 */
class SilentRelay {
  #frozen = false;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(targetPort: number) {
    this.#server = createServer((inbound) => {
      const outbound = connect(targetPort, "127.0.0.1");
      for (const socket of [inbound, outbound]) {
        this.#sockets.add(socket);
        socket.on("error", () => undefined);
        socket.on("close", () => this.#sockets.delete(socket));
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
      if (this.#frozen) for (const socket of [inbound, outbound]) socket.pause();
      inbound.on("close", () => outbound.destroy());
      outbound.on("close", () => inbound.destroy());
    });
  }

  /** Stops (true) or resumes (false) forwarding on every connection. */
  set frozen(frozen: boolean) {
    this.#frozen = frozen;
    for (const socket of this.#sockets) {
      if (frozen) socket.pause();
      else socket.resume();
    }
  }

  listen(): Promise<number> {
    return new Promise((resolve) =>
      this.#server.listen(0, "127.0.0.1", () => resolve((this.#server.address() as { port: number }).port)),
    );
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const begin = performance.now();
  const value = await work;
  return { value, ms: performance.now() - begin };
}

describe("budgets when Redis goes silent (a split that drops packets)", function () {
  this.timeout(20_000);
  const redis = useRedisServer();

  it("answers every budget within the answer timeout, counting in memory, and uses Redis again once it answers", async () => {
    const relay = new SilentRelay(redis.server().port);
    const port = await relay.listen();
    const client = createClient({
      url: `redis://127.0.0.1:${port}`,
      socket: { reconnectStrategy: () => 100 },
    });
    client.on("error", () => undefined);
    await client.connect();
    const { rate, quota } = budgetStoresFor(client);
    const limit = { id: "silent-split", points: 2, durationMs: 60_000, by: "address" } as const;
    const place = { id: "namespace:/silent", max: 1 };
    try {
      expect((await timed(rate.consume(limit, "a:10.0.0.1"))).value).to.deep.equal({ allowed: true });

      relay.frozen = true;
      const bound = REDIS_ANSWER_TIMEOUT_MS + 400;
      // The insurance limiter counts from zero: two points, then the limit holds.
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await timed(rate.consume(limit, "a:10.0.0.1")));
      for (const answer of answers) expect(answer.ms).to.be.below(bound);
      expect(answers.map((answer) => answer.value.allowed)).to.deep.equal([true, true, false]);
      const first = await timed(quota.acquire(place, "s:1:i:u1", "socket:a"));
      const second = await timed(quota.acquire(place, "s:1:i:u1", "socket:b"));
      expect([first.value, second.value]).to.deep.equal([true, false]);
      expect(Math.max(first.ms, second.ms)).to.be.below(bound);

      relay.frozen = false;
      // node-redis answers the commands it wrote meanwhile as soon as the relay forwards again.
      const after = await timed(rate.consume({ ...limit, id: "after-split" }, "a:10.0.0.1"));
      expect(after.value).to.deep.equal({ allowed: true });
      expect(after.ms).to.be.below(REDIS_ANSWER_TIMEOUT_MS);
    } finally {
      relay.frozen = false;
      await Promise.all([rate.close(), quota.close()]);
      await client.close().catch(() => undefined);
      await relay.close();
    }
  });
});
