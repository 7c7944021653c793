import assert from "node:assert/strict";
import { isReservedEventName, reservedEventReason } from "../../../src/policy/reserved-events.js";

describe("reserved event names", () => {
  const reserved = [
    "",
    "error",
    "connect_error",
    "new_namespace",
    "removeListener",
    "sockguard:x",
    "sockguard:reauth",
    "0",
    "123",
    "007",
    "1e3",
    "0x10",
    "-1",
    "1.5",
    " 7 ",
  ];
  const declarable = ["message", "constructor", "__proto__", "1a", "Infinity", "e3", "x1", "  ", "_1"];

  it("knows the names no policy can declare, numeric ones being whatever Number() reads as finite", () => {
    for (const name of reserved) assert.equal(isReservedEventName(name), true, JSON.stringify(name));
    for (const name of declarable) assert.equal(isReservedEventName(name), false, JSON.stringify(name));
  });

  it("gives a reason for exactly the names it reserves, so the loader and the guard agree", () => {
    for (const name of [...reserved, ...declarable]) {
      assert.equal(reservedEventReason(name) !== undefined, isReservedEventName(name), JSON.stringify(name));
    }
    assert.match(reservedEventReason("0x10")!, /is numeric/);
    assert.match(reservedEventReason("error")!, /error is reserved/);
  });
});
