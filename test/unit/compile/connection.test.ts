import assert from "node:assert/strict";
import { compileConnection } from "../../../src/compile/connection.js";
import { PolicyCompileError } from "../../../src/compile/compile-error.js";

describe("compile: connection", () => {
  it("fills in the language's defaults", () => {
    const connection = compileConnection(undefined);
    assert.equal(connection.allowMissingOrigin, false);
    assert.equal(connection.requireTls, false);
    assert.deepEqual(connection.transportList, ["polling", "websocket"]);
    assert.equal(connection.maxPayload, 1_000_000);
    assert.deepEqual(connection.maxDenials, { count: 20, windowMs: 60_000 });
    assert.equal(connection.matchOrigin("https://any.example"), false);
    assert.equal(connection.isTrustedProxy("127.0.0.1"), false);
  });

  it("parses sizes and rates, and orders transports the way engine.io lists them", () => {
    const connection = compileConnection({
      transports: ["websocket", "polling"],
      maxPayload: "64KiB",
      maxDenials: "5/10s",
      requireTls: true,
    });
    assert.deepEqual(connection.transportList, ["polling", "websocket"]);
    assert.ok(connection.transports.has("websocket"));
    assert.equal(connection.maxPayload, 65_536);
    assert.deepEqual(connection.maxDenials, { count: 5, windowMs: 10_000 });
    assert.equal(connection.requireTls, true);
    assert.ok(Object.isFrozen(connection));
  });

  it("throws for what the checker should have refused, rather than guessing", () => {
    assert.throws(() => compileConnection({ transports: [] }), PolicyCompileError);
    assert.throws(() => compileConnection({ maxPayload: "lots" }), PolicyCompileError);
    assert.throws(() => compileConnection({ maxDenials: "often" }), PolicyCompileError);
  });
});
