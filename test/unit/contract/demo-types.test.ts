/**
 * The chat demo's contract: `examples/chat/sockguard-events.ts` is what `sockguard types` makes of
 * `policies/chat.yaml` today (regenerate it when the policy changes), and the demo's handlers and
 * server (plain JavaScript) type-check against it under `tsc --strict` with `checkJs`.
 */
import { expect } from "chai";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCliIn } from "../../helpers/cli-run.js";
import { strictProblems } from "../../helpers/strict-program.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const GENERATED = join(ROOT, "examples/chat/sockguard-events.ts");

describe("the chat demo's generated types", () => {
  it("are up to date with policies/chat.yaml (run: sockguard types policies/chat.yaml --out examples/chat/sockguard-events.ts)", async function () {
    this.timeout(30_000);
    const run = await runCliIn(ROOT, ["types", "policies/chat.yaml"]);
    expect(run.status).to.equal(0);
    expect(await readFile(GENERATED, "utf8")).to.equal(run.stdout);
  });

  it("type the demo's handlers and server under tsc --strict", function () {
    this.timeout(60_000);
    const handlers = join(ROOT, "examples/chat/chat-handlers.js");
    const problems = strictProblems(
      [handlers, join(ROOT, "examples/chat/server.js")],
      ROOT,
      { allowJs: true, checkJs: true },
      handlers,
    );
    expect(problems).to.deep.equal([]);
  });
});
