import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import type { Page } from "playwright-core";
import { parseDocument } from "yaml";
import { launchChromium, requireChromiumOrSkip, type LaunchedChromium } from "./browser.js";
import {
  openChat,
  readStatus,
  receivedMessages,
  sendMessage,
  waitForMessage,
  waitForRefusal,
} from "./chat-page.js";
import { copyPolicies, startDemoServer, type DemoServer, type PolicyCopy } from "./demo-server.js";

describe("e2e: editing the policy while the chat page is open", function () {
  let browser: LaunchedChromium | undefined;
  let policies: PolicyCopy | undefined;
  let demo: DemoServer | undefined;
  let page: Page | undefined;
  /** The policy as copied, which each edit starts from. */
  let originalPolicy = "";

  before(async function () {
    requireChromiumOrSkip(this);
    this.timeout(45_000);
    policies = await copyPolicies();
    originalPolicy = await readFile(policies.chatPolicy, "utf8");
    demo = await startDemoServer({ policy: policies.chatPolicy });
    browser = await launchChromium();
  });

  afterEach(async function () {
    await page?.close();
    page = undefined;
  });

  after(async function () {
    this.timeout(15_000);
    await browser?.close();
    await demo?.stop();
    await policies?.remove();
  });

  /** Saves the original policy changed by `edit`, and returns the first `reload` line printed after it. */
  async function editPolicy(edit: (document: ReturnType<typeof parseDocument>) => void): Promise<string> {
    const document = parseDocument(originalPolicy);
    edit(document);
    const linesBeforeEdit = demo!.lines.length;
    await writeFile(policies!.chatPolicy, document.toString());
    return demo!.waitForLine((line) => line.startsWith("reload "), linesBeforeEdit);
  }

  it("prints the diagnostics of a bad edit and keeps the previous policy in force", async function () {
    page = await openChat(browser!.context, demo!.origin, { user: "alice", scopes: "chat:read chat:write" });
    assert.equal((await readStatus(page)).state, "connected");

    // A typo: `requires` for `require`. Unknown keys are errors, never ignored.
    const reloadLine = await editPolicy((document) =>
      document.setIn(["namespaces", "/chat", "events", "message", "requires"], { scope: "admin" }),
    );

    assert.match(reloadLine, /failed/);
    const diagnostic = await demo!.waitForLine(
      (line) => line.includes(": error: "),
      demo!.lines.indexOf(reloadLine),
    );
    assert.match(diagnostic, new RegExp(`${basename(policies!.chatPolicy)}:\\d+:\\d+: error: `));
    await sendMessage(page, "still chatting");
    await waitForMessage(page, "still chatting");
  });

  it("refuses the next message once the edit removes the message event, without a restart", async function () {
    page = await openChat(browser!.context, demo!.origin, { user: "alice", scopes: "chat:read chat:write" });
    assert.deepEqual(await readStatus(page), { state: "connected", code: "", transport: "websocket" });
    await sendMessage(page, "before the edit");
    await waitForMessage(page, "before the edit");
    const connectionId = await page.evaluate("socket.id");

    const reloadLine = await editPolicy((document) =>
      assert.equal(
        document.deleteIn(["namespaces", "/chat", "events", "message"]),
        true,
        "message is declared",
      ),
    );
    assert.match(reloadLine, /is now in force/);

    await sendMessage(page, "after the edit");
    await waitForRefusal(page, "event_not_allowed");

    // Same page, same connection, same server process: nothing was restarted.
    assert.deepEqual(await readStatus(page), { state: "connected", code: "", transport: "websocket" });
    assert.equal(await page.evaluate("socket.id"), connectionId);
    assert.equal(demo!.child.exitCode, null);
    assert.equal(demo!.lines.filter((line) => line.startsWith("listening on ")).length, 1);
    assert.deepEqual(await receivedMessages(page), ["alicebefore the edit"]);
  });
});
