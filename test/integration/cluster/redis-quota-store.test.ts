import { expect } from "chai";
import { RedisQuotaStore } from "../../../src/budget/redis-quota-store.js";
import { useRedisServer, type TestRedisClient } from "../../helpers/redis-server.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("RedisQuotaStore (a real redis-server)", function () {
  this.timeout(30_000);
  const redis = useRedisServer();
  const stores: RedisQuotaStore[] = [];

  after(async () => {
    for (const store of stores) await store.close();
  });

  async function node(lease?: {
    leaseMs: number;
    renewMs: number;
  }): Promise<{ store: RedisQuotaStore; client: TestRedisClient }> {
    const client = await redis.client();
    const store = new RedisQuotaStore(client, undefined, lease);
    stores.push(store);
    return { store, client };
  }

  it("counts one quota across two nodes, and a release on one frees a place for the other", async () => {
    const rule = { id: "connection", max: 3 };
    const a = await node();
    const b = await node();
    expect(await a.store.acquire(rule, "10.0.0.7", "a1")).to.equal(true);
    expect(await b.store.acquire(rule, "10.0.0.7", "b1")).to.equal(true);
    expect(await a.store.acquire(rule, "10.0.0.7", "a2")).to.equal(true);
    expect(await b.store.acquire(rule, "10.0.0.7", "b2"), "the fourth place of three").to.equal(false);
    expect(await b.store.acquire(rule, "10.0.0.8", "b2"), "another address").to.equal(true);
    await a.store.release(rule, "10.0.0.7", "a1");
    expect(await b.store.acquire(rule, "10.0.0.7", "b2")).to.equal(true);
  });

  it("keeps each node to the quota on its own while Redis is down, without waiting for it", async () => {
    const rule = { id: "namespace:/chat", max: 2 };
    const a = await node();
    await redis.server().stop();
    while (a.client.isReady) await sleep(20);
    const started = Date.now();
    const answers = [];
    for (const holder of ["x", "y", "z"]) answers.push(await a.store.acquire(rule, "idp:alice", holder));
    expect(Date.now() - started).to.be.below(1_000);
    expect(answers).to.deep.equal([true, true, false]);
    await redis.server().restart();
    while (!a.client.isReady) await sleep(20);
  });

  it("frees the places of a node that stops renewing (crashed) once their lease ends, and keeps a live node's", async () => {
    const rule = { id: "lease-test", max: 2 };
    const crashed = await node({ leaseMs: 400, renewMs: 100 });
    const live = await node({ leaseMs: 400, renewMs: 100 });
    expect(await crashed.store.acquire(rule, "k", "crashed-holder")).to.equal(true);
    expect(await live.store.acquire(rule, "k", "live-holder")).to.equal(true);
    expect(await live.store.acquire(rule, "k", "newcomer"), "both places taken").to.equal(false);
    await crashed.store.close(); // stops renewing, as a killed process would
    await sleep(700);
    expect(await live.store.acquire(rule, "k", "newcomer"), "the crashed node's place is free").to.equal(
      true,
    );
    expect(await live.store.acquire(rule, "k", "another"), "the live node's place was renewed").to.equal(
      false,
    );
  });
});
