import assert from "node:assert/strict";
import { parseDuration, parseRate, parseSize } from "../../../src/policy/units.js";

describe("policy units", () => {
  it("reads sizes in decimal and binary units, as engine.io does", () => {
    assert.equal(parseSize(512), 512);
    assert.equal(parseSize("64KiB"), 65_536);
    assert.equal(parseSize("1MB"), 1_000_000);
    assert.equal(parseSize("12 parsecs"), undefined);
  });

  it("reads durations, and refuses one too large to be a number", () => {
    assert.equal(parseDuration("30s"), 30_000);
    assert.equal(parseDuration("5m"), 300_000);
    assert.equal(parseDuration(`${"9".repeat(400)}s`), undefined);
  });

  it("reads rates, and refuses a count or window too large to be a number", () => {
    assert.deepEqual(parseRate("20/1m"), { count: 20, windowMs: 60_000 });
    assert.deepEqual(parseRate("5/10s"), { count: 5, windowMs: 10_000 });
    assert.equal(parseRate("0/1m"), undefined);
    assert.equal(parseRate(`${"9".repeat(400)}/1m`), undefined);
    assert.equal(parseRate(`20/${"9".repeat(400)}s`), undefined);
  });
});
