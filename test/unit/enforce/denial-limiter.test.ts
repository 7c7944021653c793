import assert from "node:assert/strict";
import { DenialWindow } from "../../../src/enforce/denial-limiter.js";

describe("enforce: the maxDenials window", () => {
  const rate = { count: 3, windowMs: 1000 };

  it("allows up to count denials within the window, and not one more", () => {
    const window = new DenialWindow();
    assert.deepEqual(
      [0, 10, 20, 30].map((t) => window.record(t, rate)),
      [false, false, false, true],
    );
  });

  it("forgets denials once they are more than two windows old", () => {
    const window = new DenialWindow();
    for (const t of [0, 10, 20]) window.record(t, rate);
    assert.equal(window.record(2500, rate), false);
  });

  it("does not let a burst straddle a window boundary twice over", () => {
    const window = new DenialWindow();
    // The window opens at the first denial (t = 0); two more come just before it closes.
    for (const t of [0, 995, 996]) assert.equal(window.record(t, rate), false);
    // Just after the boundary, a fixed window would start again from zero; the last second already holds three.
    assert.equal(window.record(1001, rate), true);
  });

  it("lets the previous window's weight fade as it slides out", () => {
    const window = new DenialWindow();
    for (const t of [0, 1, 2]) window.record(t, rate);
    // At t = 1900 the previous window [0, 1000) overlaps the last second by 10%: 0.3 + 1 ≤ 3.
    assert.equal(window.record(1900, rate), false);
    assert.equal(window.record(1901, rate), false);
    assert.equal(window.record(1902, rate), true);
  });
});
