import { expect } from "chai";
import { MemoryQuotaStore } from "../../../src/budget/memory-quota-store.js";
import { MemoryRateStore } from "../../../src/budget/memory-rate-store.js";
import { RedisQuotaStore } from "../../../src/budget/redis-quota-store.js";
import { RedisRateStore } from "../../../src/budget/redis-rate-store.js";
import { budgetStoresFor } from "../../../src/cluster/budget-stores.js";
import { useRedisServer } from "../../helpers/redis-server.js";

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
});
