import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { useDemoInChromium } from "./demo-server.js";
import {
  startForeignOrigin,
  type ConnectOutcome,
  type ForeignOrigin,
  type ForeignPageApi,
} from "./foreign-origin.js";

describe("e2e: a page from a foreign origin (cross-site WebSocket hijacking)", function () {
  const chat = useDemoInChromium();
  let foreign: ForeignOrigin | undefined;
  let page: Page | undefined;
  let validToken = "";

  before(async function () {
    this.timeout(15_000);
    foreign = await startForeignOrigin();
    page = await chat.browser.context.newPage();
    await page.goto(`${foreign.origin}/`);

    // Even a valid token must not help a page from elsewhere: the origin is refused first.
    const response = await fetch(`${chat.demo.origin}/demo-token?user=mallory&scopes=chat:read+chat:write`);
    assert.equal(response.status, 200);
    validToken = ((await response.json()) as { token: string }).token;
  });

  after(async () => {
    await foreign?.close();
  });

  async function attempt(transports: string[]): Promise<ConnectOutcome> {
    return page!.evaluate(
      ([url, transports, token]) =>
        (globalThis as unknown as ForeignPageApi).tryConnect(url, transports, token),
      [`${chat.demo.origin}/chat`, transports, validToken] as const,
    );
  }

  const refusals = () => chat.demo.decisions().filter((d) => d.code === "origin_not_allowed").length;

  it("is refused over WebSocket at the handshake, and the guard records origin_not_allowed", async function () {
    const before = refusals();

    const outcome = await attempt(["websocket"]);

    assert.equal(outcome.connected, false);
    // No namespace ever answered: the handshake itself was refused.
    assert.equal(outcome.code, null);
    const decision = await chat.demo.waitForDecision((d) => d.code === "origin_not_allowed", before);
    assert.equal(decision.allowed, false);
  });

  it("is refused over polling at the handshake, and the guard records origin_not_allowed", async function () {
    const before = refusals();

    const outcome = await attempt(["polling"]);

    assert.equal(outcome.connected, false);
    assert.equal(outcome.code, null);
    const decision = await chat.demo.waitForDecision((d) => d.code === "origin_not_allowed", before);
    assert.equal(decision.allowed, false);
  });
});
