import { expect } from "chai";
import { MemoryQuotaStore } from "../../../src/budget/memory-quota-store.js";
import { MemoryRateStore } from "../../../src/budget/memory-rate-store.js";
import type { RateRule } from "../../../src/budget/types.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("MemoryRateStore", () => {
  const rule: RateRule = { id: "event:/chat:message:3/300", points: 3, durationMs: 300, by: "subject" };

  it("allows `points` per window and then refuses with the wait until the window ends", async () => {
    const store = new MemoryRateStore();
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await store.consume(rule, "idp:alice"));
    expect(answers.slice(0, 3).every((answer) => answer.allowed)).to.equal(true);
    const refused = answers[3]!;
    expect(refused.allowed).to.equal(false);
    if (refused.allowed) return;
    expect(refused.retryAfterMs).to.be.within(1, 300);
  });

  it("counts each key on its own", async () => {
    const store = new MemoryRateStore();
    for (let i = 0; i < 3; i++) await store.consume(rule, "idp:alice");
    expect((await store.consume(rule, "idp:alice")).allowed).to.equal(false);
    expect((await store.consume(rule, "idp:bob")).allowed).to.equal(true);
  });

  it("gives the budget back once the window has passed", async () => {
    const store = new MemoryRateStore();
    for (let i = 0; i < 3; i++) await store.consume(rule, "k");
    expect((await store.consume(rule, "k")).allowed).to.equal(false);
    await sleep(350);
    expect((await store.consume(rule, "k")).allowed).to.equal(true);
  });

  it("keeps the counters of a limit whose id is retained, and forgets the others", async () => {
    const store = new MemoryRateStore();
    const other: RateRule = { ...rule, id: "event:/chat:typing:3/300" };
    for (let i = 0; i < 3; i++) {
      await store.consume(rule, "k");
      await store.consume(other, "k");
    }
    store.retain(new Set([rule.id]));
    expect((await store.consume(rule, "k")).allowed, "retained limit keeps its count").to.equal(false);
    expect((await store.consume(other, "k")).allowed, "forgotten limit starts afresh").to.equal(true);
  });

  it("counts a changed limit (another id) afresh", async () => {
    const store = new MemoryRateStore();
    for (let i = 0; i < 3; i++) await store.consume(rule, "k");
    const raised: RateRule = { ...rule, id: "event:/chat:message:4/300", points: 4 };
    expect((await store.consume(raised, "k")).allowed).to.equal(true);
  });
});

describe("MemoryQuotaStore", () => {
  const rule = { id: "connection", max: 2 };

  it("admits `max` holders per key, refuses the next, and frees a place on release", async () => {
    const quotas = new MemoryQuotaStore();
    expect(await quotas.acquire(rule, "10.0.0.7", "a")).to.equal(true);
    expect(await quotas.acquire(rule, "10.0.0.7", "b")).to.equal(true);
    expect(await quotas.acquire(rule, "10.0.0.7", "c")).to.equal(false);
    expect(await quotas.acquire(rule, "10.0.0.8", "c"), "another key has its own places").to.equal(true);
    await quotas.release(rule, "10.0.0.7", "a");
    expect(await quotas.acquire(rule, "10.0.0.7", "c")).to.equal(true);
    expect(quotas.count(rule, "10.0.0.7")).to.equal(2);
  });

  it("counts a holder once, however often it acquires, and releases it once", async () => {
    const quotas = new MemoryQuotaStore();
    expect(await quotas.acquire(rule, "k", "a")).to.equal(true);
    expect(await quotas.acquire(rule, "k", "a")).to.equal(true);
    expect(quotas.count(rule, "k")).to.equal(1);
    await quotas.release(rule, "k", "a");
    await quotas.release(rule, "k", "a");
    expect(quotas.count(rule, "k")).to.equal(0);
  });

  it("keeps quotas of different ids apart even when id and key could be joined alike", async () => {
    const quotas = new MemoryQuotaStore();
    const a = { id: "a:b", max: 1 };
    const b = { id: "a", max: 1 };
    expect(await quotas.acquire(a, "c", "h1")).to.equal(true);
    expect(await quotas.acquire(b, "b:c", "h2")).to.equal(true);
  });
});
