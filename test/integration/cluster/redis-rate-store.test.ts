import { expect } from "chai";
import { RedisRateStore } from "../../../src/budget/redis-rate-store.js";
import type { RateRule } from "../../../src/budget/types.js";
import { useRedisServer, type TestRedisClient } from "../../helpers/redis-server.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await sleep(20);
  }
}

describe("RedisRateStore (a real redis-server)", function () {
  this.timeout(30_000);
  const redis = useRedisServer();
  const clients: TestRedisClient[] = [];

  async function store(reporter?: ConstructorParameters<typeof RedisRateStore>[1]): Promise<RedisRateStore> {
    const client = await redis.client();
    clients.push(client);
    return new RedisRateStore(client, reporter);
  }

  it("shares one budget between two stores on two clients, as two nodes would", async () => {
    const rule: RateRule = {
      id: "event:/chat:message:4/60000",
      points: 4,
      durationMs: 60_000,
      by: "subject",
    };
    const nodeA = await store();
    const nodeB = await store();
    const answers = [];
    for (let i = 0; i < 3; i++) {
      answers.push(await nodeA.consume(rule, "idp:alice"));
      answers.push(await nodeB.consume(rule, "idp:alice"));
    }
    expect(answers.filter((answer) => answer.allowed)).to.have.length(4);
    const refused = answers.filter((answer) => !answer.allowed);
    expect(refused).to.have.length(2);
    for (const answer of refused) if (!answer.allowed) expect(answer.retryAfterMs).to.be.within(1, 60_000);
  });

  it("keeps limiting per node while Redis is down, without hanging, reports the outage once, and shares again once Redis is back", async () => {
    const events: string[] = [];
    const reporter = { outage: () => events.push("outage"), recovered: () => events.push("recovered") };
    const rule: RateRule = { id: "event:/chat:typing:3/60000", points: 3, durationMs: 60_000, by: "subject" };
    const nodeA = await store(reporter);
    const nodeB = await store();
    const client = clients[clients.length - 2]!;

    await redis.server().stop();
    await waitFor(() => !client.isReady, 5_000);
    const started = Date.now();
    const during = [];
    for (let i = 0; i < 5; i++) during.push(await nodeA.consume(rule, "idp:bob"));
    expect(Date.now() - started, "no consume waits for Redis").to.be.below(1_000);
    expect(during.map((answer) => answer.allowed)).to.deep.equal([true, true, true, false, false]);
    expect(events).to.deep.equal(["outage"]);

    await redis.server().restart();
    await waitFor(() => client.isReady && clients[clients.length - 1]!.isReady, 10_000);
    expect(events).to.deep.equal(["outage", "recovered"]);
    const sharedRule: RateRule = { ...rule, id: "event:/chat:typing-after:3/60000" };
    const after = [];
    for (let i = 0; i < 2; i++) {
      after.push(await nodeA.consume(sharedRule, "idp:bob"));
      after.push(await nodeB.consume(sharedRule, "idp:bob"));
    }
    expect(after.map((answer) => answer.allowed)).to.deep.equal([true, true, true, false]);
  });
});
