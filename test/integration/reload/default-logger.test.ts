/**
 * The default logger (no `logger` option), read from a real process: a guarded server in a child
 * process, its policy file edited for real, its stdout and stderr captured.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runUntilClosed } from "../../helpers/child-exit.js";
import { makeTempDir, removeTempDir } from "./file-edits.js";

const script = fileURLToPath(new URL("./default-logger.script.ts", import.meta.url));

describe("guard: the default logger", function () {
  this.timeout(30_000);
  let dir: string;

  beforeEach(async () => {
    dir = await makeTempDir();
  });

  afterEach(async () => {
    await removeTempDir(dir);
  });

  it("prints each reload on stdout, a failed reload on stderr, and no line for a decision", async () => {
    const exit = await runUntilClosed(script, [dir], { startupMs: 20_000 });
    assert.equal(exit.code, 0, `exit ${exit.code}; stderr: ${exit.stderr}`);
    const file = join(dir, "policy.yaml");
    const version = "\\(version [0-9a-f]{12}, 1 file\\(s\\)\\)";
    const stdout = exit.stdout.split("\n");
    assert.equal(stdout.length, 3, exit.stdout);
    assert.match(stdout[0]!, new RegExp(`^sockguard: policy reloaded from ${escape(file)} ${version}$`));
    assert.deepEqual(stdout.slice(1), ["closed", ""]);
    assert.equal(
      exit.stderr,
      `sockguard: policy reload failed, the last good policy stays in force: ${file}:6:43: error: unknown key "argz" in namespaces["/"].events.bye (did you mean "args"?)\n`,
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
