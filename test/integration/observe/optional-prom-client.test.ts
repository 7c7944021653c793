import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const script = fileURLToPath(new URL("./without-prom-client.script.ts", import.meta.url));

/** Runs the script in a fresh Node process (with tsx) where prom-client cannot be resolved. */
async function runWithoutPromClient(...args: string[]): Promise<{ outcome: string; asked: string[] }> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", script, ...args], {
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as { outcome: string; asked: string[] };
}

describe("observe: prom-client is optional", function () {
  this.timeout(40_000);

  it("guards a server, decision log included, without ever importing prom-client when metrics is not given", async () => {
    const { outcome, asked } = await runWithoutPromClient();
    assert.equal(outcome, "guarded, handshake 200");
    assert.deepEqual(asked, []);
  });

  it("imports prom-client for the metrics option, and says to install it when it is missing", async () => {
    const { outcome, asked } = await runWithoutPromClient("metrics");
    assert.equal(
      outcome,
      "rejected: sockguard: options.metrics needs prom-client, which is not installed: `npm install prom-client`",
    );
    assert.deepEqual(asked, ["prom-client"]);
  });
});
