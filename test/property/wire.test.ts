/**
 * The wire against generated frames (test/property/harness/wire.ts): raw WebSocket and polling
 * batches to a real guarded server. No uncaught error, no event that breaks its schema reaches a
 * handler, a legitimate client is answered after every batch, and memory stays bounded.
 */
import fc from "fast-check";
import { expect } from "chai";
import { sendBatch, startWireTarget, wireBatch, type WireTarget } from "./harness/wire.js";
import { assertProperty } from "./harness/seed.js";

describe("property: the wire", function () {
  this.timeout(60_000);
  let target: WireTarget | undefined;
  const uncaught: unknown[] = [];
  const record = (error: unknown): void => {
    uncaught.push(error);
  };
  before(async () => {
    process.on("uncaughtException", record);
    target = await startWireTarget();
  });
  after(async () => {
    process.off("uncaughtException", record);
    await target?.close();
  });

  it("admits no invalid event and answers a legitimate client after every batch", async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    await assertProperty(
      fc.asyncProperty(wireBatch, async (batch) => {
        await sendBatch(target!.url, batch);
        await target!.legitimateAnswered();
        if (target!.violations.length > 0)
          throw new Error(`reached a handler: ${target!.violations.join("; ")}`);
        if (uncaught.length > 0) throw new Error(`uncaught: ${String(uncaught[0])}`);
      }),
      150,
      "test/property/wire.test.ts",
    );
    // 150 legitimate events, one closing event per WebSocket batch, and the generated ones that were valid.
    expect(target!.admitted.count, "events the handlers re-validated").to.be.above(150);
    const grownMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    expect(grownMiB, "heap growth in MiB").to.be.below(200);
  });
});
