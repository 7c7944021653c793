import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runUntilClosed } from "../../helpers/child-exit.js";
import { makeTempDir, removeTempDir } from "../reload/file-edits.js";

const script = fileURLToPath(new URL("./guard-close-exit.script.ts", import.meta.url));

describe("guard: close()", function () {
  this.timeout(30_000);
  let dir: string;

  beforeEach(async () => {
    dir = await makeTempDir();
  });

  afterEach(async () => {
    await removeTempDir(dir);
  });

  it("leaves nothing behind: a process that closed its server, client, guard and JWKS server exits on its own", async () => {
    const exit = await runUntilClosed(script, [dir], { startupMs: 20_000, graceMs: 3_000 });
    assert.equal(exit.code, 0, `exit ${exit.code}; stderr: ${exit.stderr}`);
    assert.equal(exit.stderr, "");
    assert.ok(exit.exitedAfterMs < 3000);
  });
});
