import { expect } from "chai";
import { clockRateStore } from "../../../src/budget/clock-rate-store.js";
import type { RateRule } from "../../../src/budget/types.js";

describe("clockRateStore (sockguard test's budgets)", () => {
  const rule: RateRule = { id: "event:/chat:message:5/10000", points: 5, durationMs: 10_000, by: "subject" };
  const start = Date.parse("2026-01-01T00:00:00Z");

  it("allows the rule's points in a window and refuses the next with the wait on its own clock", async () => {
    let now = start;
    const store = clockRateStore(() => now);
    for (let i = 0; i < 5; i++) {
      expect((await store.consume(rule, "s:4:demo:alice")).allowed).to.equal(true);
      now += 1000;
    }
    // Five seconds into the window: five remain before it ends.
    expect(await store.consume(rule, "s:4:demo:alice")).to.deep.equal({ allowed: false, retryAfterMs: 5000 });
  });

  it("frees the budget once the clock passes the window, though no real time passed", async () => {
    let now = start;
    const store = clockRateStore(() => now);
    for (let i = 0; i < 5; i++) await store.consume(rule, "s:4:demo:alice");
    expect((await store.consume(rule, "s:4:demo:alice")).allowed).to.equal(false);
    now += 9_999;
    expect((await store.consume(rule, "s:4:demo:alice")).allowed).to.equal(false);
    now += 1;
    expect((await store.consume(rule, "s:4:demo:alice")).allowed).to.equal(true);
  });

  it("counts keys and rules apart, and gives a refunded point back", async () => {
    const now = start;
    const store = clockRateStore(() => now);
    const other: RateRule = { ...rule, id: "events:/chat:20/60000", points: 20, durationMs: 60_000 };
    for (let i = 0; i < 5; i++) await store.consume(rule, "s:4:demo:alice");
    expect((await store.consume(rule, "s:4:demo:bob")).allowed).to.equal(true);
    expect((await store.consume(other, "s:4:demo:alice")).allowed).to.equal(true);
    await store.refund(rule, "s:4:demo:alice");
    expect((await store.consume(rule, "s:4:demo:alice")).allowed).to.equal(true);
    expect((await store.consume(rule, "s:4:demo:alice")).allowed).to.equal(false);
  });
});
