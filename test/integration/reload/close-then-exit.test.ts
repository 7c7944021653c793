import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
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
    const child = spawn(process.execPath, ["--import", "tsx", script, dir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

    // Startup (tsx compiles on the fly) may be slow on a busy machine; the exit after "closed" may not.
    const closedAt = await new Promise<number>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error(`never closed; stderr: ${stderr}`)), 15000);
      child.stdout.on("data", () => {
        if (stdout.includes("closed\n")) {
          clearTimeout(timeout);
          resolve(Date.now());
        }
      });
      void exited.then(() => {
        clearTimeout(timeout);
        if (!stdout.includes("closed\n")) reject(new Error(`exited before closing; stderr: ${stderr}`));
      });
    });
    let lingering: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited,
      new Promise<"still running">(
        (resolve) => (lingering = setTimeout(() => resolve("still running"), 3000)),
      ),
    ]);
    clearTimeout(lingering);
    if (code === "still running") {
      child.kill();
      await exited;
      assert.fail("the process was still running 3 s after closing the watcher and the reloader");
    }
    assert.equal(code, 0, stderr);
    assert.equal(stderr, "");
    assert.ok(Date.now() - closedAt < 3000);
  });
});
