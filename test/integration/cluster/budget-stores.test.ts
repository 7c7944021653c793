import { expect } from "chai";
import { MemoryQuotaStore } from "../../../src/budget/memory-quota-store.js";
import { MemoryRateStore } from "../../../src/budget/memory-rate-store.js";
import { RedisQuotaStore } from "../../../src/budget/redis-quota-store.js";
import { RedisRateStore } from "../../../src/budget/redis-rate-store.js";
import { budgetStoresFor } from "../../../src/cluster/budget-stores.js";
import { useRedisServer } from "../../helpers/redis-server.js";
import { delay, waitUntil } from "../../helpers/wait.js";

describe("budgetStoresFor", () => {
  const redis = useRedisServer();

  it("counts in memory without a Redis client", async () => {
    const { rate, quota } = budgetStoresFor();
    expect(rate).to.be.instanceOf(MemoryRateStore);
    expect(quota).to.be.instanceOf(MemoryQuotaStore);
  });

  it("counts in Redis with a client, one budget for two guards sharing it", async () => {
    const client = await redis.client();
    const first = budgetStoresFor(client);
    const second = budgetStoresFor(await redis.client());
    expect(first.rate).to.be.instanceOf(RedisRateStore);
    expect(first.quota).to.be.instanceOf(RedisQuotaStore);
    const rule = { id: "connection", max: 1 };
    expect(await first.quota.acquire(rule, "10.0.0.9", "a")).to.equal(true);
    expect(await second.quota.acquire(rule, "10.0.0.9", "b")).to.equal(false);
    for (const stores of [first, second]) await Promise.all([stores.rate.close(), stores.quota.close()]);
  });

  it("tells its reporter of an outage once, though both stores notice it, and once of the return", async () => {
    const client = await redis.client();
    const told: string[] = [];
    const { rate, quota } = budgetStoresFor(client, {
      outage: () => told.push("outage"),
      recovered: () => told.push("recovered"),
    });
    const limit = { id: "once-per-outage", points: 5, durationMs: 10_000, by: "address" } as const;
    await redis.server().stop();
    await waitUntil(() => !client.isReady, 2_000, "the client noticing the stop");
    expect(await rate.consume(limit, "a:10.0.0.1")).to.deep.equal({ allowed: true });
    expect(await quota.acquire({ id: "connection", max: 1 }, "10.0.0.1", "x")).to.equal(true);
    await redis.server().restart();
    await waitUntil(() => client.isReady, 5_000, "the client's reconnect");
    await delay(50);
    expect(told).to.deep.equal(["outage", "recovered"]);
    await Promise.all([rate.close(), quota.close()]);
  });
});
