import { expect } from "chai";
import { compileQuotaRule, compileRateRule } from "../../../src/compile/budgets.js";

describe("compiled budgets", () => {
  it("gives a rate limit an id naming what it counts, its key and its limit, and defaults by to subject", () => {
    const rule = compileRateRule("5/10s", { kind: "event", namespace: "/chat", event: "message" }, []);
    expect(rule).to.deep.equal({
      id: JSON.stringify(["event", "/chat", "message", "subject", 5, 10_000]),
      points: 5,
      durationMs: 10_000,
      by: "subject",
    });
  });

  it("keeps the id of an unchanged limit, and changes it with the count, the window or the key", () => {
    const scope = { kind: "events", namespace: "/chat" } as const;
    const id = (limit: Parameters<typeof compileRateRule>[0]): string => compileRateRule(limit, scope, []).id;
    expect(id("5/10s")).to.equal(id({ rate: "5/10s", by: "subject" }));
    expect(id("5/10s")).to.not.equal(id("6/10s"));
    expect(id("5/10s")).to.not.equal(id("5/11s"));
    expect(id("5/10s")).to.not.equal(id({ rate: "5/10s", by: "socket" }));
  });

  it("counts the handshake limit by address whatever it says", () => {
    expect(compileRateRule("30/1m", { kind: "handshake" }, [], "address").by).to.equal("address");
  });

  it("keeps names that could be joined alike apart", () => {
    const a = compileRateRule("1/1s", { kind: "event", namespace: "/a", event: "b/c" }, []);
    const b = compileRateRule("1/1s", { kind: "event", namespace: "/a/b", event: "c" }, []);
    expect(a.id).to.not.equal(b.id);
  });

  it("names a quota by what it counts only, so a new maximum applies to the places already held", () => {
    expect(compileQuotaRule(5, { kind: "namespace", namespace: "/chat" }).id).to.equal(
      compileQuotaRule(9, { kind: "namespace", namespace: "/chat" }).id,
    );
  });

  it("refuses a rate the loader would have refused", () => {
    expect(() => compileRateRule("0/1m", { kind: "handshake" }, ["connection", "rateLimit"])).to.throw(
      "expected a rate",
    );
  });
});
