import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { openChat, sendMessage, waitForRefusal } from "./chat-page.js";
import { useDemoInChromium } from "./demo-server.js";

/** The panel's rows, newest first: code, namespace, event, rule. */
async function panelRows(page: Page): Promise<string[][]> {
  const rows = await page.locator("#decisions tr").all();
  return Promise.all(rows.map((row) => row.locator("td").allTextContents()));
}

describe("e2e: the demo's panel of the guard's decisions, and its /metrics", function () {
  const chat = useDemoInChromium();
  const pages: Page[] = [];

  afterEach(async function () {
    await Promise.all(pages.splice(0).map((page) => page.close()));
  });

  it("shows a refused event with its code, namespace, event and the policy line that decided", async function () {
    const reader = await openChat(chat.browser.context, chat.demo.origin, {
      user: "reader",
      scopes: "chat:read",
    });
    pages.push(reader);
    // The allowed connect appears within a refresh of the panel.
    await reader.locator('#decisions tr[data-code="allowed"]').first().waitFor();

    await sendMessage(reader, "I may only read");
    await waitForRefusal(reader, "claims_not_satisfied");
    await reader.locator('#decisions tr[data-code="claims_not_satisfied"]').first().waitFor();

    // The page's "stopped typing" event may come in after it.
    const [code, namespace, event, rule] = (await panelRows(reader)).find(
      ([c]) => c === "claims_not_satisfied",
    )!;
    assert.deepEqual([code, namespace, event], ["claims_not_satisfied", "/chat", "message"]);
    assert.match(rule!, /^policies\/chat\.yaml:\d+:\d+$/);
    const printed = chat.demo.decisions().find((d) => d.code === "claims_not_satisfied");
    assert.equal(rule, `policies/chat.yaml:${printed?.rule?.line}:${printed?.rule?.col}`);
  });

  it("shows a refused connect, and /metrics counts it under the declared namespace", async function () {
    const page = await openChat(chat.browser.context, chat.demo.origin, {
      user: "nobody",
      scopes: "chat:read",
      token: "none",
    });
    pages.push(page);
    await page.locator('#decisions tr[data-code="token_missing"]').first().waitFor();
    const row = (await panelRows(page)).find(([code]) => code === "token_missing")!;
    assert.deepEqual(row.slice(0, 3), ["token_missing", "/chat", ""]);

    const metrics = await (await fetch(`${chat.demo.origin}/metrics`)).text();
    assert.match(
      metrics,
      /^sockguard_decisions_total\{code="token_missing",stage="connect",namespace="\/chat",event="",shadow="false"\} [1-9]/m,
    );
    assert.match(metrics, /^sockguard_policy_info\{version="[0-9a-f]+"\} 1$/m);
    assert.match(metrics, /^sockguard_sockets\{namespace="\/chat"\} \d+$/m);
  });
});
