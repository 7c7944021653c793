import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import type { Page } from "playwright-core";
import { parseDocument } from "yaml";
import {
  openChat,
  readStatus,
  receivedMessages,
  sendMessage,
  waitForMessage,
  waitForRefusal,
} from "./chat-page.js";
import { copyPolicies, useDemoInChromium, type PolicyCopy } from "./demo-server.js";

describe("e2e: editing the policy while the chat page is open", function () {
  let policies: PolicyCopy | undefined;
  /** The policy as copied, which each edit starts from. */
  let originalPolicy = "";
  const chat = useDemoInChromium(async () => {
    policies = await copyPolicies();
    originalPolicy = await readFile(policies.chatPolicy, "utf8");
    return { policy: policies.chatPolicy };
  });
  let page: Page | undefined;

  afterEach(async function () {
    await page?.close();
    page = undefined;
  });

  after(async () => {
    await policies?.remove();
  });

  /** Saves the original policy changed by `edit`, and returns the first `reload` line printed after it. */
  async function editPolicy(edit: (document: ReturnType<typeof parseDocument>) => void): Promise<string> {
    const document = parseDocument(originalPolicy);
    edit(document);
    const linesBeforeEdit = chat.demo.lines.length;
    await writeFile(policies!.chatPolicy, document.toString());
    return chat.demo.waitForLine((line) => line.startsWith("reload "), linesBeforeEdit);
  }

  it("prints the diagnostics of a bad edit and keeps the previous policy in force", async function () {
    page = await openChat(chat.browser.context, chat.demo.origin, {
      user: "alice",
      scopes: "chat:read chat:write",
    });
    assert.equal((await readStatus(page)).state, "connected");

    // A typo: `requires` for `require`. Unknown keys are errors, never ignored.
    const reloadLine = await editPolicy((document) =>
      document.setIn(["namespaces", "/chat", "events", "message", "requires"], { scope: "admin" }),
    );

    assert.match(reloadLine, /failed/);
    const diagnostic = await chat.demo.waitForLine(
      (line) => line.includes(": error: "),
      chat.demo.lines.indexOf(reloadLine),
    );
    assert.match(diagnostic, new RegExp(`${basename(policies!.chatPolicy)}:\\d+:\\d+: error: `));
    await sendMessage(page, "still chatting");
    await waitForMessage(page, "still chatting");
  });

  it("refuses the next message once the edit removes the message event, without a restart", async function () {
    page = await openChat(chat.browser.context, chat.demo.origin, {
      user: "alice",
      scopes: "chat:read chat:write",
    });
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
    assert.equal(chat.demo.child.exitCode, null);
    assert.equal(chat.demo.lines.filter((line) => line.startsWith("listening on ")).length, 1);
    assert.deepEqual(await receivedMessages(page), ["alicebefore the edit"]);
  });
});
