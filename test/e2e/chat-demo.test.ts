import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  openChat,
  readStatus,
  receivedMessages,
  sendMessage,
  waitForMessage,
  waitForRefusal,
} from "./chat-page.js";
import { useDemoInChromium } from "./demo-server.js";
import { delay } from "../helpers/wait.js";

describe("e2e: the chat demo in Chromium, from its own origin", function () {
  const chat = useDemoInChromium();
  const pages: Page[] = [];

  afterEach(async function () {
    await Promise.all(pages.splice(0).map((page) => page.close()));
  });

  async function open(user: string, scopes: string, token?: "600" | "-120" | "none"): Promise<Page> {
    const page = await openChat(chat.browser.context, chat.demo.origin, { user, scopes, token });
    pages.push(page);
    return page;
  }

  it("connects over WebSocket, sends a valid message and sees it broadcast to everyone", async function () {
    const alice = await open("alice", "chat:read chat:write");
    const bob = await open("bob", "chat:read");
    assert.deepEqual(await readStatus(alice), { state: "connected", code: "", transport: "websocket" });
    assert.deepEqual(await readStatus(bob), { state: "connected", code: "", transport: "websocket" });

    await sendMessage(alice, "hello from alice");

    await waitForMessage(bob, "hello from alice");
    await waitForMessage(alice, "hello from alice");
    assert.deepEqual(await receivedMessages(bob), ["alicehello from alice"]);
  });

  it("shows the ack's payload_invalid for an invalid message, and its handler never runs", async function () {
    const alice = await open("alice", "chat:read chat:write");
    const bob = await open("bob", "chat:read");
    const refusedBefore = chat.demo.decisions().filter((d) => d.code === "payload_invalid").length;

    // The policy allows 1 to 500 characters.
    await sendMessage(alice, "x".repeat(501));
    await waitForRefusal(alice, "payload_invalid");
    const decision = await chat.demo.waitForDecision((d) => d.code === "payload_invalid", refusedBefore);
    assert.deepEqual([decision.allowed, decision.namespace, decision.event], [false, "/chat", "message"]);

    // Alice's next message is handled after the refused one: had the handler run for the refused
    // one, its broadcast would already be in Bob's list.
    await sendMessage(alice, "a valid one after");
    await waitForMessage(bob, "a valid one after");
    assert.deepEqual(await receivedMessages(bob), ["alicea valid one after"]);
  });

  it("refuses the sixth message typed within ten seconds with rate_limited and shows the wait", async function () {
    const typist = await open("typist", "chat:read chat:write");
    const reader = await open("reader-of-typist", "chat:read");
    for (let i = 1; i <= 5; i++) {
      await sendMessage(typist, `fast ${i}`);
      await waitForMessage(reader, `fast ${i}`);
      // The page clears the composer when the ack arrives; the next message is typed after that.
      // (A condition evaluated in the page would need eval, which the demo's CSP refuses.)
      for (let tries = 0; (await typist.inputValue("#text")) !== ""; tries++) {
        assert.ok(tries < 500, "the ack cleared the composer");
        await delay(10);
      }
    }

    await sendMessage(typist, "one too many");
    await waitForRefusal(typist, "rate_limited");
    const notice = (await typist.locator("#notice").textContent()) ?? "";
    // policies/chat.yaml: message rateLimit 5/10s, so the wait is at most ten seconds.
    const wait = Number(/try again in (\d+) s/.exec(notice)?.[1]);
    assert.ok(wait >= 1 && wait <= 10, `the notice says how long to wait: ${notice}`);
    assert.deepEqual(
      (await receivedMessages(reader)).filter((text) => text.includes("one too many")),
      [],
      "the refused message was never broadcast",
    );
  });

  it("refuses a message from a sender without the chat:write scope with claims_not_satisfied", async function () {
    const reader = await open("reader", "chat:read");

    await sendMessage(reader, "I may only read");
    await waitForRefusal(reader, "claims_not_satisfied");

    // Claims are checked before the schema: an invalid message tells this sender nothing more.
    await sendMessage(reader, "");
    await waitForRefusal(reader, "claims_not_satisfied");
    assert.deepEqual(await receivedMessages(reader), []);
  });

  it("refuses a page without a token with token_missing", async function () {
    const before = chat.demo.decisions().filter((d) => d.code === "token_missing").length;
    const page = await open("nobody", "chat:read chat:write", "none");

    assert.deepEqual(await readStatus(page), { state: "refused", code: "token_missing", transport: "" });
    await chat.demo.waitForDecision((d) => d.code === "token_missing" && d.namespace === "/chat", before);
  });

  it("refuses a page with an expired token with token_expired", async function () {
    const before = chat.demo.decisions().filter((d) => d.code === "token_expired").length;
    // The demo issuer signs a token that expired two minutes ago, beyond any clock tolerance.
    const page = await open("late", "chat:read chat:write", "-120");

    assert.deepEqual(await readStatus(page), { state: "refused", code: "token_expired", transport: "" });
    await chat.demo.waitForDecision((d) => d.code === "token_expired" && d.namespace === "/chat", before);
  });
});
