import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import type { Page } from "playwright-core";
import { parseDocument } from "yaml";
import { launchChromium, requireChromiumOrSkip, type LaunchedChromium } from "./browser.js";
import { openChat, readStatus, sendMessage, waitForMessage, waitForRefusal } from "./chat-page.js";
import { copyPolicies, startDemoServer, type DemoServer, type PolicyCopy } from "./demo-server.js";

describe("e2e: editing the policy while the chat page is open", function () {
  let browser: LaunchedChromium | undefined;
  let policies: PolicyCopy | undefined;
  let demo: DemoServer | undefined;
  let page: Page | undefined;

  before(async function () {
    requireChromiumOrSkip(this);
    this.timeout(45_000);
    policies = await copyPolicies();
    demo = await startDemoServer({ policy: policies.chatPolicy });
    browser = await launchChromium();
  });

  after(async function () {
    this.timeout(15_000);
    await browser?.close();
    await demo?.stop();
    await policies?.remove();
  });

  it("refuses the next message once the edit removes the message event, without a restart", async function () {
    page = await openChat(browser!.context, demo!.origin, { user: "alice", scopes: "chat:read chat:write" });
    assert.deepEqual(await readStatus(page), { state: "connected", code: "", transport: "websocket" });
    await sendMessage(page, "before the edit");
    await waitForMessage(page, "before the edit");
    const connectionId = await page.evaluate("socket.id");

    const linesBeforeEdit = demo!.lines.length;
    const document = parseDocument(await readFile(policies!.chatPolicy, "utf8"));
    assert.equal(
      document.deleteIn(["namespaces", "/chat", "events", "message"]),
      true,
      "the policy declares message",
    );
    await writeFile(policies!.chatPolicy, document.toString());
    const reloadLine = await demo!.waitForLine((line) => line.startsWith("reload "), linesBeforeEdit);
    assert.match(reloadLine, /is now in force/);

    await sendMessage(page, "after the edit");
    await waitForRefusal(page, "event_not_allowed");

    // Same page, same connection, same server process: nothing was restarted.
    assert.deepEqual(await readStatus(page), { state: "connected", code: "", transport: "websocket" });
    assert.equal(await page.evaluate("socket.id"), connectionId);
    assert.equal(demo!.child.exitCode, null);
    assert.equal(demo!.lines.filter((line) => line.startsWith("listening on ")).length, 1);
    assert.deepEqual(await page.locator("#messages li.message").allTextContents(), ["alicebefore the edit"]);
  });
});
