import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runUntilClosed } from "../../helpers/child-exit.js";
import { makeTempDir, removeTempDir } from "./file-edits.js";

const script = fileURLToPath(new URL("./close-then-exit.script.ts", import.meta.url));

describe("closing the watcher and the reloader", function () {
  this.timeout(20000);
  let dir: string;

  beforeEach(async () => {
    dir = await makeTempDir();
  });

  afterEach(async () => {
    await removeTempDir(dir);
  });

  it("leaves no watcher or timer behind: a process that closed them exits on its own", async () => {
    const exit = await runUntilClosed(script, [dir]);
    assert.equal(exit.code, 0, `exit ${exit.code}; stderr: ${exit.stderr}`);
    assert.equal(exit.stderr, "");
    assert.ok(exit.exitedAfterMs < 3000);
  });
});
