import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const script = fileURLToPath(new URL("./connect-text-retention.script.ts", import.meta.url));

describe("guard: what a connection keeps of its namespace connect", function () {
  this.timeout(60_000);

  it("keeps no copy of the connect packet's text (which carries the client's token) once the socket is admitted", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", script], {
      timeout: 50_000,
    });
    const found = JSON.parse(stdout.trim()) as { packetTexts: number; parsedValues: number };
    // The snapshot does hold the auth value Socket.IO parsed (socket.handshake.auth): the search works.
    assert.ok(found.parsedValues >= 5, stdout);
    assert.equal(found.packetTexts, 0, stdout);
  });
});
